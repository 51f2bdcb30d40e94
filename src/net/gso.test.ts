import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildIpv4, buildIpv6, tcpSegment } from '../../test/helpers/packets.js';
import {
  coalesceTcp,
  completePartialChecksum,
  emptyVirtioNetHdr,
  readVirtioNetHdr,
  segmentTcp,
  VIRTIO_NET_HDR_F_NEEDS_CSUM,
  VIRTIO_NET_HDR_GSO_NONE,
  VIRTIO_NET_HDR_GSO_TCPV4,
  VIRTIO_NET_HDR_GSO_TCPV6,
  VIRTIO_NET_HDR_LEN,
  writeVirtioNetHdr,
  type TunWrite,
  type VirtioNetHdr,
} from './gso.js';
import { parseIpHeader, verifyIpv4HeaderChecksum, verifyTransportChecksum } from './ip-packet.js';
import { onesComplementSum, pseudoHeaderSum } from './checksum.js';

const TS_OPTS = Uint8Array.from([1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2]); // NOP NOP Timestamps

function payloadOf(n: number, seed = 1): Uint8Array {
  const p = new Uint8Array(n);
  for (let i = 0; i < n; i++) p[i] = (i * 31 + seed * 7) & 0xff;
  return p;
}

/** A super-packet as the kernel hands it over: one header, a big payload. */
function superPacket(v: 4 | 6, payload: Uint8Array, o: { flags?: number; seq?: number; options?: Uint8Array } = {}): Uint8Array {
  const tcp = tcpSegment({ srcPort: 40000, dstPort: 5201, flags: o.flags ?? 0x18, seq: o.seq ?? 0xfffff000, options: o.options ?? TS_OPTS, payload });
  return v === 4 ? buildIpv4('10.1.0.1', '10.2.0.1', 6, tcp) : buildIpv6('fd00::1', 'fd00::2', 6, tcp);
}

function gsoHdr(v: 4 | 6, pkt: Uint8Array, mss: number): VirtioNetHdr {
  const t = v === 4 ? 20 : 40;
  return { flags: VIRTIO_NET_HDR_F_NEEDS_CSUM, gsoType: v === 4 ? VIRTIO_NET_HDR_GSO_TCPV4 : VIRTIO_NET_HDR_GSO_TCPV6, hdrLen: t + (pkt[t + 12]! >> 4) * 4, gsoSize: mss, csumStart: t, csumOffset: 16 };
}

const taker = () => (n: number) => new Uint8Array(n);

describe('virtio_net_hdr', () => {
  it('round-trips little-endian fields', () => {
    const b = new Uint8Array(12);
    const h = { flags: 1, gsoType: 4, hdrLen: 74, gsoSize: 1348, csumStart: 40, csumOffset: 16 };
    writeVirtioNetHdr(b, 1, h);
    expect([...b.subarray(1, 11)]).toEqual([1, 4, 74, 0, 0x44, 0x05, 40, 0, 16, 0]);
    expect(readVirtioNetHdr(b, 1, emptyVirtioNetHdr())).toEqual(h);
  });
});

