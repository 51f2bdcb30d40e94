import { describe, expect, it } from 'vitest';
import { randomBytes, seededRandom, systemRandom } from './random.js';
import { constantTimeEqual } from './ct.js';

describe('random sources', () => {
  it('a seeded source is reproducible and seed-dependent', () => {
    const a = randomBytes(seededRandom(7), 64);
    const b = randomBytes(seededRandom(7), 64);
    const c = randomBytes(seededRandom(8), 64);
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });
  it('system random fills the buffer', () => {
    const a = randomBytes(systemRandom, 32);
    expect(a.some((x) => x !== 0)).toBe(true);
  });
});

describe('constantTimeEqual', () => {
  it('compares by value and length', () => {
    expect(constantTimeEqual(Uint8Array.of(1, 2, 3), Uint8Array.of(1, 2, 3))).toBe(true);
    expect(constantTimeEqual(Uint8Array.of(1, 2, 3), Uint8Array.of(1, 2, 4))).toBe(false);
    expect(constantTimeEqual(Uint8Array.of(1, 2), Uint8Array.of(1, 2, 3))).toBe(false);
  });
});
