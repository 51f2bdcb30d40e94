/**
 * Outbound sequence numbers shared by engines on several threads (EspSa.sharedSeq, issue 17 worker threads): two
 * engines sealing on copies of one outbound SA must never send the same number (RFC 4303 3.3.3), and the shared
 * space ends in a soft, then a hard expiry as a private counter's does.
 */
import { describe, expect, it } from 'vitest';
import { availableBackends } from '../crypto/backends/index.js';
import { AUTH_NONE, DecapStatus, DropReason, EncapStatus, ENCR_AES_GCM_16 } from './constants.js';
import type { EncapResults, EspEngine, PacketRef } from './engine.js';
import { SHARED_SA_BYTES, SHARED_SEQ_LAST, sharedSaViews, takeSharedSeq } from './sa.js';
import { enginePair, ipv4Packet, SPI_AB, withRoom } from './testing.js';

const backends = availableBackends();
const backend = backends[backends.length - 1]!;
const suite = { encr: ENCR_AES_GCM_16, encrKeyBits: 128, integ: AUTH_NONE };

function seal(e: EspEngine, n: number, now = 0): { dgrams: PacketRef[]; seqs: number[]; r: EncapResults } {
  const refs = Array.from({ length: n }, (_, i) => withRoom(ipv4Packet('10.1.0.5', '10.2.0.9', { sport: 1000 + i, size: 100 })));
  const r = e.encapsulate(refs, now);
  const dgrams: PacketRef[] = [];
  const seqs: number[] = [];
  for (let i = 0; i < r.count; i++) {
    if (r.status[i] !== EncapStatus.Send) continue;
    const b = r.buffer[i]!.slice(r.offset[i]!, r.offset[i]! + r.length[i]!);
    dgrams.push({ buffer: b, offset: 0, length: b.length });
    // UDP header (8) then SPI (4), then the sequence number.
    seqs.push(new DataView(b.buffer).getUint32(12));
  }
  return { dgrams, seqs, r };
}

function twoSealers(): { a1: EspEngine; a2: EspEngine; b: EspEngine } {
  // enginePair's keys are deterministic: two pairs hold the same A->B SA, as two worker threads would.
  const p1 = enginePair({ suite, backend, sealLockOwner: 2 });
  const p2 = enginePair({ suite, backend, sealLockOwner: 3 });
  return { a1: p1.a, a2: p2.a, b: p1.b };
}

