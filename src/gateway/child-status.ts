/** Data-plane facts for status displays (vici list-sas, the status file, `cygnet status`), from the ESP engine. */
import type { ChildSaInfo } from '../ike/events.js';
import { DROP_REASON_NAMES } from '../esp/constants.js';
import { dropCountsByName, type EspEngine } from '../esp/engine.js';

export interface ChildExtras {
  installedAt?: number;
  reqId?: number;
  bytesIn?: number;
  packetsIn?: number;
  bytesOut?: number;
  packetsOut?: number;
  /** Non-zero drop counters of the inbound and outbound ESP SA, by reason name (issue 15). */
  dropsIn?: Record<string, number>;
  dropsOut?: Record<string, number>;
}

/** Install time, reqid (vici's, as charon's) and ESP counters of a CHILD SA. */
export function childExtras(engine: EspEngine, installedAt: number | undefined, c: ChildSaInfo): ChildExtras {
  const i = engine.getSa(c.spiIn, 'in');
  const o = engine.getSa(c.spiOut, 'out');
  return {
    ...(installedAt !== undefined ? { installedAt } : {}),
    ...(o ? { reqId: o.reqid } : {}),
    ...(i ? { bytesIn: i.bytes, packetsIn: i.packets, dropsIn: dropCountsByName(i.drops) } : {}),
    ...(o ? { bytesOut: o.bytes, packetsOut: o.packets, dropsOut: dropCountsByName(o.drops) } : {}),
  };
}

/** Counters of the core and the engine, with non-zero drop reasons as `drop-<reason>`. */
export function allCounters(counters: Readonly<Record<string, number>>, engine: EspEngine): Record<string, number> {
  const out: Record<string, number> = { ...counters, ...engine.stats };
  engine.drops.forEach((n, i) => {
    if (n > 0 && i > 0) out[`drop-${DROP_REASON_NAMES[i] ?? i}`] = n;
  });
  return out;
}
