/**
 * The UDP driver of the sans-IO RADIUS client (src/radius/client.ts): one UDP socket per server and port
 * (authentication, accounting), connected to the server as strongSwan's radius_socket.c does, so only that
 * server's datagrams arrive on it (bound to `source` when one is configured); one timer armed at the client's next
 * deadline. Server names are resolved by the socket's connect() (node:dgram does the DNS lookup).
 */
import { createSocket, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { systemRandom, type RandomSource } from '../crypto/random.js';
import { RadiusClient, type RadiusLog, type RadiusPortKind, type RadiusTransmit } from '../radius/client.js';
import type { RadiusServerConfig } from '../radius/config.js';

export interface RadiusSocketOptions {
  readonly servers: readonly RadiusServerConfig[];
  readonly log?: RadiusLog;
  readonly random?: RandomSource;
  /** Clock for the client (ms); tests pass a fake one. */
  readonly now?: () => number;
}

interface Conn {
  readonly socket: Socket;
  readonly ready: Promise<void>;
  failed?: string;
}

export class RadiusSocketDriver {
  readonly client: RadiusClient;
  private readonly conns = new Map<string, Conn>();
  private timer: NodeJS.Timeout | undefined;
  private scheduled = false;
  private closed = false;
  private readonly now: () => number;
  private readonly log: RadiusLog;

  constructor(opts: RadiusSocketOptions) {
    this.now = opts.now ?? Date.now;
    this.log = opts.log ?? (() => {});
    this.client = new RadiusClient({ servers: opts.servers, random: opts.random ?? systemRandom, log: this.log, onWake: () => this.wake() });
  }

  /** Resolves every outstanding request as failed, closes the sockets and the timer. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.client.close('RADIUS client shut down');
    for (const c of this.conns.values()) c.socket.close();
    this.conns.clear();
  }

  private wake(): void {
    if (this.scheduled || this.closed) return;
    this.scheduled = true;
    // after the current job: several requests made in one turn go out in one poll
    setImmediate(() => {
      this.scheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    if (this.closed) return;
    const now = this.now();
    for (const t of this.client.poll(now)) this.send(t);
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const d = this.client.nextDeadline();
    if (d !== undefined) {
      this.timer = setTimeout(() => this.pump(), Math.max(0, d - this.now()));
      this.timer.unref?.();
    }
  }

  private conn(t: RadiusTransmit): Conn {
    const key = `${t.server}\0${t.kind}`;
    const existing = this.conns.get(key);
    if (existing) return existing;
    const family = isIPv6(t.address) || (t.source !== undefined && isIPv6(t.source)) ? 'udp6' : 'udp4';
    const socket = createSocket(family);
    const kind: RadiusPortKind = t.kind;
    const server = t.server;
    socket.on('message', (msg) => this.client.receive(server, kind, new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength), this.now()));
    const conn: Conn = {
      socket,
      ready: new Promise<void>((resolve) => {
        const fail = (e: Error): void => {
          if (conn.failed !== undefined) return;
          conn.failed = e.message;
          this.log('cfg', 1, `RADIUS socket for server '${server}' (${t.address}:${t.port}) failed: ${e.message}`);
          // the next transmission opens a new socket (a name that did not resolve may resolve later)
          if (this.conns.get(key) === conn) this.conns.delete(key);
          socket.close();
          resolve();
        };
        socket.once('error', fail);
        // connect() reports a failed name lookup to its callback, not as an 'error' event
        const connect = (): void => socket.connect(t.port, t.address, (err?: Error) => (err ? fail(err) : resolve()));
        if (t.source !== undefined) socket.bind(0, t.source, connect);
        else connect();
      }),
    };
    socket.on('error', (e) => this.log('cfg', 1, `RADIUS socket for server '${server}': ${e.message}`));
    this.conns.set(key, conn);
    return conn;
  }

  private send(t: RadiusTransmit): void {
    const c = this.conn(t);
    void c.ready.then(() => {
      if (this.closed || c.failed !== undefined) return;
      // a lost datagram is what retransmission is for: a send error is logged, the retransmit timer stays
      try {
        c.socket.remoteAddress(); // throws ERR_SOCKET_DGRAM_NOT_CONNECTED when connect() did not succeed
        c.socket.send(t.data, (err) => {
          if (err) this.log('cfg', 1, `sending RADIUS message to server '${t.server}' failed: ${err.message}`);
        });
      } catch (e) {
        this.log('cfg', 1, `sending RADIUS message to server '${t.server}' (${t.address}:${t.port}) failed: ${e instanceof Error ? e.message : String(e)}`);
      }
    });
  }
}
