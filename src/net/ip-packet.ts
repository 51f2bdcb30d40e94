/**
 * Reading IPv4 (RFC 791) and IPv6 (RFC 8200) packet headers: addresses, upper-layer protocol and ports, as the
 * policy lookup (RFC 4301 section 4.4.1 selectors), the TUN driver and MSS clamping need them.
 * Bounds-checked: malformed input is an IpPacketError naming the cause and the byte offset, never a crash.
 * Addresses are views into the packet (no copy); format them with formatIp from ./ip-address.js when needed.
 */
import { internetChecksum, onesComplementSum, pseudoHeaderSum } from './checksum.js';
import { CodedError } from '../util/coded-error.js';

export type IpPacketErrorCode = 'TRUNCATED' | 'BAD_VERSION' | 'BAD_HEADER_LENGTH' | 'BAD_TOTAL_LENGTH';

export class IpPacketError extends CodedError<IpPacketErrorCode> {
  /** Byte offset in the packet where the problem was found. */
  readonly offset: number;
  constructor(code: IpPacketErrorCode, offset: number, message: string) {
    super(code, `${message} (at byte ${offset})`);
    this.offset = offset;
  }
}

export const IPPROTO_ICMP = 1;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_IPV6 = 41;
export const IPPROTO_ESP = 50;
export const IPPROTO_AH = 51;
export const IPPROTO_ICMPV6 = 58;
export const IPPROTO_NONE = 59;
export const IPPROTO_SCTP = 132;
export const IPPROTO_UDPLITE = 136;

export interface IpHeader {
  readonly version: 4 | 6;
  /** Bytes before the upper-layer header: IHL*4 for IPv4; 40 plus extension headers for IPv6. */
  readonly headerLength: number;
  /** Packet length the header declares (IPv4 Total Length; IPv6 40 + Payload Length). */
  readonly totalLength: number;
  readonly src: Uint8Array;
  readonly dst: Uint8Array;
  /** Upper-layer protocol (for IPv6 after walking the extension headers). */
  readonly protocol: number;
  /** IPv4 TTL or IPv6 Hop Limit. */
  readonly ttl: number;
  /** True for any fragment; only the first fragment (offset 0) carries the upper-layer header. */
  readonly fragment: boolean;
  /** Offset of the upper-layer header, or -1 when this is a non-first fragment or it is not present. */
  readonly transportOffset: number;
  /** TCP, UDP, SCTP and UDP-Lite ports when the first 4 bytes of the upper-layer header are present. */
  readonly srcPort?: number;
  readonly dstPort?: number;
  /** ICMP / ICMPv6 type and code (RFC 4301 section 4.4.1.1 uses them in place of ports). */
  readonly icmpType?: number;
  readonly icmpCode?: number;
}

/** IPv6 extension headers whose length is (Hdr Ext Len + 1) * 8 (RFC 8200 section 4; RFC 7045 list). */
const IPV6_EXT_8 = new Set([0, 43, 60, 135, 139, 140]);

/** The IP version nibble, or 0 for an empty packet. Cheap enough for a per-packet dispatch. */
export function ipVersion(packet: Uint8Array): number {
  return packet.length === 0 ? 0 : packet[0]! >>> 4;
}

export function parseIpHeader(packet: Uint8Array): IpHeader {
  if (packet.length < 1) throw new IpPacketError('TRUNCATED', 0, 'empty packet');
  const v = packet[0]! >>> 4;
  if (v === 4) return parseIpv4Header(packet);
  if (v === 6) return parseIpv6Header(packet);
  throw new IpPacketError('BAD_VERSION', 0, `IP version ${v} is neither 4 nor 6`);
}