describe('shared outbound sequence counter', () => {
  it('two engines sealing on one SA with a shared counter send distinct numbers, all accepted by the peer', () => {
    const { a1, a2, b } = twoSealers();
    const counter = new Uint32Array(new SharedArrayBuffer(4));
    a1.getSa(SPI_AB, 'out')!.sharedSeq = counter;
    a2.getSa(SPI_AB, 'out')!.sharedSeq = counter;
    const all: number[] = [];
    const dgrams: PacketRef[] = [];
    for (let round = 0; round < 5; round++) {
      for (const e of [a1, a2]) {
        const s = seal(e, 7);
        all.push(...s.seqs);
        dgrams.push(...s.dgrams);
      }
    }
    expect(all).toHaveLength(70);
    expect(new Set(all).size).toBe(70);
    expect(Math.min(...all)).toBe(1);
    expect(Math.max(...all)).toBe(70);
    expect(counter[0]).toBe(70);
    // Interleaved batches arrive out of order at the peer: within the replay window, every one is delivered.
    const d = b.decapsulate(dgrams, 0);
    let ok = 0;
    for (let i = 0; i < d.count; i++) if (d.status[i] === DecapStatus.Deliver) ok++;
    expect(ok).toBe(70);
  });

  it('without the shared counter the second engine repeats numbers and the peer drops them as replays', () => {
    const { a1, a2, b } = twoSealers();
    const s1 = seal(a1, 5);
    const s2 = seal(a2, 5);
    expect(s2.seqs).toEqual(s1.seqs);
    const d = b.decapsulate([...s1.dgrams, ...s2.dgrams], 0);
    const reasons: number[] = [];
    for (let i = 0; i < d.count; i++) if (d.status[i] !== DecapStatus.Deliver) reasons.push(d.reason[i]!);
    expect(reasons).toEqual(new Array(5).fill(DropReason.Replay));
  });

  it('takeSharedSeq counts up and reports the end of the space', () => {
    const c = new Uint32Array(new SharedArrayBuffer(4));
    expect(takeSharedSeq(c)).toBe(1);
    expect(takeSharedSeq(c)).toBe(2);
    c[0] = SHARED_SEQ_LAST - 1;
    expect(takeSharedSeq(c)).toBe(SHARED_SEQ_LAST);
    expect(takeSharedSeq(c)).toBe(-1);
    expect(takeSharedSeq(c)).toBe(-1);
  });

  it('near the end of the shared space the SA soft-expires, at the end it hard-expires and sends nothing more', () => {
    const { a1, a2 } = twoSealers();
    const counter = new Uint32Array(new SharedArrayBuffer(4));
    a1.getSa(SPI_AB, 'out')!.sharedSeq = counter;
    a2.getSa(SPI_AB, 'out')!.sharedSeq = counter;
    counter[0] = SHARED_SEQ_LAST - 3;
    const s = seal(a1, 2);
    expect(s.seqs).toEqual([SHARED_SEQ_LAST - 2, SHARED_SEQ_LAST - 1]);
    const ev1 = a1.pollEvent();
    expect(ev1).toMatchObject({ type: 'soft-expire', spi: SPI_AB, cause: 'sequence' });
    // The other thread takes the last number, then both run out.
    expect(seal(a2, 1).seqs).toEqual([SHARED_SEQ_LAST]);
    const last = seal(a2, 1);
    expect(last.seqs).toEqual([]);
    expect(last.r.reason[0]).toBe(DropReason.SaExpired);
    const events: string[] = [];
    for (let e = a2.pollEvent(); e; e = a2.pollEvent()) events.push(e.type);
    expect(events).toContain('hard-expire');
    expect(seal(a1, 1).seqs).toEqual([]);
  });

  describe('seal lock (EspSa.seqLock): numbers leave in the order they were taken', () => {
    function locked(): { a1: EspEngine; a2: EspEngine; b: EspEngine; lock: Int32Array; counter: Uint32Array } {
      const t = twoSealers();
      const sab = new SharedArrayBuffer(SHARED_SA_BYTES);
      for (const e of [t.a1, t.a2]) {
        const sa = e.getSa(SPI_AB, 'out')!;
        ({ sharedSeq: sa.sharedSeq, seqLock: sa.seqLock } = sharedSaViews(sab));
      }
      const v = sharedSaViews(sab);
      return { ...t, lock: v.seqLock!, counter: v.sharedSeq };
    }

    it('a batch holds the lock until released; another engine stops before its first packet on the SA', () => {
      const { a1, a2, lock, counter } = locked();
      expect(seal(a1, 3).seqs).toEqual([1, 2, 3]);
      expect(Atomics.load(lock, 0)).toBe(2);
      const blocked = seal(a2, 4);
      expect(blocked.r.count).toBe(0);
      expect(blocked.r.blockedOn?.buffer).toBe(lock.buffer);
      expect(blocked.seqs).toEqual([]);
      // Nothing was taken, counted or dropped for the packets not reached.
      expect(counter[0]).toBe(3);
      expect(a2.getSa(SPI_AB, 'out')!.packets).toBe(0);
      expect([...a2.drops].every((x) => x === 0)).toBe(true);
      a1.releaseSealLocks();
      expect(Atomics.load(lock, 0)).toBe(0);
      const s = seal(a2, 4);
      expect(s.r.count).toBe(4);
      expect(s.r.blockedOn).toBeUndefined();
      expect(s.seqs).toEqual([4, 5, 6, 7]);
      expect(Atomics.load(lock, 0)).toBe(3);
    });

    it("an engine's next batch frees the locks of its previous one; a release never frees another engine's lock", () => {
      const { a1, a2, lock } = locked();
      seal(a1, 1);
      expect(seal(a1, 2).seqs).toEqual([2, 3]);
      expect(Atomics.load(lock, 0)).toBe(2);
      // a2 holds nothing: its release leaves a1's lock alone.
      a2.releaseSealLocks();
      expect(Atomics.load(lock, 0)).toBe(2);
      // Taken over (esp-path.ts after SEAL_LOCK_WAIT_MS): a1's late release does not free a2's lock.
      Atomics.store(lock, 0, 0);
      expect(seal(a2, 1).seqs).toEqual([4]);
      a1.releaseSealLocks();
      expect(Atomics.load(lock, 0)).toBe(3);
    });

    it('a TFC dummy packet takes a number without the lock (the peer discards it anyway)', () => {
      const { a1, a2, lock } = locked();
      seal(a1, 1);
      const r = a2.encapsulateDummy(1, 40, 0);
      expect(r.status[0]).toBe(EncapStatus.Send);
      expect(Atomics.load(lock, 0)).toBe(2);
    });

    it('an SA without a lock (a 4-byte shared buffer) seals as before', () => {
      const views = sharedSaViews(new SharedArrayBuffer(4));
      expect(views.seqLock).toBeUndefined();
      const { a1, a2 } = twoSealers();
      for (const e of [a1, a2]) e.getSa(SPI_AB, 'out')!.sharedSeq = views.sharedSeq;
      expect(seal(a1, 2).seqs).toEqual([1, 2]);
      expect(seal(a2, 2).seqs).toEqual([3, 4]);
    });
  });
});
