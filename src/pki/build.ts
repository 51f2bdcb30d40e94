/**
 * Issuing certificates and CRLs (`pki --self`, `pki --issue`, `pki --signcrl`) with strongSwan's profile so the
 * result looks like what strongSwan's pki writes (and what OpenSSL, strongSwan and Windows accept):
 *   - CA: basicConstraints critical CA:TRUE [pathLen], keyUsage critical keyCertSign + cRLSign;
 *   - every certificate: subjectKeyIdentifier (SHA-1 of the public key bits, RFC 5280 4.2.1.2 (1)), and
 *     authorityKeyIdentifier = the issuer's key id unless self-signed;
 *   - subjectAltName from --san (parsed as IKE identities: FQDN -> dNSName, user@host -> rfc822Name, IP ->
 *     iPAddress, "C=..,CN=.." -> directoryName), extendedKeyUsage from --flag, cRLDistributionPoints from --crl.
 * Time and serial numbers are inputs (sans-IO): the CLI supplies Date.now() and random bytes.
 */
import * as asn1js from 'asn1js';
import { dnTextToDer, encodeDn, formatDn, IdType, parseIdentity, type Dn } from '../identity/index.js';
import { parseCertificate, subjectKeyIdOf, type Certificate } from './certificate.js';
import { parseCrl, type Crl } from './crl.js';
import { bytesEqual, parseDer, toDer } from './der.js';
import { causeOf, PkiError } from './errors.js';
import { keyIdSha1, publicKeyOf, type PrivateKey, type PublicKey } from './keys.js';
import { OID } from './oids.js';
import { algorithmIdentifierNode, defaultScheme, HASH_LENGTH, signWithScheme, type HashName, type SignatureScheme } from './sigalg.js';

export type CertFlag = 'serverAuth' | 'clientAuth' | 'ikeIntermediate' | 'crlSign' | 'ocspSigning' | 'msSmartcardLogon';
const FLAG_EKU: Partial<Record<CertFlag, string>> = {
  serverAuth: OID.serverAuth,
  clientAuth: OID.clientAuth,
  ikeIntermediate: OID.ikeIntermediate,
  ocspSigning: OID.ocspSigning,
  msSmartcardLogon: OID.msSmartcardLogon,
};

export interface SigningOptions {
  /** Hash for the signature; default: strongSwan's key-specific choice (sigalg.defaultScheme). */
  readonly digest?: HashName;
  readonly rsaPadding?: 'pkcs1' | 'pss';
}

export interface CertificateRequest extends SigningOptions {
  /** Subject DN as text ("C=CH, O=strongSwan, CN=moon", RFC 4514 escapes), DER, or a structure (src/identity Dn:
   *  RDNs of AVAs, e.g. a multi-valued RDN or a chosen string type) encoded as given. */
  readonly subject: string | Uint8Array | Dn;
  readonly publicKey: PublicKey;
  /** Issuer certificate; omitted for a self-signed certificate. */
  readonly issuer?: Certificate;
  /** The issuer's private key (the subject's own key when self-signed). */
  readonly signingKey: PrivateKey;
  /** Serial number bytes (big-endian, positive); the CLI draws 8 random bytes as strongSwan does. */
  readonly serial: Uint8Array;
  /** Validity in ms since the epoch (whole seconds are kept). */
  readonly notBefore: number;
  readonly notAfter: number;
  readonly ca?: boolean;
  readonly pathLen?: number;
  /** subjectAltNames in strongSwan's --san syntax. */
  readonly san?: readonly string[];
  readonly flags?: readonly CertFlag[];
  /** cRLDistributionPoints URIs (--crl). */
  readonly crlUris?: readonly string[];
}

function ctx(tag: number, value: asn1js.AsnType[]): asn1js.Constructed {
  return new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: tag }, value });
}

function implicitPrimitive(tag: number, bytes: Uint8Array): asn1js.Primitive {
  return new asn1js.Primitive({ idBlock: { tagClass: 3, tagNumber: tag }, valueHex: bytes.slice().buffer as ArrayBuffer });
}

/** DER INTEGER from unsigned big-endian bytes (minimal, with a 0x00 when the high bit is set). */
export function positiveInteger(bytes: Uint8Array): asn1js.Integer {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  let b = bytes.subarray(i);
  if (b.length === 0) b = Uint8Array.of(0);
  if (b[0]! & 0x80) b = Uint8Array.of(0, ...b);
  return new asn1js.Integer({ valueHex: b.slice().buffer as ArrayBuffer });
}

/** RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050; whole seconds. */
export function encodeTime(ms: number): asn1js.UTCTime | asn1js.GeneralizedTime {
  if (!Number.isFinite(ms)) throw new PkiError('BAD_ARGUMENT', `time ${ms} is not a number`);
  const d = new Date(Math.floor(ms / 1000) * 1000);
  const y = d.getUTCFullYear();
  if (y < 1950 || y > 9999) throw new PkiError('BAD_ARGUMENT', `date ${d.toISOString()} cannot be encoded in X.509`);
  return y < 2050 ? new asn1js.UTCTime({ valueDate: d }) : new asn1js.GeneralizedTime({ valueDate: d });
}

