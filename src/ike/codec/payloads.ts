/**
 * Payload body layouts (RFC 7296 section 3.3 - 3.16), one entry per payload type: a bounds-checked decoder from
 * `buf[start, end)` (the bytes after the 4-byte generic payload header) and an encoder producing the body.
 *
 * Every decoder reads only inside [start, end) and reports errors with absolute offsets into `buf`.
 * Decoded byte fields are copies, so the caller may reuse the datagram buffer. The shared Layout contract and
 * helpers are in payload-layout.ts, the TS and CP layouts in ts-cp-payloads.ts.
 */
import { put16, u8, u16 } from './bytes.js';
import { payloadTypeName } from './names.js';
import {
  codecError,
  IkeEncodeError,
  ok,
  PayloadType,
  TransformAttributeType,
  type Payload,
  type Proposal,
  type Result,
  type Transform,
  type TransformAttribute,
} from './types.js';
import { check, copy, joinParts, LIMITS, short, u8ok, u16ok, type Layout } from './payload-layout.js';
import { cpLayout, tsLayout } from './ts-cp-payloads.js';

export { LIMITS } from './payload-layout.js';

// ---------------------------------------------------------------------------------------------------------------
// SA (RFC 7296 3.3): proposals -> transforms -> attributes
// ---------------------------------------------------------------------------------------------------------------
//                      1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// | Last Substruc |   RESERVED    |         Proposal Length       |
// | Proposal Num  |  Protocol ID  |    SPI Size   |Num  Transforms|
// ~                        SPI (variable)                         ~
// ~                        <Transforms>                           ~
//
// | Last Substruc |   RESERVED    |        Transform Length       |
// |Transform Type |   RESERVED    |          Transform ID         |
// ~                      Transform Attributes                     ~
//
// |A|       Attribute Type        |    AF=0  Attribute Length     |
// |F|                             |    AF=1  Attribute Value      |

const LAST_PROPOSAL = 0;
const MORE_PROPOSALS = 2;
const LAST_TRANSFORM = 0;
const MORE_TRANSFORMS = 3;

function decodeAttributes(buf: Uint8Array, start: number, end: number): Result<{ keyLength?: number; others: TransformAttribute[] }> {
  let o = start;
  let keyLength: number | undefined;
  const others: TransformAttribute[] = [];
  let count = 0;
  while (o < end) {
    if (++count > LIMITS.attributesPerTransform) return codecError('TOO_MANY_PAYLOADS', 'too many transform attributes', o, PayloadType.SA);
    if (end - o < 4) return codecError('TRUNCATED', 'transform attribute header truncated', o, PayloadType.SA);
    const tv = (u8(buf, o) & 0x80) !== 0;
    const type = u16(buf, o) & 0x7fff;
    if (tv) {
      const value = u16(buf, o + 2);
      if (type === TransformAttributeType.KEY_LENGTH) {
        if (keyLength !== undefined) return codecError('INVALID_SYNTAX', 'duplicate Key Length attribute', o, PayloadType.SA);
        keyLength = value;
      } else {
        others.push({ type, tv: true, value: copy(buf, o + 2, o + 4) });
      }
      o += 4;
    } else {
      const len = u16(buf, o + 2);
      if (type === TransformAttributeType.KEY_LENGTH) {
        // RFC 7296 3.3.5: Key Length is TV only.
        return codecError('INVALID_SYNTAX', 'Key Length attribute in TLV form', o, PayloadType.SA);
      }
      if (o + 4 + len > end) return codecError('BAD_LENGTH', `attribute length ${len} runs past the transform`, o + 2, PayloadType.SA);
      others.push({ type, tv: false, value: copy(buf, o + 4, o + 4 + len) });
      o += 4 + len;
    }
  }
  return ok(keyLength === undefined ? { others } : { keyLength, others });
}

