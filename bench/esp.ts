/**
 * `npm run bench -- esp`: the ESP engine's seal+open packets per second against the raw backend calls on the
 * same packets, per backend, suite and inner packet size (64, 512, 1400 B).
 *
 * - engine: `encapsulate` (SPD lookup, sequence number, header/padding/trailer, seal in place, UDP header) on
 *   engine A, then `decapsulate` (SPI lookup, replay check+commit, ICV/decrypt in place, trailer, inner policy
 *   check) on engine B, in batches of 32. Both work in the same buffers: after a round trip the inner packet is
 *   back where it started, so the loop copies nothing.
 * - raw: the backend's own calls on the same ESP plaintext length (payload + padding + trailer), in place in the
 *   same number of packet buffers: AEAD seal + open, or cipher encrypt + MAC, MAC + cipher decrypt, with the
 *   views any caller of the contract needs per packet, and nothing else.
 *
 * pps and raw_pps are packets per CPU-second (process.cpuUsage), best of alternating rounds, so load from other
 * processes on a shared machine does not skew the ratio.
 *
 * ratio = pps / raw_pps: what framing, replay and policy cost (issue 3 wants >= 0.85 for AES-128-GCM at 1400 B
 * on the fastest backend; issue 17 >= 0.9).
 *
 * alloc_B_per_pkt: JavaScript heap bytes the engine's seal+open allocates per packet in steady state (heap growth
 * over runs of batches between garbage collections, median; 0 means the path makes no garbage).
 */
import { getHeapStatistics } from 'node:v8';
import { availableBackends, backendUnavailableReasons } from '../src/crypto/backends/index.js';
import { seededRandom } from '../src/crypto/random.js';
import type { CryptoBackend } from '../src/crypto/types.js';
import {
  AUTH_HMAC_SHA1_96,
  AUTH_HMAC_SHA2_256_128,
  AUTH_NONE,
  DecapStatus,
  EncapStatus,
  ENCR_AES_CBC,
  ENCR_AES_GCM_16,
  ENCR_CHACHA20_POLY1305,
} from '../src/esp/constants.js';
import { ESP_HEADROOM, ESP_TAILROOM, type PacketRef } from '../src/esp/engine.js';
import { enginePair, ipv4Packet, testKey } from '../src/esp/testing.js';
import { backendSupports, encryptionKeymatBytes, integrityKeymatBytes, suiteName, type EspSuite } from '../src/esp/transform.js';
import { benchTimeMs, measure, Reporter, settle, type BenchRow } from './lib.js';

const SIZES = [64, 512, 1400];
const BATCH = 32;
/** Alternating measurement rounds per row (best of each kept). */
const ROUNDS = 8;
const BENCH = 'esp';

const SUITES: EspSuite[] = [
  { encr: ENCR_AES_GCM_16, encrKeyBits: 128, integ: AUTH_NONE },
  { encr: ENCR_AES_GCM_16, encrKeyBits: 256, integ: AUTH_NONE },
  { encr: ENCR_CHACHA20_POLY1305, integ: AUTH_NONE },
  { encr: ENCR_AES_CBC, encrKeyBits: 128, integ: AUTH_HMAC_SHA2_256_128 },
  { encr: ENCR_AES_CBC, encrKeyBits: 128, integ: AUTH_HMAC_SHA1_96 },
];

