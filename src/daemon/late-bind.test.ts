/** Late-appearing local addresses (issue 13): pending until listed and bindable, then bound once. */
import { describe, expect, it } from 'vitest';
import { addressChange, LateBinder, LinkAddresses } from './late-bind.js';
import { parseIpMonitorLine, type NetlinkEvent } from '../sys/netlink-monitor.js';

function binder(present: string[], bindable: Set<string>) {
  const bound: string[] = [];
  const logs: string[] = [];
  const b = new LateBinder({
    present: () => present,
    bind: async (a) => {
      if (!bindable.has(a)) throw new Error(`cannot bind UDP ${a}[500]: bind EADDRNOTAVAIL ${a}`);
      bound.push(a);
    },
    log: (level, m) => void logs.push(`${level} ${m}`),
  });
  return { b, bound, logs };
}

describe('late binding of local addresses', () => {
  it('logs a missing address once, binds it when it appears, and forgets it then', async () => {
    const present: string[] = ['127.0.0.1'];
    const bindable = new Set<string>();
    const { b, bound, logs } = binder(present, bindable);
    b.add('192.0.2.10');
    b.add('192.0.2.10');
    expect(logs).toEqual(['1 local address 192.0.2.10 is not present yet, binding it when it appears']);
    expect(await b.poll()).toEqual([]);
    expect(bound).toEqual([]);
    // Listed but still tentative (IPv6 DAD-like): the bind fails, it stays pending.
    present.push('192.0.2.10');
    expect(await b.poll()).toEqual([]);
    expect(b.waiting).toEqual(['192.0.2.10']);
    expect(logs.at(-1)).toMatch(/^2 local address 192.0.2.10 listed but not bindable yet: .*EADDRNOTAVAIL/);
    bindable.add('192.0.2.10');
    expect(await b.poll()).toEqual(['192.0.2.10']);
    expect(bound).toEqual(['192.0.2.10']);
    expect(b.waiting).toEqual([]);
    expect(logs.at(-1)).toBe('1 local address 192.0.2.10 appeared, bound it');
    expect(await b.poll()).toEqual([]);
    expect(bound).toEqual(['192.0.2.10']);
  });

  it('binds new interface addresses (wildcard local_addrs) that are not bound yet', async () => {
    const { b, bound } = binder(['127.0.0.1', '198.51.100.4'], new Set(['198.51.100.4', '127.0.0.1']));
    expect(await b.poll(['127.0.0.1', '198.51.100.4'], (a) => a === '127.0.0.1')).toEqual(['198.51.100.4']);
    expect(bound).toEqual(['198.51.100.4']);
  });
});

describe('rtnetlink events as address changes (netlink-monitor.ts -> late binding and address-gone signals)', () => {
  const ev = (line: string): NetlinkEvent => {
    const e = parseIpMonitorLine(line);
    if (!e) throw new Error(`not an event: ${line}`);
    return e;
  };
  it('a new global address appears; a tentative IPv6 one waits for DAD; link-local ones are not bound', () => {
    expect(addressChange(ev('3: eth1    inet 198.51.100.7/24 scope global eth1'))).toEqual({ appeared: ['198.51.100.7'], gone: [], why: 'RTM_NEWADDR on eth1' });
    expect(addressChange(ev('3: eth1    inet6 2001:db8::7/64 scope global tentative'))).toBeUndefined();
    expect(addressChange(ev('3: eth1    inet6 2001:db8::7/64 scope global'))).toEqual({ appeared: ['2001:db8::7'], gone: [], why: 'RTM_NEWADDR on eth1' });
    expect(addressChange(ev('3: eth1    inet6 fe80::1/64 scope link'))).toBeUndefined();
  });
  it('a removed address is gone; a link going down takes its addresses, coming up brings them back', () => {
    expect(addressChange(ev('Deleted 3: eth1    inet 198.51.100.7/24 scope global eth1'))).toEqual({ appeared: [], gone: ['198.51.100.7'], why: 'RTM_DELADDR on eth1' });
    const addrs = (n: string) => (n === 'eth1' ? ['198.51.100.7', 'fe80::1'] : []);
    expect(addressChange(ev('3: eth1: <BROADCAST,MULTICAST> mtu 1500 state DOWN'), addrs)).toEqual({ appeared: [], gone: ['198.51.100.7'], why: 'link eth1 down' });
    expect(addressChange(ev('3: eth1: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 state UP'), addrs)).toEqual({ appeared: ['198.51.100.7'], gone: [], why: 'link eth1 up' });
    expect(addressChange(ev('4: eth2: <BROADCAST,MULTICAST> mtu 1500 state DOWN'), addrs)).toBeUndefined();
    expect(addressChange(ev('Deleted 3: eth1: <BROADCAST,MULTICAST> mtu 1500 state DOWN'), addrs)).toBeUndefined();
  });
  it('a link that goes down reports the addresses rtnetlink gave it, though the interface list no longer shows it', () => {
    const book = new LinkAddresses({ eth0: [{ address: '192.0.2.1' }, { address: 'fe80::1' }], lo: [{ address: '127.0.0.1' }] });
    for (const line of ['3: eth0    inet 192.0.2.11/24 scope global eth0', 'Deleted 3: eth0    inet6 2001:db8::1/64 scope global']) {
      const e = ev(line);
      addressChange(e, (n) => book.of(n));
      book.apply(e);
    }
    expect(book.of('eth0')).toEqual(['192.0.2.1', 'fe80::1', '192.0.2.11']);
    const down = ev('3: eth0: <BROADCAST,MULTICAST> mtu 1500 state DOWN');
    expect(addressChange(down, (n) => book.of(n))).toEqual({ appeared: [], gone: ['192.0.2.1', '192.0.2.11'], why: 'link eth0 down' });
    book.apply(ev('Deleted 3: eth0    inet 192.0.2.11/24 scope global eth0'));
    expect(book.of('eth0')).toEqual(['192.0.2.1', 'fe80::1']);
    book.apply(ev('Deleted 3: eth0: <BROADCAST,MULTICAST> mtu 1500 state DOWN'));
    expect(book.of('eth0')).toEqual([]);
  });
});
