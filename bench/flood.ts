/**
 * `npm run bench -- flood [--rate=50000] [--malformed=5000] [--flood-ms=3000] [--peers=200] [--json]`: a responder
 * under an IKE_SA_INIT flood, sans-IO on the in-memory network (src/sim), in virtual time.
 *
 * - `rate` IKE_SA_INIT requests per simulated second from spoofed source addresses (one fresh address and SPIi
 *   each), of which `malformed` per second carry an odd-length SIGNATURE_HASH_ALGORITHMS notify (issue 11: a
 *   request that fails late, after the DH, used to escape the half-open count and with it the cookie threshold);
 *   spoofed senders never see the answers, so they never return a COOKIE or send IKE_AUTH.
 * - `peers` legitimate initiators (PSK) start at even intervals during the first two thirds of the flood.
 *
 * Run three times: with that mix, with the malformed requests alone (`malformed-only`), and with requests whose KE
 * value is no curve point alone (`bad-ke-only`, another request that fails only after the key exchange).
 *
 * Prints the share of legitimate peers established, their median and worst setup time (simulated, initiate to
 * ike-up), the key exchanges (createKeyExchange calls) the responder spent on attackers and on peers, the
 * exceptions that escaped receive() (the daemon's guard would catch them), peak heap, and the wall time.
 * Everything runs with the endpoint's default settings (strongSwan's cookie_threshold, block_threshold, ...).
 */
import { IkeEndpoint } from '../src/ike/endpoint.js';
import { child, connection, pskCredentials } from '../src/ike/config-builder.js';
import type { Address } from '../src/ike/config.js';
import { createProvider } from '../src/crypto/provider.js';
import { seededRandom } from '../src/crypto/random.js';
import type { CryptoBackend } from '../src/crypto/types.js';
import { hostIkeNode, SimNetwork, Simulation } from '../src/sim/index.js';
import { decodeIkeMessage, encodePlainMessage } from '../src/ike/wire.js';
import { NotifyType, PayloadType, type NotifyPayload, type Payload } from '../src/ike/codec/types.js';

interface Options {
  rate: number;
  malformed: number;
  floodMs: number;
  peers: number;
  json: boolean;
}

function options(argv: readonly string[]): Options {
  const num = (name: string, dflt: number): number => {
    const a = argv.find((x) => x.startsWith(`--${name}=`));
    if (!a) return dflt;
    const v = Number(a.slice(name.length + 3));
    if (!Number.isFinite(v) || v < 0) throw new Error(`--${name}: expected a non-negative number, got '${a}'`);
    return v;
  };
  return { rate: num('rate', 50_000), malformed: num('malformed', 5_000), floodMs: num('flood-ms', 3_000), peers: num('peers', 200), json: argv.includes('--json') };
}

const RESPONDER = '192.0.2.1';
const SECRET = 'flood-bench-psk-0123456789abcdef';

/** The provider, with every createKeyExchange counted against whoever sent the datagram being processed. */
function countingCrypto(base: CryptoBackend, count: () => void): CryptoBackend {
  const c = Object.create(base) as CryptoBackend & { createKeyExchange: CryptoBackend['createKeyExchange'] };
  c.createKeyExchange = (group, random) => {
    count();
    return base.createKeyExchange(group, random);
  };
  return c;
}

/**
 * A well-formed IKE_SA_INIT request as a cygnet initiator sends it, and its malformed twin: an odd-length
 * SIGNATURE_HASH_ALGORITHMS notify (`notify`), or a KE value that is no point on the curve (`ke`: refused only by
 * computeSharedSecret, after the responder made its key pair).
 */
function attackTemplates(crypto: CryptoBackend, kind: 'notify' | 'ke'): { good: Uint8Array; bad: Uint8Array } {
  const ep = new IkeEndpoint({
    connections: [connection({ name: 'x', remoteAddrs: [RESPONDER], local: { id: 'attacker.example' }, remote: { id: 'gw.example' }, children: [child('c')] })],
    credentials: pskCredentials([{ ids: [], secret: SECRET }]),
    crypto,
    random: seededRandom(99),
  });
  ep.initiate('x', 0);
  const good = ep.pollTransmit()!.data;
  const m = decodeIkeMessage(good);
  if (!m.ok) throw new Error(`template does not decode: ${m.error.message}`);
  const payloads: Payload[] = m.value.payloads.map((p) =>
    kind === 'ke'
      ? p.type === PayloadType.KE
        ? { ...p, data: new Uint8Array(p.data.length) }
        : p
      : p.type === PayloadType.NOTIFY && (p as NotifyPayload).notifyType === NotifyType.SIGNATURE_HASH_ALGORITHMS
        ? { ...(p as NotifyPayload), data: Uint8Array.of(0, 2, 0, 3, 0, 4, 0) }
        : p,
  );
  const bad = encodePlainMessage(m.value.header, payloads);
  return { good, bad };
}

