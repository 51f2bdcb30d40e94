/**
 * MD5 and HMAC-MD5 for RADIUS' authenticators (RFC 2865 3, RFC 3579 3.2) and attribute hiding (RFC 2865 5.2,
 * RFC 2548 2.4.2). Pure JavaScript from @noble/hashes so src/radius stays a sans-IO core with no node:crypto
 * (MD5 is what the protocol fixes, not a choice made here).
 */
import { hmac } from '@noble/hashes/hmac.js';
import { md5 as nobleMd5 } from '@noble/hashes/legacy.js';

/** MD5 over the concatenation of `parts`. */
export function md5(...parts: readonly Uint8Array[]): Uint8Array {
  const h = nobleMd5.create();
  for (const p of parts) h.update(p);
  return h.digest();
}

export function hmacMd5(key: Uint8Array, data: Uint8Array): Uint8Array {
  return hmac(nobleMd5, key, data);
}

/** Constant-time comparison of two MACs. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return d === 0;
}
