/**
 * The `noble` backend: @noble/ciphers, @noble/hashes and @noble/curves. Pure JavaScript, so it runs anywhere; it is
 * the portable reference the other backends are checked against, never the ESP hot path.
 *
 * What noble lacks, `has*` denies: 3DES (no noble implementation), Brainpool P-224 and the P-192/P-224 groups.
 * Two things noble has no ready-made form of are built here from its parts: AES-CCM (RFC 3610, ccm.ts, over noble
 * AES) and MODP Diffie-Hellman (BigInt modular exponentiation).
 */
import { cbc, cmac, ctr, ecb, gcm } from '@noble/ciphers/aes.js';
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { x25519 } from '@noble/curves/ed25519.js';
import { x448 } from '@noble/curves/ed448.js';
import { brainpoolP256r1, brainpoolP384r1, brainpoolP512r1 } from '@noble/curves/misc.js';
import { p256, p384, p521 } from '@noble/curves/nist.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha1 } from '@noble/hashes/legacy.js';
import { sha256, sha384, sha512 } from '@noble/hashes/sha2.js';
import { constantTimeEqual } from '../ct.js';
import { CryptoError } from '../errors.js';
import { modpGroup, type ModpGroup } from '../modp.js';
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
import { createXcbc, type AesBlock } from './cbcmac.js';
import { nobleHasKem, nobleKem } from './noble-mlkem.js';
import { ccmOpen, ccmSeal, type CcmAes } from './ccm.js';
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
import {
  bigIntToBytes,
  bytesToBigInt,
  checkEcpPeerLength,
  checkMontgomeryPeer,
  checkNotAllZero,
  drawEcpScalar,
  drawModpExponent,
  ECP_CURVES,
  groupLabel,
  invalidKe,
  modPow,
  MONTGOMERY_BYTES,
  validateModpPeer,
  type EcpCurve,
} from './kex-common.js';

const NAME = 'noble';

function hasAead(spec: AeadSpec): boolean {
  return isValidAeadSpec(spec);
}

function nobleCcmAes(k: Uint8Array): CcmAes {
  const zeroIv = new Uint8Array(16);
  return {
    cbcMac(data) {
      const r = cbc(k, zeroIv, { disablePadding: true }).encrypt(data);
      return r.slice(r.length - 16);
    },
    ctr: (ctr0, data) => ctr(k, ctr0).encrypt(data),
    encryptBlock: (block) => ecb(k, { disablePadding: true }).encrypt(block),
  };
}

/** GCM's first keystream block is E(K, nonce | 00000002); J0 = nonce | 00000001 masks the tag (NIST SP 800-38D). */
function gcmCounterBlock(nonce: Uint8Array): Uint8Array {
  const cb = new Uint8Array(16);
  cb.set(nonce);
  cb[15] = 2;
  return cb;
}

function createAead(spec: AeadSpec, key: Uint8Array): AeadContext {
  if (!hasAead(spec)) throw unsupported(NAME, `AEAD ${spec.alg} key ${spec.keyBytes} icv ${spec.tagBytes}`);
  const what = `${NAME} ${aeadName(spec)}`;
  checkKey(what, key, spec.keyBytes);
  const k = key.slice();
  const nonceBytes = aeadNonceBytes(spec);
  const tagBytes = spec.tagBytes;
  const chacha = spec.alg === 'chacha20-poly1305';
  const ccm = spec.alg === 'aes-ccm' ? nobleCcmAes(k) : undefined;
  let disposed = false;
  const sealFull = (nonce: Uint8Array, aad: Uint8Array, pt: Uint8Array): Uint8Array =>
    ccm
      ? ccmSeal(ccm, nonce, aad, pt, tagBytes)
      : chacha
        ? chacha20poly1305(k, nonce, aad).encrypt(pt)
        : gcm(k, nonce, aad).encrypt(pt);

  return {
    spec,
    seal(nonce, aad, plaintext, out) {
      checkNotDisposed(what, disposed);
      checkNonce(what, nonce, nonceBytes);
      checkBytes(what, 'aad', aad);
      checkBytes(what, 'plaintext', plaintext);
      const o = outputView(what, out, plaintext.length + tagBytes);
      const full = sealFull(nonce, aad, plaintext);
      // RFC 4106 section 6: a truncated ICV is the leftmost bytes of the 16-byte GCM tag.
      o.set(full.subarray(0, plaintext.length + tagBytes));
      return o;
    },
    open(nonce, aad, sealed, out) {
      checkNotDisposed(what, disposed);
      checkNonce(what, nonce, nonceBytes);
      checkBytes(what, 'aad', aad);
      checkBytes(what, 'sealed', sealed);
      if (sealed.length < tagBytes) {
        throw new CryptoError('INVALID_DATA_LENGTH', `${what}: sealed input is ${sealed.length} bytes, shorter than the ${tagBytes}-byte ICV`);
      }
      const ctLen = sealed.length - tagBytes;
      const o = outputView(what, out, ctLen);
      let pt: Uint8Array;
      if (ccm) {
        const r = ccmOpen(ccm, nonce, aad, sealed, tagBytes);
        if (r === null) return null;
        pt = r;
      } else if (tagBytes === 16) {
        try {
          pt = chacha ? chacha20poly1305(k, nonce, aad).decrypt(sealed) : gcm(k, nonce, aad).decrypt(sealed);
        } catch {
          return null;
        }
      } else {
        // noble's GCM only verifies full tags: decrypt with the GCM keystream, recompute the full tag, compare the
        // truncated prefix in constant time before releasing any plaintext.
        pt = ctr(k, gcmCounterBlock(nonce)).decrypt(sealed.subarray(0, ctLen));
        const full = gcm(k, nonce, aad).encrypt(pt);
        if (!constantTimeEqual(full.subarray(ctLen, ctLen + tagBytes), sealed.subarray(ctLen))) {
          pt.fill(0);
          return null;
        }
      }
      o.set(pt);
      return o;
    },
    dispose() {
      disposed = true;
      k.fill(0);
    },
  };
}

