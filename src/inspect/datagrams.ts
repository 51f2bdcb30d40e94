/**
 * From captured frames to IKE messages and ESP packets: link layer (Ethernet with VLAN tags, Linux cooked SLL and
 * SLL2, raw IP, BSD loopback/null), IPv4 fragment reassembly (RFC 791), UDP, and the port rules of RFC 3948:
 * UDP 500 carries IKE; UDP 4500 carries IKE after the 4-byte non-ESP marker, a 1-byte 0xff NAT keepalive, or ESP
 * (section 2.2); IP protocol 50 is ESP (RFC 4303). TCP port 4500 (and the extra ports) carries RFC 9329 streams:
 * the segments of each direction are put in order from its SYN on, the originator's "IKETCP" prefix is checked
 * and the Length-framed messages are read like UDP 4500 datagrams (RFC 9329 sections 3, 4); a message is reported
 * at the frame that completed it, several per frame when a segment holds several.
 */
// The public API's IP helpers (src/index.ts re-exports them), imported from their modules so that inspecting
// a capture does not load the IKE endpoint.
import { formatIp } from '../net/ip-address.js';
import { IpPacketError, parseIpHeader } from '../net/ip-packet.js';
import { TcpDeframer, TcpEncapError } from '../net/tcp-encap.js';
import { LinkType, type CaptureFrame } from './capture-file.js';

export interface Endpoints {
  readonly src: string;
  readonly dst: string;
  readonly sport?: number;
  readonly dport?: number;
}

export type Datagram =
  /** `tcp`: read from an RFC 9329 TCP stream. */
  | (Endpoints & { readonly kind: 'ike'; readonly message: Uint8Array; readonly marker: boolean; readonly tcp?: true })
  | (Endpoints & { readonly kind: 'esp'; readonly packet: Uint8Array; readonly encap: 'udp' | 'ip' | 'tcp' })
  | (Endpoints & { readonly kind: 'keepalive' })
  /** Not IKE or ESP, or an IPv4 fragment still waiting for the rest. */
  | { readonly kind: 'other'; readonly why: string }
  /** IKE/ESP we cannot read: a truncated or malformed frame. */
  | { readonly kind: 'malformed'; readonly why: string };

const ETH_IPV4 = 0x0800;
const ETH_IPV6 = 0x86dd;
const ETH_VLAN = [0x8100, 0x88a8, 0x9100];

/** The network-layer packet of a frame, or why there is none. */
export function networkPacket(frame: CaptureFrame): Uint8Array | string {
  const d = frame.data;
  const u16 = (o: number): number => (d[o]! << 8) | d[o + 1]!;
  const byEthertype = (type: number, off: number): Uint8Array | string =>
    type === ETH_IPV4 || type === ETH_IPV6 ? d.subarray(off) : `ethertype 0x${type.toString(16).padStart(4, '0')}`;
  switch (frame.linkType) {
    case LinkType.ETHERNET: {
      if (d.length < 14) return 'Ethernet frame shorter than its header';
      let off = 12;
      let type = u16(off);
      while (ETH_VLAN.includes(type) && d.length >= off + 6) {
        off += 4;
        type = u16(off);
      }
      return byEthertype(type, off + 2);
    }
    case LinkType.LINUX_SLL:
      // 16 bytes: packet type, ARPHRD, address length, 8 address bytes, protocol (ethertype) at 14.
      return d.length < 16 ? 'Linux cooked (SLL) frame shorter than 16 bytes' : byEthertype(u16(14), 16);
    case LinkType.LINUX_SLL2:
      // 20 bytes: protocol (ethertype) at 0, reserved, interface index, ARPHRD, packet type, address length, address.
      return d.length < 20 ? 'Linux cooked (SLL2) frame shorter than 20 bytes' : byEthertype(u16(0), 20);
    case LinkType.RAW:
    case LinkType.IPV4:
    case LinkType.IPV6:
    case 12: // DLT_RAW on OpenBSD and some Linux captures
    case 14: // DLT_RAW elsewhere
      return d;
    case LinkType.NULL:
    case LinkType.LOOP: {
      if (d.length < 4) return 'loopback frame shorter than 4 bytes';
      // NULL: the address family in the capturing host's byte order; LOOP: network order. AF_INET is 2 everywhere,
      // AF_INET6 is 10 (Linux), 24 (NetBSD/OpenBSD), 28 (FreeBSD), 30 (macOS). The version nibble decides anyway.
      return d.subarray(4);
    }
    default:
      return `link type ${frame.linkType} is not read (Ethernet, Linux SLL/SLL2, raw IP and loopback are)`;
  }
}

