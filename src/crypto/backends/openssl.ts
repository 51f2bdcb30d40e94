/**
 * OpenSSL EVP backend through koffi FFI into the OpenSSL that the node binary already contains.
 * (Stub: the real implementation replaces this file.)
 */
import type { CryptoBackend } from '../types.js';

export interface OpensslLoadResult {
  backend?: CryptoBackend;
  /** Why the backend is unavailable, when it is. */
  reason?: string;
}

export function tryLoadOpensslBackend(): OpensslLoadResult {
  return { reason: 'openssl backend not implemented yet' };
}
