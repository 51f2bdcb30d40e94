/**
 * The daemon's vici socket: `cygnet up/list-sas/list-conns/down/reload --socket PATH` against two daemons on
 * loopback, and Debian's own `swanctl --uri unix://PATH` where it is installed.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts, runCli, siteConf, spawnDaemon, waitFor, type DaemonProcess } from './harness.js';

const running: DaemonProcess[] = [];
afterEach(async () => {
  for (const d of running.splice(0)) d.kill();
});

const SWANCTL = ['/usr/sbin/swanctl', '/usr/bin/swanctl'].find((p) => existsSync(p));

async function cli(args: string[]): Promise<{ code: number; out: string }> {
  const p = runCli(args);
  const code = await p.exited;
  return { code, out: p.output() };
}

describe('cygnet daemon vici socket', () => {
  it('up, list-sas, list-conns, down, reload through the socket', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cygnet-vici-'));
    const [pa, pna, pb, pnb] = await freePorts(4);
    writeFileSync(join(dir, 'moon.conf'), siteConf({ localPort: pa!, remotePort: pb!, localId: 'moon.example', remoteId: 'sun.example', localTs: '10.1.0.0/16', remoteTs: '10.2.0.0/16', startAction: 'none' }));
    writeFileSync(join(dir, 'sun.conf'), siteConf({ localPort: pb!, remotePort: pa!, localId: 'sun.example', remoteId: 'moon.example', localTs: '10.2.0.0/16', remoteTs: '10.1.0.0/16', startAction: 'none' }));
    const moonSock = join(dir, 'moon.vici');
    const sunSock = join(dir, 'sun.vici');
    const sun = spawnDaemon(['--config', join(dir, 'sun.conf'), '--port', String(pb), '--natt-port', String(pnb), '--bind', '127.0.0.1', '--socket', sunSock]);
    const moon = spawnDaemon(['--config', join(dir, 'moon.conf'), '--port', String(pa), '--natt-port', String(pna), '--bind', '127.0.0.1', '--socket', moonSock]);
    running.push(sun, moon);
    await waitFor(() => sun.output().includes('daemon running') && moon.output().includes('daemon running'), 30_000, () => sun.output() + moon.output());

    // swanctl --initiate semantics: blocks until the CHILD SA is up, with the SA's log lines.
    const up = await cli(['up', 'net', '--socket', moonSock]);
    expect(up.code, up.out).toBe(0);
    expect(up.out).toMatch(/CHILD_SA net\{1\} established/);

    const ls = await cli(['list-sas', '--socket', sunSock]);
    expect(ls.code, ls.out).toBe(0);
    expect(ls.out).toMatch(/gw: #1, ESTABLISHED, IKEv2/);
    expect(ls.out).toMatch(/net: #1, reqid \d+, INSTALLED, TUNNEL(-in-UDP)?, ESP:AES_GCM_16-128/);
    expect(ls.out).toContain('10.2.0.0/16');

    const lc = await cli(['list-conns', '--socket', moonSock]);
    expect(lc.code, lc.out).toBe(0);
    expect(lc.out).toMatch(/gw: IKEv2/);

    if (SWANCTL) {
      const out = execFileSync(SWANCTL, ['--list-sas', '--uri', `unix://${sunSock}`], { encoding: 'utf8' });
      expect(out).toMatch(/gw: #1, ESTABLISHED, IKEv2/);
      const ver = execFileSync(SWANCTL, ['--version', '--daemon', '--uri', `unix://${moonSock}`], { encoding: 'utf8' });
      expect(ver).toMatch(/cygnet/);
    }

    // The responder deletes; the initiator honours it.
    const down = await cli(['down', 'gw', '--socket', sunSock]);
    expect(down.code, down.out).toBe(0);
    await waitFor(() => moon.output().includes('received DELETE for IKE_SA gw[1]'), 20_000, () => moon.output());
    const after = await cli(['list-sas', '--socket', moonSock]);
    expect(after.out).not.toMatch(/ESTABLISHED/);

    const rl = await cli(['reload', '--socket', moonSock]);
    expect(rl.code, rl.out).toBe(0);
    await waitFor(() => moon.output().includes('reloaded: 0 added, 0 removed, 0 changed, 1 unchanged'), 20_000, () => moon.output());

    sun.signal('SIGTERM');
    moon.signal('SIGTERM');
    expect(await sun.exited).toBe(0);
    expect(await moon.exited).toBe(0);
    expect(existsSync(moonSock)).toBe(false);
  }, 120_000);
});
