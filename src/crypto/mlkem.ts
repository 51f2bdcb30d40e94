/**
 * ML-KEM (FIPS 203) as IKEv2 key exchange methods 35/36/37 (draft-ietf-ipsecme-ikev2-mlkem): the parameter sets,
 * and the input checks of FIPS 203 section 7, written here from the standard (not taken from a backend) so every
 * backend refuses exactly the same inputs with the same typed error, and so the checks themselves are tested against
 * NIST's ACVP key-check vectors independently of the library that does the arithmetic.
 *
 * ML-KEM is a KEM, not a Diffie-Hellman group: the two sides send different things (RFC 9370 section 2.2,
 * draft-ietf-ipsecme-ikev2-mlkem section 2): the initiator sends the encapsulation key ek in its KE payload, the
 * responder checks ek (FIPS 203 7.2), encapsulates, and answers with the ciphertext c; both end with the same 32-byte
 * shared secret K. kem.ts builds those two roles.
 */
import { sha3_256 } from '@noble/hashes/sha3.js';
import { CryptoError } from './errors.js';

/** FIPS 203 section 8, Table 2 and Table 3. */
export interface MlKemParams {
  /** IANA IKEv2 Transform Type 4 id (Key Exchange Method). */
  readonly method: number;
  /** FIPS 203 name. */
  readonly name: 'ML-KEM-512' | 'ML-KEM-768' | 'ML-KEM-1024';
  /** Module rank k. */
  readonly k: number;
  readonly du: number;
  readonly dv: number;
  /** Encapsulation key: 384k + 32 bytes. */
  readonly ekBytes: number;
  /** Decapsulation key: 768k + 96 bytes. */
  readonly dkBytes: number;
  /** Ciphertext: 32(du*k + dv) bytes. */
  readonly ctBytes: number;
  /** Shared secret: 32 bytes for every parameter set. */
  readonly ssBytes: 32;
}

function params(method: number, name: MlKemParams['name'], k: number, du: number, dv: number): MlKemParams {
  return Object.freeze({
    method, name, k, du, dv, ekBytes: 384 * k + 32, dkBytes: 768 * k + 96, ctBytes: 32 * (du * k + dv), ssBytes: 32,
  });
}

export const ML_KEM_PARAMS: ReadonlyMap<number, MlKemParams> = new Map([
  [35, params(35, 'ML-KEM-512', 2, 10, 4)],
  [36, params(36, 'ML-KEM-768', 3, 10, 4)],
  [37, params(37, 'ML-KEM-1024', 4, 11, 5)],
]);

/** The ML-KEM parameter set of an IKEv2 key exchange method, or undefined when `method` is not ML-KEM. */
export function mlKemParams(method: number): MlKemParams | undefined {
  return ML_KEM_PARAMS.get(method);
}

export function isMlKemMethod(method: number): boolean {
  return ML_KEM_PARAMS.has(method);
}

/** Seed bytes the initiator draws for ML-KEM.KeyGen: d | z, 32 bytes each (FIPS 203 Algorithm 19). */
export const ML_KEM_KEYGEN_SEED_BYTES = 64;
/** Randomness the responder draws for ML-KEM.Encaps: m, 32 bytes (FIPS 203 Algorithm 20). */
export const ML_KEM_ENCAPS_SEED_BYTES = 32;

/** FIPS 203 section 2.4: q = 3329; ByteDecode_12 of a checked key gives coefficients in [0, q). */
const Q = 3329;

export function mlKemLabel(p: MlKemParams): string {
  return `${p.name} (method ${p.method})`;
}

/** CryptoError('INVALID_KE_VALUE') naming the parameter set, the value and what is wrong with it. */
export function invalidMlKem(p: MlKemParams, what: string, why: string): CryptoError {
  return new CryptoError('INVALID_KE_VALUE', `${mlKemLabel(p)}: ${what} ${why}`);
}

