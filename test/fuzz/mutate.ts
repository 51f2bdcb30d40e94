/**
 * Structure-aware mutation of an IKE payload chain (RFC 7296 3.2 generic payload header), for the exchange fuzzer.
 *
 * The chain is split into segments by the generic header (Next Payload | C | RESERVED | Payload Length), mutated
 * as a list (drop, duplicate, reorder, insert donors) and inside bodies (bit flips, truncation, extension, the
 * leading fixed fields set to boundary values, notify types swapped, odd-length notify data), then re-linked with
 * the Next Payload fields and lengths recomputed, unless a mutation deliberately lies about a length.
 */
import { NotifyType, PayloadType, payloadTypeOf, type Payload } from '../../src/ike/codec/types.js';
import { encodePayloadBody } from '../../src/ike/codec/payloads.js';

export interface Segment {
  type: number;
  /** Second octet of the generic header: the C bit (0x80) and RESERVED. */
  flags: number;
  body: Uint8Array;
  /** A deliberate Payload Length that does not match the body. */
  lenOverride?: number;
}

export type Rng = () => number;

/** Splits a payload chain; a chain that does not walk (already malformed) comes back as one opaque segment. */
export function splitChain(buf: Uint8Array, firstType: number): Segment[] {
  const out: Segment[] = [];
  let type = firstType;
  let o = 0;
  while (type !== PayloadType.NONE && o + 4 <= buf.length) {
    const len = (buf[o + 2]! << 8) | buf[o + 3]!;
    if (len < 4 || o + len > buf.length) break;
    out.push({ type, flags: buf[o + 1]!, body: buf.slice(o + 4, o + len) });
    type = buf[o]!;
    o += len;
  }
  return out;
}

/** Re-links segments: each Next Payload names the following segment, lengths recomputed unless overridden. */
export function joinChain(segs: readonly Segment[], lastNext: number = PayloadType.NONE): { first: number; bytes: Uint8Array } {
  let total = 0;
  for (const s of segs) total += 4 + s.body.length;
  const out = new Uint8Array(total);
  let o = 0;
  segs.forEach((s, i) => {
    out[o] = i + 1 < segs.length ? segs[i + 1]!.type : lastNext;
    out[o + 1] = s.flags;
    const len = (s.lenOverride ?? 4 + s.body.length) & 0xffff;
    out[o + 2] = len >> 8;
    out[o + 3] = len & 0xff;
    out.set(s.body, o + 4);
    o += 4 + s.body.length;
  });
  return { first: segs.length > 0 ? segs[0]!.type : PayloadType.NONE, bytes: out };
}

const NOTIFY_TYPES = Object.values(NotifyType);
const PAYLOAD_TYPES = [33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 53, 0, 1, 99, 128, 255];
const BOUNDARY = [0, 1, 2, 3, 4, 0x7f, 0x80, 0xfe, 0xff];

function pick<T>(r: Rng, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)]!;
}

function randBytes(r: Rng, n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(r() * 256);
  return b;
}

function notifyBody(notifyType: number, data: Uint8Array, protocol = 0, spi: Uint8Array = new Uint8Array(0)): Uint8Array {
  const b = new Uint8Array(4 + spi.length + data.length);
  b[0] = protocol;
  b[1] = spi.length;
  b[2] = notifyType >> 8;
  b[3] = notifyType & 0xff;
  b.set(spi, 4);
  b.set(data, 4 + spi.length);
  return b;
}

/** Notify types whose data the endpoint parses: odd, short and long data for them is where parsers break. */
const PARSED_NOTIFIES: number[] = [
  NotifyType.SIGNATURE_HASH_ALGORITHMS,
  NotifyType.INVALID_KE_PAYLOAD,
  NotifyType.REKEY_SA,
  NotifyType.COOKIE,
  NotifyType.NAT_DETECTION_SOURCE_IP,
  NotifyType.NAT_DETECTION_DESTINATION_IP,
  NotifyType.IKEV2_FRAGMENTATION_SUPPORTED,
  NotifyType.USE_TRANSPORT_MODE,
  NotifyType.INITIAL_CONTACT,
  NotifyType.TS_UNACCEPTABLE,
  NotifyType.NO_PROPOSAL_CHOSEN,
  NotifyType.INVALID_SYNTAX,
  NotifyType.AUTHENTICATION_FAILED,
  NotifyType.TEMPORARY_FAILURE,
  NotifyType.CHILD_SA_NOT_FOUND,
  NotifyType.INTERNAL_ADDRESS_FAILURE,
  NotifyType.SINGLE_PAIR_REQUIRED,
  NotifyType.ADDITIONAL_TS_POSSIBLE,
];

