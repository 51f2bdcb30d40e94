import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { NetlinkMonitor, parseIpMonitorLine, type NetlinkEvent } from './netlink-monitor.js';

// Lines of `ip -o monitor address link` (iproute2 6.1) captured in a network namespace while a veth pair was
// created, addressed, brought down and deleted.
const CAPTURE = [
  '2: h9b@NONE: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN group default \\    link/ether 2a:ce:34:51:bb:26 brd ff:ff:ff:ff:ff:ff',
  '3: h9a@h9b: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default \\    link/ether 6a:6e:4e:5f:02:6b brd ff:ff:ff:ff:ff:ff',
  '3: h9a    inet 198.51.100.77/24 scope global h9a\\       valid_lft forever preferred_lft forever',
  '3: h9a    inet6 2001:db8:77::1/64 scope global tentative \\       valid_lft forever preferred_lft forever',
  'Deleted 3: h9a    inet 198.51.100.77/24 scope global h9a\\       valid_lft forever preferred_lft forever',
  '3: h9a@h9b: <BROADCAST,MULTICAST> mtu 1500 qdisc noqueue state DOWN group default \\    link/ether 6a:6e:4e:5f:02:6b brd ff:ff:ff:ff:ff:ff',
  'Deleted 3: h9a    inet6 fe80::686e:4eff:fe5f:26b/64 scope link tentative \\       valid_lft forever preferred_lft forever',
  'Deleted 3: h9a@NONE: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN group default \\    link/ether 6a:6e:4e:5f:02:6b brd ff:ff:ff:ff:ff:ff',
];

const canNetns = process.getuid?.() === 0 && spawnSync('ip', ['netns', 'list']).status === 0;
if (!canNetns) console.log('[skip] netlink monitor in a namespace: needs root and `ip netns`');

describe('ip monitor lines -> rtnetlink events', () => {
  it('parses RTM_NEWADDR/DELADDR and RTM_NEWLINK/DELLINK lines', () => {
    expect(CAPTURE.map(parseIpMonitorLine)).toEqual([
      { type: 'link', index: 2, ifname: 'h9b', up: false, flags: ['BROADCAST', 'MULTICAST'] },
      { type: 'link', index: 3, ifname: 'h9a', up: true, flags: ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'] },
      { type: 'address-added', index: 3, ifname: 'h9a', address: '198.51.100.77', prefixLength: 24, family: 4, scope: 'global', tentative: false },
      { type: 'address-added', index: 3, ifname: 'h9a', address: '2001:db8:77::1', prefixLength: 64, family: 6, scope: 'global', tentative: true },
      { type: 'address-removed', index: 3, ifname: 'h9a', address: '198.51.100.77', prefixLength: 24, family: 4, scope: 'global' },
      { type: 'link', index: 3, ifname: 'h9a', up: false, flags: ['BROADCAST', 'MULTICAST'] },
      { type: 'address-removed', index: 3, ifname: 'h9a', address: 'fe80::686e:4eff:fe5f:26b', prefixLength: 64, family: 6, scope: 'link' },
      { type: 'link-removed', index: 3, ifname: 'h9a' },
    ]);
  });

  it('ignores what it does not describe (labels, blank lines, other objects)', () => {
    expect(parseIpMonitorLine('')).toBeUndefined();
    expect(parseIpMonitorLine('10.0.0.0/8 via 192.0.2.1 dev eth0')).toBeUndefined();
    expect(parseIpMonitorLine('[ADDR]3: eth0    inet 192.0.2.5/24 scope global eth0')).toMatchObject({ type: 'address-added', address: '192.0.2.5' });
  });

  it('feeds partial chunks as whole lines and reports a link only when its state changes', () => {
    const m = new NetlinkMonitor();
    const seen: NetlinkEvent[] = [];
    m.onEvent((e) => seen.push(e));
    const text = `${CAPTURE[1]}\n${CAPTURE[1]}\n${CAPTURE[2]}\n`;
    m.feed(text.slice(0, 50));
    expect(seen).toEqual([]);
    m.feed(text.slice(50));
    expect(seen.map((e) => e.type)).toEqual(['link', 'address-added']);
  });

  it('a monitor command that cannot run is a failure with the reason, not a crash', async () => {
    const m = new NetlinkMonitor({ command: ['/nonexistent/ip', 'monitor'] });
    expect(await m.start()).toBe(false);
    expect(m.failure).toMatch(/cannot run \/nonexistent\/ip: .*ENOENT/);
  });

  it('the monitor does not outlive its process, even one killed with SIGKILL', async () => {
    // A Node process that starts a monitor (here `sleep`, named by its argument) and is then SIGKILLed.
    const src = `import { NetlinkMonitor } from ${JSON.stringify(new URL('./netlink-monitor.ts', import.meta.url).pathname)};
const m = new NetlinkMonitor({ command: ['sleep', '30'] });
await m.start(); console.log('started'); setInterval(() => {}, 1000);`;
    const { spawn } = await import('node:child_process');
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', src], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => child.stdout.on('data', (d: Buffer) => d.toString().includes('started') && resolve()));
    const alive = (pid: string) => spawnSync('kill', ['-0', pid]).status === 0;
    const guard = spawnSync('pgrep', ['-P', String(child.pid), '-x', 'sh']).stdout.toString().trim().split('\n')[0] ?? '';
    expect(guard).not.toBe('');
    // The monitor (sleep, exec'd by its own sh) runs under the guard, and keeps running while its parent lives.
    await new Promise((r) => setTimeout(r, 300));
    const monitor = spawnSync('pgrep', ['-f', `^sleep 30$`, '-P', guard]).stdout.toString().trim();
    expect(monitor, 'the monitor runs').not.toBe('');
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const until = Date.now() + 3000;
    while (Date.now() < until && (alive(guard) || alive(monitor))) await new Promise((r) => setTimeout(r, 50));
    expect(alive(monitor), `monitor ${monitor} outlived its process`).toBe(false);
    expect(alive(guard), `guard ${guard} outlived its process`).toBe(false);
  }, 20_000);

  it.skipIf(!canNetns)('sees an address appear and go in a network namespace (root)', async () => {
    const ns = `cyg-nlm-${process.pid}`;
    const ip = (...a: string[]) => spawnSync('ip', ['netns', 'exec', ns, 'ip', ...a], { encoding: 'utf8' });
    spawnSync('ip', ['netns', 'add', ns]);
    try {
      const m = new NetlinkMonitor({ command: ['ip', 'netns', 'exec', ns, 'ip', '-o', 'monitor', 'address', 'link'] });
      const seen: NetlinkEvent[] = [];
      m.onEvent((e) => seen.push(e));
      expect(await m.start()).toBe(true);
      await new Promise((r) => setTimeout(r, 300));
      ip('link', 'set', 'lo', 'up');
      ip('addr', 'add', '198.51.100.9/32', 'dev', 'lo');
      ip('addr', 'del', '198.51.100.9/32', 'dev', 'lo');
      const until = Date.now() + 3000;
      while (Date.now() < until && !seen.some((e) => e.type === 'address-removed' && e.address === '198.51.100.9')) await new Promise((r) => setTimeout(r, 50));
      m.stop();
      expect(seen.find((e) => e.type === 'address-added' && e.address === '198.51.100.9')).toMatchObject({ ifname: 'lo', prefixLength: 32, family: 4 });
      expect(seen.some((e) => e.type === 'address-removed' && e.address === '198.51.100.9')).toBe(true);
    } finally {
      spawnSync('ip', ['netns', 'del', ns]);
    }
  });
});