interface Fragments {
  readonly pieces: Map<number, Uint8Array>;
  header?: Uint8Array;
  totalPayload?: number;
  readonly firstFrame: number;
}

/**
 * Extracts IKE/ESP datagrams frame by frame. Keeps IPv4 fragments until their datagram is whole; a reassembled
 * datagram is reported at the frame that completed it.
 */
export class DatagramReader {
  private readonly ikePorts: ReadonlySet<number>;
  private readonly fragments = new Map<string, Fragments>();
  /** RFC 9329 streams, one per direction (`src:sport>dst:dport`), from their SYN on. */
  private readonly streams = new Map<string, TcpStream>();

  /** `extraIkePorts`: ports read like 4500 (marker, keepalive or ESP) besides 500 and 4500, e.g. a test's --port. */
  constructor(extraIkePorts: readonly number[] = []) {
    this.ikePorts = new Set(extraIkePorts);
  }

  /** The first of readAll's datagrams, or why there is none (a TCP segment that completed no message). */
  read(frame: CaptureFrame): Datagram {
    const all = this.readAll(frame);
    return all[0] ?? { kind: 'other', why: 'TCP segment that completes no RFC 9329 message' };
  }

  /** Every datagram the frame completes: one for UDP and ESP, zero or more for a TCP segment of an RFC 9329 stream. */
  readAll(frame: CaptureFrame): Datagram[] {
    const net = networkPacket(frame);
    if (typeof net === 'string') return [{ kind: 'other', why: net }];
    try {
      return this.ip(net, frame.number);
    } catch (e) {
      if (e instanceof IpPacketError) return [{ kind: 'malformed', why: e.message }];
      throw e;
    }
  }

  private ip(packet: Uint8Array, frameNumber: number): Datagram[] {
    const d = this.ipOne(packet, frameNumber);
    return Array.isArray(d) ? d : [d];
  }

  private ipOne(packet: Uint8Array, frameNumber: number): Datagram | Datagram[] {
    let p = packet;
    let h = parseIpHeader(p);
    if (h.totalLength < p.length) p = p.subarray(0, h.totalLength); // Ethernet padding
    if (h.version === 4 && h.fragment) {
      const whole = this.reassemble(p, h.headerLength, frameNumber);
      if (typeof whole === 'string') return { kind: 'other', why: whole };
      p = whole;
      h = parseIpHeader(p);
    } else if (h.fragment) {
      return { kind: 'other', why: 'IPv6 fragment (not reassembled)' };
    }
    if (h.totalLength > p.length) return { kind: 'malformed', why: `IP packet cut at ${p.length} of ${h.totalLength} bytes (snap length?)` };
    const src = formatIp(h.src);
    const dst = formatIp(h.dst);
    if (h.protocol === 50) return { kind: 'esp', src, dst, packet: p.subarray(h.transportOffset), encap: 'ip' };
    if (h.protocol === 6 && h.transportOffset >= 0) return this.tcp(p, h.transportOffset, src, dst);
    if (h.protocol !== 17 || h.transportOffset < 0) return { kind: 'other', why: `IP protocol ${h.protocol}` };
    const t = h.transportOffset;
    if (p.length < t + 8) return { kind: 'malformed', why: 'UDP header cut short' };
    const sport = h.srcPort!;
    const dport = h.dstPort!;
    const udpLen = (p[t + 4]! << 8) | p[t + 5]!;
    if (udpLen < 8 || t + udpLen > p.length) return { kind: 'malformed', why: `UDP length ${udpLen} does not fit the ${p.length - t}-byte datagram` };
    const payload = p.subarray(t + 8, t + udpLen);
    const ends = { src, dst, sport, dport };
    if (sport === 500 || dport === 500) return { kind: 'ike', ...ends, message: payload, marker: false };
    if (sport === 4500 || dport === 4500 || this.ikePorts.has(sport) || this.ikePorts.has(dport)) {
      // RFC 3948 section 2.2 / 2.3: 0xff alone is a NAT keepalive, four zero bytes the non-ESP marker before IKE.
      if (payload.length === 1 && payload[0] === 0xff) return { kind: 'keepalive', ...ends };
      if (payload.length >= 4 && payload[0] === 0 && payload[1] === 0 && payload[2] === 0 && payload[3] === 0) {
        return { kind: 'ike', ...ends, message: payload.subarray(4), marker: true };
      }
      // An extra port may also carry IKE without a marker (a test daemon's --port): recognise the IKEv2 header.
      if (!(sport === 4500 || dport === 4500) && looksLikeIke(payload)) return { kind: 'ike', ...ends, message: payload, marker: false };
      if (payload.length < 8) return { kind: 'malformed', why: `UDP-encapsulated ESP of ${payload.length} bytes has no SPI and sequence number` };
      return { kind: 'esp', ...ends, packet: payload, encap: 'udp' };
    }
    return { kind: 'other', why: `UDP port ${sport} -> ${dport}` };
  }

