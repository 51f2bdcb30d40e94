/**
 * The console's only way to the daemon: vici, as swanctl uses it, so cygnet's socket and charon's
 * /var/run/charon.vici behave alike.
 *
 * - one long-lived connection registered for ike-updown, child-updown, ike-rekey, child-rekey and log, whose
 *   events are handed to `onEvent` (reconnected with a growing pause when the daemon restarts);
 * - one connection for queries (list-sas, list-conns, get-pools, list-certs, version), queued by ViciClient;
 * - a fresh connection per control action (initiate/terminate/rekey), as swanctl does, so a blocking initiate
 *   never holds up the queries, with the daemon's control-log lines collected for the page.
 */
import { ViciClient } from '../vici/client.js';
import { isViciError } from '../vici/errors.js';
import { str, type ViciInput, type ViciMessage } from '../vici/message.js';

export const CONSOLE_EVENTS = ['ike-updown', 'child-updown', 'ike-rekey', 'child-rekey', 'log'] as const;

export interface ControlResult {
  readonly success: boolean;
  readonly errmsg?: string;
  readonly log: string[];
}

export class ConsoleVici {
  private events: ViciClient | undefined;
  private query: ViciClient | undefined;
  private stopped = false;
  private retryMs = 500;
  private retryTimer: NodeJS.Timeout | undefined;
  /** Why the event connection is down (for the page's banner), or undefined while connected. */
  lastError: string | undefined = 'not connected yet';

  constructor(
    readonly socket: string,
    private readonly onEvent: (name: string, msg: ViciMessage) => void,
    private readonly onState: (connected: boolean, why?: string) => void = () => {},
  ) {}

  async start(): Promise<void> {
    await this.connectEvents();
  }

  stop(): void {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.events?.close();
    this.query?.close();
  }

  private async connectEvents(): Promise<void> {
    if (this.stopped) return;
    try {
      const c = await ViciClient.connect(this.socket, { timeoutMs: 3000 });
      for (const e of CONSOLE_EVENTS) {
        c.on(e, (msg, name) => this.onEvent(name, msg));
        try {
          await c.register(e);
        } catch (err) {
          // An older daemon without one of the events still serves the others.
          if (!isViciError(err, 'UNKNOWN_EVENT')) throw err;
        }
      }
      this.events = c;
      this.retryMs = 500;
      this.lastError = undefined;
      this.onState(true);
      this.watchClose(c);
    } catch (err) {
      this.lastError = err instanceof Error ? err.message : String(err);
      this.onState(false, this.lastError);
      this.scheduleReconnect();
    }
  }

  /** ViciClient has no close callback: a cheap version request every few seconds notices a dead daemon. */
  private watchClose(c: ViciClient): void {
    const t = setInterval(() => {
      if (this.stopped) return clearInterval(t);
      if (c.closed) {
        clearInterval(t);
        this.events = undefined;
        this.lastError = 'connection to the daemon lost';
        this.onState(false, this.lastError);
        this.scheduleReconnect();
      }
    }, 1000);
    t.unref();
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    this.retryTimer = setTimeout(() => void this.connectEvents(), this.retryMs);
    this.retryTimer.unref();
    this.retryMs = Math.min(this.retryMs * 2, 10_000);
  }

  private async queryClient(): Promise<ViciClient> {
    if (this.query && !this.query.closed) return this.query;
    this.query = await ViciClient.connect(this.socket, { timeoutMs: 3000 });
    return this.query;
  }

  /** A streamed list command (list-sas -> list-sa events...), as swanctl does it. */
  async list(command: string, event: string, msg: ViciInput = {}): Promise<ViciMessage[]> {
    const out: ViciMessage[] = [];
    const c = await this.queryClient();
    await c.streamedRequest(command, msg, event, (m) => out.push(m));
    return out;
  }

  async request(command: string, msg: ViciInput = {}): Promise<ViciMessage> {
    const c = await this.queryClient();
    return c.request(command, msg);
  }

  /** initiate / terminate / rekey on a connection of its own, with control-log lines. */
  async control(command: 'initiate' | 'terminate' | 'rekey', msg: ViciInput): Promise<ControlResult> {
    const c = await ViciClient.connect(this.socket, { timeoutMs: 3000 });
    const log: string[] = [];
    try {
      const reply =
        command === 'rekey'
          ? await c.request(command, msg)
          : await c.streamedRequest(command, msg, 'control-log', (m) => log.push(`[${str(m.group) ?? ''}] ${str(m.msg) ?? ''}`));
      const success = str(reply.success) === 'yes';
      const errmsg = str(reply.errmsg);
      return { success, ...(errmsg !== undefined ? { errmsg } : success ? {} : { errmsg: `${command} failed` }), log };
    } finally {
      c.close();
    }
  }
}
