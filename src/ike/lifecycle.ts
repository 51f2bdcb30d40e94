/**
 * Lifetimes and liveness of established SAs, as deadlines on the SA objects (no timers here: the endpoint's
 * nextTimeout() is the minimum of these, and handleTimeout() calls runTimers()).
 *
 * strongSwan's semantics (swanctl.conf): IKE rekey at rekey_time - random(rand_time), reauthentication at
 * reauth_time - random(rand_time), hard end at (rekey_time or reauth_time) + over_time; CHILD rekey at
 * rekey_time - random(rand_time), hard end at life_time. DPD (RFC 7296 2.4): an empty INFORMATIONAL when the
 * peer was silent for dpd_delay. NAT keepalives (RFC 3948 section 4) when we are behind a NAT.
 */
import type { EndpointContext } from './context.js';
import { connOf, type IkeSa } from './ike-sa.js';
import { ChildCreateTask } from './tasks/child-create.js';
import { DeleteChildTask } from './tasks/child-delete.js';
import { DeleteIkeTask } from './tasks/ike-delete.js';
import { DpdTask } from './tasks/ike-dpd.js';
import { IkeRekeyTask } from './tasks/ike-rekey.js';

/** The earliest lifecycle deadline of `sa` and its CHILD SAs. */
export function nextDeadline(ctx: EndpointContext, sa: IkeSa): number | undefined {
  let next: number | undefined;
  const take = (t: number | undefined): void => {
    if (t !== undefined && (next === undefined || t < next)) next = t;
  };
  for (const t of sa.timers) take(t.at);
  if (sa.state === 'ESTABLISHED' || sa.state === 'REKEYING' || sa.state === 'REKEYED') {
    take(sa.expireAt);
    take(sa.keepaliveAt);
    if (sa.state === 'ESTABLISHED') {
      take(sa.rekeyAt);
      take(sa.reauthAt);
      const dpd = connOf(sa, 'nextDeadline').dpdDelayMs;
      if (dpd > 0 && !sa.dpdPending) take(sa.lastInbound + dpd);
    }
    for (const c of sa.children) {
      if (c.state === 'INSTALLED') take(c.rekeyAt);
      if (c.state === 'REKEYED') take(c.deleteBy);
      take(c.expireAt);
    }
  }
  return next;
}

/** The earliest deadline of one SA: retransmission, half-open timeout, lifetimes and timers, reassembly age. */
export function saDeadline(ctx: EndpointContext, sa: IkeSa): number | undefined {
  let next = nextDeadline(ctx, sa);
  const take = (t: number | undefined): void => {
    if (t !== undefined && (next === undefined || t < next)) next = t;
  };
  take(sa.pending?.deadline);
  if (sa.state === 'CONNECTING') take(sa.halfOpenDeadline);
  const age = ctx.settings.reassembly.timeoutMs;
  for (const r of [sa.reassembly.request, sa.reassembly.response]) if (r?.startedAt !== undefined) take(r.startedAt + age + 1);
  return next;
}

export function runTimers(ctx: EndpointContext, sa: IkeSa, now: number): void {
  const due = sa.timers.filter((t) => t.at <= now);
  if (due.length) {
    sa.timers = sa.timers.filter((t) => t.at > now);
    for (const t of due) t.fn(now);
  }
  if (sa.state === 'DESTROYING' || sa.state === 'CREATED' || sa.state === 'CONNECTING') return;
  if (sa.expireAt !== undefined && sa.expireAt <= now) {
    sa.expireAt = undefined;
    ctx.log('ike', 0, sa, `IKE_SA ${sa.name}[${sa.id}] reached its hard lifetime (over_time), deleting it`);
    ctx.queueTask(sa, new DeleteIkeTask(ctx, sa), now);
    return;
  }
  if (sa.keepaliveAt !== undefined && sa.keepaliveAt <= now) {
    ctx.sendKeepalive(sa);
    sa.keepaliveAt = now + ctx.settings.keepaliveMs;
  }
  if (sa.state === 'ESTABLISHED') {
    if (sa.rekeyAt !== undefined && sa.rekeyAt <= now) {
      sa.rekeyAt = undefined;
      ctx.queueTask(sa, new IkeRekeyTask(ctx, sa), now);
    }
    if (sa.reauthAt !== undefined && sa.reauthAt <= now) {
      sa.reauthAt = undefined;
      ctx.reauthenticate(sa, now);
    }
    const dpd = connOf(sa, 'runTimers').dpdDelayMs;
    if (dpd > 0 && !sa.dpdPending && sa.lastInbound + dpd <= now) {
      sa.dpdPending = true;
      ctx.queueTask(sa, new DpdTask(ctx, sa), now);
    }
  }
  for (const c of [...sa.children]) {
    if (c.expireAt !== undefined && c.expireAt <= now) {
      c.expireAt = undefined;
      ctx.log('chd', 0, sa, `CHILD_SA ${c.name}{${c.id}} reached its hard lifetime (life_time), deleting it`);
      if (c.state === 'REKEYING') c.state = 'INSTALLED';
      ctx.queueTask(sa, new DeleteChildTask(ctx, sa, c), now);
      continue;
    }
    if (c.state === 'REKEYED' && c.deleteBy !== undefined && c.deleteBy <= now) {
      // The peer should have deleted the SA it replaced (RFC 7296 2.8); it did not (it could not use our answer).
      c.deleteBy = undefined;
      ctx.log('chd', 1, sa, `peer did not delete the rekeyed CHILD_SA ${c.name}{${c.id}}, deleting it`);
      ctx.queueTask(sa, new DeleteChildTask(ctx, sa, c), now);
      continue;
    }
    if (c.state === 'INSTALLED' && c.rekeyAt !== undefined && c.rekeyAt <= now && sa.state === 'ESTABLISHED') {
      c.rekeyAt = undefined;
      ctx.queueTask(sa, new ChildCreateTask(ctx, sa, c.config, { rekey: c }), now);
    }
  }
}
