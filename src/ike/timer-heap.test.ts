import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { TimerHeap } from './timer-heap.js';

describe('TimerHeap', () => {
  it('peek and popDue agree with a plain map of deadlines under any sequence of set/clear/pop', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('set' as const), key: fc.integer({ min: 0, max: 20 }), at: fc.option(fc.integer({ min: 0, max: 1000 }), { nil: undefined }) }),
      fc.record({ kind: fc.constant('pop' as const), now: fc.integer({ min: 0, max: 1000 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
        const heap = new TimerHeap<number>();
        const model = new Map<number, number>();
        for (const o of ops) {
          if (o.kind === 'set') {
            heap.set(o.key, o.at);
            if (o.at === undefined) model.delete(o.key);
            else model.set(o.key, o.at);
          } else {
            const due = [...model].filter(([, at]) => at <= o.now).sort((a, b) => a[1] - b[1]);
            const got = heap.popDue(o.now);
            expect(new Set(got)).toEqual(new Set(due.map(([k]) => k)));
            // Earliest first.
            expect(got.map((k) => model.get(k)!)).toEqual([...got.map((k) => model.get(k)!)].sort((a, b) => a - b));
            for (const [k] of due) model.delete(k);
          }
          const min = model.size ? Math.min(...model.values()) : undefined;
          expect(heap.peek()).toBe(min);
          expect(heap.size).toBe(model.size);
          // It holds exactly the live keys: nothing of a cleared or popped key (issue 17: they kept deleted SAs alive).
          expect(new Set(heap.held())).toEqual(new Set(model.keys()));
          expect([...heap.held()].length).toBe(model.size);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('holds one entry for a key rescheduled many times', () => {
    const heap = new TimerHeap<string>();
    for (let i = 0; i < 10_000; i++) heap.set('sa', 10_000 - i);
    expect(heap.peek()).toBe(1);
    expect([...heap.held()]).toEqual(['sa']);
    expect(heap.popDue(1)).toEqual(['sa']);
    expect(heap.peek()).toBeUndefined();
  });

  it('drops a cleared key at once, with many other keys live (issue 17)', () => {
    const heap = new TimerHeap<object>();
    const live = Array.from({ length: 1000 }, (_, i) => ({ i }));
    for (const [i, k] of live.entries()) heap.set(k, 1_000_000 + i);
    const gone = { deleted: true };
    heap.set(gone, 5);
    heap.set(gone, 7);
    heap.set(gone, undefined);
    expect([...heap.held()].includes(gone)).toBe(false);
    expect(heap.size).toBe(1000);
    expect(heap.peek()).toBe(1_000_000);
  });
});
