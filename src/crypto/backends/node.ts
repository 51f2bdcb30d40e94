/**
 * The `node` backend: node:crypto (the OpenSSL inside the node binary) behind the CryptoBackend contract.
 * One createCipheriv/createHmac per operation: simple and always available, but the object churn makes it the slow
 * path for ESP (../shared/DESIGN.md section 3); the `openssl` backend reuses EVP contexts instead.
 */
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  createSecretKey,
  getCiphers,
  type CipherGCM,
  type DecipherGCM,
  type KeyObject,
} from 'node:crypto';
import { CryptoError } from '../errors.js';
import type { RandomSource } from '../random.js';
import {
  aeadNonceBytes,
  cipherBlockBytes,
  macOutputBytes,
  type AeadContext,
  type AeadSpec,
  type CipherContext,
  type CipherSpec,
  type CryptoBackend,
  type HashAlgorithm,
  type KeyExchange,
  type MacAlgorithm,
  type MacContext,
} from '../types.js';
import { createCmac, createXcbc, type AesBlock } from './cbcmac.js';
import {
  aeadName,
  checkBlocks,
  checkBytes,
  checkIv,
  checkKey,
  checkNonce,
  checkNotDisposed,
  cipherName,
  isValidAeadSpec,
  isValidCipherSpec,
  outputView,
  partsOf,
  unsupported,
} from './checks.js';
import { nodeCreateKeyExchange, nodeHasKeyExchange } from './node-kex.js';

const NAME = 'node';

const availableCiphers = new Set(getCiphers());

function evpAeadName(spec: AeadSpec): string {
  if (spec.alg === 'chacha20-poly1305') return 'chacha20-poly1305';
  return `aes-${spec.keyBytes * 8}-${spec.alg === 'aes-gcm' ? 'gcm' : 'ccm'}`;
}

function evpCipherName(spec: CipherSpec): string {
  if (spec.alg === '3des-cbc') return 'des-ede3-cbc';
  return `aes-${spec.keyBytes * 8}-${spec.alg === 'aes-cbc' ? 'cbc' : 'ctr'}`;
}

/** Probes a cipher once: OpenSSL 3 may list a cipher whose provider is not loaded (3DES outside FIPS/default). */
const probed = new Map<string, boolean>();
function evpWorks(name: string, keyBytes: number, ivBytes: number): boolean {
  let ok = probed.get(name);
  if (ok === undefined) {
    try {
      ok = availableCiphers.has(name);
      if (ok) createCipheriv(name, new Uint8Array(keyBytes), new Uint8Array(ivBytes));
    } catch {
      ok = false;
    }
    probed.set(name, ok);
  }
  return ok;
}

function hasAead(spec: AeadSpec): boolean {
  return isValidAeadSpec(spec) && availableCiphers.has(evpAeadName(spec));
}

function createAead(spec: AeadSpec, key: Uint8Array): AeadContext {
  if (!hasAead(spec)) throw unsupported(NAME, `AEAD ${spec.alg} key ${spec.keyBytes} icv ${spec.tagBytes}`);
  const what = `${NAME} ${aeadName(spec)}`;
  checkKey(what, key, spec.keyBytes);
  const evp = evpAeadName(spec);
  const ccm = spec.alg === 'aes-ccm';
  const nonceBytes = aeadNonceBytes(spec);
  const tagBytes = spec.tagBytes;
  let keyObj: KeyObject | undefined = createSecretKey(key);
  const opts = { authTagLength: tagBytes };

  const live = (): KeyObject => {
    checkNotDisposed(what, keyObj === undefined);
    return keyObj!;
  };

  return {
    spec,
    seal(nonce, aad, plaintext, out) {
      const k = live();
      checkNonce(what, nonce, nonceBytes);
      checkBytes(what, 'aad', aad);
      checkBytes(what, 'plaintext', plaintext);
      const o = outputView(what, out, plaintext.length + tagBytes);
      const c = createCipheriv(evp as 'aes-128-gcm', k, nonce, opts) as CipherGCM;
      // RFC 4309 / CCM needs the message length before the AAD; GCM and ChaCha20-Poly1305 ignore it.
      if (ccm) c.setAAD(aad, { plaintextLength: plaintext.length });
      else if (aad.length > 0) c.setAAD(aad);
      const ct = c.update(plaintext);
      const fin = c.final();
      // The whole input was consumed before we write, so `out` may alias `plaintext`.
      o.set(ct, 0);
      o.set(fin, ct.length);
      o.set(c.getAuthTag(), plaintext.length);
      return o;
    },
    open(nonce, aad, sealed, out) {
      const k = live();
      checkNonce(what, nonce, nonceBytes);
      checkBytes(what, 'aad', aad);
      checkBytes(what, 'sealed', sealed);
      if (sealed.length < tagBytes) {
        throw new CryptoError('INVALID_DATA_LENGTH', `${what}: sealed input is ${sealed.length} bytes, shorter than the ${tagBytes}-byte ICV`);
      }
      const ctLen = sealed.length - tagBytes;
      const o = outputView(what, out, ctLen);
      const d = createDecipheriv(evp as 'aes-128-gcm', k, nonce, opts) as DecipherGCM;
      // OpenSSL compares the tag in constant time (CRYPTO_memcmp).
      d.setAuthTag(sealed.subarray(ctLen));
      if (ccm) d.setAAD(aad, { plaintextLength: ctLen });
      else if (aad.length > 0) d.setAAD(aad);
      let pt: Buffer;
      try {
        pt = d.update(sealed.subarray(0, ctLen));
        const fin = d.final();
        if (fin.length > 0) pt = Buffer.concat([pt, fin]);
      } catch {
        return null; // tag mismatch: nothing was written to `out`
      }
      o.set(pt);
      pt.fill(0);
      return o;
    },
    dispose() {
      keyObj = undefined;
    },
  };
}

