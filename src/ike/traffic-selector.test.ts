import { describe, expect, it } from 'vitest';
import { formatTrafficSelector, narrow, parseTrafficSelector, type TrafficSelector, TrafficSelectorError, isSubset, resolveConfigured } from './traffic-selector.js';
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
