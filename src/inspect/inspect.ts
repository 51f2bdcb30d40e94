/**
 * The inspector: frames in, one record per IKE message and ESP packet out, decrypted where the key log has the
 * keys, with the reason where not (no keys for these SPIs, ICV failure, unsupported transform: named).
 *
 * IKE: the original initiator's messages (I flag, RFC 7296 3.1) are protected with SK_ei/SK_ai, the others with
 * SK_er/SK_ar (2.14); SKF fragments (RFC 7383) are decrypted one by one and the message is reassembled at the
 * fragment that completes it. ESP: keys by SPI (and addresses when two entries share a SPI), no replay window.
 */
import { createEspOpener, type EspPacketOpener, type OpenedEspPacket } from '../esp/index.js';
import * as codec from '../ike/codec/index.js';
import { decryptIkeMessage, joinFragments } from '../ike/codec/index.js';
// Public API (src/index.ts re-exports them), from their modules so that the IKE endpoint is not loaded.
import { formatIp } from '../net/ip-address.js';
import { parseIpHeader } from '../net/ip-packet.js';
import type { CaptureFrame } from './capture-file.js';
import { DatagramReader, type Endpoints } from './datagrams.js';
import { describePayload, type PayloadSummary } from './describe-ike.js';
import type { EspKeyEntry, IkeKeyEntry, KeyLog } from './key-log.js';

interface RecordBase {
  /** Frame number in the capture (1-based, as Wireshark). */
  readonly frame: number;
  /** Seconds since the first frame. */
  readonly time: number;
  readonly src: string;
  readonly dst: string;
  readonly sport?: number;
  readonly dport?: number;
  /** True when the content was decrypted (IKE: the SK/SKF payload; ESP: the payload). */
  readonly decrypted: boolean;
  /** Why not decrypted (also for IKE messages sent in clear: "not encrypted"). */
  readonly reason?: string;
  /** Transforms used to decrypt, e.g. `AES_GCM_16-128`. */
  readonly suite?: string;
}

export interface IkeRecord extends RecordBase {
  readonly kind: 'ike';
  readonly exchange: string;
  readonly messageId: number;
  /** R flag. */
  readonly response: boolean;
  /** I flag: sent by the original initiator of the IKE SA. */
  readonly initiator: boolean;
  readonly spiI: string;
  readonly spiR: string;
  readonly encrypted: boolean;
  /** Plaintext payloads, then the decrypted inner payloads (for the fragment that completes a message: all of it). */
  readonly payloads: readonly PayloadSummary[];
  readonly fragment?: { readonly number: number; readonly total: number; readonly reassembledFrom?: readonly number[] };
  /** Set when the message came on an RFC 9329 TCP stream (absent for UDP). */
  readonly transport?: 'tcp';
}

export interface EspRecord extends RecordBase {
  readonly kind: 'esp';
  /** `tcp`: RFC 9329 TCP encapsulation. */
  readonly encap: 'udp' | 'ip' | 'tcp';
  /** 8 hex digits. */
  readonly spi: string;
  readonly seq: number;
  readonly mode?: OpenedEspPacket['mode'];
  /** Tunnel mode: the inner IP packet; transport mode: the upper protocol with the outer addresses. */
  readonly inner?: { readonly src: string; readonly dst: string; readonly protocol: string; readonly sport?: number; readonly dport?: number; readonly length: number };
}

export type InspectRecord = IkeRecord | EspRecord;

export interface InspectResult {
  readonly records: InspectRecord[];
  /** Frames on IKE/ESP ports that could not be read (truncated, malformed), with the reason. */
  readonly notes: { readonly frame: number; readonly text: string }[];
}

export interface InspectOptions {
  readonly keys: KeyLog;
  /** UDP ports read like 4500 besides 500 and 4500. */
  readonly ports?: readonly number[];
}

const PROTO_NAMES = new Map([[1, 'icmp'], [2, 'igmp'], [4, 'ipip'], [6, 'tcp'], [17, 'udp'], [41, 'ipv6'], [47, 'gre'], [50, 'esp'], [58, 'ipv6-icmp'], [132, 'sctp']]);
const protoName = (p: number): string => PROTO_NAMES.get(p) ?? `proto ${p}`;
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

export function inspectFrames(frames: readonly CaptureFrame[], opts: InspectOptions): InspectResult {
  const reader = new DatagramReader(opts.ports ?? []);
  const ike = new IkeDecryptor(opts.keys.ike);
  const esp = new EspDecryptor(opts.keys.esp);
  const records: InspectRecord[] = [];
  const notes: InspectResult['notes'] = [];
  const t0 = frames[0]?.time ?? 0;
  for (const f of frames) {
    const time = Math.round((f.time - t0) * 1e6) / 1e6;
    for (const d of reader.readAll(f)) {
      if (d.kind === 'ike') {
        const r = ike.record(f.number, time, d, d.message);
        records.push(d.tcp ? { ...r, transport: 'tcp' } : r);
      } else if (d.kind === 'esp') records.push(esp.record(f.number, time, d, d.packet, d.encap));
      else if (d.kind === 'malformed') notes.push({ frame: f.number, text: d.why });
    }
  }
  ike.dispose();
  esp.dispose();
  return { records, notes };
}

