/**
 * The vici server: a unix socket speaking strongSwan's vici protocol (vici README, "Packet layer"), with a registry
 * of command handlers and event sources. It knows nothing about IKE; src/vici/commands.ts installs charon's
 * commands on top of a ViciBackend.
 *
 * Per client, packets are handled strictly in order (the protocol has no request ids: "only one command can be
 * active at a time on a single connection"). Events raised for a command go only to the requesting client, and
 * only if it registered for them, as charon's dispatcher does (raise_event with the client id).
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { chmod, lstat, rename, unlink } from 'node:fs/promises';
import { isViciError } from './errors.js';
import type { ViciInput, ViciMessage } from './message.js';
import { ViciStream, VICI_MESSAGE_SIZE_MAX, type ViciPacket } from './transport.js';

export const DEFAULT_VICI_SOCKET = '/var/run/cygnet.vici';

export interface CommandContext {
  readonly clientId: number;
  /** Raise an event to this client only, if it registered for `event` (charon's streamed responses). */
  emit(event: string, msg: ViciInput): void;
  /** True while the client is registered for `event`. */
  isRegistered(event: string): boolean;
  /** Aborted when the client disconnects. */
  readonly signal: AbortSignal;
}

export type CommandHandler = (msg: ViciMessage, ctx: CommandContext) => ViciInput | Promise<ViciInput>;

export interface ViciServerOptions {
  /** Unix socket path (default /var/run/cygnet.vici). */
  readonly path?: string;
  /**
   * File mode of the socket. strongSwan's unix stream service binds with umask S_IRWXO, giving 0770 (root and the
   * charon group); we chmod to the same by default.
   */
  readonly mode?: number;
  /** Largest segment accepted from a client (default and maximum: 512 KiB, strongSwan's limit). */
  readonly maxPacketSize?: number;
  /** Diagnostics (a client's bad input, a handler failure). Never called with message contents. */
  readonly log?: (level: number, message: string) => void;
}

/** A client that lets this much output pile up unread is dropped (it would otherwise grow our memory without bound). */
const MAX_UNREAD_OUTPUT = 8 * 1024 * 1024;
/** Requests queued behind the active one; more means a client not waiting for answers: dropped. */
const MAX_QUEUED_PACKETS = 256;

interface Client {
  readonly id: number;
  pending: number;
  readonly stream: ViciStream;
  readonly events: Set<string>;
  readonly abort: AbortController;
  queue: Promise<void>;
}

export class ViciServer {
  readonly path: string;
  private readonly mode: number;
  private readonly maxPacketSize: number;
  private readonly log: (level: number, message: string) => void;
  private readonly commands = new Map<string, CommandHandler>();
  private readonly events = new Set<string>();
  private readonly clients = new Map<number, Client>();
  private server: Server | undefined;
  private nextId = 1;

  constructor(opts: ViciServerOptions = {}) {
    this.path = opts.path ?? DEFAULT_VICI_SOCKET;
    this.mode = opts.mode ?? 0o770;
    this.maxPacketSize = Math.min(opts.maxPacketSize ?? VICI_MESSAGE_SIZE_MAX, VICI_MESSAGE_SIZE_MAX);
    this.log = opts.log ?? (() => {});
  }

  /** Register (or replace) a command handler. */
  command(name: string, handler: CommandHandler): this {
    this.commands.set(name, handler);
    return this;
  }

  /** Declare an event source clients may register for (others get EVENT_UNKNOWN). */
  event(...names: string[]): this {
    for (const n of names) this.events.add(n);
    return this;
  }

  hasCommand(name: string): boolean {
    return this.commands.has(name);
  }

  get clientCount(): number {
    return this.clients.size;
  }

  /** How many clients are registered for `event` (the daemon can skip building events nobody listens to). */
  listeners(event: string): number {
    let n = 0;
    for (const c of this.clients.values()) if (c.events.has(event)) n++;
    return n;
  }

  /** Raise an event to every client registered for it (ike-updown, log...). Returns how many clients got it. */
  emit(event: string, msg: ViciInput): number {
    let n = 0;
    for (const c of this.clients.values()) {
      if (c.events.has(event) && this.sendTo(c, { type: 'EVENT', name: event, message: msg })) n++;
    }
    return n;
  }

