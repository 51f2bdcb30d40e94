/**
 * Traffic selectors for the data plane (RFC 4301 section 4.4.1, RFC 7296 section 3.13.1): an address range, an IP
 * protocol (0 = any) and a port range. The shape is the IKE TrafficSelector's (startAddr/endAddr/ipProtocol/
 * startPort/endPort), so what IKE negotiates can be handed over as is.
 *
 * Matching reads the addresses and ports straight out of the packet buffer: nothing is copied per packet.
 * Several selectors per side have IKEv2 meaning: the SA covers TSi x TSr, so a packet matches when its source is
 * in one of the local selectors and its destination in one of the remote ones (outbound; the other way inbound).
 */
import { parseIpv4, parseIpv6Strict } from '../net/ip-address.js';
import {
  IpFields,
  IPPROTO_ICMP,
  IPPROTO_ICMPV6,
  IPPROTO_SCTP,
  IPPROTO_TCP,
  IPPROTO_UDP,
  IPPROTO_UDPLITE,
  readIpFields,
} from '../net/ip-packet.js';

export interface EspSelector {
  /** 4 bytes (IPv4) or 16 bytes (IPv6), network order. */
  readonly startAddr: Uint8Array;
  readonly endAddr: Uint8Array;
  /** IP protocol number; 0 = any. */
  readonly ipProtocol: number;
  readonly startPort: number;
  readonly endPort: number;
}

/** The selector of one packet (what ACQUIRE carries to IKE: RFC 7296 section 2.9's "first" traffic selector). */
export interface PacketSelector {
  readonly family: 4 | 6;
  readonly srcAddr: Uint8Array;
  readonly dstAddr: Uint8Array;
  readonly ipProtocol: number;
  /** -1 when the packet carries no ports (or they are unreadable: a non-first fragment), RFC 4301 "OPAQUE". */
  readonly srcPort: number;
  readonly dstPort: number;
}

/**
 * Where the fields of a parsed IP packet sit (offsets into the buffer), read by the one IP header parser
 * (src/net/ip-packet.ts), with the two views selectors take. Reused across packets.
 */
export class PacketFields extends IpFields {
  family: 4 | 6 = 4;
  ipProtocol = 0;
}

/**
 * Parses the IP header of buf[off, off + len) into `f`. Returns false when it is not a well-formed IPv4/IPv6
 * header or the IP length exceeds `len`. Ports: TCP/UDP/SCTP/UDP-Lite ports; for ICMP and ICMPv6 the 16-bit
 * Type<<8|Code value (RFC 7296 section 3.13.1) in both; -1 (opaque) for other protocols and non-first fragments.
 */
export function parseIpPacket(buf: Uint8Array, off: number, len: number, f: PacketFields): boolean {
  if (!readIpFields(buf, off, len, f)) return false;
  f.family = f.version;
  f.ipProtocol = f.protocol;
  // ICMP type and code stand in for both ports once the 4-byte ICMP header start is there (RFC 4301 4.4.1.1).
  if (f.icmpType >= 0 && f.transportOffset + 4 <= off + f.totalLength) {
    const tc = (f.icmpType << 8) | f.icmpCode;
    f.srcPort = tc;
    f.dstPort = tc;
  }
  return true;
}

/** A selector prepared for matching: IPv4 bounds as unsigned 32-bit numbers, IPv6 as bytes. */
export class CompiledSelector {
  readonly family: 4 | 6;
  readonly start4: number;
  readonly end4: number;
  readonly start: Uint8Array;
  readonly end: Uint8Array;
  readonly ipProtocol: number;
  readonly startPort: number;
  readonly endPort: number;
  /** True when the port range is everything, so opaque ports match (RFC 4301 section 4.4.1.1). */
  readonly anyPort: boolean;

