/**
 * HA metrics (issue 20) in the daemon's Prometheus registry (metrics.ts): the role, whether the store answers,
 * the replication lag (age of the oldest change not yet in the store), the time since the last write, and the
 * changes waiting. Read from the HA driver's status when scraped; labels are fixed sets.
 */
import { Gauge, type Registry } from 'prom-client';
import type { HaRole, HaStatus } from './ha-driver.js';

const ROLES: readonly HaRole[] = ['starting', 'standby', 'active', 'deposed'];

export function registerHaMetrics(r: Registry, status: () => HaStatus): void {
  new Gauge({
    name: 'cygnet_ha_role',
    help: 'HA role of this node (1 for the current one)',
    labelNames: ['role'],
    registers: [r],
    collect() {
      const s = status();
      for (const role of ROLES) this.set({ role }, s.role === role ? 1 : 0);
    },
  });
  new Gauge({
    name: 'cygnet_ha_store_up',
    help: 'Whether the HA store answered the last request (1) or not (0)',
    registers: [r],
    collect() {
      this.set(status().store.reachable ? 1 : 0);
    },
  });
  new Gauge({
    name: 'cygnet_ha_replication_lag_seconds',
    help: 'Age of the oldest SA change not yet written to the HA store (0 when caught up)',
    registers: [r],
    collect() {
      this.set(status().replication.lagMs / 1000);
    },
  });
  new Gauge({
    name: 'cygnet_ha_last_sync_age_seconds',
    help: 'Seconds since the last successful write to the HA store (-1 before the first)',
    registers: [r],
    collect() {
      const a = status().replication.lastSyncAgoMs;
      this.set(a === undefined ? -1 : a / 1000);
    },
  });
  new Gauge({
    name: 'cygnet_ha_pending_changes',
    help: 'SA changes waiting to be written to the HA store (coalesced per record)',
    registers: [r],
    collect() {
      const s = status().replication;
      this.set(s.pending + s.inFlight);
    },
  });
}
