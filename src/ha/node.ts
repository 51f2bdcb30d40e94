/**
 * One gateway's HA role (issue 20), sans-IO: glue between the gateway core and the replication core.
 *
 * Active: the endpoint reports each IKE SA an operation changed (`onSettled`); after the driver has drained the
 * gateway's events (so the CHILD SA keys of `child-install` are known) `collect(now)` exports each changed SA into
 * the replicator, deletes the records of destroyed ones, and samples the ESP counters for high-water marks. The
 * driver writes the replicator's batches to the store with the lease's fencing token.
 *
 * Standby -> active: `takeover(records, now)` restores every IKE SA and its CHILD SAs from the store's records,
 * lets the gateway install the ESP SAs, then moves the sequence counters (seq-marks.ts) before any packet is
 * sealed, and queues a full write of the restored state under the new token.
 */
import type { Gateway } from '../gateway/gateway.js';
import type { GatewayEvent } from '../gateway/contracts.js';
import type { IkeSa } from '../ike/ike-sa.js';
import { ChildKeyCache, exportIkeSa, replicable, storeKeyOf } from './export.js';
import { HaError } from './errors.js';
import { parseIkeRecord, parseSeqRecord, type SeqMark, seqKey } from './records.js';
import { Replicator } from './replicator.js';
import { applySeqStarts, restoreIkeSa, type RestoredChild, type SeqStartReport } from './restore.js';
import type { SecretBox } from './seal.js';
import { DEFAULT_SEQ, SeqMarks, type SeqOptions } from './seq-marks.js';

export interface HaNodeOptions {
  readonly box: SecretBox;
  readonly seq?: SeqOptions;
}

export interface TakeoverReport {
  readonly ikeSas: number;
  readonly childSas: number;
  readonly failed: readonly { readonly key: string; readonly error: string }[];
  readonly seq: readonly SeqStartReport[];
}

export class HaNode {
  readonly replicator = new Replicator();
  private readonly keys = new ChildKeyCache();
  private readonly marks: SeqMarks;
  private readonly seq: SeqOptions;
  private readonly changed = new Set<IkeSa>();
  /** Store keys written for live SAs, by SA: a destroyed SA's record is deleted under the key it was written as. */
  private readonly written = new Map<IkeSa, string>();
  private active = false;

  constructor(
    private readonly gateway: Gateway,
    private readonly opts: HaNodeOptions,
  ) {
    this.seq = opts.seq ?? DEFAULT_SEQ;
    this.marks = new SeqMarks(this.seq);
    gateway.endpoint.onSettled = (sa) => {
      if (this.active) this.changed.add(sa);
    };
  }

  get isActive(): boolean {
    return this.active;
  }

  private toWall = (t: number): number => t + this.gateway.endpoint.settings.epochOffsetMs;
  private fromWall = (t: number): number => t - this.gateway.endpoint.settings.epochOffsetMs;

  /** Every gateway event goes through here (CHILD SA keys, removed SAs' sequence records). */
  handleEvent(e: GatewayEvent, now: number): void {
    if (e.type === 'child-install' || e.type === 'child-remove') this.keys.handle(e);
    if (e.type === 'child-remove' && this.active) {
      this.replicator.delete(seqKey(e.child.spiIn, 'in'), now);
      this.replicator.delete(seqKey(e.child.spiOut, 'out'), now);
      this.marks.forget(e.child.spiIn, 'in');
      this.marks.forget(e.child.spiOut, 'out');
    }
  }

  /**
   * Becomes the active node: from now on every change is replicated, starting with all SAs there are (written at
   * the next `collect`, once the driver drained the events that carry their CHILD SA keys).
   */
  activate(): void {
    this.active = true;
    for (const { sa: info } of this.gateway.endpoint.listSas()) {
      const sa = this.gateway.endpoint.ikeSa(info.id);
      if (sa) this.changed.add(sa);
    }
  }

