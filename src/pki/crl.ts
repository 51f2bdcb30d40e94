/** Certificate revocation lists (RFC 5280 5): parsing and the lookups validation needs. */
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { hexColon, isPem, parseDer, pemDecodeAll, pemEncode, toDer } from './der.js';
import { causeOf, PkiError } from './errors.js';
import { nameFromNode, type DistinguishedName } from './name.js';
import { OID } from './oids.js';
import { decodeAlgorithmIdentifier, type SignatureScheme } from './sigalg.js';

const REASON_NAMES = ['unspecified', 'key compromise', 'ca compromise', 'affiliation changed', 'superseded', 'cessation of operation', 'certificate hold', '?', 'remove from crl', 'privilege withdrawn', 'aa compromise'];

export interface RevokedCertificate {
  /** Serial without leading zero octets (compare with normalizeSerial). */
  readonly serial: Uint8Array;
  readonly date: number;
  readonly reason: number;
  readonly reasonText: string;
}

export interface Crl {
  readonly der: Uint8Array;
  readonly tbs: Uint8Array;
  readonly issuer: DistinguishedName;
  readonly thisUpdate: number;
  readonly nextUpdate: number | undefined;
  readonly revoked: readonly RevokedCertificate[];
  readonly authorityKeyId: Uint8Array | undefined;
  readonly crlNumber: Uint8Array | undefined;
  readonly signatureScheme: SignatureScheme | undefined;
  readonly signatureAlgorithmOid: string;
  readonly signature: Uint8Array;
}

export function normalizeSerial(b: Uint8Array): Uint8Array {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  return b.slice(i);
}

export function parseCrl(input: Uint8Array, name = 'CRL'): Crl {
  try {
    return parseCrlUnchecked(new Uint8Array(input), name);
  } catch (e) {
    if (e instanceof PkiError) throw e;
    throw new PkiError('BAD_CRL', `${name}: malformed CRL (${causeOf(e)})`);
  }
}

function parseCrlUnchecked(der: Uint8Array, name: string): Crl {
  parseDer(der, name, 'BAD_CRL');
  let c: pkijs.CertificateRevocationList;
  try {
    c = pkijs.CertificateRevocationList.fromBER(der);
  } catch (e) {
    throw new PkiError('BAD_CRL', `${name}: not an X.509 CRL (${causeOf(e)})`);
  }
  const issuerDer = new Uint8Array(c.issuer.valueBeforeDecode.byteLength ? c.issuer.valueBeforeDecode : c.issuer.toSchema().toBER(false));
  const issuer = nameFromNode(parseDer(issuerDer, `${name} issuer`, 'BAD_CRL'), issuerDer, `${name} issuer`);
  let signatureScheme: SignatureScheme | undefined;
  try {
    signatureScheme = decodeAlgorithmIdentifier(toDer(c.signatureAlgorithm.toSchema()), `${name} signature algorithm`);
  } catch {
    signatureScheme = undefined;
  }
  let authorityKeyId: Uint8Array | undefined;
  let crlNumber: Uint8Array | undefined;
  for (const ext of c.crlExtensions?.extensions ?? []) {
    const v = ext.extnValue.valueBlock.valueHexView;
    if (ext.extnID === OID.authorityKeyIdentifier) {
      const n = parseDer(v, `${name} authorityKeyIdentifier`, 'BAD_CRL') as asn1js.Sequence;
      const f = n.valueBlock?.value?.find((x) => x.idBlock.tagClass === 3 && x.idBlock.tagNumber === 0);
      if (f) authorityKeyId = (f as unknown as { valueBlock: { valueHexView: Uint8Array } }).valueBlock.valueHexView.slice();
    } else if (ext.extnID === OID.crlNumber) {
      const n = parseDer(v, `${name} cRLNumber`, 'BAD_CRL');
      if (n instanceof asn1js.Integer) crlNumber = n.valueBlock.valueHexView.slice();
    } else if (ext.critical) {
      throw new PkiError('BAD_CRL', `${name}: unsupported critical CRL extension ${ext.extnID} (a delta CRL?)`);
    }
  }
  const revoked = (c.revokedCertificates ?? []).map((r) => {
    let reason = 0;
    for (const ext of r.crlEntryExtensions?.extensions ?? []) {
      if (ext.extnID === OID.crlReason) {
        const n = parseDer(ext.extnValue.valueBlock.valueHexView, `${name} reasonCode`, 'BAD_CRL');
        if (n instanceof asn1js.Enumerated) reason = n.valueBlock.valueDec;
      }
    }
    return {
      serial: normalizeSerial(r.userCertificate.valueBlock.valueHexView),
      date: r.revocationDate.value.getTime(),
      reason,
      reasonText: REASON_NAMES[reason] ?? `reason ${reason}`,
    };
  });
  return {
    der,
    tbs: c.tbsView.slice(),
    issuer,
    thisUpdate: c.thisUpdate.value.getTime(),
    nextUpdate: c.nextUpdate?.value.getTime(),
    revoked,
    authorityKeyId,
    crlNumber,
    signatureScheme,
    signatureAlgorithmOid: c.signatureAlgorithm.algorithmId,
    signature: c.signatureValue.valueBlock.valueHexView.slice(),
  };
}

/** One CRL from PEM ("X509 CRL") or DER. */
export function loadCrl(data: Uint8Array, name = 'CRL'): Crl {
  if (isPem(data)) {
    const b = pemDecodeAll(data).find((x) => x.label === 'X509 CRL' || x.label === 'CRL');
    if (!b) throw new PkiError('BAD_CRL', `${name}: no "-----BEGIN X509 CRL-----" block found`);
    return parseCrl(b.der, name);
  }
  return parseCrl(data, name);
}

export function crlToPem(crl: Crl): string {
  return pemEncode('X509 CRL', crl.der);
}

export function crlNumberHex(crl: Crl): string {
  return crl.crlNumber ? hexColon(normalizeSerial(crl.crlNumber)) : '';
}
