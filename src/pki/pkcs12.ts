/**
 * PKCS#12 bundles (RFC 7292): reading key + certificate + chain with a password, and writing them.
 *
 * Reading handles what OpenSSL 1.x/3.x and Windows write: PFX with an HMAC integrity MAC (key from the PKCS#12
 * KDF, appendix B, ID 3), SafeContents as plain Data or EncryptedData under PBES2 (PBKDF2 + AES-CBC/3DES,
 * RFC 8018) or pbeWithSHAAnd3-KeyTripleDES-CBC (appendix C); keys as KeyBag or PKCS8ShroudedKeyBag (decrypted
 * by node:crypto). RC2-40 (OpenSSL's pre-3.0 default for certificates) is not available in Node's OpenSSL 3
 * default provider and is refused with a hint. Writing uses PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC) and an
 * HMAC-SHA256 MAC, as `openssl pkcs12 -export` does in OpenSSL 3; salts and IVs come from the caller.
 */
import { createCipheriv, createDecipheriv, createHash, createHmac, pbkdf2Sync, createPrivateKey } from 'node:crypto';
import * as asn1js from 'asn1js';
import { parseCertificate, type Certificate } from './certificate.js';
import { bytesEqual, concatBytes, parseDer, toDer } from './der.js';
import { causeOf, PkiError } from './errors.js';
import { privateKeyFromKeyObject, publicKeyOf, type PrivateKey } from './keys.js';
import { OID } from './oids.js';
import { constantTimeEqual } from '../crypto/ct.js';

export interface Pkcs12Entry<T> {
  readonly value: T;
  readonly friendlyName?: string;
  readonly localKeyId?: Uint8Array;
}
export interface Pkcs12Contents {
  readonly keys: readonly Pkcs12Entry<PrivateKey>[];
  readonly certs: readonly Pkcs12Entry<Certificate>[];
}

type HashAlg = 'sha1' | 'sha256' | 'sha384' | 'sha512';
const HASH_BY_OID: Record<string, HashAlg> = { [OID.sha1]: 'sha1', [OID.sha256]: 'sha256', [OID.sha384]: 'sha384', [OID.sha512]: 'sha512' };
const HMAC_BY_OID: Record<string, HashAlg> = {
  [OID.hmacWithSHA1]: 'sha1',
  [OID.hmacWithSHA256]: 'sha256',
  [OID.hmacWithSHA384]: 'sha384',
  [OID.hmacWithSHA512]: 'sha512',
};
const BLOCK: Record<HashAlg, number> = { sha1: 64, sha256: 64, sha384: 128, sha512: 128 };
const OUT: Record<HashAlg, number> = { sha1: 20, sha256: 32, sha384: 48, sha512: 64 };

/** The password as a NUL-terminated big-endian BMPString (RFC 7292 B.1). */
function bmpPassword(password: string): Uint8Array {
  const out = new Uint8Array((password.length + 1) * 2);
  for (let i = 0; i < password.length; i++) {
    const c = password.charCodeAt(i);
    out[2 * i] = c >> 8;
    out[2 * i + 1] = c & 0xff;
  }
  return out;
}

/** RFC 7292 appendix B.2 key derivation (ID 1: key, 2: IV, 3: MAC key). */
export function pkcs12Kdf(hash: HashAlg, password: string, salt: Uint8Array, iterations: number, id: 1 | 2 | 3, n: number): Uint8Array {
  const v = BLOCK[hash];
  const u = OUT[hash];
  const pw = bmpPassword(password);
  const D = new Uint8Array(v).fill(id);
  const fill = (src: Uint8Array) => {
    const len = src.length === 0 ? 0 : v * Math.ceil(src.length / v);
    const out = new Uint8Array(len);
    for (let i = 0; i < len; i++) out[i] = src[i % src.length]!;
    return out;
  };
  const I = concatBytes(fill(salt), fill(pw));
  const out = new Uint8Array(n);
  for (let off = 0; off < n; off += u) {
    let A: Uint8Array = createHash(hash).update(D).update(I).digest();
    for (let r = 1; r < iterations; r++) A = createHash(hash).update(A).digest();
    out.set(A.subarray(0, Math.min(u, n - off)), off);
    // I_j = (I_j + B + 1) mod 2^(8v), B = A repeated to v octets
    const B = fill(A).subarray(0, v);
    for (let j = 0; j < I.length; j += v) {
      let carry = 1;
      for (let k = v - 1; k >= 0; k--) {
        const s = I[j + k]! + B[k]! + carry;
        I[j + k] = s & 0xff;
        carry = s >> 8;
      }
    }
  }
  return out;
}

