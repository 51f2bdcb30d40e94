/**
 * Builders for well-formed IPv4/IPv6 packets with correct checksums, for tests of the TUN path, policy lookup,
 * MSS clamping and the ESP engine's inner packets.
 */
import { parseIp } from '../../src/net/ip-address.js';
import { setIpv4HeaderChecksum, setTransportChecksum } from '../../src/net/ip-packet.js';

function addr(s: string, len: 4 | 16): Uint8Array {
  const b = parseIp(s);
  if (!b || b.length !== len) throw new Error(`test packet builder: '${s}' is not an IPv${len === 4 ? 4 : 6} address`);
  return b;
}

export interface TcpOptions {
  srcPort: number;
  dstPort: number;
  /** TCP flags byte: SYN = 0x02, ACK = 0x10, SYN-ACK = 0x12. */
  flags: number;
  seq?: number;
  /** Raw option bytes (padded to a multiple of 4 with END). Default: MSS 1460 when SYN is set. */
  options?: Uint8Array;
  payload?: Uint8Array;
}

/** A TCP header (+ options, + payload) with a zero checksum: buildIpv4/6 fill it in. */
export function tcpSegment(o: TcpOptions): Uint8Array {
  const rawOpts = o.options ?? ((o.flags & 0x02) !== 0 ? Uint8Array.from([2, 4, 0x05, 0xb4]) : new Uint8Array(0));
  const optLen = Math.ceil(rawOpts.length / 4) * 4;
  const payload = o.payload ?? new Uint8Array(0);
  const seg = new Uint8Array(20 + optLen + payload.length);
  const dv = new DataView(seg.buffer);
  dv.setUint16(0, o.srcPort);
  dv.setUint16(2, o.dstPort);
  dv.setUint32(4, o.seq ?? 0x01020304);
  dv.setUint32(8, 0);
  seg[12] = ((20 + optLen) / 4) << 4;
  seg[13] = o.flags;
  dv.setUint16(14, 65535);
  seg.set(rawOpts, 20);
  seg.set(payload, 20 + optLen);
  return seg;
}

export function udpDatagram(srcPort: number, dstPort: number, payload: Uint8Array): Uint8Array {
  const d = new Uint8Array(8 + payload.length);
  const dv = new DataView(d.buffer);
  dv.setUint16(0, srcPort);
  dv.setUint16(2, dstPort);
  dv.setUint16(4, d.length);
  d.set(payload, 8);
  return d;
}

/** ICMP echo request (type 8) with the ICMP checksum set; `payload` defaults to 32 bytes. */
export function icmpEcho(id: number, seq: number, payload: Uint8Array = new Uint8Array(32)): Uint8Array {
  const m = new Uint8Array(8 + payload.length);
  m[0] = 8;
  m[4] = id >>> 8;
  m[5] = id & 0xff;
  m[6] = seq >>> 8;
  m[7] = seq & 0xff;
  m.set(payload, 8);
  let sum = 0;
  for (let i = 0; i < m.length; i += 2) sum += (m[i]! << 8) | (m[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  const c = ~sum & 0xffff;
  m[2] = c >>> 8;
  m[3] = c & 0xff;
  return m;
}

/** An IPv4 packet (IHL 5, TTL 64, DF) around `payload`, header and TCP/UDP checksums set. */
export function buildIpv4(src: string, dst: string, protocol: number, payload: Uint8Array): Uint8Array {
  const p = new Uint8Array(20 + payload.length);
  p[0] = 0x45;
  p[2] = p.length >>> 8;
  p[3] = p.length & 0xff;
  p[4] = 0x12;
  p[5] = 0x34;
  p[6] = 0x40; // DF
  p[8] = 64;
  p[9] = protocol;
  p.set(addr(src, 4), 12);
  p.set(addr(dst, 4), 16);
  p.set(payload, 20);
  setIpv4HeaderChecksum(p);
  setTransportChecksum(p);
  return p;
}

/**
 * An IPv6 packet around `payload`; `nextHeader` is the first next-header value. When `payload` starts with
 * extension headers, `upperProtocol` names the final protocol only for documentation: the parser finds it.
 */
export function buildIpv6(src: string, dst: string, nextHeader: number, payload: Uint8Array, _upperProtocol?: number): Uint8Array {
  const p = new Uint8Array(40 + payload.length);
  p[0] = 0x60;
  p[4] = payload.length >>> 8;
  p[5] = payload.length & 0xff;
  p[6] = nextHeader;
  p[7] = 64;
  p.set(addr(src, 16), 8);
  p.set(addr(dst, 16), 24);
  p.set(payload, 40);
  setTransportChecksum(p);
  return p;
}
