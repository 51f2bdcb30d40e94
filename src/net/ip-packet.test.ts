import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { internetChecksum, checksumAdjust, onesComplementSum } from './checksum.js';
import {
  IpPacketError,
  parseIpHeader,
  setIpv4HeaderChecksum,
  setTransportChecksum,
  verifyIpv4HeaderChecksum,
  verifyTransportChecksum,
} from './ip-packet.js';
import { buildIpv4, buildIpv6, tcpSegment, udpDatagram } from '../../test/helpers/packets.js';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

describe('internet checksum', () => {
  it('matches the classic IPv4 header example (checksum 0xb861)', () => {
    const h = hex('4500 0073 0000 4000 4011 0000 c0a8 0001 c0a8 00c7');
    expect(internetChecksum(h)).toBe(0xb861);
    expect(setIpv4HeaderChecksum(h)).toBe(0xb861);
    expect(verifyIpv4HeaderChecksum(h)).toBe(true);
    h[8] = 0x3f;
    expect(verifyIpv4HeaderChecksum(h)).toBe(false);
  });

  it('RFC 1071 section 3 example: sum of 0001 f203 f4f5 f6f7 is 0xddf2', () => {
    expect(onesComplementSum(hex('0001f203f4f5f6f7'))).toBe(0xddf2);
  });

  it('incremental update (RFC 1624) equals a full recompute', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 2, maxLength: 64 }), fc.nat(31), fc.integer({ min: 0, max: 0xffff }), (data, wi, nw) => {
        const buf = data.length % 2 ? Uint8Array.from([...data, 0]) : data.slice();
        const w = (wi % (buf.length / 2)) * 2;
        const before = internetChecksum(buf);
        const old = (buf[w]! << 8) | buf[w + 1]!;
        buf[w] = nw >>> 8;
        buf[w + 1] = nw & 0xff;
        const full = internetChecksum(buf);
        const inc = checksumAdjust(before, old, nw);
        // 0x0000 and 0xffff are both "zero" in one's complement; RFC 1624 eqn 3 yields the canonical form.
        expect(inc === full || (inc ^ full) === 0xffff).toBe(true);
      }),
    );
  });
});

describe('parseIpHeader', () => {
  it('reads an IPv4 TCP packet', () => {
    const p = buildIpv4('10.0.0.1', '192.168.1.2', 6, tcpSegment({ srcPort: 4321, dstPort: 80, flags: 0x02 }));
    const h = parseIpHeader(p);
    expect(h.version).toBe(4);
    expect(h.protocol).toBe(6);
    expect([...h.src]).toEqual([10, 0, 0, 1]);
    expect([...h.dst]).toEqual([192, 168, 1, 2]);
    expect(h.srcPort).toBe(4321);
    expect(h.dstPort).toBe(80);
    expect(h.headerLength).toBe(20);
    expect(h.fragment).toBe(false);
    expect(verifyIpv4HeaderChecksum(p)).toBe(true);
    expect(verifyTransportChecksum(p)).toBe(true);
  });

  it('reads an IPv4 UDP packet and an ICMP echo', () => {
    const u = buildIpv4('10.0.0.1', '10.0.0.2', 17, udpDatagram(500, 4500, new Uint8Array(13)));
    expect(parseIpHeader(u)).toMatchObject({ protocol: 17, srcPort: 500, dstPort: 4500 });
    expect(verifyTransportChecksum(u)).toBe(true);
    const icmp = buildIpv4('10.0.0.1', '10.0.0.2', 1, hex('0800000000010001'));
    expect(parseIpHeader(icmp)).toMatchObject({ protocol: 1, icmpType: 8, icmpCode: 0 });
  });

  it('has no ports for a non-first IPv4 fragment', () => {
    const p = buildIpv4('10.0.0.1', '10.0.0.2', 17, udpDatagram(1, 2, new Uint8Array(8)));
    p[6] = 0x00;
    p[7] = 0x10; // offset 16*8
    setIpv4HeaderChecksum(p);
    const h = parseIpHeader(p);
    expect(h.fragment).toBe(true);
    expect(h.transportOffset).toBe(-1);
    expect(h.srcPort).toBeUndefined();
  });

  it('walks IPv6 extension headers to TCP', () => {
    // Hop-by-hop (8 bytes, padding) then a destination options header (16 bytes), then TCP.
    const tcp = tcpSegment({ srcPort: 1000, dstPort: 22, flags: 0x12 });
    const hbh = Uint8Array.from([60, 0, 1, 4, 0, 0, 0, 0]);
    const dst = Uint8Array.from([6, 1, 1, 12, ...new Array<number>(12).fill(0)]);
    const p = buildIpv6('2001:db8::1', '2001:db8::2', 0, Uint8Array.from([...hbh, ...dst, ...tcp]), 6);
    const h = parseIpHeader(p);
    expect(h.version).toBe(6);
    expect(h.protocol).toBe(6);
    expect(h.headerLength).toBe(40 + 8 + 16);
    expect(h.srcPort).toBe(1000);
    expect(h.dstPort).toBe(22);
    expect(verifyTransportChecksum(p)).toBe(true);
  });

  it('stops at a non-first IPv6 fragment', () => {
    const frag = Uint8Array.from([17, 0, 0x00, 0x08 << 3, 0, 0, 0, 1]);
    const p = buildIpv6('::1', '::2', 44, Uint8Array.from([...frag, ...new Array<number>(8).fill(0)]));
    const h = parseIpHeader(p);
    expect(h.fragment).toBe(true);
    expect(h.protocol).toBe(17);
    expect(h.transportOffset).toBe(-1);
  });

  it('rejects bad input with typed errors naming the cause and offset', () => {
    const cases: Array<[Uint8Array, string]> = [
      [new Uint8Array(0), 'TRUNCATED'],
      [hex('45000014'), 'TRUNCATED'],
      [hex('7500001400000000401100000a0000010a000002'), 'BAD_VERSION'],
      [hex('4400001400000000401100000a0000010a000002'), 'BAD_HEADER_LENGTH'],
      [hex('4500001000000000401100000a0000010a000002'), 'BAD_TOTAL_LENGTH'],
      [hex('4500002000000000401100000a0000010a000002'), 'TRUNCATED'],
    ];
    for (const [p, code] of cases) {
      try {
        parseIpHeader(p);
        expect.unreachable(`no error for ${code}`);
      } catch (e) {
        expect(e).toBeInstanceOf(IpPacketError);
        expect((e as IpPacketError).code).toBe(code);
        expect((e as Error).message).toMatch(/at byte \d+/);
      }
    }
  });

  it('never throws anything but IpPacketError on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 120 }), fc.constantFrom(0x40, 0x45, 0x46, 0x60), (bytes, first) => {
        const p = bytes.length ? Uint8Array.from([first, ...bytes.subarray(1)]) : bytes;
        try {
          const h = parseIpHeader(p);
          expect(h.totalLength).toBeLessThanOrEqual(p.length);
          if (h.transportOffset >= 0) expect(h.transportOffset).toBeLessThanOrEqual(h.totalLength);
          setTransportChecksum(p.slice(), h);
        } catch (e) {
          expect(e).toBeInstanceOf(IpPacketError);
        }
      }),
      { numRuns: 3000 },
    );
  });
});
