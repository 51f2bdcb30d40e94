import { describe, expect, it } from 'vitest';
import { createMemoryTun, createMemoryTunPair } from './memory.js';
import { buildIpv4, icmpEcho } from '../../test/helpers/packets.js';

const pkt = (i: number) => buildIpv4('10.0.0.1', '10.0.0.2', 1, icmpEcho(1, i));
const seqOf = (p: Uint8Array) => (p[26]! << 8) | p[27]!;

describe('MemoryTun', () => {
  it('host inject -> device read, device write -> host, byte for byte', async () => {
    const { tun, host } = createMemoryTun({ mtu: 1400 });
    const src = pkt(1);
    host.inject(src);
    src[0] = 0; // the device holds a copy
    const got = tun.readBatch();
    expect(got).toHaveLength(1);
    expect(got[0]).toEqual(pkt(1));
    const out = pkt(2);
    expect(tun.writeBatch([out])).toBe(1);
    out[0] = 0;
    expect(host.take()).toEqual([pkt(2)]);
    expect(tun.stats).toMatchObject({ rxPackets: 1, txPackets: 1, rxBytes: pkt(1).length });
  });

  it('pushes batches of at most batchSize per event-loop turn, in order', async () => {
    const { tun, host } = createMemoryTun({ batchSize: 64 });
    const batches: number[][] = [];
    const done = new Promise<void>((resolve) =>
      tun.onPackets((b) => {
        batches.push(b.map(seqOf));
        if (batches.flat().length === 200) resolve();
      }),
    );
    host.inject(Array.from({ length: 200 }, (_, i) => pkt(i)));
    expect(batches).toHaveLength(0); // async delivery: nothing inside inject()
    await done;
    expect(batches.map((b) => b.length)).toEqual([64, 64, 64, 8]);
    expect(batches.flat()).toEqual(Array.from({ length: 200 }, (_, i) => i));
  });

  it('sync delivery for virtual-time simulations, and headroom in front of each packet', () => {
    const { tun, host } = createMemoryTun({ delivery: 'sync', headroom: 56 });
    const seen: Uint8Array[] = [];
    tun.onPackets((b) => seen.push(...b));
    host.inject([pkt(7)]);
    expect(seen).toHaveLength(1);
    const p = seen[0]!;
    expect(p.byteOffset).toBe(56);
    const withRoom = new Uint8Array(p.buffer, p.byteOffset - tun.headroom, tun.headroom + p.length);
    expect(withRoom.subarray(56)).toEqual(pkt(7));
  });

  it('drops and counts beyond the queue limit', () => {
    const { tun, host } = createMemoryTun({ queueLimit: 10 });
    host.inject(Array.from({ length: 15 }, (_, i) => pkt(i)));
    expect(tun.pending).toBe(10);
    expect(tun.stats.rxDropped).toBe(5);
    expect(tun.readBatch(100).map(seqOf)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('a pair is wired back to back; closed devices drop writes', async () => {
    const [a, b] = createMemoryTunPair({ delivery: 'sync' }, { delivery: 'sync' });
    const atB: number[] = [];
    b.onPackets((batch) => {
      atB.push(...batch.map(seqOf));
      // Echo back from inside the handler: re-entrancy must not recurse without bound.
      b.writeBatch(batch);
    });
    const atA: number[] = [];
    a.onPackets((batch) => atA.push(...batch.map(seqOf)));
    a.writeBatch([pkt(1), pkt(2)]);
    expect(atB).toEqual([1, 2]);
    expect(atA).toEqual([1, 2]);
    await b.close();
    expect(a.writeBatch([pkt(3)])).toBe(1); // a accepted it; b is gone
    expect(b.writeBatch([pkt(4)])).toBe(0);
    expect(b.stats.txDropped).toBe(1);
    await expect(a.setMtu(100)).rejects.toMatchObject({ code: 'BAD_OPTION' });
    await a.setMtu(1280);
    expect(a.mtu).toBe(1280);
  });

  it('host.onWrite receives writes, including those buffered before it was set', () => {
    const { tun, host } = createMemoryTun();
    tun.writeBatch([pkt(1)]);
    const got: number[] = [];
    host.onWrite((ps) => got.push(...ps.map(seqOf)));
    tun.writeBatch([pkt(2)]);
    expect(got).toEqual([1, 2]);
    expect(host.take()).toEqual([]);
  });
});
