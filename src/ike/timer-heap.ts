/**
 * A binary min-heap of deadlines for the endpoint's timers, so that nextTimeout() and handleTimeout() cost
 * O(log n) in the number of SAs instead of a scan of all of them (issue 11).
 *
 * Indexed: each key has exactly one entry, which knows its slot, so rescheduling moves the entry up or down and
 * clearing removes it at once, both in O(log n). An earlier version left superseded entries in the heap (lazy
 * deletion, compacted when they outnumbered live ones): with 100k SAs up to 100k stale entries stayed, each keeping
 * a deleted IKE SA alive with its keys and buffers (issue 17: heap used grew ~70 MB over 1,000 setup+Delete cycles
 * at 100k SAs). Now a cleared key is unreachable from the heap the moment it is cleared.
 */
interface Entry<K> {
  at: number;
  readonly key: K;
  /** The entry's slot in `heap`. */
  i: number;
}

export class TimerHeap<K> {
  private readonly heap: Entry<K>[] = [];
  private readonly index = new Map<K, Entry<K>>();

  /** Live keys (each with one deadline). */
  get size(): number {
    return this.index.size;
  }

  /** Sets (or clears, with undefined) the deadline of `key`. */
  set(key: K, at: number | undefined): void {
    const e = this.index.get(key);
    if (at === undefined) {
      if (e !== undefined) this.remove(e);
      return;
    }
    if (e === undefined) {
      const n: Entry<K> = { at, key, i: this.heap.length };
      this.heap.push(n);
      this.index.set(key, n);
      this.up(n);
    } else if (e.at !== at) {
      const earlier = at < e.at;
      e.at = at;
      if (earlier) this.up(e);
      else this.down(e);
    }
  }

  get(key: K): number | undefined {
    return this.index.get(key)?.at;
  }

  /** The earliest deadline. */
  peek(): number | undefined {
    return this.heap[0]?.at;
  }

  /** Removes and returns every key due at `now` (deadline <= now), earliest first. */
  popDue(now: number): K[] {
    const out: K[] = [];
    for (let top = this.heap[0]; top !== undefined && top.at <= now; top = this.heap[0]) {
      this.remove(top);
      out.push(top.key);
    }
    return out;
  }

  /** Every key the heap holds a reference to (tests: nothing of a cleared key may stay, issue 17). */
  *held(): IterableIterator<K> {
    for (const e of this.heap) yield e.key;
  }

  private remove(e: Entry<K>): void {
    this.index.delete(e.key);
    const last = this.heap.pop();
    if (last === undefined || last === e) return;
    // The last entry fills the hole; it may belong above or below it.
    this.heap[e.i] = last;
    last.i = e.i;
    this.up(last);
    this.down(last);
  }

  // The sift loops read a slot and treat a missing one as "no such node": for a parent (index < i < length) that
  // never happens, for a child it is how the bottom of the heap is found, so no bounds are asserted.

  private up(e: Entry<K>): void {
    const h = this.heap;
    let i = e.i;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = h[p];
      if (parent === undefined || parent.at <= e.at) break;
      h[i] = parent;
      parent.i = i;
      i = p;
    }
    h[i] = e;
    e.i = i;
  }

  private down(e: Entry<K>): void {
    const h = this.heap;
    let i = e.i;
    for (;;) {
      const l = 2 * i + 1;
      const left = h[l];
      if (left === undefined) break;
      const right = h[l + 1];
      let child = left;
      if (right !== undefined && right.at < left.at) child = right;
      if (child.at >= e.at) break;
      h[i] = child;
      child.i = i;
      i = child === left ? l : l + 1;
    }
    h[i] = e;
    e.i = i;
  }
}
