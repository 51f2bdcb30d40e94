/**
 * Distinguished names (RFC 5280 4.1.2.4) and subjectAltName GeneralNames (RFC 5280 4.2.1.6) of certificates and
 * CRLs. Decoding, printing and comparing names is src/identity's (one module for IKE IDs, subjects and SANs);
 * text is printed the way strongSwan does ("C=CH, O=strongSwan, CN=moon") with RFC 4514 escapes.
 */
import * as asn1js from 'asn1js';
import { decodeDn, dnEquals, formatDn, IdentityError, IdType, type Dn, type Identity } from '../identity/index.js';
import { formatIp } from '../net/ip-address.js';
import { parseDer } from './der.js';
import { PkiError } from './errors.js';

export interface Rdn {
  readonly oid: string;
  readonly value: string;
}
export interface DistinguishedName {
  readonly der: Uint8Array;
  readonly text: string;
  /** Attribute type/values in order (multi-valued RDNs flattened): for display, never for comparison. */
  readonly rdns: readonly Rdn[];
  /** The structure: RDNs in order, each a set of AVAs (compare with namesEqual / src/identity). */
  readonly dn: Dn;
}

export type GeneralName =
  | { readonly type: 'dns'; readonly value: string }
  | { readonly type: 'email'; readonly value: string }
  | { readonly type: 'uri'; readonly value: string }
  | { readonly type: 'ip'; readonly value: Uint8Array; readonly text: string }
  | { readonly type: 'dn'; readonly value: DistinguishedName; readonly text: string }
  | { readonly type: 'other'; readonly tag: number; readonly text: string };

const latin = new TextDecoder('latin1');

/** Decodes a DER Name; throws PkiError('BAD_ENCODING') naming `what` when malformed. */
export function decodeName(der: Uint8Array, what = 'distinguished name'): DistinguishedName {
  try {
    return nameFromNode(parseDer(der, what), der, what);
  } catch (e) {
    if (e instanceof PkiError) throw e;
    throw new PkiError('BAD_ENCODING', `${what}: malformed Name (${e instanceof Error ? e.message : String(e)})`);
  }
}

export function nameFromNode(seq: asn1js.AsnType, der: Uint8Array, what: string): DistinguishedName {
  if (!(seq instanceof asn1js.Sequence)) throw new PkiError('BAD_ENCODING', `${what}: Name is not a SEQUENCE`);
  let dn: Dn;
  try {
    dn = decodeDn(der, what);
  } catch (e) {
    if (e instanceof IdentityError) throw new PkiError('BAD_ENCODING', e.message);
    throw e;
  }
  const rdns = dn.flat().map((a) => ({ oid: a.oid, value: a.text ?? `#${Buffer.from(a.der).toString('hex')}` }));
  return { der, text: formatDn(dn), rdns, dn };
}

/** RFC 5280 7.1 name equality, structurally (src/identity dn-match.ts): same RDNs in the same order, multi-valued
 *  RDNs as sets, string values after RFC 4518 preparation whatever their string type. */
export function namesEqual(a: DistinguishedName, b: DistinguishedName): boolean {
  return dnEquals(a.dn, b.dn);
}

/** Decodes GeneralNames (a SEQUENCE of GeneralName) from DER. */
export function decodeGeneralNames(der: Uint8Array, what: string): GeneralName[] {
  const seq = parseDer(der, what);
  if (!(seq instanceof asn1js.Sequence)) throw new PkiError('BAD_ENCODING', `${what}: GeneralNames is not a SEQUENCE`);
  return seq.valueBlock.value.map((n) => generalNameFromNode(n, what));
}

export function generalNameFromNode(n: asn1js.AsnType, what: string): GeneralName {
  if (n.idBlock.tagClass !== 3) throw new PkiError('BAD_ENCODING', `${what}: GeneralName is not context-tagged`);
  const tag = n.idBlock.tagNumber;
  const hex = (n as unknown as { valueBlock: { valueHexView?: Uint8Array } }).valueBlock.valueHexView ?? new Uint8Array(0);
  switch (tag) {
    case 1:
      return { type: 'email', value: latin.decode(hex) };
    case 2:
      return { type: 'dns', value: latin.decode(hex) };
    case 6:
      return { type: 'uri', value: latin.decode(hex) };
    case 7:
      return { type: 'ip', value: hex.slice(), text: hex.length === 4 || hex.length === 16 ? formatIp(hex) : `ip:${Buffer.from(hex).toString('hex')}` };
    case 4: {
      // directoryName is EXPLICIT: [4] { Name }
      const inner = (n as asn1js.Constructed).valueBlock.value?.[0];
      if (!inner) throw new PkiError('BAD_ENCODING', `${what}: empty directoryName`);
      const der = new Uint8Array(inner.toBER(false));
      const dn = nameFromNode(inner, der, what);
      return { type: 'dn', value: dn, text: dn.text };
    }
    default:
      return { type: 'other', tag, text: `[${tag}]` };
  }
}

export function generalNameText(g: GeneralName): string {
  return g.type === 'ip' || g.type === 'dn' || g.type === 'other' ? g.text : g.value;
}

/**
 * A subjectAltName as the IKE identity it binds (RFC 4945 3.1): dNSName -> ID_FQDN, rfc822Name ->
 * ID_RFC822_ADDR, iPAddress -> ID_IPV4/IPV6_ADDR, directoryName -> ID_DER_ASN1_DN; undefined for the others.
 */
export function generalNameIdentity(g: GeneralName): Identity | undefined {
  const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0) & 0xff);
  switch (g.type) {
    case 'dns':
      return { type: IdType.ID_FQDN, data: ascii(g.value) };
    case 'email':
      return { type: IdType.ID_RFC822_ADDR, data: ascii(g.value) };
    case 'ip':
      return g.value.length === 4 ? { type: IdType.ID_IPV4_ADDR, data: g.value } : g.value.length === 16 ? { type: IdType.ID_IPV6_ADDR, data: g.value } : undefined;
    case 'dn':
      return { type: IdType.ID_DER_ASN1_DN, data: g.value.der };
    default:
      return undefined;
  }
}
