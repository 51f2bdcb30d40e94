/**
 * What happens after an IKE SA goes, and reauthentication: strongSwan's keyingtries (a fresh IKE SA after a setup
 * timed out), dpd_action after a dead peer (RFC 7296 2.4) and close_action after the peer's Delete (1.4.1), and
 * reauthentication (RFC 7296 2.8.3) make-before-break or break-before-make. Each starts IKE SAs through `start`,
 * the endpoint's own way of starting one, so this module does not import the endpoint.
 */
import type { Address, ChildConfig, IkeConnectionConfig } from './config.js';
import type { EndpointContext } from './context.js';
import type { IkeDownReason } from './events.js';
import type { IkeSa } from './ike-sa.js';
import { ReauthBreakTask } from './tasks/ike-reauth.js';

export type StartIke = (conn: IkeConnectionConfig, child: ChildConfig | undefined, now: number, at: { local: Address; remote: Address }) => IkeSa;

export function uniqueConfigs(list: readonly ChildConfig[]): ChildConfig[] {
  return [...new Set(list)];
}

/**
 * After `sa` (of `conn`, carrying CHILD SAs of `configs`) went down for `reason`: try again (keyingtries), or
 * apply dpd_action/close_action (start a new IKE SA, or report a trap to install).
 */
export function afterDown(ctx: EndpointContext, sa: IkeSa, conn: IkeConnectionConfig, configs: readonly ChildConfig[], reason: IkeDownReason, wasUp: boolean, now: number, start: StartIke): void {
  // keyingtries (strongSwan): an initiator whose setup timed out starts another retransmission sequence with
  // a fresh IKE SA, up to keyingtries attempts in all (0 = for ever).
  if (!wasUp && reason === 'timeout' && sa.initiator && (conn.keyingTries === 0 || sa.keyingTry < conn.keyingTries)) {
    const child = sa.plannedChild;
    ctx.log('ike', 0, undefined, `peer not responding, trying again (${sa.keyingTry + 1}/${conn.keyingTries === 0 ? 'unlimited' : conn.keyingTries})`);
    const fresh = start(conn, child, now, { local: { address: sa.local.address, port: conn.localPort }, remote: ctx.remoteFor(conn, { address: sa.remote.address, port: conn.remotePort }) });
    fresh.keyingTry = sa.keyingTry + 1;
    fresh.pendingChildren = sa.pendingChildren;
    fresh.reauthOf = sa.reauthOf;
    fresh.vipHint = sa.vipHint;
    return;
  }
  // A peer that reauthenticated (make-before-break) deletes the old IKE SA once the new one is up: not a close.
  const replaced = [...ctx.establishedWith(conn.name, sa.remoteId)].some((o) => o !== sa && o.conn === conn);
  if (replaced && reason === 'deleted-by-peer') return;
  // dpd_action after a dead peer, close_action after the peer closed (strongSwan semantics).
  const action = (c: ChildConfig): string => (reason === 'timeout' ? c.dpdAction : reason === 'deleted-by-peer' ? c.closeAction : 'none');
  const restart = configs.filter((c) => { const a = action(c); return a === 'restart' || a === 'start'; });
  for (const c of configs) if (action(c) === 'trap') ctx.emit({ type: 'trap', connection: conn.name, child: c.name });
  if (restart.length > 0 && !conn.remoteAddrs.every((a) => a.startsWith('%'))) {
    ctx.log('ike', 0, undefined, `restarting CHILD_SA ${restart.map((c) => c.name).join(', ')} of ${conn.name} (${reason === 'timeout' ? 'dpd_action' : 'close_action'})`);
    const fresh = start(conn, restart[0], now, { local: { address: sa.local.address, port: conn.localPort }, remote: ctx.remoteFor(conn, { address: sa.remote.address, port: conn.remotePort }) });
    fresh.pendingChildren = restart.slice(1);
  }
}

/** Reauthenticates `sa` (make-before-break or break-before-make, per settings). */
export function reauthenticate(ctx: EndpointContext, sa: IkeSa, now: number, start: StartIke): void {
  const conn = sa.conn;
  if (!conn || sa.state !== 'ESTABLISHED' || !sa.initiator && conn.remoteAddrs.every((a) => a.startsWith('%'))) {
    // A responder that cannot reach the peer's address on its own (road warrior) lets the peer reauthenticate.
    if (sa.state === 'ESTABLISHED') ctx.log('ike', 1, sa, 'reauthentication needs an initiator-side address; leaving it to the peer');
    return;
  }
  const children = uniqueConfigs(sa.children.map((c) => c.config));
  ctx.log('ike', 0, sa, `reauthenticating IKE_SA ${sa.name}[${sa.id}] (${ctx.settings.makeBeforeBreak ? 'make-before-break' : 'break-before-make'})`);
  if (ctx.settings.makeBeforeBreak) {
    const fresh = start(conn, children[0], now, { local: { address: sa.local.address, port: conn.localPort }, remote: ctx.remoteFor(conn, { address: sa.remote.address, port: conn.remotePort }) });
    fresh.reauthOf = sa;
    fresh.vipHint = sa.virtualIps;
    sa.reauthBy = fresh;
    fresh.pendingChildren = children.slice(1);
  } else {
    const remote = ctx.remoteFor(conn, { address: sa.remote.address, port: conn.remotePort });
    const local = { address: sa.local.address, port: conn.localPort };
    const vips = sa.virtualIps;
    // Break-before-make: the new IKE SA starts once the old one is gone (answered or timed out). Queued behind any
    // CHILD SA exchange in flight, so the children it re-creates include what that exchange created.
    ctx.queueTask(sa, new ReauthBreakTask(ctx, sa, (current, t) => {
      const list = current.length > 0 ? current : children;
      const fresh = start(conn, list[0], t, { local, remote });
      fresh.vipHint = vips;
      fresh.pendingChildren = list.slice(1);
    }), now);
  }
}