  /**
   * A TCP segment (RFC 9293 3.1 header). Only ports 4500 and the extra ports are read; their streams must start
   * in the capture (the SYN gives the initial sequence number; without it the frame boundaries are unknown).
   * Out-of-order segments wait for the gap to fill; retransmitted bytes are skipped.
   */
  private tcp(p: Uint8Array, t: number, src: string, dst: string): Datagram | Datagram[] {
    if (p.length < t + 20) return { kind: 'malformed', why: `TCP header cut short (${p.length - t} bytes)` };
    const sport = (p[t]! << 8) | p[t + 1]!;
    const dport = (p[t + 2]! << 8) | p[t + 3]!;
    const toIke = dport === 4500 || this.ikePorts.has(dport);
    if (!toIke && !(sport === 4500 || this.ikePorts.has(sport))) return { kind: 'other', why: `TCP port ${sport} -> ${dport}` };
    const seq = ((p[t + 4]! << 24) | (p[t + 5]! << 16) | (p[t + 6]! << 8) | p[t + 7]!) >>> 0;
    const dataOffset = (p[t + 12]! >> 4) * 4;
    const flags = p[t + 13]!;
    if (dataOffset < 20 || t + dataOffset > p.length) return { kind: 'malformed', why: `TCP data offset ${dataOffset} does not fit the ${p.length - t}-byte segment` };
    const key = `${src}:${sport}>${dst}:${dport}`;
    const ends = { src, dst, sport, dport };
    if (flags & TCP_SYN) {
      // The originator (the side that connects to 4500) sends "IKETCP" first; the responder sends none (RFC 9329 4).
      this.streams.set(key, { next: (seq + 1) >>> 0, pending: new Map(), deframer: new TcpDeframer({ expectPrefix: toIke }) });
      return [];
    }
    const s = this.streams.get(key);
    const data = p.subarray(t + dataOffset);
    const out: Datagram[] = [];
    if (!s) {
      if (data.length > 0) out.push({ kind: 'other', why: `TCP ${key}: the stream's start (SYN) is not in the capture, so its RFC 9329 frame boundaries are unknown` });
    } else if (data.length > 0 && !s.failed) {
      s.pending.set(seq, data);
      this.drain(s, ends, out);
      if (!s.failed && s.pending.size > MAX_PENDING_SEGMENTS) {
        // A gap that never fills: the capture lost a segment (snap length, dropped by the capturer).
        s.failed = true;
        out.push({ kind: 'malformed', why: `TCP ${key}: bytes from sequence number ${s.next} are missing from the capture; the rest of the stream is not read` });
      }
    }
    if (flags & (TCP_FIN | TCP_RST)) this.streams.delete(key);
    return out;
  }

