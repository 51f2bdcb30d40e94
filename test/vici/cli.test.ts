/** `cygnet status|list-sas|list-conns|up|down|rekey|reload|stats|version` through runViciCli against the server. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ViciServer } from '../../src/vici/server.js';
import { registerViciCommands } from '../../src/vici/commands.js';
import { runViciCli } from '../../src/vici/cli.js';
import { FakeBackend } from './fake-backend.js';

let dir: string;
let path: string;
let server: ViciServer;
let backend: FakeBackend;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cygnet-cli-'));
  path = join(dir, 'cygnet.vici');
  backend = new FakeBackend();
  server = new ViciServer({ path });
  registerViciCommands(server, backend, { startedAt: 0, now: () => 3 * 86400 * 1000 + 5000 });
  await server.listen();
});
afterEach(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

async function cli(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runViciCli([...argv, '--socket', path], { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
  return { code, stdout, stderr };
}

describe('cygnet vici CLI', () => {
  it('version', async () => {
    const r = await cli('version');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^cygnet 0\.1\.0 \(Linux, \S+, \S+\)\n$/);
  });

  it('stats', async () => {
    const r = await cli('stats');
    expect(r.stdout.split('\n')[0]).toMatch(/^uptime: 3 days, since /);
    expect(r.stdout).toContain('IKE_SAs: 1 total, 0 half-open\n');
  });

  it('list-sas in swanctl shape, with --ike filter', async () => {
    const r = await cli('list-sas');
    expect(r.stdout.split('\n').slice(0, 2)).toEqual(['gw: #1, ESTABLISHED, IKEv2, 1d9da4e95529aa65_i* 4cb562015d8ca5f9_r', "  local  'moon' @ 192.0.2.1[4500]"]);
    expect((await cli('list-sas', '--ike', 'other')).stdout).toBe('');
    expect((await cli('list-sas', '--ike-id', '1')).stdout).toBe(r.stdout);
  });

  it('list-conns', async () => {
    const r = await cli('list-conns');
    expect(r.stdout.split('\n')[0]).toBe('gw: IKEv2, no reauthentication, rekeying every 14400s, dpd delay 30s');
  });

  it('status: version, uptime, connections, SAs', async () => {
    const r = await cli('status');
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^cygnet 0\.1\.0 \(Linux, .*\), up 3 days since /);
    expect(lines).toContain('Connections (1):');
    expect(lines).toContain('  gw: IKEv2, no reauthentication, rekeying every 14400s, dpd delay 30s');
    expect(lines).toContain('Security Associations (1 IKE_SAs, 0 half-open):');
    expect(lines).toContain('  gw: #1, ESTABLISHED, IKEv2, 1d9da4e95529aa65_i* 4cb562015d8ca5f9_r');
  });

  it('up NAME initiates the CHILD_SA and prints the control log', async () => {
    const r = await cli('up', 'net');
    expect(r).toEqual({ code: 0, stdout: '[IKE] initiating IKE_SA gw[7] to 192.0.2.2\n[CHD] CHILD_SA net{4} established\ninitiate completed successfully\n', stderr: '' });
    expect(backend.initiated).toEqual([{ child: 'net', timeoutMs: 0, logLevel: 1 }]);
  });

  it('up CONN falls back to the IKE_SA config when no CHILD_SA config has that name', async () => {
    const r = await cli('up', 'gw', '--timeout', '5', '--loglevel', '2');
    expect(r.code).toBe(0);
    expect(backend.initiated).toEqual([
      { child: 'gw', timeoutMs: 5000, logLevel: 2 },
      { ike: 'gw', timeoutMs: 5000, logLevel: 2 },
    ]);
  });

  it('up failure exits 1 with the errmsg', async () => {
    backend.initiateResult = { success: false, errmsg: 'peer did not answer' };
    const r = await cli('up', 'net', '--ike', 'gw');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('initiate failed: peer did not answer\n');
    expect(backend.initiated).toHaveLength(1);
  });

  it('down NAME: CHILD_SA first, then the IKE_SA of that name', async () => {
    const r = await cli('down', 'gw', '--force');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('terminate completed successfully');
    // The fake matches on ike only, so "child: gw" matched the IKE_SA already: one call.
    expect(backend.terminated[0]).toEqual({ child: 'gw', force: true, timeoutMs: 0, logLevel: 1 });
    const none = await cli('down', '--ike', 'nope');
    expect(none.code).toBe(1);
    expect(none.stderr).toBe('terminate failed: no matching SAs to terminate found\n');
  });

  it('rekey and reload', async () => {
    expect((await cli('rekey', 'net', '--reauth')).stdout).toBe('rekey completed successfully\n');
    expect(backend.rekeyed).toEqual([{ child: 'net', reauth: true }]);
    expect(await cli('reload')).toEqual({ code: 0, stdout: 'reload completed successfully\n', stderr: '' });
    backend.reloadResult = { success: false, errmsg: 'x.conf:1: oops' };
    expect(await cli('reload')).toEqual({ code: 1, stdout: '', stderr: 'reload failed: x.conf:1: oops\n' });
  });

  it('reload falls back to reload-settings on a daemon without `reload` (charon)', async () => {
    const s2 = new ViciServer({ path: join(dir, 'charon.vici') });
    s2.command('reload-settings', () => ({ success: 'yes' }));
    await s2.listen();
    let out = '';
    const code = await runViciCli(['reload', '--uri', `unix://${join(dir, 'charon.vici')}`], { stdout: (t) => (out += t), stderr: () => {} });
    await s2.close();
    expect(code).toBe(0);
    expect(out).toBe('reload completed successfully\n');
  });

  it('usage errors exit 2', async () => {
    expect((await cli('frobnicate')).code).toBe(2);
    expect((await cli('up')).code).toBe(2);
    expect((await cli('down')).code).toBe(2);
    expect((await cli('list-sas', '--bogus')).code).toBe(2);
    expect((await cli('up', 'net', '--timeout', 'soon')).code).toBe(2);
    expect((await cli('up', 'a', 'b')).code).toBe(2);
    const r = await runViciCli(['version', '--uri', 'tcp://1.2.3.4:4502'], { stdout: () => {}, stderr: () => {} });
    expect(r).toBe(2);
  });

  it('an unreachable daemon exits 1 with the socket named', async () => {
    let err = '';
    const code = await runViciCli(['status', '--socket', join(dir, 'none.vici')], { stdout: () => {}, stderr: (t) => (err += t) });
    expect(code).toBe(1);
    expect(err).toContain(join(dir, 'none.vici'));
  });
});
