import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { HaStatus } from './ha-driver.js';
import { registerHaMetrics } from './ha-metrics.js';

describe('HA metrics', () => {
  it('exports role, store reachability, lag, last sync and pending changes', async () => {
    const r = new Registry();
    let s: HaStatus = {
      node: 'gwa',
      role: 'active',
      store: { url: 'redis://x', reachable: false, lastError: 'down' },
      lease: 'in doubt',
      token: 3,
      replication: { pending: 4, inFlight: 1, lagMs: 2500, lastSyncAgoMs: 3000, written: 10, failures: 2 },
      writtenAt: 0,
    };
    registerHaMetrics(r, () => s);
    const text = await r.metrics();
    expect(text).toContain('cygnet_ha_role{role="active"} 1');
    expect(text).toContain('cygnet_ha_role{role="standby"} 0');
    expect(text).toContain('cygnet_ha_store_up 0');
    expect(text).toContain('cygnet_ha_replication_lag_seconds 2.5');
    expect(text).toContain('cygnet_ha_last_sync_age_seconds 3');
    expect(text).toContain('cygnet_ha_pending_changes 5');
    s = { ...s, role: 'standby', store: { url: 'redis://x', reachable: true }, replication: { pending: 0, inFlight: 0, lagMs: 0, written: 0, failures: 0 } };
    const again = await r.metrics();
    expect(again).toContain('cygnet_ha_role{role="standby"} 1');
    expect(again).toContain('cygnet_ha_store_up 1');
    expect(again).toContain('cygnet_ha_last_sync_age_seconds -1');
  });
});