/** The engine loop: returns a function that pushes BATCH packets through A -> B and checks they arrived. */
function engineLoop(backend: CryptoBackend, suite: EspSuite, size: number): { step: () => void; espPlaintext: number } {
  const { a, b, hostA, hostB } = enginePair({ suite, backend });
  const pkt = ipv4Packet(hostA, hostB, { size });
  const refs: PacketRef[] = [];
  const dgrams: PacketRef[] = [];
  for (let i = 0; i < BATCH; i++) {
    const buffer = new Uint8Array(ESP_HEADROOM + size + ESP_TAILROOM);
    buffer.set(pkt, ESP_HEADROOM);
    refs.push({ buffer, offset: ESP_HEADROOM, length: size });
    dgrams.push({ buffer, offset: 0, length: 0 });
  }
  let now = 0;
  const step = (): void => {
    const r = a.encapsulate(refs, now);
    for (let i = 0; i < BATCH; i++) {
      if (r.status[i] !== EncapStatus.Send) throw new Error(`esp bench: encapsulate status ${r.status[i]} reason ${r.reason[i]}`);
      const d = dgrams[i]!;
      d.offset = r.offset[i]!;
      d.length = r.length[i]!;
    }
    const o = b.decapsulate(dgrams, now);
    for (let i = 0; i < BATCH; i++) {
      if (o.status[i] !== DecapStatus.Deliver) throw new Error(`esp bench: decapsulate status ${o.status[i]} reason ${o.reason[i]}`);
    }
    now++;
  };
  step();
  const t = a.getSa(0x1001, 'out')!.transform;
  const espPlaintext = dgrams[0]!.length - 8 - t.ivBytes - t.icvBytes;
  return { step, espPlaintext };
}

/**
 * The raw backend calls for one packet's seal + open, on an ESP plaintext of `len` bytes, in place, cycling over
 * BATCH separate packet buffers as the engine does. Like any caller of the AEAD contract on distinct packets, it
 * makes the plaintext/output views per call; nothing else (no header, padding, replay or policy work).
 */
function rawLoop(backend: CryptoBackend, suite: EspSuite, len: number): () => void {
  const encKey = testKey(encryptionKeymatBytes(suite), 1);
  const header = seededRandom(4).fill(new Uint8Array(8));
  const bufs = Array.from({ length: BATCH }, (_, i) => seededRandom(10 + i).fill(new Uint8Array(ESP_HEADROOM + len + 32)));
  const off = ESP_HEADROOM;
  if (suite.integ === AUTH_NONE) {
    const chacha = suite.encr === ENCR_CHACHA20_POLY1305;
    const keyBytes = chacha ? 32 : (suite.encrKeyBits ?? 128) / 8;
    const ctx = backend.createAead({ alg: chacha ? 'chacha20-poly1305' : 'aes-gcm', keyBytes, tagBytes: 16 }, encKey.subarray(0, keyBytes));
    const nonce = seededRandom(5).fill(new Uint8Array(12));
    return () => {
      for (let i = 0; i < BATCH; i++) {
        const buf = bufs[i]!;
        ctx.seal(nonce, header, buf.subarray(off, off + len), buf.subarray(off, off + len + 16));
        if (ctx.open(nonce, header, buf.subarray(off, off + len + 16), buf.subarray(off, off + len)) === null) throw new Error('raw open failed');
      }
    };
  }
  const cipher = backend.createCipher({ alg: 'aes-cbc', keyBytes: encKey.length }, encKey);
  const macAlg = suite.integ === AUTH_HMAC_SHA1_96 ? 'hmac-sha1' : 'hmac-sha256';
  const mac = backend.createMac(macAlg, testKey(integrityKeymatBytes(suite), 2));
  const ivOff = off - 16;
  const parts: Uint8Array[] = [header];
  const macOut = new Uint8Array(mac.outputBytes);
  return () => {
    for (let i = 0; i < BATCH; i++) {
      const buf = bufs[i]!;
      const body = buf.subarray(off, off + len);
      const iv = buf.subarray(ivOff, off);
      cipher.encrypt(iv, body, body);
      parts[0] = buf.subarray(ivOff - 8, off + len);
      mac.compute(parts, macOut);
      parts[0] = buf.subarray(ivOff - 8, off + len);
      mac.compute(parts, macOut);
      const body2 = buf.subarray(off, off + len);
      cipher.decrypt(buf.subarray(ivOff, off), body2, body2);
    }
  };
}

/**
 * Heap bytes `fn` allocates per call: the growth of the used heap over a run of calls, for runs in which no
 * garbage collection happened (the heap did not shrink), median over 25 runs. A few bytes of noise come from
 * the measurement itself (one heap-statistics object per run of hundreds of calls).
 */
