/**
 * TCP segmentation (TSO) and coalescing (GRO) for a TUN device opened with IFF_VNET_HDR (sans-IO: bytes in,
 * bytes out). The model is wireguard-go's tun/offload_linux.go: the kernel hands us TCP super-packets of up to
 * 64 KB with a virtio-net header, and takes such super-packets back, so its TCP stack works per 64 KB instead of
 * per 1400 bytes and the TUN costs one system call per super-packet.
 *
 * struct virtio_net_hdr (include/uapi/linux/virtio_net.h; little-endian on the TUN unless TUNSETVNETBE):
 *   u8 flags (NEEDS_CSUM = 1), u8 gso_type (NONE 0, TCPV4 1, UDP 3, TCPV6 4, UDP_L4 5, ECN 0x80),
 *   le16 hdr_len, le16 gso_size, le16 csum_start, le16 csum_offset.
 *
 * Reading (segment): a GSO_TCPV4/TCPV6 packet carries one IP+TCP header and up to 64 KB of payload, with the TCP
 * checksum field holding only the pseudo-header sum (CHECKSUM_PARTIAL). Each segment gets the header copied, the
 * IPv4 total length/ID/header checksum or the IPv6 payload length fixed, the TCP sequence number advanced, FIN and
 * PSH only on the last, CWR only on the first (as the kernel's tcp_gso_segment does), and a full TCP checksum
 * (RFC 793 3.1 with the pseudo-header of RFC 793 / RFC 8200 8.1), since segments leave through ESP to a peer that
 * expects complete packets.
 *
 * Writing (coalesce): consecutive in-order segments of one TCP flow whose headers agree in everything but the
 * lengths, IPv4 ID and checksums (the conditions of the kernel's tcp_gro_receive: same flags but PSH on the last,
 * same ACK, window and options; all segments but the last of the same size) become one super-packet with
 * GSO_TCPV4/TCPV6 and NEEDS_CSUM: the TCP checksum field holds the pseudo-header sum and the kernel completes or
 * trusts it. The inner packets were integrity-checked by ESP's ICV, so no payload checksum is computed here.
 */
import { onesComplementSum, pseudoHeaderSum } from './checksum.js';
import { CodedError } from '../util/coded-error.js';

export const VIRTIO_NET_HDR_LEN = 10;
export const VIRTIO_NET_HDR_F_NEEDS_CSUM = 1;
export const VIRTIO_NET_HDR_GSO_NONE = 0;
export const VIRTIO_NET_HDR_GSO_TCPV4 = 1;
export const VIRTIO_NET_HDR_GSO_UDP = 3;
export const VIRTIO_NET_HDR_GSO_TCPV6 = 4;
export const VIRTIO_NET_HDR_GSO_UDP_L4 = 5;
export const VIRTIO_NET_HDR_GSO_ECN = 0x80;

/** The largest IP packet a super-packet may become (IPv4 total length / IPv6 payload length are 16 bits). */
export const MAX_SUPER_PACKET = 65535;

export interface VirtioNetHdr {
  flags: number;
  gsoType: number;
  hdrLen: number;
  gsoSize: number;
  csumStart: number;
  csumOffset: number;
}

export function emptyVirtioNetHdr(): VirtioNetHdr {
  return { flags: 0, gsoType: 0, hdrLen: 0, gsoSize: 0, csumStart: 0, csumOffset: 0 };
}

/** Reads a virtio_net_hdr at `off` into `into` (no allocation in the read loop). */
export function readVirtioNetHdr(b: Uint8Array, off: number, into: VirtioNetHdr): VirtioNetHdr {
  into.flags = b[off]!;
  into.gsoType = b[off + 1]!;
  into.hdrLen = b[off + 2]! | (b[off + 3]! << 8);
  into.gsoSize = b[off + 4]! | (b[off + 5]! << 8);
  into.csumStart = b[off + 6]! | (b[off + 7]! << 8);
  into.csumOffset = b[off + 8]! | (b[off + 9]! << 8);
  return into;
}

export function writeVirtioNetHdr(b: Uint8Array, off: number, h: VirtioNetHdr): void {
  b[off] = h.flags;
  b[off + 1] = h.gsoType;
  b[off + 2] = h.hdrLen & 0xff;
  b[off + 3] = h.hdrLen >>> 8;
  b[off + 4] = h.gsoSize & 0xff;
  b[off + 5] = h.gsoSize >>> 8;
  b[off + 6] = h.csumStart & 0xff;
  b[off + 7] = h.csumStart >>> 8;
  b[off + 8] = h.csumOffset & 0xff;
  b[off + 9] = h.csumOffset >>> 8;
}

