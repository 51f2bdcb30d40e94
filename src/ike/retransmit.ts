/**
 * Retransmission timing as a pure function of (settings, attempt), so it is testable alone
 * (RFC 7296 section 2.1; strongSwan's task_manager.c retransmission_timeout and its defaults:
 * retransmit_timeout 4 s, retransmit_base 1.8, retransmit_tries 5, no jitter, no cap).
 */
export interface RetransmitSettings {
  /** First timeout in milliseconds. */
  readonly timeoutMs: number;
  readonly base: number;
  /** Retransmissions before giving up (the original send is not counted). */
  readonly tries: number;
  /** Upper bound on a single timeout, 0 = none. */
  readonly limitMs: number;
  /** Percentage by which each timeout is reduced at random, 0 = none (strongSwan's retransmit_jitter). */
  readonly jitterPercent: number;
}

export const DEFAULT_RETRANSMIT: RetransmitSettings = { timeoutMs: 4000, base: 1.8, tries: 5, limitMs: 0, jitterPercent: 0 };

/**
 * The timeout after send number `attempt` (0 = the original transmission), or undefined when the last allowed
 * retransmission has been sent and its timeout expired. `random01` in [0,1) draws the jitter.
 */
export function retransmissionTimeout(s: RetransmitSettings, attempt: number, random01 = 0): number | undefined {
  if (attempt > s.tries) return undefined;
  let t = s.timeoutMs * Math.pow(s.base, attempt);
  if (s.limitMs > 0) t = Math.min(t, s.limitMs);
  if (s.jitterPercent > 0) t -= t * (s.jitterPercent / 100) * random01;
  return Math.round(t);
}

/** Total time before the SA is declared dead: the sum of all timeouts (165 s with strongSwan's defaults). */
export function totalRetransmitTime(s: RetransmitSettings): number {
  let total = 0;
  for (let i = 0; ; i++) {
    const t = retransmissionTimeout(s, i);
    if (t === undefined) return total;
    total += t;
  }
}
