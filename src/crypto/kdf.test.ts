import { describe, expect, it } from 'vitest';
import { nodeBackend } from './backends/node.js';
import { CryptoError } from './errors.js';
import { computeRekeySKEYSEED, computeSKEYSEED, deriveChildSaKeymat, deriveIkeSaKeys } from './kdf.js';
import { createPrf, PRF_AES128_CMAC, PRF_AES128_XCBC, PRF_HMAC_SHA2_256, prfPlus } from './prf.js';
import { seededRandom, randomBytes } from './random.js';

const rnd = seededRandom(2026);
const Ni = randomBytes(rnd, 32);
const Nr = randomBytes(rnd, 32);
const gir = randomBytes(rnd, 256);
const cat = (...p: Uint8Array[]) => Uint8Array.from(p.flatMap((x) => [...x]));

describe('computeSKEYSEED (RFC 7296 section 2.14)', () => {
  it('HMAC PRFs: prf(Ni | Nr, g^ir)', () => {
    const prf = createPrf(PRF_HMAC_SHA2_256, nodeBackend);
    expect(computeSKEYSEED(prf, Ni, Nr, gir)).toEqual(prf.compute(cat(Ni, Nr), gir));
  });

  for (const id of [PRF_AES128_XCBC, PRF_AES128_CMAC]) {
    it(`PRF ${id}: only the first 64 bits of Ni and of Nr key the PRF`, () => {
      const prf = createPrf(id, nodeBackend);
      const s = computeSKEYSEED(prf, Ni, Nr, gir);
      expect(s).toEqual(prf.compute(cat(Ni.subarray(0, 8), Nr.subarray(0, 8)), gir));
      const Ni2 = Ni.slice();
      Ni2[20]! ^= 0xff; // beyond the first 64 bits: no effect
      expect(computeSKEYSEED(prf, Ni2, Nr, gir)).toEqual(s);
      const Nr2 = Nr.slice();
      Nr2[3]! ^= 0xff;
      expect(computeSKEYSEED(prf, Ni, Nr2, gir)).not.toEqual(s);
      expect(() => computeSKEYSEED(prf, Ni.subarray(0, 7), Nr, gir)).toThrow(CryptoError);
    });
  }
});

describe('deriveIkeSaKeys (RFC 7296 section 2.14)', () => {
  const prf = createPrf(PRF_HMAC_SHA2_256, nodeBackend);
  const SKEYSEED = computeSKEYSEED(prf, Ni, Nr, gir);
  const SPIi = Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8);
  const SPIr = Uint8Array.of(9, 10, 11, 12, 13, 14, 15, 16);

  it('splits prf+(SKEYSEED, Ni | Nr | SPIi | SPIr) in RFC order', () => {
    const sizes = { encrKey: 36, integKey: 0, prfKey: 32 }; // AES-256-GCM: key | salt, no integrity key
    const k = deriveIkeSaKeys(prf, SKEYSEED, Ni, Nr, SPIi, SPIr, sizes);
    const stream = prfPlus(prf, SKEYSEED, cat(Ni, Nr, SPIi, SPIr), 32 + 2 * 36 + 2 * 32);
    expect(cat(k.SK_d, k.SK_ai, k.SK_ar, k.SK_ei, k.SK_er, k.SK_pi, k.SK_pr)).toEqual(stream);
    expect([k.SK_d, k.SK_ai, k.SK_ar, k.SK_ei, k.SK_er, k.SK_pi, k.SK_pr].map((x) => x.length)).toEqual([32, 0, 0, 36, 36, 32, 32]);
  });

  it('SPIs must be 8 bytes; sizes must be whole', () => {
    const sizes = { encrKey: 16, integKey: 32, prfKey: 32 };
    expect(() => deriveIkeSaKeys(prf, SKEYSEED, Ni, Nr, SPIi.subarray(1), SPIr, sizes)).toThrow(/SPIi is 7/);
    expect(() => deriveIkeSaKeys(prf, SKEYSEED, Ni, Nr, SPIi, SPIr, { ...sizes, encrKey: -1 })).toThrow(CryptoError);
  });
});

describe('Child SA KEYMAT (2.17) and rekeyed SKEYSEED (2.18)', () => {
  const prf = createPrf(PRF_HMAC_SHA2_256, nodeBackend);
  const SK_d = randomBytes(rnd, 32);

  it('without and with PFS', () => {
    expect(deriveChildSaKeymat(prf, SK_d, Ni, Nr, 72)).toEqual(prfPlus(prf, SK_d, cat(Ni, Nr), 72));
    expect(deriveChildSaKeymat(prf, SK_d, Ni, Nr, 72, gir)).toEqual(prfPlus(prf, SK_d, cat(gir, Ni, Nr), 72));
  });

  it('rekey: prf(SK_d (old), g^ir (new) | Ni | Nr)', () => {
    expect(computeRekeySKEYSEED(prf, SK_d, gir, Ni, Nr)).toEqual(prf.compute(SK_d, cat(gir, Ni, Nr)));
  });
});
