/**
 * The RADIUS packet codec (RFC 2865 3 and 5): Code, Identifier, Length, Authenticator, then type-length-value
 * attributes, Vendor-Specific attributes (RFC 2865 5.26) and EAP-Message splitting (RFC 3579 3.1). Decoding
 * never throws anything but RadiusError, naming the byte offset and attribute that is wrong.
 */
import { Attr, attrName, MAX_ATTRIBUTE_VALUE, MAX_PACKET } from './constants.js';
import { RadiusError } from './errors.js';

export interface RadiusAttribute {
  readonly type: number;
  readonly value: Uint8Array;
}

export interface RadiusPacket {
  readonly code: number;
  readonly identifier: number;
  /** 16 octets: the Request or Response Authenticator (RFC 2865 3). */
  readonly authenticator: Uint8Array;
  readonly attributes: readonly RadiusAttribute[];
}

export interface VendorAttribute {
  readonly vendor: number;
  readonly type: number;
  readonly value: Uint8Array;
}

const HEADER = 20;
const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: false });

export function encodePacket(p: RadiusPacket): Uint8Array {
  if (p.authenticator.length !== 16) throw new RadiusError('BAD_VALUE', `authenticator must be 16 octets, got ${p.authenticator.length}`);
  let len = HEADER;
  for (const a of p.attributes) {
    if (a.value.length > MAX_ATTRIBUTE_VALUE) throw new RadiusError('TOO_BIG', `${attrName(a.type)} value of ${a.value.length} octets is over RADIUS' 253 (RFC 2865 5)`);
    if (a.type < 1 || a.type > 255) throw new RadiusError('BAD_VALUE', `attribute type ${a.type} is not 1..255`);
    len += 2 + a.value.length;
  }
  if (len > MAX_PACKET) throw new RadiusError('TOO_BIG', `packet of ${len} octets is over RADIUS' 4096 (RFC 2865 3)`);
  const out = new Uint8Array(len);
  out[0] = p.code;
  out[1] = p.identifier & 0xff;
  out[2] = len >> 8;
  out[3] = len & 0xff;
  out.set(p.authenticator, 4);
  let off = HEADER;
  for (const a of p.attributes) {
    out[off] = a.type;
    out[off + 1] = a.value.length + 2;
    out.set(a.value, off + 2);
    off += 2 + a.value.length;
  }
  return out;
}

/**
 * Decodes one datagram. RFC 2865 3: octets past Length are padding and ignored; a datagram shorter than its
 * Length, a Length outside 20..4096 or an attribute overrunning the packet is an error (the caller drops it).
 */
export function decodePacket(data: Uint8Array): RadiusPacket {
  if (data.length < HEADER) throw new RadiusError('TRUNCATED', `RADIUS packet of ${data.length} octets is shorter than the 20-octet header`);
  const len = ((data[2] ?? 0) << 8) | (data[3] ?? 0);
  if (len < HEADER || len > MAX_PACKET) throw new RadiusError('BAD_LENGTH', `RADIUS Length field ${len} is outside 20..4096`);
  if (data.length < len) throw new RadiusError('TRUNCATED', `RADIUS packet says ${len} octets but the datagram has ${data.length}`);
  const attributes: RadiusAttribute[] = [];
  let off = HEADER;
  while (off < len) {
    if (off + 2 > len) throw new RadiusError('BAD_ATTRIBUTE', `attribute header at offset ${off} runs past the packet end (${len})`);
    const type = data[off] ?? 0;
    const alen = data[off + 1] ?? 0;
    if (alen < 2) throw new RadiusError('BAD_ATTRIBUTE', `${attrName(type)} at offset ${off} has Length ${alen} (below 2)`);
    if (off + alen > len) throw new RadiusError('BAD_ATTRIBUTE', `${attrName(type)} at offset ${off} with Length ${alen} runs past the packet end (${len})`);
    attributes.push({ type, value: data.slice(off + 2, off + alen) });
    off += alen;
  }
  return { code: data[0] ?? 0, identifier: data[1] ?? 0, authenticator: data.slice(4, 20), attributes };
}

// ---- attribute builders (RFC 2865 5 data types) ----

export function octetsAttr(type: number, value: Uint8Array): RadiusAttribute {
  return { type, value };
}

export function textAttr(type: number, value: string): RadiusAttribute {
  return { type, value: utf8.encode(value) };
}

export function u32Attr(type: number, value: number): RadiusAttribute {
  const v = new Uint8Array(4);
  new DataView(v.buffer).setUint32(0, value >>> 0);
  return { type, value: v };
}

