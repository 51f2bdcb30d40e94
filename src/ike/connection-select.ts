/**
 * Which configured connections may answer a peer, best first (strongSwan's backend_manager: ike_cfg matching on
 * local_addrs/remote_addrs, then peer_cfg matching on identities with match levels). Its own module because
 * IKE_SA_INIT (proposal choice) and IKE_AUTH (identity choice, RFC 7296 2.15 / 3.5) both use it and must not import
 * each other. Sorting is stable: equally specific connections keep their configuration order.
 */
import { addressMatches } from './address-match.js';
import type { Address, IkeConnectionConfig } from './config.js';
import { identityMatch, type Identity } from './identity.js';
import { parseIp } from '../net/ip-address.js';
import { hostSelector, isSubset, narrow, resolveConfigured, type TrafficSelector } from './traffic-selector.js';

/** Connections that could answer a peer at these addresses, best (most specific: exact > range/subnet > %any) first. */
export function connectionsFor(ctx: { connections(): readonly IkeConnectionConfig[] }, local: Address, remote: Address): IkeConnectionConfig[] {
  return addressScored(ctx.connections(), local, remote)
    .sort((a, b) => b.address - a.address)
    .map((x) => x.c);
}

function addressScored(conns: readonly IkeConnectionConfig[], local: Address, remote: Address): { c: IkeConnectionConfig; address: number }[] {
  const out: { c: IkeConnectionConfig; address: number }[] = [];
  for (const c of conns) {
    const l = addressMatches(c.localAddrs, local.address);
    const r = addressMatches(c.remoteAddrs, remote.address);
    if (l > 0 && r > 0) out.push({ c, address: l + r });
  }
  return out;
}

export interface PeerMatchInput {
  readonly local: Address;
  readonly remote: Address;
  /** The peer's IDi. */
  readonly remoteId: Identity;
  /** The IDr the initiator asked for, if any. */
  readonly wantedLocal?: Identity | undefined;
  /** Our identity under a connection (its configured local id, or the default). */
  readonly localIdentity: (c: IkeConnectionConfig) => Identity;
  /** How well the proposed traffic selectors fit a connection's CHILD configs (0 none, higher better). */
  readonly tsFit?: ((c: IkeConnectionConfig) => number) | undefined;
}

/**
 * IKE_AUTH peer config choice, best first: identity match quality (remote id against IDi plus, when the peer named
 * one, IDr against our id; exact > wildcard > %any), then address match quality, then traffic selector fit. Only
 * connections whose ids match at all are returned. strongSwan's backend_manager sums the same id levels but only
 * moves a config ahead when it is better on ids or addresses and no worse on the other; where the two disagree
 * (better ids, worse addresses) its order depends on configuration order, so we settle it: ids first. strongSwan
 * uses traffic selectors for the CHILD config only; here they break the remaining ties between connections.
 */
export function peerConfigsFor(ctx: { connections(): readonly IkeConnectionConfig[] }, input: PeerMatchInput): IkeConnectionConfig[] {
  const scored: { c: IkeConnectionConfig; id: number; address: number; ts: number }[] = [];
  for (const { c, address } of addressScored(ctx.connections(), input.local, input.remote)) {
    const other = identityMatch(c.remote.id, input.remoteId);
    if (other === 0) continue;
    // The initiator names whom it wants (IDr, RFC 7296 3.5): our id must satisfy it, with its wildcards.
    const me = input.wantedLocal ? identityMatch(input.wantedLocal, input.localIdentity(c)) : 0;
    if (input.wantedLocal && me === 0) continue;
    scored.push({ c, id: other + me, address, ts: input.tsFit?.(c) ?? 0 });
  }
  return scored.sort((a, b) => b.id - a.id || b.address - a.address || b.ts - a.ts).map((x) => x.c);
}

/**
 * How well the peer's proposed TSi/TSr fit a connection's CHILD configs: per side 2 when every proposed selector
 * lies within ours (nothing to narrow), 1 when narrowing leaves something (RFC 7296 2.9), 0 when nothing is left;
 * the best child counts, 0 when some side of every child fails. Our 'dynamic' is our address; the peer's 'dynamic'
 * is its address, or any address when the connection hands out virtual IPs (its TSi will be narrowed to one).
 */
export function trafficSelectorFit(
  conn: IkeConnectionConfig,
  proposed: { readonly tsi: readonly TrafficSelector[]; readonly tsr: readonly TrafficSelector[] },
  local: Address,
  remote: Address,
): number {
  const host = (a: string): Uint8Array[] => {
    const ip = parseIp(a);
    return ip && ip.some((b) => b !== 0) ? [ip] : [];
  };
  const side = (prop: readonly TrafficSelector[], ours: readonly TrafficSelector[]): number => {
    if (prop.length === 0 || narrow(prop, ours).length === 0) return 0;
    return prop.every((p) => ours.some((o) => isSubset(p, o))) ? 2 : 1;
  };
  let best = 0;
  for (const cfg of conn.children) {
    const ours = resolveConfigured(cfg.localTs, host(local.address));
    const theirs =
      conn.pools.length > 0
        ? cfg.remoteTs.flatMap((t) => ('dynamic' in t ? [4, 16].map((n) => ({ ...hostSelector(new Uint8Array(n), t.ipProtocol, t.startPort, t.endPort), endAddr: new Uint8Array(n).fill(0xff) })) : [t]))
        : resolveConfigured(cfg.remoteTs, host(remote.address));
    // TSi is the initiator's side (our remote), TSr the responder's (our local).
    const r = side(proposed.tsi, theirs);
    const l = side(proposed.tsr, ours);
    if (r > 0 && l > 0) best = Math.max(best, r + l);
  }
  return best;
}