  /** Feeds the stream's in-order bytes to its deframer; each frame is then read like a UDP 4500 payload. */
  private drain(s: TcpStream, ends: Endpoints, out: Datagram[]): void {
    let progress = true;
    while (progress && !s.failed) {
      progress = false;
      for (const [seq, data] of s.pending) {
        const ahead = (seq - s.next) | 0; // sequence space arithmetic (RFC 9293 3.4)
        if (ahead > 0) continue;
        s.pending.delete(seq);
        if (-ahead >= data.length) continue; // a retransmission of bytes already read
        const fresh = data.subarray(-ahead);
        s.next = (s.next + fresh.length) >>> 0;
        progress = true;
        let frames: Uint8Array[];
        try {
          frames = s.deframer.push(fresh);
        } catch (e) {
          if (!(e instanceof TcpEncapError)) throw e;
          s.failed = true;
          out.push({ kind: 'malformed', why: `TCP ${ends.src}:${ends.sport} -> ${ends.dst}:${ends.dport}: ${e.message}` });
          return;
        }
        for (const f of frames) out.push(this.framed(f, ends));
        break;
      }
    }
  }

  /** One RFC 9329 frame: the non-ESP marker then IKE (3.1), else ESP starting with its SPI (3.2). */
  private framed(f: Uint8Array, ends: Endpoints): Datagram {
    if (f.length >= 4 && f[0] === 0 && f[1] === 0 && f[2] === 0 && f[3] === 0) return { kind: 'ike', ...ends, message: f.subarray(4), marker: true, tcp: true };
    if (f.length < 8) return { kind: 'malformed', why: `TCP-encapsulated ESP of ${f.length} bytes has no SPI and sequence number` };
    return { kind: 'esp', ...ends, packet: f, encap: 'tcp' };
  }

  /** RFC 791 section 3.2 reassembly, keyed by source, destination, protocol and Identification. */
  private reassemble(p: Uint8Array, ihl: number, frameNumber: number): Uint8Array | string {
    const id = (p[4]! << 8) | p[5]!;
    const flagsOff = (p[6]! << 8) | p[7]!;
    const more = (flagsOff & 0x2000) !== 0;
    const offset = (flagsOff & 0x1fff) * 8;
    const key = `${formatIp(p.subarray(12, 16))}>${formatIp(p.subarray(16, 20))}/${p[9]}/${id}`;
    let f = this.fragments.get(key);
    if (!f) {
      f = { pieces: new Map(), firstFrame: frameNumber };
      this.fragments.set(key, f);
    }
    f.pieces.set(offset, p.subarray(ihl));
    if (offset === 0) f.header = p.subarray(0, ihl);
    if (!more) f.totalPayload = offset + p.length - ihl;
    if (f.header === undefined || f.totalPayload === undefined) return `IPv4 fragment (id ${id}) waiting for the rest`;
    let have = 0;
    for (const [o, piece] of [...f.pieces].sort((a, b) => a[0] - b[0])) {
      if (o > have) return `IPv4 fragment (id ${id}) waiting for the rest`;
      have = Math.max(have, o + piece.length);
    }
    if (have < f.totalPayload) return `IPv4 fragment (id ${id}) waiting for the rest`;
    this.fragments.delete(key);
    const hl = f.header.length;
    const out = new Uint8Array(hl + f.totalPayload);
    out.set(f.header, 0);
    for (const [o, piece] of f.pieces) out.set(piece.subarray(0, Math.max(0, f.totalPayload - o)), hl + o);
    const total = out.length;
    out[2] = total >>> 8;
    out[3] = total & 0xff;
    out[6] = 0;
    out[7] = 0; // no longer a fragment
    return out;
  }
}

/** Out-of-order segments held per stream before the missing bytes are declared lost. */
const MAX_PENDING_SEGMENTS = 1024;
const TCP_FIN = 0x01;
const TCP_SYN = 0x02;
const TCP_RST = 0x04;

interface TcpStream {
  /** The sequence number of the next byte to read. */
  next: number;
  /** Segments by sequence number, not yet read (ahead of `next`, or just received). */
  readonly pending: Map<number, Uint8Array>;
  readonly deframer: TcpDeframer;
  /** A bad prefix or Length was reported: the rest of the stream is not read. */
  failed?: boolean;
}

/** An IKEv2 header (RFC 7296 3.1): version 2.x and a Length equal to the datagram. */
function looksLikeIke(b: Uint8Array): boolean {
  if (b.length < 28) return false;
  const len = ((b[24]! << 24) | (b[25]! << 16) | (b[26]! << 8) | b[27]!) >>> 0;
  return b[17]! >> 4 === 2 && len === b.length;
}
