/**
 * The driver's local addresses (issue 13): a concrete local_addrs entry not on any interface does not stop the
 * daemon (it is bound when it appears, late-bind.ts), and with local_addrs %any new interface addresses are bound.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { parseSwanctlConfig } from '../config/index.js';
import { toDaemonConfig } from './connections.js';
import { Daemon } from './driver.js';
import { interfaceAddresses } from './late-bind.js';
import { Logger } from './logger.js';

const conf = (localAddrs: string) => `connections {
  gw {
    local_addrs = ${localAddrs}
    remote_addrs = 203.0.113.1
    local { auth = psk }
    remote { auth = psk }
    children { net { local_ts = 10.1.0.0/24 } }
  }
}
secrets { ike { secret = x } }
`;

const running: Daemon[] = [];
afterEach(async () => {
  for (const d of running.splice(0)) await d.stop(0);
});

function daemon(localAddrs: string, present: () => readonly string[]) {
  const lines: string[] = [];
  const { config } = parseSwanctlConfig(conf(localAddrs), 'swanctl.conf');
  // Port 0: the kernel picks free ports, so the test needs no privileges and collides with nothing.
  const d = new Daemon({ config: toDaemonConfig(config), logger: new Logger({ levels: new Map([['net', 2]]), write: (l) => void lines.push(l) }), port: 0, nattPort: 0, interfaceAddresses: present, addressPollMs: 20 });
  running.push(d);
  return { d, lines };
}

const until = async (f: () => boolean, ms = 2000): Promise<boolean> => {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 10))) if (f()) return true;
  return f();
};

describe('daemon: local addresses', () => {
  it('starts without a local_addrs address that is not there yet, says so, and keeps trying', async () => {
    const { d, lines } = daemon('127.0.0.1, 203.0.113.254', () => ['127.0.0.1', '203.0.113.254']);
    await d.start();
    expect(d.pendingAddresses()).toEqual(['203.0.113.254']);
    expect(lines.some((l) => l.endsWith('[NET] local address 203.0.113.254 is not present yet, binding it when it appears'))).toBe(true);
    expect(lines.find((l) => l.includes('listening on'))).toMatch(/listening on 127\.0\.0\.1\[\d+\](, 127\.0\.0\.1\[\d+\])*$/);
    // The (fake) interface list claims it, the kernel does not have it: the poll tries, fails, and keeps it pending.
    expect(await until(() => lines.some((l) => l.includes('local address 203.0.113.254 listed but not bindable yet')))).toBe(true);
    expect(d.pendingAddresses()).toEqual(['203.0.113.254']);
  });

  it('with local_addrs = %any, binds an interface address that appears after start', async () => {
    const present = interfaceAddresses();
    const { d, lines } = daemon('%any', () => present);
    await d.start();
    expect(lines.some((l) => l.includes('listening on') && l.includes('127.0.0.2'))).toBe(false);
    // 127.0.0.2 is bindable on Linux (lo holds 127/8): it stands in for an address that just came up.
    present.push('127.0.0.2');
    expect(await until(() => lines.some((l) => l.endsWith('[NET] local address 127.0.0.2 appeared, bound it')))).toBe(true);
    expect(lines.filter((l) => l.includes('listening on')).at(-1)).toMatch(/127\.0\.0\.2\[\d+\]/);
  });
});