function decodeTransform(buf: Uint8Array, o: number, end: number): Result<{ t: Transform; last: boolean; next: number }> {
  if (end - o < 8) return codecError('TRUNCATED', 'transform header truncated', o, PayloadType.SA);
  const lastByte = u8(buf, o);
  if (lastByte !== LAST_TRANSFORM && lastByte !== MORE_TRANSFORMS) {
    return codecError('INVALID_SYNTAX', `transform Last Substruc is ${lastByte}, must be 0 or 3`, o, PayloadType.SA);
  }
  const len = u16(buf, o + 2);
  if (len < 8) return codecError('BAD_LENGTH', `transform length ${len} < 8`, o + 2, PayloadType.SA);
  if (o + len > end) return codecError('BAD_LENGTH', `transform length ${len} runs past the proposal`, o + 2, PayloadType.SA);
  const type = u8(buf, o + 4);
  const id = u16(buf, o + 6);
  const attrs = decodeAttributes(buf, o + 8, o + len);
  if (!attrs.ok) return attrs;
  const { keyLength, others } = attrs.value;
  const t: Transform = {
    type,
    id,
    ...(keyLength !== undefined ? { keyLength } : {}),
    ...(others.length > 0 ? { attributes: others } : {}),
  };
  return ok({ t, last: lastByte === LAST_TRANSFORM, next: o + len });
}

function decodeProposal(buf: Uint8Array, o: number, end: number): Result<{ p: Proposal; last: boolean; next: number }> {
  if (end - o < 8) return codecError('TRUNCATED', 'proposal header truncated', o, PayloadType.SA);
  const lastByte = u8(buf, o);
  if (lastByte !== LAST_PROPOSAL && lastByte !== MORE_PROPOSALS) {
    return codecError('INVALID_SYNTAX', `proposal Last Substruc is ${lastByte}, must be 0 or 2`, o, PayloadType.SA);
  }
  const len = u16(buf, o + 2);
  if (len < 8) return codecError('BAD_LENGTH', `proposal length ${len} < 8`, o + 2, PayloadType.SA);
  if (o + len > end) return codecError('BAD_LENGTH', `proposal length ${len} runs past the SA payload`, o + 2, PayloadType.SA);
  const pend = o + len;
  const num = u8(buf, o + 4);
  const protocol = u8(buf, o + 5);
  const spiSize = u8(buf, o + 6);
  const numTransforms = u8(buf, o + 7);
  if (8 + spiSize > len) return codecError('BAD_LENGTH', `SPI size ${spiSize} runs past the proposal`, o + 6, PayloadType.SA);
  if (numTransforms > LIMITS.transformsPerProposal) {
    return codecError('TOO_MANY_PAYLOADS', `${numTransforms} transforms in one proposal`, o + 7, PayloadType.SA);
  }
  const spi = copy(buf, o + 8, o + 8 + spiSize);
  const transforms: Transform[] = [];
  let t = o + 8 + spiSize;
  let sawLast = false;
  while (t < pend) {
    if (sawLast) return codecError('INVALID_SYNTAX', 'bytes after the last transform', t, PayloadType.SA);
    const r = decodeTransform(buf, t, pend);
    if (!r.ok) return r;
    transforms.push(r.value.t);
    if (transforms.length > numTransforms) break;
    sawLast = r.value.last;
    t = r.value.next;
  }
  if (transforms.length !== numTransforms) {
    return codecError('INVALID_SYNTAX', `proposal says ${numTransforms} transforms, found ${transforms.length}`, o + 7, PayloadType.SA);
  }
  if (numTransforms > 0 && !sawLast) return codecError('INVALID_SYNTAX', 'last transform not marked last', t, PayloadType.SA);
  return ok({ p: { num, protocol, spi, transforms }, last: lastByte === LAST_PROPOSAL, next: pend });
}