function seq(n: asn1js.AsnType | undefined, what: string): asn1js.AsnType[] {
  if (!(n instanceof asn1js.Sequence)) throw new PkiError('BAD_PKCS12', `${what}: expected a SEQUENCE`);
  return n.valueBlock.value;
}
function oidOf(n: asn1js.AsnType | undefined, what: string): string {
  if (!(n instanceof asn1js.ObjectIdentifier)) throw new PkiError('BAD_PKCS12', `${what}: expected an OID`);
  return n.valueBlock.toString();
}
function octets(n: asn1js.AsnType | undefined, what: string): Uint8Array {
  if (!(n instanceof asn1js.OctetString)) throw new PkiError('BAD_PKCS12', `${what}: expected an OCTET STRING`);
  // BER constructed OCTET STRINGs (Windows) are a sequence of primitive pieces.
  if (n.valueBlock.isConstructed) return concatBytes(...(n.valueBlock.value as asn1js.OctetString[]).map((p) => octets(p, what)));
  return n.valueBlock.valueHexView.slice();
}
function explicit0(n: asn1js.AsnType | undefined, what: string): asn1js.AsnType {
  const inner = n && n.idBlock.tagClass === 3 && n.idBlock.tagNumber === 0 ? (n as asn1js.Constructed).valueBlock.value?.[0] : undefined;
  if (!inner) throw new PkiError('BAD_PKCS12', `${what}: expected [0] EXPLICIT content`);
  return inner;
}
function int(n: asn1js.AsnType | undefined, what: string): number {
  if (!(n instanceof asn1js.Integer)) throw new PkiError('BAD_PKCS12', `${what}: expected an INTEGER`);
  return n.valueBlock.valueDec;
}

/** Decrypts EncryptedData / encrypted content under a PBES2 or PKCS#12 PBE AlgorithmIdentifier. */
function pbeDecrypt(algId: asn1js.AsnType, data: Uint8Array, password: string, what: string): Uint8Array {
  const [oidN, params] = seq(algId, what);
  const oid = oidOf(oidN, what);
  try {
    if (oid === OID.pbeWithSHAAnd3KeyTripleDESCBC) {
      const [saltN, iterN] = seq(params, what);
      const salt = octets(saltN, what);
      const iter = int(iterN, what);
      const key = pkcs12Kdf('sha1', password, salt, iter, 1, 24);
      const iv = pkcs12Kdf('sha1', password, salt, iter, 2, 8);
      const d = createDecipheriv('des-ede3-cbc', key, iv);
      return concatBytes(d.update(data), d.final());
    }
    if (oid === OID.pbes2) {
      const [kdf, enc] = seq(params, what);
      const [kdfOid, kdfParams] = seq(kdf, what);
      if (oidOf(kdfOid, what) !== OID.pbkdf2) throw new PkiError('UNSUPPORTED', `${what}: PBES2 key derivation other than PBKDF2`);
      const kp = seq(kdfParams, what);
      const salt = octets(kp[0], what);
      const iter = int(kp[1], what);
      let prf: HashAlg = 'sha1';
      for (const extra of kp.slice(2)) if (extra instanceof asn1js.Sequence) prf = HMAC_BY_OID[oidOf(extra.valueBlock.value[0], what)] ?? 'sha1';
      const [encOid, ivN] = seq(enc, what);
      const eo = oidOf(encOid, what);
      const cipher = eo === OID.aes128CBC ? 'aes-128-cbc' : eo === OID.aes192CBC ? 'aes-192-cbc' : eo === OID.aes256CBC ? 'aes-256-cbc' : eo === OID.desEde3CBC ? 'des-ede3-cbc' : undefined;
      if (!cipher) throw new PkiError('UNSUPPORTED', `${what}: PBES2 cipher ${eo} is not supported`);
      const keyLen = cipher === 'aes-128-cbc' ? 16 : cipher === 'aes-192-cbc' || cipher === 'des-ede3-cbc' ? 24 : 32;
      const key = pbkdf2Sync(Buffer.from(password, 'utf8'), salt, iter, keyLen, prf);
      const d = createDecipheriv(cipher, key, octets(ivN, what));
      return concatBytes(d.update(data), d.final());
    }
  } catch (e) {
    if (e instanceof PkiError) throw e;
    throw new PkiError('NEED_PASSPHRASE', `${what}: decryption failed: wrong password? (${causeOf(e)})`);
  }
  if (oid === OID.pbeWithSHAAnd40BitRC2CBC)
    throw new PkiError('UNSUPPORTED', `${what}: encrypted with RC2-40 (OpenSSL 1.x default), which Node's OpenSSL 3 cannot decrypt; re-export it with 'openssl pkcs12 -export -certpbe AES-256-CBC ...'`);
  throw new PkiError('UNSUPPORTED', `${what}: encryption algorithm ${oid} is not supported`);
}

