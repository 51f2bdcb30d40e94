import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NotifySocketError, SystemdNotifier, statusText } from '../../src/daemon/notify.js';
import { sockaddrUn, UnixDatagramSocket } from '../../src/daemon/unix-dgram.js';
import { freePorts, siteConf, spawnDaemon, waitFor, type DaemonProcess } from './harness.js';

const dir = mkdtempSync(join(tmpdir(), 'cygnet-notify-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Everything that arrives on a bound socket, polled from the event loop (the receive side never blocks). */
function collect(sock: UnixDatagramSocket): { messages: string[]; stop(): void } {
  const messages: string[] = [];
  const t = setInterval(() => {
    for (let d = sock.receive(); d; d = sock.receive()) messages.push(d.toString('utf8'));
  }, 10);
  return { messages, stop: () => clearInterval(t) };
}

describe('sd_notify protocol (SystemdNotifier)', () => {
  it('sockaddr_un: a path is NUL-terminated, an @name is abstract (leading NUL, no terminator)', () => {
    const p = sockaddrUn('/run/x');
    expect(p.len).toBe(2 + 6 + 1);
    expect([...p.addr.subarray(0, 9)]).toEqual([1, 0, ...Buffer.from('/run/x'), 0]);
    const a = sockaddrUn('@sd');
    expect(a.len).toBe(2 + 1 + 2);
    expect([...a.addr.subarray(0, 5)]).toEqual([1, 0, 0, ...Buffer.from('sd')]);
    expect(() => sockaddrUn('/' + 'x'.repeat(107))).toThrow(/not a unix socket address/);
  });

  it('reads NOTIFY_SOCKET and the watchdog from the environment, then removes them (children must not notify)', () => {
    const env: NodeJS.ProcessEnv = { NOTIFY_SOCKET: '@x', WATCHDOG_USEC: '3000000', WATCHDOG_PID: '42', OTHER: '1' };
    const n = SystemdNotifier.fromEnv(env, 42)!;
    expect(n.address).toBe('@x');
    expect(n.watchdogIntervalMs).toBe(1500);
    expect(env).toEqual({ OTHER: '1' });
    n.close();
    expect(SystemdNotifier.fromEnv({ NOTIFY_SOCKET: '/run/n', WATCHDOG_USEC: '3000000', WATCHDOG_PID: '7' }, 42)!.watchdogIntervalMs).toBeUndefined();
    expect(SystemdNotifier.fromEnv({}, 42)).toBeUndefined();
    expect(() => SystemdNotifier.fromEnv({ NOTIFY_SOCKET: 'vsock:2:999' }, 42)).toThrow(NotifySocketError);
  });

  it('sends KEY=VALUE lines as one datagram to a path socket', () => {
    const path = join(dir, 'notify.sock');
    const rx = new UnixDatagramSocket().bind(path);
    try {
      const n = SystemdNotifier.fromEnv({ NOTIFY_SOCKET: path })!;
      expect(n.notify({ READY: 1, STATUS: statusText({ ikeSas: 1, childSas: 2 }) })).toBe(true);
      n.close();
      expect(rx.receive()?.toString()).toBe('READY=1\nSTATUS=1 IKE_SA up, 2 CHILD_SAs\n');
      expect(rx.receive()).toBeUndefined();
    } finally {
      rx.close();
    }
  });
});

describe('cygnet daemon under systemd (NOTIFY_SOCKET set)', () => {
  it('an address it cannot use is a clear error and exit 2, before anything starts', async () => {
    const conf = join(dir, 'vsock.conf');
    writeFileSync(conf, 'connections { }\n');
    process.env['NOTIFY_SOCKET'] = 'vsock:2:1234';
    let d: DaemonProcess;
    try {
      d = spawnDaemon(['--config', conf]);
    } finally {
      delete process.env['NOTIFY_SOCKET'];
    }
    expect(await d.exited).toBe(2);
    expect(d.output()).toMatch(/^cygnet daemon: NOTIFY_SOCKET 'vsock:2:1234' is neither a path nor an abstract '@' name/);
  }, 30_000);

  let moon: DaemonProcess | undefined;
  let sun: DaemonProcess | undefined;
  afterAll(() => {
    moon?.kill();
    sun?.kill();
  });

  it('READY=1 once the start-action CHILD SA is up, STATUS= with SA counts, WATCHDOG=1, RELOADING=1 on SIGHUP, STOPPING=1', async () => {
    const [pm, pnm, ps, pns] = await freePorts(4);
    const moonConf = join(dir, 'moon.conf');
    const sunConf = join(dir, 'sun.conf');
    writeFileSync(moonConf, siteConf({ localPort: pm!, remotePort: ps!, localId: 'moon.example', remoteId: 'sun.example', localTs: '10.1.0.0/16', remoteTs: '10.2.0.0/16', startAction: 'start' }));
    writeFileSync(sunConf, siteConf({ localPort: ps!, remotePort: pm!, localId: 'sun.example', remoteId: 'moon.example', localTs: '10.2.0.0/16', remoteTs: '10.1.0.0/16', startAction: 'none' }));
    sun = spawnDaemon(['--config', sunConf, '--port', String(ps), '--natt-port', String(pns), '--bind', '127.0.0.1']);
    await waitFor(() => /listening/.test(sun!.output()), 20_000, () => sun!.output());

    const address = `@cygnet-notify-test-${process.pid}`;
    const rx = new UnixDatagramSocket().bind(address);
    const got = collect(rx);
    // The spawned daemon inherits these (as systemd sets them for a Type=notify service with WatchdogSec=).
    process.env['NOTIFY_SOCKET'] = address;
    process.env['WATCHDOG_USEC'] = '400000';
    try {
      moon = spawnDaemon(['--config', moonConf, '--port', String(pm), '--natt-port', String(pnm), '--bind', '127.0.0.1']);
    } finally {
      delete process.env['NOTIFY_SOCKET'];
      delete process.env['WATCHDOG_USEC'];
    }
    try {
      await waitFor(() => got.messages.some((m) => m.includes('READY=1')), 20_000, () => `${got.messages.join('|')}\n${moon!.output()}`);
      const ready = got.messages.find((m) => m.includes('READY=1'))!;
      // Readiness comes after the start-action CHILD SA: the log has it established before READY was sent.
      expect(ready).toContain('STATUS=1 IKE_SA up, 1 CHILD_SA\n');
      expect(ready).toContain(`MAINPID=${moon.child.pid}\n`);
      expect(moon.output()).toMatch(/CHILD_SA net\{\d+\} established[\s\S]*told systemd READY=1 \(1 of 1 start-action CHILD_SAs up\)/);
      // WATCHDOG=1 at half of WATCHDOG_USEC (200 ms): several within a second.
      const before = got.messages.filter((m) => m === 'WATCHDOG=1\n').length;
      await new Promise((r) => setTimeout(r, 1000));
      expect(got.messages.filter((m) => m === 'WATCHDOG=1\n').length - before).toBeGreaterThanOrEqual(3);

      moon.signal('SIGHUP');
      await waitFor(() => got.messages.some((m) => m.startsWith('RELOADING=1\nMONOTONIC_USEC=')), 10_000, () => got.messages.join('|'));
      const i = got.messages.findIndex((m) => m.startsWith('RELOADING=1'));
      await waitFor(() => got.messages.slice(i + 1).some((m) => m.startsWith('READY=1')), 10_000, () => got.messages.join('|'));

      moon.signal('SIGTERM');
      expect(await moon.exited).toBe(0);
      await waitFor(() => got.messages.some((m) => m.startsWith('STOPPING=1')), 5_000, () => got.messages.join('|'));
      // Nothing in any datagram but KEY=VALUE lines.
      for (const m of got.messages) expect(m).toMatch(/^([A-Z_]+=[^\n]*\n)+$/);
    } finally {
      got.stop();
      rx.close();
    }
  }, 60_000);
});
