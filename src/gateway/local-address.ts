/**
 * Local address changes seen by the driver (its netlink monitor, src/sys/netlink-monitor.ts; issue 15): which IKE
 * SAs use the address, logged and reported as a 'local-address' event. What MOBIKE (RFC 4555 3.5) or a
 * reauthentication will act on.
 */
import type { Address } from '../ike/config.js';
import type { IkeEndpoint } from '../ike/endpoint.js';
import { mobikeInitiator, mobikeStale } from '../ike/tasks/ike-mobike.js';
import type { GatewayEvent, GatewayLog, GatewayNet } from './contracts.js';

type LocalAddressEvent = Extract<GatewayEvent, { type: 'local-address' }>;

/** An address went (RTM_DELADDR, or its link went down: `why`): the event naming the IKE SAs that use it. */
export function addressGone(
  sas: readonly { readonly sa: { readonly id: number; readonly name: string; readonly local: Address } }[],
  address: string,
  why: string,
  log: GatewayLog,
): LocalAddressEvent {
  const using = sas.filter(({ sa }) => sa.local.address === address);
  const ids = using.map(({ sa }) => sa.id);
  const which = using.map(({ sa }) => `${sa.name}[${sa.id}]`);
  log('knl', ids.length > 0 ? 1 : 2, `local address ${address} gone (${why})${ids.length > 0 ? `: used by IKE_SA ${which.join(', ')}` : ''}`);
  return { type: 'local-address', address, present: false, why, ikeSaIds: ids };
}

/** An address appeared (RTM_NEWADDR, not tentative) or its link came up. */
export function addressAdded(address: string, why: string, log: GatewayLog): LocalAddressEvent {
  log('knl', 2, `local address ${address} present (${why})`);
  return { type: 'local-address', address, present: true, why, ikeSaIds: [] };
}

/**
 * RFC 4555 3.5: the IKE SAs an address going away leaves stranded move, where we initiated them and MOBIKE was
 * negotiated, to the source the routing table picks for their peer now (GatewayNet.sourceFor: bound addresses
 * only). When no other address of ours reaches the peer's address in use (its connected route went with ours),
 * the peer's announced other addresses are tried in turn, and the update goes to the first one a source reaches.
 * Those we initiated without MOBIKE are reauthenticated from that source (strongSwan does so on a roam).
 * Responder SAs stay until DPD or the peer ends them: only the initiator can move or re-create them.
 */
export function moveAway(endpoint: IkeEndpoint, net: GatewayNet, e: LocalAddressEvent, now: number, log: GatewayLog): void {
  for (const id of e.ikeSaIds) {
    const sa = endpoint.ikeSa(id);
    if (!sa) continue;
    const path = newPath(endpoint, net, id, sa.remote.address, e.address);
    if (!path) continue;
    const where = `IKE_SA ${sa.name}[${id}]: local address ${e.address} gone`;
    if (endpoint.mobikeUpdate(id, path.source, now, path.remote)) log('ike', 1, `${where}, moving to ${pathText(path)} (MOBIKE)`);
    else if (!path.remote && endpoint.reauthenticateFrom(id, path.source, now)) log('ike', 1, `${where}, no MOBIKE: reauthenticating from ${path.source}`);
  }
}

/**
 * A source of ours (not `gone`) towards the peer's address in use, else towards the first of its additional
 * addresses (RFC 4555 3.4) one reaches: `remote` is set in that case.
 */
function newPath(endpoint: IkeEndpoint, net: GatewayNet, id: number, current: string, gone: string | undefined): { source: string; remote?: string } | undefined {
  const source = net.sourceFor?.(current);
  if (source !== undefined && source !== gone) return { source };
  for (const remote of endpoint.peerAdditionalAddresses(id)) {
    const s = net.sourceFor?.(remote);
    if (s !== undefined && s !== gone) return { source: s, remote };
  }
  return undefined;
}

const pathText = (p: { source: string; remote?: string }): string => (p.remote ? `${p.source} towards the peer's other address ${p.remote}` : p.source);

/**
 * The driver's list of our addresses changed (RFC 4555 3.4, 3.6): the endpoint announces it to MOBIKE peers, and an
 * IKE SA we initiated that waits for an address (its update went unanswered from every path: mobikeStale) moves
 * to the source the routing table picks now, if that is one we listen on (the one it has too: the path may work now).
 */
export function addressesChanged(endpoint: IkeEndpoint, net: GatewayNet, addresses: readonly string[], now: number, log: GatewayLog): void {
  endpoint.setLocalAddresses(addresses, now);
  for (const { sa: info } of endpoint.listSas()) {
    const sa = endpoint.ikeSa(info.id);
    if (!sa || !mobikeInitiator(sa) || !mobikeStale(sa)) continue;
    // The same source as before too: the update from it went unanswered, but what changed may have mended the path.
    const path = newPath(endpoint, net, sa.id, sa.remote.address, undefined);
    if (!path) continue;
    if (endpoint.mobikeUpdate(sa.id, path.source, now, path.remote)) log('ike', 1, `IKE_SA ${sa.name}[${sa.id}] waited for an address: moving to ${pathText(path)} (MOBIKE)`);
  }
}
