/**
 * ML-KEM-512/768/1024 (FIPS 203) from @noble/post-quantum, for the noble backend. node:crypto has no ML-KEM on Node
 * 20 (its OpenSSL 3.0 predates ML-KEM, added in OpenSSL 3.5), so this is the only implementation cygnet has.
 *
 * The inputs are checked here first with mlkem.ts (lengths, the FIPS 203 7.2 modulus check, the 7.3 hash check), so
 * a bad value is a CryptoError naming what is wrong, whatever noble's own messages say; anything noble still throws
 * on is turned into the same typed error, never passed through as a bare Error.
 */
import { ml_kem1024, ml_kem512, ml_kem768 } from '@noble/post-quantum/ml-kem.js';
import { CryptoError } from '../errors.js';
import {
  checkCiphertext,
  checkDecapsulationKey,
  checkEncapsulationKey,
  invalidMlKem,
  mlKemParams,
  type MlKemParams,
} from '../mlkem.js';
import type { KemPrimitive } from '../types.js';

type NobleMlKem = typeof ml_kem768;

const NOBLE: ReadonlyMap<number, NobleMlKem> = new Map<number, NobleMlKem>([
  [35, ml_kem512],
  [36, ml_kem768],
  [37, ml_kem1024],
]);

function checkSeed(p: MlKemParams, name: string, v: Uint8Array): void {
  if (!(v instanceof Uint8Array) || v.length !== 32) {
    const len = v instanceof Uint8Array ? `${v.length} bytes` : 'not a Uint8Array';
    throw invalidMlKem(p, name, `is ${len}, must be 32 bytes (FIPS 203 section 7)`);
  }
}

function wrap<T>(p: MlKemParams, what: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof CryptoError) throw e;
    throw invalidMlKem(p, what, `was refused by @noble/post-quantum: ${e instanceof Error ? e.message : String(e)}`);
  }
}

export function nobleHasKem(method: number): boolean {
  return NOBLE.has(method);
}

export function nobleKem(method: number): KemPrimitive {
  const p = mlKemParams(method);
  const impl = NOBLE.get(method);
  if (p === undefined || impl === undefined) {
    throw new CryptoError('UNSUPPORTED_ALGORITHM', `noble: no KEM for key exchange method ${method}`);
  }
  return {
    method,
    keyGen(d, z) {
      checkSeed(p, 'd', d);
      checkSeed(p, 'z', z);
      const seed = new Uint8Array(64);
      seed.set(d, 0);
      seed.set(z, 32);
      try {
        const { publicKey, secretKey } = wrap(p, 'key generation seed', () => impl.keygen(seed));
        return { ek: publicKey, dk: secretKey };
      } finally {
        seed.fill(0);
      }
    },
    encaps(ek, m) {
      checkEncapsulationKey(p, ek);
      checkSeed(p, 'm', m);
      const { cipherText, sharedSecret } = wrap(p, 'encapsulation key', () => impl.encapsulate(ek, m));
      return { c: cipherText, k: sharedSecret };
    },
    decaps(dk, c) {
      checkDecapsulationKey(p, dk);
      checkCiphertext(p, c);
      return wrap(p, 'decapsulation input', () => impl.decapsulate(c, dk));
    },
  };
}
