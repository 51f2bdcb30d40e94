/**
 * Shared state of the `openssl` backend: the bound libcrypto, the algorithm objects fetched once per name
 * (EVP_CIPHER_fetch / EVP_MAC_fetch / EVP_MD_fetch are slow and their results are immutable, so they live for the
 * process), and the finalization registries that free contexts a caller forgot to dispose().
 */
import { CryptoError } from '../errors.js';
import type { LibCrypto, NativePtr } from './openssl-ffi.js';

/**
 * Frees a native context exactly once. Owned by one JS context object; `free()` is idempotent and the
 * FinalizationRegistry backstop holds only the pointers, never the owner, so it runs only once the owner is
 * unreachable (and therefore can no longer use the pointers).
 */
export interface NativeOwner {
  /** True once freed: any further use must throw CryptoError('DISPOSED'). */
  readonly freed: boolean;
  free(): void;
}

export class OpensslRuntime {
  readonly lib: LibCrypto;
  private readonly ciphers = new Map<string, NativePtr | null>();
  private readonly macs = new Map<string, NativePtr | null>();
  private readonly mds = new Map<string, NativePtr | null>();
  /** Backstop only: frees what a leaked (never disposed) context still holds. */
  private readonly leaks: FinalizationRegistry<() => void>;
  /** Counts contexts freed by the backstop, for tests and diagnostics. */
  leakedFrees = 0;

  constructor(lib: LibCrypto) {
    this.lib = lib;
    this.leaks = new FinalizationRegistry((release) => {
      this.leakedFrees++;
      release();
    });
  }

  /** EVP_CIPHER for an OpenSSL name such as "AES-128-GCM", or null when the default provider lacks it. */
  cipher(name: string): NativePtr | null {
    return fetchOnce(this.ciphers, name, () => this.lib.EVP_CIPHER_fetch(null, name, null), this.lib);
  }

  mac(name: string): NativePtr | null {
    return fetchOnce(this.macs, name, () => this.lib.EVP_MAC_fetch(null, name, null), this.lib);
  }

  md(name: string): NativePtr | null {
    return fetchOnce(this.mds, name, () => this.lib.EVP_MD_fetch(null, name, null), this.lib);
  }

  /**
   * Ties native pointers to `owner`: returns a NativeOwner whose free() releases them once (through `release`),
   * and registers the same release as a GC backstop, unregistered on an explicit free.
   */
  own(owner: object, release: () => void): NativeOwner {
    let freed = false;
    const once = (): void => {
      if (freed) return;
      freed = true;
      release();
    };
    const token = {};
    this.leaks.register(owner, once, token);
    const leaks = this.leaks;
    return {
      get freed() {
        return freed;
      },
      free() {
        if (freed) return;
        leaks.unregister(token);
        once();
      },
    };
  }

  /**
   * An OpenSSL call failed where the contract has no "expected failure": clear the thread's error queue (so it
   * does not leak into node:crypto's own error reporting) and say which call failed.
   */
  failure(what: string, call: string): CryptoError {
    this.lib.ERR_clear_error();
    return new CryptoError('BACKEND_UNAVAILABLE', `${what}: OpenSSL ${call} failed`);
  }
}

function fetchOnce(cache: Map<string, NativePtr | null>, name: string, fetch: () => NativePtr, lib: LibCrypto): NativePtr | null {
  let p = cache.get(name);
  if (p === undefined) {
    try {
      p = fetch() ?? null;
    } catch {
      p = null;
    }
    if (p === null) lib.ERR_clear_error();
    cache.set(name, p);
  }
  return p;
}

/**
 * True when `a` and `b` share memory without starting at the same byte. OpenSSL refuses such partial overlap
 * (EVP "partially overlapping buffers"); the contract only promises in place when `out` starts where the input does.
 */
export function partiallyOverlaps(a: Uint8Array, b: Uint8Array): boolean {
  if (a.buffer !== b.buffer || a.byteOffset === b.byteOffset) return false;
  return a.byteOffset < b.byteOffset + b.length && b.byteOffset < a.byteOffset + a.length;
}

/** EVP_CipherUpdate takes an `int` length; larger inputs (never an IP packet) are refused up front. */
export const MAX_INT_LENGTH = 0x7fffffff;

export function tooLong(what: string, n: number): CryptoError {
  return new CryptoError('INVALID_DATA_LENGTH', `${what}: input is ${n} bytes, more than OpenSSL's int length allows`);
}
