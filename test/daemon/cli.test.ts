/** The `cygnet` command line: version, usage errors, configuration errors (exit 2, nothing started), warnings. */
import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts, runCli, spawnDaemon } from './harness.js';

const dir = mkdtempSync(join(tmpdir(), 'cygnet-cli-'));

describe('cygnet CLI', () => {
  it('--version', async () => {
    const p = runCli(['--version']);
    expect(await p.exited, p.output()).toBe(0);
    expect(p.output()).toMatch(/^cygnet \d+\.\d+\.\d+/);
  });

  it('usage errors exit 2 and name the problem', async () => {
    const a = spawnDaemon(['--config', 'x', '--swanctl']);
    expect(await a.exited).toBe(2);
    expect(a.output()).toContain('--config FILE or --swanctl: give one');
    if (!existsSync('/etc/cygnet/swanctl.conf')) {
      // without --config: the default /etc/cygnet/swanctl.conf, named when it is missing
      const z = spawnDaemon([]);
      expect(await z.exited).toBe(2);
      expect(z.output()).toContain("cannot read '/etc/cygnet/swanctl.conf'");
    }
    const b = spawnDaemon(['--config', 'x', '--frobnicate']);
    expect(await b.exited).toBe(2);
    expect(b.output()).toContain("unknown option '--frobnicate'");
    const c = spawnDaemon(['--config', 'x', '--debug', 'ike loud']);
    expect(await c.exited).toBe(2);
    expect(c.output()).toContain("'ike loud'");
    const d = runCli(['frob']);
    expect(await d.exited).toBe(2);
  });

  it('a configuration error prints file:line and exits 2 without binding anything', async () => {
    const f = join(dir, 'bad.conf');
    writeFileSync(f, 'connections {\n  gw {\n    remote_port = 70000\n  }\n}\n');
    const p = spawnDaemon(['--config', f, '--port', '1', '--natt-port', '2']);
    expect(await p.exited).toBe(2);
    expect(p.output()).toContain(`${f}:3: `);
    expect(p.output()).not.toContain('listening');
  });

  it('a missing file is a configuration error too', async () => {
    const p = spawnDaemon(['--config', join(dir, 'nope.conf')]);
    expect(await p.exited).toBe(2);
    expect(p.output()).toContain('nope.conf');
  });

  it('warnings are printed with file:line and the daemon still runs', async () => {
    const f = join(dir, 'warn.conf');
    writeFileSync(f, 'connections {\n  gw {\n    remote_addrs = 127.0.0.1\n    if_id_in = 7\n    if_id_out = 8\n  }\n}\n');
    const [port, natt] = await freePorts(2);
    const p = spawnDaemon(['--config', f, '--bind', '127.0.0.1', '--port', String(port), '--natt-port', String(natt)]);
    const deadline = Date.now() + 60_000;
    while (!p.output().includes('daemon running') && Date.now() < deadline && p.child.exitCode === null) await new Promise((r) => setTimeout(r, 50));
    p.signal('SIGTERM');
    expect(await p.exited, p.output()).toBe(0);
    expect(p.output()).toMatch(new RegExp(`${f.replace(/[.]/g, '\\.')}:5: .*if_id_out`));
    expect(p.output()).toMatch(/:4: .*if_id_in/);
  });
});
