import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { clampTcpMss, mssForMtu } from './mss.js';
import { parseIpHeader, verifyTransportChecksum } from './ip-packet.js';
import { buildIpv4, buildIpv6, tcpSegment } from '../../test/helpers/packets.js';

function mssOf(p: Uint8Array): number | undefined {
  const h = parseIpHeader(p);
  const t = h.transportOffset;
  const end = t + (p[t + 12]! >>> 4) * 4;
  for (let i = t + 20; i < end; ) {
    const k = p[i]!;
    if (k === 0) break;
    if (k === 1) {
      i++;
      continue;
    }
    if (k === 2) return (p[i + 2]! << 8) | p[i + 3]!;
    i += p[i + 1]!;
  }
  return undefined;
}

describe('clampTcpMss', () => {
  it('clamps an IPv4 SYN and keeps the TCP checksum valid', () => {
    const p = buildIpv4('10.1.0.1', '10.2.0.1', 6, tcpSegment({ srcPort: 40000, dstPort: 443, flags: 0x02 }));
    expect(verifyTransportChecksum(p)).toBe(true);
    expect(clampTcpMss(p, 1360)).toBe('clamped');
    expect(mssOf(p)).toBe(1360);
    expect(verifyTransportChecksum(p)).toBe(true);
    // A second pass changes nothing.
    expect(clampTcpMss(p, 1360)).toBe('unchanged');
  });

  it('clamps a SYN-ACK on IPv6 with the MSS option at an odd offset (after one NOP)', () => {
    const opts = Uint8Array.from([1, 2, 4, 0x05, 0xa0, 1, 1, 0]); // NOP, MSS 1440, NOP, NOP, END
    const p = buildIpv6('2001:db8::1', '2001:db8:1::1', 6, tcpSegment({ srcPort: 22, dstPort: 50000, flags: 0x12, options: opts }));
    expect(verifyTransportChecksum(p)).toBe(true);
    expect(clampTcpMss(p, 1220)).toBe('clamped');
    expect(mssOf(p)).toBe(1220);
    expect(verifyTransportChecksum(p)).toBe(true);
  });

  it('leaves non-SYN, non-TCP, smaller MSS and MSS-less SYNs alone', () => {
    const ack = buildIpv4('10.1.0.1', '10.2.0.1', 6, tcpSegment({ srcPort: 1, dstPort: 2, flags: 0x10, options: Uint8Array.from([2, 4, 5, 0xb4]) }));
    expect(clampTcpMss(ack, 1000)).toBe('not-syn');
    expect(mssOf(ack)).toBe(1460);
    const udp = buildIpv4('10.1.0.1', '10.2.0.1', 17, new Uint8Array(12));
    expect(clampTcpMss(udp, 1000)).toBe('not-tcp');
    const small = buildIpv4('10.1.0.1', '10.2.0.1', 6, tcpSegment({ srcPort: 1, dstPort: 2, flags: 0x02, options: Uint8Array.from([2, 4, 0x02, 0x18]) }));
    expect(clampTcpMss(small, 1000)).toBe('unchanged');
    const none = buildIpv4('10.1.0.1', '10.2.0.1', 6, tcpSegment({ srcPort: 1, dstPort: 2, flags: 0x02, options: Uint8Array.from([1, 1, 4, 2]) }));
    expect(clampTcpMss(none, 1000)).toBe('no-mss-option');
    expect(clampTcpMss(Uint8Array.from([0x45, 0, 0]), 1000)).toBe('malformed');
  });

  it('reports malformed options without touching the packet', () => {
    const bad = buildIpv4('10.1.0.1', '10.2.0.1', 6, tcpSegment({ srcPort: 1, dstPort: 2, flags: 0x02, options: Uint8Array.from([3, 9, 0, 0]) }));
    const copy = bad.slice();
    expect(clampTcpMss(bad, 1000)).toBe('malformed');
    expect(bad).toEqual(copy);
  });

  it('property: after clamping, MSS = min(old, limit) and the checksum verifies, for any option placement', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 7 }),
        fc.integer({ min: 0, max: 0xffff }),
        fc.integer({ min: 0, max: 0xffff }),
        fc.boolean(),
        fc.uint8Array({ maxLength: 9 }),
        (nops, oldMss, limit, v6, payload) => {
          const opts = Uint8Array.from([...new Array<number>(nops).fill(1), 2, 4, oldMss >>> 8, oldMss & 0xff]);
          const seg = tcpSegment({ srcPort: 1234, dstPort: 80, flags: 0x02, options: opts, payload });
          const p = v6 ? buildIpv6('fd00::1', 'fd00::2', 6, seg) : buildIpv4('192.0.2.1', '198.51.100.7', 6, seg);
          const r = clampTcpMss(p, limit);
          expect(r).toBe(oldMss > limit ? 'clamped' : 'unchanged');
          expect(mssOf(p)).toBe(Math.min(oldMss, limit));
          expect(verifyTransportChecksum(p)).toBe(true);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('mssForMtu subtracts the minimal IP + TCP headers', () => {
    expect(mssForMtu(1400, 4)).toBe(1360);
    expect(mssForMtu(1400, 6)).toBe(1340);
  });
});

describe('clampTcpMss on arbitrary bytes', () => {
  it('never throws and never writes outside a SYN MSS option', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 100 }), fc.constantFrom(0x45, 0x46, 0x60), fc.integer({ min: 0, max: 0xffff }), (bytes, first, mss) => {
        const p = bytes.length ? Uint8Array.from([first, ...bytes.subarray(1)]) : bytes;
        const before = p.slice();
        const r = clampTcpMss(p, mss);
        if (r !== 'clamped') expect(p).toEqual(before);
        else {
          let changed = 0;
          for (let i = 0; i < p.length; i++) if (p[i] !== before[i]) changed++;
          expect(changed).toBeLessThanOrEqual(4); // 2 MSS bytes + 2 checksum bytes
        }
      }),
      { numRuns: 5000 },
    );
  });
});