  constructor(s: EspSelector) {
    const n = s.startAddr.length;
    if ((n !== 4 && n !== 16) || s.endAddr.length !== n) {
      throw new RangeError(`selector: addresses must both be 4 or 16 bytes (got ${n} and ${s.endAddr.length})`);
    }
    if (compareBytes(s.startAddr, 0, s.endAddr) > 0) throw new RangeError('selector: start address above end address');
    if (!(s.ipProtocol >= 0 && s.ipProtocol <= 255)) throw new RangeError(`selector: protocol ${s.ipProtocol}`);
    if (!(s.startPort >= 0 && s.endPort <= 65535 && s.startPort <= s.endPort)) {
      throw new RangeError(`selector: port range ${s.startPort}-${s.endPort}`);
    }
    this.family = n === 4 ? 4 : 6;
    this.start = s.startAddr.slice();
    this.end = s.endAddr.slice();
    this.start4 = n === 4 ? read32(this.start, 0) : 0;
    this.end4 = n === 4 ? read32(this.end, 0) : 0;
    this.ipProtocol = s.ipProtocol;
    this.startPort = s.startPort;
    this.endPort = s.endPort;
    this.anyPort = s.startPort === 0 && s.endPort === 65535;
  }

  /** Does the address at buf[addrOff] (and protocol/port) fall in this selector? */
  matches(buf: Uint8Array, f: PacketFields, addrOff: number, port: number): boolean {
    if (f.family !== this.family) return false;
    if (this.ipProtocol !== 0 && this.ipProtocol !== f.ipProtocol) return false;
    if (!this.anyPort && (port < this.startPort || port > this.endPort)) return false;
    if (this.family === 4) {
      const a = read32(buf, addrOff);
      return a >= this.start4 && a <= this.end4;
    }
    return compareBytes(buf, addrOff, this.start) >= 0 && compareBytes(buf, addrOff, this.end) <= 0;
  }
}

function read32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

/** Lexicographic compare of a.length bytes at buf[off] against a. */
function compareBytes(buf: Uint8Array, off: number, a: Uint8Array): number {
  for (let i = 0; i < a.length; i++) {
    const d = buf[off + i]! - a[i]!;
    if (d !== 0) return d;
  }
  return 0;
}

/** A local/remote selector set, compiled. */
export class SelectorSet {
  readonly local: readonly CompiledSelector[];
  readonly remote: readonly CompiledSelector[];

  /**
   * The IPv4 selectors of each side flattened for the fast path (matchesInbound4/matchesOutbound4): five numbers
   * each, [start, end, protocol (0 = any), lowest port, highest port], the port range from -1 when it is
   * everything (opaque ports match then, RFC 4301 section 4.4.1.1). A typed array of numbers: measured, the loop
   * over CompiledSelector objects cost ~12 ns more per packet than this one.
   */
  private readonly local4: Float64Array;
  private readonly remote4: Float64Array;
  /** matchesInbound4's last match, once there is one. */
  private lastIn4: Ipv4Key | undefined = undefined;

  constructor(local: readonly EspSelector[], remote: readonly EspSelector[]) {
    this.local = local.map((s) => new CompiledSelector(s));
    this.remote = remote.map((s) => new CompiledSelector(s));
    this.local4 = flat4(this.local);
    this.remote4 = flat4(this.remote);
  }

  /** Outbound: source in a local selector, destination in a remote one. */
  matchesOutbound(buf: Uint8Array, f: PacketFields): boolean {
    return anyMatch(this.local, buf, f, f.srcOff, f.srcPort) && anyMatch(this.remote, buf, f, f.dstOff, f.dstPort);
  }

  /** Inbound (inner packet of a tunnel): source in a remote selector, destination in a local one. */
  matchesInbound(buf: Uint8Array, f: PacketFields): boolean {
    return anyMatch(this.remote, buf, f, f.srcOff, f.srcPort) && anyMatch(this.local, buf, f, f.dstOff, f.dstPort);
  }