const ends = (e: Endpoints): Endpoints => ({ src: e.src, dst: e.dst, ...(e.sport !== undefined ? { sport: e.sport, dport: e.dport } : {}) });

class IkeDecryptor {
  private readonly bySpis = new Map<string, IkeKeyEntry>();
  private readonly fragments = new Map<string, { chunks: Uint8Array[]; frames: number[]; first?: number; total: number }>();

  constructor(entries: readonly IkeKeyEntry[]) {
    for (const e of entries) this.bySpis.set(`${e.spiI}_${e.spiR}`, e);
  }

  record(frame: number, time: number, e: Endpoints, message: Uint8Array): IkeRecord {
    const base = { frame, time, kind: 'ike' as const, ...ends(e) };
    const d = codec.decodeMessage(message);
    if (!d.ok) {
      return {
        ...base, exchange: 'unknown', messageId: -1, response: false, initiator: false, spiI: '', spiR: '', encrypted: false, payloads: [],
        decrypted: false, reason: `malformed IKE message: ${d.error.message} (at byte ${d.error.offset})`,
      };
    }
    const h = d.value.header;
    const spiI = hex(h.spiI);
    const spiR = hex(h.spiR);
    const head = {
      ...base,
      exchange: codec.exchangeTypeName(h.exchangeType),
      messageId: h.messageId,
      response: h.flags.response,
      initiator: h.flags.initiator,
      spiI,
      spiR,
    };
    const outer = d.value.payloads.map(describePayload);
    const enc = d.value.encrypted;
    if (!enc) return { ...head, encrypted: false, payloads: outer, decrypted: false, reason: 'not encrypted' };
    const fragInfo = enc.type === codec.PayloadType.SKF ? { number: enc.fragmentNumber ?? 0, total: enc.totalFragments ?? 0 } : undefined;
    const notDecrypted = (reason: string): IkeRecord => ({ ...head, encrypted: true, payloads: outer, decrypted: false, reason, ...(fragInfo ? { fragment: fragInfo } : {}) });
    const k = this.bySpis.get(`${spiI}_${spiR}`);
    if (!k) return notDecrypted(`no keys for IKE SA ${spiI}_i ${spiR}_r`);
    if (k.encr === undefined) return notDecrypted(`unsupported transform ${k.encrName} (${k.source})`);
    if (k.integ === undefined) return notDecrypted(`unsupported transform ${k.integName} (${k.source})`);
    const fromInitiator = h.flags.initiator;
    const r = decryptIkeMessage(message, {
      encr: k.encr,
      ...(k.encrKeyBits !== undefined ? { encrKeyBits: k.encrKeyBits } : {}),
      skE: fromInitiator ? k.skEi : k.skEr,
      ...(k.integ ? { integ: k.integ } : {}),
      ...((fromInitiator ? k.skAi : k.skAr) ? { skA: (fromInitiator ? k.skAi : k.skAr)! } : {}),
    });
    if (!r.ok) {
      const why = r.error.code === 'INTEGRITY_CHECK_FAILED' ? 'ICV failure' : r.error.code === 'UNSUPPORTED_TRANSFORM' ? 'unsupported transform' : 'cannot decrypt';
      return notDecrypted(`${why}: ${r.error.message} (${k.source})`);
    }
    const suite = r.value.suite;
    if (r.value.payloads) return { ...head, encrypted: true, decrypted: true, suite, payloads: [...outer, ...r.value.payloads.map(describePayload)] };
    // SKF: keep the chunk; the fragment that completes the set carries the whole message.
    const fr = r.value.fragment!;
    const key = `${spiI}_${spiR}_${h.messageId}_${h.flags.response ? 'r' : 'q'}`;
    let set = this.fragments.get(key);
    if (!set || set.total !== fr.total) {
      set = { chunks: new Array<Uint8Array>(fr.total), frames: [], total: fr.total };
      this.fragments.set(key, set);
    }
    if (fr.number >= 1 && fr.number <= fr.total) {
      set.chunks[fr.number - 1] = fr.plaintext.slice();
      set.frames[fr.number - 1] = frame;
      if (fr.number === 1) set.first = fr.firstInnerType;
    }
    const fragment = { number: fr.number, total: fr.total };
    let have = 0;
    for (let i = 0; i < set.total; i++) if (set.chunks[i]) have++;
    if (have < set.total || set.first === undefined) return { ...head, encrypted: true, decrypted: true, suite, payloads: outer, fragment };
    this.fragments.delete(key);
    const joined = joinFragments(set.chunks, set.first);
    if (!joined.ok) return { ...head, encrypted: true, decrypted: true, suite, payloads: outer, fragment, reason: joined.error.message };
    return { ...head, encrypted: true, decrypted: true, suite, payloads: [...outer, ...joined.value.map(describePayload)], fragment: { ...fragment, reassembledFrom: [...set.frames] } };
  }

