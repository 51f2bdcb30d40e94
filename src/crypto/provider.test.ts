import { describe, expect, it } from 'vitest';
import { availableBackends } from './backends/index.js';
import { nobleBackend } from './backends/noble.js';
import { nodeBackend } from './backends/node.js';
import { CryptoError } from './errors.js';
import { backendFor, createProvider, defaultProvider, openOrThrow } from './provider.js';
import { seededRandom } from './random.js';
import type { AeadSpec, CipherSpec, CryptoBackend } from './types.js';

const CCM: AeadSpec = { alg: 'aes-ccm', keyBytes: 16, tagBytes: 16 };
const GCM: AeadSpec = { alg: 'aes-gcm', keyBytes: 16, tagBytes: 16 };
const TDES: CipherSpec = { alg: '3des-cbc', keyBytes: 24 };

/** Wraps a backend to record which one served each create call. */
function spy(b: CryptoBackend, log: string[]): CryptoBackend {
  return {
    ...b,
    createAead: (s, k) => (log.push(`${b.name}:aead`), b.createAead(s, k)),
    createMac: (a, k) => (log.push(`${b.name}:mac`), b.createMac(a, k)),
    createCipher: (s, k) => (log.push(`${b.name}:cipher`), b.createCipher(s, k)),
    createKeyExchange: (g, r) => (log.push(`${b.name}:ke`), b.createKeyExchange(g, r)),
  };
}

describe('createProvider', () => {
  it("is named 'auto' and works end to end", () => {
    const p = createProvider();
    expect(p.name).toBe('auto');
    const ctx = p.createAead(GCM, new Uint8Array(16));
    const n = new Uint8Array(12);
    expect(ctx.open(n, new Uint8Array(0), ctx.seal(n, new Uint8Array(0), Uint8Array.of(1, 2, 3)))).toEqual(Uint8Array.of(1, 2, 3));
  });

  it('symmetric: first of openssl > node > noble that has it; KE: node > noble', () => {
    const log: string[] = [];
    const p = createProvider({ backends: [spy(nobleBackend, log), spy(nodeBackend, log)] });
    p.createAead(GCM, new Uint8Array(16));
    p.createMac('hmac-sha256', new Uint8Array(3));
    p.createKeyExchange(31, seededRandom(1));
    expect(log).toEqual(['node:aead', 'node:mac', 'node:ke']);
  });

  it('prefer reorders; an algorithm only one backend has goes there', () => {
    const log: string[] = [];
    const p = createProvider({ backends: [spy(nodeBackend, log), spy(nobleBackend, log)], prefer: ['noble', 'node'] });
    p.createAead(GCM, new Uint8Array(16));
    p.createCipher(TDES, new Uint8Array(24)); // noble has no 3DES
    p.createKeyExchange(14, seededRandom(1));
    p.createKeyExchange(27, seededRandom(1)); // noble has no brainpoolP224r1
    expect(log).toEqual(['noble:aead', 'node:cipher', 'noble:ke', 'node:ke']);
  });

  it('what no backend has is UNSUPPORTED_ALGORITHM naming the backends', () => {
    const p = createProvider({ backends: [nobleBackend] });
    expect(p.hasCipher(TDES)).toBe(false);
    expect(() => p.createCipher(TDES, new Uint8Array(24))).toThrow(/no backend \(of noble\) has cipher 3des-cbc/);
    expect(() => p.createKeyExchange(25, seededRandom(1))).toThrow(CryptoError);
    expect(createProvider({ backends: [] }).hasHash('sha256')).toBe(false);
  });

  it('defaultProvider is built once; backendFor reports the choice', () => {
    expect(defaultProvider()).toBe(defaultProvider());
    const all = availableBackends();
    expect(backendFor(all, 'ke', (b) => b.hasKeyExchange(19))).toBe('node');
    expect(backendFor([nobleBackend, nodeBackend], 'aead', (b) => b.hasAead(CCM))).toBe('node');
    expect(backendFor([nobleBackend], 'cipher', (b) => b.hasCipher(TDES))).toBeUndefined();
  });

  it('openOrThrow throws TAG_MISMATCH', () => {
    const ctx = nodeBackend.createAead(GCM, new Uint8Array(16));
    const n = new Uint8Array(12);
    const sealed = ctx.seal(n, new Uint8Array(0), new Uint8Array(5));
    sealed[0]! ^= 1;
    expect(() => openOrThrow(ctx, n, new Uint8Array(0), sealed)).toThrow(expect.objectContaining({ code: 'TAG_MISMATCH' }));
  });
});