/** Reads a DER PKCS#12 (PFX) bundle. `name` names it in errors. Throws only PkiError. */
export function parsePkcs12(der: Uint8Array, password: string, name = 'PKCS#12'): Pkcs12Contents {
  try {
    return parsePkcs12Unchecked(der, password, name);
  } catch (e) {
    if (e instanceof PkiError) throw e;
    throw new PkiError('BAD_PKCS12', `${name}: malformed PKCS#12 (${causeOf(e)})`);
  }
}

function parsePkcs12Unchecked(der: Uint8Array, password: string, name: string): Pkcs12Contents {
  const pfx = seq(parseDer(der, name, 'BAD_PKCS12'), name);
  if (int(pfx[0], `${name} version`) !== 3) throw new PkiError('BAD_PKCS12', `${name}: PFX version is not 3`);
  const [ctOid, ctContent] = seq(pfx[1], `${name} authSafe`);
  if (oidOf(ctOid, name) !== OID.data) throw new PkiError('UNSUPPORTED', `${name}: public-key integrity mode (signed PFX) is not supported`);
  const authSafe = octets(explicit0(ctContent, name), name);
  if (pfx[2]) {
    // RFC 7292 4: MacData; the MAC covers the authSafe content octets.
    const [digestInfo, saltN, iterN] = seq(pfx[2], `${name} MAC`);
    const [algId, digestN] = seq(digestInfo, `${name} MAC`);
    const hash = HASH_BY_OID[oidOf(seq(algId, name)[0], name)];
    if (!hash) throw new PkiError('UNSUPPORTED', `${name}: MAC hash algorithm is not supported`);
    const iter = iterN ? int(iterN, name) : 1;
    const key = pkcs12Kdf(hash, password, octets(saltN, name), iter, 3, OUT[hash]);
    const mac = createHmac(hash, key).update(authSafe).digest();
    if (!constantTimeEqual(new Uint8Array(mac), octets(digestN, name)))
      throw new PkiError('NEED_PASSPHRASE', `${name}: integrity check failed: wrong password, or the file is damaged`);
  }
  const keys: Pkcs12Entry<PrivateKey>[] = [];
  const certs: Pkcs12Entry<Certificate>[] = [];
  for (const ci of seq(parseDer(authSafe, `${name} AuthenticatedSafe`, 'BAD_PKCS12'), name)) {
    const [t, content] = seq(ci, name);
    const type = oidOf(t, name);
    let safeContents: Uint8Array;
    if (type === OID.data) safeContents = octets(explicit0(content, name), name);
    else if (type === OID.encryptedData) {
      const [, eci] = seq(explicit0(content, name), `${name} EncryptedData`);
      const [, alg, enc] = seq(eci, `${name} EncryptedContentInfo`);
      if (!enc || enc.idBlock.tagClass !== 3) throw new PkiError('BAD_PKCS12', `${name}: EncryptedData without content`);
      const encBytes = enc.idBlock.isConstructed
        ? concatBytes(...((enc as asn1js.Constructed).valueBlock.value as asn1js.OctetString[]).map((p) => octets(p, name)))
        : (enc as unknown as { valueBlock: { valueHexView: Uint8Array } }).valueBlock.valueHexView.slice();
      safeContents = pbeDecrypt(alg!, encBytes, password, `${name} certificates`);
    } else throw new PkiError('UNSUPPORTED', `${name}: content type ${type} is not supported`);
    for (const bag of seq(parseDer(safeContents, `${name} SafeContents`, 'NEED_PASSPHRASE'), name)) {
      const [bagIdN, bagValue, attrs] = seq(bag, `${name} SafeBag`);
      const bagId = oidOf(bagIdN, name);
      const meta: { friendlyName?: string; localKeyId?: Uint8Array } = {};
      if (attrs instanceof asn1js.Set) {
        for (const a of attrs.valueBlock.value) {
          const [aOid, aVals] = seq(a, name);
          const v = (aVals as asn1js.Set).valueBlock?.value?.[0];
          const ao = oidOf(aOid, name);
          if (ao === OID.friendlyName && v instanceof asn1js.BmpString) meta.friendlyName = v.valueBlock.value;
          if (ao === OID.localKeyId && v instanceof asn1js.OctetString) meta.localKeyId = v.valueBlock.valueHexView.slice();
        }
      }
      const value = explicit0(bagValue, name);
      if (bagId === OID.keyBag || bagId === OID.pkcs8ShroudedKeyBag) {
        const keyDer = toDer(value);
        try {
          const ko = createPrivateKey({ key: Buffer.from(keyDer), format: 'der', type: 'pkcs8', ...(bagId === OID.pkcs8ShroudedKeyBag ? { passphrase: password } : {}) });
          keys.push({ value: privateKeyFromKeyObject(ko, `${name} private key`), ...meta });
        } catch (e) {
          if (e instanceof PkiError) throw e;
          throw new PkiError('NEED_PASSPHRASE', `${name}: cannot decrypt the private key: wrong password? (${causeOf(e)})`);
        }
      } else if (bagId === OID.certBag) {
        const [certType, certValue] = seq(value, name);
        if (oidOf(certType, name) !== OID.x509Certificate) continue;
        certs.push({ value: parseCertificate(octets(explicit0(certValue, name), name), `${name} certificate`), ...meta });
      }
    }
  }
  return { keys, certs };
}

