/**
 * X.509 v3 certificates (RFC 5280): parsing into a plain object with the fields IKE needs. pkijs decodes the
 * outer structure; the extensions IKE cares about are decoded here from their DER so that a malformed one
 * becomes a PkiError naming it.
 */
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { bytesEqual, hexColon, isPem, parseDer, pemDecodeAll, pemEncode, toDer } from './der.js';
import { causeOf, PkiError } from './errors.js';
import { keyIdSha1, publicKeyFromKeyObject, spkiSha1, type PublicKey } from './keys.js';
import { decodeGeneralNames, nameFromNode, namesEqual, type DistinguishedName, type GeneralName } from './name.js';
import { OID } from './oids.js';
import { decodeAlgorithmIdentifier, verifyWithScheme, type SignatureScheme } from './sigalg.js';
import { createPublicKey } from 'node:crypto';

export type KeyUsageName =
  | 'digitalSignature'
  | 'nonRepudiation'
  | 'keyEncipherment'
  | 'dataEncipherment'
  | 'keyAgreement'
  | 'keyCertSign'
  | 'cRLSign'
  | 'encipherOnly'
  | 'decipherOnly';
/** RFC 5280 4.2.1.3 KeyUsage bit order. */
export const KEY_USAGE_BITS: readonly KeyUsageName[] = [
  'digitalSignature',
  'nonRepudiation',
  'keyEncipherment',
  'dataEncipherment',
  'keyAgreement',
  'keyCertSign',
  'cRLSign',
  'encipherOnly',
  'decipherOnly',
];

export interface Certificate {
  readonly der: Uint8Array;
  /** DER TBSCertificate: what the issuer signed. */
  readonly tbs: Uint8Array;
  readonly version: number;
  /** Serial number bytes as encoded (two's complement, leading zero kept out for printing by serialHex). */
  readonly serial: Uint8Array;
  /** "2b:90:41:2c:73:df:a9:88" as strongSwan prints it. */
  readonly serialHex: string;
  readonly subject: DistinguishedName;
  readonly issuer: DistinguishedName;
  /** Validity in milliseconds since the epoch (the unit of `now` everywhere in cygnet). */
  readonly notBefore: number;
  readonly notAfter: number;
  readonly publicKey: PublicKey;
  /** The signature scheme, or undefined when unsupported (then `signatureAlgorithmOid` says which). */
  readonly signatureScheme: SignatureScheme | undefined;
  readonly signatureAlgorithmOid: string;
  readonly signature: Uint8Array;
  readonly subjectAltNames: readonly GeneralName[];
  /** basicConstraints (RFC 5280 4.2.1.9); undefined when the extension is absent. */
  readonly basicConstraints: { readonly ca: boolean; readonly pathLen?: number; readonly critical: boolean } | undefined;
  /** keyUsage bits set; undefined when the extension is absent (then every usage is allowed). */
  readonly keyUsage: ReadonlySet<KeyUsageName> | undefined;
  /** extendedKeyUsage OIDs; undefined when absent. */
  readonly extKeyUsage: readonly string[] | undefined;
  readonly subjectKeyId: Uint8Array | undefined;
  readonly authorityKeyId: Uint8Array | undefined;
  /** URIs of the cRLDistributionPoints (RFC 5280 4.2.1.13). */
  readonly crlDistributionPoints: readonly string[];
  /** Critical extensions this implementation does not process (RFC 5280 4.2: such a certificate MUST be rejected). */
  readonly unhandledCritical: readonly string[];
  /** Subject equals issuer and the certificate verifies with its own key. */
  readonly selfSigned: boolean;
}

const HANDLED = new Set<string>([
  OID.subjectKeyIdentifier,
  OID.keyUsage,
  OID.subjectAltName,
  OID.basicConstraints,
  OID.crlDistributionPoints,
  OID.authorityKeyIdentifier,
  OID.extKeyUsage,
]);

function nameDer(n: pkijs.RelativeDistinguishedNames): Uint8Array {
  return new Uint8Array(n.valueBeforeDecode.byteLength ? n.valueBeforeDecode : n.toSchema().toBER(false));
}

/** Parses a DER certificate. `name` names the input in error messages. Throws only PkiError. */
export function parseCertificate(input: Uint8Array, name = 'certificate'): Certificate {
  try {
    return parseCertificateUnchecked(new Uint8Array(input), name); // a private copy (callers may pass a pooled Buffer)
  } catch (e) {
    if (e instanceof PkiError) throw e;
    // asn1js/pkijs throw plain Errors deep inside (e.g. a malformed OID): still the caller's bad input.
    throw new PkiError('BAD_CERT', `${name}: malformed certificate (${causeOf(e)})`);
  }
}

