import { getDiffieHellman } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { modPow } from './backends/kex-common.js';
import { MODP_GROUPS, modpGroup } from './modp.js';

describe('MODP groups', () => {
  it('RFC 2409 / RFC 3526 primes match the copies inside OpenSSL (node getDiffieHellman)', () => {
    const node: Record<number, string> = { 1: 'modp1', 2: 'modp2', 5: 'modp5', 14: 'modp14', 15: 'modp15', 16: 'modp16', 17: 'modp17', 18: 'modp18' };
    for (const [id, name] of Object.entries(node)) {
      const g = modpGroup(Number(id))!;
      expect(g.prime, `group ${id}`).toBe(getDiffieHellman(name).getPrime('hex'));
      expect(g.generator).toBe('02');
    }
  });

  it('RFC 5114 groups: g generates the subgroup of prime order q (g^q = 1 mod p)', () => {
    for (const id of [22, 23, 24]) {
      const g = modpGroup(id)!;
      const p = BigInt('0x' + g.prime);
      expect(modPow(BigInt('0x' + g.generator), BigInt('0x' + g.q!), p), `group ${id}`).toBe(1n);
    }
  });

  it('sizes and weak flags', () => {
    const bits: Record<number, number> = { 1: 768, 2: 1024, 5: 1536, 14: 2048, 15: 3072, 16: 4096, 17: 6144, 18: 8192, 22: 1024, 23: 2048, 24: 2048 };
    for (const [id, b] of Object.entries(bits)) expect(modpGroup(Number(id))!.primeBytes * 8).toBe(b);
    const weak = [...MODP_GROUPS.values()].filter((g) => g.weak).map((g) => g.id);
    expect(weak).toEqual([1, 2, 5, 22, 23, 24]);
    // RFC 3526 section 8: exponents at least twice the larger strength estimate.
    const est2: Record<number, number> = { 5: 240, 14: 320, 15: 420, 16: 480, 17: 540, 18: 620 };
    for (const [id, bitsNeeded] of Object.entries(est2)) expect(modpGroup(Number(id))!.privateBytes * 8).toBeGreaterThanOrEqual(bitsNeeded);
    expect(modpGroup(3)).toBeUndefined();
  });
});
