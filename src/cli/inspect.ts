/**
 * `cygnet inspect FILE [--key-log KEYS]... [--port N]... [--json]`: decode the IKE messages and ESP packets of a
 * pcap/pcapng capture, decrypting what the key logs have keys for.
 * Exit codes: 0 done (also when some packets could not be decrypted: each says why), 1 a file cannot be read,
 * 2 usage error or a file that is not a capture.
 */
import { readFileSync } from 'node:fs';
import { CaptureFormatError, formatJson, formatText, inspectFrames, mergeKeyLogs, parseKeyLog, readCapture, type KeyLog } from '../inspect/index.js';

export const INSPECT_USAGE = `usage: cygnet inspect FILE [--key-log KEYS]... [--port N]... [--json]
  FILE            a pcap or pcapng capture (Ethernet, Linux cooked SLL/SLL2, raw IP or loopback link type)
  --key-log KEYS  keys to decrypt with, repeatable: cygnet's own --key-log file (JSON lines), or Wireshark's /
                  strongSwan save-keys' ikev2_decryption_table and esp_sa files
  --port N        also read UDP port N like 4500 (IKE after a non-ESP marker, or ESP), repeatable or N,M
  --json          one JSON object per IKE message / ESP packet (frame, kind, decrypted, exchange or spi, reason...)
IKE is found on UDP 500 and 4500 (non-ESP marker), ESP on UDP 4500 and as IP protocol 50.`;

export interface InspectIo {
  readonly stdout: { write(s: string): unknown };
  readonly stderr: { write(s: string): unknown };
}

export function runInspect(argv: readonly string[], io: InspectIo = { stdout: process.stdout, stderr: process.stderr }): number {
  const keyFiles: string[] = [];
  const ports: number[] = [];
  let json = false;
  let file: string | undefined;
  const usage = (msg: string): number => {
    io.stderr.write(`cygnet inspect: ${msg}\n${INSPECT_USAGE}\n`);
    return 2;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const [name, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = (): string | undefined => inline ?? argv[++i];
    if (name === '--help' || name === '-h') {
      io.stdout.write(INSPECT_USAGE + '\n');
      return 0;
    } else if (name === '--json') json = true;
    else if (name === '--key-log') {
      const v = value();
      if (v === undefined) return usage("option '--key-log' needs a file");
      keyFiles.push(v);
    } else if (name === '--port') {
      const v = value();
      if (v === undefined) return usage("option '--port' needs a port");
      for (const p of v.split(',')) {
        const n = Number(p);
        if (!/^\d+$/.test(p) || n < 1 || n > 65535) return usage(`--port: '${p}' is not a UDP port (1-65535)`);
        ports.push(n);
      }
    } else if (name.startsWith('-')) return usage(`unknown option '${name}'`);
    else if (file === undefined) file = a;
    else return usage(`unexpected argument '${a}' (one capture file at a time)`);
  }
  if (file === undefined) return usage('no capture file given');

  const logs: KeyLog[] = [];
  for (const k of keyFiles) {
    let text: string;
    try {
      text = readFileSync(k, 'utf8');
    } catch (e) {
      io.stderr.write(`cygnet inspect: cannot read key log ${k}: ${(e as Error).message}\n`);
      return 1;
    }
    const log = parseKeyLog(text, k);
    for (const err of log.errors) io.stderr.write(`cygnet inspect: ${err.source}: ${err.message} (line skipped)\n`);
    logs.push(log);
  }
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    io.stderr.write(`cygnet inspect: cannot read ${file}: ${(e as Error).message}\n`);
    return 1;
  }
  let capture;
  try {
    capture = readCapture(bytes);
  } catch (e) {
    if (e instanceof CaptureFormatError) {
      io.stderr.write(`cygnet inspect: ${file}: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  const result = inspectFrames(capture.frames, { keys: mergeKeyLogs(logs), ports });
  io.stdout.write(json ? formatJson(result) : formatText(result));
  if (json) for (const n of result.notes) io.stderr.write(`cygnet inspect: frame ${n.frame}: ${n.text}\n`);
  return 0;
}