function hasCipher(spec: CipherSpec): boolean {
  return isValidCipherSpec(spec) && spec.alg !== '3des-cbc';
}

function createCipher(spec: CipherSpec, key: Uint8Array): CipherContext {
  if (!hasCipher(spec)) throw unsupported(NAME, `cipher ${spec.alg} key ${spec.keyBytes}`);
  const what = `${NAME} ${cipherName(spec)}`;
  checkKey(what, key, spec.keyBytes);
  const k = key.slice();
  const block = cipherBlockBytes(spec);
  const isCbc = spec.alg === 'aes-cbc';
  let disposed = false;
  const run = (decrypt: boolean, iv: Uint8Array, data: Uint8Array, out: Uint8Array | undefined): Uint8Array => {
    checkNotDisposed(what, disposed);
    checkIv(what, iv, 16);
    checkBytes(what, 'data', data);
    if (isCbc) checkBlocks(what, data, block);
    const o = outputView(what, out, data.length);
    if (data.length === 0) return o;
    const c = isCbc ? cbc(k, iv, { disablePadding: true }) : ctr(k, iv);
    o.set(decrypt ? c.decrypt(data) : c.encrypt(data));
    return o;
  };
  return {
    spec,
    encrypt: (iv, data, out) => run(false, iv, data, out),
    decrypt: (iv, data, out) => run(true, iv, data, out),
    dispose() {
      disposed = true;
      k.fill(0);
    },
  };
}

export function nobleAesBlock(key: Uint8Array): AesBlock {
  const k = key.slice();
  const zeroIv = new Uint8Array(16);
  return {
    encryptBlock: (block) => ecb(k, { disablePadding: true }).encrypt(block),
    cbcMac(data) {
      const r = cbc(k, zeroIv, { disablePadding: true }).encrypt(data);
      return r.slice(r.length - 16);
    },
    dispose: () => k.fill(0),
  };
}

const HASHES = { sha1, sha256, sha384, sha512 } as const;
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
  const h = HMAC_HASH[alg];
  let disposed = false;
  let compute: (parts: readonly Uint8Array[]) => Uint8Array;
  let wipe: () => void;
  if (h !== undefined) {
    if (!(key instanceof Uint8Array)) throw new CryptoError('INVALID_KEY_LENGTH', `${what}: key must be a Uint8Array`);
    const k = key.slice();
    compute = (parts) => {
      const m = hmac.create(HASHES[h], k);
      for (const p of parts) m.update(p);
      return m.digest();
    };
    wipe = () => k.fill(0);
  } else if (alg === 'aes-xcbc') {
    checkKey(what, key, 16);
    const x = createXcbc(nobleAesBlock, key);
    compute = (parts) => x.compute(parts);
    wipe = () => x.dispose();
  } else {
    checkKey(what, key, 16);
    const k = key.slice();
    // noble's own RFC 4493 CMAC: an implementation independent of cbcmac.ts, which the node backend uses.
    compute = (parts) => {
      const m = cmac.create(k);
      for (const p of parts) m.update(p);
      return m.digest();
    };
    wipe = () => k.fill(0);
  }
  return {
    alg,
    outputBytes,
    compute(data, out) {
      checkNotDisposed(what, disposed);
      const o = outputView(what, out, outputBytes);
      o.set(compute(partsOf(data)));
      return o;
    },
    dispose() {
      disposed = true;
      wipe();
    },
  };
}

function hasHash(alg: HashAlgorithm): boolean {
  return alg in HASHES;
}

function hash(alg: HashAlgorithm, data: Uint8Array | readonly Uint8Array[]): Uint8Array {
  if (!hasHash(alg)) throw unsupported(NAME, `hash ${String(alg)}`);
  const h = HASHES[alg].create();
  for (const p of partsOf(data)) h.update(p);
  return h.digest();
}

