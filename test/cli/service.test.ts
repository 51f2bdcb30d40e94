import { afterAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_SERVICE_CONFIG, serviceUnit } from '../../src/cli/service.js';
import { runCli } from '../daemon/harness.js';

const ROOT = join(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'cygnet-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const hasAnalyze = spawnSync('systemd-analyze', ['--version']).status === 0;
if (!hasAnalyze) console.log('[skip] systemd-analyze verify tests: systemd-analyze is not installed (Debian package systemd; .ci/run installs it)');

/** systemd-analyze verify's complaints about `unit` (other units on the system may warn too: ignored). */
function verify(unit: string): string[] {
  const r = spawnSync('systemd-analyze', ['verify', unit], { encoding: 'utf8' });
  return `${r.stdout}${r.stderr}`.split('\n').filter((l) => l.includes(unit) || (l !== '' && !l.includes('/lib/systemd/') && !l.includes('/etc/systemd/')));
}

describe('systemd unit (cygnet install-service)', () => {
  it('packaging/systemd/cygnet.service is the unit install-service writes for /usr/bin/cygnet', () => {
    expect(readFileSync(join(ROOT, 'packaging/systemd/cygnet.service'), 'utf8')).toBe(
      serviceUnit(['/usr/bin/cygnet', 'daemon', '--config', DEFAULT_SERVICE_CONFIG, '--tun', 'cyg0', '--log-target', 'journal']),
    );
  });

  it('has the notify, watchdog, reload and hardening settings', () => {
    const u = serviceUnit(['/usr/bin/cygnet', 'daemon']);
    for (const line of [
      'Type=notify',
      'WatchdogSec=30s',
      'ExecReload=/bin/kill -HUP $MAINPID',
      'CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_BIND_SERVICE',
      'AmbientCapabilities=CAP_NET_ADMIN CAP_NET_BIND_SERVICE',
      'ProtectSystem=strict',
      'ReadWritePaths=/run',
      'LogsDirectory=cygnet',
      'PrivateTmp=yes',
      'NoNewPrivileges=yes',
      'DeviceAllow=/dev/net/tun rw',
    ])
      expect(u.split('\n'), line).toContain(line);
    expect(u).not.toMatch(/MemoryDenyWriteExecute|PrivateDevices/); // V8's JIT; /dev/net/tun
  });

  it.runIf(hasAnalyze)('install-service writes a unit for this installation that systemd-analyze verify accepts', async () => {
    const out = join(dir, 'cygnet.service');
    const r = runCli(['install-service', '--config', join(dir, 'swanctl.conf'), '--tun', 'vpn0', '--output', out, '--', '--debug', 'ike 2, cfg 1']);
    expect(await r.exited).toBe(0);
    expect(r.output()).toContain(`wrote ${out}`);
    const unit = readFileSync(out, 'utf8');
    const exec = unit.split('\n').find((l) => l.startsWith('ExecStart='))!;
    expect(exec).toContain(`ExecStart=${process.execPath} `);
    expect(exec).toContain(` daemon --config ${join(dir, 'swanctl.conf')} --tun vpn0 --log-target journal --debug "ike 2, cfg 1"`);
    expect(verify(out)).toEqual([]);
    // The command line runs from '/' as systemd starts it (no PATH lookups, no relative paths).
    const words = exec.slice('ExecStart='.length).split(' ');
    const cmd = words.slice(0, words.indexOf('daemon'));
    const v = spawnSync(cmd[0]!, [...cmd.slice(1), '--version'], { cwd: '/', encoding: 'utf8', env: { PATH: '/nonexistent' } });
    expect(v.stdout).toMatch(/^cygnet \d+\.\d+\.\d+\n$/);
  }, 30_000);

  it.runIf(hasAnalyze)('systemd-analyze verify would catch a broken unit (the check can fail)', () => {
    const bad = join(dir, 'bad.service');
    execFileSync('sh', ['-c', `printf '[Service]\\nType=notify\\nExecStart=/bin/true\\nProtectSystem=sometimes\\n' > ${bad}`]);
    expect(verify(bad).join('\n')).toMatch(/bad\.service:4: Failed to parse protect system value/);
  });
});
