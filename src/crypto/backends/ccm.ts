/**
 * AES-CCM (RFC 3610) for ESP/IKE as RFC 4309 uses it: 11-byte nonce (salt 3 | IV 8), so L = 4 length octets, and
 * an ICV of M = 8, 12 or 16 bytes. Built from AES primitives for backends whose library has no CCM (noble).
 */
import { constantTimeEqual } from '../ct.js';

export interface CcmAes {
  /** CBC-MAC: last block of AES-CBC with a zero IV over whole blocks. */
  cbcMac(data: Uint8Array): Uint8Array;
  /** AES-CTR keystream xor starting at the 16-byte counter block `ctr0`. */
  ctr(ctr0: Uint8Array, data: Uint8Array): Uint8Array;
  /** AES of one block. */
  encryptBlock(block: Uint8Array): Uint8Array;
}

const L = 4;

/** RFC 3610 section 2.2: B0 | encoded l(a) | a | pad | m | pad, then CBC-MAC; T is its first M bytes. */
function authTag(aes: CcmAes, nonce: Uint8Array, aad: Uint8Array, msg: Uint8Array, m: number): Uint8Array {
  let aadHeader: Uint8Array;
  if (aad.length === 0) aadHeader = new Uint8Array(0);
  else if (aad.length < 0xff00) aadHeader = Uint8Array.of(aad.length >>> 8, aad.length & 0xff);
  else aadHeader = Uint8Array.of(0xff, 0xfe, aad.length >>> 24, (aad.length >>> 16) & 0xff, (aad.length >>> 8) & 0xff, aad.length & 0xff);
  const aadBlocks = aad.length === 0 ? 0 : Math.ceil((aadHeader.length + aad.length) / 16);
  const msgBlocks = Math.ceil(msg.length / 16);
  const buf = new Uint8Array(16 * (1 + aadBlocks + msgBlocks));
  // Flags = 64*Adata + 8*M' + L' with M' = (M-2)/2 and L' = L-1.
  buf[0] = (aad.length > 0 ? 0x40 : 0) | (((m - 2) / 2) << 3) | (L - 1);
  buf.set(nonce, 1);
  const n = msg.length;
  buf[12] = n >>> 24;
  buf[13] = (n >>> 16) & 0xff;
  buf[14] = (n >>> 8) & 0xff;
  buf[15] = n & 0xff;
  buf.set(aadHeader, 16);
  buf.set(aad, 16 + aadHeader.length);
  buf.set(msg, 16 * (1 + aadBlocks));
  return aes.cbcMac(buf).subarray(0, m);
}

/** RFC 3610 section 2.3: A_i = Flags(L') | nonce | i. */
function counterBlock(nonce: Uint8Array, i: number): Uint8Array {
  const a = new Uint8Array(16);
  a[0] = L - 1;
  a.set(nonce, 1);
  a[15] = i;
  return a;
}

/** Returns ciphertext | U where U = T xor first M bytes of S0. */
export function ccmSeal(aes: CcmAes, nonce: Uint8Array, aad: Uint8Array, pt: Uint8Array, m: number): Uint8Array {
  const t = authTag(aes, nonce, aad, pt, m);
  const s0 = aes.encryptBlock(counterBlock(nonce, 0));
  const out = new Uint8Array(pt.length + m);
  if (pt.length > 0) out.set(aes.ctr(counterBlock(nonce, 1), pt));
  for (let i = 0; i < m; i++) out[pt.length + i] = t[i]! ^ s0[i]!;
  return out;
}

/** Returns the plaintext, or null when U does not verify (compared in constant time). */
export function ccmOpen(aes: CcmAes, nonce: Uint8Array, aad: Uint8Array, sealed: Uint8Array, m: number): Uint8Array | null {
  const ctLen = sealed.length - m;
  const pt = ctLen > 0 ? aes.ctr(counterBlock(nonce, 1), sealed.subarray(0, ctLen)) : new Uint8Array(0);
  const t = authTag(aes, nonce, aad, pt, m);
  const s0 = aes.encryptBlock(counterBlock(nonce, 0));
  const u = new Uint8Array(m);
  for (let i = 0; i < m; i++) u[i] = t[i]! ^ s0[i]!;
  if (!constantTimeEqual(u, sealed.subarray(ctLen))) {
    pt.fill(0);
    return null;
  }
  return pt;
}
