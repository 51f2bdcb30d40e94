/**
 * A TLS endpoint on an in-memory duplex: EAP carries the TLS records, so the TLS engine gets no socket. Node's
 * node:tls (OpenSSL, the crypto backend cygnet already runs on) is used because no maintained TLS 1.2/1.3 stack
 * exists in pure JavaScript and writing one would be a second, unreviewed TLS implementation; node:tls accepts
 * any Duplex as its transport. This is I/O-shaped code (event loop turns), kept out of the sans-IO src/eap.
 */
import { Duplex } from 'node:stream';
import type { Server, TLSSocket } from 'node:tls';

/** Event-loop turns with no new TLS output after which a flight is taken as complete. */
const QUIET_TURNS = 4;
const MAX_TURNS = 2000;

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class TlsPipe {
  readonly transport: Duplex;
  private out: Buffer[] = [];
  private outBytes = 0;
  error: Error | undefined;
  secure = false;
  /** Application data read after the handshake (the TLS 1.3 commitment message, RFC 9190 2.5). */
  appData: Buffer[] = [];
  private socket: TLSSocket | undefined;

  constructor() {
    this.transport = new Duplex({
      read() {},
      write: (chunk: Buffer, _enc, cb) => {
        this.out.push(chunk);
        this.outBytes += chunk.length;
        cb();
      },
    });
    // an error the TLS layer passes down to its transport must not become an uncaught 'error' event
    this.transport.on('error', (e: Error) => {
      this.error ??= e;
    });
  }

  /** Attaches the TLS socket made on `transport` and records its outcome. */
  attach(socket: TLSSocket, secureEvent: 'secure' | 'secureConnect'): TLSSocket {
    this.socket = socket;
    socket.on('error', (e: Error) => {
      this.error ??= e;
    });
    socket.on(secureEvent, () => {
      this.secure = true;
    });
    socket.on('data', (d: Buffer) => this.appData.push(d));
    return socket;
  }

  /**
   * Hands the transport to a tls.Server as if a client had connected: its TLSSocket then reports the certificate
   * check in `authorized`/`authorizationError` (a bare server-side TLSSocket never runs that check).
   */
  attachServer(server: Server): void {
    server.on('secureConnection', (socket: TLSSocket) => {
      this.socket = socket;
      this.secure = true;
      socket.on('data', (d: Buffer) => this.appData.push(d));
      socket.on('error', (e: Error) => {
        this.error ??= e;
      });
    });
    server.on('tlsClientError', (e: Error) => {
      this.error ??= e;
    });
    server.emit('connection', this.transport);
  }

  get tls(): TLSSocket {
    if (this.socket === undefined) throw new Error('TLS socket not attached');
    return this.socket;
  }

  /** Gives the TLS engine bytes received from the other side. */
  feed(data: Uint8Array): void {
    this.transport.push(Buffer.from(data));
  }

  /** Lets the engine run until its output stops growing; returns (and clears) what it wrote. */
  async settle(): Promise<Uint8Array> {
    let quiet = 0;
    let seen = this.outBytes;
    for (let i = 0; i < MAX_TURNS && quiet < QUIET_TURNS; i++) {
      await turn();
      if (this.outBytes !== seen) {
        seen = this.outBytes;
        quiet = 0;
      } else {
        quiet++;
      }
    }
    const out = Buffer.concat(this.out);
    this.out = [];
    this.outBytes = 0;
    return new Uint8Array(out.buffer, out.byteOffset, out.length);
  }

  destroy(): void {
    this.socket?.destroy();
    this.transport.destroy();
  }
}