function bytesPerCall(fn: () => void, callsPerRun = 200): number {
  const samples: number[] = [];
  for (let run = 0; run < 25; run++) {
    const before = getHeapStatistics().used_heap_size;
    for (let i = 0; i < callsPerRun; i++) fn();
    const after = getHeapStatistics().used_heap_size;
    if (after >= before) samples.push((after - before) / callsPerRun);
  }
  samples.sort((x, y) => x - y);
  return samples.length > 0 ? samples[Math.floor(samples.length / 2)]! : NaN;
}

/**
 * Operations per CPU-second of this process (user + system time from process.cpuUsage): on a shared machine the
 * wall clock also counts time other processes held the core, which skews one side of a ratio and not the other.
 * Batches are calibrated with the wall-clock `measure` from lib.ts (which also warms the JIT up).
 */
function measureCpu(fn: () => void, timeMs: number): number {
  const calib = measure(fn, { timeMs: Math.max(10, timeMs / 4) });
  const batch = Math.max(1, Math.ceil((calib.pps * timeMs) / 1000 / 8));
  settle();
  let ops = 0;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  while (performance.now() - t0 < timeMs) {
    for (let i = 0; i < batch; i++) fn();
    ops += batch;
  }
  const c = process.cpuUsage(c0);
  return (ops * 1e6) / Math.max(1, c.user + c.system);
}

export async function run(): Promise<void> {
  for (const [name, why] of Object.entries(backendUnavailableReasons())) process.stderr.write(`backend ${name} unavailable: ${why}\n`);
  const rep = new Reporter(['raw_pps', 'ratio', 'alloc_B_per_pkt']);
  const timeMs = benchTimeMs(400);
  // `--backend=<name>` restricts the run to one backend (quick checks); the default measures all of them.
  const only = process.argv.find((a) => a.startsWith('--backend='))?.slice('--backend='.length);
  for (const backend of availableBackends()) {
    if (only !== undefined && backend.name !== only) continue;
    for (const suite of SUITES) {
      if (!backendSupports(backend, suite)) continue;
      for (const size of SIZES) {
        const eng = engineLoop(backend, suite, size);
        const raw = rawLoop(backend, suite, eng.espPlaintext);
        // Alternate the two measurements and keep the best of each (per CPU-second, see measureCpu).
        let pps = 0;
        let rawPps = 0;
        for (let round = 0; round < ROUNDS; round++) {
          rawPps = Math.max(rawPps, measureCpu(raw, timeMs / ROUNDS) * BATCH);
          pps = Math.max(pps, measureCpu(eng.step, timeMs / ROUNDS) * BATCH);
        }
        const row: BenchRow = {
          bench: BENCH,
          backend: backend.name,
          algorithm: suiteName(suite),
          size,
          op: 'seal+open',
          pps,
          raw_pps: Math.round(rawPps),
          ratio: Math.round((pps / rawPps) * 100) / 100,
          alloc_B_per_pkt: Math.round((bytesPerCall(eng.step) / BATCH) * 10) / 10,
        };
        rep.add(row);
      }
    }
  }
  rep.print();
  const fastest = rep.rows
    .filter((r) => r.algorithm === 'aes-gcm-128/icv16' && r.size === 1400)
    .sort((x, y) => Number(y.raw_pps) - Number(x.raw_pps))[0];
  if (fastest) {
    const ratio = Number(fastest.ratio);
    process.stdout.write(
      `\nAES-128-GCM 1400 B on the fastest backend (${fastest.backend}): engine ${Math.round(fastest.pps)} pps, raw ${fastest.raw_pps} pps, ratio ${ratio.toFixed(2)} (target >= 0.9: ${ratio >= 0.9 ? 'met' : 'NOT met'}), ${fastest.alloc_B_per_pkt} heap bytes allocated per packet\n`,
    );
  }
}
