/** What the page holds between SSE events. */
import type { LogLine, SaView, TimelineEntry, TrafficSample } from './types.js';

export const state = {
  user: '' as string,
  sas: [] as SaView[],
  now: Date.now(),
  timeline: [] as TimelineEntry[],
  logs: [] as LogLine[],
  history: new Map<string, TrafficSample[]>(),
  logLevel: 1,
  logGroup: '',
  vici: { connected: false, error: null as string | null },
};

/** The same key as the server's hub: IKE SA unique id and CHILD SA name. */
export function trafficKey(sa: SaView, child: string): string {
  return `${sa.uniqueId}/${child}`;
}

/** Append the counters of an SA list as one sample per chart (children of one name summed, as the server does). */
export function sample(sas: readonly SaView[], t: number): void {
  for (const sa of sas) {
    const sums = new Map<string, TrafficSample>();
    for (const c of sa.children) {
      const p = sums.get(c.name);
      sums.set(c.name, { t, bytesIn: (p?.bytesIn ?? 0) + c.bytesIn, bytesOut: (p?.bytesOut ?? 0) + c.bytesOut, packetsIn: (p?.packetsIn ?? 0) + c.packetsIn, packetsOut: (p?.packetsOut ?? 0) + c.packetsOut });
    }
    for (const [name, s] of sums) {
      const key = trafficKey(sa, name);
      const list = state.history.get(key) ?? [];
      if ((list[list.length - 1]?.t ?? 0) < t) list.push(s);
      while (list.length > 0 && (list[0]?.t ?? t) < t - 3600_000) list.shift();
      state.history.set(key, list);
    }
  }
}
