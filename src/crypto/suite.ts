/**
 * From a negotiated transform set to working crypto: how much key material each transform takes, in which order
 * it is cut from KEYMAT, and uniform encryption / integrity contexts over any CryptoBackend. Both the ESP engine
 * and the IKE SK payload (RFC 7296 3.14, RFC 5282) use these, so the per-packet calls allocate nothing when the
 * caller passes `out` buffers: nonces and counter blocks are assembled in per-context scratch buffers.
 *
 * Key material layout:
 *  - One encryption transform's keymat is `key | salt`: the salt (RFC 4106 section 8.1 for GCM: last 4 bytes;
 *    RFC 4309 section 7.1 for CCM: last 3 bytes; RFC 7634 section 2: last 4 bytes) or the AES-CTR nonce
 *    (RFC 3686 section 5.1: last 4 bytes) is taken from the key material, never sent.
 *  - CHILD SA KEYMAT (RFC 7296 2.17): for each direction the encryption key first, then the integrity key; the
 *    initiator-to-responder direction first: `encr_i | integ_i | encr_r | integ_r`.
 *  - IKE SA keys (RFC 7296 2.14): `SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr`, cut by kdf.ts with
 *    the sizes from ikeSaKeySizes.
 */
import { constantTimeEqual } from './ct.js';
import { CryptoError } from './errors.js';
import type { IkeSaKeySizes } from './kdf.js';
import {
  aeadSpecFor,
  cipherSpecFor,
  encrTransform,
  integTransform,
  prfTransform,
  resolveEncrKeyBits,
  type EncrTransform,
  type IntegTransform,
} from './transforms.js';
import type { AeadContext, CipherContext, CryptoBackend, MacContext } from './types.js';

/** Bytes of key material one encryption transform takes: key plus salt/nonce. */
export function encrKeymatBytes(encrId: number, keyBits?: number): number {
  const t = encrTransform(encrId);
  return resolveEncrKeyBits(encrId, keyBits) / 8 + t.saltBytes;
}

/** Bytes of key material one integrity transform takes (0 for NONE). */
export function integKeyBytes(integId: number): number {
  return integTransform(integId).keyBytes;
}

/** Preferred PRF key size: the length of SK_d, SK_pi, SK_pr (RFC 7296 2.13). */
export function prfKeyBytes(prfId: number): number {
  return prfTransform(prfId).keyBytes;
}

export interface DirectionKeys {
  /** Encryption keymat (key | salt), ready for createEncryption. */
  readonly encr: Uint8Array;
  /** Integrity key (empty for AEAD / NONE), ready for createIntegrity. */
  readonly integ: Uint8Array;
}

export interface ChildKeys {
  /** Initiator-to-responder keys. */
  readonly initiator: DirectionKeys;
  /** Responder-to-initiator keys. */
  readonly responder: DirectionKeys;
}

/** Total CHILD SA KEYMAT to request from prf+ (RFC 7296 2.17): both directions, encryption and integrity. */
export function childKeymatBytes(encrId: number, keyBits: number | undefined, integId = 0): number {
  return 2 * (encrKeymatBytes(encrId, keyBits) + integKeyBytes(integId));
}

function checkKeymat(what: string, keymat: Uint8Array, expected: number): void {
  if (!(keymat instanceof Uint8Array)) {
    throw new CryptoError('INVALID_KEY_LENGTH', `${what}: keymat must be a Uint8Array`);
  }
  if (keymat.length !== expected) {
    throw new CryptoError('INVALID_KEY_LENGTH', `${what}: keymat is ${keymat.length} bytes, expected ${expected}`);
  }
}

/**
 * Cuts CHILD SA KEYMAT into per-direction keys (RFC 7296 2.17: "encryption key (if any) MUST be taken from the first
 * bits and the integrity key (if any) MUST be taken from the remaining bits", initiator-to-responder first).
 * Returns views into `keymat`, no copies.
 */
export function splitChildKeymat(
  keymat: Uint8Array,
  encrId: number,
  keyBits: number | undefined,
  integId = 0,
): ChildKeys {
  const e = encrKeymatBytes(encrId, keyBits);
  const a = integKeyBytes(integId);
  checkKeymat('CHILD SA KEYMAT', keymat, 2 * (e + a));
  return {
    initiator: { encr: keymat.subarray(0, e), integ: keymat.subarray(e, e + a) },
    responder: { encr: keymat.subarray(e + a, 2 * e + a), integ: keymat.subarray(2 * e + a, 2 * (e + a)) },
  };
}

export interface IkeSaTransforms {
  readonly prf: number;
  readonly encr: number;
  readonly keyBits?: number;
  /** Absent or 0 for AEAD. */
  readonly integ?: number;
}

/**
 * The key sizes kdf.ts `deriveIkeSaKeys` cuts `{SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr}` with
 * (RFC 7296 2.14): SK_e includes the salt/nonce, SK_a is empty for AEAD (RFC 5282 section 7).
 */