  dispose(): void {
    this.fragments.clear();
  }
}

type OpenerSlot = { readonly encr: number } & ({ readonly ok: true; readonly value: EspPacketOpener } | { readonly ok: false; readonly error: { readonly message: string } });

class EspDecryptor {
  private readonly bySpi = new Map<number, EspKeyEntry[]>();
  /** One opener per candidate transform of each entry (keys scheduled once). */
  private readonly openers = new Map<EspKeyEntry, OpenerSlot[]>();

  constructor(entries: readonly EspKeyEntry[]) {
    for (const e of entries) this.bySpi.set(e.spi, [...(this.bySpi.get(e.spi) ?? []), e]);
  }

  record(frame: number, time: number, e: Endpoints, packet: Uint8Array, encap: 'udp' | 'ip' | 'tcp'): EspRecord {
    const dv = new DataView(packet.buffer, packet.byteOffset, packet.byteLength);
    const spiNum = packet.length >= 4 ? dv.getUint32(0) : 0;
    const spi = spiNum.toString(16).padStart(8, '0');
    const base = { frame, time, kind: 'esp' as const, ...ends(e), encap, spi, seq: packet.length >= 8 ? dv.getUint32(4) : -1 };
    const cands = this.bySpi.get(spiNum) ?? [];
    const entry = cands.length > 1 ? (cands.find((c) => c.src === e.src && c.dst === e.dst) ?? cands[0]) : cands[0];
    if (!entry) return { ...base, decrypted: false, reason: `no keys for ESP SPI ${spi}` };
    if (entry.encr.length === 0) return { ...base, decrypted: false, reason: `unsupported transform ${entry.encrName} (${entry.source})` };
    if (entry.integ === undefined) return { ...base, decrypted: false, reason: `unsupported transform ${entry.integName} (${entry.source})` };
    let firstError: string | undefined;
    for (const o of this.openersOf(entry)) {
      if (!o.ok) {
        firstError ??= o.error.message;
        continue;
      }
      const r = o.value.open(packet);
      if (r.ok) return { ...base, decrypted: true, suite: r.value.suite, mode: r.value.mode, ...inner(r.value, e) };
      firstError ??= r.error.code === 'ICV_FAILURE' ? `ICV failure: ${r.error.message}` : r.error.message;
    }
    return { ...base, decrypted: false, reason: `${firstError ?? 'cannot decrypt'} (${entry.source})` };
  }

  private openersOf(entry: EspKeyEntry): OpenerSlot[] {
    let list = this.openers.get(entry);
    if (!list) {
      // Key logs do not say whether the SA uses Extended Sequence Numbers: try without, then with ESN (RFC 4303
      // 2.2.1; the high half is guessed as 0, right for the first 2^32 packets).
      list = entry.encr.flatMap((encr) =>
        [false, true].map((esn): OpenerSlot => ({
          encr,
          ...createEspOpener({ encr, encrKey: entry.encrKey, esn, ...(entry.integ ? { integ: entry.integ } : {}), ...(entry.integKey ? { integKey: entry.integKey } : {}) }),
        })),
      );
      this.openers.set(entry, list);
    }
    return list;
  }

  dispose(): void {
    for (const list of this.openers.values()) for (const o of list) if (o.ok) o.value.dispose();
    this.openers.clear();
  }
}

function inner(o: OpenedEspPacket, outer: Endpoints): { inner?: EspRecord['inner'] } {
  if (o.mode === 'dummy') return {};
  if (o.mode === 'tunnel') {
    try {
      const h = parseIpHeader(o.payload);
      return {
        inner: {
          src: formatIp(h.src),
          dst: formatIp(h.dst),
          protocol: protoName(h.protocol),
          ...(h.srcPort !== undefined ? { sport: h.srcPort, dport: h.dstPort! } : {}),
          length: h.totalLength,
        },
      };
    } catch {
      return { inner: { src: '?', dst: '?', protocol: `unreadable inner IP packet`, length: o.payload.length } };
    }
  }
  const p = o.payload;
  const ports = (o.nextHeader === 6 || o.nextHeader === 17) && p.length >= 4 ? { sport: (p[0]! << 8) | p[1]!, dport: (p[2]! << 8) | p[3]! } : {};
  return { inner: { src: outer.src, dst: outer.dst, protocol: protoName(o.nextHeader), ...ports, length: p.length } };
}
