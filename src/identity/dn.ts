/**
 * Distinguished names as structures (RFC 5280 4.1.2.4, X.501): a sequence of RDNs, each a SET of one or more
 * attribute type/value pairs. Decoded from DER, encoded to DER, parsed from and printed to text:
 *
 *   - printing follows RFC 4514 2.4 escaping (`\,` `\+` `\"` `\\` `\<` `\>` `\;`, a leading `#` or space and a
 *     trailing space escaped, control characters as `\XX`) with strongSwan's ", " between RDNs and names (C, CN, O,
 *     serialNumber, ...), `+` inside a multi-valued RDN; values that are not strings print as `#` + DER hex;
 *   - parsing takes that, RFC 4514 text, and strongSwan's forms ("C=CH, O=org, CN=x", "/C=CH/O=org/CN=x", spaces
 *     around separators optional, its keyword table, dotted OIDs), plus RFC 2253 "quoted" values.
 *
 * So parse(print(dn)) is dn, attribute by attribute; the text never decides a comparison (dn-match.ts does).
 */
import { attributeName, attributeOid, prefersIa5, Tag } from './attributes.js';
import { compareBytes, concat, derTlv, oidFromBytes, oidToBytes, readTlv } from './der.js';
import { IdentityError } from './errors.js';

/** One AttributeTypeAndValue. */
export interface Ava {
  /** Attribute type, dotted. */
  readonly oid: string;
  /** The value's whole DER TLV, as received or as encoded. */
  readonly der: Uint8Array;
  /** First identifier octet of the value (0x13 PrintableString, 0x0c UTF8String, ...). */
  readonly tag: number;
  /** The value as text when it is a directory string type that decodes cleanly; undefined otherwise. */
  readonly text: string | undefined;
}

/** A RelativeDistinguishedName: a set (order carries no meaning) of one or more AVAs. */
export type Rdn = readonly Ava[];

/** A Name: RDNs in order (most significant first, as in the DER). */
export type Dn = readonly Rdn[];

const SEQUENCE = 0x30;
const SET = 0x31;
const OBJECT_IDENTIFIER = 0x06;

// ---------------------------------------------------------------------------------------------- values

const utf8Fatal = new TextDecoder('utf-8', { fatal: true });
const latin1 = new TextDecoder('latin1');
const enc = new TextEncoder();

/** The text of a string-typed value, or undefined (not a string type, or bytes invalid for the type). */
function decodeString(tag: number, c: Uint8Array): string | undefined {
  switch (tag) {
    case Tag.UTF8String:
      try {
        return utf8Fatal.decode(c);
      } catch {
        return undefined;
      }
    case Tag.PrintableString:
    case Tag.IA5String:
    case Tag.VisibleString:
    case Tag.NumericString:
      return c.every((b) => b < 0x80) ? latin1.decode(c) : undefined;
    case Tag.T61String:
      // Teletex is in practice Latin-1 in certificates (OpenSSL and strongSwan treat it as bytes).
      return latin1.decode(c);
    case Tag.BMPString: {
      if (c.length % 2) return undefined;
      let s = '';
      for (let i = 0; i < c.length; i += 2) s += String.fromCharCode((c[i]! << 8) | c[i + 1]!);
      return LONE_SURROGATE.test(s) ? undefined : s;
    }
    case Tag.UniversalString: {
      if (c.length % 4) return undefined;
      let s = '';
      for (let i = 0; i < c.length; i += 4) {
        const cp = ((c[i]! << 24) | (c[i + 1]! << 16) | (c[i + 2]! << 8) | c[i + 3]!) >>> 0;
        if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return undefined;
        s += String.fromCodePoint(cp);
      }
      return s;
    }
    default:
      return undefined;
  }
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]*$/;

/**
 * A value for text, typed as strongSwan's atodn does: IA5String for e-mail and unstructuredName, otherwise
 * PrintableString when every character allows it, else UTF8String (IA5 falls back to UTF8 for non-ASCII).
 */
export function stringAva(oid: string, text: string): Ava {
  const tag = prefersIa5(oid) ? (/^[\x00-\x7f]*$/.test(text) ? Tag.IA5String : Tag.UTF8String) : PRINTABLE.test(text) ? Tag.PrintableString : Tag.UTF8String;
  return { oid, tag, text, der: derTlv(tag, enc.encode(text)) };
}

/** An AVA from a value's DER TLV (the `#hex` form of RFC 4514 2.4, or a decoded certificate). */
export function avaFromValueDer(oid: string, der: Uint8Array, what = 'attribute value'): Ava {
  const t = readTlv(der, 0, der.length, what);
  if (t.end !== der.length) throw new IdentityError(`${what}: ${der.length - t.end} octets after the value`, 'BAD_DN_DER', t.end);
  // Directory strings are primitive universal types; anything else (constructed, tagged) is compared as DER.
  const text = (t.tag & 0xe0) === 0 ? decodeString(t.tag, der.subarray(t.contentStart, t.end)) : undefined;
  return { oid, tag: t.tag, text, der: der.slice() };
}

// ---------------------------------------------------------------------------------------------- DER