export function ikeSaKeySizes(t: IkeSaTransforms): IkeSaKeySizes {
  return {
    encrKey: encrKeymatBytes(t.encr, t.keyBits),
    integKey: integKeyBytes(t.integ ?? 0),
    prfKey: prfKeyBytes(t.prf),
  };
}

/** An AEAD transform keyed for one direction. */
export interface AeadEncryption {
  readonly aead: true;
  readonly transform: EncrTransform;
  readonly ctx: AeadContext;
  /** The implicit salt from the end of the keymat (RFC 4106 8.1, RFC 4309 7.1, RFC 7634 2). */
  readonly salt: Uint8Array;
  /** The explicit IV on the wire: 8 bytes for every AEAD transform. */
  readonly ivBytes: 8;
  readonly icvBytes: number;
  /** Padding granularity of the cipher (1: ESP still aligns to 4 bytes, RFC 4303 2.4). */
  readonly blockBytes: 1;
  /**
   * Nonce = salt | IV (RFC 4106 section 4, RFC 4309 section 4, RFC 7634 section 2) in a scratch buffer owned by
   * this context: valid until the next call.
   */
  nonce(iv: Uint8Array): Uint8Array;
  /** Seals `plaintext` into `ciphertext | ICV` (in `out` when given; `out` may alias `plaintext`). */
  seal(iv: Uint8Array, aad: Uint8Array, plaintext: Uint8Array, out?: Uint8Array): Uint8Array;
  /** Opens `ciphertext | ICV`; null when the ICV does not verify (compared in constant time by the backend). */
  open(iv: Uint8Array, aad: Uint8Array, sealed: Uint8Array, out?: Uint8Array): Uint8Array | null;
  dispose(): void;
}

/** A classic cipher transform (AES-CBC, AES-CTR, 3DES) keyed for one direction; needs an integrity transform. */
export interface CipherEncryption {
  readonly aead: false;
  readonly transform: EncrTransform;
  readonly ctx: CipherContext;
  /** AES-CTR only: the 4-byte nonce from the end of the keymat (RFC 3686 section 5.1). */
  readonly nonce?: Uint8Array;
  /** The IV on the wire: 16 for AES-CBC, 8 for 3DES and AES-CTR. */
  readonly ivBytes: number;
  /** Padding granularity: 16 AES-CBC, 8 3DES, 1 AES-CTR. */
  readonly blockBytes: number;
  /**
   * Encrypts with the wire IV: for CBC `iv` is the CBC IV, for CTR the counter block nonce | iv | 00000001
   * (RFC 3686 section 4) is assembled in a scratch buffer. `out` may alias `data`.
   */
  encrypt(iv: Uint8Array, data: Uint8Array, out?: Uint8Array): Uint8Array;
  decrypt(iv: Uint8Array, data: Uint8Array, out?: Uint8Array): Uint8Array;
  dispose(): void;
}

export type EncryptionContext = AeadEncryption | CipherEncryption;

function checkIv(what: string, iv: Uint8Array, expected: number): void {
  if (!(iv instanceof Uint8Array) || iv.length !== expected) {
    const got = iv instanceof Uint8Array ? `${iv.length} bytes` : 'not a Uint8Array';
    throw new CryptoError('INVALID_IV_LENGTH', `${what}: iv is ${got}, expected ${expected}`);
  }
}

function label(t: EncrTransform, keyBits: number): string {
  return t.keyLengthAttribute ? `${t.iana}-${keyBits}` : t.iana;
}

/**
 * Keys an encryption transform from its keymat (`key | salt`, encrKeymatBytes long). Throws
 * CryptoError('INVALID_KEY_LENGTH') for a wrong keymat size or key length, ('UNSUPPORTED_ALGORITHM') for ENCR_NULL
 * (nothing to key: the ESP engine passes the payload through) or what the backend lacks.
 */
