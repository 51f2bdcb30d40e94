import { describe, expect, it } from 'vitest';
import { DEFAULT_RETRANSMIT, retransmissionTimeout, totalRetransmitTime } from './retransmit.js';

describe('retransmissionTimeout', () => {
  it("follows strongSwan's defaults: 4 s * 1.8^n for 5 retransmissions", () => {
    const seq = [0, 1, 2, 3, 4, 5].map((n) => retransmissionTimeout(DEFAULT_RETRANSMIT, n));
    expect(seq).toEqual([4000, 7200, 12960, 23328, 41990, 75583]);
    expect(retransmissionTimeout(DEFAULT_RETRANSMIT, 6)).toBeUndefined();
    expect(Math.round(totalRetransmitTime(DEFAULT_RETRANSMIT) / 1000)).toBe(165);
  });
  it('applies the limit and jitter', () => {
    const s = { ...DEFAULT_RETRANSMIT, limitMs: 10_000, jitterPercent: 50 };
    expect(retransmissionTimeout(s, 4, 0)).toBe(10_000);
    expect(retransmissionTimeout(s, 4, 0.5)).toBe(7500);
  });
});