/** Decodes a DER Name (RFC 5280 4.1.2.4). Throws IdentityError('BAD_DN_DER') naming `what` and the byte offset. */
export function decodeDn(der: Uint8Array, what = 'distinguished name'): Dn {
  const outer = readTlv(der, 0, der.length, what);
  if (outer.tag !== SEQUENCE) throw new IdentityError(`${what}: Name is not a SEQUENCE (tag 0x${hex2(outer.tag)}) at byte 0`, 'BAD_DN_DER', 0);
  if (outer.end !== der.length) throw new IdentityError(`${what}: ${der.length - outer.end} octets after the Name at byte ${outer.end}`, 'BAD_DN_DER', outer.end);
  const rdns: Rdn[] = [];
  for (let pos = outer.contentStart; pos < outer.end; ) {
    const set = readTlv(der, pos, outer.end, what);
    if (set.tag !== SET) throw new IdentityError(`${what}: RDN ${rdns.length + 1} is not a SET at byte ${pos}`, 'BAD_DN_DER', pos);
    const avas: Ava[] = [];
    for (let p = set.contentStart; p < set.end; ) {
      const seq = readTlv(der, p, set.end, what);
      if (seq.tag !== SEQUENCE) throw new IdentityError(`${what}: AttributeTypeAndValue in RDN ${rdns.length + 1} is not a SEQUENCE at byte ${p}`, 'BAD_DN_DER', p);
      const oidTlv = readTlv(der, seq.contentStart, seq.end, what);
      const oid = oidTlv.tag === OBJECT_IDENTIFIER ? oidFromBytes(der.subarray(oidTlv.contentStart, oidTlv.end)) : undefined;
      if (!oid) throw new IdentityError(`${what}: malformed attribute type in RDN ${rdns.length + 1} at byte ${oidTlv.start}`, 'BAD_DN_DER', oidTlv.start);
      const val = readTlv(der, oidTlv.end, seq.end, what);
      if (val.end !== seq.end) throw new IdentityError(`${what}: AttributeTypeAndValue in RDN ${rdns.length + 1} has extra content at byte ${val.end}`, 'BAD_DN_DER', val.end);
      avas.push(avaFromValueDer(oid, der.subarray(val.start, val.end), what));
      p = seq.end;
    }
    if (avas.length === 0) throw new IdentityError(`${what}: RDN ${rdns.length + 1} is an empty SET at byte ${pos}`, 'BAD_DN_DER', pos);
    rdns.push(avas);
    pos = set.end;
  }
  return rdns;
}

function avaDer(a: Ava): Uint8Array {
  const oid = oidToBytes(a.oid);
  if (!oid) throw new IdentityError(`attribute type '${a.oid}' is not an OID`, 'BAD_DN_TEXT');
  return derTlv(SEQUENCE, concat([derTlv(OBJECT_IDENTIFIER, oid), a.der]));
}

/** Encodes a Name in DER; the AVAs of a multi-valued RDN sorted as a DER SET OF requires (X.690 11.6). */
export function encodeDn(dn: Dn): Uint8Array {
  return derTlv(SEQUENCE, concat(dn.map((rdn) => derTlv(SET, concat(rdn.map(avaDer).sort(compareBytes))))));
}

// ---------------------------------------------------------------------------------------------- printing

function hex2(b: number): string {
  return b.toString(16).padStart(2, '0').toUpperCase();
}

// RFC 4514 2.4. An '=' inside a value needs no escape (the first '=' ends the type); `\=` is still parsed.
const ESCAPED = new Set([',', '+', '"', '\\', '<', '>', ';']);

// Printed as \XX (RFC 4514 hexpair): controls (C0, DEL, C1) so a log line stays one line, and invisible or
// direction-changing format characters (soft hyphen, zero-width, bidi controls, BOM) so that no two different
// values look alike in a log.
const HEX_ESCAPED = /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff]/;

/** A value in RFC 4514 string form. */
export function escapeValue(text: string): string {
  const chars = Array.from(text);
  return chars
    .map((c, i) => {
      if (HEX_ESCAPED.test(c)) return Array.from(enc.encode(c), (b) => `\\${hex2(b)}`).join('');
      if (ESCAPED.has(c)) return `\\${c}`;
      if (i === 0 && (c === ' ' || c === '#')) return `\\${c}`;
      if (i === chars.length - 1 && c === ' ') return '\\ ';
      return c;
    })
    .join('');
}

function printAva(a: Ava): string {
  const value = a.text !== undefined ? escapeValue(a.text) : `#${Buffer.from(a.der).toString('hex')}`;
  return `${attributeName(a.oid)}=${value}`;
}

/** strongSwan's style with RFC 4514 escapes: "C=CH, O=example\, Inc, CN=gw"; multi-valued RDNs joined by '+'. */
export function formatDn(dn: Dn): string {
  return dn.map((rdn) => rdn.map(printAva).join('+')).join(', ');
}

// ---------------------------------------------------------------------------------------------- parsing

function textError(text: string, at: number, why: string): never {
  throw new IdentityError(`distinguished name '${text}': ${why} at character ${at + 1}`, 'BAD_DN_TEXT', at);
}