function parseCertificateUnchecked(der: Uint8Array, name: string): Certificate {
  parseDer(der, name, 'BAD_CERT');
  let c: pkijs.Certificate;
  try {
    c = pkijs.Certificate.fromBER(der);
  } catch (e) {
    throw new PkiError('BAD_CERT', `${name}: not an X.509 certificate (${causeOf(e)})`);
  }
  const subjectDer = nameDer(c.subject);
  const issuerDer = nameDer(c.issuer);
  const subject = nameFromNode(parseDer(subjectDer, `${name} subject`, 'BAD_CERT'), subjectDer, `${name} subject`);
  const issuer = nameFromNode(parseDer(issuerDer, `${name} issuer`, 'BAD_CERT'), issuerDer, `${name} issuer`);

  const spki = toDer(c.subjectPublicKeyInfo.toSchema());
  let publicKey: PublicKey;
  try {
    publicKey = publicKeyFromKeyObject(createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' }), `${name} (${subject.text})`);
  } catch (e) {
    if (e instanceof PkiError) throw e;
    throw new PkiError('BAD_CERT', `${name} (${subject.text}): unusable public key (${causeOf(e)})`);
  }

  const sigAlgDer = toDer(c.signatureAlgorithm.toSchema());
  let signatureScheme: SignatureScheme | undefined;
  try {
    signatureScheme = decodeAlgorithmIdentifier(sigAlgDer, `${name} signature algorithm`);
  } catch {
    signatureScheme = undefined;
  }

  let subjectAltNames: GeneralName[] = [];
  let basicConstraints: Certificate['basicConstraints'];
  let keyUsage: Set<KeyUsageName> | undefined;
  let extKeyUsage: string[] | undefined;
  let subjectKeyId: Uint8Array | undefined;
  let authorityKeyId: Uint8Array | undefined;
  let crlDistributionPoints: string[] = [];
  const unhandledCritical: string[] = [];
  for (const ext of c.extensions ?? []) {
    const value = ext.extnValue.valueBlock.valueHexView.slice();
    const what = `${name} (${subject.text}) extension ${ext.extnID}`;
    if (ext.critical && !HANDLED.has(ext.extnID)) unhandledCritical.push(ext.extnID);
    switch (ext.extnID) {
      case OID.subjectAltName:
        subjectAltNames = decodeGeneralNames(value, `${name} subjectAltName`);
        break;
      case OID.basicConstraints:
        basicConstraints = { ...decodeBasicConstraints(value, what), critical: ext.critical };
        break;
      case OID.keyUsage:
        keyUsage = decodeKeyUsage(value, what);
        break;
      case OID.extKeyUsage:
        extKeyUsage = decodeExtKeyUsage(value, what);
        break;
      case OID.subjectKeyIdentifier: {
        const n = parseDer(value, what, 'BAD_CERT');
        if (!(n instanceof asn1js.OctetString)) throw new PkiError('BAD_CERT', `${what}: subjectKeyIdentifier is not an OCTET STRING`);
        subjectKeyId = n.valueBlock.valueHexView.slice();
        break;
      }
      case OID.authorityKeyIdentifier:
        authorityKeyId = decodeAuthorityKeyId(value, what);
        break;
      case OID.crlDistributionPoints:
        crlDistributionPoints = decodeCrlDistributionPoints(value, what);
        break;
    }
  }

  const serial = c.serialNumber.valueBlock.valueHexView.slice();
  const tbs = c.tbsView.slice();
  const signature = c.signatureValue.valueBlock.valueHexView.slice();
  const selfSigned =
    namesEqual(subject, issuer) && signatureScheme !== undefined && verifyWithScheme(signatureScheme, publicKey, tbs, signature);
  return {
    der,
    tbs,
    version: c.version + 1,
    serial,
    serialHex: hexColon(stripLeadingZero(serial)),
    subject,
    issuer,
    notBefore: c.notBefore.value.getTime(),
    notAfter: c.notAfter.value.getTime(),
    publicKey,
    signatureScheme,
    signatureAlgorithmOid: c.signatureAlgorithm.algorithmId,
    signature,
    subjectAltNames,
    basicConstraints,
    keyUsage,
    extKeyUsage,
    subjectKeyId,
    authorityKeyId,
    crlDistributionPoints,
    unhandledCritical,
    selfSigned,
  };
}

function stripLeadingZero(b: Uint8Array): Uint8Array {
  return b.length > 1 && b[0] === 0 ? b.subarray(1) : b;
}

/** All certificates in PEM text (any number of CERTIFICATE blocks) or one DER certificate. */
export function parseCertificates(data: Uint8Array, name = 'certificate'): Certificate[] {
  if (isPem(data)) {
    const blocks = pemDecodeAll(data).filter((b) => b.label === 'CERTIFICATE' || b.label === 'X509 CERTIFICATE' || b.label === 'TRUSTED CERTIFICATE');
    if (blocks.length === 0) throw new PkiError('BAD_CERT', `${name}: no "-----BEGIN CERTIFICATE-----" block found`);
    return blocks.map((b, i) => parseCertificate(b.der, blocks.length > 1 ? `${name}[${i}]` : name));
  }
  return [parseCertificate(data, name)];
}

/** Exactly one certificate from PEM or DER. */
export function loadCertificate(data: Uint8Array, name = 'certificate'): Certificate {
  const all = parseCertificates(data, name);
  return all[0]!;
}

export function certificateToPem(cert: Certificate): string {
  return pemEncode('CERTIFICATE', cert.der);
}

function decodeBasicConstraints(v: Uint8Array, what: string): { ca: boolean; pathLen?: number } {
  const n = parseDer(v, what, 'BAD_CERT');
  if (!(n instanceof asn1js.Sequence)) throw new PkiError('BAD_CERT', `${what}: basicConstraints is not a SEQUENCE`);
  let ca = false;
  let pathLen: number | undefined;
  for (const f of n.valueBlock.value) {
    if (f instanceof asn1js.Boolean) ca = f.valueBlock.value;
    else if (f instanceof asn1js.Integer) pathLen = f.valueBlock.valueDec;
    else throw new PkiError('BAD_CERT', `${what}: unexpected field in basicConstraints`);
  }
  return pathLen === undefined ? { ca } : { ca, pathLen };
}

function decodeKeyUsage(v: Uint8Array, what: string): Set<KeyUsageName> {
  const n = parseDer(v, what, 'BAD_CERT');
  if (!(n instanceof asn1js.BitString)) throw new PkiError('BAD_CERT', `${what}: keyUsage is not a BIT STRING`);
  const bytes = n.valueBlock.valueHexView;
  const out = new Set<KeyUsageName>();
  KEY_USAGE_BITS.forEach((name, i) => {
    const byte = bytes[i >> 3] ?? 0;
    if (byte & (0x80 >> (i & 7))) out.add(name);
  });
  return out;
}

function decodeExtKeyUsage(v: Uint8Array, what: string): string[] {
  const n = parseDer(v, what, 'BAD_CERT');
  if (!(n instanceof asn1js.Sequence)) throw new PkiError('BAD_CERT', `${what}: extKeyUsage is not a SEQUENCE`);
  return n.valueBlock.value.map((o) => {
    if (!(o instanceof asn1js.ObjectIdentifier)) throw new PkiError('BAD_CERT', `${what}: extKeyUsage entry is not an OID`);
    return o.valueBlock.toString();
  });
}

function decodeAuthorityKeyId(v: Uint8Array, what: string): Uint8Array | undefined {
  const n = parseDer(v, what, 'BAD_CERT');
  if (!(n instanceof asn1js.Sequence)) throw new PkiError('BAD_CERT', `${what}: authorityKeyIdentifier is not a SEQUENCE`);
  for (const f of n.valueBlock.value) {
    // keyIdentifier [0] IMPLICIT OCTET STRING
    if (f.idBlock.tagClass === 3 && f.idBlock.tagNumber === 0)
      return ((f as unknown as { valueBlock: { valueHexView: Uint8Array } }).valueBlock.valueHexView ?? new Uint8Array(0)).slice();
  }
  return undefined;
}

function decodeCrlDistributionPoints(v: Uint8Array, what: string): string[] {
  const n = parseDer(v, what, 'BAD_CERT');
  if (!(n instanceof asn1js.Sequence)) throw new PkiError('BAD_CERT', `${what}: cRLDistributionPoints is not a SEQUENCE`);
  const uris: string[] = [];
  for (const dp of n.valueBlock.value) {
    // DistributionPoint ::= SEQUENCE { distributionPoint [0] DistributionPointName OPTIONAL, ... }
    // DistributionPointName ::= CHOICE { fullName [0] GeneralNames, ... }
    const dpn = (dp as asn1js.Sequence).valueBlock?.value?.find((f) => f.idBlock.tagClass === 3 && f.idBlock.tagNumber === 0);
    const full = (dpn as asn1js.Constructed | undefined)?.valueBlock?.value?.[0];
    if (!full || full.idBlock.tagNumber !== 0) continue;
    for (const g of (full as asn1js.Constructed).valueBlock.value ?? []) {
      if (g.idBlock.tagClass === 3 && g.idBlock.tagNumber === 6)
        uris.push(Buffer.from((g as unknown as { valueBlock: { valueHexView: Uint8Array } }).valueBlock.valueHexView).toString('latin1'));
    }
  }
  return uris;
}

/** Whether `cert` was signed by `issuerKey` (signature over the TBSCertificate). */
export function certSignedBy(cert: Certificate, issuerKey: PublicKey): boolean {
  return cert.signatureScheme !== undefined && verifyWithScheme(cert.signatureScheme, issuerKey, cert.tbs, cert.signature);
}

/** strongSwan's "subjkey": SKI if present, else SHA-1 of the public key bits. */
export function subjectKeyIdOf(cert: Certificate): Uint8Array {
  return cert.subjectKeyId ?? keyIdSha1(cert.publicKey);
}

/** SHA-1 of the certificate's SubjectPublicKeyInfo: its CA identifier in CERTREQ (RFC 7296 3.7). */
export function certreqHash(cert: Certificate): Uint8Array {
  return spkiSha1(cert.publicKey);
}

export function sameCertificate(a: Certificate, b: Certificate): boolean {
  return bytesEqual(a.der, b.der);
}