/** The certificate whose public key is `key`'s (the end-entity certificate of a bundle). */
export function certificateForKey(key: PrivateKey, certs: readonly Certificate[]): Certificate | undefined {
  const spki = publicKeyOf(key).spki;
  return certs.find((c) => bytesEqual(c.publicKey.spki, spki));
}

export interface BuildPkcs12Options {
  readonly key?: PrivateKey;
  readonly cert?: Certificate;
  /** CA certificates to include (root and intermediates). */
  readonly chain?: readonly Certificate[];
  readonly password: string;
  readonly friendlyName?: string;
  /** Randomness for salts and IVs (the caller's RandomSource). */
  readonly random: (n: number) => Uint8Array;
  readonly iterations?: number;
}

function algId(oid: string, params?: asn1js.AsnType): asn1js.Sequence {
  return new asn1js.Sequence({ value: params ? [new asn1js.ObjectIdentifier({ value: oid }), params] : [new asn1js.ObjectIdentifier({ value: oid })] });
}
function ab(b: Uint8Array): ArrayBuffer {
  return b.slice().buffer as ArrayBuffer;
}
function ctx0(v: asn1js.AsnType): asn1js.Constructed {
  return new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 0 }, value: [v] });
}
function contentInfo(type: string, content: asn1js.AsnType): asn1js.Sequence {
  return new asn1js.Sequence({ value: [new asn1js.ObjectIdentifier({ value: type }), ctx0(content)] });
}

/** PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC) encryption; returns [AlgorithmIdentifier, ciphertext]. */
function pbes2Encrypt(data: Uint8Array, password: string, random: (n: number) => Uint8Array, iterations: number): [asn1js.Sequence, Uint8Array] {
  const salt = random(16);
  const iv = random(16);
  const key = pbkdf2Sync(Buffer.from(password, 'utf8'), salt, iterations, 32, 'sha256');
  const c = createCipheriv('aes-256-cbc', key, iv);
  const ct = concatBytes(c.update(data), c.final());
  const params = new asn1js.Sequence({
    value: [
      algId(OID.pbkdf2, new asn1js.Sequence({ value: [new asn1js.OctetString({ valueHex: ab(salt) }), new asn1js.Integer({ value: iterations }), algId(OID.hmacWithSHA256, new asn1js.Null())] })),
      algId(OID.aes256CBC, new asn1js.OctetString({ valueHex: ab(iv) })),
    ],
  });
  return [algId(OID.pbes2, params), ct];
}

