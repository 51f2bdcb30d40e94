/**
 * Distinguished names (RFC 5280 4.1.2.4) and subjectAltName GeneralNames (RFC 5280 4.2.1.6): decoding for
 * printing and matching. Text is printed the way strongSwan does ("C=CH, O=strongSwan, CN=moon").
 */
import * as asn1js from 'asn1js';
import { decodeDn } from '../ike/identity.js';
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
  /** Attribute type/values in order (multi-valued RDNs flattened). */
  readonly rdns: readonly Rdn[];
}

export type GeneralName =
  | { readonly type: 'dns'; readonly value: string }
  | { readonly type: 'email'; readonly value: string }
  | { readonly type: 'uri'; readonly value: string }
  | { readonly type: 'ip'; readonly value: Uint8Array; readonly text: string }
  | { readonly type: 'dn'; readonly value: DistinguishedName; readonly text: string }
  | { readonly type: 'other'; readonly tag: number; readonly text: string };

const latin = new TextDecoder('latin1');
const utf8 = new TextDecoder();

function stringOf(node: asn1js.AsnType): string {
  const vb = (node as unknown as { valueBlock: { value?: unknown; valueHexView?: Uint8Array } }).valueBlock;
  if (typeof vb.value === 'string') return vb.value;
  if (vb.valueHexView) return utf8.decode(vb.valueHexView);
  return '';
}

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
  const rdns: Rdn[] = [];
  for (const set of seq.valueBlock.value) {
    if (!(set instanceof asn1js.Set)) throw new PkiError('BAD_ENCODING', `${what}: RDN is not a SET`);
    for (const atv of set.valueBlock.value) {
      const [oid, val] = atv instanceof asn1js.Sequence ? atv.valueBlock.value : [];
      if (!(oid instanceof asn1js.ObjectIdentifier) || !val) throw new PkiError('BAD_ENCODING', `${what}: malformed AttributeTypeAndValue`);
      rdns.push({ oid: oid.valueBlock.toString(), value: stringOf(val) });
    }
  }
  return { der, text: decodeDn(der) ?? rdns.map((r) => `${r.oid}=${r.value}`).join(', '), rdns };
}

/** RFC 5280 7.1 name comparison, simplified as strongSwan and most validators do: same attribute types in the same
 *  order, values equal ignoring case and runs of white space. */
export function namesEqual(a: DistinguishedName, b: DistinguishedName): boolean {
  if (a.rdns.length !== b.rdns.length) return false;
  const norm = (s: string) => s.trim().replace(/\s+/g, ' ').toLowerCase();
  return a.rdns.every((r, i) => r.oid === b.rdns[i]!.oid && norm(r.value) === norm(b.rdns[i]!.value));
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
