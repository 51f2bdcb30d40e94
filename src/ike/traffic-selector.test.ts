import { describe, expect, it } from 'vitest';
import { compareAddr, formatTrafficSelector, narrow, parseTrafficSelector, prefixRange, type TrafficSelector, TrafficSelectorError, isSubset, resolveConfigured } from './traffic-selector.js';
import { formatIp } from '../net/ip-address.js';
import { parseIp } from '../net/ip-address.js';

const ts = (s: string): TrafficSelector => parseTrafficSelector(s) as TrafficSelector;

describe('traffic selectors', () => {
  it('parses subnets, hosts, ranges, protocols and ports', () => {
    expect(formatTrafficSelector(ts('10.1.0.0/16'))).toBe('10.1.0.0/16');
    expect(formatTrafficSelector(ts('10.1.2.3'))).toBe('10.1.2.3/32');
    expect(formatTrafficSelector(ts('10.1.0.1-10.1.0.9'))).toBe('10.1.0.1..10.1.0.9');
    expect(formatTrafficSelector(ts('10.0.0.0/8[tcp/80]'))).toBe('10.0.0.0/8[tcp/80]');
    expect(formatTrafficSelector(ts('::/0'))).toBe('::/0');
    expect(formatTrafficSelector(ts('2001:db8::/32[udp/1000-2000]'))).toBe('2001:db8::/32[udp/1000-2000]');
    expect(parseTrafficSelector('dynamic')).toEqual({ dynamic: true, ipProtocol: 0, startPort: 0, endPort: 65535 });
  });
  it('names the bad part of a selector', () => {
    expect(() => parseTrafficSelector('10.0.0.0/33')).toThrow(/bad prefix length/);
    expect(() => parseTrafficSelector('10.0.0.300/24')).toThrow(TrafficSelectorError);
    expect(() => parseTrafficSelector('10.0.0.0/8[xyz]')).toThrow(/unknown protocol 'xyz'/);
    expect(() => parseTrafficSelector('10.0.0.0/8[tcp/90-80]')).toThrow(/bad port range/);
  });
  it('narrows as RFC 7296 2.9 describes', () => {
    // Initiator proposes 0.0.0.0/0; responder allows 10.1.0.0/16 and 10.2.0.0/16: both intersections are returned.
    const got = narrow([ts('0.0.0.0/0')], [ts('10.1.0.0/16'), ts('10.2.0.0/16')]);
    expect(got.map(formatTrafficSelector)).toEqual(['10.1.0.0/16', '10.2.0.0/16']);
    // Protocol narrowing: any vs tcp gives tcp; disjoint gives nothing.
    expect(narrow([ts('10.0.0.0/8')], [ts('10.0.0.0/8[tcp/80]')]).map(formatTrafficSelector)).toEqual(['10.0.0.0/8[tcp/80]']);
    expect(narrow([ts('10.0.0.0/8[udp]')], [ts('10.0.0.0/8[tcp]')])).toEqual([]);
    expect(narrow([ts('10.0.0.0/8')], [ts('::/0')])).toEqual([]);
    expect(isSubset(ts('10.1.0.0/16'), ts('10.0.0.0/8'))).toBe(true);
    expect(isSubset(ts('10.0.0.0/8'), ts('10.1.0.0/16'))).toBe(false);
  });
  it('resolves dynamic to host selectors', () => {
    const r = resolveConfigured([parseTrafficSelector('dynamic')], [parseIp('192.0.2.7')!]);
    expect(r.map(formatTrafficSelector)).toEqual(['192.0.2.7/32']);
  });
});

describe('address helpers', () => {
  const ip = (t: string): Uint8Array => {
    const a = parseIp(t);
    if (!a) throw new Error(t);
    return a;
  };

  it('compareAddr orders in network byte order and stays total across lengths', () => {
    expect(compareAddr(ip('10.0.0.1'), ip('10.0.0.2'))).toBeLessThan(0);
    expect(compareAddr(ip('10.0.1.0'), ip('10.0.0.255'))).toBeGreaterThan(0);
    expect(compareAddr(ip('fd00::1'), ip('fd00::1'))).toBe(0);
    // Mixed families never give NaN: the shorter sorts first where it runs out.
    expect(compareAddr(Uint8Array.of(0xfd, 0), ip('fd00::'))).toBeLessThan(0);
    expect(compareAddr(ip('fd00::'), Uint8Array.of(0xfd, 0))).toBeGreaterThan(0);
  });

  it('prefixRange masks every byte (RFC 4301 4.4.1 address ranges)', () => {
    const r = prefixRange(ip('10.3.77.9'), 20);
    expect([formatIp(r.start), formatIp(r.end)]).toEqual(['10.3.64.0', '10.3.79.255']);
    const v6 = prefixRange(ip('fd00:3::1234'), 116);
    expect([formatIp(v6.start), formatIp(v6.end)]).toEqual(['fd00:3::1000', 'fd00:3::1fff']);
    expect(formatIp(prefixRange(ip('10.3.77.9'), 0).end)).toBe('255.255.255.255');
  });
});