function extension(oid: string, critical: boolean, value: asn1js.AsnType): asn1js.Sequence {
  const parts: asn1js.AsnType[] = [new asn1js.ObjectIdentifier({ value: oid })];
  if (critical) parts.push(new asn1js.Boolean({ value: true }));
  parts.push(new asn1js.OctetString({ valueHex: value.toBER(false) }));
  return new asn1js.Sequence({ value: parts });
}

/** KeyUsage BIT STRING with the named bits (RFC 5280 4.2.1.3), DER: trailing zero bits dropped. */
function keyUsageBits(bits: readonly number[]): asn1js.BitString {
  const max = Math.max(...bits);
  const len = (max >> 3) + 1;
  const bytes = new Uint8Array(len);
  for (const b of bits) bytes[b >> 3]! |= 0x80 >> (b & 7);
  const unused = 7 - (max & 7);
  return new asn1js.BitString({ valueHex: bytes.buffer as ArrayBuffer, unusedBits: unused });
}

/** A GeneralName node from strongSwan's --san text. */
export function generalNameFromText(text: string): asn1js.AsnType {
  if (/^(https?|ldap|file):\/\//i.test(text)) return implicitPrimitive(6, new TextEncoder().encode(text));
  let id;
  try {
    id = parseIdentity(text);
  } catch (e) {
    throw new PkiError('BAD_ARGUMENT', `subjectAltName '${text}': ${causeOf(e)}`);
  }
  switch (id.type) {
    case IdType.ID_FQDN:
      return implicitPrimitive(2, id.data);
    case IdType.ID_RFC822_ADDR:
      return implicitPrimitive(1, id.data);
    case IdType.ID_IPV4_ADDR:
    case IdType.ID_IPV6_ADDR:
      return implicitPrimitive(7, id.data);
    case IdType.ID_DER_ASN1_DN:
      return ctx(4, [parseDer(id.data, `subjectAltName '${text}'`)]);
    default:
      throw new PkiError('BAD_ARGUMENT', `subjectAltName '${text}' is not a DNS name, e-mail, IP address or DN`);
  }
}

function chooseScheme(key: PrivateKey, opts: SigningOptions): SignatureScheme {
  const base = defaultScheme(key, opts.rsaPadding ?? 'pkcs1');
  if (!opts.digest || base.kind === 'ed25519') return base;
  if (base.kind === 'rsa-pss') return { kind: 'rsa-pss', hash: opts.digest, saltLength: HASH_LENGTH[opts.digest] };
  return { ...base, hash: opts.digest };
}

function nameNode(n: string | Uint8Array | Dn, what: string): asn1js.AsnType {
  let der: Uint8Array;
  try {
    der = typeof n === 'string' ? dnTextToDer(n) : n instanceof Uint8Array ? n : encodeDn(n);
  } catch (e) {
    throw new PkiError('BAD_ARGUMENT', `${what} '${typeof n === 'string' ? n : n instanceof Uint8Array ? 'DER' : formatDn(n)}': ${causeOf(e)}`);
  }
  return parseDer(der, what);
}

function signed(tbs: asn1js.Sequence, algId: asn1js.Sequence, scheme: SignatureScheme, key: PrivateKey): Uint8Array {
  const tbsDer = toDer(tbs);
  const sig = signWithScheme(scheme, key, tbsDer, 'der');
  const outer = new asn1js.Sequence({
    value: [parseDer(tbsDer, 'TBS'), algId, new asn1js.BitString({ valueHex: sig.slice().buffer as ArrayBuffer, unusedBits: 0 })],
  });
  return toDer(outer);
}

/** Issues (or self-signs) an X.509 v3 certificate; returns it parsed (with `.der`). */
export function issueCertificate(req: CertificateRequest): Certificate {
  const selfSigned = req.issuer === undefined;
  if (!selfSigned && !bytesEqual(publicKeyOf(req.signingKey).spki, req.issuer!.publicKey.spki))
    throw new PkiError('BAD_ARGUMENT', `the CA key does not belong to the CA certificate '${req.issuer!.subject.text}'`);
  if (req.notAfter <= req.notBefore) throw new PkiError('BAD_ARGUMENT', 'certificate lifetime must be positive');
  const scheme = chooseScheme(req.signingKey, req);
  const algId = algorithmIdentifierNode(scheme);
  const subject = nameNode(req.subject, 'subject DN');
  const issuer = selfSigned ? subject : parseDer(req.issuer!.subject.der, 'issuer DN');
  const spki = parseDer(req.publicKey.spki, 'public key');

  const exts: asn1js.Sequence[] = [];
  const flags = new Set(req.flags ?? []);
  if (req.ca) {
    const bc: asn1js.AsnType[] = [new asn1js.Boolean({ value: true })];
    if (req.pathLen !== undefined) bc.push(new asn1js.Integer({ value: req.pathLen }));
    exts.push(extension(OID.basicConstraints, true, new asn1js.Sequence({ value: bc })));
    exts.push(extension(OID.keyUsage, true, keyUsageBits([5, 6])));
  } else if (flags.has('crlSign')) {
    exts.push(extension(OID.keyUsage, true, keyUsageBits([0, 6])));
  }
  exts.push(extension(OID.subjectKeyIdentifier, false, new asn1js.OctetString({ valueHex: keyIdSha1(req.publicKey).slice().buffer as ArrayBuffer })));
  if (!selfSigned) {
    const aki = subjectKeyIdOf(req.issuer!);
    exts.push(extension(OID.authorityKeyIdentifier, false, new asn1js.Sequence({ value: [implicitPrimitive(0, aki)] })));
  }
  if (req.san && req.san.length > 0) exts.push(extension(OID.subjectAltName, false, new asn1js.Sequence({ value: req.san.map(generalNameFromText) })));
  const ekus = [...flags].map((f) => FLAG_EKU[f]).filter((o): o is string => o !== undefined);
  if (ekus.length > 0) exts.push(extension(OID.extKeyUsage, false, new asn1js.Sequence({ value: ekus.map((o) => new asn1js.ObjectIdentifier({ value: o })) })));
  if (req.crlUris && req.crlUris.length > 0) {
    const dps = req.crlUris.map(
      (uri) => new asn1js.Sequence({ value: [ctx(0, [ctx(0, [implicitPrimitive(6, new TextEncoder().encode(uri))])])] }),
    );
    exts.push(extension(OID.crlDistributionPoints, false, new asn1js.Sequence({ value: dps })));
  }

  const tbs = new asn1js.Sequence({
    value: [
      ctx(0, [new asn1js.Integer({ value: 2 })]),
      positiveInteger(req.serial),
      algorithmIdentifierNode(scheme),
      issuer,
      new asn1js.Sequence({ value: [encodeTime(req.notBefore), encodeTime(req.notAfter)] }),
      subject,
      spki,
      ctx(3, [new asn1js.Sequence({ value: exts })]),
    ],
  });
  return parseCertificate(signed(tbs, algId, scheme, req.signingKey), 'issued certificate');
}

/** RFC 5280 5.3.1 CRLReason. */
export const CRL_REASONS = {
  unspecified: 0,
  'key-compromise': 1,
  'ca-compromise': 2,
  'affiliation-changed': 3,
  superseded: 4,
  'cessation-of-operation': 5,
  'certificate-hold': 6,
} as const;
export type CrlReasonName = keyof typeof CRL_REASONS;

export interface RevokedEntry {
  readonly serial: Uint8Array;
  /** ms since the epoch. */
  readonly date: number;
  readonly reason?: CrlReasonName;
}

export interface CrlRequest extends SigningOptions {
  readonly issuer: Certificate;
  readonly signingKey: PrivateKey;
  readonly thisUpdate: number;
  readonly nextUpdate: number;
  readonly revoked: readonly RevokedEntry[];
  /** cRLNumber (RFC 5280 5.2.3), bytes big-endian. */
  readonly crlNumber: Uint8Array;
}

/** Signs a v2 CRL (RFC 5280 5.1) with authorityKeyIdentifier and cRLNumber. */
export function signCrl(req: CrlRequest): Crl {
  if (!bytesEqual(publicKeyOf(req.signingKey).spki, req.issuer.publicKey.spki))
    throw new PkiError('BAD_ARGUMENT', `the CA key does not belong to the CA certificate '${req.issuer.subject.text}'`);
  const scheme = chooseScheme(req.signingKey, req);
  const entries = req.revoked.map((r) => {
    const parts: asn1js.AsnType[] = [positiveInteger(r.serial), encodeTime(r.date)];
    if (r.reason && r.reason !== 'unspecified')
      parts.push(new asn1js.Sequence({ value: [extension(OID.crlReason, false, new asn1js.Enumerated({ value: CRL_REASONS[r.reason] }))] }));
    return new asn1js.Sequence({ value: parts });
  });
  const fields: asn1js.AsnType[] = [
    new asn1js.Integer({ value: 1 }),
    algorithmIdentifierNode(scheme),
    parseDer(req.issuer.subject.der, 'issuer DN'),
    encodeTime(req.thisUpdate),
    encodeTime(req.nextUpdate),
  ];
  if (entries.length > 0) fields.push(new asn1js.Sequence({ value: entries }));
  fields.push(
    ctx(0, [
      new asn1js.Sequence({
        value: [
          extension(OID.authorityKeyIdentifier, false, new asn1js.Sequence({ value: [implicitPrimitive(0, subjectKeyIdOf(req.issuer))] })),
          extension(OID.crlNumber, false, positiveInteger(req.crlNumber)),
        ],
      }),
    ]),
  );
  return parseCrl(signed(new asn1js.Sequence({ value: fields }), algorithmIdentifierNode(scheme), scheme, req.signingKey), 'signed CRL');
}
