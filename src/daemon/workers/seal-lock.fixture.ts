/**
 * A sealing thread for seal-lock.test.ts: an engine replica of one shared outbound SA (as a data worker's)
 * sealing batches through EspPath.seal, whose driver "sends" a batch by appending its sequence numbers to a shared
 * log after a random pause (a thread descheduled between sealing and sendmmsg).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { availableBackends } from '../../crypto/backends/index.js';
import { AUTH_NONE, ENCR_AES_GCM_16 } from '../../esp/constants.js';
import { sharedSaViews } from '../../esp/sa.js';
import { enginePair, ipv4Packet, SPI_AB, withRoom } from '../../esp/testing.js';
import type { GatewayNet } from '../../gateway/contracts.js';
import { EspPath } from '../../gateway/esp-path.js';

export interface SealerData {
  readonly role: 'seal-lock-fixture';
  /** The SA's shared memory (SHARED_SA_BYTES). */
  readonly sa: SharedArrayBuffer;
  /** Int32: [entries used, seq, seq, ...]. */
  readonly log: SharedArrayBuffer;
  /** Int32: [go]: both threads start when it turns 1. */
  readonly start: SharedArrayBuffer;
  readonly owner: number;
  readonly batches: number;
  readonly batchSize: number;
  /** Use the seal lock (false: the shared counter alone, as before the lock). */
  readonly lock: boolean;
}

function run(d: SealerData): void {
  const backends = availableBackends();
  const { a } = enginePair({ suite: { encr: ENCR_AES_GCM_16, encrKeyBits: 128, integ: AUTH_NONE }, backend: backends[backends.length - 1]!, sealLockOwner: d.owner });
  const out = a.getSa(SPI_AB, 'out')!;
  const views = sharedSaViews(d.sa);
  out.sharedSeq = views.sharedSeq;
  if (d.lock) out.seqLock = views.seqLock;
  const log = new Int32Array(d.log);
  const pending: number[] = [];
  const net: GatewayNet = {
    sendEsp: (buf, off) => void pending.push(new DataView(buf.buffer, buf.byteOffset).getUint32(off + 12)),
    flushEsp: () => {
      // 0-300 µs between taking the numbers and the kernel having the datagrams.
      const until = performance.now() + Math.random() * 0.3;
      while (performance.now() < until);
      for (const seq of pending) log[Atomics.add(log, 0, 1) + 1] = seq;
      pending.length = 0;
    },
    sendIke: () => {},
  };
  const counters = { espOut: 0, espDrops: 0, delivered: 0, undeliverable: 0, mssClamped: 0 };
  const path = new EspPath({
    engine: a,
    net,
    tun: undefined,
    log: () => {},
    counters,
    mssMtu: undefined,
    fixedMtu: true,
    guard: (_w, f) => f(),
    fault: (_w, e) => {
      throw e;
    },
    espActivity: () => {},
    acquire: () => {},
  });
  parentPort?.postMessage({ ready: true });
  Atomics.wait(new Int32Array(d.start), 0, 0);
  for (let b = 0; b < d.batches; b++) {
    const refs = Array.from({ length: d.batchSize }, (_, i) => withRoom(ipv4Packet('10.1.0.5', '10.2.0.9', { sport: 1000 + i, size: 100 })));
    path.seal(refs, 0);
  }
  parentPort?.postMessage({ sent: counters.espOut });
}

const d = workerData as SealerData | null;
if (parentPort && d?.role === 'seal-lock-fixture') run(d);
