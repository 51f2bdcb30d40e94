/**
 * Simulation of the replication logic without a store (issue 20 "Must show"): the store is store-model.ts (the
 * semantics the Redis scripts implement), time is a number, and the faults are scripted: store outages, slow
 * writes, a batch lost in flight, the active killed at any moment, a deposed active that keeps writing.
 */
import { describe, expect, it } from 'vitest';
import { ActiveLease, TakeoverGuard } from './lease.js';
import { seqKey } from './records.js';
import { Replicator } from './replicator.js';
import { parseSecretsKey, SecretBox } from './seal.js';
import { DEFAULT_SEQ, SeqMarks, checkSeqOptions, outboundStart, seqValue } from './seq-marks.js';
import { acquireLease, applyBatch, emptyStore, releaseLease, renewLease, type StoreState } from './store-model.js';

/** xorshift32: reproducible runs. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x1_0000_0000;
  };
}

/** One batch writer between a Replicator and a store: each batch takes `latency` ms, lost while the store is down. */
function pump(rep: Replicator, store: StoreState, node: string, token: number, now: number, up: boolean): 'ok' | 'fenced' | 'down' | 'idle' {
  const batch = rep.takeBatch(64);
  if (!batch) return 'idle';
  if (!up) {
    rep.fail();
    return 'down';
  }
  const r = applyBatch(store, { node, token, writes: batch.map((w) => ({ key: w.key, rev: w.rev, value: w.value })) });
  if (!r.ok) {
    rep.fail();
    return 'fenced';
  }
  rep.ack(now);
  return 'ok';
}

describe('HA replication: ordering', () => {
  it('writes every record in order, coalesces changes during an outage and catches up when the store returns', () => {
    const store = emptyStore();
    const lease = acquireLease(store, 'a', 3000, 0);
    expect(lease.ok).toBe(true);
    const token = lease.ok ? lease.lease.token : 0;
    const rep = new Replicator();
    rep.put('ike/1', 'v1', 0);
    rep.put('ike/2', 'w1', 0);
    expect(pump(rep, store, 'a', token, 1, true)).toBe('ok');
    expect(store.data.get('ike/1')).toBe('v1');
    // Store outage: ten changes to one SA and a delete wait as two writes, and the lag grows.
    for (let i = 2; i <= 11; i++) {
      rep.put('ike/1', `v${i}`, 100 + i);
      expect(pump(rep, store, 'a', token, 100 + i, false)).toBe('down');
    }
    rep.delete('ike/2', 200);
    expect(rep.stats(1100).pending).toBe(2);
    expect(rep.stats(1100).lagMs).toBe(1100 - 102);
    expect(store.data.get('ike/1')).toBe('v1');
    // Back: one batch brings the store up to date and the lag to zero.
    expect(pump(rep, store, 'a', token, 1200, true)).toBe('ok');
    expect(store.data.get('ike/1')).toBe('v11');
    expect(store.data.has('ike/2')).toBe(false);
    expect(rep.stats(1200)).toMatchObject({ pending: 0, lagMs: 0, lastSyncAt: 1200 });
  });

  it('a batch retried after newer writes landed never puts an older version back', () => {
    const store = emptyStore();
    const l = acquireLease(store, 'a', 3000, 0);
    const token = l.ok ? l.lease.token : 0;
    const rep = new Replicator();
    rep.put('k', 'old', 0);
    const lost = rep.takeBatch();
    expect(lost).toHaveLength(1);
    // The first write did reach the store but its answer was lost (timeout): the driver calls fail().
    applyBatch(store, { node: 'a', token, writes: (lost ?? []).map((w) => ({ key: w.key, rev: w.rev, value: w.value })) });
    rep.fail();
    rep.put('k', 'new', 1);
    expect(pump(rep, store, 'a', token, 2, true)).toBe('ok');
    // A duplicate of the old batch arriving late (a retransmission by the client library) is skipped.
    const late = applyBatch(store, { node: 'a', token, writes: (lost ?? []).map((w) => ({ key: w.key, rev: w.rev, value: w.value })) });
    expect(late).toEqual({ ok: true, applied: 0, skipped: 1 });
    expect(store.data.get('k')).toBe('new');
  });

  it('random outages and losses: the store always ends with the newest value of every record', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const r = rng(seed);
      const store = emptyStore();
      const l = acquireLease(store, 'a', 3000, 0);
      const token = l.ok ? l.lease.token : 0;
      const rep = new Replicator();
      const truth = new Map<string, string | null>();
      let up = true;
      for (let t = 0; t < 2000; t++) {
        if (r() < 0.01) up = !up;
        const k = `ike/${Math.floor(r() * 8)}`;
        if (r() < 0.1) {
          rep.delete(k, t);
          truth.set(k, null);
        } else {
          rep.put(k, `${k}@${t}`, t);
          truth.set(k, `${k}@${t}`);
        }
        pump(rep, store, 'a', token, t, up && r() > 0.05);
      }
      for (let t = 2000; rep.stats(t).pending + rep.stats(t).inFlight > 0; t++) pump(rep, store, 'a', token, t, true);
      for (const [k, v] of truth) expect(store.data.get(k) ?? null, `seed ${seed} ${k}`).toBe(v);
    }
  });
});

