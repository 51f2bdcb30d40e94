/** `cygnet daemon --settings FILE`: applied and logged; a broken file exits 2 with file:line before anything starts. */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts, spawnDaemon } from './harness.js';

const dir = mkdtempSync(join(tmpdir(), 'cygnet-settings-cli-'));
const conf = join(dir, 'swanctl.conf');
writeFileSync(conf, 'connections {\n  gw {\n    remote_addrs = 127.0.0.1\n  }\n}\n');

describe('cygnet daemon --settings', () => {
  it('an invalid value exits 2 with file:line and binds nothing', async () => {
    const f = join(dir, 'bad.conf');
    writeFileSync(f, 'charon {\n  keep_alive = 2s\n  fragment_size = huge\n}\n');
    const p = spawnDaemon(['--config', conf, '--settings', f, '--port', '1', '--natt-port', '2']);
    expect(await p.exited).toBe(2);
    expect(p.output()).toContain(`${f}:3: `);
    expect(p.output()).toContain('fragment_size');
    expect(p.output()).not.toContain('listening');
    const m = spawnDaemon(['--config', conf, '--settings', join(dir, 'missing.conf')]);
    expect(await m.exited).toBe(2);
    expect(m.output()).toContain('missing.conf');
  });

  it('the knobs are loaded, unknown keys logged at cfg 2, and the daemon runs', async () => {
    const f = join(dir, 'strongswan.conf');
    writeFileSync(f, 'charon {\n  keep_alive = 2s\n  fragment_size = 500\n  threads = 8\n}\n');
    const [port, natt] = await freePorts(2);
    const p = spawnDaemon(['--config', conf, '--settings', f, '--debug', 'cfg 2', '--no-vici', '--bind', '127.0.0.1', '--port', String(port), '--natt-port', String(natt)]);
    const deadline = Date.now() + 60_000;
    while (!p.output().includes('daemon running') && Date.now() < deadline && p.child.exitCode === null) await new Promise((r) => setTimeout(r, 50));
    expect(p.output()).toContain(`loaded settings from ${f}: keepaliveMs 2000, fragmentSize 500`);
    expect(p.output()).toContain(`${f}:4: charon.threads is not used by cygnet, ignored`);
    // SIGHUP re-reads the settings file too, and the endpoint takes the new values.
    writeFileSync(f, 'charon {\n  keep_alive = 5s\n  fragment_size = 700\n}\n');
    p.signal('SIGHUP');
    const until = Date.now() + 30_000;
    while (!p.output().includes('applied changed charon.* settings') && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    expect(p.output()).toContain(`loaded settings from ${f}: keepaliveMs 5000, fragmentSize 700`);
    expect(p.output()).toContain('applied changed charon.* settings');
    p.signal('SIGTERM');
    expect(await p.exited, p.output()).toBe(0);
  });
});
