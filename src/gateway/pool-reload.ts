/**
 * Address pools across a configuration reload (SIGHUP, vici load-pool): what the gateway core (gateway.ts) hands
 * the endpoint's pool table (RFC 7296 3.15 configuration payload addresses come from it).
 */
import type { ConfigDiff } from '../config/diff.js';
import { AddressPool, type AddressPoolConfig } from '../ike/pool.js';
import type { GatewayLog } from './contracts.js';

/**
 * Pools added, removed or redefined by a reload: new ones serve the next request; a pool with addresses online
 * keeps its leases and is replaced or removed only when it has none (charon's vici_attribute.c refuses too).
 * Returns the new table, built from `current`.
 */
export function reloadPools(
  current: Iterable<readonly [string, AddressPool]>,
  pools: readonly AddressPoolConfig[],
  diff: ConfigDiff['pools'],
  log: GatewayLog,
): Map<string, AddressPool> {
  const live = new Map(current);
  for (const name of [...diff.removed, ...diff.changed]) {
    const p = live.get(name);
    if (p && p.stats().online > 0) {
      log('cfg', 0, `pool ${name} has ${p.stats().online} online lease(s): kept as it was`);
      continue;
    }
    live.delete(name);
    if (diff.removed.includes(name)) log('cfg', 1, `removed pool ${name}`);
  }
  for (const cfg of pools)
    if ((diff.added.includes(cfg.name) || diff.changed.includes(cfg.name)) && !live.has(cfg.name)) {
      const pool = new AddressPool(cfg);
      live.set(cfg.name, pool);
      log('cfg', 1, `${diff.added.includes(cfg.name) ? 'added' : 'replaced'} pool ${cfg.name} (${pool.stats().size} addresses)`);
    }
  return live;
}