function parseIpv4Header(p: Uint8Array): IpHeader {
  if (p.length < 20) throw new IpPacketError('TRUNCATED', 0, `IPv4 packet of ${p.length} bytes is shorter than 20`);
  const ihl = (p[0]! & 0x0f) * 4;
  if (ihl < 20) throw new IpPacketError('BAD_HEADER_LENGTH', 0, `IPv4 IHL ${ihl / 4} is below 5`);
  const totalLength = (p[2]! << 8) | p[3]!;
  if (totalLength < ihl) {
    throw new IpPacketError('BAD_TOTAL_LENGTH', 2, `IPv4 total length ${totalLength} is below the header length ${ihl}`);
  }
  if (totalLength > p.length) {
    throw new IpPacketError('TRUNCATED', 2, `IPv4 total length ${totalLength} exceeds the ${p.length} bytes received`);
  }
  const fragField = ((p[6]! << 8) | p[7]!) & 0x3fff; // MF flag + 13-bit offset
  const fragOffset = fragField & 0x1fff;
  const protocol = p[9]!;
  const hdr = {
    version: 4 as const,
    headerLength: ihl,
    totalLength,
    src: p.subarray(12, 16),
    dst: p.subarray(16, 20),
    protocol,
    ttl: p[8]!,
    fragment: fragField !== 0,
    transportOffset: fragOffset === 0 ? ihl : -1,
  };
  return withTransport(p, hdr, totalLength);
}

function parseIpv6Header(p: Uint8Array): IpHeader {
  if (p.length < 40) throw new IpPacketError('TRUNCATED', 0, `IPv6 packet of ${p.length} bytes is shorter than 40`);
  const totalLength = 40 + ((p[4]! << 8) | p[5]!);
  if (totalLength > p.length) {
    throw new IpPacketError('TRUNCATED', 4, `IPv6 payload length ${totalLength - 40} exceeds the ${p.length - 40} bytes received`);
  }
  // Walk the extension header chain (RFC 8200 section 4.1) to the upper-layer header.
  let next = p[6]!;
  let off = 40;
  let fragment = false;
  let transportOffset = -1;
  for (;;) {
    if (IPV6_EXT_8.has(next)) {
      if (off + 2 > totalLength) throw new IpPacketError('TRUNCATED', off, `IPv6 extension header ${next} is cut short`);
      const len = (p[off + 1]! + 1) * 8;
      if (off + len > totalLength) throw new IpPacketError('TRUNCATED', off, `IPv6 extension header ${next} of ${len} bytes is cut short`);
      next = p[off]!;
      off += len;
    } else if (next === 44) {
      // Fragment header, 8 bytes (RFC 8200 section 4.5).
      if (off + 8 > totalLength) throw new IpPacketError('TRUNCATED', off, 'IPv6 fragment header is cut short');
      fragment = true;
      const fragOffset = ((p[off + 2]! << 8) | p[off + 3]!) >>> 3;
      next = p[off]!;
      off += 8;
      if (fragOffset !== 0) break;
    } else if (next === IPPROTO_AH) {
      // AH length is in 4-octet units minus 2 (RFC 4302 section 2.2).
      if (off + 2 > totalLength) throw new IpPacketError('TRUNCATED', off, 'AH header is cut short');
      const len = (p[off + 1]! + 2) * 4;
      if (off + len > totalLength) throw new IpPacketError('TRUNCATED', off, `AH header of ${len} bytes is cut short`);
      next = p[off]!;
      off += len;
    } else {
      transportOffset = off;
      break;
    }
  }
  const hdr = {
    version: 6 as const,
    headerLength: off,
    totalLength,
    src: p.subarray(8, 24),
    dst: p.subarray(24, 40),
    protocol: next,
    ttl: p[7]!,
    fragment,
    transportOffset,
  };
  return withTransport(p, hdr, totalLength);
}

function withTransport(p: Uint8Array, hdr: Omit<IpHeader, 'srcPort' | 'dstPort' | 'icmpType' | 'icmpCode'>, end: number): IpHeader {
  const t = hdr.transportOffset;
  if (t < 0) return hdr;
  const proto = hdr.protocol;
  if ((proto === IPPROTO_TCP || proto === IPPROTO_UDP || proto === IPPROTO_SCTP || proto === IPPROTO_UDPLITE) && t + 4 <= end) {
    return { ...hdr, srcPort: (p[t]! << 8) | p[t + 1]!, dstPort: (p[t + 2]! << 8) | p[t + 3]! };
  }
  if ((proto === IPPROTO_ICMP || proto === IPPROTO_ICMPV6) && t + 2 <= end) {
    return { ...hdr, icmpType: p[t]!, icmpCode: p[t + 1]! };
  }
  return hdr;
}