/** An IPv4 address attribute (Framed-IP-Address, NAS-IP-Address) from dotted-quad text. */
export function ipv4Attr(type: number, address: string): RadiusAttribute {
  const parts = address.split('.');
  const bytes = parts.map((p) => (/^\d{1,3}$/.test(p) ? Number(p) : Number.NaN));
  if (bytes.length !== 4 || bytes.some((b) => !(b >= 0 && b <= 255))) throw new RadiusError('BAD_VALUE', `'${address}' is not an IPv4 address`);
  return { type, value: Uint8Array.from(bytes) };
}

/** RFC 2865 5.26: Vendor-Specific with one vendor sub-attribute (Vendor-Id, Vendor type, Vendor length, value). */
export function vendorAttr(vendor: number, vtype: number, value: Uint8Array): RadiusAttribute {
  if (value.length > MAX_ATTRIBUTE_VALUE - 6) throw new RadiusError('TOO_BIG', `vendor ${vendor} attribute ${vtype} value of ${value.length} octets does not fit one Vendor-Specific attribute`);
  const v = new Uint8Array(6 + value.length);
  new DataView(v.buffer).setUint32(0, vendor >>> 0);
  v[4] = vtype;
  v[5] = value.length + 2;
  v.set(value, 6);
  return { type: Attr.VENDOR_SPECIFIC, value: v };
}

// ---- attribute readers ----

export function attributes(p: RadiusPacket, type: number): Uint8Array[] {
  return p.attributes.filter((a) => a.type === type).map((a) => a.value);
}

export function firstAttribute(p: RadiusPacket, type: number): Uint8Array | undefined {
  return p.attributes.find((a) => a.type === type)?.value;
}

export function textOf(value: Uint8Array): string {
  return utf8Decoder.decode(value);
}

export function firstText(p: RadiusPacket, type: number): string | undefined {
  const v = firstAttribute(p, type);
  return v === undefined ? undefined : textOf(v);
}

/** A 32-bit integer attribute; undefined when absent or not 4 octets long. */
export function firstU32(p: RadiusPacket, type: number): number | undefined {
  const v = firstAttribute(p, type);
  return v?.length === 4 ? new DataView(v.buffer, v.byteOffset, 4).getUint32(0) : undefined;
}

export function ipv4Text(value: Uint8Array): string | undefined {
  return value.length === 4 ? Array.from(value).join('.') : undefined;
}

/**
 * The sub-attributes of every Vendor-Specific attribute (RFC 2865 5.26: one or more vendor type-length-value
 * triples after the 4-octet Vendor-Id, the format the RFC recommends and RFC 2548 uses).
 */
export function vendorAttributes(p: RadiusPacket): VendorAttribute[] {
  const out: VendorAttribute[] = [];
  for (const [i, a] of p.attributes.entries()) {
    if (a.type !== Attr.VENDOR_SPECIFIC) continue;
    const v = a.value;
    if (v.length < 4) throw new RadiusError('BAD_VSA', `Vendor-Specific attribute #${i + 1} has ${v.length} octets, less than its Vendor-Id`);
    const vendor = new DataView(v.buffer, v.byteOffset, 4).getUint32(0);
    let off = 4;
    while (off < v.length) {
      const vtype = v[off] ?? 0;
      const vlen = v[off + 1];
      if (vlen === undefined || vlen < 2 || off + vlen > v.length) {
        throw new RadiusError('BAD_VSA', `Vendor-Specific attribute #${i + 1} (vendor ${vendor}): sub-attribute ${vtype} at offset ${off} has Length ${vlen ?? 'missing'}, overrunning its ${v.length} octets`);
      }
      out.push({ vendor, type: vtype, value: v.slice(off + 2, off + vlen) });
      off += vlen;
    }
  }
  return out;
}

// ---- EAP-Message (RFC 3579 3.1) ----

/**
 * An EAP packet as EAP-Message attributes of at most 253 octets each, in order. An empty EAP packet gives one
 * empty EAP-Message: the EAP-Start of RFC 3579 2.1 (strongSwan's eap_start).
 */
export function eapMessageAttributes(eap: Uint8Array): RadiusAttribute[] {
  if (eap.length === 0) return [{ type: Attr.EAP_MESSAGE, value: new Uint8Array(0) }];
  const out: RadiusAttribute[] = [];
  for (let off = 0; off < eap.length; off += MAX_ATTRIBUTE_VALUE) out.push({ type: Attr.EAP_MESSAGE, value: eap.slice(off, off + MAX_ATTRIBUTE_VALUE) });
  return out;
}

/** The EAP packet carried in a RADIUS packet (its EAP-Message attributes concatenated), or undefined. */
export function eapMessage(p: RadiusPacket): Uint8Array | undefined {
  const parts = attributes(p, Attr.EAP_MESSAGE);
  const len = parts.reduce((n, v) => n + v.length, 0);
  if (len === 0) return undefined;
  const out = new Uint8Array(len);
  let off = 0;
  for (const v of parts) {
    out.set(v, off);
    off += v.length;
  }
  return out;
}
