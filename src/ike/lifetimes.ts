/**
 * The deadlines of a newly established IKE SA (strongSwan's swanctl.conf semantics): rekey at
 * rekey_time - random(rand_time), reauthentication at reauth_time - random(rand_time), hard end at (rekey_time or
 * reauth_time) + over_time, NAT keepalives (RFC 3948 section 4) when we are behind a NAT. Set by IKE_AUTH (RFC 7296
 * 1.2) and by an IKE rekey (2.8); acted on by lifecycle.ts. Its own module so the exchanges that set them do not
 * import lifecycle.ts, which starts those exchanges.
 */
import type { IkeConnectionConfig } from './config.js';
import type { EndpointContext } from './context.js';
import type { IkeSa } from './ike-sa.js';

/**
 * A soft limit (rekey after time, bytes or packets) minus a random part of `rand` (strongSwan's apply_jitter in
 * child_cfg.c), with the random part capped at half the limit: rand defaults to life - rekey, which exceeds rekey
 * when the lifetime is more than twice the rekey value (rekey_packets = 20, life_packets = 1000), and the limit would
 * then reach zero or below: a rekey at once and again, or none at all.
 */
export function softLimit(ctx: Pick<EndpointContext, 'jitter'>, limit: number, rand: number): number {
  return limit - ctx.jitter(Math.min(Math.max(0, rand), Math.floor(limit / 2)));
}

export function scheduleIkeLifetimes(ctx: EndpointContext, sa: IkeSa, c: IkeConnectionConfig, now: number): void {
  sa.rekeyAt = c.rekeyTimeMs > 0 ? now + softLimit(ctx, c.rekeyTimeMs, c.randTimeMs) : undefined;
  sa.reauthAt = c.reauthTimeMs > 0 ? now + softLimit(ctx, c.reauthTimeMs, c.randTimeMs) : undefined;
  const base = c.reauthTimeMs > 0 ? c.reauthTimeMs : c.rekeyTimeMs;
  sa.expireAt = base > 0 ? now + base + c.overTimeMs : undefined;
  sa.keepaliveAt = sa.natLocalReal && ctx.settings.keepaliveMs > 0 ? now + ctx.settings.keepaliveMs : undefined;
}
