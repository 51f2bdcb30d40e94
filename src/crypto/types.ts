/**
 * The crypto contract shared by every backend (node:crypto, @noble/*, OpenSSL EVP via koffi).
 *
 * Conventions (noble style): Uint8Array in and out; sizes validated at the boundary with a CryptoError;
 * an optional caller-supplied `out` buffer so the ESP hot path can seal and open in place without allocating;
 * contexts are created once per key and reused, and `dispose()` wipes/frees key material.
 */
import type { RandomSource } from './random.js';

export type BackendName = 'node' | 'noble' | 'openssl';

/** AEAD algorithms (RFC 4106 GCM, RFC 4309 CCM, RFC 7634 ChaCha20-Poly1305). */
export type AeadAlgorithm = 'aes-gcm' | 'aes-ccm' | 'chacha20-poly1305';

export interface AeadSpec {
  readonly alg: AeadAlgorithm;
  /** Raw cipher key length without the salt: 16/24/32 for AES, 32 for ChaCha20. */
  readonly keyBytes: number;
  /** ICV length: 8/12/16 for GCM and CCM, 16 for ChaCha20-Poly1305. */
  readonly tagBytes: number;
}

/**
 * Nonce length expected by `seal`/`open`: 12 for GCM and ChaCha20-Poly1305 (salt 4 | IV 8),
 * 11 for CCM (salt 3 | IV 8) as RFC 4106 section 4, RFC 4309 section 4 and RFC 7634 section 2 lay them out.
 */
export function aeadNonceBytes(spec: AeadSpec): number {
  return spec.alg === 'aes-ccm' ? 11 : 12;
}

export interface AeadContext {
  readonly spec: AeadSpec;
  /**
   * Encrypts `plaintext` and writes `ciphertext | tag` into `out` (length >= plaintext.length + tagBytes),
   * or into a new buffer when `out` is omitted. `out` may start at the same byte as `plaintext` (in place).
   * Returns the written view of `out`.
   */
  seal(nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array, out?: Uint8Array): Uint8Array;
  /**
   * Verifies and decrypts `sealed` (= ciphertext | tag). Returns the plaintext view of `out` (or a new buffer), or
   * `null` when the tag does not verify: a forged packet is an expected event on the hot path, not an exception.
   * The tag comparison is constant time.
   */
  open(nonce: Uint8Array, aad: Uint8Array, sealed: Uint8Array, out?: Uint8Array): Uint8Array | null;
  dispose(): void;
}

/** Unauthenticated ciphers (IKE/ESP encryption transforms that need a separate integrity transform). */
export type CipherAlgorithm = 'aes-cbc' | 'aes-ctr' | '3des-cbc';

export interface CipherSpec {
  readonly alg: CipherAlgorithm;
  /** Raw key length (16/24/32 for AES, 24 for 3DES). For AES-CTR the RFC 3686 nonce is NOT part of the key here. */
  readonly keyBytes: number;
}

/** Block size in bytes: 16 for AES, 8 for 3DES. */
export function cipherBlockBytes(spec: CipherSpec): number {
  return spec.alg === '3des-cbc' ? 8 : 16;
}

export interface CipherContext {
  readonly spec: CipherSpec;
  /**
   * `iv` is the CBC IV (one block), or for AES-CTR the whole initial 16-byte counter block
   * (nonce 4 | IV 8 | 00000001, RFC 3686 section 4). CBC input must be a whole number of blocks (no padding is
   * added: IKE and ESP pad themselves). `out` may alias `data`.
   */
  encrypt(iv: Uint8Array, data: Uint8Array, out?: Uint8Array): Uint8Array;
  decrypt(iv: Uint8Array, data: Uint8Array, out?: Uint8Array): Uint8Array;
  dispose(): void;
}

/** Keyed MACs used as integrity transforms and PRFs. Output is the full MAC; truncation is done by the caller. */
export type MacAlgorithm = 'hmac-sha1' | 'hmac-sha256' | 'hmac-sha384' | 'hmac-sha512' | 'aes-xcbc' | 'aes-cmac';

export function macOutputBytes(alg: MacAlgorithm): number {
  switch (alg) {
    case 'hmac-sha1': return 20;
    case 'hmac-sha256': return 32;
    case 'hmac-sha384': return 48;
    case 'hmac-sha512': return 64;
    case 'aes-xcbc':
    case 'aes-cmac': return 16;
  }
}

