/**
 * The addresses the daemon announces to MOBIKE peers (RFC 4555 3.4, issue 15): the filter (announce-addresses.ts)
 * and the driver's wiring: the filtered list reaches the IKE endpoint at start and again when an address appears.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseSwanctlConfig } from '../config/index.js';
import { announcedAddresses, isLinkLocal, type InterfaceList } from './announce-addresses.js';
import { toDaemonConfig } from './connections.js';
import { Daemon } from './driver.js';
import { interfaceAddresses } from './late-bind.js';
import { Logger } from './logger.js';

const conf = `connections {
  gw {
    remote_addrs = 203.0.113.1
    local { auth = psk }
    remote { auth = psk }
    children { net { local_ts = 10.1.0.0/24 } }
  }
}
secrets { ike { secret = x } }
`;

const ifaces: InterfaceList = {
  lo: [{ address: '127.0.0.1', internal: true }, { address: '10.1.0.1', internal: true }, { address: '::1', internal: true }],
  eth0: [{ address: '192.0.2.1', internal: false }, { address: 'fe80::1', internal: false }, { address: '2001:db8::1', internal: false }],
  eth1: [{ address: '198.51.100.1', internal: false }, { address: '169.254.7.7', internal: false }, { address: '192.0.2.1', internal: false }],
  cyg0: [{ address: '10.3.0.9', internal: false }],
  wg0: [{ address: '100.64.0.2', internal: false }],
};

describe('announced addresses (RFC 4555 3.4)', () => {
  it('leaves out loopback, link-local, the TUN device, virtual IPs and addresses without a socket', () => {
    const bound = (a: string) => a !== '2001:db8::1';
    expect(announcedAddresses(ifaces, { tun: 'cyg0', virtual: new Set(['100.64.0.2']), bound })).toEqual(['192.0.2.1', '198.51.100.1']);
    // Without a TUN device or virtual IPs those count.
    expect(announcedAddresses(ifaces, { virtual: new Set(), bound: () => true })).toEqual(['192.0.2.1', '2001:db8::1', '198.51.100.1', '10.3.0.9', '100.64.0.2']);
  });

  it('link-local: fe80::/10 and 169.254/16 only', () => {
    expect(['fe80::1', 'FEBF::2', 'fe9a::3', '169.254.0.1'].map(isLinkLocal)).toEqual([true, true, true, true]);
    expect(['fec0::1', 'fe8::1', '2001:db8::fe80', '169.25.4.1', '192.0.2.1'].map(isLinkLocal)).toEqual([false, false, false, false, false]);
  });
});

const running: Daemon[] = [];
afterEach(async () => {
  for (const d of running.splice(0)) await d.stop(0);
});

const until = async (f: () => boolean, ms = 3000): Promise<boolean> => {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 10))) if (f()) return true;
  return f();
};

describe('daemon: addresses for MOBIKE peers', () => {
  it('gives the endpoint the filtered list at start, and again once an address that appeared is bound', async () => {
    const present = interfaceAddresses();
    // 127.0.0.2/127.0.0.3 (bindable on Linux: lo holds 127/8) stand in for uplink addresses on eth0/eth1.
    const list: InterfaceList = {
      lo: [{ address: '127.0.0.1', internal: true }],
      eth0: [{ address: '127.0.0.2', internal: false }, { address: 'fe80::2', internal: false }],
      eth1: [{ address: '127.0.0.3', internal: false }, { address: '169.254.3.3', internal: false }],
    };
    const { config } = parseSwanctlConfig(conf, 'swanctl.conf');
    const lines: string[] = [];
    const d = new Daemon({ config: toDaemonConfig(config), logger: new Logger({ levels: new Map([['knl', 2], ['net', 2]]), write: (l) => void lines.push(l) }), port: 0, nattPort: 0, interfaceAddresses: () => present, interfaceList: () => list, addressPollMs: 20 });
    running.push(d);
    const seen: (readonly string[])[] = [];
    const set = d.endpoint.setLocalAddresses.bind(d.endpoint);
    vi.spyOn(d.endpoint, 'setLocalAddresses').mockImplementation((a, now) => {
      seen.push([...a]);
      set(a, now);
    });
    await d.start();
    // Neither 127.0.0.2 nor 127.0.0.3 is bound yet (not on a real interface): nothing to announce.
    expect(seen).toEqual([[]]);
    expect(lines.some((l) => l.endsWith('addresses for MOBIKE peers (RFC 4555 3.4): none'))).toBe(true);
    // 127.0.0.2 "appears" (local_addrs defaults to %any): bound by the poll, then announced.
    present.push('127.0.0.2');
    expect(await until(() => seen.length >= 2)).toBe(true);
    expect(seen.at(-1)).toEqual(['127.0.0.2']);
    expect(lines.some((l) => l.endsWith('addresses for MOBIKE peers (RFC 4555 3.4): 127.0.0.2'))).toBe(true);
  });
});
