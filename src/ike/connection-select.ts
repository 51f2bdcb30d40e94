/**
 * Which configured connections may answer a peer at given addresses (strongSwan's ike_cfg matching on
 * local_addrs/remote_addrs). Its own module because IKE_SA_INIT (proposal choice) and IKE_AUTH (identity choice,
 * RFC 7296 2.15 / 3.5) both use it and must not import each other.
 */
import { addressMatches } from './address-match.js';
import type { Address, IkeConnectionConfig } from './config.js';

/** Connections that could answer a peer at these addresses, best (most specific) first. */
export function connectionsFor(ctx: { connections(): readonly IkeConnectionConfig[] }, local: Address, remote: Address): IkeConnectionConfig[] {
  const scored: { c: IkeConnectionConfig; score: number }[] = [];
  for (const c of ctx.connections()) {
    const l = addressMatches(c.localAddrs, local.address);
    const r = addressMatches(c.remoteAddrs, remote.address);
    if (l > 0 && r > 0) scored.push({ c, score: l + r });
  }
  return scored.sort((a, b) => b.score - a.score).map((x) => x.c);
}