const saLayout: Layout = {
  fixed: 0,
  decode(buf, start, end, critical) {
    const proposals: Proposal[] = [];
    let o = start;
    let sawLast = false;
    while (o < end) {
      if (sawLast) return codecError('INVALID_SYNTAX', 'bytes after the last proposal', o, PayloadType.SA);
      if (proposals.length >= LIMITS.proposals) return codecError('TOO_MANY_PAYLOADS', 'too many proposals', o, PayloadType.SA);
      const r = decodeProposal(buf, o, end);
      if (!r.ok) return r;
      proposals.push(r.value.p);
      sawLast = r.value.last;
      o = r.value.next;
    }
    if (proposals.length === 0) return codecError('INVALID_SYNTAX', 'SA payload without proposals', start, PayloadType.SA);
    if (!sawLast) return codecError('INVALID_SYNTAX', 'last proposal not marked last', o, PayloadType.SA);
    return ok({ type: PayloadType.SA, critical, proposals });
  },
  encode(p) {
    if (p.type !== PayloadType.SA) throw new IkeEncodeError('not an SA payload');
    const parts: Uint8Array[] = [];
    p.proposals.forEach((prop, pi) => {
      check(u8ok(prop.num) && u8ok(prop.protocol), 'proposal num/protocol', 255);
      check(prop.spi.length <= 255, 'proposal SPI size', 255);
      check(prop.transforms.length <= 255, 'transform count', 255);
      const tparts: Uint8Array[] = [];
      prop.transforms.forEach((t, ti) => {
        check(u8ok(t.type) && u16ok(t.id), 'transform type/id', 0xffff);
        const attrs: Uint8Array[] = [];
        if (t.keyLength !== undefined) {
          check(u16ok(t.keyLength), 'key length', 0xffff);
          const a = new Uint8Array(4);
          put16(a, 0, 0x8000 | TransformAttributeType.KEY_LENGTH);
          put16(a, 2, t.keyLength);
          attrs.push(a);
        }
        for (const at of t.attributes ?? []) {
          check(at.type >= 0 && at.type <= 0x7fff, 'attribute type', 0x7fff);
          if (at.tv) {
            check(at.value.length === 2, 'TV attribute value length', 2);
            const a = new Uint8Array(4);
            put16(a, 0, 0x8000 | at.type);
            a.set(at.value, 2);
            attrs.push(a);
          } else {
            check(at.value.length <= 0xffff, 'TLV attribute length', 0xffff);
            const a = new Uint8Array(4 + at.value.length);
            put16(a, 0, at.type);
            put16(a, 2, at.value.length);
            a.set(at.value, 4);
            attrs.push(a);
          }
        }
        const alen = attrs.reduce((n, a) => n + a.length, 0);
        const tb = new Uint8Array(8 + alen);
        tb[0] = ti === prop.transforms.length - 1 ? LAST_TRANSFORM : MORE_TRANSFORMS;
        put16(tb, 2, tb.length);
        tb[4] = t.type;
        put16(tb, 6, t.id);
        let ao = 8;
        for (const a of attrs) {
          tb.set(a, ao);
          ao += a.length;
        }
        tparts.push(tb);
      });
      const tlen = tparts.reduce((n, a) => n + a.length, 0);
      const pb = new Uint8Array(8 + prop.spi.length + tlen);
      check(pb.length <= 0xffff, 'proposal length', 0xffff);
      pb[0] = pi === p.proposals.length - 1 ? LAST_PROPOSAL : MORE_PROPOSALS;
      put16(pb, 2, pb.length);
      pb[4] = prop.num;
      pb[5] = prop.protocol;
      pb[6] = prop.spi.length;
      pb[7] = prop.transforms.length;
      pb.set(prop.spi, 8);
      let to = 8 + prop.spi.length;
      for (const tb of tparts) {
        pb.set(tb, to);
        to += tb.length;
      }
      parts.push(pb);
    });
    return joinParts(parts);
  },
};


// ---------------------------------------------------------------------------------------------------------------
// Simple layouts: a few fixed octets, then opaque data.
// ---------------------------------------------------------------------------------------------------------------

/** RFC 7296 3.4 KE: | DH Group Num (2) | RESERVED (2) | Key Exchange Data | */
const keLayout: Layout = {
  fixed: 4,
  decode(buf, start, end, critical, type) {
    if (end - start < 4) return short('KE', start, end, 4, type);
    return ok({ type: PayloadType.KE, critical, group: u16(buf, start), data: copy(buf, start + 4, end) });
  },
  encode(p) {
    if (p.type !== PayloadType.KE) throw new IkeEncodeError('not a KE payload');
    check(u16ok(p.group), 'KE group', 0xffff);
    const b = new Uint8Array(4 + p.data.length);
    put16(b, 0, p.group);
    b.set(p.data, 4);
    return b;
  },
};

/** RFC 7296 3.5 IDi/IDr: | ID Type (1) | RESERVED (3) | Identification Data | */
const idLayout: Layout = {
  fixed: 4,
  decode(buf, start, end, critical, type) {
    if (end - start < 4) return short(payloadTypeName(type), start, end, 4, type);
    return ok({ type: type as typeof PayloadType.IDi, critical, idType: u8(buf, start), data: copy(buf, start + 4, end) });
  },
  encode(p) {
    if (p.type !== PayloadType.IDi && p.type !== PayloadType.IDr) throw new IkeEncodeError('not an ID payload');
    check(u8ok(p.idType), 'ID type', 255);
    const b = new Uint8Array(4 + p.data.length);
    b[0] = p.idType;
    b.set(p.data, 4);
    return b;
  },
};

