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

/**
 * Where the fields of one IP packet sit, as offsets into the caller's buffer. readIpFields fills it without
 * allocating, so the ESP data path (src/esp/selector.ts) reuses one instance for every packet; parseIpHeader
 * builds an IpHeader from it. The one IP header parser (issue 12).
 */
export class IpFields {
  version: 4 | 6 = 4;
  /** 4 (IPv4) or 16 (IPv6) address bytes at srcOff and dstOff. */
  addrLen = 4;
  srcOff = 0;
  dstOff = 0;
  /** Packet length the header declares (IPv4 Total Length; IPv6 40 + Payload Length). */
  totalLength = 0;
  /** Bytes before the upper-layer header: IHL*4 for IPv4; 40 plus extension headers for IPv6. */
  headerLength = 0;
  /** Upper-layer protocol (for IPv6 after walking the extension headers). */
  protocol = 0;
  ttl = 0;
  fragment = false;
  /** Offset in the buffer of the upper-layer header, or -1 (non-first fragment, or not present). */
  transportOffset = -1;
  /** TCP, UDP, SCTP and UDP-Lite ports when the first 4 bytes of the upper-layer header are present; else -1. */
  srcPort = -1;
  dstPort = -1;
  /** ICMP / ICMPv6 type and code when present; else -1. */
  icmpType = -1;
  icmpCode = -1;
  /** After readIpFields returned false: why, and where (offset from the start of the packet). */
  errorCode: IpPacketErrorCode = 'TRUNCATED';
  errorOffset = 0;
  errorMessage = '';
}

function fail(f: IpFields, code: IpPacketErrorCode, offset: number, message: string): false {
  f.errorCode = code;
  f.errorOffset = offset;
  f.errorMessage = message;
  return false;
}

/**
 * Reads the IP header of buf[off, off + len) into `f`. False when it is not a well-formed IPv4 (RFC 791) or IPv6
 * (RFC 8200) header or the length it declares exceeds `len`; f.errorCode/errorOffset/errorMessage say why.
 */
