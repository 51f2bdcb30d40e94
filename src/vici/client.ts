/**
 * A vici client, the counterpart of libvici: one operation at a time per connection (the protocol has no request
 * ids), events delivered to listeners whenever they arrive, including during a request (streamed responses).
 */
import { connect } from 'node:net';
import { ViciError } from './errors.js';
import type { ViciInput, ViciMessage } from './message.js';
import { ViciStream, type ViciOutPacket, type ViciPacket } from './transport.js';
import { DEFAULT_VICI_SOCKET } from './server.js';

export type EventListener = (msg: ViciMessage, name: string) => void;

interface Waiter {
  readonly expect: 'command' | 'event';
  resolve(p: ViciPacket): void;
  reject(e: Error): void;
}

export interface ViciConnectOptions {
  /** Give up connecting after this long (default 5000 ms). */
  readonly timeoutMs?: number;
}

export class ViciClient {
  private readonly listeners = new Map<string, Set<EventListener>>();
  private waiter: Waiter | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  private closedError: ViciError | undefined;

  private constructor(private readonly stream: ViciStream) {}

  private static attach(socketPath: string, opts: ViciConnectOptions): Promise<ViciClient> {
    return new Promise((resolve, reject) => {
      const socket = connect(socketPath);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new ViciError('CONNECTION', `connecting to '${socketPath}' timed out`));
      }, opts.timeoutMs ?? 5000);
      socket.once('error', (e: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(new ViciError('CONNECTION', `connecting to '${socketPath}' failed: ${e.code ?? e.message}`));
      });
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        let client!: ViciClient;
        const stream = new ViciStream(socket, {
          packet: (p) => client.onPacket(p),
          error: (e) => client.onClosed(e instanceof ViciError ? e : new ViciError('CONNECTION', e.message)),
          close: () => client.onClosed(new ViciError('CONNECTION', 'connection closed by the server')),
        });
        client = new ViciClient(stream);
        resolve(client);
      });
    });
  }

  /** Connect to a vici socket (default /var/run/cygnet.vici). Accepts a path or a `unix://` URI like swanctl's --uri. */
  static connect(socket: string = DEFAULT_VICI_SOCKET, opts: ViciConnectOptions = {}): Promise<ViciClient> {
    const path = socket.startsWith('unix://') ? socket.slice('unix://'.length) : socket;
    return ViciClient.attach(path, opts);
  }

  get closed(): boolean {
    return this.closedError !== undefined;
  }

  /** Listen for an event; returns a function removing the listener. Does not register with the server: see `register`. */
  on(event: string, fn: EventListener): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(fn);
    return () => set!.delete(fn);
  }

  /** Send a command and wait for its response. CMD_UNKNOWN rejects with ViciError UNKNOWN_COMMAND. */
  request(command: string, msg: ViciInput = {}): Promise<ViciMessage> {
    return this.serial(async () => {
      const p = await this.exchange({ type: 'CMD_REQUEST', name: command, message: msg }, 'command');
      if (p.type === 'CMD_UNKNOWN') throw new ViciError('UNKNOWN_COMMAND', `the server does not know the command '${command}'`);
      if (p.type !== 'CMD_RESPONSE') throw new ViciError('CONNECTION', `expected CMD_RESPONSE, got ${p.type}`);
      return p.message;
    });
  }

  /** Register for an event with the server (EVENT_UNKNOWN rejects with ViciError UNKNOWN_EVENT). */
  register(event: string): Promise<void> {
    return this.serial(() => this.registration('EVENT_REGISTER', event));
  }

  unregister(event: string): Promise<void> {
    return this.serial(() => this.registration('EVENT_UNREGISTER', event));
  }

  /**
   * As swanctl does for list-sas and friends: register for `event`, send `command`, hand every event that arrives
   * before the response to `onEvent`, then unregister. Resolves with the response.
   */
  streamedRequest(command: string, msg: ViciInput, event: string, onEvent: EventListener): Promise<ViciMessage> {
    return this.serial(async () => {
      const off = this.on(event, onEvent);
      try {
        await this.registration('EVENT_REGISTER', event);
        try {
          const p = await this.exchange({ type: 'CMD_REQUEST', name: command, message: msg }, 'command');
          if (p.type === 'CMD_UNKNOWN') throw new ViciError('UNKNOWN_COMMAND', `the server does not know the command '${command}'`);
          if (p.type !== 'CMD_RESPONSE') throw new ViciError('CONNECTION', `expected CMD_RESPONSE, got ${p.type}`);
          return p.message;
        } finally {
          if (!this.closed) await this.registration('EVENT_UNREGISTER', event).catch(() => {});
        }
      } finally {
        off();
      }
    });
  }

  close(): void {
    this.stream.close();
  }

  private async registration(type: 'EVENT_REGISTER' | 'EVENT_UNREGISTER', event: string): Promise<void> {
    const p = await this.exchange({ type, name: event }, 'event');
    if (p.type === 'EVENT_UNKNOWN') throw new ViciError('UNKNOWN_EVENT', `the server does not know the event '${event}'`);
    if (p.type !== 'EVENT_CONFIRM') throw new ViciError('CONNECTION', `expected EVENT_CONFIRM, got ${p.type}`);
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => {});
    return run;
  }

  private exchange(p: ViciOutPacket, expect: Waiter['expect']): Promise<ViciPacket> {
    if (this.closedError) return Promise.reject(this.closedError);
    return new Promise((resolve, reject) => {
      this.waiter = { expect, resolve, reject };
      try {
        if (!this.stream.send(p)) throw this.closedError ?? new ViciError('CONNECTION', 'connection closed');
      } catch (e) {
        this.waiter = undefined;
        reject(e);
      }
    });
  }

  private onPacket(p: ViciPacket): void {
    if (p.type === 'EVENT') {
      for (const fn of this.listeners.get(p.name) ?? []) fn(p.message, p.name);
      return;
    }
    const w = this.waiter;
    const fits =
      w !== undefined &&
      (w.expect === 'command' ? p.type === 'CMD_RESPONSE' || p.type === 'CMD_UNKNOWN' : p.type === 'EVENT_CONFIRM' || p.type === 'EVENT_UNKNOWN');
    if (!fits) {
      this.stream.socket.destroy();
      this.onClosed(new ViciError('CONNECTION', `unexpected ${p.type} from the server`));
      return;
    }
    this.waiter = undefined;
    w!.resolve(p);
  }

  private onClosed(e: ViciError): void {
    if (!this.closedError) this.closedError = e;
    const w = this.waiter;
    this.waiter = undefined;
    w?.reject(this.closedError);
  }
}