/** RFC 7296 3.6 CERT and 3.7 CERTREQ: | Cert Encoding (1) | Data | */
function certLayout(t: typeof PayloadType.CERT | typeof PayloadType.CERTREQ): Layout {
  return {
    fixed: 1,
    decode(buf, start, end, critical, type) {
      if (end - start < 1) return short(payloadTypeName(type), start, end, 1, type);
      return ok({ type: t, critical, encoding: u8(buf, start), data: copy(buf, start + 1, end) });
    },
    encode(p) {
      if (p.type !== t) throw new IkeEncodeError(`not a ${payloadTypeName(t)} payload`);
      check(u8ok(p.encoding), 'cert encoding', 255);
      const b = new Uint8Array(1 + p.data.length);
      b[0] = p.encoding;
      b.set(p.data, 1);
      return b;
    },
  };
}

/** RFC 7296 3.8 AUTH: | Auth Method (1) | RESERVED (3) | Authentication Data | */
const authLayout: Layout = {
  fixed: 4,
  decode(buf, start, end, critical, type) {
    if (end - start < 4) return short('AUTH', start, end, 4, type);
    return ok({ type: PayloadType.AUTH, critical, method: u8(buf, start), data: copy(buf, start + 4, end) });
  },
  encode(p) {
    if (p.type !== PayloadType.AUTH) throw new IkeEncodeError('not an AUTH payload');
    check(u8ok(p.method), 'auth method', 255);
    const b = new Uint8Array(4 + p.data.length);
    b[0] = p.method;
    b.set(p.data, 4);
    return b;
  },
};

/** RFC 7296 3.9 Nonce: 16..256 octets ("at least 128 bits ... MUST NOT be more than 256 octets"). */
export const NONCE_MIN = 16;
export const NONCE_MAX = 256;
const nonceLayout: Layout = {
  fixed: 0,
  decode(buf, start, end, critical, type) {
    const n = end - start;
    if (n < NONCE_MIN || n > NONCE_MAX) {
      return codecError('INVALID_SYNTAX', `nonce of ${n} bytes, must be ${NONCE_MIN}..${NONCE_MAX}`, start, type);
    }
    return ok({ type: PayloadType.NONCE, critical, data: copy(buf, start, end) });
  },
  encode(p) {
    if (p.type !== PayloadType.NONCE) throw new IkeEncodeError('not a Nonce payload');
    return p.data.slice();
  },
};

/** RFC 7296 3.10 Notify: | Protocol ID | SPI Size | Notify Message Type (2) | SPI | Notification Data | */
const notifyLayout: Layout = {
  fixed: 4,
  decode(buf, start, end, critical, type) {
    if (end - start < 4) return short('N', start, end, 4, type);
    const spiSize = u8(buf, start + 1);
    if (start + 4 + spiSize > end) return codecError('BAD_LENGTH', `notify SPI size ${spiSize} runs past the payload`, start + 1, type);
    return ok({
      type: PayloadType.NOTIFY,
      critical,
      protocol: u8(buf, start),
      spi: copy(buf, start + 4, start + 4 + spiSize),
      notifyType: u16(buf, start + 2),
      data: copy(buf, start + 4 + spiSize, end),
    });
  },
  encode(p) {
    if (p.type !== PayloadType.NOTIFY) throw new IkeEncodeError('not a Notify payload');
    check(u8ok(p.protocol) && u16ok(p.notifyType) && p.spi.length <= 255, 'notify protocol/type/SPI', 0xffff);
    const b = new Uint8Array(4 + p.spi.length + p.data.length);
    b[0] = p.protocol;
    b[1] = p.spi.length;
    put16(b, 2, p.notifyType);
    b.set(p.spi, 4);
    b.set(p.data, 4 + p.spi.length);
    return b;
  },
};

