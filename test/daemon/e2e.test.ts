/**
 * Two `cygnet daemon` processes on 127.0.0.1 with unprivileged ports bring up an IKE SA and a CHILD SA with a
 * PSK (start_action = start on one side), observed through their --status-file snapshots; SIGTERM on the
 * initiator sends an INFORMATIONAL Delete (RFC 7296 1.4.1) that the responder honours; both exit 0.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync, existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts, siteConf, spawnDaemon, waitFor, type DaemonProcess } from './harness.js';
import type { DaemonStatus } from '../../src/daemon/status.js';

function readStatus(path: string): DaemonStatus | undefined {
  if (!existsSync(path)) return undefined;
  return JSON.parse(readFileSync(path, 'utf8')) as DaemonStatus;
}

const running: DaemonProcess[] = [];
afterEach(async () => {
  for (const d of running.splice(0)) d.kill();
});

describe('cygnet daemon: two processes on loopback', () => {
  it('establish IKE + CHILD SA with PSK, and a SIGTERM Delete is honoured', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cygnet-e2e-'));
    const [pa, pna, pb, pnb] = await freePorts(4);
    writeFileSync(
      join(dir, 'moon.conf'),
      siteConf({ localPort: pa!, remotePort: pb!, localId: 'moon.example', remoteId: 'sun.example', localTs: '10.1.0.0/16', remoteTs: '10.2.0.0/16', startAction: 'start' }),
    );
    writeFileSync(
      join(dir, 'sun.conf'),
      siteConf({ localPort: pb!, remotePort: pa!, localId: 'sun.example', remoteId: 'moon.example', localTs: '10.2.0.0/16', remoteTs: '10.1.0.0/16', startAction: 'none' }),
    );
    const sunStatus = join(dir, 'sun.json');
    const moonStatus = join(dir, 'moon.json');
    // The responder first, so the initiator's IKE_SA_INIT is not lost to a closed port.
    const sun = spawnDaemon(['--config', join(dir, 'sun.conf'), '--port', String(pb), '--natt-port', String(pnb), '--bind', '127.0.0.1', '--status-file', sunStatus, '--debug', 'ike 2']);
    running.push(sun);
    await waitFor(() => readStatus(sunStatus)?.state === 'running' || sun.output().includes('daemon running'), 10_000, () => sun.output());
    const moon = spawnDaemon(['--config', join(dir, 'moon.conf'), '--port', String(pa), '--natt-port', String(pna), '--bind', '127.0.0.1', '--status-file', moonStatus, '--log-format', 'json', '--key-log', join(dir, 'moon.keys')]);
    running.push(moon);

    const up = (p: string) => {
      const s = readStatus(p);
      return s?.ikeSas[0]?.state === 'ESTABLISHED' && s.ikeSas[0].children.length === 1;
    };
    await waitFor(() => up(moonStatus) && up(sunStatus), 10_000, () => `moon:\n${moon.output()}\nsun:\n${sun.output()}`);

    const m = readStatus(moonStatus)!.ikeSas[0]!;
    const s = readStatus(sunStatus)!.ikeSas[0]!;
    expect(m.initiator).toBe(true);
    expect(s.initiator).toBe(false);
    expect(m.spiI).toBe(s.spiI);
    expect(m.spiR).toBe(s.spiR);
    expect(m.suite).toBe('AES_GCM_16-128/PRF_HMAC_SHA2_256/CURVE_25519');
    expect(s.suite).toBe(m.suite);
    expect(m.localId).toBe('moon.example');
    expect(s.remoteId).toBe('moon.example');
    const mc = m.children[0]!;
    const sc = s.children[0]!;
    expect(mc.spiIn).toBe(sc.spiOut);
    expect(mc.spiOut).toBe(sc.spiIn);
    expect(mc.suite).toBe('AES_GCM_16-128');
    expect(mc.localTs).toEqual(['10.1.0.0/16']);
    expect(sc.localTs).toEqual(['10.2.0.0/16']);
    // The strongSwan-worded lines a user looks for.
    expect(sun.output()).toMatch(/\[IKE\] \[gw\|1\] IKE_SA gw\[1\] established between 127\.0\.0\.1\[sun\.example\]\.\.\.127\.0\.0\.1\[moon\.example\]/);
    expect(sun.output()).toContain(`CHILD_SA net{1} established with SPIs ${sc.spiIn}_i ${sc.spiOut}_o and TS 10.2.0.0/16 === 10.1.0.0/16`);
    // --log-format json: every line is a JSON object.
    const jsonLines = moon.output().split('\n').filter((l) => l.startsWith('{'));
    expect(jsonLines.length).toBeGreaterThan(3);
    const upLine = jsonLines.map((l) => JSON.parse(l) as { group: string; level: number; message: string; ikeSaId?: number }).find((j) => j.message.includes('IKE_SA gw[1] established'));
    expect(upLine).toMatchObject({ group: 'ike', level: 0, ikeSaId: 1 });

    // --key-log: the IKE SA's and both ESP SAs' keys as JSON lines, readable by the owner only.
    const keyLines = readFileSync(join(dir, 'moon.keys'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, string>);
    expect(keyLines.find((k) => k['type'] === 'ike')).toMatchObject({ spiI: m.spiI, spiR: m.spiR, encr: 'AES_GCM_16' });
    expect(keyLines.filter((k) => k['type'] === 'esp').map((k) => k['spi']).sort()).toEqual([mc.spiIn, mc.spiOut].sort());
    expect(statSync(join(dir, 'moon.keys')).mode & 0o777).toBe(0o600);
    expect(moon.output()).not.toMatch(/"encrKey"|skEi/);

    // SIGTERM on the initiator: Delete sent, the responder removes the SA, the initiator exits 0.
    moon.signal('SIGTERM');
    expect(await moon.exited).toBe(0);
    await waitFor(() => readStatus(sunStatus)?.ikeSas.length === 0, 5_000, () => sun.output());
    expect(sun.output()).toContain('received DELETE for IKE_SA gw[1]');
    expect(readStatus(moonStatus)?.state).toBe('stopped');
    expect(readStatus(moonStatus)?.ikeSas).toEqual([]);

    sun.signal('SIGTERM');
    expect(await sun.exited).toBe(0);
  }, 20_000);
});
