/**
 * ESP sequence numbers across a takeover (issue 20; RFC 4303 3.3.3, 3.4.3), as strongSwan's ha plugin does it:
 * writing every packet's number to a store is out of the question, so the active writes a high-water mark every
 * `every` packets, and the node taking over starts the outbound counter `gap` beyond the last mark. The gap must
 * cover what the active sent after its last mark reached the store: `every` packets, plus what it sent while that
 * write was in flight or the store was slow (rate x delay). No sequence number is ever sent twice with a key as
 * long as that holds; the price is `gap` numbers of the 2^32 (or 2^64 with ESN) space, i.e. an earlier rekey.
 *
 * Inbound, the window restarts at the peer's last replicated mark (RFC 4303 3.4.3 leaves the receiver's window
 * handling to it): numbers at or below mark - window are refused as replays; the ones between, and the ones above
 * the mark the active received after it, are accepted once more. That exposure (window + `every` packets of
 * replayable traffic, once) is the documented price of not writing every packet.
 */
import { HaError } from './errors.js';
import type { SeqMark } from './records.js';

const TWO32 = 0x1_0000_0000;

export interface SeqOptions {
  /** Write a mark after this many packets on an SA (default 4096). */
  readonly every: number;
  /** Outbound numbers skipped on takeover (default 2^20; must exceed 2 x every). */
  readonly gap: number;
}

export const DEFAULT_SEQ: SeqOptions = { every: 4096, gap: 1 << 20 };

export function checkSeqOptions(o: SeqOptions): SeqOptions {
  if (!Number.isInteger(o.every) || o.every < 1) throw new HaError('BAD_OPTIONS', `ha seq_sync_every ${o.every}: must be a positive integer`);
  if (!Number.isInteger(o.gap) || o.gap <= 2 * o.every || o.gap >= 2 ** 31) {
    throw new HaError('BAD_OPTIONS', `ha seq_gap ${o.gap}: must be an integer above 2 x seq_sync_every (${2 * o.every}) and below 2^31, so a takeover skips every number the active may have sent after its last mark`);
  }
  return o;
}

export const seqValue = (m: SeqMark): number => m.hi * TWO32 + m.lo;
const toMark = (v: number): SeqMark => ({ hi: Math.floor(v / TWO32), lo: v % TWO32 });

/** Tracks what was last written per (SPI, direction) and says when a new mark is due. */
export class SeqMarks {
  private readonly written = new Map<string, number>();

  constructor(private readonly opts: SeqOptions = DEFAULT_SEQ) {}

  /** The SA's counter is now `m`: returns true (and records it) when a mark should be written. */
  due(spi: number, dir: 'in' | 'out', m: SeqMark): boolean {
    const k = `${spi}/${dir}`;
    const v = seqValue(m);
    const last = this.written.get(k);
    if (last !== undefined && v - last < this.opts.every) return false;
    if (last === undefined && v === 0) return false;
    this.written.set(k, v);
    return true;
  }

  /** A write failed and will be retried from the replicator's queue: nothing to undo, the mark stays due there. */
  forget(spi: number, dir: 'in' | 'out'): void {
    this.written.delete(`${spi}/${dir}`);
  }
}

export type OutboundStart = { readonly ok: true; readonly start: SeqMark } | { readonly ok: false; readonly why: string };

/**
 * Where the new active's outbound counter starts (the last number used; the next packet carries +1). Without ESN
 * a start that would reach the end of the 32-bit space cannot be used: the SA must be rekeyed instead (RFC 4303
 * 3.3.3: the counter never cycles).
 */
export function outboundStart(mark: SeqMark | undefined, esn: boolean, opts: SeqOptions = DEFAULT_SEQ): OutboundStart {
  const v = (mark ? seqValue(mark) : 0) + opts.gap;
  const limit = esn ? Number.MAX_SAFE_INTEGER : TWO32 - 1;
  if (v >= limit) return { ok: false, why: `sequence ${v} after the takeover gap passes the end of the ${esn ? '64' : '32'}-bit space` };
  return { ok: true, start: toMark(v) };
}
