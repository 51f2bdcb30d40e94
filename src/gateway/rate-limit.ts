/**
 * "Logged once, rate limited" (issue 15): the first occurrence of a kind of event is logged at once; repeats
 * within `intervalMs` are only counted, and the next line after the interval says how many were not logged.
 * Sans-IO: the caller passes the time.
 */
export class RateLimitedLog {
  private readonly last = new Map<string, { at: number; suppressed: number }>();

  constructor(private readonly intervalMs = 10_000) {}

  /**
   * One occurrence of `key` at `now`: calls `emit(suppressed)` when it is due (the first one, or the first after
   * the interval, with how many repeats went unlogged meanwhile), and returns whether it did.
   */
  note(key: string, now: number, emit: (suppressed: number) => void): boolean {
    const s = this.last.get(key);
    if (s && now - s.at < this.intervalMs) {
      s.suppressed++;
      return false;
    }
    emit(s?.suppressed ?? 0);
    this.last.set(key, { at: now, suppressed: 0 });
    // Bounded: keys are connection/child names and reasons, but a long-lived daemon must not grow without end.
    if (this.last.size > 1024) for (const [k, v] of this.last) if (now - v.at >= this.intervalMs) this.last.delete(k);
    return true;
  }
}
