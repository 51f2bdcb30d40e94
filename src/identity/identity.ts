/**
 * IKEv2 identities (RFC 7296 3.5): parsed from strings with strongSwan's rules so that a swanctl.conf `id` means
 * the same here as there (docs.strongswan.org "Identity Parsing", identification.c):
 *   - contains '='         -> ID_DER_ASN1_DN  ("C=CH, O=org, CN=host" or "/C=CH/O=org/CN=host", dn.ts)
 *   - starts with '@#'     -> ID_KEY_ID, hex after the prefix
 *   - starts with '@@'     -> ID_RFC822_ADDR, literal after the prefix
 *   - starts with '@'      -> ID_FQDN, literal after the prefix
 *   - other '@'            -> ID_RFC822_ADDR
 *   - an IPv4/IPv6 address -> ID_IPV4_ADDR / ID_IPV6_ADDR
 *   - '%any' or ''         -> the wildcard (matches any peer identity)
 *   - anything else        -> ID_FQDN
 * and compared: `identityMatch` (a configured identity, possibly with wildcards, against a received one) and
 * `identitiesEqual` (two concrete identities, e.g. an IKE ID and a certificate's subject or subjectAltName).
 */
import { formatIp, parseIp } from '../net/ip-address.js';
import { dnDerToText, decodeDn, dnTextToDer, type Dn } from './dn.js';
import { dnEquals, dnMatch } from './dn-match.js';
import { IdentityError } from './errors.js';
import { IdType } from './id-type.js';

export interface Identity {
  readonly type: number;
  readonly data: Uint8Array;
}

/** The `%any` wildcard: type 0 never appears on the wire. */
export const ANY_IDENTITY: Identity = { type: 0, data: new Uint8Array(0) };

const enc = new TextEncoder();
const dec = new TextDecoder();

export function parseIdentity(text: string): Identity {
  const s = text.trim();
  if (s === '' || s === '%any' || s === '%any6') return ANY_IDENTITY;
  // The untrimmed text: a trailing escaped space (`CN=a\ `) is part of the value; parseDn drops the others.
  if (s.includes('=')) return { type: IdType.ID_DER_ASN1_DN, data: dnTextToDer(text) };
  if (s.startsWith('@#')) {
    const hex = s.slice(2).replace(/[:\s]/g, '');
    if (!/^([0-9a-fA-F]{2})+$/.test(hex)) throw new IdentityError(`KEY_ID '${s}' is not hex after '@#'`);
    return { type: IdType.ID_KEY_ID, data: Uint8Array.from(Buffer.from(hex, 'hex')) };
  }
  if (s.startsWith('@@')) return { type: IdType.ID_RFC822_ADDR, data: enc.encode(s.slice(2)) };
  if (s.startsWith('@')) return { type: IdType.ID_FQDN, data: enc.encode(s.slice(1)) };
  if (s.includes('@')) return { type: IdType.ID_RFC822_ADDR, data: enc.encode(s) };
  const ip = parseIp(s);
  if (ip) return { type: ip.length === 4 ? IdType.ID_IPV4_ADDR : IdType.ID_IPV6_ADDR, data: ip };
  return { type: IdType.ID_FQDN, data: enc.encode(s) };
}

/**
 * Prints an identity the way strongSwan logs it (`moon.strongswan.org`, `C=CH, O=org, CN=x`, `192.0.2.1`), with
 * RFC 4514 escapes in DNs so that different names never print alike (`O=example\, CN=gw` is one RDN).
 */
export function formatIdentity(id: Identity): string {
  switch (id.type) {
    case 0:
      return '%any';
    case IdType.ID_IPV4_ADDR:
    case IdType.ID_IPV6_ADDR:
      return id.data.length === 4 || id.data.length === 16 ? formatIp(id.data) : `ID(${id.type}):${hex(id.data)}`;
    case IdType.ID_FQDN:
    case IdType.ID_RFC822_ADDR:
      return dec.decode(id.data);
    case IdType.ID_DER_ASN1_DN:
      return dnDerToText(id.data) ?? `DN:${hex(id.data)}`;
    case IdType.ID_KEY_ID:
      return `@#${hex(id.data)}`;
    default:
      return `ID(${id.type}):${hex(id.data)}`;
  }
}

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