/** Writes a PKCS#12 bundle: key (shrouded), certificate and chain (encrypted), HMAC-SHA256 integrity. */
export function buildPkcs12(opts: BuildPkcs12Options): Uint8Array {
  const iterations = opts.iterations ?? 2048;
  const localKeyId = opts.cert ? createHash('sha1').update(opts.cert.der).digest() : undefined;
  const attrs = (withId: boolean, name?: string): asn1js.Set | undefined => {
    const list: asn1js.AsnType[] = [];
    if (name) list.push(new asn1js.Sequence({ value: [new asn1js.ObjectIdentifier({ value: OID.friendlyName }), new asn1js.Set({ value: [new asn1js.BmpString({ value: name })] })] }));
    if (withId && localKeyId)
      list.push(new asn1js.Sequence({ value: [new asn1js.ObjectIdentifier({ value: OID.localKeyId }), new asn1js.Set({ value: [new asn1js.OctetString({ valueHex: ab(localKeyId) })] })] }));
    return list.length ? new asn1js.Set({ value: list }) : undefined;
  };
  const bag = (id: string, value: asn1js.AsnType, a?: asn1js.Set) =>
    new asn1js.Sequence({ value: a ? [new asn1js.ObjectIdentifier({ value: id }), ctx0(value), a] : [new asn1js.ObjectIdentifier({ value: id }), ctx0(value)] });
  const certBag = (c: Certificate, a?: asn1js.Set) =>
    bag(OID.certBag, new asn1js.Sequence({ value: [new asn1js.ObjectIdentifier({ value: OID.x509Certificate }), ctx0(new asn1js.OctetString({ valueHex: ab(c.der) }))] }), a);

  const contents: asn1js.Sequence[] = [];
  const certBags = [...(opts.cert ? [certBag(opts.cert, attrs(true, opts.friendlyName))] : []), ...(opts.chain ?? []).map((c) => certBag(c))];
  if (certBags.length > 0) {
    const [alg, ct] = pbes2Encrypt(toDer(new asn1js.Sequence({ value: certBags })), opts.password, opts.random, iterations);
    const eci = new asn1js.Sequence({
      value: [new asn1js.ObjectIdentifier({ value: OID.data }), alg, new asn1js.Primitive({ idBlock: { tagClass: 3, tagNumber: 0 }, valueHex: ab(ct) })],
    });
    contents.push(contentInfo(OID.encryptedData, new asn1js.Sequence({ value: [new asn1js.Integer({ value: 0 }), eci] })));
  }
  if (opts.key) {
    const [alg, ct] = pbes2Encrypt(new Uint8Array(opts.key.keyObject.export({ format: 'der', type: 'pkcs8' })), opts.password, opts.random, iterations);
    const epki = new asn1js.Sequence({ value: [alg, new asn1js.OctetString({ valueHex: ab(ct) })] });
    const safe = new asn1js.Sequence({ value: [bag(OID.pkcs8ShroudedKeyBag, epki, attrs(true, opts.friendlyName))] });
    contents.push(contentInfo(OID.data, new asn1js.OctetString({ valueHex: ab(toDer(safe)) })));
  }
  const authSafe = toDer(new asn1js.Sequence({ value: contents }));
  const salt = opts.random(16);
  const macKey = pkcs12Kdf('sha256', opts.password, salt, iterations, 3, 32);
  const mac = new Uint8Array(createHmac('sha256', macKey).update(authSafe).digest());
  const pfx = new asn1js.Sequence({
    value: [
      new asn1js.Integer({ value: 3 }),
      contentInfo(OID.data, new asn1js.OctetString({ valueHex: ab(authSafe) })),
      new asn1js.Sequence({
        value: [
          new asn1js.Sequence({ value: [algId(OID.sha256, new asn1js.Null()), new asn1js.OctetString({ valueHex: ab(mac) })] }),
          new asn1js.OctetString({ valueHex: ab(salt) }),
          new asn1js.Integer({ value: iterations }),
        ],
      }),
    ],
  });
  return toDer(pfx);
}
