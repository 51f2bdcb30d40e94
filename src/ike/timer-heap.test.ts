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
        }
      }),
      { numRuns: 300 },
    );
  });

  it('stays compact when one key is rescheduled many times', () => {
    const heap = new TimerHeap<string>();
    for (let i = 0; i < 10_000; i++) heap.set('sa', 10_000 - i);
    expect(heap.peek()).toBe(1);
    expect((heap as unknown as { heap: unknown[] }).heap.length).toBeLessThanOrEqual(65);
    expect(heap.popDue(1)).toEqual(['sa']);
    expect(heap.peek()).toBeUndefined();
  });
});
