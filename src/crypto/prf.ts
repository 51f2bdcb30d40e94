/**
 * IKEv2 pseudorandom functions (RFC 7296 section 3.3.2, Transform Type 2) and prf+ (RFC 7296 section 2.13).
 * A Prf is keyed per call: IKE keys the same PRF with Ni | Nr, SKEYSEED, SK_d and SK_p in turn.
 */
import { CryptoError } from './errors.js';
import type { CryptoBackend, MacAlgorithm } from './types.js';

export const PRF_HMAC_SHA1 = 2;
export const PRF_AES128_XCBC = 4;
export const PRF_HMAC_SHA2_256 = 5;
export const PRF_HMAC_SHA2_384 = 6;
export const PRF_HMAC_SHA2_512 = 7;
export const PRF_AES128_CMAC = 8;

export interface Prf {
  /** IANA IKEv2 PRF transform ID. */
  readonly id: number;
  readonly outputBytes: number;
  /** RFC 7296 section 2.13: the length of SK_d, SK_pi and SK_pr. */
  readonly preferredKeyBytes: number;
  /** prf(key, data): `data` may be given in parts, which are concatenated. */
  compute(key: Uint8Array, data: Uint8Array | readonly Uint8Array[]): Uint8Array;
  /**
   * The same function with the key fixed, for callers that apply one key many times (prf+): the key schedule is
   * done once. `dispose` wipes it.
   */
  keyed(key: Uint8Array): KeyedPrf;
}

export interface KeyedPrf {
  compute(data: Uint8Array | readonly Uint8Array[]): Uint8Array;
  dispose(): void;
}

interface PrfDef {
  name: string;
  mac: MacAlgorithm;
  outputBytes: number;
  preferredKeyBytes: number;
}

const PRFS: ReadonlyMap<number, PrfDef> = new Map<number, PrfDef>([
  // RFC 2104 HMAC takes keys of any length; RFC 7296 section 2.13: the preferred key is the hash output length.
  [PRF_HMAC_SHA1, { name: 'PRF_HMAC_SHA1', mac: 'hmac-sha1', outputBytes: 20, preferredKeyBytes: 20 }],
  [PRF_HMAC_SHA2_256, { name: 'PRF_HMAC_SHA2_256', mac: 'hmac-sha256', outputBytes: 32, preferredKeyBytes: 32 }],
  [PRF_HMAC_SHA2_384, { name: 'PRF_HMAC_SHA2_384', mac: 'hmac-sha384', outputBytes: 48, preferredKeyBytes: 48 }],
  [PRF_HMAC_SHA2_512, { name: 'PRF_HMAC_SHA2_512', mac: 'hmac-sha512', outputBytes: 64, preferredKeyBytes: 64 }],
  // RFC 4434 / RFC 4615: 128-bit output, 128-bit preferred key.
  [PRF_AES128_XCBC, { name: 'PRF_AES128_XCBC', mac: 'aes-xcbc', outputBytes: 16, preferredKeyBytes: 16 }],
  [PRF_AES128_CMAC, { name: 'PRF_AES128_CMAC', mac: 'aes-cmac', outputBytes: 16, preferredKeyBytes: 16 }],
]);

export function prfName(prfId: number): string {
  return PRFS.get(prfId)?.name ?? `PRF ${prfId}`;
}

export function isSupportedPrf(prfId: number, backend: CryptoBackend): boolean {
  const d = PRFS.get(prfId);
  return d !== undefined && backend.hasMac(d.mac);
}

/**
 * The AES PRFs take a key of any length and turn it into the 128-bit AES key:
 * - RFC 4434 section 2 (AES-XCBC-PRF-128): 16 bytes as is; shorter keys padded on the right with zero bytes;
 *   longer keys replaced by AES-XCBC-PRF-128 under the all-zero key, applied to the key.
 * - RFC 4615 section 3 (AES-CMAC-PRF-128): 16 bytes as is; any other length (shorter too) replaced by
 *   AES-CMAC under the all-zero key, applied to the key.
 */
