/**
 * AES-XCBC-MAC (RFC 3566) and AES-CMAC (RFC 4493) built from an AES block primitive, so every backend that has
 * AES-ECB/CBC gets both MACs from the same few lines. Both are a CBC-MAC whose last block is masked with a
 * derived subkey; they differ only in how the subkeys are derived.
 */
import { concatParts } from './checks.js';

export interface AesBlock {
  /** AES encryption of one 16-byte block. */
  encryptBlock(block: Uint8Array): Uint8Array;
  /** CBC-MAC: the last ciphertext block of AES-CBC with a zero IV over `data` (whole blocks, at least one). */
  cbcMac(data: Uint8Array): Uint8Array;
  dispose?(): void;
}

export type AesBlockFactory = (key: Uint8Array) => AesBlock;

const BLOCK = 16;

/**
 * Pads the message the way both RFCs do: a non-empty message of whole blocks is left alone and its last block is
 * masked with `completeMask`; anything else gets 0x80 0x00... to the next block boundary and `paddedMask`.
 */
function maskedMessage(msg: Uint8Array, completeMask: Uint8Array, paddedMask: Uint8Array): Uint8Array {
  const complete = msg.length > 0 && msg.length % BLOCK === 0;
  const total = complete ? msg.length : (Math.floor(msg.length / BLOCK) + 1) * BLOCK;
  const m = new Uint8Array(total);
  m.set(msg);
  if (!complete) m[msg.length] = 0x80;
  const mask = complete ? completeMask : paddedMask;
  const last = total - BLOCK;
  for (let i = 0; i < BLOCK; i++) m[last + i]! ^= mask[i]!;
  return m;
}

/** RFC 3566 section 4: K1 = E(K, 0x01^16), K2 = E(K, 0x02^16), K3 = E(K, 0x03^16); CBC-MAC under K1. */
export function createXcbc(factory: AesBlockFactory, key: Uint8Array) {
  const k = factory(key);
  const k1 = k.encryptBlock(new Uint8Array(BLOCK).fill(0x01));
  const k2 = k.encryptBlock(new Uint8Array(BLOCK).fill(0x02));
  const k3 = k.encryptBlock(new Uint8Array(BLOCK).fill(0x03));
  k.dispose?.();
  const e1 = factory(k1);
  k1.fill(0);
  return {
    compute(data: Uint8Array | readonly Uint8Array[]): Uint8Array {
      return e1.cbcMac(maskedMessage(concatParts(data), k2, k3));
    },
    dispose(): void {
      k2.fill(0);
      k3.fill(0);
      e1.dispose?.();
    },
  };
}

/** RFC 4493 section 2.3 subkey doubling in GF(2^128): shift left one bit, xor Rb = 0x87 if the msb was set. */
function dbl(l: Uint8Array): Uint8Array {
  const r = new Uint8Array(BLOCK);
  for (let i = 0; i < BLOCK; i++) r[i] = ((l[i]! << 1) | (i + 1 < BLOCK ? l[i + 1]! >>> 7 : 0)) & 0xff;
  // Branch-free: the mask is 0xff when the msb of L was set.
  r[BLOCK - 1]! ^= 0x87 & -(l[0]! >>> 7);
  return r;
}

/** RFC 4493 section 2.4: L = E(K, 0^128), K1 = dbl(L), K2 = dbl(K1); CBC-MAC under K. */
export function createCmac(factory: AesBlockFactory, key: Uint8Array) {
  const k = factory(key);
  const l = k.encryptBlock(new Uint8Array(BLOCK));
  const k1 = dbl(l);
  const k2 = dbl(k1);
  l.fill(0);
  return {
    compute(data: Uint8Array | readonly Uint8Array[]): Uint8Array {
      return k.cbcMac(maskedMessage(concatParts(data), k1, k2));
    },
    dispose(): void {
      k1.fill(0);
      k2.fill(0);
      k.dispose?.();
    },
  };
}