const HEX = /^[0-9a-fA-F]{2}$/;

/**
 * Parses a DN from text (see the module comment). A leading '/' selects '/' as the RDN separator (OpenSSL's
 * and strongSwan's slash form), otherwise ',' separates; '+' joins the AVAs of one RDN in both forms.
 * Unescaped spaces around names, values and separators are dropped; escaped ones (`\ `, `\20`) are kept.
 */
export function parseDn(text: string): Dn {
  const slash = text.trimStart().startsWith('/');
  const sep = slash ? '/' : ',';
  let i = slash ? text.indexOf('/') + 1 : 0;
  const n = text.length;
  const rdns: Rdn[] = [];
  let rdn: Ava[] = [];
  const skipSpaces = () => {
    while (i < n && text[i] === ' ') i++;
  };
  for (;;) {
    skipSpaces();
    // attribute type
    const typeStart = i;
    while (i < n && text[i] !== '=' && text[i] !== sep && text[i] !== '+' && text[i] !== ' ') i++;
    const type = text.slice(typeStart, i);
    skipSpaces();
    if (type === '') textError(text, typeStart, i >= n ? (rdns.length || rdn.length ? 'empty RDN after a separator' : 'empty') : `expected an attribute type before '${text[i]}'`);
    if (i >= n || text[i] !== '=') {
      // Most often a separator meant literally: strongSwan's own parser has no escapes, RFC 4514 needs them.
      const hint = rdn.length > 0 ? `; escape a '+' inside a value as \\+` : rdns.length > 0 ? `; escape a '${sep}' inside a value as \\${sep}` : '';
      textError(text, i, `RDN '${type}' is not of the form NAME=value${hint}`);
    }
    const dotted = type.replace(/^oid\./i, '');
    const oid = attributeOid(type) ?? (oidToBytes(dotted) ? dotted : undefined);
    if (!oid) textError(text, typeStart, `unknown RDN type '${type}'`);
    i++; // '='
    skipSpaces();
    // value
    let ava: Ava;
    if (text[i] === '#') {
      const start = ++i;
      while (i < n && /[0-9a-fA-F]/.test(text[i]!)) i++;
      const h = text.slice(start, i);
      if (h.length === 0 || h.length % 2) textError(text, start, `'#' starts the hex of a DER value (RFC 4514 2.4); escape a literal one as \\#`);
      try {
        ava = avaFromValueDer(oid, Uint8Array.from(Buffer.from(h, 'hex')), `value of ${type}`);
      } catch (e) {
        textError(text, start, (e as Error).message);
      }
    } else {
      const bytes: number[] = [];
      let significant = 0; // bytes.length up to the last character that is not an unescaped space
      const quoted = text[i] === '"';
      if (quoted) i++;
      for (;;) {
        if (i >= n) {
          if (quoted) textError(text, i, 'unterminated quoted value');
          break;
        }
        const c = text[i]!;
        if (quoted && c === '"') {
          i++;
          significant = bytes.length;
          break;
        }
        if (!quoted && (c === sep || c === '+')) break;
        if (c === '\\') {
          const pair = text.slice(i + 1, i + 3);
          if (HEX.test(pair)) {
            bytes.push(parseInt(pair, 16));
            i += 3;
          } else if (i + 1 < n) {
            const cp = text.codePointAt(i + 1)!;
            const ch = String.fromCodePoint(cp);
            bytes.push(...enc.encode(ch));
            i += 1 + ch.length;
          } else textError(text, i, 'a value ends with a lone backslash');
          significant = bytes.length;
          continue;
        }
        if (!quoted && c === '"') textError(text, i, `an unescaped '"' inside a value (escape it as \\" or quote the whole value)`);
        const cp = text.codePointAt(i)!;
        const ch = String.fromCodePoint(cp);
        bytes.push(...enc.encode(ch));
        i += ch.length;
        if (quoted || c !== ' ') significant = bytes.length;
      }
      let value: string;
      try {
        value = utf8Fatal.decode(Uint8Array.from(bytes.slice(0, significant)));
      } catch {
        textError(text, i, `the \\XX escapes in the value of ${type} are not UTF-8`);
      }
      ava = stringAva(oid, value);
    }
    rdn.push(ava);
    skipSpaces();
    if (i >= n) break;
    if (text[i] === '+') {
      i++;
      continue;
    }
    if (text[i] !== sep) textError(text, i, `unexpected '${text[i]}' after the value of ${type}`);
    rdns.push(rdn);
    rdn = [];
    i++;
  }
  rdns.push(rdn);
  return rdns;
}

/** Text to DER in one step (IKE ID data, certificate subjects). */
export function dnTextToDer(text: string): Uint8Array {
  return encodeDn(parseDn(text));
}

/** DER to text in one step; undefined when the bytes are not a Name. */
export function dnDerToText(der: Uint8Array): string | undefined {
  try {
    return formatDn(decodeDn(der));
  } catch (e) {
    if (e instanceof IdentityError) return undefined;
    throw e;
  }
}

