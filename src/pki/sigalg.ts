/**
 * Signature schemes and their AlgorithmIdentifiers (RFC 5280 4.1.1.2, RFC 4055 for RSASSA-PSS, RFC 5758 for
 * ECDSA, RFC 8410 for Ed25519), with the signing and verification math done by node:crypto. Used for X.509
 * certificates and CRLs and for IKEv2 AUTH (auth.ts).
 */
import { constants, sign as nodeSign, verify as nodeVerify } from 'node:crypto';
import * as asn1js from 'asn1js';
import { parseDer, toDer } from './der.js';
import { causeOf, PkiError } from './errors.js';
import type { PrivateKey, PublicKey } from './keys.js';
import { OID } from './oids.js';

export type HashName = 'sha1' | 'sha256' | 'sha384' | 'sha512';
export const HASH_LENGTH: Record<HashName, number> = { sha1: 20, sha256: 32, sha384: 48, sha512: 64 };

export type SignatureScheme =
  | { readonly kind: 'rsa-pkcs1'; readonly hash: HashName }
  /** RSASSA-PSS with MGF1 over the same hash; strongSwan and RFC 8247 use saltLength = hash length. */
  | { readonly kind: 'rsa-pss'; readonly hash: HashName; readonly saltLength: number }
  | { readonly kind: 'ecdsa'; readonly hash: HashName }
  | { readonly kind: 'ed25519' };

const HASH_OID: Record<HashName, string> = { sha1: OID.sha1, sha256: OID.sha256, sha384: OID.sha384, sha512: OID.sha512 };
const OID_HASH: Record<string, HashName> = Object.fromEntries(Object.entries(HASH_OID).map(([k, v]) => [v, k as HashName]));
const RSA_OID: Record<HashName, string> = {
  sha1: OID.sha1WithRSAEncryption,
  sha256: OID.sha256WithRSAEncryption,
  sha384: OID.sha384WithRSAEncryption,
  sha512: OID.sha512WithRSAEncryption,
};
const ECDSA_OID: Record<HashName, string> = {
  sha1: OID.ecdsaWithSHA1,
  sha256: OID.ecdsaWithSHA256,
  sha384: OID.ecdsaWithSHA384,
  sha512: OID.ecdsaWithSHA512,
};
const OID_RSA: Record<string, HashName> = Object.fromEntries(Object.entries(RSA_OID).map(([k, v]) => [v, k as HashName]));
const OID_ECDSA: Record<string, HashName> = Object.fromEntries(Object.entries(ECDSA_OID).map(([k, v]) => [v, k as HashName]));

export function schemeName(s: SignatureScheme): string {
  switch (s.kind) {
    case 'rsa-pkcs1':
      return `${s.hash.toUpperCase()} with RSA`; // e.g. "SHA256 with RSA"
    case 'rsa-pss':
      return `RSASSA-PSS ${s.hash.toUpperCase()}`;
    case 'ecdsa':
      return `ECDSA with ${s.hash.toUpperCase()}`;
    case 'ed25519':
      return 'ED25519';
  }
}

function hashAlgId(hash: HashName): asn1js.Sequence {
  // RFC 4055 2.1: NULL parameters are what most encoders (OpenSSL, strongSwan) write; both forms are accepted.
  return new asn1js.Sequence({ value: [new asn1js.ObjectIdentifier({ value: HASH_OID[hash] }), new asn1js.Null()] });
}

/** The AlgorithmIdentifier for a scheme as an asn1js node. */
export function algorithmIdentifierNode(s: SignatureScheme): asn1js.Sequence {
  switch (s.kind) {
    case 'rsa-pkcs1':
      return new asn1js.Sequence({ value: [new asn1js.ObjectIdentifier({ value: RSA_OID[s.hash] }), new asn1js.Null()] });
    case 'ecdsa':
      // RFC 5758 3.2: parameters MUST be absent.
      return new asn1js.Sequence({ value: [new asn1js.ObjectIdentifier({ value: ECDSA_OID[s.hash] })] });
    case 'ed25519':
      // RFC 8410 3: parameters MUST be absent.
      return new asn1js.Sequence({ value: [new asn1js.ObjectIdentifier({ value: OID.ed25519 })] });
    case 'rsa-pss': {
      // RFC 4055 3.1 RSASSA-PSS-params; trailerField is the default and so omitted (DER).
      const params: asn1js.AsnType[] = [];
      if (s.hash !== 'sha1') {
        params.push(new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 0 }, value: [hashAlgId(s.hash)] }));
        params.push(
          new asn1js.Constructed({
            idBlock: { tagClass: 3, tagNumber: 1 },
            value: [new asn1js.Sequence({ value: [new asn1js.ObjectIdentifier({ value: OID.mgf1 }), hashAlgId(s.hash)] })],
          }),
        );
      }
      if (s.saltLength !== 20)
        params.push(new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 2 }, value: [new asn1js.Integer({ value: s.saltLength })] }));
      return new asn1js.Sequence({ value: [new asn1js.ObjectIdentifier({ value: OID.rsassaPss }), new asn1js.Sequence({ value: params })] });
    }
  }
}

