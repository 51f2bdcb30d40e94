/**
 * A KEM as an IKEv2 key exchange (RFC 9370 section 2.2; draft-ietf-ipsecme-ikev2-mlkem section 2), with the
 * asymmetry explicit in the type: the two sides are created differently and send different values.
 *
 *  - The initiator (of IKE_SA_INIT, IKE_INTERMEDIATE, IKE_FOLLOWUP_KE or CREATE_CHILD_SA) calls
 *    createKemInitiator: it draws d | z, runs ML-KEM.KeyGen and sends `publicValue` = ek in its KE payload. When the
 *    responder's KE payload arrives, `computeSharedSecret(c)` decapsulates it.
 *  - The responder calls kemRespond with the initiator's ek: ek is checked (FIPS 203 section 7.2), m is drawn,
 *    ML-KEM.Encaps runs, and `publicValue` = c goes into the responder's KE payload. Its shared secret is known at
 *    once; `computeSharedSecret(ek)` returns it (the same call shape as Diffie-Hellman, so IKE code that keeps "our
 *    exchange" and "the peer's KE data" needs no special case) after checking that ek is the key it answered.
 *
 * Both objects also satisfy the KeyExchange contract of types.ts, with `group` the IANA method number.
 * A malformed ek or c is CryptoError('INVALID_KE_VALUE') (RFC 9370 2.2: the exchange then fails with
 * INVALID_SYNTAX / NO_PROPOSAL_CHOSEN, the IKE layer's choice); a well-formed but altered c is not detected here:
 * decapsulation returns FIPS 203's implicit-rejection key, and the AUTH exchange that follows fails.
 */
import { CryptoError } from './errors.js';
import {
  checkCiphertext,
  checkEncapsulationKey,
  invalidMlKem,
  ML_KEM_ENCAPS_SEED_BYTES,
  ML_KEM_KEYGEN_SEED_BYTES,
  mlKemLabel,
  mlKemParams,
  type MlKemParams,
} from './mlkem.js';
import type { RandomSource } from './random.js';
import type { CryptoBackend, KemPrimitive, KeyExchange } from './types.js';

export type KemRole = 'initiator' | 'responder';

export interface KemExchange extends KeyExchange {
  readonly kind: 'kem';
  readonly role: KemRole;
  /** Initiator: the encapsulation key ek. Responder: the ciphertext c. What goes into our KE payload. */
  readonly publicValue: Uint8Array;
  /** Length of the KE data expected from the peer: c for the initiator, ek for the responder. */
  readonly peerValueBytes: number;
  /**
   * Initiator: decapsulates the responder's ciphertext c. Responder: `peerPublic` must be the ek it was created
   * with; returns the encapsulated key. 32 bytes either way. Bad input is CryptoError('INVALID_KE_VALUE').
   */
  computeSharedSecret(peerPublic: Uint8Array): Uint8Array;
}

function paramsOf(method: number): MlKemParams {
  const p = mlKemParams(method);
  if (p === undefined) {
    throw new CryptoError('UNSUPPORTED_ALGORITHM', `key exchange method ${method} is not a KEM cygnet knows`);
  }
  return p;
}

function primitive(backend: CryptoBackend, p: MlKemParams): KemPrimitive {
  if (backend.hasKem?.(p.method) !== true || backend.kem === undefined) {
    throw new CryptoError('UNSUPPORTED_ALGORITHM', `${backend.name} backend has no ${mlKemLabel(p)}`);
  }
  return backend.kem(p.method);
}

function checkNotDisposed(p: MlKemParams, role: KemRole, disposed: boolean): void {
  if (disposed) throw new CryptoError('DISPOSED', `${mlKemLabel(p)} ${role}: the exchange was disposed`);
}

/** The initiator's side: generates (ek, dk) from 64 bytes of `random` (d | z, FIPS 203 Algorithm 19). */
export function createKemInitiator(backend: CryptoBackend, method: number, random: RandomSource): KemExchange {
  const p = paramsOf(method);
  const kem = primitive(backend, p);
  const seed = random.fill(new Uint8Array(ML_KEM_KEYGEN_SEED_BYTES));
  let ek: Uint8Array;
  let dk: Uint8Array;
  try {
    ({ ek, dk } = kem.keyGen(seed.subarray(0, 32), seed.subarray(32, 64)));
  } finally {
    seed.fill(0);
  }
  let disposed = false;
  return {
    kind: 'kem',
    role: 'initiator',
    group: method,
    publicValue: ek,
    peerValueBytes: p.ctBytes,
    computeSharedSecret(c: Uint8Array): Uint8Array {
      checkNotDisposed(p, 'initiator', disposed);
      checkCiphertext(p, c, "responder's ciphertext");
      return kem.decaps(dk, c);
    },
    dispose() {
      disposed = true;
      dk.fill(0);
    },
  };
}

/**
 * The responder's side: checks the initiator's encapsulation key (FIPS 203 section 7.2) and encapsulates to it
 * with 32 bytes of `random` (m, FIPS 203 Algorithm 20). `publicValue` is the ciphertext to send back.
 */
export function kemRespond(
  backend: CryptoBackend,
  method: number,
  peerEk: Uint8Array,
  random: RandomSource,
): KemExchange {
  const p = paramsOf(method);
  const kem = primitive(backend, p);
  checkEncapsulationKey(p, peerEk, "initiator's encapsulation key");
  const ek = peerEk.slice();
  const m = random.fill(new Uint8Array(ML_KEM_ENCAPS_SEED_BYTES));
  let c: Uint8Array;
  let k: Uint8Array;
  try {
    ({ c, k } = kem.encaps(ek, m));
  } finally {
    m.fill(0);
  }
  let disposed = false;
  return {
    kind: 'kem',
    role: 'responder',
    group: method,
    publicValue: c,
    peerValueBytes: p.ekBytes,
    computeSharedSecret(peerPublic: Uint8Array): Uint8Array {
      checkNotDisposed(p, 'responder', disposed);
      const same = peerPublic instanceof Uint8Array && peerPublic.length === ek.length &&
        peerPublic.every((b, i) => b === ek[i]);
      if (!same) {
        throw invalidMlKem(p, "initiator's encapsulation key", 'is not the one this responder encapsulated to');
      }
      return k.slice();
    },
    dispose() {
      disposed = true;
      k.fill(0);
    },
  };
}

/** Whether `x` is a KEM exchange (as opposed to a Diffie-Hellman KeyExchange). */
export function isKemExchange(x: KeyExchange): x is KemExchange {
  return (x as Partial<KemExchange>).kind === 'kem';
}