/** Computes the IPv4 header checksum (RFC 791 section 3.1) of `packet` and writes it in place. */
export function setIpv4HeaderChecksum(packet: Uint8Array): number {
  const ihl = (packet[0]! & 0x0f) * 4;
  if (packet.length < 20 || ihl < 20 || ihl > packet.length) {
    throw new IpPacketError('BAD_HEADER_LENGTH', 0, 'IPv4 header length is invalid for checksumming');
  }
  packet[10] = 0;
  packet[11] = 0;
  const sum = internetChecksum(packet.subarray(0, ihl));
  packet[10] = sum >>> 8;
  packet[11] = sum & 0xff;
  return sum;
}

/** True when the IPv4 header checksum verifies (the sum over the header including the checksum is 0xFFFF). */
export function verifyIpv4HeaderChecksum(packet: Uint8Array): boolean {
  const ihl = (packet[0]! & 0x0f) * 4;
  if (packet.length < 20 || ihl < 20 || ihl > packet.length) return false;
  return internetChecksum(packet.subarray(0, ihl)) === 0;
}

/** Offset of the checksum field inside the upper-layer header for protocols that have a pseudo-header checksum. */
function checksumFieldOffset(protocol: number): number {
  if (protocol === IPPROTO_TCP) return 16;
  if (protocol === IPPROTO_UDP) return 6;
  if (protocol === IPPROTO_ICMPV6) return 2;
  return -1;
}

/**
 * Computes the TCP, UDP or ICMPv6 checksum over pseudo-header + segment with the checksum field taken as zero
 * (RFC 793 section 3.1, RFC 768, RFC 8200 section 8.1). Returns undefined for other protocols, fragments and
 * segments too short to hold the field.
 */
export function computeTransportChecksum(packet: Uint8Array, hdr: IpHeader = parseIpHeader(packet)): number | undefined {
  const field = checksumFieldOffset(hdr.protocol);
  if (field < 0 || hdr.fragment || hdr.transportOffset < 0) return undefined;
  const t = hdr.transportOffset;
  const segLen = hdr.totalLength - t;
  if (segLen < field + 2) return undefined;
  const seg = packet.subarray(t, hdr.totalLength);
  let sum = pseudoHeaderSum(hdr.src, hdr.dst, hdr.protocol, segLen);
  // Sum the segment around the checksum field, which counts as zero.
  sum = onesComplementSum(seg.subarray(0, field), sum);
  // `field` is even, so the rest stays word-aligned.
  sum = onesComplementSum(seg.subarray(field + 2), sum);
  let c = ~sum & 0xffff;
  // RFC 768: a computed UDP checksum of zero is sent as all ones.
  if (c === 0 && hdr.protocol === IPPROTO_UDP) c = 0xffff;
  return c;
}

/** True when the TCP/UDP/ICMPv6 checksum in `packet` is correct (a zero UDP-over-IPv4 checksum means none). */
export function verifyTransportChecksum(packet: Uint8Array, hdr: IpHeader = parseIpHeader(packet)): boolean {
  const c = computeTransportChecksum(packet, hdr);
  if (c === undefined) return false;
  const at = hdr.transportOffset + checksumFieldOffset(hdr.protocol);
  const stored = (packet[at]! << 8) | packet[at + 1]!;
  if (hdr.protocol === IPPROTO_UDP && hdr.version === 4 && stored === 0) return true;
  // 0x0000 and 0xFFFF are the same number in one's complement.
  return stored === c || (c === 0xffff && stored === 0) || (c === 0 && stored === 0xffff);
}

/** Writes the correct TCP/UDP/ICMPv6 checksum into `packet`; returns it, or undefined if not applicable. */
export function setTransportChecksum(packet: Uint8Array, hdr: IpHeader = parseIpHeader(packet)): number | undefined {
  const c = computeTransportChecksum(packet, hdr);
  if (c === undefined) return undefined;
  const at = hdr.transportOffset + checksumFieldOffset(hdr.protocol);
  packet[at] = c >>> 8;
  packet[at + 1] = c & 0xff;
  return c;
}
