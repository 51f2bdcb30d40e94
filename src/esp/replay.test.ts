import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_REPLAY_WINDOW, ReplayWindow } from './replay.js';

/** check + commit, as the engine does after a packet authenticates. */
function accept(w: ReplayWindow, lo: number, hi = 0): boolean {
  return w.check(hi, lo) && w.commit(hi, lo);
}

describe('ReplayWindow (RFC 6479 ring)', () => {
  it('accepts fresh numbers and rejects duplicates', () => {
    const w = new ReplayWindow(64);
    expect(accept(w, 1)).toBe(true);
    expect(accept(w, 1)).toBe(false);
    expect(accept(w, 3)).toBe(true);
    expect(accept(w, 2)).toBe(true);
    expect(accept(w, 2)).toBe(false);
    expect(accept(w, 3)).toBe(false);
  });

  it('rejects sequence number 0 (never sent)', () => {
    expect(accept(new ReplayWindow(64), 0)).toBe(false);
  });

  it('window edges: top - (W-1) is inside, top - W is outside', () => {
    for (const size of [32, 64, 100, 1024, 4096, 65536]) {
      const w = new ReplayWindow(size);
      const top = size * 3 + 7;
      expect(accept(w, top)).toBe(true);
      expect(w.check(0, top - size + 1)).toBe(true);
      expect(w.check(0, top - size)).toBe(false);
      expect(accept(w, top - size + 1)).toBe(true);
      expect(accept(w, top - size + 1)).toBe(false);
      expect(accept(w, top - size)).toBe(false);
    }
  });

  it('far-ahead packets slide the window and forget everything behind it', () => {
    const w = new ReplayWindow(1024);
    for (let s = 1; s <= 2000; s++) expect(accept(w, s)).toBe(true);
    expect(accept(w, 1_000_000)).toBe(true);
    expect(accept(w, 2000)).toBe(false); // now far too old
    expect(accept(w, 1_000_000 - 1023)).toBe(true); // inside the new window, never seen
    expect(accept(w, 1_000_000 - 1024)).toBe(false);
    // Bits of the old top's blocks must not leak into the new window.
    const w2 = new ReplayWindow(1024);
    expect(accept(w2, 100)).toBe(true);
    expect(accept(w2, 100 + 1024 * 4)).toBe(true); // same ring slot as 100 (ring of 64 blocks x 32 bits = 2048)
    expect(accept(w2, 100 + 4096 - 1)).toBe(true); // same block as the new top: must have been cleared
    expect(accept(w2, 100 + 4096 - 1023)).toBe(true);
    expect(accept(w2, 100 + 2048)).toBe(false); // behind the window
  });

  it('a check that passed does not mark: only commit does', () => {
    const w = new ReplayWindow(64);
    expect(w.check(0, 5)).toBe(true);
    expect(w.check(0, 5)).toBe(true);
    expect(w.commit(0, 5)).toBe(true);
    expect(w.commit(0, 5)).toBe(false);
  });

  it('window 0 disables anti-replay', () => {
    const w = new ReplayWindow(0);
    expect(accept(w, 5)).toBe(true);
    expect(accept(w, 5)).toBe(true);
    expect(accept(w, 1)).toBe(true);
  });

  it('accepts window sizes up to the maximum and refuses bad ones', () => {
    expect(new ReplayWindow(65536).size).toBe(65536);
    expect(new ReplayWindow(MAX_REPLAY_WINDOW).size).toBe(MAX_REPLAY_WINDOW);
    expect(() => new ReplayWindow(-1)).toThrow(RangeError);
    expect(() => new ReplayWindow(MAX_REPLAY_WINDOW + 1)).toThrow(RangeError);
    expect(() => new ReplayWindow(1.5)).toThrow(RangeError);
  });

  it('matches a reference model on random traffic (fast-check)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(32, 64, 96, 1024),
        fc.array(fc.integer({ min: 1, max: 5000 }), { maxLength: 300 }),
        (size, seqs) => {
          const w = new ReplayWindow(size);
          const seen = new Set<number>();
          let top = 0;
          for (const s of seqs) {
            const expected = s > top || (top - s < size && !seen.has(s));
            expect(accept(w, s)).toBe(expected);
            if (expected) {
              seen.add(s);
              top = Math.max(top, s);
            }
          }
        },
      ),
    );
  });
});

describe('ESN (RFC 4303 Appendix A)', () => {
  it('infers the high half across 2^32', () => {
    const w = new ReplayWindow(1024);
    // Reach the top of the first subspace.
    expect(accept(w, 0xffffff00)).toBe(true);
    expect(w.inferHigh(0xffffff80)).toBe(0);
    // A small low half is the next subspace (case A: Seql < Bl).
    expect(w.inferHigh(5)).toBe(1);
    expect(accept(w, 5, w.inferHigh(5))).toBe(true);
    expect(w.highestHi).toBe(1);
    expect(w.highestLo).toBe(5);
    // Case B: window spans the boundary; a late packet from the old subspace is hi = 0.
    expect(w.inferHigh(0xffffff90)).toBe(0);
    expect(accept(w, 0xffffff90, 0)).toBe(true);
    expect(accept(w, 0xffffff90, 0)).toBe(false); // duplicate across the boundary
    expect(w.inferHigh(0xffffff00)).toBe(0);
    expect(accept(w, 0xffffff00, 0)).toBe(false); // already seen before the crossing
    // Far left of the window (case B, Seql >= Bl would mean Th - 1; this one is just out of the window).
    expect(w.check(0, (5 - 1024) >>> 0)).toBe(false);
    expect(w.check(0, (5 - 1023) >>> 0)).toBe(true);
    // New packets in subspace 1.
    expect(w.inferHigh(6)).toBe(1);
    expect(accept(w, 6, 1)).toBe(true);
  });

  it('a packet "before the beginning" infers -1', () => {
    const w = new ReplayWindow(1024);
    expect(w.inferHigh(0xfffffff0)).toBe(-1);
    expect(w.inferHigh(1)).toBe(0);
  });

  it('sequential traffic across several 2^32 boundaries is all accepted once', () => {
    const w = new ReplayWindow(128);
    let hi = 0;
    let lo = 0xfffffff0;
    // Pretend we were already there.
    expect(w.commit(0, lo)).toBe(true);
    for (let n = 0; n < 64; n++) {
      lo = (lo + 1) >>> 0;
      if (lo === 0) hi++;
      const h = w.inferHigh(lo);
      expect(h).toBe(hi);
      expect(accept(w, lo, h)).toBe(true);
      expect(accept(w, lo, h)).toBe(false);
    }
  });

  it('works at the very top of the 64-bit space', () => {
    const w = new ReplayWindow(64);
    expect(w.commit(0xffffffff, 0xfffffff0)).toBe(true);
    expect(w.inferHigh(0xfffffff5)).toBe(0xffffffff);
    expect(accept(w, 0xffffffff, 0xffffffff)).toBe(true);
    expect(accept(w, 0xffffffff, 0xffffffff)).toBe(false);
    expect(accept(w, 0xfffffff8, 0xffffffff)).toBe(true);
  });

  it('with anti-replay off, inference uses a half-space window', () => {
    const w = new ReplayWindow(0);
    expect(w.commit(0, 0xfffffff0)).toBe(true);
    expect(w.inferHigh(3)).toBe(1);
    expect(w.inferHigh(0x90000000)).toBe(0);
  });
});