type NobleWeierstrass = typeof p256;
const NOBLE_CURVES: ReadonlyMap<number, NobleWeierstrass> = new Map<number, NobleWeierstrass>([
  [19, p256],
  [20, p384],
  [21, p521],
  [28, brainpoolP256r1],
  [29, brainpoolP384r1],
  [30, brainpoolP512r1],
]);

function hasKeyExchange(group: number): boolean {
  return modpGroup(group) !== undefined || NOBLE_CURVES.has(group) || MONTGOMERY_BYTES.has(group);
}

function createKeyExchange(group: number, random: RandomSource): KeyExchange {
  const m = modpGroup(group);
  if (m) return modpExchange(m, random);
  const nc = NOBLE_CURVES.get(group);
  if (nc) return ecpExchange(ECP_CURVES.get(group)!, nc, random);
  if (MONTGOMERY_BYTES.has(group)) return montgomeryExchange(group, random);
  if (nobleHasKem(group)) {
    // A KEM has no symmetric Diffie-Hellman form: the initiator and responder send different values (RFC 9370 2.2).
    const how = 'a KEM: use kem.ts createKemInitiator/kemRespond';
    throw unsupported(NAME, `ML-KEM method ${group} through createKeyExchange (${how})`);
  }
  throw unsupported(NAME, `key exchange ${groupLabel(group)}`);
}

function modpExchange(g: ModpGroup, random: RandomSource): KeyExchange {
  const what = `${NAME} ${groupLabel(g.id)}`;
  const privBytes = drawModpExponent(g, random);
  let x: bigint | undefined = bytesToBigInt(privBytes);
  privBytes.fill(0);
  const p = BigInt('0x' + g.prime);
  const publicValue = bigIntToBytes(modPow(BigInt('0x' + g.generator), x, p), g.primeBytes);
  return {
    group: g.id,
    publicValue,
    computeSharedSecret(peerPublic) {
      checkNotDisposed(what, x === undefined);
      const y = validateModpPeer(g, peerPublic);
      // RFC 7296 section 2.14: g^ir padded with zeros to the length of the modulus.
      return bigIntToBytes(modPow(y, x!, p), g.primeBytes);
    },
    dispose() {
      x = undefined; // BigInts are immutable: dropping the reference is all JavaScript allows.
    },
  };
}

function ecpExchange(c: EcpCurve, nc: NobleWeierstrass, random: RandomSource): KeyExchange {
  const what = `${NAME} ${groupLabel(c.group)}`;
  const priv = drawEcpScalar(c, random);
  let disposed = false;
  const publicValue = nc.getPublicKey(priv, false).subarray(1);
  return {
    group: c.group,
    publicValue,
    computeSharedSecret(peerPublic) {
      checkNotDisposed(what, disposed);
      checkEcpPeerLength(c, peerPublic);
      const point = new Uint8Array(1 + peerPublic.length);
      point[0] = 0x04;
      point.set(peerPublic, 1);
      let shared: Uint8Array;
      try {
        // noble decodes with Point.fromBytes, which asserts the point is on the curve and not infinity.
        shared = nc.getSharedSecret(priv, point, true);
      } catch {
        throw invalidKe(c.group, 'is not a point on the curve');
      }
      return shared.slice(1); // compressed encoding 02/03 | x: keep x (RFC 5903 section 7)
    },
    dispose() {
      disposed = true;
      priv.fill(0);
    },
  };
}

function montgomeryExchange(group: number, random: RandomSource): KeyExchange {
  const what = `${NAME} ${groupLabel(group)}`;
  const n = MONTGOMERY_BYTES.get(group)!;
  const fn = group === 31 ? x25519 : x448;
  const priv = random.fill(new Uint8Array(n));
  let disposed = false;
  const publicValue = fn.getPublicKey(priv);
  return {
    group,
    publicValue,
    computeSharedSecret(peerPublic) {
      checkNotDisposed(what, disposed);
      checkMontgomeryPeer(group, peerPublic);
      let s: Uint8Array;
      try {
        s = fn.getSharedSecret(priv, peerPublic);
      } catch {
        // noble refuses the all-zero result itself (RFC 7748 section 6.1).
        throw invalidKe(group, 'gives an all-zero shared secret (low-order point, RFC 8031 section 2.3)');
      }
      checkNotAllZero(group, s);
      return s;
    },
    dispose() {
      disposed = true;
      priv.fill(0);
    },
  };
}

export const nobleBackend: CryptoBackend = {
  name: 'noble',
  hasAead,
  createAead,
  hasCipher,
  createCipher,
  hasMac,
  createMac,
  hasHash,
  hash,
  hasKeyExchange,
  createKeyExchange,
  hasKem: nobleHasKem,
  kem: nobleKem,
};