export function encodeAlgorithmIdentifier(s: SignatureScheme): Uint8Array {
  return toDer(algorithmIdentifierNode(s));
}

/** Decodes a signature AlgorithmIdentifier (DER bytes or an already parsed node). */
export function decodeAlgorithmIdentifier(input: Uint8Array | asn1js.AsnType, what = 'signature algorithm'): SignatureScheme {
  try {
    return decodeAlgorithmIdentifierUnchecked(input, what);
  } catch (e) {
    if (e instanceof PkiError) throw e;
    throw new PkiError('BAD_ENCODING', `${what}: malformed AlgorithmIdentifier (${causeOf(e)})`);
  }
}

function decodeAlgorithmIdentifierUnchecked(input: Uint8Array | asn1js.AsnType, what: string): SignatureScheme {
  const node = input instanceof Uint8Array ? parseDer(input, what, 'UNSUPPORTED') : input;
  if (!(node instanceof asn1js.Sequence)) throw new PkiError('BAD_ENCODING', `${what}: AlgorithmIdentifier is not a SEQUENCE`);
  const [oidNode, params] = node.valueBlock.value;
  if (!(oidNode instanceof asn1js.ObjectIdentifier)) throw new PkiError('BAD_ENCODING', `${what}: AlgorithmIdentifier lacks an OID`);
  const oid = oidNode.valueBlock.toString();
  const rsa = OID_RSA[oid];
  if (rsa) return { kind: 'rsa-pkcs1', hash: rsa };
  const ec = OID_ECDSA[oid];
  if (ec) return { kind: 'ecdsa', hash: ec };
  if (oid === OID.ed25519) return { kind: 'ed25519' };
  if (oid === OID.rsassaPss) return decodePssParams(params, what);
  throw new PkiError('UNSUPPORTED', `${what}: signature algorithm ${oid} is not supported`);
}

function decodePssParams(params: asn1js.AsnType | undefined, what: string): SignatureScheme {
  // RFC 4055 3.1 defaults: sha1, mgf1SHA1, saltLength 20.
  let hash: HashName = 'sha1';
  let mgfHash: HashName = 'sha1';
  let saltLength = 20;
  if (params instanceof asn1js.Sequence) {
    for (const field of params.valueBlock.value) {
      const tag = field.idBlock.tagNumber;
      const inner = (field as asn1js.Constructed).valueBlock?.value?.[0];
      if (field.idBlock.tagClass !== 3 || !inner) throw new PkiError('BAD_ENCODING', `${what}: malformed RSASSA-PSS parameters`);
      if (tag === 0) hash = hashOfAlgId(inner, what);
      else if (tag === 1) {
        const seq = inner as asn1js.Sequence;
        const mgfOid = (seq.valueBlock?.value?.[0] as asn1js.ObjectIdentifier | undefined)?.valueBlock.toString();
        if (mgfOid !== OID.mgf1) throw new PkiError('UNSUPPORTED', `${what}: RSASSA-PSS mask generation ${mgfOid} is not MGF1`);
        const h = seq.valueBlock.value[1];
        if (!h) throw new PkiError('BAD_ENCODING', `${what}: MGF1 without a hash`);
        mgfHash = hashOfAlgId(h, what);
      } else if (tag === 2) {
        if (!(inner instanceof asn1js.Integer)) throw new PkiError('BAD_ENCODING', `${what}: RSASSA-PSS saltLength is not an INTEGER`);
        saltLength = inner.valueBlock.valueDec;
      } else if (tag === 3) {
        if (!(inner instanceof asn1js.Integer) || inner.valueBlock.valueDec !== 1)
          throw new PkiError('UNSUPPORTED', `${what}: RSASSA-PSS trailerField must be 1`);
      }
    }
  } else if (params !== undefined && !(params instanceof asn1js.Null)) {
    throw new PkiError('BAD_ENCODING', `${what}: RSASSA-PSS parameters are not a SEQUENCE`);
  }
  if (mgfHash !== hash) throw new PkiError('UNSUPPORTED', `${what}: RSASSA-PSS with MGF1-${mgfHash} and ${hash} differ; not supported`);
  if (saltLength < 0 || saltLength > 1024) throw new PkiError('BAD_ENCODING', `${what}: RSASSA-PSS saltLength ${saltLength} out of range`);
  return { kind: 'rsa-pss', hash, saltLength };
}

