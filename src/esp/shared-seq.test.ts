/**
 * Outbound sequence numbers shared by engines on several threads (EspSa.sharedSeq, issue 17 worker threads): two
 * engines sealing on copies of one outbound SA must never send the same number (RFC 4303 3.3.3), and the shared
 * space ends in a soft, then a hard expiry as a private counter's does.
 */
import { describe, expect, it } from 'vitest';
import { availableBackends } from '../crypto/backends/index.js';
import { AUTH_NONE, DecapStatus, DropReason, EncapStatus, ENCR_AES_GCM_16 } from './constants.js';
import type { EncapResults, EspEngine, PacketRef } from './engine.js';
import { SHARED_SEQ_LAST, takeSharedSeq } from './sa.js';
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
  const p1 = enginePair({ suite, backend });
  const p2 = enginePair({ suite, backend });
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
});
