/**
 * As root a daemon without --tun would negotiate SAs that carry nothing: the TUN is on by default there, named by
 * the kernel from cyg%d (issue 13); --no-tun turns it off; --tun and --no-tun together are a usage error. Run in a
 * private network namespace (`unshare -n`) so the host gets no TUN or route.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, runCli } from './harness.js';

const root = process.getuid?.() === 0 && spawnSync('unshare', ['-n', 'true']).status === 0;
if (!root) console.log('[skip] default TUN tests: need root and unshare -n');

const dir = mkdtempSync(join(tmpdir(), 'cygnet-default-tun-'));
const conf = join(dir, 'swanctl.conf');
writeFileSync(
  conf,
  `connections {
  gw {
    local_addrs = 127.0.0.1
    remote_addrs = 127.0.0.2
    local { auth = psk
      id = a.example }
    remote { auth = psk
      id = b.example }
    children { net { local_ts = 10.1.0.0/16
      remote_ts = 10.2.0.0/16 } }
  }
}
secrets { ike-1 { id = b.example
  secret = "default tun test secret" } }
`,
);

/** `cygnet daemon` in a fresh network namespace (lo up), stopped with SIGTERM once it runs; its output. */
function daemonInNetns(args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const cmd = `ip link set lo up && exec "${process.execPath}" --import tsx "${CLI}" daemon --config "${conf}" --no-vici --port 40500 --natt-port 44500 ${args.join(' ')}`;
    const child = spawn('unshare', ['-n', 'sh', '-c', cmd], { cwd: join(CLI, '..', '..', '..'), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const onData = (d: Buffer): void => {
      out += d.toString();
      if (/daemon running/.test(out)) child.kill('SIGTERM');
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const t = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('exit', (code) => {
      clearTimeout(t);
      resolve({ code: code ?? -1, out });
    });
  });
}

describe.runIf(root)('the TUN as root', () => {
  it('is opened by default (cyg%d), and not with --no-tun', async () => {
    const on = await daemonInNetns([]);
    expect(on.out).toMatch(/TUN device cyg\d+ \(MTU \d+\) attached/);
    expect(on.code).toBe(0);
    const off = await daemonInNetns(['--no-tun']);
    expect(off.out).toContain('daemon running');
    expect(off.out).not.toMatch(/TUN device/);
  }, 45_000);

  it('a TUN that cannot be opened ends the daemon with that error, before any socket (no SAs without a data path)', async () => {
    const p = runCli(['daemon', '--config', conf, '--tun', 'this-name-is-far-too-long', '--no-vici']);
    expect(await p.exited).toBe(1);
    expect(p.output()).toMatch(/cannot open TUN device 'this-name-is-far-too-long'.*longer than 15 bytes/);
    expect(p.output()).not.toContain('listening on');
  });

  it('--tun and --no-tun together are a usage error', async () => {
    const p = runCli(['daemon', '--config', conf, '--tun', 'cyg9', '--no-tun', '--no-vici']);
    expect(await p.exited).toBe(2);
    expect(p.output()).toContain('--tun NAME and --no-tun contradict each other');
  });
});