  /** Stops replicating (deposed, or standing by after a fail-back). */
  deactivate(): void {
    this.active = false;
    this.changed.clear();
  }

  /** Call after draining the gateway's events: exports the SAs that changed and samples the ESP counters. */
  collect(now: number): void {
    if (!this.active) return;
    for (const sa of this.changed) {
      const prevKey = this.written.get(sa);
      const live = sa.state !== 'DESTROYING' && this.gateway.endpoint.ikeSa(sa.id) === sa;
      if (live && replicable(sa)) {
        const key = storeKeyOf(sa);
        if (prevKey !== undefined && prevKey !== key) this.replicator.delete(prevKey, now);
        this.replicator.put(key, JSON.stringify(exportIkeSa(sa, this.keys, this.opts.box, this.toWall)), now);
        this.written.set(sa, key);
      } else if (!live) {
        if (prevKey !== undefined) this.replicator.delete(prevKey, now);
        this.written.delete(sa);
      }
    }
    this.changed.clear();
    this.sampleSeq(now);
  }

  /** High-water marks of every ESP SA that moved `every` packets since its last mark. */
  sampleSeq(now: number): void {
    if (!this.active) return;
    for (const sa of this.gateway.engine.sas()) {
      // With worker threads the outbound counter is the shared one (EspSa.sharedSeq, ESN high half 0).
      const out = (): SeqMark => (sa.sharedSeq ? { hi: 0, lo: Atomics.load(sa.sharedSeq, 0) } : { hi: sa.seqHi, lo: sa.seqLo });
      const m: SeqMark | undefined = sa.direction === 'out' ? out() : sa.replay ? { hi: sa.replay.highestHi, lo: sa.replay.highestLo } : undefined;
      if (!m || !this.marks.due(sa.spi, sa.direction, m)) continue;
      this.replicator.put(seqKey(sa.spi, sa.direction), JSON.stringify({ spi: sa.spi, dir: sa.direction, hi: m.hi, lo: m.lo }), now);
    }
  }

  /**
   * Restores the SAs of `records` (store key -> value) into this node's gateway and becomes active. A record that
   * cannot be restored is reported and skipped; the others go on. The caller has taken the lease first.
   */
  takeover(records: ReadonlyMap<string, string>, now: number): TakeoverReport {
    const marks = new Map<string, SeqMark>();
    const failed: { key: string; error: string }[] = [];
    for (const [k, v] of records) {
      if (!k.startsWith('seq/')) continue;
      try {
        const r = parseSeqRecord(k, v);
        marks.set(seqKey(r.spi, r.dir), { hi: r.hi, lo: r.lo });
      } catch (e) {
        failed.push({ key: k, error: (e as Error).message });
      }
    }
    const children: RestoredChild[] = [];
    let ikeSas = 0;
    for (const [k, v] of records) {
      if (!k.startsWith('ike/')) continue;
      try {
        const r = restoreIkeSa(this.gateway.endpoint, parseIkeRecord(k, v), this.opts.box, now, this.fromWall);
        children.push(...r.children);
        ikeSas++;
      } catch (e) {
        failed.push({ key: k, error: e instanceof HaError ? e.message : `${k}: ${(e as Error).message}` });
      }
    }
    // The gateway installs the ESP SAs from the child-install events (same path as negotiated ones)...
    this.gateway.handleTimeout(now);
    // ...and before any packet is sealed on them, the counters move past the gap.
    const seq = applySeqStarts(this.gateway.engine, children, (spi, dir) => marks.get(seqKey(spi, dir)), this.seq);
    for (const s of seq) {
      if (!s.rekey) continue;
      const child = this.gateway.endpoint.listSas().flatMap((x) => x.children).find((c) => c.spiOut === s.spi);
      if (child) this.gateway.endpoint.rekeyChild(child.id, now);
    }
    this.activate();
    return { ikeSas, childSas: children.length, failed, seq };
  }
}
