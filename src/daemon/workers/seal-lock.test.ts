/**
 * Worker threads sealing on one outbound SA (issue 17, EspSa.seqLock): with the seal lock the sequence numbers reach
 * the "kernel" in the order they were taken, however a thread is descheduled between sealing and sending; without
 * it they interleave (what the peer's replay window dropped in interop 97). Two real threads, EspPath.seal each.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { availableBackends } from '../../crypto/backends/index.js';
import { AUTH_NONE, ENCR_AES_GCM_16 } from '../../esp/constants.js';
import { SHARED_SA_BYTES, sharedSaViews } from '../../esp/sa.js';
import { enginePair, ipv4Packet, SPI_AB, withRoom } from '../../esp/testing.js';
import type { GatewayNet } from '../../gateway/contracts.js';
import { EspPath } from '../../gateway/esp-path.js';
import type { SealerData } from './seal-lock.fixture.js';

const BATCHES = 150;
const BATCH = 16;

function spawn(data: SealerData): Worker {
  const self = new URL('./seal-lock.fixture.ts', import.meta.url).href;
  const api = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
  const stub = `import(${JSON.stringify(api)}).then((t) => { t.register(); return import(${JSON.stringify(self)}); }).catch((e) => { throw e; });`;
  return new Worker(stub, { eval: true, workerData: data });
}

/** Two sealing threads on one SA; the numbers in the order they were "sent". */
async function twoThreads(lock: boolean): Promise<number[]> {
  const sa = new SharedArrayBuffer(SHARED_SA_BYTES);
  const log = new SharedArrayBuffer(4 * (1 + 2 * BATCHES * BATCH));
  const start = new SharedArrayBuffer(4);
  const workers = [2, 3].map((owner) => spawn({ role: 'seal-lock-fixture', sa, log, start, owner, batches: BATCHES, batchSize: BATCH, lock }));
  const ready: Promise<void>[] = [];
  const done = workers.map((w) => {
    let isReady: () => void = () => {};
    ready.push(new Promise<void>((r) => (isReady = r)));
    return new Promise<number>((resolve, reject) => {
      w.on('message', (m: { ready?: boolean; sent?: number }) => (m.ready ? isReady() : resolve(m.sent ?? -1)));
      w.once('error', reject);
    });
  });
  // Both threads are loaded (tsx) and about to wait before they start together.
  await Promise.all(ready);
  await new Promise((r) => setTimeout(r, 50));
  const go = new Int32Array(start);
  Atomics.store(go, 0, 1);
  Atomics.notify(go, 0);
  const sent = await Promise.all(done);
  await Promise.all(workers.map((w) => w.terminate()));
  expect(sent).toEqual([BATCHES * BATCH, BATCHES * BATCH]);
  const l = new Int32Array(log);
  return [...l.subarray(1, 1 + l[0]!)];
}

const inversions = (seqs: number[]): number => seqs.reduce((n, s, i) => (i > 0 && s < seqs[i - 1]! ? n + 1 : n), 0);

describe('EspPath.seal with threads sharing an outbound SA', () => {
  it('with the seal lock every number leaves in order, none twice, none skipped', async () => {
    const seqs = await twoThreads(true);
    expect(seqs).toHaveLength(2 * BATCHES * BATCH);
    expect(inversions(seqs)).toBe(0);
    expect(seqs[0]).toBe(1);
    expect(seqs[seqs.length - 1]).toBe(2 * BATCHES * BATCH);
  }, 30_000);

  it('without it (the shared counter alone) the same threads send numbers out of order', async () => {
    const seqs = await twoThreads(false);
    expect(new Set(seqs).size).toBe(2 * BATCHES * BATCH);
    expect(inversions(seqs)).toBeGreaterThan(0);
  }, 30_000);

  it('a driver that throws while sending does not leave the lock held (the other threads would wait 50 ms per batch)', () => {
    const backends = availableBackends();
    const { a } = enginePair({ suite: { encr: ENCR_AES_GCM_16, encrKeyBits: 128, integ: AUTH_NONE }, backend: backends[backends.length - 1]!, sealLockOwner: 2 });
    const out = a.getSa(SPI_AB, 'out')!;
    const views = sharedSaViews(new SharedArrayBuffer(SHARED_SA_BYTES));
    ({ sharedSeq: out.sharedSeq, seqLock: out.seqLock } = views);
    const net = { sendEsp: () => {}, flushEsp: () => { throw new Error('sendmmsg: EBADF'); }, sendIke: () => {} } as unknown as GatewayNet;
    const path = new EspPath({ engine: a, net, tun: undefined, log: () => {}, counters: { espOut: 0, espDrops: 0, delivered: 0, undeliverable: 0, mssClamped: 0 }, mssMtu: undefined, fixedMtu: true, guard: (_w, f) => f(), fault: () => {}, espActivity: () => {}, acquire: () => {} });
    expect(() => path.seal([withRoom(ipv4Packet('10.1.0.5', '10.2.0.9', { size: 100 }))], 0)).toThrow('EBADF');
    expect(views.sharedSeq[0]).toBe(1);
    expect(Atomics.load(views.seqLock!, 0)).toBe(0);
  });
});