/** Mutates one body in place-ish (returns the new body). `type` guides field-aware edits. */
function mutateBody(r: Rng, s: Segment): void {
  const b = s.body;
  switch (Math.floor(r() * 8)) {
    case 0: { // bit flips
      const c = b.slice();
      for (let i = 0, n = 1 + Math.floor(r() * 3); i < n && c.length > 0; i++) c[Math.floor(r() * c.length)]! ^= 1 << Math.floor(r() * 8);
      s.body = c;
      return;
    }
    case 1: // truncate
      s.body = b.slice(0, Math.floor(r() * b.length));
      return;
    case 2: { // extend
      const c = new Uint8Array(b.length + 1 + Math.floor(r() * 24));
      c.set(b);
      c.set(randBytes(r, c.length - b.length), b.length);
      s.body = c;
      return;
    }
    case 3: { // a leading fixed field (protocol, SPI size, ID/AUTH/TS type, counts, group) to a boundary value
      if (b.length === 0) return;
      const c = b.slice();
      c[Math.floor(r() * Math.min(c.length, 12))] = pick(r, BOUNDARY);
      s.body = c;
      return;
    }
    case 4: { // a 16-bit field somewhere to a boundary (lengths inside proposals, transforms, TS, attributes)
      if (b.length < 2) return;
      const c = b.slice();
      const o = Math.floor(r() * (c.length - 1));
      const v = pick(r, [0, 1, 4, 7, 8, 0xff, 0x100, 0x7fff, 0xffff, c.length, c.length + 1, c.length - o]);
      c[o] = (v >> 8) & 0xff;
      c[o + 1] = v & 0xff;
      s.body = c;
      return;
    }
    case 5: // an empty body
      s.body = new Uint8Array(0);
      return;
    case 6: // random body of a plausible size
      s.body = randBytes(r, Math.floor(r() * 64));
      return;
    default: { // byte-level splice inside the body
      if (b.length < 2) return;
      const from = Math.floor(r() * b.length);
      const len = Math.floor(r() * (b.length - from));
      const at = Math.floor(r() * b.length);
      const c = new Uint8Array(b.length + len);
      c.set(b.subarray(0, at));
      c.set(b.subarray(from, from + len), at);
      c.set(b.subarray(at), at + len);
      s.body = c;
    }
  }
}

/**
 * Applies 1-3 structure-aware mutations to a chain. `donors` are segments from other messages of the session
 * (SA, TS, ID, CERT, AUTH, CP, KE, DELETE, N...), inserted or swapped in to make bogus-but-parseable content.
 */
export function mutateChain(r: Rng, segs: Segment[], donors: readonly Segment[]): Segment[] {
  const out = segs.map((s) => ({ ...s }));
  const rounds = 1 + Math.floor(r() * r() * 3);
  for (let k = 0; k < rounds; k++) {
    const i = Math.floor(r() * Math.max(1, out.length));
    const s = out[i];
    switch (Math.floor(r() * 14)) {
      case 0: // drop a payload
        if (out.length > 0) out.splice(i, 1);
        break;
      case 1: // duplicate a payload
        if (s) out.splice(i, 0, { ...s });
        break;
      case 2: { // reorder
        if (out.length > 1) {
          const j = Math.floor(r() * out.length);
          [out[i], out[j]] = [out[j]!, out[i]!];
        }
        break;
      }
      case 3:
      case 4:
      case 5: // a body edit
        if (s) mutateBody(r, s);
        break;
      case 6: // the Payload Length lies
        if (s) s.lenOverride = pick(r, [0, 1, 3, 4, 5, s.body.length + 3, s.body.length + 5, s.body.length + 4 + 1 + Math.floor(r() * 64), 0xffff]);
        break;
      case 7: // C bit / RESERVED
        if (s) s.flags = pick(r, [0x80, 0x01, 0x81, 0x7f, 0xff, 0]);
        break;
      case 8: // payload type changed (known and unknown, critical or not)
        if (s) s.type = pick(r, PAYLOAD_TYPES);
        break;
      case 9: { // a notify's type swapped
        const ns = out.filter((x) => x.type === PayloadType.NOTIFY && x.body.length >= 4);
        const n = ns.length > 0 ? pick(r, ns) : undefined;
        if (n) {
          const t = r() < 0.7 ? pick(r, NOTIFY_TYPES as number[]) : Math.floor(r() * 65536);
          const c = n.body.slice();
          c[2] = t >> 8;
          c[3] = t & 0xff;
          n.body = c;
        }
        break;
      }
      case 10: { // a parsed notify with odd / short / long data inserted
        const t = pick(r, PARSED_NOTIFIES);
        const len = pick(r, [0, 1, 2, 3, 5, 7, 8, 19, 20, 21, 33, 200]);
        const spi = r() < 0.2 ? randBytes(r, pick(r, [1, 4, 8])) : new Uint8Array(0);
        out.splice(Math.floor(r() * (out.length + 1)), 0, { type: PayloadType.NOTIFY, flags: 0, body: notifyBody(t, randBytes(r, len), r() < 0.3 ? pick(r, [0, 1, 3, 9]) : 0, spi) });
        break;
      }
      case 11: // a donor payload inserted
        if (donors.length > 0) out.splice(Math.floor(r() * (out.length + 1)), 0, { ...pick(r, donors) });
        break;
      case 12: { // a payload's body replaced by a donor's of the same type (bogus-but-parseable content)
        const same = s ? donors.filter((d) => d.type === s.type && d.body !== s.body) : [];
        if (s && same.length > 0) s.body = pick(r, same).body;
        else if (s) mutateBody(r, s);
        break;
      }
      default: // a donor body with a field edit
        if (donors.length > 0) {
          const d = { ...pick(r, donors) };
          mutateBody(r, d);
          out.splice(Math.floor(r() * (out.length + 1)), 0, d);
        }
    }
  }
  return out;
}

