import { describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { linuxTunUnavailableReason, LinuxTun } from './linux.js';
import { TunError } from './types.js';

/** Why the real-device test cannot run here, or undefined. Printed, never silent. */
function skipReason(): string | undefined {
  if (process.platform !== 'linux') return `not Linux (${process.platform})`;
  if (process.getuid?.() !== 0) return 'not root: creating a TUN needs CAP_NET_ADMIN';
  if (!existsSync('/dev/net/tun')) return '/dev/net/tun does not exist';
  const lib = linuxTunUnavailableReason();
  if (lib) return lib;
  try {
    execFileSync('unshare', ['-n', 'true'], { stdio: 'pipe' });
  } catch {
    return 'unshare -n (a private network namespace) is not permitted here';
  }
  try {
    execFileSync('ip', ['-V'], { stdio: 'pipe' });
  } catch {
    return 'iproute2 `ip` is not installed';
  }
  return undefined;
}

const reason = skipReason();
if (reason) console.log(`[skip] LinuxTun tests: ${reason}`);

describe.skipIf(reason !== undefined)('LinuxTun (root, in a private network namespace)', () => {
  it.each(['thread', 'pool'])('reads what the kernel routes into it, writes what the kernel accepts, answers ping (v4 and v6), sets MTU, cleans up (%s waiter)', (waiter) => {
    const script = fileURLToPath(new URL('../../test/tun/linux-tun-netns.ts', import.meta.url));
    const r = spawnSync('unshare', ['-n', process.execPath, '--import', 'tsx', script, `--waiter=${waiter}`], { encoding: 'utf8', timeout: 30_000 });
    if (r.status !== 0) throw new Error(`netns script failed (${r.status}): ${r.stderr}`);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, any>;
    expect(out.name).toBe('cygt0');
    expect(out.secondOpen).toEqual({ code: 'IOCTL_FAILED', errno: 16 });
    expect(out.linkShow).toMatch(/POINTOPOINT.*NOARP.*UP/);
    expect(out.linkShow).toMatch(/mtu 1400/);
    expect(out.routeShow).toMatch(/198\.19\.0\.0\/16/);
    expect(out.read).toEqual({ src: '198.18.0.1', dst: '198.18.0.2', srcPort: expect.any(Number), dstPort: 9999, ipOk: true, udpOk: true, payload: 'hello tun' });
    expect(out.routedDst).toBe('198.19.5.5');
    expect(out.written).toBe(1);
    expect(out.socketGot).toEqual({ msg: 'hello back', from: '198.18.0.2', port: 9999 });
    expect(out.echoReply).toEqual({ src: '198.18.0.1', dst: '198.18.0.2', type: 0, id: 0x4242 });
    expect(out.echo6Reply).toEqual({ src: 'fd00:c0de::1', dst: 'fd00:c0de::2', type: 129, checksumOk: true });
    expect(out.mtuAfter).toBe('1280');
    expect(out.cleanupErrors).toEqual([]);
    expect(out.stats.errors).toBe(0);
    expect(out.stats.txPackets).toBe(3);
    expect(out.goneAfterClose).toBe(true);
  });

  it.each([
    ['both devices with offloads', []],
    ['one device without (coalesced writes into a plain TUN, segments from an offloaded one)', ['--plain-b']],
  ])('TCP offloads: 8 MB each way between two namespaces through two TUNs, %s', (_what, args) => {
    const script = fileURLToPath(new URL('../../test/tun/linux-tun-offload-netns.ts', import.meta.url));
    const r = spawnSync('unshare', ['-n', process.execPath, '--import', 'tsx', script, ...args], { encoding: 'utf8', timeout: 40_000 });
    if (r.status !== 0) throw new Error(`netns script failed (${r.status}): ${r.stderr}`);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, any>;
    expect(out.offload).toEqual({ a: true, b: args.length === 0, aError: null, bError: null });
    expect(out.transfer).toMatchObject({ clientGot: 8 * 1024 * 1024, clientShaOk: true, serverShaOk: true, serverExit: 0 });
    // The kernel really handed over super-packets and took coalesced ones back.
    expect(out.stats.a.superPacketsIn).toBeGreaterThan(10);
    expect(out.stats.a.segmentsIn).toBeGreaterThan(out.stats.a.superPacketsIn * 4);
    expect(out.stats.a.superPacketsOut).toBeGreaterThan(10);
    expect(out.stats.a.segmentErrors).toBe(0);
    if (args.length === 0) expect(out.stats.b.superPacketsIn).toBeGreaterThan(10);
    else expect(out.stats.b.superPacketsIn).toBe(0);
    expect(out.stats.a.errors + out.stats.b.errors).toBe(0);
    expect(out.cleanupErrors).toEqual([]);
    console.log(`LinuxTun offload (${_what}): 16 MB in ${out.transfer.ms} ms; A read ${out.stats.a.superPacketsIn} super-packets -> ${out.stats.a.segmentsIn} segments, wrote ${out.stats.a.superPacketsOut} coalesced`);
  });

  it('refuses bad options with typed errors', async () => {
    await expect(LinuxTun.open({ name: 'this-name-is-far-too-long' })).rejects.toMatchObject({ code: 'BAD_OPTION' });
    await expect(LinuxTun.open({ mtu: 100 })).rejects.toBeInstanceOf(TunError);
    await expect(LinuxTun.open({ batchSize: 0 })).rejects.toMatchObject({ code: 'BAD_OPTION' });
  });
});