  /** Bind the socket: a stale socket file is removed first (a regular file or directory there is an error). */
  async listen(): Promise<void> {
    if (this.server) throw new Error('vici server already listening');
    await removeStaleSocket(this.path);
    // Bound under a private name, then renamed into place: libuv unlinks a listening socket's bound path when it is
    // closed, by name; had we bound `path` itself, closing would remove whatever socket sits there by then (another
    // daemon's, started on the same --socket after ours). close() removes `path` only while it is still ours.
    const bindPath = `${this.path}.${process.pid}.${++bindCounter}`;
    const server = createServer((s) => this.accept(s));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      // The socket is bound inside listen(): a umask for the call keeps it from ever being wider than `mode`
      // (the chmod below alone leaves a moment where the process umask decides). Worker threads cannot set it.
      let old: number | undefined;
      try {
        old = process.umask(0o777 & ~this.mode);
      } catch {
        old = undefined;
      }
      try {
        server.listen(bindPath, () => {
          server.off('error', reject);
          resolve();
        });
      } finally {
        if (old !== undefined) process.umask(old);
      }
    });
    server.on('error', (e) => this.log(1, `vici: server error: ${e.message}`));
    this.server = server;
    await chmod(bindPath, this.mode);
    await rename(bindPath, this.path);
    const st = await lstat(this.path);
    this.inode = { dev: st.dev, ino: st.ino };
  }

  /** The socket file we created (device and inode), so close() never removes someone else's. */
  private inode: { dev: number; ino: number } | undefined;

  /** Stop accepting, disconnect clients, remove the socket file. */
  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const c of this.clients.values()) {
      c.abort.abort();
      c.stream.socket.destroy();
    }
    this.clients.clear();
    if (server) {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      const ours = this.inode;
      this.inode = undefined;
      const st = await lstat(this.path).catch(() => undefined);
      if (ours && st && st.dev === ours.dev && st.ino === ours.ino) await unlink(this.path).catch(() => {});
    }
  }

  private accept(socket: Socket): void {
    const id = this.nextId++;
    const client: Client = {
      id,
      pending: 0,
      events: new Set(),
      abort: new AbortController(),
      queue: Promise.resolve(),
      stream: new ViciStream(
        socket,
        {
          packet: (p) => {
            if (++client.pending > MAX_QUEUED_PACKETS) {
              this.log(1, `vici: client #${id} queued more than ${MAX_QUEUED_PACKETS} packets, closing`);
              socket.destroy();
              return;
            }
            client.queue = client.queue
              .then(() => this.handle(client, p))
              .catch((e: unknown) => {
                this.log(1, `vici: client #${id}: ${e instanceof Error ? e.message : String(e)}`);
                socket.destroy();
              })
              .finally(() => client.pending--);
          },
          error: (e) => this.log(1, `vici: client #${id} closed: ${isViciError(e) ? `${e.code}: ${e.message}` : e.message}`),
          close: () => {
            client.abort.abort();
            this.clients.delete(id);
            this.log(2, `vici client ${id} disconnected`);
          },
        },
        this.maxPacketSize,
      ),
    };
    this.clients.set(id, client);
    // charon's vici_dispatcher.c wording and levels (DBG2 for the normal course, DBG1 for bad requests).
    this.log(2, `vici client ${id} connected`);
  }

  private sendTo(c: Client, p: Parameters<ViciStream['send']>[0]): boolean {
    try {
      if (c.stream.socket.writableLength > MAX_UNREAD_OUTPUT) {
        this.log(1, `vici: client #${c.id} does not read its replies (${c.stream.socket.writableLength} bytes pending), closing`);
        c.stream.socket.destroy();
        return false;
      }
      return c.stream.send(p);
    } catch (e) {
      // An unencodable reply (value > 64 KiB, packet > 512 KiB) is a server bug: report it, drop that client only.
      this.log(1, `vici: cannot send ${p.type} to client #${c.id}: ${e instanceof Error ? e.message : String(e)}`);
      c.stream.socket.destroy();
      return false;
    }
  }

  private async handle(c: Client, p: ViciPacket): Promise<void> {
    if (c.stream.isClosed) return;
    switch (p.type) {
      case 'CMD_REQUEST': {
        const handler = this.commands.get(p.name);
        if (!handler) {
          this.log(1, `vici client ${c.id} invalid request: ${p.name}`);
          this.sendTo(c, { type: 'CMD_UNKNOWN' });
          return;
        }
        this.log(2, `vici client ${c.id} requests: ${p.name}`);
        const ctx: CommandContext = {
          clientId: c.id,
          emit: (event, msg) => {
            if (c.events.has(event)) this.sendTo(c, { type: 'EVENT', name: event, message: msg });
          },
          isRegistered: (event) => c.events.has(event),
          signal: c.abort.signal,
        };
        let reply: ViciInput;
        try {
          reply = await handler(p.message, ctx);
        } catch (e) {
          // charon answers every known command; a failing handler becomes success=no rather than a hung client.
          const msg = e instanceof Error ? e.message : String(e);
          this.log(1, `vici: command '${p.name}' failed: ${msg}`);
          reply = { success: 'no', errmsg: msg };
        }
        this.sendTo(c, { type: 'CMD_RESPONSE', message: reply });
        return;
      }
      case 'EVENT_REGISTER':
      case 'EVENT_UNREGISTER':
        if (!this.events.has(p.name)) {
          this.log(1, `vici client ${c.id} invalid registration: ${p.name}`);
          this.sendTo(c, { type: 'EVENT_UNKNOWN' });
          return;
        }
        if (p.type === 'EVENT_REGISTER') c.events.add(p.name);
        else c.events.delete(p.name);
        this.log(2, `vici client ${c.id} ${p.type === 'EVENT_REGISTER' ? 'registered' : 'unregistered'} for: ${p.name}`);
        this.sendTo(c, { type: 'EVENT_CONFIRM' });
        return;
      default:
        // A client sending server-side packet types is confused: close it, as charon closes on bad input.
        this.log(1, `vici: client #${c.id} sent ${p.type}, closing`);
        c.stream.socket.destroy();
    }
  }
}

/** Distinguishes the private bind names of several servers in one process. */
let bindCounter = 0;

async function removeStaleSocket(path: string): Promise<void> {
  let st;
  try {
    st = await lstat(path);
  } catch {
    return;
  }
  if (!st.isSocket()) throw new Error(`vici: ${path} exists and is not a socket; refusing to remove it`);
  // A socket someone still answers on belongs to a running daemon: do not steal it.
  const live = await new Promise<boolean>((resolve) => {
    const s = connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
  if (live) throw new Error(`vici: ${path} is in use by a running daemon`);
  await unlink(path);
}