function hasCipher(spec: CipherSpec): boolean {
  return isValidCipherSpec(spec) && evpWorks(evpCipherName(spec), spec.keyBytes, spec.alg === '3des-cbc' ? 8 : 16);
}

function createCipher(spec: CipherSpec, key: Uint8Array): CipherContext {
  if (!hasCipher(spec)) throw unsupported(NAME, `cipher ${spec.alg} key ${spec.keyBytes}`);
  const what = `${NAME} ${cipherName(spec)}`;
  checkKey(what, key, spec.keyBytes);
  const evp = evpCipherName(spec);
  const block = cipherBlockBytes(spec);
  const cbc = spec.alg !== 'aes-ctr';
  let keyObj: KeyObject | undefined = createSecretKey(key);

  const run = (decrypt: boolean, iv: Uint8Array, data: Uint8Array, out: Uint8Array | undefined): Uint8Array => {
    checkNotDisposed(what, keyObj === undefined);
    // CBC IV is one block (RFC 3602 section 2.1); AES-CTR takes the whole 16-byte counter block (RFC 3686 section 4).
    checkIv(what, iv, cbc ? block : 16);
    checkBytes(what, 'data', data);
    if (cbc) checkBlocks(what, data, block);
    const o = outputView(what, out, data.length);
    const c = decrypt ? createDecipheriv(evp, keyObj!, iv) : createCipheriv(evp, keyObj!, iv);
    c.setAutoPadding(false);
    const r = c.update(data);
    const fin = c.final();
    o.set(r, 0);
    o.set(fin, r.length);
    return o;
  };

  return {
    spec,
    encrypt: (iv, data, out) => run(false, iv, data, out),
    decrypt: (iv, data, out) => run(true, iv, data, out),
    dispose() {
      keyObj = undefined;
    },
  };
}

/** AES-128 block primitive for XCBC/CMAC: ECB for one block, CBC with zero IV for the chain. */
export function nodeAesBlock(key: Uint8Array): AesBlock {
  const k = createSecretKey(key);
  const bits = key.length * 8;
  const zeroIv = new Uint8Array(16);
  return {
    encryptBlock(block) {
      const c = createCipheriv(`aes-${bits}-ecb`, k, null);
      c.setAutoPadding(false);
      return new Uint8Array(c.update(block));
    },
    cbcMac(data) {
      const c = createCipheriv(`aes-${bits}-cbc`, k, zeroIv);
      c.setAutoPadding(false);
      const r = c.update(data);
      return new Uint8Array(r.subarray(r.length - 16));
    },
  };
}

const HMAC_HASH: Partial<Record<MacAlgorithm, HashAlgorithm>> = {
  'hmac-sha1': 'sha1',
  'hmac-sha256': 'sha256',
  'hmac-sha384': 'sha384',
  'hmac-sha512': 'sha512',
};

function hasMac(alg: MacAlgorithm): boolean {
  return alg in HMAC_HASH || alg === 'aes-xcbc' || alg === 'aes-cmac';
}

function createMac(alg: MacAlgorithm, key: Uint8Array): MacContext {
  if (!hasMac(alg)) throw unsupported(NAME, `MAC ${String(alg)}`);
  const what = `${NAME} ${alg}`;
  const outputBytes = macOutputBytes(alg);
  const hash = HMAC_HASH[alg];
  let disposed = false;
  if (hash !== undefined) {
    if (!(key instanceof Uint8Array)) throw new CryptoError('INVALID_KEY_LENGTH', `${what}: key must be a Uint8Array`);
    // HMAC takes a key of any length (RFC 2104 section 2); keep our own copy so dispose() can wipe it.
    const k = Buffer.from(key);
    return {
      alg,
      outputBytes,
      compute(data, out) {
        checkNotDisposed(what, disposed);
        const o = outputView(what, out, outputBytes);
        const h = createHmac(hash, k);
        for (const p of partsOf(data)) h.update(p);
        o.set(h.digest());
        return o;
      },
      dispose() {
        disposed = true;
        k.fill(0);
      },
    };
  }
  // RFC 3566 / RFC 4493 (and the ESP uses RFC 3566 section 2.1, RFC 4494): a 128-bit AES key.
  checkKey(what, key, 16);
  const m = alg === 'aes-xcbc' ? createXcbc(nodeAesBlock, key) : createCmac(nodeAesBlock, key);
  return {
    alg,
    outputBytes,
    compute(data, out) {
      checkNotDisposed(what, disposed);
      const o = outputView(what, out, outputBytes);
      o.set(m.compute(data));
      return o;
    },
    dispose() {
      disposed = true;
      m.dispose();
    },
  };
}

function hasHash(alg: HashAlgorithm): boolean {
  return alg === 'sha1' || alg === 'sha256' || alg === 'sha384' || alg === 'sha512';
}

function hash(alg: HashAlgorithm, data: Uint8Array | readonly Uint8Array[]): Uint8Array {
  if (!hasHash(alg)) throw unsupported(NAME, `hash ${String(alg)}`);
  const h = createHash(alg);
  for (const p of partsOf(data)) h.update(p);
  return new Uint8Array(h.digest());
}

export const nodeBackend: CryptoBackend = {
  name: 'node',
  hasAead,
  createAead,
  hasCipher,
  createCipher,
  hasMac,
  createMac,
  hasHash,
  hash,
  hasKeyExchange: (group: number) => nodeHasKeyExchange(group),
  createKeyExchange: (group: number, random: RandomSource): KeyExchange => nodeCreateKeyExchange(group, random),
};
