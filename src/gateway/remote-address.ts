/**
 * Where an initiation goes (issue 15): remote_addrs names resolved through the driver's resolver cache (strongSwan
 * resolves when initiating, charon's host_create_from_dns), and the local address the host's routing table picks
 * when the connection names none (kernel_net.get_source_addr). Used by the gateway core (gateway.ts).
 */
import type { Address, IkeConnectionConfig } from '../ike/config.js';
import type { PendingRemote } from '../ike/endpoint.js';
import type { GatewayLog, GatewayNet, GatewayResolver } from './contracts.js';

/** An initiation that needs a remote_addrs name the resolver has no address for (yet). */
export class UnresolvedNameError extends Error {
  override readonly name = 'UnresolvedNameError';
}

/** A literal IPv4/IPv6 address (not %any, a name, a range or a subnet): one the kernel can route. */
export function isConcreteAddress(a: string): boolean {
  return /^[0-9a-fA-F:.]+$/.test(a) && (a.includes('.') || a.includes(':')) && a !== '0.0.0.0' && a !== '::';
}

/** A DNS name in remote_addrs (strongSwan accepts FQDNs there): not %any, an address, a subnet or a range. */
export function isDnsName(a: string): boolean {
  return !a.startsWith('%') && !a.includes('/') && !a.includes(':') && /[a-zA-Z]/.test(a) && /^[a-zA-Z0-9._-]+$/.test(a) && !a.startsWith('.') && !a.startsWith('-');
}

/**
 * The addresses for endpoint.initiate (a new IKE SA): a DNS name in remote_addrs resolved through the driver's
 * resolver (strongSwan resolves when initiating), and, when the connection names no local address (local_addrs
 * unset or %any), the driver's routing-table source for the peer, as charon picks it, instead of an unspecified
 * address that would leave from whichever socket comes first (the loopback one: EINVAL). Throws
 * UnresolvedNameError when a name has no address yet.
 */
export function initiationAddresses(
  conn: IkeConnectionConfig,
  net: GatewayNet,
  resolver: GatewayResolver | undefined,
  log: GatewayLog,
): { local?: Address; remote?: Address } {
  const out: { local?: Address; remote?: Address } = {};
  let remote = conn.remoteAddrs.find(isConcreteAddress);
  const name = remote === undefined ? conn.remoteAddrs.find(isDnsName) : undefined;
  if (name !== undefined) {
    remote = resolveRemote(resolver, conn.name, name, log);
    out.remote = { address: remote, port: conn.remotePort };
  }
  if (!conn.localAddrs.some(isConcreteAddress) && net.sourceFor && remote !== undefined) {
    const source = net.sourceFor(remote);
    if (source !== undefined) out.local = { address: source, port: conn.localPort };
    else log('cfg', 1, `no source address found for ${remote}, leaving it to the socket layer`);
  }
  return out;
}

/**
 * The address of a remote_addrs name from the driver's resolver cache. Throws UnresolvedNameError with the
 * reason when there is none yet, so `up` says why and start_action = start retries at namesResolved.
 */
export function resolveRemote(r: GatewayResolver | undefined, connName: string, name: string, log: GatewayLog): string {
  if (!r) throw new UnresolvedNameError(`connection '${connName}': remote_addrs name '${name}' cannot be resolved (no resolver)`);
  const address = r.lookup(name);
  if (address === undefined) {
    r.refresh?.(name);
    const why = r.failure?.(name);
    throw new UnresolvedNameError(`connection '${connName}': remote_addrs name '${name}' not resolved${why ? `: ${why}` : ' yet'}`);
  }
  // The next initiation (a retry, a restart) sees a fresh answer if the name moved meanwhile.
  r.refresh?.(name);
  log('cfg', 1, `'${connName}': remote_addrs ${name} resolved to ${address}`);
  return address;
}

/**
 * Where a restart of `conn` should go: the current address of its remote_addrs name when it has one
 * (re-resolved, as strongSwan does on each attempt), else `previous`. Asks the resolver for a fresh answer; while
 * one runs, the answer is a PendingRemote: the attempt waits for it and goes to the address it gives.
 */
export function restartRemote(conn: IkeConnectionConfig | undefined, r: GatewayResolver | undefined, previous: Address, log: GatewayLog): Address | PendingRemote {
  const name = conn && !conn.remoteAddrs.some(isConcreteAddress) ? conn.remoteAddrs.find(isDnsName) : undefined;
  if (!conn || name === undefined || !r) return previous;
  // Forced: the peer stopped answering or never did, so the cached answer's lifetime is no reason to trust it.
  const fresh = r.refresh?.(name, { force: true });
  const current = (): Address => {
    const address = r.lookup(name);
    if (address === undefined || address === previous.address) return previous;
    log('cfg', 1, `'${conn.name}': remote_addrs ${name} now resolves to ${address} (was ${previous.address})`);
    return { address, port: conn.remotePort };
  };
  // The new IKE SA waits for the answer under way, so this very attempt goes where the name points now.
  return fresh ? { meanwhile: previous, fresh: fresh.then(current) } : current();
}