  /** matchesInbound for a packet readIpv4Key accepted: source in a remote selector, destination in a local one. */
  matchesInbound4(k: Ipv4Key): boolean {
    // The last inner packet that matched (selectors never change): a bulk flow is one 5-tuple, checked once.
    const last = this.lastIn4;
    if (last !== undefined && last.sameFlow(k)) return true;
    if (!(anyMatch4(this.remote4, k.src, k.proto, k.srcPort) && anyMatch4(this.local4, k.dst, k.proto, k.dstPort))) return false;
    (this.lastIn4 ??= new Ipv4Key()).setFlow(k);
    return true;
  }

  /** matchesOutbound for a packet readIpv4Key accepted: source in a local selector, destination in a remote one. */
  matchesOutbound4(k: Ipv4Key): boolean {
    return anyMatch4(this.local4, k.src, k.proto, k.srcPort) && anyMatch4(this.remote4, k.dst, k.proto, k.dstPort);
  }
}

/**
 * What selectors compare in an IPv4 packet, for the ESP engine's fast paths: addresses as unsigned 32-bit numbers,
 * protocol, ports as parsePacket sets them, and the IP total length. Reused across packets.
 */
export class Ipv4Key {
  src = 0;
  dst = 0;
  proto = 0;
  srcPort = -1;
  dstPort = -1;
  totalLength = 0;

  /** Same addresses, protocol and ports: what a selector decides on (the one-entry caches of lookup4, matchesInbound4). */
  sameFlow(k: Ipv4Key): boolean {
    return k.src === this.src && k.dst === this.dst && k.proto === this.proto && k.srcPort === this.srcPort && k.dstPort === this.dstPort;
  }

  /** Takes `k`'s addresses, protocol and ports. */
  setFlow(k: Ipv4Key): void {
    this.src = k.src;
    this.dst = k.dst;
    this.proto = k.proto;
    this.srcPort = k.srcPort;
    this.dstPort = k.dstPort;
  }
}

/**
 * The fast path of parseIpPacket for the common packet: a well-formed IPv4 header at buf[off, off + len) read into
 * `k` with no calls and only the fields selectors compare. False for anything else (not IPv4, or a header
 * readIpFields refuses): the caller then takes the general path (parseIpPacket + matchesInbound/matchesOutbound),
 * which names the cause. Same decision as that path (selector.test.ts compares both on random packets);
 * measured, the general path was about a third of the ESP engine's own cost per packet.
 */
export function readIpv4Key(buf: Uint8Array, off: number, len: number, k: Ipv4Key): boolean {
  if (len < 20) return false;
  const b0 = buf[off]!;
  const ihl = (b0 & 0x0f) * 4;
  const totalLength = (buf[off + 2]! << 8) | buf[off + 3]!;
  // RFC 791: version 4, IHL >= 5 words, IHL <= Total Length <= the bytes there.
  if (b0 >>> 4 !== 4 || ihl < 20 || totalLength < ihl || totalLength > len) return false;
  const proto = buf[off + 9]!;
  // Ports as parseIpPacket reads them (RFC 4301 section 4.4.1.1): TCP/UDP/SCTP/UDP-Lite ports, ICMP type<<8|code
  // in both; -1 (opaque) otherwise, for non-first fragments, and when the 4 transport bytes are not all there.
  let sport = -1;
  let dport = -1;
  if ((((buf[off + 6]! << 8) | buf[off + 7]!) & 0x1fff) === 0) {
    const t = off + ihl;
    if (t + 4 <= off + totalLength) {
      if (proto === IPPROTO_TCP || proto === IPPROTO_UDP || proto === IPPROTO_SCTP || proto === IPPROTO_UDPLITE) {
        sport = (buf[t]! << 8) | buf[t + 1]!;
        dport = (buf[t + 2]! << 8) | buf[t + 3]!;
      } else if (proto === IPPROTO_ICMP || proto === IPPROTO_ICMPV6) {
        sport = dport = (buf[t]! << 8) | buf[t + 1]!;
      }
    }
  }
  k.src = read32(buf, off + 12);
  k.dst = read32(buf, off + 16);
  k.proto = proto;
  k.srcPort = sport;
  k.dstPort = dport;
  k.totalLength = totalLength;
  return true;
}

