/**
 * IKEv2 identities (RFC 7296 section 3.5), parsed from strings with strongSwan's rules so that a swanctl.conf `id`
 * means the same here as there (docs.strongswan.org "Identity Parsing"):
 *   - contains '='         -> ID_DER_ASN1_DN  ("C=CH, O=org, CN=host" or "/C=CH/O=org/CN=host")
 *   - starts with '@#'     -> ID_KEY_ID, hex after the prefix
 *   - starts with '@@'     -> ID_RFC822_ADDR, literal after the prefix
 *   - starts with '@'      -> ID_FQDN, literal after the prefix
 *   - other '@'            -> ID_RFC822_ADDR
 *   - an IPv4/IPv6 address -> ID_IPV4_ADDR / ID_IPV6_ADDR
 *   - '%any' or ''         -> the wildcard (matches any peer identity)
 *   - anything else        -> ID_FQDN
 */
import * as asn1js from 'asn1js';
import { formatIp, parseIp } from '../net/ip-address.js';

// RFC 7296 3.5 ID Type numbers: one table, the codec's.
export { IdType } from './codec/types.js';
import { IdType } from './codec/types.js';

export type IdTypeNumber = (typeof IdType)[keyof typeof IdType];

export interface Identity {
  readonly type: number;
  readonly data: Uint8Array;
}

/** The `%any` wildcard: type 0 never appears on the wire. */
export const ANY_IDENTITY: Identity = { type: 0, data: new Uint8Array(0) };

export class IdentityError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IdentityError';
  }
}

/** RDN attribute names strongSwan accepts, with their OIDs (RFC 4519 / PKCS#9). */
const RDN_OIDS: Record<string, string> = {
  C: '2.5.4.6',
  CN: '2.5.4.3',
  O: '2.5.4.10',
  OU: '2.5.4.11',
  L: '2.5.4.7',
  ST: '2.5.4.8',
  S: '2.5.4.8',
  SN: '2.5.4.5',
  SERIALNUMBER: '2.5.4.5',
  STREET: '2.5.4.9',
  T: '2.5.4.12',
  TITLE: '2.5.4.12',
  G: '2.5.4.42',
  GN: '2.5.4.42',
  I: '2.5.4.43',
  DNQ: '2.5.4.46',
  PSEUDONYM: '2.5.4.65',
  DC: '0.9.2342.19200300.100.1.25',
  UID: '0.9.2342.19200300.100.1.1',
  E: '1.2.840.113549.1.9.1',
  EMAIL: '1.2.840.113549.1.9.1',
  EMAILADDRESS: '1.2.840.113549.1.9.1',
};
const OID_NAMES: Record<string, string> = {
  '2.5.4.6': 'C', '2.5.4.3': 'CN', '2.5.4.10': 'O', '2.5.4.11': 'OU', '2.5.4.7': 'L', '2.5.4.8': 'ST',
  '2.5.4.5': 'serialNumber', '2.5.4.9': 'street', '2.5.4.12': 'T', '2.5.4.42': 'G', '2.5.4.43': 'I',
  '2.5.4.46': 'dnQualifier', '2.5.4.65': 'pseudonym', '0.9.2342.19200300.100.1.25': 'DC',
  '0.9.2342.19200300.100.1.1': 'UID', '1.2.840.113549.1.9.1': 'E',
};

const enc = new TextEncoder();
const dec = new TextDecoder();

const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]*$/;

/** Encodes "C=CH, O=org, CN=x" (or "/C=CH/O=org/CN=x") as a DER Name (RFC 5280 4.1.2.4). */
export function encodeDn(text: string): Uint8Array {
  const slashForm = text.startsWith('/');
  const parts = (slashForm ? text.slice(1).split('/') : splitDnCommas(text)).map((p) => p.trim()).filter((p) => p);
  if (parts.length === 0) throw new IdentityError(`empty distinguished name '${text}'`);
  const rdns = parts.map((part) => {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new IdentityError(`RDN '${part}' in '${text}' is not of the form NAME=value`);
    const name = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    const oid = RDN_OIDS[name.toUpperCase()] ?? (/^\d+(\.\d+)+$/.test(name) ? name : undefined);
    if (!oid) throw new IdentityError(`unknown RDN type '${name}' in '${text}'`);
    // strongSwan encodes C and printable values as PrintableString, e-mail as IA5String, others as UTF8String.
    const str =
      oid === '1.2.840.113549.1.9.1' || oid === '0.9.2342.19200300.100.1.25'
        ? new asn1js.IA5String({ value })
        : PRINTABLE.test(value)
          ? new asn1js.PrintableString({ value })
          : new asn1js.Utf8String({ value });
    return new asn1js.Set({
      value: [new asn1js.Sequence({ value: [new asn1js.ObjectIdentifier({ value: oid }), str] })],
    });
  });
  return new Uint8Array(new asn1js.Sequence({ value: rdns }).toBER(false));
}

