/**
 * A binary min-heap of deadlines for the endpoint's timers, so that nextTimeout() and handleTimeout() cost
 * O(log n) in the number of SAs instead of a scan of all of them (issue 11).
 *
 * Entries are never removed from the middle: rescheduling a key pushes a new entry and records the key's current
 * deadline in a map; entries whose time no longer matches are stale and skipped when they reach the top (lazy
 * deletion). The heap is compacted when stale entries outnumber live ones, so it stays O(live keys).
 */
export class TimerHeap<K> {
  private heap: { at: number; key: K }[] = [];
  private readonly current = new Map<K, number>();

  /** Live keys (each with one deadline). */
  get size(): number {
    return this.current.size;
  }

  /** Sets (or clears, with undefined) the deadline of `key`. */
  set(key: K, at: number | undefined): void {
    const was = this.current.get(key);
    if (was === at) return;
    if (at === undefined) {
      this.current.delete(key);
    } else {
      this.current.set(key, at);
      this.push({ at, key });
    }
    if (this.heap.length > 64 && this.heap.length > 2 * this.current.size) this.compact();
  }

  get(key: K): number | undefined {
    return this.current.get(key);
  }

  /** The earliest live deadline. */
  peek(): number | undefined {
    this.dropStale();
    return this.heap[0]?.at;
  }

  /** Removes and returns every key due at `now` (deadline <= now), earliest first. */
  popDue(now: number): K[] {
    const out: K[] = [];
    for (;;) {
      this.dropStale();
      const top = this.heap[0];
      if (!top || top.at > now) return out;
      this.pop();
      this.current.delete(top.key);
      out.push(top.key);
    }
  }

  private dropStale(): void {
    for (;;) {
      const top = this.heap[0];
      if (top === undefined || this.current.get(top.key) === top.at) return;
      this.pop();
    }
  }

  private compact(): void {
    const live = this.heap.filter((e) => this.current.get(e.key) === e.at);
    // Duplicates (a key set to t, then t', then t again) keep one entry per key.
    const seen = new Set<K>();
    this.heap = [];
    for (const e of live) {
      if (seen.has(e.key)) continue;
      seen.add(e.key);
      this.push(e);
    }
  }

  // The sift loops read a slot and treat a missing one as "no such node": for a parent (index < i < length) that
  // never happens, for a child it is how the bottom of the heap is found, so no bounds are asserted.

  private push(e: { at: number; key: K }): void {
    const h = this.heap;
    let i = h.length;
    h.push(e);
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = h[p];
      if (parent === undefined || parent.at <= e.at) break;
      h[i] = parent;
      i = p;
    }
    h[i] = e;
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop();
    if (last === undefined || h.length === 0) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const left = h[l];
      if (left === undefined) break;
      const right = h[l + 1];
      let c = l;
      let child = left;
      if (right !== undefined && right.at < left.at) {
        c = l + 1;
        child = right;
      }
      if (child.at >= last.at) break;
      h[i] = child;
      i = c;
    }
    h[i] = last;
  }
}