describe('HA replication: ESP sequence gaps', () => {
  /**
   * The active seals `rate` packets per ms on each SA, samples its counters every ms and writes marks through the
   * replicator; the store is down at times and each write takes `latency` ms. Killed at a random moment, the
   * standby starts each outbound counter at mark + gap: it must be beyond every number the active used.
   */
  function run(seed: number, o: { every: number; gap: number; rate: number; latency: number }): { reused: number; worstMargin: number } {
    const r = rng(seed);
    const store = emptyStore();
    const l = acquireLease(store, 'a', 3000, 0);
    const token = l.ok ? l.lease.token : 0;
    const rep = new Replicator();
    const marks = new SeqMarks({ every: o.every, gap: o.gap });
    const spis = [0x1001, 0x1002, 0x1003];
    const sent = new Map(spis.map((s) => [s, 0]));
    const killAt = 200 + Math.floor(r() * 3000);
    let inFlightSince: number | undefined;
    for (let t = 0; t < killAt; t++) {
      for (const s of spis) {
        const v = (sent.get(s) ?? 0) + Math.floor(r() * o.rate * 2);
        sent.set(s, v);
        if (marks.due(s, 'out', { hi: 0, lo: v })) rep.put(seqKey(s, 'out'), JSON.stringify({ spi: s, dir: 'out', hi: 0, lo: v }), t);
      }
      // A write completes `latency` ms after it started; a store outage of 50 ms now and then fails it.
      const down = Math.floor(t / 400) % 3 === 2 && t % 400 < 50;
      if (inFlightSince === undefined && rep.stats(t).pending > 0) inFlightSince = t;
      if (inFlightSince !== undefined && t - inFlightSince >= o.latency) {
        pump(rep, store, 'a', token, t, !down);
        inFlightSince = undefined;
      }
    }
    // Takeover: the standby reads the marks and starts past the gap.
    let reused = 0;
    let worstMargin = Infinity;
    for (const s of spis) {
      const raw = store.data.get(seqKey(s, 'out'));
      const mark = raw ? (JSON.parse(raw) as { hi: number; lo: number }) : undefined;
      const start = outboundStart(mark, false, { every: o.every, gap: o.gap });
      expect(start.ok).toBe(true);
      const first = start.ok ? seqValue(start.start) + 1 : 0;
      const margin = first - (sent.get(s) ?? 0);
      worstMargin = Math.min(worstMargin, margin);
      if (margin <= 0) reused++;
    }
    return { reused, worstMargin };
  }

  it('no sequence number is sent twice when the gap covers the sync interval plus rate x write delay', () => {
    // 3 packets/ms (~3 kpps per SA), a mark every 256 packets, writes that take 20 ms and a 50 ms outage now and
    // then: what the active sends unreplicated is below 256 + 6 x (20 + 50) = 676 per SA; gap 4096.
    for (let seed = 1; seed <= 50; seed++) {
      const res = run(seed, { every: 256, gap: 4096, rate: 3, latency: 20 });
      expect(res.reused, `seed ${seed}`).toBe(0);
      expect(res.worstMargin).toBeGreaterThan(0);
    }
  });

  it('the same run with a gap below that bound does reuse numbers (the check above can fail)', () => {
    let reused = 0;
    for (let seed = 1; seed <= 50; seed++) reused += run(seed, { every: 256, gap: 300, rate: 3, latency: 20 }).reused;
    expect(reused).toBeGreaterThan(0);
  });

  it('refuses a gap that does not exceed twice the sync interval, and an SA whose space the gap exhausts', () => {
    expect(() => checkSeqOptions({ every: 1000, gap: 1500 })).toThrow(/seq_gap 1500/);
    expect(checkSeqOptions(DEFAULT_SEQ)).toEqual(DEFAULT_SEQ);
    const s = outboundStart({ hi: 0, lo: 0xffff_0000 }, false, DEFAULT_SEQ);
    expect(s.ok).toBe(false);
    // With ESN (RFC 4303 2.2.1) the high half carries on.
    const e = outboundStart({ hi: 0, lo: 0xffff_0000 }, true, DEFAULT_SEQ);
    expect(e).toEqual({ ok: true, start: { hi: 1, lo: 0xffff_0000 + DEFAULT_SEQ.gap - 0x1_0000_0000 } });
  });

  it('writes a mark only after `every` packets on an SA', () => {
    const m = new SeqMarks({ every: 100, gap: 1000 });
    expect(m.due(1, 'out', { hi: 0, lo: 0 })).toBe(false);
    expect(m.due(1, 'out', { hi: 0, lo: 5 })).toBe(true);
    expect(m.due(1, 'out', { hi: 0, lo: 104 })).toBe(false);
    expect(m.due(1, 'out', { hi: 0, lo: 105 })).toBe(true);
    expect(m.due(1, 'in', { hi: 0, lo: 105 })).toBe(true);
  });
});