export interface MacContext {
  readonly alg: MacAlgorithm;
  /** Full (untruncated) MAC length. */
  readonly outputBytes: number;
  /** MAC over the concatenation of `data` parts. Writes into `out` (>= outputBytes) when given. */
  compute(data: Uint8Array | readonly Uint8Array[], out?: Uint8Array): Uint8Array;
  dispose(): void;
}

export type HashAlgorithm = 'sha1' | 'sha256' | 'sha384' | 'sha512';

/** A key exchange in progress: our private value, our public value, and the shared secret once the peer's arrives. */
export interface KeyExchange {
  /** IANA IKEv2 Key Exchange Method number (RFC 7296 / IANA "Transform Type 4"). */
  readonly group: number;
  /** Our public value as carried in the KE payload (RFC 7296 3.4; RFC 5903 section 7 x|y for ECP; RFC 8031). */
  readonly publicValue: Uint8Array;
  /** Validates the peer's public value and returns g^ir; a bad value is CryptoError('INVALID_KE_VALUE'). */
  computeSharedSecret(peerPublic: Uint8Array): Uint8Array;
  dispose(): void;
}

/**
 * The FIPS 203 ML-KEM algorithms of one parameter set, as a backend provides them. The deterministic `_internal`
 * forms take their randomness as arguments (d, z for key generation; m for encapsulation), so NIST's ACVP vectors
 * run against them byte for byte; kem.ts draws that randomness from a RandomSource and builds the IKE roles.
 * Every method checks its inputs (FIPS 203 section 7: lengths, the ek modulus check, the dk hash check) and throws
 * CryptoError('INVALID_KE_VALUE') for a bad one; a well-formed but altered ciphertext is not an error: decapsulation
 * then returns the implicit-rejection key J(z || c) (FIPS 203 Algorithm 18), which matches nothing the peer has.
 */
export interface KemPrimitive {
  /** IANA IKEv2 Key Exchange Method number (35/36/37). */
  readonly method: number;
  /** ML-KEM.KeyGen_internal(d, z) -> (ek, dk) (FIPS 203 Algorithm 16); d and z are 32 bytes each. */
  keyGen(d: Uint8Array, z: Uint8Array): { ek: Uint8Array; dk: Uint8Array };
  /** ML-KEM.Encaps_internal(ek, m) -> (K, c) (Algorithm 17), after the section 7.2 check of ek; m is 32 bytes. */
  encaps(ek: Uint8Array, m: Uint8Array): { c: Uint8Array; k: Uint8Array };
  /** ML-KEM.Decaps_internal(dk, c) -> K (Algorithm 18), after the section 7.3 checks of dk and c. */
  decaps(dk: Uint8Array, c: Uint8Array): Uint8Array;
}

/**
 * One backend. `has*` answers without throwing; `create*` throws CryptoError('UNSUPPORTED_ALGORITHM') for what
 * `has*` denies, and CryptoError('INVALID_KEY_LENGTH') for a key of the wrong size.
 */
export interface CryptoBackend {
  /** A single backend's name, or 'auto' for the provider that picks a backend per algorithm. */
  readonly name: BackendName | 'auto';
  hasAead(spec: AeadSpec): boolean;
  createAead(spec: AeadSpec, key: Uint8Array): AeadContext;
  hasCipher(spec: CipherSpec): boolean;
  createCipher(spec: CipherSpec, key: Uint8Array): CipherContext;
  hasMac(alg: MacAlgorithm): boolean;
  /** AES-XCBC and AES-CMAC take a 16-byte key here; the RFC 4434 / RFC 4615 PRF key adjustment lives in prf.ts. */
  createMac(alg: MacAlgorithm, key: Uint8Array): MacContext;
  hasHash(alg: HashAlgorithm): boolean;
  hash(alg: HashAlgorithm, data: Uint8Array | readonly Uint8Array[]): Uint8Array;
  hasKeyExchange(group: number): boolean;
  /** The private value is drawn from `random`, so a seeded source gives reproducible exchanges in tests. */
  createKeyExchange(group: number, random: RandomSource): KeyExchange;
  /**
   * KEM key exchange methods (ML-KEM, 35-37). Optional: a backend without them has none. KEMs are not offered through
   * hasKeyExchange/createKeyExchange, whose symmetric Diffie-Hellman shape would hide which side sends what;
   * kem.ts builds the initiator and responder from `kem(method)`.
   */
  hasKem?(method: number): boolean;
  /** Throws CryptoError('UNSUPPORTED_ALGORITHM') for what hasKem denies. */
  kem?(method: number): KemPrimitive;
}
