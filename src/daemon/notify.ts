/**
 * systemd's readiness protocol (sd_notify(3)): `Type=notify` services send newline-separated `KEY=VALUE`
 * assignments as one datagram to the AF_UNIX socket named in $NOTIFY_SOCKET (a path, or '@name' for an abstract
 * socket). cygnet sends READY=1 once its sockets are bound and the start-action SAs were initiated, STATUS= with
 * the SA counts on every change, RELOADING=1/READY=1 around a reload, STOPPING=1 at shutdown, and WATCHDOG=1 from
 * the event loop at half of $WATCHDOG_USEC, so a stuck loop (not merely a live process) gets the service restarted.
 *
 * The driver owns the timer; this module only formats and sends. Without $NOTIFY_SOCKET (not started by systemd)
 * fromEnv returns undefined and nothing is sent.
 */
import { UnixDatagramSocket } from './unix-dgram.js';

/** NOTIFY_SOCKET names something cygnet cannot send to (systemd 253+'s vsock addresses). */
export class NotifySocketError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotifySocketError';
  }
}

export class SystemdNotifier {
  readonly #socket: UnixDatagramSocket;

  private constructor(
    /** The NOTIFY_SOCKET address ('@...' for abstract). */
    readonly address: string,
    /** Half of WATCHDOG_USEC in ms when the watchdog is on for this process, as sd_watchdog_enabled(3) advises. */
    readonly watchdogIntervalMs: number | undefined,
  ) {
    this.#socket = new UnixDatagramSocket();
  }

  /**
   * The notifier for this process, or undefined when systemd did not ask for notifications. Like
   * sd_notify(unset_environment=1) it removes NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID from `env`, so child
   * processes (ip, updown scripts) do not notify on our behalf. Throws for an address it cannot use.
   */
  static fromEnv(env: NodeJS.ProcessEnv = process.env, pid: number = process.pid): SystemdNotifier | undefined {
    const address = env['NOTIFY_SOCKET'];
    const usec = env['WATCHDOG_USEC'];
    const wdPid = env['WATCHDOG_PID'];
    delete env['NOTIFY_SOCKET'];
    delete env['WATCHDOG_USEC'];
    delete env['WATCHDOG_PID'];
    if (address === undefined || address === '') return undefined;
    if (!address.startsWith('/') && !address.startsWith('@'))
      throw new NotifySocketError(`NOTIFY_SOCKET '${address}' is neither a path nor an abstract '@' name (vsock is not supported; use Type=simple)`);
    let interval: number | undefined;
    // WATCHDOG_PID, when set, names the process the watchdog is for (a wrapper may have exec'd us under another).
    if (usec !== undefined && /^\d+$/.test(usec) && Number(usec) > 0 && (wdPid === undefined || Number(wdPid) === pid)) {
      interval = Math.max(1, Math.floor(Number(usec) / 2000));
    }
    return new SystemdNotifier(address, interval);
  }

  /** Sends the assignments (`{ READY: '1', STATUS: '...' }`) as one datagram; false when it could not be sent. */
  notify(state: Readonly<Record<string, string | number>>): boolean {
    const text = Object.entries(state)
      .map(([k, v]) => `${k}=${String(v).replace(/\n/g, ' ')}`)
      .join('\n');
    try {
      return this.#socket.send(this.address, text + '\n');
    } catch {
      // systemd gone or the socket removed: nothing the daemon can do, and not worth stopping for.
      return false;
    }
  }

  close(): void {
    this.#socket.close();
  }
}

/** The STATUS= text: what `systemctl status cygnet` shows under the unit name. */
export function statusText(counts: { ikeSas: number; childSas: number; halfOpen?: number }): string {
  const half = counts.halfOpen ? `, ${counts.halfOpen} half-open` : '';
  return `${counts.ikeSas} IKE_SA${counts.ikeSas === 1 ? '' : 's'} up, ${counts.childSas} CHILD_SA${counts.childSas === 1 ? '' : 's'}${half}`;
}

/**
 * Resolves once every start_action = start CHILD SA was installed or has failed once (its IKE SA went down or
 * authentication or the CHILD SA was refused), or after `timeoutMs`: READY=1 then means "up as configured" where
 * peers answer, without holding the service in `activating` (and systemd's start timeout) while one does not.
 */
export function startActionsSettled(
  pending: readonly { conn: string; child: string }[],
  subscribe: (listener: (e: import('../ike/events.js').IkeEvent) => void) => void,
  connOf: (ikeSaId: number) => string | undefined,
  timeoutMs: number,
): Promise<{ up: number; total: number }> {
  const total = pending.length;
  if (total === 0) return Promise.resolve({ up: 0, total });
  const waiting = new Set(pending.map((p) => `${p.conn}\0${p.child}`));
  const conns = new Map<number, string>();
  let up = 0;
  let done = false;
  return new Promise((resolve) => {
    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve({ up, total });
    };
    const timer = setTimeout(finish, timeoutMs);
    timer.unref();
    const settle = (conn: string | undefined, child: string | undefined, ok: boolean): void => {
      if (conn === undefined) return;
      for (const key of [...waiting]) {
        const [c, ch] = key.split('\0');
        if (c !== conn || (child !== undefined && ch !== child)) continue;
        waiting.delete(key);
        if (ok) up++;
      }
      if (waiting.size === 0) finish();
    };
    subscribe((e) => {
      if (done) return;
      if (e.type === 'ike-up') conns.set(e.sa.id, e.sa.name);
      else if (e.type === 'child-install') settle(conns.get(e.child.ikeSaId) ?? connOf(e.child.ikeSaId), e.child.name, true);
      else if (e.type === 'child-failed') settle(conns.get(e.ikeSaId) ?? connOf(e.ikeSaId), e.name, false);
      else if (e.type === 'auth-failed') settle(conns.get(e.ikeSaId) ?? connOf(e.ikeSaId), undefined, false);
      else if (e.type === 'ike-down') settle(e.sa.name, undefined, false);
    });
  });
}