/** RFC 7296 3.11 Delete: | Protocol ID | SPI Size | Num of SPIs (2) | SPIs | */
const deleteLayout: Layout = {
  fixed: 4,
  decode(buf, start, end, critical, type) {
    if (end - start < 4) return short('D', start, end, 4, type);
    const protocol = u8(buf, start);
    const spiSize = u8(buf, start + 1);
    const num = u16(buf, start + 2);
    if (num > LIMITS.deleteSpis) return codecError('TOO_MANY_PAYLOADS', `${num} SPIs in one Delete`, start + 2, type);
    if (spiSize * num !== end - start - 4) {
      return codecError('BAD_LENGTH', `Delete carries ${end - start - 4} SPI bytes, expected ${num} x ${spiSize}`, start + 2, type);
    }
    if (spiSize === 0 && num !== 0) return codecError('INVALID_SYNTAX', 'Delete with SPI size 0 and SPIs', start + 2, type);
    const spis: Uint8Array[] = [];
    for (let i = 0; i < num; i++) spis.push(copy(buf, start + 4 + i * spiSize, start + 4 + (i + 1) * spiSize));
    return ok({ type: PayloadType.DELETE, critical, protocol, spiSize, spis });
  },
  encode(p) {
    if (p.type !== PayloadType.DELETE) throw new IkeEncodeError('not a Delete payload');
    check(u8ok(p.protocol) && u8ok(p.spiSize) && p.spis.length <= 0xffff, 'delete protocol/SPI size/count', 0xffff);
    const b = new Uint8Array(4 + p.spiSize * p.spis.length);
    b[0] = p.protocol;
    b[1] = p.spiSize;
    put16(b, 2, p.spis.length);
    p.spis.forEach((s, i) => {
      if (s.length !== p.spiSize) throw new IkeEncodeError(`Delete SPI ${i} is ${s.length} bytes, SPI size is ${p.spiSize}`);
      b.set(s, 4 + i * p.spiSize);
    });
    return b;
  },
};

/** RFC 7296 3.12 Vendor ID: opaque. */
const vendorLayout: Layout = {
  fixed: 0,
  decode(buf, start, end, critical) {
    return ok({ type: PayloadType.VENDOR, critical, data: copy(buf, start, end) });
  },
  encode(p) {
    if (p.type !== PayloadType.VENDOR) throw new IkeEncodeError('not a Vendor ID payload');
    return p.data.slice();
  },
};

/** RFC 7296 3.16 EAP: the EAP message, kept raw (RFC 3748 parsing is the EAP method's business). */
const eapLayout: Layout = {
  fixed: 0,
  decode(buf, start, end, critical) {
    return ok({ type: PayloadType.EAP, critical, data: copy(buf, start, end) });
  },
  encode(p) {
    if (p.type !== PayloadType.EAP) throw new IkeEncodeError('not an EAP payload');
    return p.data.slice();
  },
};

/** The layout table: payload type -> body decoder/encoder. SK and SKF are handled by the message layer. */
export const LAYOUTS: ReadonlyMap<number, Layout> = new Map<number, Layout>([
  [PayloadType.SA, saLayout],
  [PayloadType.KE, keLayout],
  [PayloadType.IDi, idLayout],
  [PayloadType.IDr, idLayout],
  [PayloadType.CERT, certLayout(PayloadType.CERT)],
  [PayloadType.CERTREQ, certLayout(PayloadType.CERTREQ)],
  [PayloadType.AUTH, authLayout],
  [PayloadType.NONCE, nonceLayout],
  [PayloadType.NOTIFY, notifyLayout],
  [PayloadType.DELETE, deleteLayout],
  [PayloadType.VENDOR, vendorLayout],
  [PayloadType.TSi, tsLayout],
  [PayloadType.TSr, tsLayout],
  [PayloadType.CP, cpLayout],
  [PayloadType.EAP, eapLayout],
]);

/** Decodes one payload body of a known type (the generic header has been read by the caller). */
export function decodePayloadBody(type: number, critical: boolean, buf: Uint8Array, start: number, end: number): Result<Payload> | undefined {
  const layout = LAYOUTS.get(type);
  return layout?.decode(buf, start, end, critical, type);
}

/** Encodes the body of one payload (without the generic header). */
export function encodePayloadBody(p: Payload): Uint8Array {
  if (p.type === 'unknown') {
    const t = p.payloadType;
    if (!u8ok(t) || t === PayloadType.NONE || t === PayloadType.SK || t === PayloadType.SKF || LAYOUTS.has(t)) {
      throw new IkeEncodeError(`UnknownPayload cannot use payload type ${t}`);
    }
    return p.body.slice();
  }
  const layout = LAYOUTS.get(p.type);
  if (!layout) throw new IkeEncodeError(`no layout for payload type ${p.type}`);
  return layout.encode(p);
}