export type GsoErrorCode = 'TRUNCATED' | 'UNSUPPORTED_GSO' | 'BAD_HEADER' | 'NO_BUFFER';

export class GsoError extends CodedError<GsoErrorCode> {}

/**
 * Completes a CHECKSUM_PARTIAL packet (NEEDS_CSUM without GSO): the 16-bit field at csumStart + csumOffset holds
 * the pseudo-header sum; the checksum over [csumStart, end) is folded in and stored complemented.
 */
export function completePartialChecksum(pkt: Uint8Array, csumStart: number, csumOffset: number): GsoError | undefined {
  const at = csumStart + csumOffset;
  if (csumStart >= pkt.length || at + 2 > pkt.length) return new GsoError('BAD_HEADER', `csum_start ${csumStart} + csum_offset ${csumOffset} is outside a ${pkt.length}-byte packet`);
  const sum = onesComplementSum(pkt.subarray(csumStart));
  const c = ~sum & 0xffff;
  pkt[at] = c >>> 8;
  pkt[at + 1] = c & 0xff;
  return undefined;
}

/**
 * Splits a GSO TCP super-packet into segments of at most `hdr.gsoSize` payload bytes. `take(n)` returns a view of
 * exactly n writable bytes (a pooled buffer with headroom) or undefined when the pool is exhausted; each segment is
 * pushed to `out`. Returns the number of segments, or a GsoError (segments made before a NO_BUFFER stay in `out`).
 */
export function segmentTcp(pkt: Uint8Array, hdr: VirtioNetHdr, take: (n: number) => Uint8Array | undefined, out: Uint8Array[]): number | GsoError {
  const gso = hdr.gsoType & ~VIRTIO_NET_HDR_GSO_ECN;
  if (gso !== VIRTIO_NET_HDR_GSO_TCPV4 && gso !== VIRTIO_NET_HDR_GSO_TCPV6) return new GsoError('UNSUPPORTED_GSO', `gso_type ${hdr.gsoType} is not TCPv4/TCPv6`);
  if (pkt.length < 20) return new GsoError('TRUNCATED', `${pkt.length}-byte super-packet`);
  const v4 = gso === VIRTIO_NET_HDR_GSO_TCPV4;
  if (pkt[0]! >> 4 !== (v4 ? 4 : 6)) return new GsoError('BAD_HEADER', `gso_type TCPv${v4 ? 4 : 6} on an IPv${pkt[0]! >> 4} packet`);
  // The transport header starts at csum_start (the kernel sets it for every GSO packet; it also covers IPv6
  // extension headers).
  const t = hdr.csumStart;
  const ipHdrLen = v4 ? (pkt[0]! & 0x0f) * 4 : 40;
  if (t < ipHdrLen || t + 20 > pkt.length) return new GsoError('BAD_HEADER', `csum_start ${t} does not point at a TCP header in a ${pkt.length}-byte packet`);
  const tcpHdrLen = (pkt[t + 12]! >> 4) * 4;
  if (tcpHdrLen < 20 || t + tcpHdrLen > pkt.length) return new GsoError('BAD_HEADER', `TCP data offset ${tcpHdrLen} at ${t} in a ${pkt.length}-byte packet`);
  const hdrLen = t + tcpHdrLen;
  const mss = hdr.gsoSize;
  if (mss < 1) return new GsoError('BAD_HEADER', `gso_size ${mss}`);
  const payload = pkt.length - hdrLen;
  const src = v4 ? pkt.subarray(12, 16) : pkt.subarray(8, 24);
  const dst = v4 ? pkt.subarray(16, 20) : pkt.subarray(24, 40);
  const seq0 = ((pkt[t + 4]! << 24) | (pkt[t + 5]! << 16) | (pkt[t + 6]! << 8) | pkt[t + 7]!) >>> 0;
  const flags = pkt[t + 13]!;
  const id0 = v4 ? (pkt[4]! << 8) | pkt[5]! : 0;
  let n = 0;
  for (let off = 0; off < payload || (payload === 0 && n === 0); off += mss) {
    const plen = Math.min(mss, payload - off);
    const seg = take(hdrLen + plen);
    if (!seg) return new GsoError('NO_BUFFER', `no buffer for segment ${n + 1} of ${Math.ceil(payload / mss)}`);
    seg.set(pkt.subarray(0, hdrLen), 0);
    seg.set(pkt.subarray(hdrLen + off, hdrLen + off + plen), hdrLen);
    const first = off === 0;
    const last = off + mss >= payload;
    if (v4) {
      const total = hdrLen + plen;
      seg[2] = total >>> 8;
      seg[3] = total & 0xff;
      const id = (id0 + n) & 0xffff;
      seg[4] = id >>> 8;
      seg[5] = id & 0xff;
      seg[10] = 0;
      seg[11] = 0;
      const c = ~onesComplementSum(seg.subarray(0, ipHdrLen)) & 0xffff;
      seg[10] = c >>> 8;
      seg[11] = c & 0xff;
    } else {
      const pl = hdrLen - 40 + plen;
      seg[4] = pl >>> 8;
      seg[5] = pl & 0xff;
    }
    const seq = (seq0 + off) >>> 0;
    seg[t + 4] = seq >>> 24;
    seg[t + 5] = (seq >>> 16) & 0xff;
    seg[t + 6] = (seq >>> 8) & 0xff;
    seg[t + 7] = seq & 0xff;
    let f = flags;
    if (!last) f &= ~0x09; // FIN, PSH only on the last segment
    if (!first) f &= ~0x80; // CWR only on the first
    seg[t + 13] = f;
    seg[t + 16] = 0;
    seg[t + 17] = 0;
    const tcpLen = tcpHdrLen + plen;
    const c = ~onesComplementSum(seg.subarray(t, hdrLen + plen), pseudoHeaderSum(src, dst, 6, tcpLen)) & 0xffff;
    seg[t + 16] = c >>> 8;
    seg[t + 17] = c & 0xff;
    out.push(seg);
    n++;
    if (payload === 0) break;
  }
  return n;
}