function ip(n: number): string {
  return `${(n >>> 24) & 0xff}.${(n >>> 16) & 0xff}.${(n >>> 8) & 0xff}.${n & 0xff}`;
}

/**
 * Two scenarios: the full flood (well-formed and malformed requests), and the malformed requests alone (the
 * well-formed ones fill the half-open count and so hide what the malformed ones cost on their own).
 */
export async function run(): Promise<void> {
  const o = options(process.argv.slice(2));
  await scenario('flood', o, 'notify');
  if (o.malformed > 0) {
    await scenario('malformed-only', { ...o, rate: o.malformed }, 'notify');
    await scenario('bad-ke-only', { ...o, rate: o.malformed }, 'ke');
  }
}

async function scenario(name: string, o: Options, kind: 'notify' | 'ke'): Promise<void> {
  const wallStart = performance.now();
  const base = createProvider();
  const legit = new Set<string>();
  let source = '';
  const dh = { attackers: 0, peers: 0 };
  const crypto = countingCrypto(base, () => {
    if (legit.has(source)) dh.peers++;
    else dh.attackers++;
  });
  const net = new SimNetwork({ random: seededRandom(7), impairment: { delay: 10 }, capture: false });
  const sim = new Simulation({ network: net });
  const psk = pskCredentials([{ ids: [], secret: SECRET }]);
  const responder = new IkeEndpoint({
    connections: [connection({ name: 'gw', local: { id: 'gw.example' }, children: [child('net', { localTs: ['10.0.0.0/8'], remoteTs: ['dynamic'] })] })],
    credentials: psk,
    crypto,
    random: seededRandom(1),
  });
  let escaped = 0;
  let firstEscape = '';
  let answersToAttackers = 0;
  const feed = (data: Uint8Array, local: Address, remote: Address, now: number): void => {
    source = remote.address;
    try {
      responder.receive(data, local, remote, now);
    } catch (e) {
      escaped++;
      if (!firstEscape) firstEscape = e instanceof Error ? e.message : String(e);
    }
    source = '';
  };
  // The responder, its receive wrapped to count exceptions; answers to spoofed addresses go nowhere (the network
  // would drop them as unbound; skip the work, count them).
  const responderNode = {
    receive: feed,
    pollTransmit: () => responder.pollTransmit(),
    pollEvent: () => responder.pollEvent(),
    nextTimeout: () => responder.nextTimeout(),
    handleTimeout: (now: number) => responder.handleTimeout(now),
  };
  hostIkeNode(sim, net, responderNode, RESPONDER, {
    filter: (t) => {
      if (legit.has(t.remote.address)) return true;
      answersToAttackers++;
      return false;
    },
  });

  // Legitimate peers, each its own endpoint and address.
  const started: number[] = [];
  const up: number[] = [];
  const peers: IkeEndpoint[] = [];
  for (let i = 0; i < o.peers; i++) {
    const address = ip((10 << 24) | (1 << 16) | (i + 1));
    legit.add(address);
    const ep = new IkeEndpoint({
      connections: [connection({ name: 'gw', remoteAddrs: [RESPONDER], local: { id: `peer${i}.example` }, remote: { id: 'gw.example' }, children: [child('net', { remoteTs: ['10.0.0.0/8'] })] })],
      credentials: psk,
      crypto: base,
      random: seededRandom(1000 + i),
    });
    peers.push(ep);
    hostIkeNode(sim, net, ep, address, {
      onEvent: (e, now) => {
        if (e.type === 'ike-up' && up[i] === undefined) up[i] = now;
      },
    });
    const at = Math.round(((i + 0.5) * (o.floodMs * 2)) / 3 / Math.max(1, o.peers));
    sim.at(at, (now) => {
      started[i] = now;
      ep.initiate('gw', now, { local: { address, port: 500 } });
    });
  }

  // The flood: every simulated millisecond, rate/1000 requests from fresh spoofed addresses and SPIs.
  const { good, bad } = attackTemplates(base, kind);
  const perMs = o.rate / 1000;
  const badEvery = o.malformed > 0 ? o.rate / o.malformed : Infinity;
  let sent = 0;
  let carry = 0;
  let spoof = (198 << 24) | (18 << 16);
  const local = { address: RESPONDER, port: 500 };
  const tick = (now: number): void => {
    carry += perMs;
    for (; carry >= 1; carry--) {
      const malformed = Math.floor((sent + 1) / badEvery) > Math.floor(sent / badEvery);
      const d = (malformed ? bad : good).slice();
      d[0] = 0x5a;
      d[4] = sent >>> 24;
      d[5] = (sent >>> 16) & 0xff;
      d[6] = (sent >>> 8) & 0xff;
      d[7] = sent & 0xff;
      sent++;
      spoof = (spoof + 1) | 0;
      feed(d, local, { address: ip(spoof >>> 0), port: 500 }, now);
    }
    if (now + 1 < o.floodMs) sim.at(now + 1, tick);
  };
  sim.at(0, tick);

  // With --expose-gc (the bench sets it up, see run()) the samples are live heap after a full GC, not garbage.
  const gc = (globalThis as { gc?: () => void }).gc;
  let peakHeap = 0;
  const sample = (now: number): void => {
    gc?.();
    peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
    if (now < o.floodMs + 60_000) sim.at(now + 100, sample);
  };
  sim.at(0, sample);
  const established = (): number => up.filter((x) => x !== undefined).length;
  const r = sim.runUntil(() => sim.now >= o.floodMs && established() === o.peers, { maxTime: o.floodMs + 60_000, maxSteps: 10_000_000 });

  const setup = up.map((t, i) => t - started[i]!).filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  const median = setup.length ? setup[Math.floor((setup.length - 1) / 2)]! : NaN;
  const worst = setup.length ? setup[setup.length - 1]! : NaN;
  const wallS = (performance.now() - wallStart) / 1000;
  const heapMb = peakHeap / 2 ** 20;
  const result = {
    bench: 'flood',
    scenario: name,
    rate: o.rate,
    malformedRate: o.malformed,
    floodMs: o.floodMs,
    attackRequests: sent,
    peers: o.peers,
    established: established(),
    establishedShare: o.peers ? established() / o.peers : 1,
    setupMedianMs: median,
    setupWorstMs: worst,
    dhAttackers: dh.attackers,
    dhPeers: dh.peers,
    escapedExceptions: escaped,
    answersToAttackers,
    peakHeapMb: Math.round(heapMb * 10) / 10,
    heapLive: gc !== undefined,
    simEndMs: r.now,
    wallS: Math.round(wallS * 10) / 10,
  };
  const out = o.json ? process.stderr : process.stdout;
  out.write(
    [
      `${name}: ${sent} IKE_SA_INIT from spoofed addresses over ${o.floodMs} ms simulated (${o.rate}/s, ${Math.min(o.rate, o.malformed)}/s ${kind === 'ke' ? 'with an invalid KE value' : 'with an odd-length notify'}), ${o.peers} legitimate peers`,
      `  legitimate peers established  ${established()}/${o.peers} (${(result.establishedShare * 100).toFixed(1)} %)`,
      `  setup time (simulated)        median ${median} ms, worst ${worst} ms`,
      `  key exchanges on attackers    ${dh.attackers}   (on peers ${dh.peers})`,
      `  exceptions out of receive()   ${escaped}${firstEscape ? ` (first: ${firstEscape})` : ''}`,
      `  answers to spoofed addresses  ${answersToAttackers}`,
      `  peak heap                     ${heapMb.toFixed(1)} MB (${gc ? 'live, after full GC every 100 ms simulated' : 'heapUsed, garbage included: run with NODE_OPTIONS=--expose-gc for live heap'})`,
      `  simulated end ${r.now} ms (${r.reason}), wall ${wallS.toFixed(1)} s`,
      '',
    ].join('\n'),
  );
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
