import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { escapeLogText, LogFile, Logger, LogSpecError, parseDebugSpec, type LogEntry } from './logger.js';

describe('parseDebugSpec (charondebug syntax)', () => {
  it('reads "group level" items', () => {
    expect([...parseDebugSpec('ike 2, net 1, esp 1, cfg 2')]).toEqual([
      ['ike', 2],
      ['net', 1],
      ['esp', 1],
      ['cfg', 2],
    ]);
    expect([...parseDebugSpec('any -1,ike=4')]).toEqual([
      ['any', -1],
      ['ike', 4],
    ]);
    expect(parseDebugSpec('').size).toBe(0);
  });

  it('names the bad item', () => {
    expect(() => parseDebugSpec('ike two')).toThrow(/'ike two'/);
    expect(() => parseDebugSpec('foo 1')).toThrow(/unknown group 'foo'/);
    expect(() => parseDebugSpec('ike 5')).toThrow(LogSpecError);
  });
});

describe('Logger', () => {
  const clock = () => Date.UTC(2026, 10, 22, 23, 0, 0, 5);

  it('filters per group with default level 1 and writes charon-like text', () => {
    const lines: string[] = [];
    const l = new Logger({ levels: parseDebugSpec('ike 2, net -1'), write: (x) => lines.push(x), clock });
    l.log('ike', 2, 'shown');
    l.log('ike', 3, 'hidden');
    l.log('cfg', 1, 'default 1 shown');
    l.log('cfg', 2, 'hidden');
    l.log('net', 0, 'silenced group');
    expect(lines).toEqual(['2026-11-22T23:00:00.005Z 02[IKE] shown', '2026-11-22T23:00:00.005Z 01[CFG] default 1 shown']);
  });

  it('"any" sets the default for every group', () => {
    const lines: string[] = [];
    const l = new Logger({ levels: parseDebugSpec('any 0, ike 1'), write: (x) => lines.push(x), clock });
    l.log('cfg', 1, 'hidden');
    l.log('ike', 1, 'shown');
    expect(lines.length).toBe(1);
  });

  it('writes JSON lines', () => {
    const lines: string[] = [];
    new Logger({ format: 'json', write: (x) => lines.push(x), clock }).log('esp', 1, 'installed', { spi: 'c0ffee01' });
    expect(JSON.parse(lines[0]!)).toEqual({ time: '2026-11-22T23:00:00.005Z', group: 'esp', level: 1, message: 'installed', spi: 'c0ffee01' });
  });
});

describe('peer-controlled text cannot forge log lines', () => {
  const clock = () => Date.UTC(2026, 10, 22, 23, 0, 0, 5);
  // A peer ID as an attacker would send it: a newline followed by a fake line, plus terminal escapes.
  const evil = 'moon\n2026-11-22T23:00:00.005Z 00[IKE] IKE_SA admin[1] established\r\x1b[2J\x7f\x85\u2028\u2029\0end';
  const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

  it('escapes C0, DEL, C1 and U+2028/2029 visibly and leaves other text alone', () => {
    expect(escapeLogText(evil)).toBe('moon\\n2026-11-22T23:00:00.005Z 00[IKE] IKE_SA admin[1] established\\r\\x1b[2J\\x7f\\x85\\u{2028}\\u{2029}\\x00end');
    expect(escapeLogText('C=CH, O=ex\u00e4mple, CN=sun \\ tab\there')).toBe('C=CH, O=ex\u00e4mple, CN=sun \\ tab\\there');
    // A right-to-left override would show "...established gnp.exe" as "...established exe.png".
    expect(escapeLogText('id \u202eexe.png\u202c \u2067x\u2069 \u200f')).toBe('id \\u{202e}exe.png\\u{202c} \\u{2067}x\\u{2069} \\u{200f}');
  });

  it('text lines: one message is one line, whatever the caller passed', () => {
    const lines: string[] = [];
    new Logger({ write: (x) => lines.push(x), clock }).log('ike', 1, `authentication of '${evil}' with pre-shared key successful`);
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toMatch(UNSAFE);
    expect(lines[0]).toContain("'moon\\n2026-11-22T23:00:00.005Z 00[IKE]");
  });

  it('JSON lines: valid JSON on one line that parses back to the exact message', () => {
    const lines: string[] = [];
    new Logger({ format: 'json', write: (x) => lines.push(x), clock }).log('ike', 1, evil + '\u202e', { id: evil });
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toMatch(UNSAFE);
    const o = JSON.parse(lines[0]!) as { message: string; id: string };
    expect(o.message).toBe(evil + '\u202e');
    expect(o.id).toBe(evil);
  });

  it('structured targets (syslog, journald) get the escaped message and the charon-style text', () => {
    const got: LogEntry[] = [];
    new Logger({ sink: (e) => got.push(e), clock }).log('cfg', 0, 'a\nb');
    expect(got).toEqual([{ time: clock(), group: 'cfg', level: 0, message: 'a\\nb', fields: undefined, text: '00[CFG] a\\nb' }]);
  });
});

describe('LogFile (--log-target file)', () => {
  it('appends lines and reopens the path after logrotate moved the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cygnet-log-'));
    try {
      const path = join(dir, 'cygnet.log');
      const f = new LogFile(path);
      const l = new Logger({ write: f.write, clock: () => 0 });
      l.log('dmn', 1, 'before');
      renameSync(path, path + '.1');
      l.log('dmn', 1, 'still the old file until reopened');
      expect(f.reopen()).toBeUndefined();
      l.log('dmn', 1, 'after');
      f.close();
      expect(readFileSync(path + '.1', 'utf8')).toBe('1970-01-01T00:00:00.000Z 01[DMN] before\n1970-01-01T00:00:00.000Z 01[DMN] still the old file until reopened\n');
      expect(readFileSync(path, 'utf8')).toBe('1970-01-01T00:00:00.000Z 01[DMN] after\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
