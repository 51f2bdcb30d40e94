/**
 * The operator's commands on IKE and CHILD SAs (swanctl --initiate/--terminate/--rekey, vici), as exchanges
 * queued on the SA's window (RFC 7296 2.3). The endpoint finds the SA, runs the command and settles what it
 * touched; each returns whether it was accepted.
 */
import type { Address, ChildConfig, IkeConnectionConfig } from './config.js';
import type { EndpointContext } from './context.js';
import { ChildCreateTask } from './tasks/child-create.js';
import { DeleteChildTask } from './tasks/child-delete.js';
import { DeleteIkeTask } from './tasks/ike-delete.js';
import { DpdTask } from './tasks/ike-dpd.js';
import { IkeRekeyTask } from './tasks/ike-rekey.js';
import type { ChildSa, IkeSa } from './ike-sa.js';

/** Where and with which CHILD SA `initiate` starts an IKE SA of `conn`; a clear error when it cannot. */
export function initiateTarget(conn: IkeConnectionConfig, opts: { child?: string; local?: Address; remote?: Address }): { child: ChildConfig | undefined; local: Address; remote: Address } {
  const child = opts.child !== undefined ? conn.children.find((c) => c.name === opts.child) : conn.children[0];
  if (opts.child !== undefined && !child) throw new Error(`connection '${conn.name}' has no child '${opts.child}'`);
  const remote = opts.remote ?? { address: firstConcrete(conn.remoteAddrs) ?? '', port: conn.remotePort };
  if (remote.address === '') throw new Error(`connection '${conn.name}' has no concrete remote_addrs to initiate to`);
  const local = opts.local ?? { address: firstConcrete(conn.localAddrs) ?? (remote.address.includes(':') ? '::' : '0.0.0.0'), port: conn.localPort };
  return { child, local, remote };
}

/** Deletes an IKE SA (and with it its CHILD SAs) with an INFORMATIONAL Delete (RFC 7296 1.4.1). */
export function terminateIke(ctx: EndpointContext, sa: IkeSa, now: number): boolean {
  if (sa.state !== 'ESTABLISHED') ctx.destroySa(sa, 'deleted', 'terminated before establishment');
  else ctx.queueTask(sa, new DeleteIkeTask(ctx, sa), now);
  return true;
}

/** Deletes one CHILD SA (RFC 7296 1.4.1). */
export function terminateChild(ctx: EndpointContext, sa: IkeSa, c: ChildSa, now: number): boolean {
  ctx.queueTask(sa, new DeleteChildTask(ctx, sa, c), now);
  return true;
}

/** Creates another CHILD SA of the IKE SA's connection with CREATE_CHILD_SA (RFC 7296 1.3.1). */
export function createChild(ctx: EndpointContext, sa: IkeSa, childName: string, now: number): boolean {
  const cfg = sa.conn?.children.find((c) => c.name === childName);
  if (!cfg || sa.state !== 'ESTABLISHED') return false;
  ctx.queueTask(sa, new ChildCreateTask(ctx, sa, cfg), now);
  return true;
}

/** Rekeys a CHILD SA now (RFC 7296 1.3.3). */
export function rekeyChild(ctx: EndpointContext, sa: IkeSa, c: ChildSa, now: number): boolean {
  ctx.queueTask(sa, new ChildCreateTask(ctx, sa, c.config, { rekey: c }), now);
  return true;
}

/** Rekeys an IKE SA now (RFC 7296 1.3.2), or reauthenticates it (2.8.3) with `reauth`. */
export function rekeyIke(ctx: EndpointContext, sa: IkeSa, now: number, reauth: boolean): boolean {
  if (sa.state !== 'ESTABLISHED') return false;
  if (reauth) ctx.reauthenticate(sa, now);
  else ctx.queueTask(sa, new IkeRekeyTask(ctx, sa), now);
  return true;
}

/** Sends an empty INFORMATIONAL (liveness check, RFC 7296 2.4). */
export function checkLiveness(ctx: EndpointContext, sa: IkeSa, now: number): boolean {
  if (sa.state !== 'ESTABLISHED') return false;
  ctx.queueTask(sa, new DpdTask(ctx, sa), now);
  return true;
}

function firstConcrete(addrs: readonly string[]): string | undefined {
  return addrs.find((a) => a !== '%any' && a !== '%any4' && a !== '%any6' && !a.includes('/') && !a.includes('-'));
}

/**
 * The ESP engine reports a byte/packet lifetime of CHILD SA `c`: soft starts a rekey, hard deletes it (strongSwan's
 * rekey_bytes/packets and life_bytes/packets). Returns whether a deadline moved (the endpoint then runs timers).
 */
export function espLifetimeReached(c: ChildSa, kind: 'soft' | 'hard', now: number): boolean {
  if (kind === 'hard') c.expireAt = now;
  else if (c.state === 'INSTALLED') c.rekeyAt = now;
  else return false;
  return true;
}
