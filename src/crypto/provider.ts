/**
 * The 'auto' provider: one CryptoBackend that sends each algorithm to the first backend that has it.
 * Default order (../shared/DESIGN.md section 3, measured): openssl > node > noble for AEAD, ciphers and MACs (the
 * per-packet path), node > noble > openssl for hashes and key exchange (node's OpenSSL is the fast bignum/EC path,
 * and the openssl backend adds nothing there).
 */
import { availableBackends } from './backends/index.js';
import { CryptoError } from './errors.js';
import type { RandomSource } from './random.js';
import type {
  AeadContext,
  AeadSpec,
  BackendName,
  CipherSpec,
  CryptoBackend,
  HashAlgorithm,
  MacAlgorithm,
} from './types.js';

export interface ProviderOptions {
  /** Order to try backends in, for every algorithm; backends not named are not used. */
  prefer?: readonly BackendName[];
  /** Backends to choose from (default: availableBackends()). */
  backends?: readonly CryptoBackend[];
}

const SYMMETRIC_ORDER: readonly BackendName[] = ['openssl', 'node', 'noble'];
const ASYMMETRIC_ORDER: readonly BackendName[] = ['node', 'noble', 'openssl'];

function ordered(backends: readonly CryptoBackend[], order: readonly BackendName[]): CryptoBackend[] {
  const r: CryptoBackend[] = [];
  for (const n of order) {
    const b = backends.find((x) => x.name === n);
    if (b) r.push(b);
  }
  return r;
}

export function createProvider(opts: ProviderOptions = {}): CryptoBackend {
  const all = opts.backends ?? availableBackends();
  const sym = ordered(all, opts.prefer ?? SYMMETRIC_ORDER);
  const asym = ordered(all, opts.prefer ?? ASYMMETRIC_ORDER);
  // Per-instance memo of the choice; the answer of has*() does not change while the process runs.
  const chosen = new Map<string, CryptoBackend | null>();
  const pick = (key: string, list: CryptoBackend[], has: (b: CryptoBackend) => boolean): CryptoBackend | null => {
    let b = chosen.get(key);
    if (b === undefined) {
      b = list.find(has) ?? null;
      chosen.set(key, b);
    }
    return b;
  };
  const none = (what: string): CryptoError =>
    new CryptoError('UNSUPPORTED_ALGORITHM', `no backend (of ${all.map((b) => b.name).join(', ') || 'none'}) has ${what}`);

  const aead = (s: AeadSpec) => pick(`aead:${s.alg}:${s.keyBytes}:${s.tagBytes}`, sym, (b) => b.hasAead(s));
  const cipher = (s: CipherSpec) => pick(`cipher:${s.alg}:${s.keyBytes}`, sym, (b) => b.hasCipher(s));
  const mac = (a: MacAlgorithm) => pick(`mac:${a}`, sym, (b) => b.hasMac(a));
  const hash = (a: HashAlgorithm) => pick(`hash:${a}`, asym, (b) => b.hasHash(a));
  const ke = (g: number) => pick(`ke:${g}`, asym, (b) => b.hasKeyExchange(g));
  const kem = (m: number) => pick(`kem:${m}`, asym, (b) => b.hasKem?.(m) === true && b.kem !== undefined);

  return {
    name: 'auto',
    hasAead: (s) => aead(s) !== null,
    createAead(s, key) {
      const b = aead(s);
      if (!b) throw none(`AEAD ${s.alg} key ${s.keyBytes} icv ${s.tagBytes}`);
      return b.createAead(s, key);
    },
    hasCipher: (s) => cipher(s) !== null,
    createCipher(s, key) {
      const b = cipher(s);
      if (!b) throw none(`cipher ${s.alg} key ${s.keyBytes}`);
      return b.createCipher(s, key);
    },
    hasMac: (a) => mac(a) !== null,
    createMac(a, key) {
      const b = mac(a);
      if (!b) throw none(`MAC ${a}`);
      return b.createMac(a, key);
    },
    hasHash: (a) => hash(a) !== null,
    hash(a, data) {
      const b = hash(a);
      if (!b) throw none(`hash ${a}`);
      return b.hash(a, data);
    },
    hasKeyExchange: (g) => ke(g) !== null,
    createKeyExchange(g: number, random: RandomSource) {
      const b = ke(g);
      if (!b) throw none(`key exchange group ${g}`);
      return b.createKeyExchange(g, random);
    },
    hasKem: (m) => kem(m) !== null,
    kem(m: number) {
      const b = kem(m);
      if (!b) throw none(`KEM key exchange method ${m}`);
      return b.kem!(m);
    },
  };
}

/** Which backend the provider would use, by algorithm kind: for logs, benchmarks and tests. */
export function backendFor(
  backends: readonly CryptoBackend[],
  kind: 'aead' | 'cipher' | 'mac' | 'hash' | 'ke' | 'kem',
  has: (b: CryptoBackend) => boolean,
  prefer?: readonly BackendName[],
): BackendName | undefined {
  const order = prefer ?? (kind === 'hash' || kind === 'ke' || kind === 'kem' ? ASYMMETRIC_ORDER : SYMMETRIC_ORDER);
  const b = ordered(backends, order).find(has);
  return b?.name === 'auto' ? undefined : b?.name;
}

let cached: CryptoBackend | undefined;

/** The provider over availableBackends(), built once per process. */
export function defaultProvider(): CryptoBackend {
  cached ??= createProvider();
  return cached;
}

/** open() that throws CryptoError('TAG_MISMATCH') instead of returning null, for IKE where a bad ICV ends the job. */
export function openOrThrow(
  ctx: AeadContext,
  nonce: Uint8Array,
  aad: Uint8Array,
  sealed: Uint8Array,
  out?: Uint8Array,
): Uint8Array {
  const r = ctx.open(nonce, aad, sealed, out);
  if (r === null) {
    throw new CryptoError('TAG_MISMATCH', `${ctx.spec.alg}: the ICV of a ${sealed.length}-byte sealed input does not verify`);
  }
  return r;
}