/**
 * Donor payloads the sessions themselves rarely carry (no virtual IPs, certificates only in some runs): CP
 * requests and replies, CERT/CERTREQ, bogus KE groups and lengths, odd ID types, AUTH method 14 with a broken
 * AlgorithmIdentifier, Deletes of every protocol and SPI size, TS of unknown type or inverted ranges, EAP.
 */
export function seedDonors(): Segment[] {
  const u = (...b: number[]): Uint8Array => Uint8Array.from(b);
  const ip4 = (a: number, b: number, c: number, d: number): number[] => [a, b, c, d];
  const ps: Payload[] = [
    { type: PayloadType.CP, critical: false, cfgType: 1, attributes: [{ type: 1, value: u() }, { type: 3, value: u() }, { type: 8, value: u() }] },
    { type: PayloadType.CP, critical: false, cfgType: 2, attributes: [{ type: 1, value: u(...ip4(10, 9, 0, 1)) }, { type: 3, value: u(...ip4(8, 8, 8, 8)) }] },
    { type: PayloadType.CP, critical: false, cfgType: 2, attributes: [{ type: 1, value: u(1, 2, 3) }, { type: 8, value: u(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 64) }] },
    { type: PayloadType.CP, critical: false, cfgType: 9, attributes: [] },
    { type: PayloadType.CERT, critical: false, encoding: 4, data: u(0x30, 0x82, 0x01, 0x00, 0x30, 0x03, 0x02, 0x01) },
    { type: PayloadType.CERT, critical: false, encoding: 12, data: u(...new Array<number>(20).fill(7)) },
    { type: PayloadType.CERTREQ, critical: false, encoding: 4, data: u(...new Array<number>(21).fill(1)) },
    { type: PayloadType.KE, critical: false, group: 31, data: u(...new Array<number>(31).fill(9)) },
    { type: PayloadType.KE, critical: false, group: 0, data: u() },
    { type: PayloadType.KE, critical: false, group: 19, data: u(4, ...new Array<number>(64).fill(0)) },
    { type: PayloadType.KE, critical: false, group: 14, data: u(...new Array<number>(256).fill(0)) },
    { type: PayloadType.IDi, critical: false, idType: 1, data: u(1, 2, 3) },
    { type: PayloadType.IDr, critical: false, idType: 9, data: u(0x30, 0x00) },
    { type: PayloadType.IDi, critical: false, idType: 11, data: u() },
    { type: PayloadType.AUTH, critical: false, method: 14, data: u(5, 0x30, 0x03, 0x06, 0x01, 0x00, 1, 2, 3) },
    { type: PayloadType.AUTH, critical: false, method: 14, data: u(200, 1, 2) },
    { type: PayloadType.AUTH, critical: false, method: 9, data: u(...new Array<number>(64).fill(1)) },
    { type: PayloadType.AUTH, critical: false, method: 2, data: u() },
    { type: PayloadType.DELETE, critical: false, protocol: 1, spiSize: 0, spis: [] },
    { type: PayloadType.DELETE, critical: false, protocol: 3, spiSize: 4, spis: [u(0, 0, 1, 0), u(0xff, 0xff, 0xff, 0xff)] },
    { type: PayloadType.DELETE, critical: false, protocol: 2, spiSize: 4, spis: [u(1, 2, 3, 4)] },
    { type: PayloadType.TSi, critical: false, selectors: [{ tsType: 7, ipProtocol: 0, startPort: 0, endPort: 65535, startAddr: u(...ip4(10, 0, 0, 0)), endAddr: u(...ip4(10, 255, 255, 255)) }] },
    { type: PayloadType.TSr, critical: false, selectors: [{ tsType: 7, ipProtocol: 6, startPort: 500, endPort: 100, startAddr: u(...ip4(10, 9, 0, 0)), endAddr: u(...ip4(10, 1, 0, 0)) }] },
    { type: PayloadType.TSi, critical: false, selectors: [{ tsType: 8, ipProtocol: 17, startPort: 0, endPort: 65535, startAddr: new Uint8Array(16), endAddr: new Uint8Array(16).fill(255) }] },
    { type: PayloadType.EAP, critical: false, data: u(1, 1, 0, 5, 1) },
    { type: PayloadType.VENDOR, critical: false, data: u(0x88, 0x2f, 0xe5, 0x6d) },
  ];
  return ps.map((p) => ({ type: payloadTypeOf(p), flags: 0, body: encodePayloadBody(p) }));
}