/** What a TCP segment looks like for coalescing; undefined when it is not a candidate. */
interface TcpView {
  v4: boolean;
  ipHdrLen: number;
  tcpHdrLen: number;
  payload: number;
  seq: number;
  flags: number;
}

const view: TcpView = { v4: true, ipHdrLen: 0, tcpHdrLen: 0, payload: 0, seq: 0, flags: 0 };

/**
 * Fills `view` for a plain IPv4 (no options, not a fragment) or IPv6 (no extension headers) TCP segment whose
 * lengths agree with the buffer, carrying only ACK (and maybe PSH); returns false otherwise.
 */
function tcpView(p: Uint8Array): boolean {
  if (p.length < 40) return false;
  const ver = p[0]! >> 4;
  let ip: number;
  if (ver === 4) {
    if ((p[0]! & 0x0f) !== 5 || p[9] !== 6) return false;
    if (((p[2]! << 8) | p[3]!) !== p.length) return false;
    if ((p[6]! & 0x3f) !== 0 || p[7] !== 0) return false; // MF or a fragment offset
    ip = 20;
    view.v4 = true;
  } else if (ver === 6) {
    if (p.length < 60 || p[6] !== 6) return false;
    if (((p[4]! << 8) | p[5]!) + 40 !== p.length) return false;
    ip = 40;
    view.v4 = false;
  } else return false;
  const th = (p[ip + 12]! >> 4) * 4;
  if (th < 20 || ip + th > p.length) return false;
  const flags = p[ip + 13]!;
  // Only ACK, optionally PSH: SYN, FIN, RST, URG, ECE, CWR end coalescing (tcp_gro_receive flushes on them).
  if ((flags & ~0x08) !== 0x10) return false;
  view.ipHdrLen = ip;
  view.tcpHdrLen = th;
  view.payload = p.length - ip - th;
  view.seq = ((p[ip + 4]! << 24) | (p[ip + 5]! << 16) | (p[ip + 6]! << 8) | p[ip + 7]!) >>> 0;
  view.flags = flags;
  return view.payload > 0;
}