function aesPrfKey(def: PrfDef, backend: CryptoBackend, key: Uint8Array): Uint8Array {
  if (key.length === 16) return key;
  if (def.mac === 'aes-xcbc' && key.length < 16) {
    const k = new Uint8Array(16);
    k.set(key);
    return k;
  }
  const zero = backend.createMac(def.mac, new Uint8Array(16));
  try {
    return zero.compute(key);
  } finally {
    zero.dispose();
  }
}

/**
 * One Prf per (backend, transform): a Prf holds no key (it is keyed per call), so every IKE SA negotiating the same
 * PRF shares one object instead of carrying its own closures (issue 17: 100k SAs in one process).
 */
const shared = new WeakMap<CryptoBackend, Map<number, Prf>>();

export function createPrf(prfId: number, backend: CryptoBackend): Prf {
  let byId = shared.get(backend);
  const known = byId?.get(prfId);
  if (known !== undefined) return known;
  const prf = buildPrf(prfId, backend);
  if (byId === undefined) {
    byId = new Map();
    shared.set(backend, byId);
  }
  byId.set(prfId, prf);
  return prf;
}

function buildPrf(prfId: number, backend: CryptoBackend): Prf {
  const def = PRFS.get(prfId);
  if (def === undefined) {
    throw new CryptoError('UNSUPPORTED_ALGORITHM', `PRF transform ${prfId} is not supported (known: 2, 4, 5, 6, 7, 8)`);
  }
  if (!backend.hasMac(def.mac)) {
    throw new CryptoError('UNSUPPORTED_ALGORITHM', `${def.name}: backend ${backend.name} has no ${def.mac}`);
  }
  const aes = def.mac === 'aes-xcbc' || def.mac === 'aes-cmac';
  const keyed = (key: Uint8Array): KeyedPrf => {
    if (!(key instanceof Uint8Array)) throw new CryptoError('INVALID_KEY_LENGTH', `${def.name}: key must be a Uint8Array`);
    const k = aes ? aesPrfKey(def, backend, key) : key;
    const mac = backend.createMac(def.mac, k);
    if (k !== key) k.fill(0);
    return {
      // RFC 4434 / RFC 4615 PRFs are the untruncated 128-bit MAC; HMAC PRFs are the full HMAC output.
      compute: (data) => mac.compute(data),
      dispose: () => mac.dispose(),
    };
  };
  return {
    id: prfId,
    outputBytes: def.outputBytes,
    preferredKeyBytes: def.preferredKeyBytes,
    keyed,
    compute(key, data) {
      const kp = keyed(key);
      try {
        return kp.compute(data);
      } finally {
        kp.dispose();
      }
    },
  };
}

/**
 * RFC 7296 section 2.13:
 *   prf+ (K,S) = T1 | T2 | T3 | T4 | ...
 *   T1 = prf (K, S | 0x01), T2 = prf (K, T1 | S | 0x02), ... Tn = prf (K, Tn-1 | S | n)
 * The counter is one octet, so prf+ yields at most 255 * outputBytes bytes; asking for more is an error.
 */
export function prfPlus(prf: Prf, key: Uint8Array, seed: Uint8Array, length: number): Uint8Array {
  if (!Number.isInteger(length) || length < 0) {
    throw new CryptoError('INVALID_OUTPUT_LENGTH', `prf+ (${prfName(prf.id)}): length ${length} is not a non-negative integer`);
  }
  const rounds = Math.ceil(length / prf.outputBytes);
  if (rounds > 255) {
    throw new CryptoError(
      'INVALID_OUTPUT_LENGTH',
      `prf+ (${prfName(prf.id)}): ${length} bytes need ${rounds} iterations, RFC 7296 section 2.13 allows 255 ` +
        `(at most ${255 * prf.outputBytes} bytes)`,
    );
  }
  const out = new Uint8Array(rounds * prf.outputBytes);
  const kp = prf.keyed(key);
  try {
    let prev: Uint8Array = new Uint8Array(0);
    const counter = new Uint8Array(1);
    for (let n = 1; n <= rounds; n++) {
      counter[0] = n;
      const t = kp.compute([prev, seed, counter]);
      out.set(t, (n - 1) * prf.outputBytes);
      prev = t;
    }
  } finally {
    kp.dispose();
  }
  if (out.length === length) return out;
  const r = out.slice(0, length);
  out.fill(0);
  return r;
}