function flat4(list: readonly CompiledSelector[]): Float64Array {
  const v4 = list.filter((s) => s.family === 4);
  const out = new Float64Array(v4.length * 5);
  v4.forEach((s, j) => {
    out.set([s.start4, s.end4, s.ipProtocol, s.anyPort ? -1 : s.startPort, s.endPort], j * 5);
  });
  return out;
}

/** Whether an IPv4 address (protocol, port) falls in one of the flattened selectors (SelectorSet.local4). */
function anyMatch4(sel: Float64Array, a: number, proto: number, port: number): boolean {
  for (let j = 0; j < sel.length; j += 5) {
    const p = sel[j + 2]!;
    if (a >= sel[j]! && a <= sel[j + 1]! && (p === 0 || p === proto) && port >= sel[j + 3]! && port <= sel[j + 4]!) return true;
  }
  return false;
}

function anyMatch(list: readonly CompiledSelector[], buf: Uint8Array, f: PacketFields, off: number, port: number): boolean {
  const n = list.length;
  if (f.family === 4) {
    // IPv4 fast path: read the address once, compare it as a number against each range.
    const a = read32(buf, off);
    const proto = f.ipProtocol;
    for (let i = 0; i < n; i++) {
      const s = list[i]!;
      if (s.family === 4 && a >= s.start4 && a <= s.end4 && (s.ipProtocol === 0 || s.ipProtocol === proto) &&
        (s.anyPort || (port >= s.startPort && port <= s.endPort))) return true;
    }
    return false;
  }
  for (let i = 0; i < n; i++) if (list[i]!.matches(buf, f, off, port)) return true;
  return false;
}

/** Copies the selector of a parsed packet out of the buffer (slow path: ACQUIRE). */
export function packetSelector(buf: Uint8Array, f: PacketFields): PacketSelector {
  return {
    family: f.family,
    srcAddr: buf.slice(f.srcOff, f.srcOff + f.addrLen),
    dstAddr: buf.slice(f.dstOff, f.dstOff + f.addrLen),
    ipProtocol: f.ipProtocol,
    srcPort: f.srcPort,
    dstPort: f.dstPort,
  };
}

// ---- construction helpers (configuration and tests, not the data path) ----

/** Parses an IPv4 or IPv6 address; throws RangeError naming the text when it is neither. */
export function parseAddress(text: string): Uint8Array {
  const a = text.includes(':') ? parseIpv6Strict(text) : parseIpv4(text);
  if (!a) throw new RangeError(`'${text}' is not an IPv4 or IPv6 address`);
  return a;
}

/**
 * A selector from `10.0.0.0/24`, `2001:db8::/32` or a single address, with optional protocol and ports.
 */
export function selector(prefix: string, ipProtocol = 0, startPort = 0, endPort = startPort === 0 ? 65535 : startPort): EspSelector {
  const slash = prefix.indexOf('/');
  const addr = parseAddress(slash >= 0 ? prefix.slice(0, slash) : prefix);
  const bits = slash >= 0 ? Number(prefix.slice(slash + 1)) : addr.length * 8;
  if (!Number.isInteger(bits) || bits < 0 || bits > addr.length * 8) throw new RangeError(`'${prefix}': bad prefix length`);
  const start = addr.slice();
  const end = addr.slice();
  for (let i = 0; i < addr.length; i++) {
    const keep = Math.max(0, Math.min(8, bits - i * 8));
    const mask = keep === 0 ? 0 : (0xff << (8 - keep)) & 0xff;
    start[i] = addr[i]! & mask;
    end[i] = (addr[i]! & mask) | (~mask & 0xff);
  }
  return { startAddr: start, endAddr: end, ipProtocol, startPort, endPort };
}