/** Whether b's headers match a's where a coalesced flow must agree (addresses, ports, ACK, window, options...). */
function sameFlow(a: Uint8Array, b: Uint8Array, v4: boolean, hdrLen: number): boolean {
  if (v4) {
    // Version/IHL, TOS; TTL, protocol; addresses. (Total length, ID, flags/offset and checksum may differ.)
    if (a[0] !== b[0] || a[1] !== b[1] || a[8] !== b[8] || a[9] !== b[9]) return false;
    if ((a[6]! & 0x40) !== (b[6]! & 0x40)) return false; // DF
    for (let i = 12; i < 20; i++) if (a[i] !== b[i]) return false;
  } else {
    // Version, traffic class, flow label; next header, hop limit; addresses.
    for (let i = 0; i < 4; i++) if (a[i] !== b[i]) return false;
    for (let i = 6; i < 40; i++) if (a[i] !== b[i]) return false;
  }
  const t = v4 ? 20 : 40;
  // Ports; ACK number; data offset; window; urgent pointer; options. (Sequence, flags' PSH and checksum differ.)
  for (let i = t; i < t + 4; i++) if (a[i] !== b[i]) return false;
  for (let i = t + 8; i < t + 13; i++) if (a[i] !== b[i]) return false;
  for (let i = t + 14; i < t + 16; i++) if (a[i] !== b[i]) return false;
  for (let i = t + 18; i < hdrLen; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * One write for the TUN: `length` bytes of `buffer` starting with a virtio_net_hdr. Either a plain packet behind a
 * zero header or a coalesced super-packet.
 */
export interface TunWrite {
  readonly buffer: Uint8Array;
  readonly length: number;
  /** How many of the input packets this write carries. */
  readonly packets: number;
}

/**
 * Groups `packets` (in order) into TUN writes with virtio-net headers: runs of adjacent segments of one TCP flow
 * become one super-packet; everything else is written as it is behind a zero header. `scratch` provides the
 * output buffers: `scratch(i)` returns a buffer of at least VIRTIO_NET_HDR_LEN + MAX_SUPER_PACKET bytes for write
 * i (reused across calls: the writes must be consumed before the next call). `emit` receives each write.
 */
export function coalesceTcp(packets: readonly Uint8Array[], scratch: (i: number) => Uint8Array, emit: (w: TunWrite) => void): void {
  const H = VIRTIO_NET_HDR_LEN;
  let w = 0;
  let i = 0;
  while (i < packets.length) {
    const first = packets[i]!;
    const buf = scratch(w++);
    if (!tcpView(first) || view.flags & 0x08) {
      // Not a candidate (or PSH: the flow wants it delivered now): as it is, behind a zero header.
      buf.fill(0, 0, H);
      buf.set(first, H);
      emit({ buffer: buf, length: H + first.length, packets: 1 });
      i++;
      continue;
    }
    const v4 = view.v4;
    const ipHdrLen = view.ipHdrLen;
    const hdrLen = ipHdrLen + view.tcpHdrLen;
    const gsoSize = view.payload;
    let nextSeq = (view.seq + gsoSize) >>> 0;
    let total = first.length;
    buf.set(first, H);
    let count = 1;
    let psh = false;
    let j = i + 1;
    for (; j < packets.length; j++) {
      const p = packets[j]!;
      if (!tcpView(p) || view.v4 !== v4 || view.ipHdrLen !== ipHdrLen || ipHdrLen + view.tcpHdrLen !== hdrLen) break;
      if (view.seq !== nextSeq || view.payload > gsoSize || total + view.payload > MAX_SUPER_PACKET) break;
      if (!sameFlow(first, p, v4, hdrLen)) break;
      buf.set(p.subarray(hdrLen), H + total);
      total += view.payload;
      nextSeq = (nextSeq + view.payload) >>> 0;
      count++;
      if (view.flags & 0x08) psh = true;
      // A short segment or PSH ends the super-packet (all but the last must be gso_size long).
      if (psh || view.payload < gsoSize) {
        j++;
        break;
      }
    }
    const out = buf.subarray(H, H + total);
    if (count === 1) {
      buf.fill(0, 0, H);
      emit({ buffer: buf, length: H + total, packets: 1 });
      i = j;
      continue;
    }
    const t = ipHdrLen;
    if (v4) {
      out[2] = total >>> 8;
      out[3] = total & 0xff;
      out[10] = 0;
      out[11] = 0;
      const c = ~onesComplementSum(out.subarray(0, 20)) & 0xffff;
      out[10] = c >>> 8;
      out[11] = c & 0xff;
    } else {
      const pl = total - 40;
      out[4] = pl >>> 8;
      out[5] = pl & 0xff;
    }
    if (psh) out[t + 13] = out[t + 13]! | 0x08;
    // CHECKSUM_PARTIAL: the field holds the pseudo-header sum (not complemented); the kernel does the rest.
    const src = v4 ? out.subarray(12, 16) : out.subarray(8, 24);
    const dst = v4 ? out.subarray(16, 20) : out.subarray(24, 40);
    const ph = pseudoHeaderSum(src, dst, 6, total - ipHdrLen);
    out[t + 16] = ph >>> 8;
    out[t + 17] = ph & 0xff;
    writeVirtioNetHdr(buf, 0, {
      flags: VIRTIO_NET_HDR_F_NEEDS_CSUM,
      gsoType: v4 ? VIRTIO_NET_HDR_GSO_TCPV4 : VIRTIO_NET_HDR_GSO_TCPV6,
      hdrLen,
      gsoSize,
      csumStart: ipHdrLen,
      csumOffset: 16,
    });
    emit({ buffer: buf, length: H + total, packets: count });
    i = j;
  }
}