/** strongSwan's id_match_t levels: how well a configured identity fits, for choosing the best config. */
export const IdMatch = { NONE: 0, ANY: 1, MAX_WILDCARDS: 2, ONE_WILDCARD: 19, PERFECT: 20 } as const;

function decodedDn(id: Identity): Dn | undefined {
  try {
    return decodeDn(id.data, 'ID_DER_ASN1_DN');
  } catch (e) {
    if (e instanceof IdentityError) return undefined;
    throw e;
  }
}

/** ASCII case-insensitive equality (strongSwan's equals_strcasecmp for FQDN and RFC822 identities). */
function strcaseEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x !== y && (x | 0x20) !== (y | 0x20)) return false;
    if (x !== y && !((x | 0x20) >= 0x61 && (x | 0x20) <= 0x7a)) return false;
  }
  return true;
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * How well a received identity satisfies a configured one (IdMatch levels, 0 = not at all):
 *   - `%any` matches everything (ANY);
 *   - DNs structurally (dn-match.ts): RDN by RDN in order, multi-valued RDNs as sets, values under their
 *     matching rules; each configured "*" value is a wildcard (PERFECT minus the wildcards used, at least 3);
 *   - FQDN / RFC822 case-insensitively; a configured "*" alone is ANY, a leading "*" matches any prefix
 *     (ONE_WILDCARD), as strongSwan's matches_string;
 *   - other types by their bytes.
 * Wildcards are honoured on the configured side only: a peer cannot send "CN=*" to match anything.
 */
export function identityMatch(configured: Identity, received: Identity): number {
  if (configured.type === 0) return IdMatch.ANY;
  if (configured.type !== received.type) return IdMatch.NONE;
  switch (configured.type) {
    case IdType.ID_DER_ASN1_DN: {
      if (bytesEqual(configured.data, received.data)) return IdMatch.PERFECT;
      const c = decodedDn(configured);
      const r = decodedDn(received);
      if (!c || !r) return IdMatch.NONE;
      const wc = dnMatch(c, r);
      // strongSwan's matches_dn_internal: PERFECT minus the wildcards, never below ONE_WILDCARD - MAX_WILDCARDS.
      return wc === undefined ? IdMatch.NONE : IdMatch.PERFECT - Math.min(wc, IdMatch.ONE_WILDCARD - IdMatch.MAX_WILDCARDS);
    }
    case IdType.ID_FQDN:
    case IdType.ID_RFC822_ADDR: {
      if (strcaseEqual(configured.data, received.data)) return IdMatch.PERFECT;
      if (configured.data[0] !== 0x2a /* '*' */) return IdMatch.NONE;
      if (configured.data.length === 1) return IdMatch.ANY;
      const suffix = configured.data.subarray(1);
      if (received.data.length < suffix.length) return IdMatch.NONE;
      return strcaseEqual(received.data.subarray(received.data.length - suffix.length), suffix) ? IdMatch.ONE_WILDCARD : IdMatch.NONE;
    }
    default:
      return bytesEqual(configured.data, received.data) ? IdMatch.PERFECT : IdMatch.NONE;
  }
}

/** Whether a received identity satisfies a configured one (see identityMatch). */
export function identityMatches(configured: Identity, received: Identity): boolean {
  return identityMatch(configured, received) > IdMatch.NONE;
}

/**
 * Whether two concrete identities name the same thing: same type; DNs equal under RFC 5280 7.1 (no wildcards);
 * FQDN / RFC822 ASCII case-insensitively; addresses and key IDs by their bytes. `%any` equals only `%any`.
 */
export function identitiesEqual(a: Identity, b: Identity): boolean {
  if (a.type !== b.type) return false;
  switch (a.type) {
    case IdType.ID_DER_ASN1_DN: {
      if (bytesEqual(a.data, b.data)) return true;
      const x = decodedDn(a);
      const y = decodedDn(b);
      return x !== undefined && y !== undefined && dnEquals(x, y);
    }
    case IdType.ID_FQDN:
    case IdType.ID_RFC822_ADDR:
      return strcaseEqual(a.data, b.data);
    default:
      return bytesEqual(a.data, b.data);
  }
}