describe('segmentTcp (TSO on read)', () => {
  for (const v of [4, 6] as const) {
    for (const [size, mss] of [[10_000, 1348], [1348 * 4, 1348], [65_000 - 72, 1400], [1, 536], [2701, 1350]] as const) {
      it(`IPv${v}: ${size} bytes at MSS ${mss} -> valid segments with the last one short`, () => {
        const data = payloadOf(size);
        const pkt = superPacket(v, data, { flags: 0x19 /* ACK PSH FIN */ });
        const out: Uint8Array[] = [];
        const n = segmentTcp(pkt, gsoHdr(v, pkt, mss), taker(), out);
        expect(n).toBe(Math.ceil(size / mss));
        const t = v === 4 ? 20 : 40;
        const joined: number[] = [];
        out.forEach((seg, i) => {
          const h = parseIpHeader(seg);
          expect(h.totalLength).toBe(seg.length);
          if (v === 4) {
            expect(verifyIpv4HeaderChecksum(seg)).toBe(true);
            expect((seg[4]! << 8) | seg[5]!).toBe((0x1234 + i) & 0xffff);
          }
          expect(verifyTransportChecksum(seg)).toBe(true);
          const seq = new DataView(seg.buffer, seg.byteOffset).getUint32(t + 4);
          expect(seq).toBe((0xfffff000 + i * mss) >>> 0); // wraps past 2^32
          const last = i === out.length - 1;
          expect(seg[t + 13]).toBe(last ? 0x19 : 0x10);
          expect([...seg.subarray(t + 20, t + 32)]).toEqual([...TS_OPTS]);
          const plen = seg.length - t - 32;
          expect(plen).toBe(last ? size - mss * (out.length - 1) : mss);
          joined.push(...seg.subarray(t + 32));
        });
        expect(Buffer.from(joined)).toEqual(Buffer.from(data));
      });
    }
  }

  it('CWR stays on the first segment only', () => {
    const pkt = superPacket(4, payloadOf(3000), { flags: 0x90 });
    const out: Uint8Array[] = [];
    segmentTcp(pkt, gsoHdr(4, pkt, 1000), taker(), out);
    expect(out.map((s) => s[33])).toEqual([0x90, 0x10, 0x10]);
  });

  it('refuses what it cannot segment, naming the cause', () => {
    const pkt = superPacket(4, payloadOf(3000));
    const out: Uint8Array[] = [];
    expect(segmentTcp(pkt, { ...gsoHdr(4, pkt, 1000), gsoType: 3 }, taker(), out)).toMatchObject({ code: 'UNSUPPORTED_GSO' });
    expect(segmentTcp(pkt, { ...gsoHdr(4, pkt, 1000), gsoType: VIRTIO_NET_HDR_GSO_TCPV6 }, taker(), out)).toMatchObject({ code: 'BAD_HEADER' });
    expect(segmentTcp(pkt, { ...gsoHdr(4, pkt, 1000), csumStart: 2990 }, taker(), out)).toMatchObject({ code: 'BAD_HEADER' });
    expect(segmentTcp(pkt.subarray(0, 10), gsoHdr(4, pkt, 1000), taker(), out)).toMatchObject({ code: 'TRUNCATED' });
    expect(segmentTcp(pkt, { ...gsoHdr(4, pkt, 1000), gsoSize: 0 }, taker(), out)).toMatchObject({ code: 'BAD_HEADER' });
    let budget = 2;
    const r = segmentTcp(pkt, gsoHdr(4, pkt, 1000), (n) => (budget-- > 0 ? new Uint8Array(n) : undefined), out);
    expect(r).toMatchObject({ code: 'NO_BUFFER' });
    expect(out).toHaveLength(2);
  });

  it('completes a partial checksum (NEEDS_CSUM without GSO)', () => {
    const pkt = superPacket(4, payloadOf(777));
    const ok = Uint8Array.from(pkt);
    const ph = pseudoHeaderSum(pkt.subarray(12, 16), pkt.subarray(16, 20), 6, pkt.length - 20);
    pkt[36] = ph >>> 8;
    pkt[37] = ph & 0xff;
    expect(verifyTransportChecksum(pkt)).toBe(false);
    expect(completePartialChecksum(pkt, 20, 16)).toBeUndefined();
    expect(Buffer.from(pkt)).toEqual(Buffer.from(ok));
    expect(completePartialChecksum(pkt, 20, 5000)).toMatchObject({ code: 'BAD_HEADER' });
  });
});

