import { describe, expect, it } from 'vitest';
import { softLimit } from './lifetimes.js';

describe('softLimit (rekey minus jitter, strongSwan apply_jitter with the jitter capped at half the limit)', () => {
  const most = { jitter: (max: number) => max };
  const none = { jitter: () => 0 };
  it('subtracts up to rand when rand is below half the limit', () => {
    expect(softLimit(most, 3_600_000, 360_000)).toBe(3_240_000);
    expect(softLimit(none, 3_600_000, 360_000)).toBe(3_600_000);
  });
  it('never goes below half the limit, however large rand is', () => {
    expect(softLimit(most, 20, 980)).toBe(10);
    expect(softLimit(most, 5000, 55_000)).toBe(2500);
    expect(softLimit(most, 1, 1000)).toBe(1);
  });
  it('a negative rand (life below rekey) means no jitter', () => {
    expect(softLimit(most, 100, -50)).toBe(100);
  });
});
