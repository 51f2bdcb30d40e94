/**
 * `--log-target journal`: systemd-journald's native protocol (systemd.io/JOURNAL_NATIVE_PROTOCOL): one datagram
 * per entry to /run/systemd/journal/socket holding `FIELD=value` lines; a value containing a newline is sent as
 * `FIELD\n`, its length as 64-bit little-endian, the raw bytes and `\n`. Fields: MESSAGE (`07[IKE] ...`, the text
 * charon logs), PRIORITY (syslog severity of the level), SYSLOG_IDENTIFIER=cygnet, SYSLOG_FACILITY, CYGNET_GROUP
 * and CYGNET_LEVEL (so `journalctl CYGNET_GROUP=ike` filters like charondebug), and the Logger's extra fields as
 * CYGNET_<NAME>. Entries above the socket's datagram size (rare: ~200 KiB) are truncated, not sent by memfd.
 */
import type { LogEntry } from './logger.js';
import { logSeverity, SYSLOG_FACILITIES } from './syslog.js';
import { UnixDatagramSocket } from './unix-dgram.js';

export const JOURNAL_SOCKET = '/run/systemd/journal/socket';
const MAX_VALUE = 64 * 1024;

/** Encodes fields in the native protocol; names must be [A-Z0-9_], not starting with '_' (journald drops others). */
export function encodeJournalFields(fields: ReadonlyArray<readonly [string, string]>): Buffer {
  const parts: Buffer[] = [];
  for (const [name, raw] of fields) {
    const value = Buffer.from(raw, 'utf8').subarray(0, MAX_VALUE);
    if (!value.includes(0x0a)) {
      parts.push(Buffer.from(`${name}=`), value, Buffer.from('\n'));
    } else {
      const len = Buffer.alloc(8);
      len.writeBigUInt64LE(BigInt(value.length));
      parts.push(Buffer.from(`${name}\n`), len, value, Buffer.from('\n'));
    }
  }
  return Buffer.concat(parts);
}

/** A Logger field name as a journal field: CYGNET_ + upper case, other characters as '_'. */
function fieldName(name: string): string {
  return `CYGNET_${name.toUpperCase().replace(/[^A-Z0-9_]/g, '_')}`;
}

export function journalFields(entry: LogEntry, o: { ident?: string; facility?: number } = {}): [string, string][] {
  const f: [string, string][] = [
    ['MESSAGE', entry.text],
    ['PRIORITY', String(logSeverity(entry.level))],
    ['SYSLOG_IDENTIFIER', o.ident ?? 'cygnet'],
    ['SYSLOG_FACILITY', String(o.facility ?? SYSLOG_FACILITIES['daemon']!)],
    ['CYGNET_GROUP', entry.group],
    ['CYGNET_LEVEL', String(entry.level)],
  ];
  for (const [k, v] of Object.entries(entry.fields ?? {})) f.push([fieldName(k), String(v)]);
  return f;
}

export function journalSink(
  o: { ident?: string; facility?: number; path?: string; onError?: (message: string) => void } = {},
): { sink: (entry: LogEntry) => void; socket: UnixDatagramSocket } {
  const socket = new UnixDatagramSocket();
  const path = o.path ?? JOURNAL_SOCKET;
  let failing = false;
  const sink = (entry: LogEntry): void => {
    try {
      socket.send(path, encodeJournalFields(journalFields(entry, o)));
      failing = false;
    } catch (e) {
      if (!failing) o.onError?.(`cannot log to the journal at ${path}: ${(e as Error).message}`);
      failing = true;
    }
  };
  return { sink, socket };
}