export function createEncryption(
  encrId: number,
  keyBits: number | undefined,
  keymat: Uint8Array,
  backend: CryptoBackend,
): EncryptionContext {
  const t = encrTransform(encrId);
  const bits = resolveEncrKeyBits(encrId, keyBits);
  const what = label(t, bits);
  const keyBytes = bits / 8;
  checkKeymat(what, keymat, keyBytes + t.saltBytes);
  const key = keymat.subarray(0, keyBytes);

  if (t.kind === 'aead') {
    const ctx = backend.createAead(aeadSpecFor(encrId, bits), key);
    const salt = keymat.slice(keyBytes);
    const scratch = new Uint8Array(t.saltBytes + 8);
    scratch.set(salt, 0);
    const nonce = (iv: Uint8Array): Uint8Array => {
      checkIv(what, iv, 8);
      scratch.set(iv, t.saltBytes);
      return scratch;
    };
    return {
      aead: true,
      transform: t,
      ctx,
      salt,
      ivBytes: 8,
      icvBytes: t.icvBytes,
      blockBytes: 1,
      nonce,
      seal: (iv, aad, plaintext, out) => ctx.seal(nonce(iv), aad, plaintext, out),
      open: (iv, aad, sealed, out) => ctx.open(nonce(iv), aad, sealed, out),
      dispose: () => {
        ctx.dispose();
        salt.fill(0);
        scratch.fill(0);
      },
    };
  }

  if (t.kind === 'cipher') {
    const ctx = backend.createCipher(cipherSpecFor(encrId, bits), key);
    if (t.cipher === 'aes-ctr') {
      const ctrNonce = keymat.slice(keyBytes);
      // RFC 3686 section 4: counter block = nonce (4) | IV (8) | block counter (4, starting at 1).
      const block = new Uint8Array(16);
      block.set(ctrNonce, 0);
      block[15] = 1;
      const counter = (iv: Uint8Array): Uint8Array => {
        checkIv(what, iv, 8);
        block.set(iv, 4);
        return block;
      };
      return {
        aead: false,
        transform: t,
        ctx,
        nonce: ctrNonce,
        ivBytes: 8,
        blockBytes: 1,
        encrypt: (iv, data, out) => ctx.encrypt(counter(iv), data, out),
        decrypt: (iv, data, out) => ctx.decrypt(counter(iv), data, out),
        dispose: () => {
          ctx.dispose();
          ctrNonce.fill(0);
          block.fill(0);
        },
      };
    }
    return {
      aead: false,
      transform: t,
      ctx,
      ivBytes: t.ivBytes,
      blockBytes: t.blockBytes,
      encrypt: (iv, data, out) => {
        checkIv(what, iv, t.ivBytes);
        return ctx.encrypt(iv, data, out);
      },
      decrypt: (iv, data, out) => {
        checkIv(what, iv, t.ivBytes);
        return ctx.decrypt(iv, data, out);
      },
      dispose: () => ctx.dispose(),
    };
  }

  throw new CryptoError('UNSUPPORTED_ALGORITHM', `${t.iana} has no cipher context: the payload travels in clear`);
}

/** An integrity transform keyed for one direction: truncated MAC and constant-time ICV check. */
export interface IntegrityContext {
  readonly transform: IntegTransform;
  /** Truncated ICV length on the wire. */
  readonly icvBytes: number;
  /**
   * The ICV over the concatenation of `parts`: the leftmost icvBytes of the MAC (RFC 2404 section 2, RFC 3566
   * section 4, RFC 4494 section 2.1, RFC 4868 section 2.3). Written into `out` (>= icvBytes) when given.
   */
  compute(parts: Uint8Array | readonly Uint8Array[], out?: Uint8Array): Uint8Array;
  /** Whether `icv` is the ICV of `parts`; constant time in the ICV contents (RFC 4303 3.4.4.1). */
  verify(parts: Uint8Array | readonly Uint8Array[], icv: Uint8Array): boolean;
  dispose(): void;
}

/**
 * Keys an integrity transform. The key must be exactly integKeyBytes(integId) long (RFC 4868 section 2.1.1 fixes
 * HMAC-SHA2 keys at the hash output size; RFC 2404 at 20 bytes; RFC 3566 / RFC 4494 at 16 bytes).
 */
export function createIntegrity(integId: number, key: Uint8Array, backend: CryptoBackend): IntegrityContext {
  const t = integTransform(integId);
  if (t.mac === null) {
    throw new CryptoError('UNSUPPORTED_ALGORITHM', 'integrity NONE has no context (AEAD transforms carry their ICV)');
  }
  checkKeymat(t.iana, key, t.keyBytes);
  const mac: MacContext = backend.createMac(t.mac, key);
  const full = new Uint8Array(mac.outputBytes);
  const icvBytes = t.icvBytes;
  const compute = (parts: Uint8Array | readonly Uint8Array[], out?: Uint8Array): Uint8Array => {
    mac.compute(parts, full);
    if (out === undefined) return full.slice(0, icvBytes);
    if (!(out instanceof Uint8Array) || out.length < icvBytes) {
      const got = out instanceof Uint8Array ? `${out.length} bytes` : 'not a Uint8Array';
      throw new CryptoError('INVALID_OUTPUT_LENGTH', `${t.iana}: out is ${got}, need at least ${icvBytes}`);
    }
    out.set(full.subarray(0, icvBytes));
    return out.length === icvBytes ? out : out.subarray(0, icvBytes);
  };
  return {
    transform: t,
    icvBytes,
    compute,
    verify: (parts, icv) => {
      if (!(icv instanceof Uint8Array) || icv.length !== icvBytes) return false;
      mac.compute(parts, full);
      return constantTimeEqual(full.subarray(0, icvBytes), icv);
    },
    dispose: () => {
      mac.dispose();
      full.fill(0);
    },
  };
}