/**
 * Why `ek` fails the FIPS 203 section 7.2 encapsulation key check, or null when it passes:
 *  1. (type check) ek is 384k + 32 bytes;
 *  2. (modulus check) ByteEncode_12(ByteDecode_12(ek[0 : 384k])) = ek[0 : 384k], i.e. every 12-bit coefficient of
 *     t-hat is already reduced mod q. ByteDecode_12 reduces mod q, so the round trip changes exactly the
 *     coefficients >= q; checking each coefficient < q is the same test without the re-encoding.
 * The last 32 bytes (the seed rho) are not constrained.
 */
export function encapsulationKeyProblem(p: MlKemParams, ek: Uint8Array): string | null {
  if (!(ek instanceof Uint8Array)) return 'is not a Uint8Array';
  if (ek.length !== p.ekBytes) return `is ${ek.length} bytes, must be ${p.ekBytes} (FIPS 203 section 7.2 type check)`;
  const polyBytes = 384 * p.k;
  // ByteDecode_12 (FIPS 203 Algorithm 6): 3 bytes hold two little-endian 12-bit coefficients.
  for (let i = 0; i < polyBytes; i += 3) {
    const b0 = ek[i]!, b1 = ek[i + 1]!, b2 = ek[i + 2]!;
    const c0 = b0 | ((b1 & 0x0f) << 8);
    const c1 = (b1 >> 4) | (b2 << 4);
    if (c0 >= Q || c1 >= Q) {
      const index = (i / 3) * 2 + (c0 >= Q ? 0 : 1);
      const value = c0 >= Q ? c0 : c1;
      return `has coefficient ${index} of t-hat = ${value}, not below q = ${Q} (FIPS 203 section 7.2 modulus check)`;
    }
  }
  return null;
}

/**
 * Why `dk` fails the FIPS 203 section 7.3 decapsulation key check, or null when it passes: dk is 768k + 96 bytes,
 * and the hash check H(dk[384k : 768k + 32]) = dk[768k + 32 : 768k + 64] (the embedded ek hashes to the stored H(ek)).
 */
export function decapsulationKeyProblem(p: MlKemParams, dk: Uint8Array): string | null {
  if (!(dk instanceof Uint8Array)) return 'is not a Uint8Array';
  if (dk.length !== p.dkBytes) return `is ${dk.length} bytes, must be ${p.dkBytes} (FIPS 203 section 7.3 type check)`;
  const ek = dk.subarray(384 * p.k, 768 * p.k + 32);
  const h = dk.subarray(768 * p.k + 32, 768 * p.k + 64);
  const hashed = sha3_256(ek);
  let diff = 0;
  for (let i = 0; i < 32; i++) diff |= hashed[i]! ^ h[i]!;
  return diff === 0 ? null : 'does not hold H(ek) of its own ek (FIPS 203 section 7.3 hash check)';
}

/** FIPS 203 section 7.3 ciphertext type check: c is 32(du*k + dv) bytes. */
export function ciphertextProblem(p: MlKemParams, c: Uint8Array): string | null {
  if (!(c instanceof Uint8Array)) return 'is not a Uint8Array';
  if (c.length !== p.ctBytes) return `is ${c.length} bytes, must be ${p.ctBytes} (FIPS 203 section 7.3 type check)`;
  return null;
}

export function checkEncapsulationKey(p: MlKemParams, ek: Uint8Array, what = 'encapsulation key'): void {
  const problem = encapsulationKeyProblem(p, ek);
  if (problem !== null) throw invalidMlKem(p, what, problem);
}

export function checkDecapsulationKey(p: MlKemParams, dk: Uint8Array, what = 'decapsulation key'): void {
  const problem = decapsulationKeyProblem(p, dk);
  if (problem !== null) throw invalidMlKem(p, what, problem);
}

export function checkCiphertext(p: MlKemParams, c: Uint8Array, what = 'ciphertext'): void {
  const problem = ciphertextProblem(p, c);
  if (problem !== null) throw invalidMlKem(p, what, problem);
}
