/**
 * Boundary checks shared by the backends. Every size is validated before any primitive runs, so a bad call is a
 * CryptoError naming the algorithm, the argument and the sizes involved, never a crash deep inside a library.
 */
import { concatBytes } from '../bytes.js';
import { CryptoError } from '../errors.js';
import type { AeadSpec, CipherSpec } from '../types.js';

export function aeadName(spec: AeadSpec): string {
  return spec.alg === 'chacha20-poly1305'
    ? `chacha20-poly1305/icv${spec.tagBytes}`
    : `${spec.alg}-${spec.keyBytes * 8}/icv${spec.tagBytes}`;
}

export function cipherName(spec: CipherSpec): string {
  return spec.alg === '3des-cbc' ? '3des-cbc' : `${spec.alg}-${spec.keyBytes * 8}`;
}

/**
 * The AEAD shapes IKEv2/ESP negotiate: AES-GCM (RFC 4106 section 8.1, ICV 8/12/16) and AES-CCM (RFC 4309
 * section 7.1, ICV 8/12/16) with 128/192/256-bit keys, ChaCha20-Poly1305 (RFC 7634: 256-bit key, 16-byte ICV).
 */
export function isValidAeadSpec(spec: AeadSpec): boolean {
  if (spec.alg === 'chacha20-poly1305') return spec.keyBytes === 32 && spec.tagBytes === 16;
  if (spec.alg !== 'aes-gcm' && spec.alg !== 'aes-ccm') return false;
  return (spec.keyBytes === 16 || spec.keyBytes === 24 || spec.keyBytes === 32) &&
    (spec.tagBytes === 8 || spec.tagBytes === 12 || spec.tagBytes === 16);
}

/** AES-CBC (RFC 3602) and AES-CTR (RFC 3686) with 128/192/256-bit keys; 3DES-CBC (RFC 2451) with 192-bit keys. */
export function isValidCipherSpec(spec: CipherSpec): boolean {
  if (spec.alg === '3des-cbc') return spec.keyBytes === 24;
  if (spec.alg !== 'aes-cbc' && spec.alg !== 'aes-ctr') return false;
  return spec.keyBytes === 16 || spec.keyBytes === 24 || spec.keyBytes === 32;
}

export function checkKey(what: string, key: Uint8Array, expected: number): void {
  if (!(key instanceof Uint8Array)) throw new CryptoError('INVALID_KEY_LENGTH', `${what}: key must be a Uint8Array`);
  if (key.length !== expected) {
    throw new CryptoError('INVALID_KEY_LENGTH', `${what}: key is ${key.length} bytes, expected ${expected}`);
  }
}

export function checkNonce(what: string, nonce: Uint8Array, expected: number): void {
  if (!(nonce instanceof Uint8Array) || nonce.length !== expected) {
    const got = nonce instanceof Uint8Array ? `${nonce.length} bytes` : 'not a Uint8Array';
    throw new CryptoError('INVALID_NONCE_LENGTH', `${what}: nonce is ${got}, expected ${expected}`);
  }
}

export function checkIv(what: string, iv: Uint8Array, expected: number): void {
  if (!(iv instanceof Uint8Array) || iv.length !== expected) {
    const got = iv instanceof Uint8Array ? `${iv.length} bytes` : 'not a Uint8Array';
    throw new CryptoError('INVALID_IV_LENGTH', `${what}: iv is ${got}, expected ${expected}`);
  }
}

export function checkBytes(what: string, arg: string, data: unknown): asserts data is Uint8Array {
  if (!(data instanceof Uint8Array)) {
    throw new CryptoError('INVALID_DATA_LENGTH', `${what}: ${arg} must be a Uint8Array`);
  }
}

/** CBC has no padding of its own (IKE and ESP pad), so the input must be whole blocks (RFC 3602 section 2.4). */
export function checkBlocks(what: string, data: Uint8Array, block: number): void {
  if (data.length % block !== 0) {
    throw new CryptoError(
      'INVALID_DATA_LENGTH',
      `${what}: data is ${data.length} bytes, not a multiple of the ${block}-byte block`,
    );
  }
}

/** Returns the view of `out` to write `n` bytes into, or a fresh buffer when no `out` was given. */
export function outputView(what: string, out: Uint8Array | undefined, n: number): Uint8Array {
  if (out === undefined) return new Uint8Array(n);
  if (!(out instanceof Uint8Array)) throw new CryptoError('INVALID_OUTPUT_LENGTH', `${what}: out must be a Uint8Array`);
  if (out.length < n) {
    throw new CryptoError('INVALID_OUTPUT_LENGTH', `${what}: out is ${out.length} bytes, need at least ${n}`);
  }
  return out.length === n ? out : out.subarray(0, n);
}

export function checkNotDisposed(what: string, disposed: boolean): void {
  if (disposed) throw new CryptoError('DISPOSED', `${what}: context used after dispose()`);
}

export function unsupported(backend: string, what: string): CryptoError {
  return new CryptoError('UNSUPPORTED_ALGORITHM', `${backend} backend: ${what} is not supported`);
}

export function concatParts(data: Uint8Array | readonly Uint8Array[]): Uint8Array {
  return data instanceof Uint8Array ? data : concatBytes(data);
}

export function partsOf(data: Uint8Array | readonly Uint8Array[]): readonly Uint8Array[] {
  return data instanceof Uint8Array ? [data] : data;
}
