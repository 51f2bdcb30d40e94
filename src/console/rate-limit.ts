/**
 * Login rate limit: failed attempts are counted per client address and per user name in a sliding window;
 * past the limit further attempts are refused (HTTP 429 with Retry-After) without checking the password, so a
 * guesser gets a handful of tries per window whichever names or addresses it rotates. The clock is passed in.
 */
export interface RateLimitOptions {
  /** Failures allowed per window and key (default 5). */
  readonly maxFailures?: number;
  /** Window length in ms (default 15 minutes). */
  readonly windowMs?: number;
}

export class LoginLimiter {
  private readonly failures = new Map<string, number[]>();
  private readonly max: number;
  private readonly windowMs: number;

  constructor(opts: RateLimitOptions = {}) {
    this.max = opts.maxFailures ?? 5;
    this.windowMs = opts.windowMs ?? 15 * 60_000;
  }

  /** Milliseconds until one of `keys` may try again, or 0 when none is blocked. */
  retryAfter(keys: readonly string[], now: number): number {
    let wait = 0;
    for (const k of keys) {
      const times = this.recent(k, now);
      if (times.length >= this.max) wait = Math.max(wait, (times[times.length - this.max] ?? now) + this.windowMs - now);
    }
    return wait;
  }

  fail(keys: readonly string[], now: number): void {
    for (const k of keys) {
      const times = this.recent(k, now);
      times.push(now);
      this.failures.set(k, times.slice(-this.max * 2));
    }
    // Bound memory against address-rotating floods: forget the oldest keys.
    while (this.failures.size > 50_000) {
      const first = this.failures.keys().next().value;
      if (first === undefined) break;
      this.failures.delete(first);
    }
  }

  /** A successful login clears its user's count (not the address's: a guesser who knows one password keeps its record). */
  succeed(key: string): void {
    this.failures.delete(key);
  }

  private recent(key: string, now: number): number[] {
    return (this.failures.get(key) ?? []).filter((t) => now - t < this.windowMs);
  }
}
