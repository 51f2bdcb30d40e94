/**
 * Worker threads sealing on one outbound SA (issue 17, EspSa.seqLock): with the seal lock the sequence numbers reach
 * the "kernel" in the order they were taken, however a thread is descheduled between sealing and sending; without
 * it they interleave (what the peer's replay window dropped in interop 97). Two real threads, EspPath.seal each.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { SHARED_SA_BYTES } from '../../esp/sa.js';
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
});