describe('HA replication: fencing and takeover', () => {
  it('a deposed active is fenced: its writes are refused whole, and its lease view stops it forwarding', () => {
    const store = emptyStore();
    const a = acquireLease(store, 'a', 3000, 0);
    expect(a.ok).toBe(true);
    const tokenA = a.ok ? a.lease.token : 0;
    expect(acquireLease(store, 'b', 3000, 1000)).toMatchObject({ ok: false, holder: { node: 'a' } });
    // A stops renewing (hung, or cut off); its lease expires and B takes it with a new token.
    const b = acquireLease(store, 'b', 3000, 3001);
    expect(b).toMatchObject({ ok: true, lease: { node: 'b', token: tokenA + 1 } });
    const tokenB = b.ok ? b.lease.token : 0;
    expect(applyBatch(store, { node: 'b', token: tokenB, writes: [{ key: 'ike/1', rev: 1, value: 'b' }] }).ok).toBe(true);
    // A wakes up and writes with its old token: refused, nothing of the batch applied.
    const zombie = applyBatch(store, { node: 'a', token: tokenA, writes: [{ key: 'ike/1', rev: 99, value: 'a' }, { key: 'ike/9', rev: 100, value: 'a' }] });
    expect(zombie).toMatchObject({ ok: false, code: 'FENCED', lease: { node: 'b' } });
    expect(store.data.get('ike/1')).toBe('b');
    expect(store.data.has('ike/9')).toBe(false);
    expect(renewLease(store, tokenA, 3000, 3100).ok).toBe(false);
    const view = new ActiveLease(tokenA, 3000, 0);
    view.deposed('b');
    expect(view.mayForward).toBe(false);
    expect(view.describe(3100)).toMatch(/deposed/);
  });

  it('an active cut off from the store keeps forwarding and keeps its lease if nobody took it', () => {
    const store = emptyStore();
    const a = acquireLease(store, 'a', 3000, 0);
    const token = a.ok ? a.lease.token : 0;
    const view = new ActiveLease(token, 3000, 0);
    view.unreachable(1000);
    expect(view.status).toBe('in-doubt');
    expect(view.mayForward).toBe(true);
    // The store comes back after the lease expired; nobody took it: renewing with the same token works.
    expect(renewLease(store, token, 3000, 9000).ok).toBe(true);
    view.renewed(9000);
    expect(view.status).toBe('holding');
  });

  it('the standby takes over after a clean expiry, and refuses while the lease is held, while the store is down, and after an outage', () => {
    const g = new TakeoverGuard();
    expect(g.decide(0)).toMatchObject({ ok: false, reason: expect.stringMatching(/not been polled/) });
    g.observe({ reachable: true, lease: { node: 'a', token: 1, remainingMs: 2000 } }, 1000);
    expect(g.decide(1000)).toMatchObject({ ok: false, reason: expect.stringMatching(/held by a/) });
    // Store outage while the active is alive: refused (nothing can be taken, and the active still forwards).
    g.observe({ reachable: false, error: 'ECONNREFUSED' }, 2000);
    expect(g.decide(2000)).toMatchObject({ ok: false, reason: expect.stringMatching(/unreachable/) });
    // The store returns and the lease has expired meanwhile: the active may have died during the outage or kept
    // forwarding without replicating: the state may be stale, takeover refused.
    g.observe({ reachable: true, lease: { node: 'a', token: 1, remainingMs: -500 } }, 5000);
    expect(g.decide(5000)).toMatchObject({ ok: false, reason: expect.stringMatching(/stale/) });
    expect(g.decide(5000, { force: true })).toEqual({ ok: true });
    // The active is seen alive again (it caught up, then renewed); later it dies cleanly: takeover allowed.
    g.observe({ reachable: true, lease: { node: 'a', token: 1, remainingMs: 3000 } }, 6000);
    g.observe({ reachable: true, lease: { node: 'a', token: 1, remainingMs: -1 } }, 9001);
    expect(g.decide(9001)).toEqual({ ok: true });
    expect(g.decide(20_000)).toMatchObject({ ok: false, reason: expect.stringMatching(/poll of the store is/) });
  });

  it('a standby that just started: failed polls while connecting do not count, an old expiry does, a released lease is free', () => {
    const g = new TakeoverGuard();
    g.observe({ reachable: false, error: 'connecting' }, 0);
    g.observe({ reachable: true, lease: undefined }, 100);
    // A fresh store (no active yet): the first node takes the lease.
    expect(g.decide(100)).toEqual({ ok: true });
    g.observe({ reachable: true, lease: { node: 'a', token: 1, remainingMs: -1000 } }, 200);
    expect(g.decide(200)).toEqual({ ok: true });
    const late = new TakeoverGuard();
    late.observe({ reachable: true, lease: { node: 'a', token: 4, remainingMs: -60_000 } }, 0);
    expect(late.decide(0)).toMatchObject({ ok: false, reason: expect.stringMatching(/expired 60 s ago, before this node watched it/) });
    expect(late.decide(0, { force: true })).toEqual({ ok: true });
    late.observe({ reachable: true, lease: { node: 'a', token: 4, remainingMs: -60_000, released: true } }, 10);
    expect(late.decide(10)).toEqual({ ok: true });
  });

  it('fail-back: the active releases its lease and the other node takes it at once with a new token', () => {
    const store = emptyStore();
    const b = acquireLease(store, 'b', 3000, 0);
    const tb = b.ok ? b.lease.token : 0;
    expect(releaseLease(store, tb)).toBe(true);
    expect(acquireLease(store, 'a', 3000, 1)).toMatchObject({ ok: true, lease: { node: 'a', token: tb + 1 } });
  });
});

describe('HA secrets at rest', () => {
  const key = parseSecretsKey('00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff');

  it('seals with AES-256-GCM bound to the record key', () => {
    const box = new SecretBox(key);
    const s = box.seal(Uint8Array.of(1, 2, 3), 'ike/a-b');
    expect(s).not.toContain('AQID');
    expect([...box.open(s, 'ike/a-b')]).toEqual([1, 2, 3]);
    expect(() => box.open(s, 'ike/c-d')).toThrow(/did not authenticate/);
    expect(() => new SecretBox(new Uint8Array(32).fill(7)).open(s, 'ike/a-b')).toThrow(expect.objectContaining({ code: 'UNSEAL_FAILED' }));
    expect(() => box.open('AAAA', 'x')).toThrow(/too short/);
  });

  it('takes the key as hex or base64 and names the format otherwise', () => {
    expect(parseSecretsKey(Buffer.from(key).toString('base64'))).toEqual(key);
    expect(() => parseSecretsKey('short')).toThrow(expect.objectContaining({ code: 'BAD_KEY' }));
  });
});
