/** Virtual IP pools (RFC 7296 3.15, swanctl `pools`): parsing, leases per identity, sizes as --list-pools shows them. */
import { describe, expect, it } from 'vitest';
import { formatIp } from '../net/ip-address.js';
import { AddressPool, parsePool, PoolError } from './pool.js';

function range(name: string, addrs: string): [string, string] {
  const p = parsePool(name, addrs);
  return [formatIp(p.first), formatIp(p.last)];
}

describe('parsePool', () => {
  it('a subnet leaves out its network and broadcast addresses; ranges and single addresses are kept as given', () => {
    expect(range('a', '10.3.0.0/24')).toEqual(['10.3.0.1', '10.3.0.254']);
    expect(range('b', '10.3.0.0/31')).toEqual(['10.3.0.0', '10.3.0.1']);
    expect(range('c', '10.3.0.250-10.3.1.5')).toEqual(['10.3.0.250', '10.3.1.5']);
    expect(range('d', '10.3.0.7')).toEqual(['10.3.0.7', '10.3.0.7']);
    expect(range('e', 'fd00:3::/120')).toEqual(['fd00:3::1', 'fd00:3::fe']);
  });

  it('the borrow and carry cross byte boundaries', () => {
    expect(range('a', '10.3.0.0/23')).toEqual(['10.3.0.1', '10.3.1.254']);
    expect(range('b', '10.0.0.0/8')).toEqual(['10.0.0.1', '10.255.255.254']);
  });

  it.each([
    ['10.3.0.9-10.3.0.1', /pool p: bad range '10.3.0.9-10.3.0.1'/],
    ['10.3.0.1-fd00::1', /bad range/],
    ['10.3.0.1-nonsense', /bad range/],
    ['10.3.0.0/33', /pool p: bad prefix in '10.3.0.0\/33'/],
    ['10.3.0.0/x', /bad prefix/],
    ['example/24', /pool p: 'example\/24' is not an address, subnet or range/],
  ])('%s is a PoolError naming the pool and the text', (addrs, message) => {
    expect(() => parsePool('p', addrs)).toThrow(PoolError);
    expect(() => parsePool('p', addrs)).toThrow(message);
  });

  it('a DNS server that is not an address is a PoolError', () => {
    expect(() => parsePool('p', '10.3.0.0/24', ['dns.example'])).toThrow(/pool p: dns 'dns.example' is not an IP address/);
  });

  it('nbns, netmask and subnet are parsed; a subnet loses its host bits and a bare address is a host', () => {
    const p = parsePool('p', '10.3.0.0/24', [], { nbns: ['10.1.0.54', 'fd00::54'], netmask: ['255.255.240.0'], subnet: ['10.1.2.3/16', 'fd00:1::/64', '10.9.9.9'] });
    expect(p.nbns?.map(formatIp)).toEqual(['10.1.0.54', 'fd00::54']);
    expect(p.netmask?.map(formatIp)).toEqual(['255.255.240.0']);
    expect(p.subnets?.map((s) => `${formatIp(s.address)}/${s.prefix}`)).toEqual(['10.1.0.0/16', 'fd00:1::/64', '10.9.9.9/32']);
    const bare = parsePool('p', '10.3.0.0/24');
    expect([bare.nbns, bare.netmask, bare.subnets]).toEqual([undefined, undefined, undefined]);
  });

  it.each([
    [{ nbns: ['wins.example'] }, /pool p: nbns 'wins.example' is not an IP address/],
    [{ netmask: ['255.255.0'] }, /pool p: netmask '255.255.0' is not an address like 255.255.255.0/],
    [{ netmask: ['255.0.255.0'] }, /pool p: netmask '255.0.255.0' is not contiguous/],
    [{ subnet: ['intranet/16'] }, /pool p: subnet 'intranet\/16' is not a CIDR subnet like 10.1.0.0\/16/],
    [{ subnet: ['10.1.0.0/33'] }, /pool p: bad prefix in subnet '10.1.0.0\/33'/],
    [{ subnet: ['10.1.0.0/1x'] }, /pool p: bad prefix in subnet/],
    [{ subnet: ['fd00::/129'] }, /bad prefix in subnet 'fd00::\/129'/],
  ])('%j is a PoolError naming the pool, the key and the text', (attrs, message) => {
    expect(() => parsePool('p', '10.3.0.0/24', [], attrs)).toThrow(PoolError);
    expect(() => parsePool('p', '10.3.0.0/24', [], attrs)).toThrow(message);
  });
});

describe('AddressPool', () => {
  it('hands out addresses in order across a byte boundary, gives a peer its lease back, and reports sizes', () => {
    const pool = new AddressPool(parsePool('p', '10.3.0.254-10.3.1.1'));
    expect(pool.stats()).toEqual({ size: 4, online: 0, offline: 0 });
    expect(['a', 'b', 'c'].map((id) => pool.acquire(id))).toEqual(['10.3.0.254', '10.3.0.255', '10.3.1.0']);
    pool.release('10.3.0.255');
    expect(pool.stats()).toEqual({ size: 4, online: 2, offline: 1 });
    expect(pool.acquire('b')).toBe('10.3.0.255');
  });

  it('when full, reuses the lease of an offline peer, and is exhausted when all are online', () => {
    const pool = new AddressPool(parsePool('p', '10.3.0.10-10.3.0.11'));
    expect(pool.acquire('a')).toBe('10.3.0.10');
    expect(pool.acquire('b')).toBe('10.3.0.11');
    expect(pool.acquire('c')).toBeUndefined();
    pool.release('10.3.0.10');
    expect(pool.acquire('c')).toBe('10.3.0.10');
    expect(pool.stats()).toEqual({ size: 2, online: 2, offline: 0 });
  });

  it('counts an IPv6 pool', () => {
    expect(new AddressPool(parsePool('v6', 'fd00:3::/112')).stats().size).toBe(65534);
    expect(new AddressPool(parsePool('v6', 'fd00:3::/120')).family).toBe(6);
  });
});
