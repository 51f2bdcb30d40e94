import { describe, expect, it } from 'vitest';
import { nobleBackend } from './backends/noble.js';
import { nodeBackend } from './backends/node.js';
import { CryptoError } from './errors.js';
import {
  createPrf,
  isSupportedPrf,
  PRF_AES128_CMAC,
  PRF_AES128_XCBC,
  PRF_HMAC_SHA1,
  PRF_HMAC_SHA2_256,
  PRF_HMAC_SHA2_512,
  prfPlus,
} from './prf.js';

const hex = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('createPrf', () => {
  it('sizes per RFC 7296 section 2.13 / RFC 4434 / RFC 4615', () => {
    const sizes = [2, 4, 5, 6, 7, 8].map((id) => {
      const p = createPrf(id, nodeBackend);
      return [p.id, p.outputBytes, p.preferredKeyBytes];
    });
    expect(sizes).toEqual([[2, 20, 20], [4, 16, 16], [5, 32, 32], [6, 48, 48], [7, 64, 64], [8, 16, 16]]);
  });

  it('unknown PRF is UNSUPPORTED_ALGORITHM (PRF_HMAC_MD5 = 1 and PRF_HMAC_TIGER = 3 are not offered)', () => {
    for (const id of [1, 3, 9]) {
      expect(() => createPrf(id, nodeBackend)).toThrow(CryptoError);
      expect(isSupportedPrf(id, nodeBackend)).toBe(false);
    }
  });

  it('RFC 4434 section 2: XCBC keys shorter than 16 bytes are zero-padded, longer ones reduced under a zero key', () => {
    const prf = createPrf(PRF_AES128_XCBC, nodeBackend);
    const data = hex('000102030405060708090a0b0c0d0e0f10111213');
    const short = hex('00010203040506070809');
    const padded = new Uint8Array(16);
    padded.set(short);
    expect(prf.compute(short, data)).toEqual(prf.compute(padded, data));
    const long = hex('000102030405060708090a0b0c0d0e0fedcb');
    const reduced = nodeBackend.createMac('aes-xcbc', new Uint8Array(16)).compute(long);
    expect(prf.compute(long, data)).toEqual(prf.compute(reduced, data));
    // RFC 4434 section 4 test cases with an 18-byte and a 10-byte key.
    expect(toHex(prf.compute(long, data))).toBe('8cd3c93ae598a9803006ffb67c40e9e4');
    expect(toHex(prf.compute(short, data))).toBe('0fa087af7d866e7653434e602fdde835');
  });

  it('RFC 4615 section 3: CMAC keys of any other length (shorter too) are reduced under a zero key', () => {
    const prf = createPrf(PRF_AES128_CMAC, nodeBackend);
    const data = hex('000102030405060708090a0b0c0d0e0f10111213');
    const short = hex('00010203040506070809');
    const reduced = nodeBackend.createMac('aes-cmac', new Uint8Array(16)).compute(short);
    expect(prf.compute(short, data)).toEqual(prf.compute(reduced, data));
    // RFC 4615 section 4 test case, key length 10.
    expect(toHex(prf.compute(short, data))).toBe('290d9e112edb09ee141fcf64c0b72f3d');
  });

  it('the same on every backend, whole or in parts', () => {
    for (const id of [2, 4, 5, 6, 7, 8]) {
      const a = createPrf(id, nodeBackend);
      const b = createPrf(id, nobleBackend);
      const key = hex('0b'.repeat(37));
      expect(a.compute(key, [hex('4869'), hex('205468657265')])).toEqual(b.compute(key, hex('4869205468657265')));
    }
  });
});

describe('prfPlus (RFC 7296 section 2.13)', () => {
  const prf = createPrf(PRF_HMAC_SHA2_256, nodeBackend);
  const K = hex('0b'.repeat(32));
  const S = hex('4869205468657265');

  it('T1 = prf(K, S | 0x01), T2 = prf(K, T1 | S | 0x02)', () => {
    const t1 = prf.compute(K, [S, Uint8Array.of(1)]);
    const t2 = prf.compute(K, [t1, S, Uint8Array.of(2)]);
    expect(prfPlus(prf, K, S, 64)).toEqual(Uint8Array.from([...t1, ...t2]));
    expect(prfPlus(prf, K, S, 40)).toEqual(Uint8Array.from([...t1, ...t2.subarray(0, 8)]));
    expect(prfPlus(prf, K, S, 0)).toHaveLength(0);
  });

  it('at most 255 iterations', () => {
    expect(prfPlus(prf, K, S, 255 * 32)).toHaveLength(255 * 32);
    expect(() => prfPlus(prf, K, S, 255 * 32 + 1)).toThrow(/255/);
    try {
      prfPlus(createPrf(PRF_HMAC_SHA1, nodeBackend), K, S, 255 * 20 + 1);
    } catch (e) {
      expect((e as CryptoError).code).toBe('INVALID_OUTPUT_LENGTH');
    }
    expect(() => prfPlus(prf, K, S, -1)).toThrow(CryptoError);
    expect(() => prfPlus(prf, K, S, 1.5)).toThrow(CryptoError);
  });

  it('a long prf+ over SHA-512 is a prefix-consistent stream', () => {
    const p = createPrf(PRF_HMAC_SHA2_512, nobleBackend);
    const long = prfPlus(p, K, S, 500);
    expect(prfPlus(p, K, S, 130)).toEqual(long.subarray(0, 130));
  });
});
