/**
 * Injectable randomness. The core never calls Math.random() or crypto.randomBytes() directly: it is handed a
 * RandomSource, so tests can run whole exchanges from a seed and reproduce them byte for byte.
 */
import { randomFillSync } from 'node:crypto';

export interface RandomSource {
  /** Fills `buf` with random bytes and returns it. */
  fill(buf: Uint8Array): Uint8Array;
}

export function randomBytes(src: RandomSource, n: number): Uint8Array {
  return src.fill(new Uint8Array(n));
}

/** The operating system's CSPRNG (through node:crypto). */
export const systemRandom: RandomSource = {
  fill(buf: Uint8Array): Uint8Array {
    return randomFillSync(buf);
  },
};

/**
 * A deterministic source for tests and simulations only: xoshiro128** seeded through splitmix32.
 * Not cryptographically secure; never use outside tests.
 */
export function seededRandom(seed: number): RandomSource {
  let x = seed >>> 0;
  const next32 = (): number => {
    // splitmix32 to spread the seed over the four state words
    x = (x + 0x9e3779b9) >>> 0;
    let z = x;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
  const s = new Uint32Array([next32(), next32(), next32(), next32()]);
  const rotl = (v: number, k: number): number => ((v << k) | (v >>> (32 - k))) >>> 0;
  const step = (): number => {
    const result = Math.imul(rotl(Math.imul(s[1]!, 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1]! << 9) >>> 0;
    s[2]! ^= s[0]!;
    s[3]! ^= s[1]!;
    s[1]! ^= s[2]!;
    s[0]! ^= s[3]!;
    s[2]! ^= t;
    s[3] = rotl(s[3]!, 11);
    return result;
  };
  return {
    fill(buf: Uint8Array): Uint8Array {
      for (let i = 0; i < buf.length; i += 4) {
        const v = step();
        for (let j = 0; j < 4 && i + j < buf.length; j++) buf[i + j] = (v >>> (8 * j)) & 0xff;
      }
      return buf;
    },
  };
}
