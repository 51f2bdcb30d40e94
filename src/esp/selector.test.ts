import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CompiledSelector, Ipv4Key, PacketFields, packetSelector, parseAddress, parseIpPacket, readIpv4Key, selector, SelectorSet } from './selector.js';
import { ipv4Packet, ipv6Packet } from './testing.js';

const fields = (p: Uint8Array): PacketFields => {
  const f = new PacketFields();
  expect(parseIpPacket(p, 0, p.length, f)).toBe(true);
  return f;
};

describe('selectors', () => {
  it('builds ranges from prefixes', () => {
    const s = selector('10.1.2.3/16');
    expect(Array.from(s.startAddr)).toEqual([10, 1, 0, 0]);
    expect(Array.from(s.endAddr)).toEqual([10, 1, 255, 255]);
    const h = selector('192.0.2.7');
    expect(Array.from(h.startAddr)).toEqual(Array.from(h.endAddr));
    const v6 = selector('2001:db8::/33');
    expect(Buffer.from(v6.startAddr).toString('hex')).toBe('20010db8000000000000000000000000');
    expect(Buffer.from(v6.endAddr).toString('hex')).toBe('20010db87fffffffffffffffffffffff');
    expect(Array.from(selector('0.0.0.0/0').endAddr)).toEqual([255, 255, 255, 255]);
    expect(() => selector('10.0.0.0/33')).toThrow(RangeError);
    expect(() => parseAddress('10.0.0')).toThrow(/not an IPv4 or IPv6 address/);
    expect(() => parseAddress('1::2::3')).toThrow(RangeError);
    expect(Buffer.from(parseAddress('::ffff:1:2')).toString('hex')).toBe('00000000000000000000ffff00010002');
  });

  it('refuses malformed selectors', () => {
    const bad = { startAddr: Uint8Array.of(10, 0, 0, 9), endAddr: Uint8Array.of(10, 0, 0, 1), ipProtocol: 0, startPort: 0, endPort: 65535 };
    expect(() => new CompiledSelector(bad)).toThrow(/start address above end/);
    expect(() => new CompiledSelector({ ...selector('10.0.0.0/8'), startPort: 10, endPort: 5 })).toThrow(/port range/);
    expect(() => new CompiledSelector({ ...selector('10.0.0.0/8'), ipProtocol: 300 })).toThrow(/protocol/);
  });

  it('matches addresses, protocol and ports; outbound and inbound directions', () => {
    const set = new SelectorSet([selector('10.1.0.0/16', 17, 1000, 2000)], [selector('10.2.0.0/16'), selector('192.168.0.0/24', 6)]);
    const m = (p: Uint8Array) => [set.matchesOutbound(p, fields(p)), set.matchesInbound(p, fields(p))];
    expect(m(ipv4Packet('10.1.0.1', '10.2.3.4', { sport: 1500 }))).toEqual([true, false]);
    expect(m(ipv4Packet('10.1.0.1', '10.2.3.4', { sport: 2001 }))).toEqual([false, false]);
    expect(m(ipv4Packet('10.1.0.1', '192.168.0.9', { sport: 1500 }))).toEqual([false, false]); // UDP vs TCP-only
    expect(m(ipv4Packet('10.2.3.4', '10.1.0.1', { dport: 1000 }))).toEqual([false, true]);
    expect(m(ipv6Packet('fd01::1', 'fd02::1'))).toEqual([false, false]); // family mismatch
  });

  it('IPv6 ranges, extension headers and fragments', () => {
    const set = new SelectorSet([selector('fd01::/64')], [selector('fd02::/64', 17, 53)]);
    const p = ipv6Packet('fd01::1', 'fd02::1', { dport: 53, size: 96 });
    expect(set.matchesOutbound(p, fields(p))).toBe(true);
    // Insert a hop-by-hop header (8 bytes) before UDP: ports must still be found.
    const hbh = new Uint8Array(p.length + 8);
    hbh.set(p.subarray(0, 40));
    hbh[6] = 0; // next header: hop-by-hop
    hbh[40] = 17; // its next header: UDP
    hbh[41] = 0; // length 8
    hbh.set(p.subarray(40), 48);
    hbh[5] = p[5]! + 8;
    const f = fields(hbh);
    expect([f.ipProtocol, f.srcPort, f.dstPort]).toEqual([17, 1234, 53]);
    expect(set.matchesOutbound(hbh, f)).toBe(true);
    // A non-first fragment has no readable ports: opaque, matches only "any port" selectors.
    const frag = new Uint8Array(p.length + 8);
    frag.set(p.subarray(0, 40));
    frag[6] = 44;
    frag[40] = 17;
    frag[42] = 0x01; // fragment offset 32 (non-zero)
    frag.set(p.subarray(40), 48);
    frag[5] = p[5]! + 8;
    const ff = fields(frag);
    expect([ff.ipProtocol, ff.srcPort, ff.dstPort]).toEqual([17, -1, -1]);
    expect(set.matchesOutbound(frag, ff)).toBe(false);
    expect(new SelectorSet([selector('fd01::/64')], [selector('fd02::/64', 17)]).matchesOutbound(frag, ff)).toBe(true);
  });

  it('ICMP type/code are the port (RFC 7296 section 3.13.1); IPv4 fragments are opaque', () => {
    const icmp = ipv4Packet('10.0.0.1', '10.0.0.2', { proto: 1, sport: 0x0800 });
    const f = fields(icmp);
    expect([f.srcPort, f.dstPort]).toEqual([0x0800, 0x0800]);
    const echoOnly = new SelectorSet([selector('10.0.0.0/8')], [selector('10.0.0.0/8', 1, 0x0800, 0x08ff)]);
    expect(echoOnly.matchesOutbound(icmp, f)).toBe(true);
    const frag = ipv4Packet('10.0.0.1', '10.0.0.2', { sport: 99 });
    frag[7] = 10; // fragment offset
    expect(fields(frag).srcPort).toBe(-1);
    expect(packetSelector(icmp, f)).toEqual({
      family: 4, srcAddr: Uint8Array.of(10, 0, 0, 1), dstAddr: Uint8Array.of(10, 0, 0, 2), ipProtocol: 1, srcPort: 0x0800, dstPort: 0x0800,
    });
  });

  it('parseIpPacket refuses what is not a whole IP packet', () => {
    const f = new PacketFields();
    const p = ipv4Packet('10.0.0.1', '10.0.0.2', { size: 60 });
    expect(parseIpPacket(p, 0, 59, f)).toBe(false); // IP length beyond the data
    expect(parseIpPacket(Uint8Array.of(0x45), 0, 1, f)).toBe(false);
    expect(parseIpPacket(Uint8Array.of(0x75, 0, 0, 20), 0, 4, f)).toBe(false);
    const badIhl = p.slice();
    badIhl[0] = 0x44;
    expect(parseIpPacket(badIhl, 0, badIhl.length, f)).toBe(false);
    expect(parseIpPacket(new Uint8Array(0), 0, 0, f)).toBe(false);
  });

  it('IPv4 range matching agrees with a numeric reference (fast-check)', () => {
    fc.assert(
      fc.property(fc.nat(0xffffffff), fc.nat(0xffffffff), fc.nat(0xffffffff), (x, y, a) => {
        const [lo, hi] = x <= y ? [x, y] : [y, x];
        const b = (n: number) => Uint8Array.of(n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255);
        const s = new SelectorSet([{ startAddr: b(lo), endAddr: b(hi), ipProtocol: 0, startPort: 0, endPort: 65535 }], [selector('0.0.0.0/0')]);
        const p = ipv4Packet('1.2.3.4', '5.6.7.8');
        p.set(b(a), 12);
        expect(s.matchesOutbound(p, fields(p))).toBe(a >= lo && a <= hi);
      }),
    );
  });

  it('the IPv4 fast path (readIpv4Key + matches*4) decides exactly as parseIpPacket + matchesInbound/Outbound', () => {
    // Selector sets mixing address ranges, protocols, port ranges and an IPv6 selector (never matches IPv4).
    const sets = [
      new SelectorSet([selector('10.1.0.0/16')], [selector('10.2.0.0/16')]),
      new SelectorSet([selector('10.1.0.0/16', 17, 1000, 2000), selector('fd01::/64')], [selector('10.2.0.0/16'), selector('192.168.0.0/24', 6)]),
      new SelectorSet([selector('0.0.0.0/0', 1, 0x0800, 0x0800)], [selector('10.2.0.0/15', 58), selector('255.255.255.255')]),
      new SelectorSet([selector('10.1.2.3', 132, 7, 7), selector('10.1.0.0/16', 136)], [selector('0.0.0.0/0', 0, 5678, 5678)]),
    ];
    const addrs = [[10, 1, 0, 5], [10, 1, 2, 3], [10, 2, 0, 9], [10, 3, 0, 1], [192, 168, 0, 77], [255, 255, 255, 255], [0, 0, 0, 0]];
    const protos = [1, 6, 17, 58, 132, 136, 50, 0, 255];
    const k = new Ipv4Key();
    const f = new PacketFields();
    let fast = 0;
    fc.assert(
      fc.property(
        fc.record({
          len: fc.integer({ min: 0, max: 64 }),
          version: fc.constantFrom(4, 4, 4, 6, 0, 5),
          ihl: fc.constantFrom(5, 5, 5, 6, 4, 0, 15),
          totalDelta: fc.integer({ min: -30, max: 4 }),
          frag: fc.constantFrom(0, 0, 0x4000, 0x2000, 0x0001, 0x1fff, 0x8000),
          proto: fc.constantFrom(...protos),
          src: fc.constantFrom(...addrs),
          dst: fc.constantFrom(...addrs),
          sport: fc.constantFrom(0, 7, 1000, 1500, 2001, 0x0800, 5678, 65535),
          dport: fc.constantFrom(0, 7, 1500, 0x0800, 5678, 65535),
          at: fc.integer({ min: 0, max: 3 }),
        }),
        (o) => {
          const buf = new Uint8Array(o.at + o.len + 2).fill(0xa5);
          const p = new Uint8Array(o.len);
          const hdr = [(o.version << 4) | o.ihl, 0, 0, 0, 0, 0, o.frag >>> 8, o.frag & 0xff, 64, o.proto, 0, 0, ...o.src, ...o.dst];
          const total = Math.max(0, Math.min(0xffff, o.len + o.totalDelta));
          hdr[2] = total >>> 8;
          hdr[3] = total & 0xff;
          for (let i = 0; i < o.len; i++) p[i] = hdr[i] ?? 0;
          const t = o.ihl * 4;
          const ports = [o.sport >>> 8, o.sport & 0xff, o.dport >>> 8, o.dport & 0xff];
          for (let i = 0; i < 4; i++) if (t + i < o.len) p[t + i] = ports[i]!;
          buf.set(p, o.at);
          const general = parseIpPacket(buf, o.at, o.len, f) && f.family === 4;
          expect(readIpv4Key(buf, o.at, o.len, k)).toBe(general);
          if (!general) return;
          fast++;
          expect([k.totalLength, k.proto, k.srcPort, k.dstPort]).toEqual([f.totalLength, f.ipProtocol, f.srcPort, f.dstPort]);
          for (const set of sets) {
            expect(set.matchesInbound4(k)).toBe(set.matchesInbound(buf, f));
            expect(set.matchesOutbound4(k)).toBe(set.matchesOutbound(buf, f));
          }
        },
      ),
      { numRuns: 5000, seed: 17 },
    );
    // The generator must reach the fast path often, or the comparison proves little.
    expect(fast).toBeGreaterThan(500);
  });

  it('the IPv4 fast path refuses what the general parser refuses, and IPv6', () => {
    const k = new Ipv4Key();
    const ok = ipv4Packet('10.1.0.5', '10.2.0.9', { size: 40 });
    expect(readIpv4Key(ok, 0, ok.length, k)).toBe(true);
    expect([k.src, k.dst, k.proto, k.srcPort, k.dstPort, k.totalLength]).toEqual([0x0a010005, 0x0a020009, 17, 1234, 5678, 40]);
    expect(readIpv4Key(ok, 0, 39, k)).toBe(false); // total length beyond the bytes given
    expect(readIpv4Key(ok, 0, 19, k)).toBe(false);
    const v6 = ipv6Packet('fd01::5', 'fd02::9');
    expect(readIpv4Key(v6, 0, v6.length, k)).toBe(false);
    const badIhl = ok.slice();
    badIhl[0] = 0x44;
    expect(readIpv4Key(badIhl, 0, badIhl.length, k)).toBe(false);
  });

  it('matchesInbound4 remembers only a tuple that matched: another one is checked, never answered from the cache', () => {
    const set = new SelectorSet([selector('10.2.0.0/16', 6, 80, 80)], [selector('10.1.0.0/16')]);
    const key = (src: number[], dst: number[], sport: number, dport: number): Ipv4Key => {
      const k = new Ipv4Key();
      const p = ipv4Packet(src.join('.'), dst.join('.'), { proto: 6, sport, dport });
      expect(readIpv4Key(p, 0, p.length, k)).toBe(true);
      return k;
    };
    const good = key([10, 1, 0, 5], [10, 2, 0, 9], 40000, 80);
    expect(set.matchesInbound4(good)).toBe(true);
    expect(set.matchesInbound4(good)).toBe(true);
    // One field off at a time after a cached match: each is decided by the selectors.
    expect(set.matchesInbound4(key([10, 3, 0, 5], [10, 2, 0, 9], 40000, 80))).toBe(false);
    expect(set.matchesInbound4(key([10, 1, 0, 5], [10, 4, 0, 9], 40000, 80))).toBe(false);
    expect(set.matchesInbound4(key([10, 1, 0, 5], [10, 2, 0, 9], 40000, 81))).toBe(false);
    const udp = key([10, 1, 0, 5], [10, 2, 0, 9], 40000, 80);
    udp.proto = 17;
    expect(set.matchesInbound4(udp)).toBe(false);
    expect(set.matchesInbound4(good)).toBe(true);
    // A fresh set has no match cached, whatever the key (all zero included).
    expect(new SelectorSet([selector('10.2.0.0/16')], [selector('10.1.0.0/16')]).matchesInbound4(new Ipv4Key())).toBe(false);
  });
});