function splitDnCommas(text: string): string[] {
  // A comma inside a value can be escaped as "\,".
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\\' && i + 1 < text.length) {
      cur += text[++i]!;
    } else if (c === ',') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

/** Decodes a DER Name into "C=CH, O=org, CN=x" (strongSwan's printing style); undefined if not a Name. */
export function decodeDn(der: Uint8Array): string | undefined {
  const parsed = asn1js.fromBER(der.slice().buffer);
  if (parsed.offset === -1 || parsed.offset !== der.length) return undefined;
  const seq = parsed.result;
  if (!(seq instanceof asn1js.Sequence)) return undefined;
  const out: string[] = [];
  for (const set of seq.valueBlock.value) {
    if (!(set instanceof asn1js.Set)) return undefined;
    for (const atv of set.valueBlock.value) {
      if (!(atv instanceof asn1js.Sequence) || atv.valueBlock.value.length !== 2) return undefined;
      const [oidNode, valNode] = atv.valueBlock.value;
      if (!(oidNode instanceof asn1js.ObjectIdentifier)) return undefined;
      const oid = oidNode.valueBlock.toString();
      const v = valNode as unknown as { valueBlock: { value?: unknown } };
      const value = typeof v.valueBlock.value === 'string' ? v.valueBlock.value : '?';
      out.push(`${OID_NAMES[oid] ?? oid}=${value}`);
    }
  }
  return out.join(', ');
}

export function parseIdentity(text: string): Identity {
  const s = text.trim();
  if (s === '' || s === '%any' || s === '%any6') return ANY_IDENTITY;
  if (s.includes('=')) return { type: IdType.ID_DER_ASN1_DN, data: encodeDn(s) };
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

/** Prints an identity the way strongSwan logs it (e.g. `moon.strongswan.org`, `C=CH, O=org, CN=x`, `192.0.2.1`). */
export function formatIdentity(id: Identity): string {
  switch (id.type) {
    case 0:
      return '%any';
    case IdType.ID_IPV4_ADDR:
    case IdType.ID_IPV6_ADDR:
      return formatIp(id.data);
    case IdType.ID_FQDN:
    case IdType.ID_RFC822_ADDR:
      return dec.decode(id.data);
    case IdType.ID_DER_ASN1_DN:
      return decodeDn(id.data) ?? `DN:${Buffer.from(id.data).toString('hex')}`;
    case IdType.ID_KEY_ID:
      return `@#${Buffer.from(id.data).toString('hex')}`;
    default:
      return `ID(${id.type}):${Buffer.from(id.data).toString('hex')}`;
  }
}

/**
 * Whether a received identity satisfies a configured one. `%any` matches everything; DNs compare by their
 * printed RDN sequence so that PrintableString vs UTF8String encodings of the same name still match;
 * a leading '*' in a configured FQDN/RFC822 acts as a wildcard for the left part (as strongSwan does).
 */
export function identityMatches(configured: Identity, received: Identity): boolean {
  if (configured.type === 0) return true;
  if (configured.type !== received.type) return false;
  if (configured.type === IdType.ID_DER_ASN1_DN) {
    const a = decodeDn(configured.data);
    const b = decodeDn(received.data);
    return a !== undefined && b !== undefined ? a.toLowerCase() === b.toLowerCase() : bytesEqual(configured.data, received.data);
  }
  if (configured.type === IdType.ID_FQDN || configured.type === IdType.ID_RFC822_ADDR) {
    const c = dec.decode(configured.data).toLowerCase();
    const r = dec.decode(received.data).toLowerCase();
    if (c.startsWith('*')) return r.endsWith(c.slice(1));
    return c === r;
  }
  return bytesEqual(configured.data, received.data);
}

export function identityEquals(a: Identity, b: Identity): boolean {
  return a.type === b.type && bytesEqual(a.data, b.data);
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
