/**
 * The store's semantics, as pure functions (issue 20): what the Redis Lua scripts of src/daemon/ha-store.ts do
 * atomically, written once here so the simulation test runs the same rules without a store.
 *
 *  - Lease: one holder at a time. Acquiring it when it is free or expired (by the store's clock) increments the
 *    fencing token; only the holder with the current token renews it, even after it expired while nobody took it
 *    (an active that was cut off from the store keeps its lease if no standby took over meanwhile).
 *  - Writes carry the writer's token: a token other than the lease's is refused as a whole (FENCED), so a deposed
 *    active can never overwrite its successor's state ("fencing token", Kleppmann's fix for lease-based locks).
 *  - Ordering: each record keeps the (token, rev) of its last write; a write that is not newer is skipped, so a
 *    batch retried after a reconnect cannot put an older version over a newer one. A delete keeps its (token,
 *    rev) as a tombstone until the next token prunes it (older tokens are fenced anyway).
 */
export interface Lease {
  readonly node: string;
  readonly token: number;
  /** Store clock, ms. */
  readonly expiresAt: number;
}

export interface StoreWrite {
  readonly key: string;
  readonly rev: number;
  /** null deletes the record. */
  readonly value: string | null;
}

export interface WriteBatch {
  readonly node: string;
  readonly token: number;
  readonly writes: readonly StoreWrite[];
}

export interface StoreState {
  lease: Lease | undefined;
  /** Last token handed out (never reused, even after the lease key is lost). */
  epoch: number;
  readonly data: Map<string, string>;
  readonly versions: Map<string, { token: number; rev: number }>;
}

export function emptyStore(): StoreState {
  return { lease: undefined, epoch: 0, data: new Map(), versions: new Map() };
}

export type LeaseResult = { readonly ok: true; readonly lease: Lease } | { readonly ok: false; readonly holder: Lease };

/** Takes the lease for `node` when it is free or expired; a new token each time. */
export function acquireLease(s: StoreState, node: string, ttlMs: number, now: number): LeaseResult {
  if (s.lease && s.lease.expiresAt > now) return { ok: false, holder: s.lease };
  s.epoch += 1;
  s.lease = { node, token: s.epoch, expiresAt: now + ttlMs };
  // Tombstones of older tokens are no longer needed: their writers are fenced.
  for (const k of s.versions.keys()) if (!s.data.has(k)) s.versions.delete(k);
  return { ok: true, lease: s.lease };
}

/** Renews the lease of `token` (also after expiry, as long as nobody took it). */
export function renewLease(s: StoreState, token: number, ttlMs: number, now: number): LeaseResult {
  if (!s.lease || s.lease.token !== token) return { ok: false, holder: s.lease ?? { node: '', token: 0, expiresAt: 0 } };
  s.lease = { ...s.lease, expiresAt: now + ttlMs };
  return { ok: true, lease: s.lease };
}

/** Gives the lease up (fail-back): the standby may take it at once. */
export function releaseLease(s: StoreState, token: number): boolean {
  if (!s.lease || s.lease.token !== token) return false;
  s.lease = { ...s.lease, expiresAt: 0 };
  return true;
}

export type ApplyResult = { readonly ok: true; readonly applied: number; readonly skipped: number } | { readonly ok: false; readonly code: 'FENCED'; readonly lease: Lease | undefined };

/** Applies a batch atomically: all of it (less the outdated writes) or, when fenced, none of it. */
export function applyBatch(s: StoreState, b: WriteBatch): ApplyResult {
  if (!s.lease || s.lease.token !== b.token || s.lease.node !== b.node) return { ok: false, code: 'FENCED', lease: s.lease };
  let applied = 0;
  let skipped = 0;
  for (const w of b.writes) {
    const cur = s.versions.get(w.key);
    if (cur && (cur.token > b.token || (cur.token === b.token && cur.rev >= w.rev))) {
      skipped++;
      continue;
    }
    s.versions.set(w.key, { token: b.token, rev: w.rev });
    if (w.value === null) s.data.delete(w.key);
    else s.data.set(w.key, w.value);
    applied++;
  }
  return { ok: true, applied, skipped };
}