export function readIpFields(buf: Uint8Array, off: number, len: number, f: IpFields): boolean {
  if (len < 1) return fail(f, 'TRUNCATED', 0, 'empty packet');
  const v = buf[off]! >>> 4;
  let end: number;
  if (v === 4) {
    if (len < 20) return fail(f, 'TRUNCATED', 0, `IPv4 packet of ${len} bytes is shorter than 20`);
    const ihl = (buf[off]! & 0x0f) * 4;
    if (ihl < 20) return fail(f, 'BAD_HEADER_LENGTH', 0, `IPv4 IHL ${ihl / 4} is below 5`);
    const totalLength = (buf[off + 2]! << 8) | buf[off + 3]!;
    if (totalLength < ihl) return fail(f, 'BAD_TOTAL_LENGTH', 2, `IPv4 total length ${totalLength} is below the header length ${ihl}`);
    if (totalLength > len) return fail(f, 'TRUNCATED', 2, `IPv4 total length ${totalLength} exceeds the ${len} bytes received`);
    const fragField = ((buf[off + 6]! << 8) | buf[off + 7]!) & 0x3fff; // MF flag + 13-bit offset
    f.version = 4;
    f.addrLen = 4;
    f.srcOff = off + 12;
    f.dstOff = off + 16;
    f.totalLength = totalLength;
    f.headerLength = ihl;
    f.protocol = buf[off + 9]!;
    f.ttl = buf[off + 8]!;
    f.fragment = fragField !== 0;
    f.transportOffset = (fragField & 0x1fff) === 0 ? off + ihl : -1;
    end = off + totalLength;
  } else if (v === 6) {
    if (len < 40) return fail(f, 'TRUNCATED', 0, `IPv6 packet of ${len} bytes is shorter than 40`);
    const totalLength = 40 + ((buf[off + 4]! << 8) | buf[off + 5]!);
    if (totalLength > len) return fail(f, 'TRUNCATED', 4, `IPv6 payload length ${totalLength - 40} exceeds the ${len - 40} bytes received`);
    // Walk the extension header chain (RFC 8200 section 4.1) to the upper-layer header.
    let next = buf[off + 6]!;
    let h = 40;
    let fragment = false;
    let transportOffset = -1;
    for (;;) {
      if (IPV6_EXT_8.has(next)) {
        if (h + 2 > totalLength) return fail(f, 'TRUNCATED', h, `IPv6 extension header ${next} is cut short`);
        const n = (buf[off + h + 1]! + 1) * 8;
        if (h + n > totalLength) return fail(f, 'TRUNCATED', h, `IPv6 extension header ${next} of ${n} bytes is cut short`);
        next = buf[off + h]!;
        h += n;
      } else if (next === 44) {
        // Fragment header, 8 bytes (RFC 8200 section 4.5).
        if (h + 8 > totalLength) return fail(f, 'TRUNCATED', h, 'IPv6 fragment header is cut short');
        fragment = true;
        const fragOffset = ((buf[off + h + 2]! << 8) | buf[off + h + 3]!) >>> 3;
        next = buf[off + h]!;
        h += 8;
        if (fragOffset !== 0) break;
      } else if (next === IPPROTO_AH) {
        // AH length is in 4-octet units minus 2 (RFC 4302 section 2.2).
        if (h + 2 > totalLength) return fail(f, 'TRUNCATED', h, 'AH header is cut short');
        const n = (buf[off + h + 1]! + 2) * 4;
        if (h + n > totalLength) return fail(f, 'TRUNCATED', h, `AH header of ${n} bytes is cut short`);
        next = buf[off + h]!;
        h += n;
      } else {
        transportOffset = off + h;
        break;
      }
    }
    f.version = 6;
    f.addrLen = 16;
    f.srcOff = off + 8;
    f.dstOff = off + 24;
    f.totalLength = totalLength;
    f.headerLength = h;
    f.protocol = next;
    f.ttl = buf[off + 7]!;
    f.fragment = fragment;
    f.transportOffset = transportOffset;
    end = off + totalLength;
  } else {
    return fail(f, 'BAD_VERSION', 0, `IP version ${v} is neither 4 nor 6`);
  }
  f.srcPort = -1;
  f.dstPort = -1;
  f.icmpType = -1;
  f.icmpCode = -1;
  const t = f.transportOffset;
  if (t >= 0) {
    const proto = f.protocol;
    if ((proto === IPPROTO_TCP || proto === IPPROTO_UDP || proto === IPPROTO_SCTP || proto === IPPROTO_UDPLITE) && t + 4 <= end) {
      f.srcPort = (buf[t]! << 8) | buf[t + 1]!;
      f.dstPort = (buf[t + 2]! << 8) | buf[t + 3]!;
    } else if ((proto === IPPROTO_ICMP || proto === IPPROTO_ICMPV6) && t + 2 <= end) {
      f.icmpType = buf[t]!;
      f.icmpCode = buf[t + 1]!;
    }
  }
  return true;
}

/** The header of `packet` (throws IpPacketError naming the cause and byte offset when it is malformed). */
export function parseIpHeader(packet: Uint8Array): IpHeader {
  const f = new IpFields();
  if (!readIpFields(packet, 0, packet.length, f)) throw new IpPacketError(f.errorCode, f.errorOffset, f.errorMessage);
  const hdr: {
    -readonly [K in keyof IpHeader]: IpHeader[K];
  } = {
    version: f.version,
    headerLength: f.headerLength,
    totalLength: f.totalLength,
    src: packet.subarray(f.srcOff, f.srcOff + f.addrLen),
    dst: packet.subarray(f.dstOff, f.dstOff + f.addrLen),
    protocol: f.protocol,
    ttl: f.ttl,
    fragment: f.fragment,
    transportOffset: f.transportOffset,
  };
  if (f.srcPort >= 0) {
    hdr.srcPort = f.srcPort;
    hdr.dstPort = f.dstPort;
  } else if (f.icmpType >= 0) {
    hdr.icmpType = f.icmpType;
    hdr.icmpCode = f.icmpCode;
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
