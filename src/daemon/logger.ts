/**
 * The daemon's log: strongSwan's charondebug model (a level per subsystem group, -1 silent .. 4 raw data; the
 * default is 1 for every group, as charon's `default = 1`), written as readable lines
 * (`2026-11-22T23:10:27.123Z 07[IKE] IKE_SA gw[1] established between ...`, the group in charon's upper-case
 * bracket form) or as JSON lines (`--log-format json`).
 *
 * Only strings pass through here; the IKE endpoint never puts key material into its log events, and the daemon
 * logs SPIs, suites and traffic selectors only.
 *
 * Messages carry peer-controlled text (IDs, certificate subjects, vici-supplied names). A newline in a peer's ID
 * would forge a whole log line, so every message is escaped here, the one place lines are formatted, rather than
 * by each caller: see escapeLogText. JSON lines are escaped by JSON itself, plus the characters JSON leaves raw
 * that some readers still break lines at (U+2028/U+2029) or that terminals interpret (DEL, C1).
 */

import { closeSync, openSync, writeSync } from 'node:fs';

/** charon's debug groups (strongSwan `debug.h`); `dmn` is the daemon itself, `any` sets all at once. */
export const LOG_GROUPS = ['dmn', 'mgr', 'ike', 'chd', 'job', 'cfg', 'knl', 'net', 'asn', 'enc', 'tls', 'esp', 'lib', 'tnc', 'imc', 'imv', 'pts', 'app'] as const;
export type DaemonLogGroup = (typeof LOG_GROUPS)[number];

export const DEFAULT_LOG_LEVEL = 1;

export type LogFormat = 'text' | 'json';

export class LogSpecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LogSpecError';
  }
}

/**
 * Parses a charondebug-style spec: `"ike 2, net 1, esp 1, cfg 2"` (also `ike=2`, `any 2`). Levels -1..4.
 * Throws LogSpecError naming the bad item.
 */
export function parseDebugSpec(spec: string): Map<string, number> {
  const levels = new Map<string, number>();
  for (const raw of spec.split(',')) {
    const item = raw.trim();
    if (item === '') continue;
    const m = /^([a-z]{2,4})\s*(?:=|\s)\s*(-?\d+)$/i.exec(item);
    if (!m) throw new LogSpecError(`--debug: '${item}' is not of the form "<group> <level>" (e.g. "ike 2, net 1")`);
    const group = m[1]!.toLowerCase();
    const level = Number(m[2]);
    if (group !== 'any' && !(LOG_GROUPS as readonly string[]).includes(group))
      throw new LogSpecError(`--debug: unknown group '${group}' (one of any, ${LOG_GROUPS.join(', ')})`);
    if (!(level >= -1 && level <= 4)) throw new LogSpecError(`--debug: level ${level} for '${group}' is outside -1..4`);
    levels.set(group, level);
  }
  return levels;
}

export { escapeLogText } from '../util/escape-text.js';
import { escapeLogText } from '../util/escape-text.js';

/** JSON.stringify, then \uXXXX for what JSON allows raw but line readers and terminals mishandle (still valid JSON; the same set as escapeLogText). */
function jsonLine(value: unknown): string {
  return JSON.stringify(value).replace(/[\u007f-\u009f\u2028\u2029\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** What a structured target (syslog, journald) receives: the escaped message and its charon-style text line. */
export interface LogEntry {
  readonly time: number;
  readonly group: string;
  readonly level: number;
  /** The message, escaped (escapeLogText). */
  readonly message: string;
  readonly fields?: Readonly<Record<string, string | number | boolean>> | undefined;
  /** `07[IKE] message` without the timestamp (syslog and journald stamp lines themselves). */
  readonly text: string;
}

export interface LoggerOptions {
  readonly levels?: ReadonlyMap<string, number>;
  readonly format?: LogFormat;
  /** Where lines go; default process.stderr. */
  readonly write?: (line: string) => void;
  /** A structured target instead of `write` (syslog, journald): gets every entry that passes the levels. */
  readonly sink?: (entry: LogEntry) => void;
  /** Wall clock for timestamps; default Date.now (logging is the driver's business, not the core's). */
  readonly clock?: () => number;
}

export class Logger {
  private readonly levels: ReadonlyMap<string, number>;
  private readonly defaultLevel: number;
  readonly format: LogFormat;
  private readonly write: (line: string) => void;
  private readonly sink: ((entry: LogEntry) => void) | undefined;
  private readonly clock: () => number;

  constructor(o: LoggerOptions = {}) {
    this.levels = o.levels ?? new Map();
    this.defaultLevel = this.levels.get('any') ?? DEFAULT_LOG_LEVEL;
    this.format = o.format ?? 'text';
    this.write = o.write ?? ((l) => process.stderr.write(l + '\n'));
    this.sink = o.sink;
    this.clock = o.clock ?? Date.now;
  }

  level(group: string): number {
    return this.levels.get(group) ?? this.defaultLevel;
  }

  enabled(group: string, level: number): boolean {
    return level <= this.level(group);
  }

  /** Logs `message` under `group` at `level` (0 = always shown unless the group is -1, as charon's CTRL level). */
  log(group: string, level: number, message: string, fields?: Readonly<Record<string, string | number | boolean>>): void {
    if (!this.enabled(group, level)) return;
    const now = this.clock();
    const time = new Date(now).toISOString();
    if (this.sink) {
      const safe = escapeLogText(message);
      this.sink({ time: now, group, level, message: safe, fields, text: `${String(level).padStart(2, '0')}[${group.toUpperCase()}] ${safe}` });
    } else if (this.format === 'json') {
      this.write(jsonLine({ time, group, level, message, ...fields }));
    } else {
      // charon prints a thread number before the group; a single-threaded driver has none, so level stands in.
      this.write(`${time} ${String(level).padStart(2, '0')}[${group.toUpperCase()}] ${escapeLogText(message)}`);
    }
  }
}

/**
 * A log file for `--log-target file`: appended to with synchronous writes (lines stay whole and in order, and
 * nothing is lost when the process exits), reopened by path on SIGHUP/SIGUSR1 so logrotate can move it away
 * (its `create` mode then applies; without `copytruncate`).
 */
export class LogFile {
  private fd: number;

  constructor(readonly path: string) {
    this.fd = openSync(path, 'a', 0o640);
  }

  readonly write = (line: string): void => {
    try {
      writeSync(this.fd, line + '\n');
    } catch {
      // A full disk must not stop the daemon; the line is lost.
    }
  };

  /** Opens the path again (after logrotate renamed the old file); a failure keeps writing to the old file. */
  reopen(): string | undefined {
    let fd: number;
    try {
      fd = openSync(this.path, 'a', 0o640);
    } catch (e) {
      return `cannot reopen log file ${this.path}: ${(e as Error).message}`;
    }
    closeSync(this.fd);
    this.fd = fd;
    return undefined;
  }

  close(): void {
    closeSync(this.fd);
  }
}
