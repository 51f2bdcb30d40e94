/**
 * The active node's side of replication (issue 20), sans-IO: SA changes go in as (key, value) puts and deletes,
 * ordered batches come out for the driver to write, acknowledgements and failures come back.
 *
 *  - Every change gets the next revision; the store keeps the newest per record (store-model.ts), so a batch
 *    retried after a failure never puts an old version back.
 *  - Changes to one record coalesce while they wait: a store outage leaves one pending write per SA, not one per
 *    change, and "catching up" when the store returns is writing those (the queue is bounded by the SA count).
 *  - One batch in flight at a time keeps the writes in the order they were made.
 */
export interface PendingWrite {
  readonly key: string;
  readonly rev: number;
  readonly value: string | null;
  /** When the change was made (the driver's clock): the oldest pending one is the replication lag. */
  readonly since: number;
}

export interface ReplicatorStats {
  readonly pending: number;
  readonly inFlight: number;
  /** ms since the oldest change not yet acknowledged; 0 when caught up. */
  readonly lagMs: number;
  readonly lastSyncAt: number | undefined;
  readonly written: number;
  readonly failures: number;
}

export class Replicator {
  private rev: number;
  private readonly pending = new Map<string, PendingWrite>();
  private inFlight: PendingWrite[] | undefined;
  private lastSync: number | undefined;
  private written = 0;
  private failures = 0;

  constructor(startRev = 0) {
    this.rev = startRev;
  }

  put(key: string, value: string, now: number): void {
    this.enqueue(key, value, now);
  }

  delete(key: string, now: number): void {
    this.enqueue(key, null, now);
  }

  private enqueue(key: string, value: string | null, now: number): void {
    const prev = this.pending.get(key);
    // Coalesce: the newest value wins but the lag counts from the first unwritten change; re-inserting moves the
    // key behind the others, which is fine since ordering only matters per record.
    this.pending.delete(key);
    this.pending.set(key, { key, rev: ++this.rev, value, since: prev?.since ?? now });
  }

  get busy(): boolean {
    return this.inFlight !== undefined;
  }

  /** The next batch to write (up to `max` writes), or undefined when one is in flight or nothing is pending. */
  takeBatch(max = 256): readonly PendingWrite[] | undefined {
    if (this.inFlight || this.pending.size === 0) return undefined;
    const batch: PendingWrite[] = [];
    for (const w of this.pending.values()) {
      batch.push(w);
      if (batch.length >= max) break;
    }
    for (const w of batch) this.pending.delete(w.key);
    this.inFlight = batch;
    return batch;
  }

  /** The store took the batch in flight. */
  ack(now: number): void {
    if (!this.inFlight) return;
    this.written += this.inFlight.length;
    this.inFlight = undefined;
    this.lastSync = now;
  }

  /** The batch in flight was not written (store unreachable): its writes wait again unless superseded. */
  fail(): void {
    if (!this.inFlight) return;
    this.failures++;
    const back = this.inFlight;
    this.inFlight = undefined;
    const newer = new Map(this.pending);
    this.pending.clear();
    for (const w of back) if (!newer.has(w.key)) this.pending.set(w.key, w);
    for (const w of newer.values()) this.pending.set(w.key, w);
  }

  stats(now: number): ReplicatorStats {
    let oldest = Infinity;
    for (const w of this.pending.values()) oldest = Math.min(oldest, w.since);
    for (const w of this.inFlight ?? []) oldest = Math.min(oldest, w.since);
    return {
      pending: this.pending.size,
      inFlight: this.inFlight?.length ?? 0,
      lagMs: oldest === Infinity ? 0 : Math.max(0, now - oldest),
      lastSyncAt: this.lastSync,
      written: this.written,
      failures: this.failures,
    };
  }
}
