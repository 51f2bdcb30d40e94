import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger, parseDebugSpec } from '../../src/daemon/logger.js';
import { formatSyslog, logSeverity, parseFacility, syslogSink } from '../../src/daemon/syslog.js';
import { encodeJournalFields, journalSink } from '../../src/daemon/journal.js';
import { UnixDatagramSocket } from '../../src/daemon/unix-dgram.js';
import { freePorts, runCli, spawnDaemon, waitFor } from './harness.js';

const dir = mkdtempSync(join(tmpdir(), 'cygnet-syslog-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function drain(sock: UnixDatagramSocket): Buffer[] {
  const out: Buffer[] = [];
  for (let d = sock.receive(); d; d = sock.receive()) out.push(d);
  return out;
}

describe('syslog (--log-target syslog)', () => {
  it('maps charondebug levels to severities and names to facilities', () => {
    expect([-1, 0, 1, 2, 3, 4].map(logSeverity)).toEqual([5, 5, 6, 7, 7, 7]);
    expect(parseFacility('daemon')).toBe(3);
    expect(parseFacility('local7')).toBe(23);
    expect(parseFacility('constructor')).toBeUndefined();
  });

  it('frames lines as glibc syslog(3) does (RFC 3164 without hostname) and as RFC 5424', () => {
    const entry = { time: new Date(2026, 11, 6, 3, 4, 5).getTime(), group: 'ike', level: 1, message: 'm', text: '01[IKE] m' };
    expect(formatSyslog(entry, { pid: 77 })).toBe('<30>Dec  6 03:04:05 cygnet[77]: 01[IKE] m');
    expect(formatSyslog(entry, { pid: 77, facility: 16, format: 'rfc5424', hostname: 'gw' })).toBe(
      `<134>1 ${new Date(entry.time).toISOString()} gw cygnet 77 - - 01[IKE] m`,
    );
  });

  it('lines arrive at the syslog socket with ident cygnet and <PRI> = facility * 8 + severity, escaped', () => {
    const path = join(dir, 'log.sock');
    const rx = new UnixDatagramSocket().bind(path);
    try {
      const { sink, socket } = syslogSink({ path, facility: parseFacility('local3')! });
      const l = new Logger({ levels: parseDebugSpec('any 2'), sink });
      l.log('ike', 0, "IKE_SA gw[1] established between 192.0.2.1[moon]...192.0.2.2[sun\nforged]");
      l.log('cfg', 1, 'loaded 1 connection');
      l.log('net', 2, 'sending packet');
      l.log('net', 3, 'not at level 2');
      socket.close();
      const got = drain(rx).map((b) => b.toString());
      expect(got).toHaveLength(3);
      const re = /^<(\d+)>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d cygnet\[(\d+)\]: (.*)$/;
      const parsed = got.map((g) => re.exec(g));
      expect(parsed.map((m) => Number(m?.[1]))).toEqual([19 * 8 + 5, 19 * 8 + 6, 19 * 8 + 7]);
      expect(parsed.map((m) => Number(m?.[2]))).toEqual([process.pid, process.pid, process.pid]);
      expect(parsed[0]![3]).toBe('00[IKE] IKE_SA gw[1] established between 192.0.2.1[moon]...192.0.2.2[sun\\nforged]');
      expect(parsed[2]![3]).toBe('02[NET] sending packet');
    } finally {
      rx.close();
    }
  });

  it('a missing syslog socket is reported once on stderr and the line is lost, the caller never throws', () => {
    const errors: string[] = [];
    const { sink } = syslogSink({ path: join(dir, 'nobody-listens'), onError: (m) => errors.push(m) });
    const l = new Logger({ sink });
    l.log('dmn', 0, 'a');
    l.log('dmn', 0, 'b');
    expect(errors).toEqual([expect.stringMatching(/^cannot log to syslog at .*nobody-listens: sendto .*: No such file or directory$/)]);
  });
});

describe('journald native protocol (--log-target journal)', () => {
  it('encodes FIELD=value lines, and a value with a newline in the length-prefixed binary form', () => {
    const b = encodeJournalFields([
      ['MESSAGE', 'hi'],
      ['CYGNET_X', 'a\nb'],
    ]);
    expect(b.equals(Buffer.concat([Buffer.from('MESSAGE=hi\nCYGNET_X\n'), Buffer.from([3, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('a\nb\n')]))).toBe(true);
  });

  it('entries carry MESSAGE, PRIORITY, SYSLOG_IDENTIFIER, CYGNET_GROUP and the extra fields', () => {
    const path = join(dir, 'journal.sock');
    const rx = new UnixDatagramSocket().bind(path);
    try {
      const { sink, socket } = journalSink({ path });
      new Logger({ sink }).log('chd', 0, 'CHILD_SA net{1} established', { spi: 'c0ffee01' });
      socket.close();
      const [d] = drain(rx);
      expect(d?.toString()).toBe(
        'MESSAGE=00[CHD] CHILD_SA net{1} established\nPRIORITY=5\nSYSLOG_IDENTIFIER=cygnet\nSYSLOG_FACILITY=3\nCYGNET_GROUP=chd\nCYGNET_LEVEL=0\nCYGNET_SPI=c0ffee01\n',
      );
    } finally {
      rx.close();
    }
  });
});

describe('cygnet daemon --log-target flags', () => {
  it('refuses bad combinations with exit 2 and names the flag', async () => {
    const conf = join(dir, 'empty.conf');
    writeFileSync(conf, 'connections { }\n');
    const cases: [string[], RegExp][] = [
      [['--log-target', 'kafka'], /--log-target: 'kafka' is not stderr, file, syslog or journal/],
      [['--log-target', 'file'], /--log-target file needs --log-file PATH/],
      [['--log-target', 'syslog', '--log-facility', 'nope'], /--log-facility: 'nope' is not a syslog facility/],
      [['--log-file', join(dir, 'x.log'), '--log-target', 'syslog'], /--log-file applies to --log-target file, not syslog/],
      [['--log-socket', join(dir, 'x.sock')], /--log-socket applies to --log-target syslog or journal/],
    ];
    const runs = cases.map(([args]) => runCli(['daemon', '--config', conf, '--no-vici', ...args]));
    for (const [i, r] of runs.entries()) {
      expect(await r.exited).toBe(2);
      expect(r.output()).toMatch(cases[i]![1]);
    }
  }, 120_000);

  it.each(['syslog', 'journal'])('--log-target %s: the running daemon\'s lines arrive at the socket with its ident, pid and priority', async (target) => {
    const conf = join(dir, `${target}.conf`);
    writeFileSync(conf, 'connections { }\n');
    const sock = join(dir, `${target}-e2e.sock`);
    const rx = new UnixDatagramSocket().bind(sock);
    const got: string[] = [];
    const poll = setInterval(() => got.push(...drain(rx).map((b) => b.toString())), 20);
    const [p, pn] = await freePorts(2);
    const d = spawnDaemon(['--config', conf, '--log-target', target, '--log-socket', sock, '--log-facility', 'local5', '--debug', 'any 1', '--port', String(p), '--natt-port', String(pn), '--bind', '127.0.0.1']);
    try {
      await waitFor(() => got.some((g) => g.includes('cygnet daemon running')), 20_000, () => `${got.join('|')}\n${d.output()}`);
      const pid = d.child.pid!;
      const running = got.find((g) => g.includes('cygnet daemon running'))!;
      if (target === 'syslog') {
        // local5 = 21, level 1 = info (6): <174>
        expect(running).toMatch(new RegExp(`^<174>[A-Z][a-z]{2} [ \\d]\\d \\d\\d:\\d\\d:\\d\\d cygnet\\[${pid}\\]: 01\\[DMN\\] cygnet daemon running \\(pid ${pid}\\)$`));
        // Every line's PRI is local5 * 8 + the severity of the level it shows.
        for (const g of got) {
          const m = /^<(\d+)>.*?: (\d\d)\[[A-Z]+\] /.exec(g);
          expect(m, g).not.toBeNull();
          expect(Number(m![1]), g).toBe(21 * 8 + logSeverity(Number(m![2])));
        }
      } else {
        expect(running).toBe(`MESSAGE=01[DMN] cygnet daemon running (pid ${pid})\nPRIORITY=6\nSYSLOG_IDENTIFIER=cygnet\nSYSLOG_FACILITY=21\nCYGNET_GROUP=dmn\nCYGNET_LEVEL=1\n`);
      }
      // Nothing went to stderr but what cannot go to the log.
      expect(d.output()).not.toMatch(/cygnet daemon running/);
    } finally {
      d.signal('SIGTERM');
      expect(await d.exited).toBe(0);
      clearInterval(poll);
      rx.close();
    }
  }, 30_000);

  it('--log-file writes the daemon log there and is reopened on SIGHUP and on SIGUSR1 (logrotate)', async () => {
    const conf = join(dir, 'empty2.conf');
    writeFileSync(conf, 'connections { }\n');
    const log = join(dir, 'daemon.log');
    const [p, pn] = await freePorts(2);
    const d = spawnDaemon(['--config', conf, '--log-file', log, '--port', String(p), '--natt-port', String(pn), '--bind', '127.0.0.1']);
    try {
      await waitFor(() => existsSync(log) && /cygnet daemon running/.test(readFileSync(log, 'utf8')), 20_000, () => d.output());
      expect(d.output()).not.toMatch(/cygnet daemon running/);
      // logrotate: rename, then SIGHUP; the reload's lines land in a new file at the old path.
      renameSync(log, `${log}.1`);
      d.signal('SIGHUP');
      await waitFor(() => existsSync(log) && /reload|loaded/.test(readFileSync(log, 'utf8')), 20_000, () => d.output());
      expect(readFileSync(`${log}.1`, 'utf8')).toMatch(/cygnet daemon running/);
      expect(readFileSync(log, 'utf8')).not.toMatch(/cygnet daemon running/);
      // logrotate's other signal: SIGUSR1 reopens too (and logs the status, into the new file).
      renameSync(log, `${log}.2`);
      d.signal('SIGUSR1');
      await waitFor(() => existsSync(log) && /status: 0 IKE SA\(s\)/.test(readFileSync(log, 'utf8')), 20_000, () => d.output());
      expect(readFileSync(`${log}.2`, 'utf8')).toMatch(/reload|loaded/);
      expect(readFileSync(`${log}.2`, 'utf8')).not.toMatch(/status: /);
    } finally {
      d.signal('SIGTERM');
      expect(await d.exited).toBe(0);
    }
    expect(readFileSync(log, 'utf8')).toMatch(/^\S+Z 01\[DMN\] received SIGTERM, shutting down$/m);
  }, 30_000);
});
