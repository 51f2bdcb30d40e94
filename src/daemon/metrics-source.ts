/** The daemon as a MetricsSource (metrics.ts): reads only the Daemon's public members. */
import { DROP_REASON_NAMES } from '../esp/constants.js';
import type { Daemon } from './driver.js';
import type { MetricsSource } from './metrics.js';

export function daemonMetricsSource(daemon: Daemon): MetricsSource {
  return {
    listSas: () => daemon.endpoint.listSas(),
    childCounters: (c) => {
      const x = daemon.childExtras(c);
      return {
        ...(x.bytesIn !== undefined ? { bytesIn: Number(x.bytesIn) } : {}),
        ...(x.packetsIn !== undefined ? { packetsIn: Number(x.packetsIn) } : {}),
        ...(x.bytesOut !== undefined ? { bytesOut: Number(x.bytesOut) } : {}),
        ...(x.packetsOut !== undefined ? { packetsOut: Number(x.packetsOut) } : {}),
      };
    },
    counters: () => daemon.counters,
    drops: () => {
      const out: Record<string, number> = {};
      daemon.engine.drops.forEach((n, i) => {
        if (i > 0) out[DROP_REASON_NAMES[i] ?? String(i)] = n;
      });
      return out;
    },
    onEvent: (l) => daemon.onEvent(l),
    onIkeMessage: (l) => daemon.onIkeMessage(l),
  };
}