/** Runs coalesceTcp and returns the writes (copied out of the scratch buffers). */
function coalesce(packets: Uint8Array[]): { hdr: VirtioNetHdr; pkt: Uint8Array; packets: number }[] {
  const scratch: Uint8Array[] = [];
  const out: { hdr: VirtioNetHdr; pkt: Uint8Array; packets: number }[] = [];
  coalesceTcp(packets, (i) => (scratch[i] ??= new Uint8Array(VIRTIO_NET_HDR_LEN + 65535)), (w: TunWrite) => {
    out.push({ hdr: readVirtioNetHdr(w.buffer, 0, emptyVirtioNetHdr()), pkt: w.buffer.slice(VIRTIO_NET_HDR_LEN, w.length), packets: w.packets });
  });
  return out;
}

/** What the kernel does with a coalesced write: complete the partial checksum, then it must verify. */
function kernelView(w: { hdr: VirtioNetHdr; pkt: Uint8Array }): Uint8Array {
  const p = Uint8Array.from(w.pkt);
  if (w.hdr.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) completePartialChecksum(p, w.hdr.csumStart, w.hdr.csumOffset);
  return p;
}

describe('coalesceTcp (GRO on write)', () => {
  for (const v of [4, 6] as const) {
    it(`IPv${v}: segments of one flow become one super-packet equal to the original; it segments back to them`, () => {
      const data = payloadOf(20_000, 3);
      const orig = superPacket(v, data, { flags: 0x18 });
      const segs: Uint8Array[] = [];
      segmentTcp(orig, gsoHdr(v, orig, 1348), taker(), segs);
      const writes = coalesce(segs);
      expect(writes).toHaveLength(1);
      const [w] = writes;
      expect(w!.packets).toBe(segs.length);
      expect(w!.hdr).toMatchObject({ flags: VIRTIO_NET_HDR_F_NEEDS_CSUM, gsoType: v === 4 ? VIRTIO_NET_HDR_GSO_TCPV4 : VIRTIO_NET_HDR_GSO_TCPV6, gsoSize: 1348, hdrLen: (v === 4 ? 20 : 40) + 32, csumStart: v === 4 ? 20 : 40, csumOffset: 16 });
      const full = kernelView(w!);
      if (v === 4) {
        expect(verifyIpv4HeaderChecksum(full)).toBe(true);
        full[4] = orig[4]!; // the ID is the first segment's
        full[5] = orig[5]!;
      }
      expect(verifyTransportChecksum(full)).toBe(true);
      expect(Buffer.from(full)).toEqual(Buffer.from(orig));
      // And back: segmenting the coalesced write gives the same segments.
      const again: Uint8Array[] = [];
      segmentTcp(w!.pkt, w!.hdr, taker(), again);
      expect(again.map((s) => Buffer.from(s))).toEqual(segs.map((s) => Buffer.from(s)));
    });
  }

  it('keeps packets that must not merge apart, in order', () => {
    const a = superPacket(4, payloadOf(2000), { flags: 0x10 });
    const sa: Uint8Array[] = [];
    segmentTcp(a, gsoHdr(4, a, 1000), taker(), sa);
    const udp = buildIpv4('10.1.0.1', '10.2.0.1', 17, new Uint8Array(16));
    const gap = superPacket(4, payloadOf(1000), { flags: 0x10, seq: 0xfffff000 + 5000 }); // not contiguous
    const syn = buildIpv4('10.1.0.1', '10.2.0.1', 6, tcpSegment({ srcPort: 1, dstPort: 2, flags: 0x02 }));
    const otherPort = buildIpv4('10.1.0.1', '10.2.0.1', 6, tcpSegment({ srcPort: 40001, dstPort: 5201, flags: 0x10, seq: 0xfffff000 + 2000, options: TS_OPTS, payload: payloadOf(1000) }));
    const writes = coalesce([sa[0]!, sa[1]!, udp, gap, syn, otherPort]);
    expect(writes.map((w) => w.packets)).toEqual([2, 1, 1, 1, 1]);
    expect(writes.slice(1).every((w) => w.hdr.gsoType === VIRTIO_NET_HDR_GSO_NONE && w.hdr.flags === 0)).toBe(true);
    expect(Buffer.from(writes[1]!.pkt)).toEqual(Buffer.from(udp));
    expect(Buffer.from(writes[4]!.pkt)).toEqual(Buffer.from(otherPort));
  });

  it('a short segment or PSH ends the super-packet; a longer one after a short one is not merged', () => {
    const mk = (seq: number, n: number, flags = 0x10) => buildIpv4('10.1.0.1', '10.2.0.1', 6, tcpSegment({ srcPort: 9, dstPort: 10, flags, seq, payload: payloadOf(n) }));
    const w = coalesce([mk(0, 100), mk(100, 100), mk(200, 50), mk(250, 100), mk(350, 100, 0x18), mk(450, 100)]);
    expect(w.map((x) => x.packets)).toEqual([3, 2, 1]);
    expect(w[1]!.pkt[33]! & 0x08).toBe(0x08); // PSH carried onto the super-packet
    for (const x of w) expect(verifyTransportChecksum(kernelView(x))).toBe(true);
  });

  it('different ACK, window or options do not merge (tcp_gro_receive flushes on them)', () => {
    const base = (seq: number, opts: Uint8Array = TS_OPTS) => buildIpv4('10.1.0.1', '10.2.0.1', 6, tcpSegment({ srcPort: 9, dstPort: 10, flags: 0x10, seq, options: opts, payload: payloadOf(100) }));
    const b = base(100);
    const ack = Uint8Array.from(b);
    ack[20 + 11] = ack[20 + 11]! ^ 1;
    const win = Uint8Array.from(b);
    win[20 + 15] = win[20 + 15]! ^ 1;
    const opt = base(100, Uint8Array.from([1, 1, 8, 10, 0, 0, 0, 9, 0, 0, 0, 2]));
    for (const second of [ack, win, opt]) expect(coalesce([base(0), second]).map((w) => w.packets)).toEqual([1, 1]);
    expect(coalesce([base(0), b]).map((w) => w.packets)).toEqual([2]);
  });

  it('never exceeds 65535 bytes', () => {
    const segs: Uint8Array[] = [];
    const big = superPacket(4, payloadOf(60_000));
    segmentTcp(big, gsoHdr(4, big, 1400), taker(), segs);
    const more = superPacket(4, payloadOf(30_000), { seq: (0xfffff000 + 60_000) >>> 0 });
    segmentTcp(more, gsoHdr(4, more, 1400), taker(), segs);
    const w = coalesce(segs);
    expect(w.length).toBeGreaterThan(1);
    for (const x of w) expect(x.pkt.length).toBeLessThanOrEqual(65535);
    expect(w.reduce((n, x) => n + x.packets, 0)).toBe(segs.length);
  });

  it('property: segment(coalesce(segments)) gives the segments back, for random sizes and MSS', () => {
    fc.assert(
      fc.property(fc.constantFrom(4, 6), fc.integer({ min: 1, max: 60_000 }), fc.integer({ min: 200, max: 1460 }), fc.integer({ min: 0, max: 0xffffffff }), (v, size, mss, seq) => {
        const orig = superPacket(v as 4 | 6, payloadOf(size, size), { seq, flags: 0x10 });
        const segs: Uint8Array[] = [];
        segmentTcp(orig, gsoHdr(v as 4 | 6, orig, mss), taker(), segs);
        const back: Uint8Array[] = [];
        for (const w of coalesce(segs)) {
          if (w.hdr.gsoType === VIRTIO_NET_HDR_GSO_NONE) back.push(w.pkt);
          else segmentTcp(w.pkt, w.hdr, taker(), back);
        }
        expect(back.map((s) => Buffer.from(s).toString('hex'))).toEqual(segs.map((s) => Buffer.from(s).toString('hex')));
        expect(onesComplementSum(new Uint8Array(0))).toBe(0);
      }),
      { numRuns: 150 },
    );
  });
});
