/**
 * The `openssl` backend: OpenSSL 3 EVP contexts inside the node binary, called through koffi FFI. Contexts are
 * keyed once per SA and reused per packet, which is what makes it the ESP hot path (../shared/DESIGN.md
 * section 3: several times the packet rate of a createCipheriv per packet).
 *
 * It loads only where it can: koffi must load, the node executable must export OpenSSL >= 3.0 symbols, and a
 * one-shot AES-GCM known-answer self-test must pass. Anything else is a `reason`, never an exception, and the
 * other backends take over. Set CYGNET_CRYPTO_BACKEND_OPENSSL=0 to turn it off.
 *
 * Key exchange is not provided here (hasKeyExchange is false): IKE runs it a few times per SA, so node:crypto's
 * speed is plenty.
 */
import { CryptoError } from '../errors.js';
import type { RandomSource } from '../random.js';
import type {
  AeadContext,
  AeadSpec,
  CipherContext,
  CipherSpec,
  CryptoBackend,
  HashAlgorithm,
  KeyExchange,
  MacAlgorithm,
  MacContext,
} from '../types.js';
import { isValidAeadSpec, isValidCipherSpec, unsupported } from './checks.js';
import { OpensslAead, opensslAeadName } from './openssl-aead.js';
import { OpensslCipher, opensslCipherName } from './openssl-cipher.js';
import { loadLibCrypto, type LoadLibCryptoResult } from './openssl-ffi.js';
import { OpensslDigests, OpensslMac, OpensslXcbc, opensslDigestName, opensslMacParams } from './openssl-mac.js';
import { OpensslRuntime } from './openssl-runtime.js';

export interface OpensslLoadResult {
  backend?: CryptoBackend;
  /** Why the backend is unavailable, when it is. */
  reason?: string;
}

/** The environment variable that disables this backend when set to 0 (or "false"/"off"/"no"). */
export const OPENSSL_BACKEND_ENV = 'CYGNET_CRYPTO_BACKEND_OPENSSL';

const NAME = 'openssl';

/** The backend plus its runtime, for tests that need to look at the finalizer backstop. */
export interface OpensslBackend extends CryptoBackend {
  readonly name: 'openssl';
  /** e.g. "OpenSSL 3.0.13+quic 30 Jan 2024". */
  readonly opensslVersion: string;
  readonly runtime: OpensslRuntime;
}

function createOpensslBackend(rt: OpensslRuntime): OpensslBackend {
  const digests = new OpensslDigests(rt);

  const hasAead = (spec: AeadSpec): boolean => isValidAeadSpec(spec) && rt.cipher(opensslAeadName(spec)) !== null;
  const hasCipher = (spec: CipherSpec): boolean => isValidCipherSpec(spec) && rt.cipher(opensslCipherName(spec)) !== null;
  const hasMac = (alg: MacAlgorithm): boolean => {
    if (alg === 'aes-xcbc') return rt.cipher('AES-128-CBC') !== null;
    const p = opensslMacParams(alg);
    if (p === undefined || rt.mac(p.mac) === null) return false;
    return p.param === 'digest' ? rt.md(p.value) !== null : rt.cipher(p.value) !== null;
  };
  const hasHash = (alg: HashAlgorithm): boolean => {
    const n = opensslDigestName(alg);
    return n !== undefined && rt.md(n) !== null;
  };

  return {
    name: NAME,
    opensslVersion: rt.lib.versionText,
    runtime: rt,
    hasAead,
    createAead(spec: AeadSpec, key: Uint8Array): AeadContext {
      if (!hasAead(spec)) throw unsupported(NAME, `AEAD ${spec.alg} key ${spec.keyBytes} icv ${spec.tagBytes}`);
      return new OpensslAead(rt, spec, rt.cipher(opensslAeadName(spec)), key);
    },
    hasCipher,
    createCipher(spec: CipherSpec, key: Uint8Array): CipherContext {
      if (!hasCipher(spec)) throw unsupported(NAME, `cipher ${spec.alg} key ${spec.keyBytes}`);
      return new OpensslCipher(rt, spec, rt.cipher(opensslCipherName(spec)), key);
    },
    hasMac,
    createMac(alg: MacAlgorithm, key: Uint8Array): MacContext {
      if (!hasMac(alg)) throw unsupported(NAME, `MAC ${String(alg)}`);
      if (alg === 'aes-xcbc') return new OpensslXcbc(rt, rt.cipher('AES-128-CBC'), key);
      const p = opensslMacParams(alg)!;
      return new OpensslMac(rt, alg, rt.mac(p.mac), p, key);
    },
    hasHash,
    hash(alg: HashAlgorithm, data: Uint8Array | readonly Uint8Array[]): Uint8Array {
      if (!hasHash(alg)) throw unsupported(NAME, `hash ${String(alg)}`);
      return digests.hash(alg, rt.md(opensslDigestName(alg)!), data);
    },
    hasKeyExchange: (_group: number): boolean => false,
    createKeyExchange(group: number, _random: RandomSource): KeyExchange {
      throw unsupported(NAME, `key exchange group ${group}`);
    },
  };
}

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'));

