/**
 * The engine's drop accounting (issue 15): every drop is a DropReason counted in the engine and, when known, on
 * its SA, and reported through the engine's log: the first of each reason per SA (or, without an SA, in the
 * engine), then at most one summary per interval while drops continue (drop-report.ts). Nothing per packet else.
 */
import { DROP_REASON_COUNT, DROP_REASON_NAMES, DropReason } from './constants.js';
import { DropReports, dropReport } from './drop-report.js';
import type { EspSa } from './sa.js';

export class DropAccounting {
  /** Drops per DropReason over all SAs (and those without an SA). */
  readonly drops = new Float64Array(DROP_REASON_COUNT);
  /** The SPI of the last datagram dropped as unknown-spi (for its report). */
  lastUnknownSpi = 0;
  /** Drop reports of packets without an SA (unknown SPI, no policy, malformed). */
  private readonly noSaReports = new DropReports();

  constructor(
    private readonly log: ((level: number, message: string) => void) | undefined,
    private readonly intervalMs: number,
  ) {}

  /** Counts one drop in the engine and on its SA, and reports it when it is the first of its kind (or due). */
  dropped(reason: DropReason, sa: EspSa | undefined, now: number): void {
    this.drops[reason]!++;
    if (sa) sa.drops[reason]!++;
    if (this.log !== undefined && reason !== DropReason.Dummy) this.report(reason, sa, now);
  }

  private report(reason: DropReason, sa: EspSa | undefined, now: number): void {
    const reports = sa ? sa.dropReports : this.noSaReports;
    const total = sa ? sa.drops[reason]! : this.drops[reason]!;
    const due = reports.due(reason, total, now, this.intervalMs);
    if (due === undefined || this.log === undefined) return;
    this.log(1, dropReport(reason, sa, due, reason === DropReason.UnknownSpi ? this.lastUnknownSpi : undefined));
  }

  /** `count` drops of one reason seen outside the engine (EspEngine.noteDrops). */
  note(reason: DropReason, sa: EspSa | undefined, count: number, now: number): void {
    if (!(count > 0) || reason === DropReason.None || !(reason < DROP_REASON_COUNT)) return;
    this.drops[reason]! += count - 1;
    if (sa) sa.drops[reason]! += count - 1;
    this.dropped(reason, sa, now);
  }
}

/** Non-zero counters of a per-reason array, keyed by the reason's name ('replay', 'icv-failure', ...). */
export function dropCountsByName(drops: Float64Array): Record<string, number> {
  const out: Record<string, number> = {};
  for (let i = 1; i < drops.length; i++) if (drops[i]! > 0) out[DROP_REASON_NAMES[i] ?? `reason-${i}`] = drops[i]!;
  return out;
}
