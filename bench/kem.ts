/**
 * `npm run bench -- kem`: ML-KEM (FIPS 203, key exchange methods 35-37) operations per second next to X25519 (31)
 * in the same run, through the same entry points IKE uses: createKemInitiator (keygen), kemRespond (ek check +
 * encaps), the initiator's computeSharedSecret (decaps); createKeyExchange / computeSharedSecret for X25519.
 *
 * The machine is shared, so operations are counted per second of this process's CPU time (process.cpuUsage, all
 * of its threads), not of wall time, which other processes' load would stretch; and every measurement is repeated
 * in ROUNDS interleaved rounds (X25519 and ML-KEM take turns) and the table shows the median of each.
 *
 * Ends with ratios against X25519 on the same backend (noble, pure JS, the only ML-KEM here) and against node's
 * X25519 (what an IKE_SA_INIT uses today), per side of one exchange: the initiator does keygen + decaps, the
 * responder encaps; a Diffie-Hellman side does keygen + derive.
 */
import { availableBackends } from '../src/crypto/backends/index.js';
import { createKemInitiator, kemRespond } from '../src/crypto/kem.js';
import { mlKemParams } from '../src/crypto/mlkem.js';
import { seededRandom } from '../src/crypto/random.js';
import type { CryptoBackend } from '../src/crypto/types.js';
import { benchFilter, benchTimeMs, Reporter, settle } from './lib.js';

const BENCH = 'kem';
const ML_KEM = [35, 36, 37];
const X25519 = 31;
const ROUNDS = 3;

type Ops = Record<string, number>;

/** CPU milliseconds (user + system) this process has used so far. */
const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/**
 * Operations per CPU-second of `fn`: a warm-up batch, then batches of ~1/10 of `timeMs` CPU time until `timeMs` of
 * CPU time has gone into them (the clock is read once per batch, as lib.ts's measure does with wall time).
 */
function measure(fn: () => unknown, opts: { timeMs: number }): { pps: number } {
  settle();
  let batch = 1;
  for (;;) {
    const t0 = cpuMs();
    for (let i = 0; i < batch; i++) fn();
    const dt = cpuMs() - t0;
    if (dt >= opts.timeMs / 10) break;
    batch = dt < 1 ? batch * 4 : Math.max(batch * 2, Math.ceil((batch * opts.timeMs) / 10 / dt));
  }
  let ops = 0;
  const start = cpuMs();
  let used = 0;
  while (used < opts.timeMs) {
    for (let i = 0; i < batch; i++) fn();
    ops += batch;
    used = cpuMs() - start;
  }
  return { pps: (ops * 1000) / used };
}

function benchMlKem(b: CryptoBackend, method: number, timeMs: number): Ops {
  const random = seededRandom(method);
  const keygen = measure(() => createKemInitiator(b, method, random).dispose(), { timeMs });
  const initiator = createKemInitiator(b, method, random);
  const encaps = measure(() => kemRespond(b, method, initiator.publicValue, random).dispose(), { timeMs });
  const responder = kemRespond(b, method, initiator.publicValue, random);
  const decaps = measure(() => initiator.computeSharedSecret(responder.publicValue), { timeMs });
  initiator.dispose();
  responder.dispose();
  return { keygen: keygen.pps, encaps: encaps.pps, decaps: decaps.pps };
}

function benchX25519(b: CryptoBackend, timeMs: number): Ops {
  const random = seededRandom(X25519);
  const keygen = measure(() => b.createKeyExchange(X25519, random).dispose(), { timeMs });
  const ours = b.createKeyExchange(X25519, random);
  const peer = b.createKeyExchange(X25519, random);
  const derive = measure(() => ours.computeSharedSecret(peer.publicValue), { timeMs });
  ours.dispose();
  peer.dispose();
  return { keygen: keygen.pps, derive: derive.pps };
}

/** Exchanges per second for one side doing `a` then `b` (times add: 1 / (1/a + 1/b)). */
const serial = (...ops: number[]): number => 1 / ops.reduce((s, o) => s + 1 / o, 0);

export async function run(): Promise<void> {
  const timeMs = benchTimeMs(300);
  const want = benchFilter();
  const rep = new Reporter();
  const samples = new Map<string, Ops[]>();
  const take = (key: string, ops: Ops): void => {
    samples.set(key, [...(samples.get(key) ?? []), ops]);
  };
  for (let round = 0; round < ROUNDS; round++) {
    for (const b of availableBackends()) {
      if (b.hasKeyExchange(X25519) && want(`${b.name} X25519`)) take(`${b.name} X25519`, benchX25519(b, timeMs));
      for (const m of ML_KEM) {
        const name = mlKemParams(m)!.name;
        if (b.hasKem?.(m) === true && want(`${b.name} ${name}`)) take(`${b.name} ${name}`, benchMlKem(b, m, timeMs));
      }
    }
  }
  const median = (v: number[]): number => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
  const x: Record<string, Ops> = {};
  const k: Record<string, Ops> = {};
  for (const [key, list] of samples) {
    const [backend, algorithm] = key.split(' ') as [string, string];
    const ops: Ops = {};
    for (const op of Object.keys(list[0]!)) {
      ops[op] = median(list.map((o) => o[op]!));
      const p = ML_KEM.map((m) => mlKemParams(m)!).find((q) => q.name === algorithm);
      const size = p === undefined ? 32 : op === 'keygen' ? p.ekBytes : p.ctBytes;
      rep.add({ bench: BENCH, backend, algorithm, size, op, pps: ops[op]!, rounds: ROUNDS });
    }
    if (algorithm === 'X25519') x[backend] = ops;
    else k[key] = ops;
  }
  const summary: string[] = [];
  const kem = k['noble ML-KEM-768'];
  const fmt = (v: number): string => v.toFixed(2);
  if (kem !== undefined) {
    for (const [backend, dh] of Object.entries(x)) {
      const dhSide = serial(dh['keygen']!, dh['derive']!);
      summary.push(
        `ML-KEM-768 (noble) / X25519 (${backend}), same run: keygen ${fmt(kem['keygen']! / dh['keygen']!)}x, ` +
          `encaps ${fmt(kem['encaps']! / dh['derive']!)}x of derive, decaps ${fmt(kem['decaps']! / dh['derive']!)}x of derive; ` +
          `initiator side (keygen+decaps) ${fmt(serial(kem['keygen']!, kem['decaps']!) / dhSide)}x, ` +
          `responder side (encaps) ${fmt(kem['encaps']! / dhSide)}x of a DH side (keygen+derive)`,
      );
    }
  }
  rep.print(summary);
}
