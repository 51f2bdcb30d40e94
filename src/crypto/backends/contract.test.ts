/**
 * The buffer contract of types.ts on every backend: results are views of `out` when it is given (and exactly as
 * long as the result), `out` may alias the input, `data` may come in parts, and dispose() ends a context.
 */
import { describe, expect, it } from 'vitest';
import { seededRandom, randomBytes } from '../random.js';
import type { CryptoBackend } from '../types.js';
import { availableBackends } from './index.js';

const backends = availableBackends();

describe.each(backends.map((b) => [b.name, b] as const))('buffer contract on %s', (_n, b: CryptoBackend) => {
  const rnd = seededRandom(11);

  it('AEAD seal into a larger out returns a view of its start; open into out at an offset', () => {
    const spec = { alg: 'aes-gcm', keyBytes: 32, tagBytes: 16 } as const;
    const ctx = b.createAead(spec, randomBytes(rnd, 32));
    const nonce = randomBytes(rnd, 12);
    const pt = randomBytes(rnd, 100);
    const big = new Uint8Array(200);
    const sealed = ctx.seal(nonce, new Uint8Array(0), pt, big);
    expect(sealed.buffer).toBe(big.buffer);
    expect(sealed.byteOffset).toBe(0);
    expect(sealed.length).toBe(116);
    const target = new Uint8Array(300);
    const opened = ctx.open(nonce, new Uint8Array(0), sealed, target.subarray(50));
    expect(opened!.buffer).toBe(target.buffer);
    expect(opened!.byteOffset).toBe(50);
    expect(opened).toEqual(pt);
  });

  it('cipher output aliases input; MAC output goes to out; hash of parts = hash of the whole', () => {
    const c = b.createCipher({ alg: 'aes-cbc', keyBytes: 16 }, randomBytes(rnd, 16));
    const iv = randomBytes(rnd, 16);
    const data = randomBytes(rnd, 64);
    const copy = data.slice();
    const enc = c.encrypt(iv, data, data);
    expect(enc.buffer).toBe(data.buffer);
    expect(c.decrypt(iv, data, data)).toEqual(copy);

    const m = b.createMac('hmac-sha384', randomBytes(rnd, 48));
    const out = new Uint8Array(64);
    const tag = m.compute([copy.subarray(0, 10), copy.subarray(10)], out);
    expect(tag.buffer).toBe(out.buffer);
    expect(tag).toEqual(m.compute(copy));
    expect(tag.length).toBe(m.outputBytes);

    expect(b.hash('sha256', [copy.subarray(0, 3), copy.subarray(3)])).toEqual(b.hash('sha256', copy));
  });

  it('dispose ends cipher and MAC contexts', () => {
    const c = b.createCipher({ alg: 'aes-ctr', keyBytes: 16 }, new Uint8Array(16));
    c.dispose();
    expect(() => c.encrypt(new Uint8Array(16), new Uint8Array(3))).toThrow(expect.objectContaining({ code: 'DISPOSED' }));
    const m = b.createMac('aes-cmac', new Uint8Array(16));
    m.dispose();
    expect(() => m.compute(new Uint8Array(3))).toThrow(expect.objectContaining({ code: 'DISPOSED' }));
  });

  it('key exchange: dispose ends it; shared secrets are the right length', () => {
    for (const [g, len] of [[14, 256], [19, 32], [21, 66], [31, 32], [32, 56]] as const) {
      if (!b.hasKeyExchange(g)) continue;
      const x = b.createKeyExchange(g, rnd);
      const y = b.createKeyExchange(g, rnd);
      expect(x.computeSharedSecret(y.publicValue)).toHaveLength(len);
      x.dispose();
      expect(() => x.computeSharedSecret(y.publicValue)).toThrow(expect.objectContaining({ code: 'DISPOSED' }));
    }
  });
});