/**
 * One-shot known answer before the backend is trusted: McGrew-Viega GCM test case 2 (zero 128-bit key, zero
 * 96-bit IV, one zero block), sealed in place through a reused context, opened, and a forged tag rejected. It
 * proves the symbols bind, buffers are passed without copies, and the nonce reset reuses the key.
 */
function selfTest(b: CryptoBackend): string | undefined {
  const spec: AeadSpec = { alg: 'aes-gcm', keyBytes: 16, tagBytes: 16 };
  if (!b.hasAead(spec)) return 'AES-128-GCM is not available from the default provider';
  const ctx = b.createAead(spec, new Uint8Array(16));
  try {
    const expect = '0388dace60b6a392f328c2b971b2fe78ab6e47d42cec13bdf53a67b21257bddf';
    const nonce = new Uint8Array(12);
    for (let round = 0; round < 2; round++) {
      const buf = new Uint8Array(32);
      const sealed = ctx.seal(nonce, new Uint8Array(0), buf.subarray(0, 16), buf);
      const got = Buffer.from(sealed).toString('hex');
      if (got !== expect) return `AES-128-GCM self-test gave ${got}, expected ${expect}`;
      const opened = ctx.open(nonce, new Uint8Array(0), sealed, sealed.subarray(0, 16));
      if (opened === null || opened.some((x) => x !== 0)) return 'AES-128-GCM self-test: open of the known answer failed';
    }
    const forged = hex(expect);
    forged[31]! ^= 1;
    if (ctx.open(nonce, new Uint8Array(0), forged) !== null) return 'AES-128-GCM self-test: a forged tag was accepted';
    return undefined;
  } finally {
    ctx.dispose();
  }
}

let memo: { backend: OpensslBackend; reason?: undefined } | { backend?: undefined; reason: string } | undefined;

function isDisabled(): boolean {
  const v = process.env[OPENSSL_BACKEND_ENV];
  return v !== undefined && ['0', 'false', 'off', 'no'].includes(v.trim().toLowerCase());
}

/**
 * Loads the backend once per process (memoised) and never throws: on any failure returns `{ reason }`.
 * The environment switch is read on every call, so tests can turn the backend off without reloading.
 */
export function tryLoadOpensslBackend(): OpensslLoadResult {
  if (isDisabled()) return { reason: `disabled by ${OPENSSL_BACKEND_ENV}=${process.env[OPENSSL_BACKEND_ENV]}` };
  memo ??= load();
  return memo.backend ? { backend: memo.backend } : { reason: memo.reason };
}

function load(): { backend: OpensslBackend } | { reason: string } {
  return loadOpensslBackendFrom(loadLibCrypto);
}

/**
 * Builds and self-tests a backend over whatever `loadLib` binds (not memoised, ignores the environment switch).
 * Exported so tests can feed it a broken library and see a reason instead of an exception.
 */
export function loadOpensslBackendFrom(loadLib: () => LoadLibCryptoResult): { backend: OpensslBackend } | { reason: string } {
  try {
    const r = loadLib();
    if (r.lib === undefined) return { reason: r.reason };
    const backend = createOpensslBackend(new OpensslRuntime(r.lib));
    const failed = selfTest(backend);
    if (failed !== undefined) return { reason: failed };
    return { backend };
  } catch (e) {
    return { reason: `openssl backend failed to initialise: ${e instanceof CryptoError ? `${e.code}: ` : ''}${e instanceof Error ? e.message : String(e)}` };
  }
}
