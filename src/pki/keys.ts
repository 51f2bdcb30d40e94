/**
 * Private and public keys. node:crypto does the decoding of the key formats we accept:
 *   - PKCS#8 PrivateKeyInfo (RFC 5208), plain or encrypted (EncryptedPrivateKeyInfo, PBES2/PKCS#12 PBE) with a passphrase,
 *   - PKCS#1 RSAPrivateKey (RFC 8017 A.1.2), also OpenSSL's legacy "Proc-Type: 4,ENCRYPTED" PEM,
 *   - SEC1 ECPrivateKey (RFC 5915),
 *   - SubjectPublicKeyInfo (RFC 5280 4.1.2.7) and PKCS#1 RSAPublicKey for public keys,
 * each as PEM or DER. PKCS#12 bundles are in pkcs12.ts.
 */
import { createHash, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import * as asn1js from 'asn1js';
import { isPem, parseDer, pemDecodeAll, pemEncode } from './der.js';
import { causeOf, PkiError } from './errors.js';

export type KeyType = 'rsa' | 'ecdsa' | 'ed25519';
export type Curve = 'P-256' | 'P-384' | 'P-521';

interface KeyBase {
  readonly type: KeyType;
  /** Modulus size for RSA, field size for ECDSA (256/384/521), 256 for Ed25519. */
  readonly bits: number;
  readonly curve?: Curve;
  /** RSA keys restricted to RSASSA-PSS (id-RSASSA-PSS SPKI, RFC 4055). */
  readonly pssOnly?: boolean;
  readonly keyObject: KeyObject;
}
export interface PrivateKey extends KeyBase {
  readonly kind: 'private';
}
export interface PublicKey extends KeyBase {
  readonly kind: 'public';
  /** DER SubjectPublicKeyInfo. */
  readonly spki: Uint8Array;
}

const CURVES: Record<string, Curve> = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' };
const CURVE_BITS: Record<Curve, number> = { 'P-256': 256, 'P-384': 384, 'P-521': 521 };

function describe(ko: KeyObject, what: string): Omit<KeyBase, 'keyObject'> {
  const t = ko.asymmetricKeyType;
  const d = ko.asymmetricKeyDetails ?? {};
  switch (t) {
    case 'rsa':
      return { type: 'rsa', bits: d.modulusLength ?? 0 };
    case 'rsa-pss':
      return { type: 'rsa', bits: d.modulusLength ?? 0, pssOnly: true };
    case 'ec': {
      const curve = CURVES[d.namedCurve ?? ''];
      if (!curve) throw new PkiError('UNSUPPORTED', `${what}: EC curve '${d.namedCurve}' is not supported (use P-256, P-384 or P-521)`);
      return { type: 'ecdsa', bits: CURVE_BITS[curve], curve };
    }
    case 'ed25519':
      return { type: 'ed25519', bits: 256 };
    default:
      throw new PkiError('UNSUPPORTED', `${what}: key type '${t}' is not supported (RSA, ECDSA and Ed25519 are)`);
  }
}

/** Wraps a node KeyObject (private) with its type information. */
export function privateKeyFromKeyObject(ko: KeyObject, what = 'private key'): PrivateKey {
  if (ko.type !== 'private') throw new PkiError('BAD_ARGUMENT', `${what}: not a private key`);
  return { kind: 'private', ...describe(ko, what), keyObject: ko };
}

export function publicKeyFromKeyObject(ko: KeyObject, what = 'public key'): PublicKey {
  const pub = ko.type === 'private' ? createPublicKey(ko) : ko;
  const spki = new Uint8Array(pub.export({ type: 'spki', format: 'der' }));
  return { kind: 'public', ...describe(pub, what), keyObject: pub, spki };
}

export interface LoadKeyOptions {
  /** Passphrase for encrypted PKCS#8 / legacy encrypted PEM. */
  readonly passphrase?: string | Uint8Array;
  /** What to call the input in error messages (a file name). */
  readonly name?: string;
}

function nodeErrorToPki(e: unknown, what: string, hadPass: boolean, encrypted = false): PkiError {
  const code = (e as { code?: string }).code;
  const msg = causeOf(e);
  if (code === 'ERR_MISSING_PASSPHRASE') return new PkiError('NEED_PASSPHRASE', `${what}: the key is encrypted; give its passphrase`);
  // A known-encrypted key that does not load with the passphrase given: a wrong passphrase, whatever OpenSSL says.
  // About 1 wrong passphrase in 256 decrypts CBC to garbage with valid padding, and OpenSSL then reports an ASN.1
  // error of the garbage ("wrong tag", "header too long"), not "bad decrypt" (seen as a flaky parse.test.ts).
  if (hadPass && (encrypted || /decrypt|bad password|mac|pkcs12|cipher/i.test(msg)))
    return new PkiError('NEED_PASSPHRASE', `${what}: cannot decrypt the key: wrong passphrase? (${msg})`);
  return new PkiError('BAD_KEY', `${what}: cannot load the private key (${msg})`);
}

/** Loads a private key from PEM or DER in any of the formats listed at the top of this file. */
export function loadPrivateKey(data: Uint8Array, opts: LoadKeyOptions = {}): PrivateKey {
  try {
    return loadPrivateKeyUnchecked(data, opts);
  } catch (e) {
    if (e instanceof PkiError) throw e;
    throw new PkiError('BAD_KEY', `${opts.name ?? 'private key'}: cannot load the private key (${causeOf(e)})`);
  }
}

function loadPrivateKeyUnchecked(data: Uint8Array, opts: LoadKeyOptions): PrivateKey {
  const what = opts.name ?? 'private key';
  const passphrase = opts.passphrase === undefined ? undefined : Buffer.from(opts.passphrase as string);
  if (isPem(data)) {
    const blocks = pemDecodeAll(data).filter((b) => /PRIVATE KEY$/.test(b.label));
    const block = blocks[0];
    if (!block) throw new PkiError('BAD_ENCODING', `${what}: no "-----BEGIN ... PRIVATE KEY-----" block found`);
    const encrypted = block.label === 'ENCRYPTED PRIVATE KEY' || block.headers['Proc-Type']?.includes('ENCRYPTED') === true;
    if (encrypted && passphrase === undefined) throw new PkiError('NEED_PASSPHRASE', `${what}: the key is encrypted; give its passphrase`);
    const pem = pemEncodeWithHeaders(block.label, block.der, block.headers);
    try {
      return privateKeyFromKeyObject(createPrivateKey({ key: pem, format: 'pem', ...(passphrase ? { passphrase } : {}) }), what);
    } catch (e) {
      if (e instanceof PkiError) throw e;
      throw nodeErrorToPki(e, what, passphrase !== undefined, encrypted);
    }
  }
  // DER: an EncryptedPrivateKeyInfo starts SEQUENCE { SEQUENCE (AlgorithmIdentifier), OCTET STRING }.
  const node = parseDer(data, what, 'BAD_KEY');
  const first = node instanceof asn1js.Sequence ? node.valueBlock.value[0] : undefined;
  const encrypted = first instanceof asn1js.Sequence;
  if (encrypted && passphrase === undefined) throw new PkiError('NEED_PASSPHRASE', `${what}: the key is encrypted (PKCS#8); give its passphrase`);
  const buf = Buffer.from(data);
  let lastErr: unknown;
  for (const type of encrypted ? (['pkcs8'] as const) : (['pkcs8', 'pkcs1', 'sec1'] as const)) {
    try {
      return privateKeyFromKeyObject(createPrivateKey({ key: buf, format: 'der', type, ...(passphrase ? { passphrase } : {}) }), what);
    } catch (e) {
      if (e instanceof PkiError) throw e;
      lastErr = e;
    }
  }
  throw encrypted
    ? nodeErrorToPki(lastErr, what, true, true)
    : new PkiError('BAD_KEY', `${what}: not a PKCS#8, PKCS#1 or SEC1 private key (${causeOf(lastErr)})`);
}

function pemEncodeWithHeaders(label: string, der: Uint8Array, headers: Record<string, string>): string {
  const keys = Object.keys(headers);
  if (keys.length === 0) return pemEncode(label, der);
  const body = pemEncode(label, der).split('\n');
  const hdr = keys.map((k) => `${k}: ${headers[k]}`);
  return [body[0], ...hdr, '', ...body.slice(1)].join('\n');
}

/** Loads a public key: SubjectPublicKeyInfo or PKCS#1 RSAPublicKey, PEM or DER; a private key yields its public half. */
export function loadPublicKey(data: Uint8Array, opts: LoadKeyOptions = {}): PublicKey {
  try {
    return loadPublicKeyUnchecked(data, opts);
  } catch (e) {
    if (e instanceof PkiError) throw e;
    throw new PkiError('BAD_KEY', `${opts.name ?? 'public key'}: cannot load the public key (${causeOf(e)})`);
  }
}

function loadPublicKeyUnchecked(data: Uint8Array, opts: LoadKeyOptions): PublicKey {
  const what = opts.name ?? 'public key';
  if (isPem(data)) {
    const block = pemDecodeAll(data)[0];
    if (!block) throw new PkiError('BAD_ENCODING', `${what}: no PEM block found`);
    if (/PRIVATE KEY$/.test(block.label)) return publicKeyFromKeyObject(loadPrivateKey(data, opts).keyObject, what);
    if (block.label !== 'PUBLIC KEY' && block.label !== 'RSA PUBLIC KEY')
      throw new PkiError('BAD_KEY', `${what}: expected a PUBLIC KEY PEM block, found '${block.label}'`);
    return loadPublicDer(block.der, block.label === 'RSA PUBLIC KEY' ? 'pkcs1' : 'spki', what);
  }
  try {
    return loadPublicDer(data, 'spki', what);
  } catch {
    return loadPublicDer(data, 'pkcs1', what);
  }
}

function loadPublicDer(der: Uint8Array, type: 'spki' | 'pkcs1', what: string): PublicKey {
  try {
    return publicKeyFromKeyObject(createPublicKey({ key: Buffer.from(der), format: 'der', type }), what);
  } catch (e) {
    if (e instanceof PkiError) throw e;
    throw new PkiError('BAD_KEY', `${what}: not a SubjectPublicKeyInfo or RSA public key (${causeOf(e)})`);
  }
}

export function publicKeyOf(key: PrivateKey | PublicKey): PublicKey {
  return key.kind === 'public' ? key : publicKeyFromKeyObject(key.keyObject);
}

/**
 * Private key encoding as strongSwan's `pki --gen` writes it: PKCS#1 for RSA ("RSA PRIVATE KEY"), SEC1 for ECDSA
 * ("EC PRIVATE KEY"), PKCS#8 for Ed25519 ("PRIVATE KEY"); `pkcs8` forces PKCS#8.
 */
export function exportPrivateKey(key: PrivateKey, form: 'pem' | 'der', format: 'native' | 'pkcs8' = 'native'): Uint8Array {
  const type = format === 'pkcs8' || key.type === 'ed25519' || key.pssOnly ? 'pkcs8' : key.type === 'rsa' ? 'pkcs1' : 'sec1';
  const der = new Uint8Array(key.keyObject.export({ format: 'der', type } as never) as Buffer);
  if (form === 'der') return der;
  const label = type === 'pkcs1' ? 'RSA PRIVATE KEY' : type === 'sec1' ? 'EC PRIVATE KEY' : 'PRIVATE KEY';
  return new TextEncoder().encode(pemEncode(label, der));
}

export function exportPublicKey(key: PublicKey, form: 'pem' | 'der'): Uint8Array {
  return form === 'der' ? key.spki : new TextEncoder().encode(pemEncode('PUBLIC KEY', key.spki));
}

/**
 * The subjectPublicKey BIT STRING contents of an SPKI (RFC 5280 4.2.1.2 method (1) hashes these for the
 * subjectKeyIdentifier; strongSwan calls the SHA-1 of it KEYID_PUBKEY_SHA1, printed as "subjkey").
 */
export function spkiPublicKeyBits(spki: Uint8Array): Uint8Array {
  const node = parseDer(spki, 'SubjectPublicKeyInfo', 'BAD_KEY');
  const bits = node instanceof asn1js.Sequence ? node.valueBlock.value[1] : undefined;
  if (!(bits instanceof asn1js.BitString)) throw new PkiError('BAD_KEY', 'SubjectPublicKeyInfo: no subjectPublicKey BIT STRING');
  return bits.valueBlock.valueHexView.slice();
}

/** SHA-1 of the subjectPublicKey bits: the key identifier for SKI/AKI (RFC 5280 4.2.1.2 (1)). */
export function keyIdSha1(key: PublicKey | Uint8Array): Uint8Array {
  const spki = key instanceof Uint8Array ? key : key.spki;
  return new Uint8Array(createHash('sha1').update(spkiPublicKeyBits(spki)).digest());
}

/**
 * SHA-1 of the whole DER SubjectPublicKeyInfo: the CA identifier in CERTREQ and in "Hash and URL" CERT payloads
 * (RFC 7296 3.7: "the SHA-1 hash of the Subject Public Key Info element"); strongSwan's KEYID_PUBKEY_INFO_SHA1,
 * printed by `pki --print` as "keyid".
 */
export function spkiSha1(key: PublicKey | Uint8Array): Uint8Array {
  const spki = key instanceof Uint8Array ? key : key.spki;
  return new Uint8Array(createHash('sha1').update(spki).digest());
}

/** "RSA 2048 bits", "ECDSA 256 bits", "ED25519 256 bits" as `pki --print` says. */
export function describeKey(key: PrivateKey | PublicKey): string {
  const name = key.type === 'rsa' ? 'RSA' : key.type === 'ecdsa' ? 'ECDSA' : 'ED25519';
  return `${name} ${key.bits} bits`;
}
