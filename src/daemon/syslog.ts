/**
 * `--log-target syslog`: each log line as one datagram to /dev/log, framed as glibc's syslog(3) frames it
 * (RFC 3164 style without the hostname, which the local syslog daemon adds): `<PRI>Mmm dd hh:mm:ss cygnet[PID]:
 * 07[IKE] message`, or RFC 5424 (`<PRI>1 TIMESTAMP HOST cygnet PID - - message`) for daemons that want it.
 * PRI = facility * 8 + severity (RFC 5424 section 6.2.1); the facility is `--log-facility` (default daemon, as
 * charon's syslog logger), the severity comes from the charondebug level (logSeverity). Messages arrive escaped
 * from the Logger (one line each). A full /dev/log queue drops the line rather than stall the event loop.
 */
import { hostname } from 'node:os';
import type { LogEntry } from './logger.js';
import { UnixDatagramSocket } from './unix-dgram.js';

/** syslog(3) facilities by name (RFC 5424 table 1; `security` is glibc's old alias of auth). */
export const SYSLOG_FACILITIES: Readonly<Record<string, number>> = {
  kern: 0, user: 1, mail: 2, daemon: 3, auth: 4, syslog: 5, lpr: 6, news: 7, uucp: 8, cron: 9, authpriv: 10, ftp: 11,
  local0: 16, local1: 17, local2: 18, local3: 19, local4: 20, local5: 21, local6: 22, local7: 23,
};

export const SEVERITY = { emerg: 0, alert: 1, crit: 2, err: 3, warning: 4, notice: 5, info: 6, debug: 7 } as const;

/**
 * The syslog severity of a charondebug level: 0 (and -1) are the lines charon always shows (SAs up and down,
 * failures) = notice; 1, the default level's detail = info; 2-4 = debug.
 */
export function logSeverity(level: number): number {
  return level <= 0 ? SEVERITY.notice : level === 1 ? SEVERITY.info : SEVERITY.debug;
}

export function parseFacility(name: string): number | undefined {
  return Object.hasOwn(SYSLOG_FACILITIES, name) ? SYSLOG_FACILITIES[name] : undefined;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const p2 = (n: number): string => String(n).padStart(2, '0');

export interface SyslogOptions {
  readonly facility?: number;
  /** APP-NAME / tag; default 'cygnet'. */
  readonly ident?: string;
  readonly pid?: number;
  readonly format?: 'rfc3164' | 'rfc5424';
  /** Hostname for RFC 5424 (RFC 3164 as glibc sends it has none: the local daemon adds it). */
  readonly hostname?: string;
}

/** One syslog datagram for `entry` (exported for tests and for anyone sending elsewhere). */
export function formatSyslog(entry: LogEntry, o: SyslogOptions = {}): string {
  const pri = (o.facility ?? SYSLOG_FACILITIES['daemon']!) * 8 + logSeverity(entry.level);
  const ident = o.ident ?? 'cygnet';
  const pid = o.pid ?? process.pid;
  const d = new Date(entry.time);
  if (o.format === 'rfc5424') {
    return `<${pri}>1 ${d.toISOString()} ${o.hostname ?? (hostname() || '-')} ${ident} ${pid} - - ${entry.text}`;
  }
  // glibc: "%h %e %T" in local time, the day padded with a space.
  const stamp = `${MONTHS[d.getMonth()]} ${String(d.getDate()).padStart(2, ' ')} ${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}`;
  return `<${pri}>${stamp} ${ident}[${pid}]: ${entry.text}`;
}

/**
 * A Logger sink sending to the local syslog socket. A failed send (no syslog daemon listening) is reported once
 * through `onError` and the line is lost, as syslog(3) loses it without LOG_CONS.
 */
export function syslogSink(o: SyslogOptions & { path?: string; onError?: (message: string) => void } = {}): { sink: (entry: LogEntry) => void; socket: UnixDatagramSocket } {
  const socket = new UnixDatagramSocket();
  const path = o.path ?? '/dev/log';
  let failing = false;
  const sink = (entry: LogEntry): void => {
    try {
      socket.send(path, formatSyslog(entry, o));
      failing = false;
    } catch (e) {
      if (!failing) o.onError?.(`cannot log to syslog at ${path}: ${(e as Error).message}`);
      failing = true;
    }
  };
  return { sink, socket };
}