function hashOfAlgId(node: asn1js.AsnType, what: string): HashName {
  const oid = ((node as asn1js.Sequence).valueBlock?.value?.[0] as asn1js.ObjectIdentifier | undefined)?.valueBlock?.toString?.();
  const h = oid ? OID_HASH[oid] : undefined;
  if (!h) throw new PkiError('UNSUPPORTED', `${what}: hash algorithm ${oid ?? '?'} is not supported`);
  return h;
}

/** Whether the scheme can be used with the key at all (type and, for ECDSA, nothing else: any hash is allowed). */
export function schemeFitsKey(s: SignatureScheme, key: PrivateKey | PublicKey): boolean {
  if (s.kind === 'rsa-pkcs1') return key.type === 'rsa' && !key.pssOnly;
  if (s.kind === 'rsa-pss') return key.type === 'rsa';
  if (s.kind === 'ecdsa') return key.type === 'ecdsa';
  return key.type === 'ed25519';
}

/**
 * The scheme strongSwan picks for a key when none is asked for (libstrongswan public_key.c signature_schemes_for_key):
 * RSA up to 3072 bits SHA-256, up to 7680 SHA-384, above SHA-512; ECDSA by curve (P-256 SHA-256, P-384 SHA-384,
 * P-521 SHA-512); Ed25519 pure.
 */
export function defaultScheme(key: PrivateKey | PublicKey, rsaPadding: 'pkcs1' | 'pss' = 'pkcs1'): SignatureScheme {
  switch (key.type) {
    case 'rsa': {
      const hash: HashName = key.bits <= 3072 ? 'sha256' : key.bits <= 7680 ? 'sha384' : 'sha512';
      return rsaPadding === 'pss' || key.pssOnly ? { kind: 'rsa-pss', hash, saltLength: HASH_LENGTH[hash] } : { kind: 'rsa-pkcs1', hash };
    }
    case 'ecdsa':
      return { kind: 'ecdsa', hash: key.curve === 'P-256' ? 'sha256' : key.curve === 'P-384' ? 'sha384' : 'sha512' };
    case 'ed25519':
      return { kind: 'ed25519' };
  }
}

/** ECDSA signature encoding: DER Ecdsa-Sig-Value (X.509, RFC 7427) or fixed-length r|s (RFC 4754). */
export type EcdsaEncoding = 'der' | 'ieee-p1363';

export function signWithScheme(s: SignatureScheme, key: PrivateKey, data: Uint8Array, ecdsaEncoding: EcdsaEncoding = 'der'): Uint8Array {
  if (!schemeFitsKey(s, key)) throw new PkiError('BAD_ARGUMENT', `${schemeName(s)} cannot be made with a ${key.type.toUpperCase()} key`);
  try {
    switch (s.kind) {
      case 'rsa-pkcs1':
        return new Uint8Array(nodeSign(s.hash, data, { key: key.keyObject, padding: constants.RSA_PKCS1_PADDING }));
      case 'rsa-pss':
        return new Uint8Array(nodeSign(s.hash, data, { key: key.keyObject, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: s.saltLength }));
      case 'ecdsa':
        return new Uint8Array(nodeSign(s.hash, data, { key: key.keyObject, dsaEncoding: ecdsaEncoding }));
      case 'ed25519':
        return new Uint8Array(nodeSign(null, data, key.keyObject));
    }
  } catch (e) {
    throw new PkiError('BAD_KEY', `signing with ${schemeName(s)} failed: ${causeOf(e)}`);
  }
}

/** Verifies; false for a wrong signature or one that does not even decode, never throws for bad signature bytes. */
export function verifyWithScheme(
  s: SignatureScheme,
  key: PublicKey,
  data: Uint8Array,
  signature: Uint8Array,
  ecdsaEncoding: EcdsaEncoding = 'der',
): boolean {
  if (!schemeFitsKey(s, key)) return false;
  try {
    switch (s.kind) {
      case 'rsa-pkcs1':
        return nodeVerify(s.hash, data, { key: key.keyObject, padding: constants.RSA_PKCS1_PADDING }, signature);
      case 'rsa-pss':
        return nodeVerify(s.hash, data, { key: key.keyObject, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: s.saltLength }, signature);
      case 'ecdsa':
        return nodeVerify(s.hash, data, { key: key.keyObject, dsaEncoding: ecdsaEncoding }, signature);
      case 'ed25519':
        return nodeVerify(null, data, key.keyObject, signature);
    }
  } catch {
    return false;
  }
}
