/**
 * Exchange-level fuzzer with real keys (issue 11).
 *
 * Two real IkeEndpoints talk in virtual time. For one target message per input (a request on its way to the
 * responder, or a response on its way back to the initiator) the fuzzer opens the SK/SKF payload with the IKE
 * SA's real keys (reachable in-process through IkeEndpoint.ikeSa), mutates the inner payload chain structurally
 * (mutate.ts), seals it again with the same keys and delivers it, so every mutation passes the ICV and reaches
 * the payload decoders, the rule checks and the exchange logic. IKE_SA_INIT is plaintext and mutated as is.
 *
 * Invariants after each input:
 *   - no exception escapes receive / handleTimeout / poll* / nextTimeout / commands, and the endpoint's safety
 *     net (IkeEndpoint.internalErrors) is never hit: every error is typed and mapped (RFC 7296 2.21);
 *   - after simulated time passes the retransmission and half-open timeouts, no IKE SA is CONNECTING, REKEYING,
 *     REKEYED or DELETING and no CHILD SA REKEYING/REKEYED/DELETING (established or gone: not wedged);
 *   - state stays bounded: IKE SAs, CHILD SAs, datagrams per delivery round.
 *
 * Reuse: CREATE_CHILD_SA and INFORMATIONAL inputs run one after another on an established pair (one DH per
 * episode, not per input) until the pair is broken or the episode quota is used; IKE_SA_INIT / IKE_AUTH inputs
 * need a fresh IKE SA each, on fresh endpoints (no state carried over).
 */
import { IkeEndpoint } from '../../src/ike/endpoint.js';
import type { IkeSa } from '../../src/ike/ike-sa.js';
import { child, connection, pskCredentials } from '../../src/ike/config-builder.js';
import type { Credentials, EndpointSettings, IkeConnectionConfig } from '../../src/ike/config.js';
import { seededRandom, type RandomSource } from '../../src/crypto/random.js';
import { createProvider } from '../../src/crypto/provider.js';
import type { CryptoBackend, KeyExchange } from '../../src/crypto/types.js';
import { decodeHeader, decodeMessage, openEncrypted, sealMessage } from '../../src/ike/codec/index.js';
import { ExchangeType, PayloadType, type IkeHeaderInit, type SkKeys } from '../../src/ike/codec/types.js';
import { totalRetransmitTime } from '../../src/ike/retransmit.js';
import type { IkeEvent, Transmit } from '../../src/ike/events.js';
import { generateKey, issueCertificate, publicKeyOf, sameCertificate, TrustStore, type Certificate, type PrivateKey } from '../../src/pki/index.js';
import { parsePool, type AddressPoolConfig } from '../../src/ike/pool.js';
import { joinChain, mutateChain, seedDonors, splitChain, type Rng, type Segment } from './mutate.js';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * The real crypto backend, except that Diffie-Hellman values are drawn from a small pool and reused across SAs,
 * and g^ir is memoized per (our value, peer value): RFC 7296 2.12 allows reusing DH exponents, and it turns the
 * ~0.6 ms of a fresh X25519 key per exchange into a lookup, so inputs are spent on parsing, not on key generation.
 * A mutated KE payload is a new peer value and goes through the real validation and computation.
 */
function reusingKeyExchanges(inner: CryptoBackend): CryptoBackend {
  const pools = new Map<number, KeyExchange[]>();
  const memo = new Map<string, Uint8Array>();
  const random = seededRandom(0x6b65);
  let turn = 0;
  const backend: CryptoBackend = Object.create(inner);
  backend.createKeyExchange = (group: number): KeyExchange => {
    let pool = pools.get(group);
    if (!pool) pools.set(group, (pool = []));
    if (pool.length < 4) pool.push(inner.createKeyExchange(group, random));
    const real = pool[turn++ % pool.length]!;
    const id = pool.indexOf(real);
    return {
      group,
      publicValue: real.publicValue.slice(),
      computeSharedSecret(peer: Uint8Array): Uint8Array {
        const k = `${group}/${id}/${Buffer.from(peer).toString('hex')}`;
        let s = memo.get(k);
        if (!s) {
          s = real.computeSharedSecret(peer);
          if (memo.size > 4096) memo.clear();
          memo.set(k, s);
        }
        return s.slice();
      },
      dispose(): void {},
    };
  };
  return backend;
}

const crypto = reusingKeyExchanges(createProvider());
const NOW = Date.UTC(2026, 11, 1);
const DAY = 86_400_000;
const A_ADDR = '192.0.2.1';
const B_ADDR = '192.0.2.2';

export type AuthKind = 'psk' | 'rsa' | 'ecdsa' | 'ed25519';

export interface FuzzOptions {
  readonly seed: number;
  /** Stop after this many inputs (mutated messages delivered)... */
  readonly inputs?: number;
  /** ...or after this many wall-clock seconds, whichever comes first. */
  readonly seconds?: number;
  /** Only scenarios whose name contains this (CLI --only). */
  readonly only?: string;
  /** Progress lines (CLI). */
  readonly progress?: (line: string) => void;
}

export interface FuzzReport {
  readonly seed: number;
  readonly inputs: number;
  readonly escaped: number;
  readonly safetyNet: number;
  readonly wedged: number;
  readonly unbounded: number;
  readonly maxSas: number;
  readonly maxChildren: number;
  /** Most datagrams an endpoint had queued for sending at once. */
  readonly maxQueue: number;
  readonly perScenario: Record<string, number>;
  /** CPU milliseconds spent per scenario (to balance the CI mix). */
  readonly msPerScenario: Record<string, number>;
  /** The first few findings, each with the scenario and what happened. */
  readonly findings: string[];
  readonly seconds: number;
  /** Live heap (MB, after a full GC) once a tenth of the run is done, and the most at any later tenth. */
  readonly heapWarmMb: number;
  readonly heapMaxMb: number;
}

/** heapUsed in MB after a full garbage collection (V8's gc() reached without --expose-gc on the command line). */
function liveHeapMb(): number {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
  return process.memoryUsage().heapUsed / 1_048_576;
}

export function formatReport(r: FuzzReport): string {
  return `exchange fuzzer: ${r.inputs} inputs (seed ${r.seed}), ${r.escaped} escaped exceptions, ${r.safetyNet} safety-net hits, ${r.wedged} wedged SAs, ${r.unbounded} unbounded states, max SAs ${r.maxSas}, max CHILD SAs ${r.maxChildren}, max queued datagrams ${r.maxQueue}, live heap ${r.heapWarmMb.toFixed(1)} MB after a tenth of the run and at most ${r.heapMaxMb.toFixed(1)} MB later (${r.seconds.toFixed(1)} s)`;
}

// ---------------------------------------------------------------------------------------------- configs

interface Pki {
  root: Certificate;
  inter: Certificate;
  hosts: Record<Exclude<AuthKind, 'psk'>, { a: { cert: Certificate; key: PrivateKey }; b: { cert: Certificate; key: PrivateKey } }>;
}

let pkiCache: Pki | undefined;
function pki(): Pki {
  if (pkiCache) return pkiCache;
  let serial = 1;
  const rootKey = generateKey({ type: 'ecdsa', size: 256 });
  const root = issueCertificate({ subject: 'C=CH, O=cygnet, CN=fuzz Root CA', publicKey: publicKeyOf(rootKey), signingKey: rootKey, serial: Uint8Array.of(serial++), notBefore: NOW - DAY, notAfter: NOW + 3650 * DAY, ca: true });
  const interKey = generateKey({ type: 'ecdsa', size: 256 });
  const inter = issueCertificate({ subject: 'C=CH, O=cygnet, CN=fuzz Intermediate CA', publicKey: publicKeyOf(interKey), issuer: root, signingKey: rootKey, serial: Uint8Array.of(serial++), notBefore: NOW - DAY, notAfter: NOW + 1000 * DAY, ca: true, pathLen: 0 });
  const host = (cn: string, type: 'rsa' | 'ecdsa' | 'ed25519') => {
    const key = generateKey({ type, ...(type === 'rsa' ? { size: 2048 } : type === 'ecdsa' ? { size: 256 } : {}) });
    const cert = issueCertificate({ subject: `C=CH, O=cygnet, CN=${cn}`, publicKey: publicKeyOf(key), issuer: inter, signingKey: interKey, serial: Uint8Array.of(serial++), notBefore: NOW - DAY, notAfter: NOW + 365 * DAY, san: [cn], flags: ['serverAuth', 'ikeIntermediate'] });
    return { cert, key };
  };
  const hosts = {} as Pki['hosts'];
  for (const t of ['rsa', 'ecdsa', 'ed25519'] as const) hosts[t] = { a: host('a.example', t), b: host('b.example', t) };
  pkiCache = { root, inter, hosts };
  return pkiCache;
}

const PSK = pskCredentials([{ ids: ['a.example', 'b.example'], secret: 'exchange fuzzer' }]);

interface Setup {
  readonly a: { conns: IkeConnectionConfig[]; creds: Credentials };
  readonly b: { conns: IkeConnectionConfig[]; creds: Credentials; pools?: AddressPoolConfig[] };
}

const setups = new Map<string, Setup>();
function setupFor(auth: AuthKind, suite: number, frag: boolean, vip = false): Setup {
  const key = `${auth}/${suite}/${frag}/${vip}`;
  const have = setups.get(key);
  if (have) return have;
  const proposals = suite === 0 ? 'aes128gcm16-prfsha256-x25519' : 'aes128-sha256-x25519';
  const children = (l: string, r: string) => [
    child('c', { localTs: [l], remoteTs: [r], espProposals: 'aes128gcm16-x25519' }),
    child('c2', { localTs: [l], remoteTs: [r], espProposals: 'aes256gcm16,aes128-sha256' }),
  ];
  const side = (me: 'a' | 'b') => {
    const other = me === 'a' ? 'b' : 'a';
    // With virtual IPs (RFC 7296 3.15) A asks for an address of each family and B leases them from its pools.
    const ts = vip ? (me === 'a' ? ['dynamic', '10.2.0.0/16'] : ['10.2.0.0/16', 'dynamic']) : me === 'a' ? ['10.1.0.0/16', '10.2.0.0/16'] : ['10.2.0.0/16', '10.1.0.0/16'];
    const base = {
      name: 'gw',
      proposals,
      localAddrs: me === 'a' ? [A_ADDR] : ['%any'],
      remoteAddrs: me === 'a' ? [B_ADDR] : ['%any'],
      children: children(ts[0]!, ts[1]!),
      ...(frag ? { fragmentSize: 420 } : {}),
      ...(vip ? (me === 'a' ? { vips: ['0.0.0.0', '::'] } : { pools: ['v4', 'v6'] }) : {}),
    };
    if (auth === 'psk') return { conns: [connection({ ...base, local: { id: `${me}.example` }, remote: { id: `${other}.example` } })], creds: PSK };
    const p = pki();
    const own = p.hosts[auth][me];
    const conns = [connection({ ...base, sendCert: 'always', local: { auth: 'pubkey', id: `${me}.example`, certs: [own.cert, p.inter] }, remote: { auth: 'pubkey', id: `${other}.example` } })];
    const creds: Credentials = { ...pskCredentials([]), privateKeyFor: (c) => (sameCertificate(c, own.cert) ? own.key : undefined), trust: new TrustStore([p.root], []) };
    return { conns, creds };
  };
  const s: Setup = { a: side('a'), b: { ...side('b'), ...(vip ? { pools: [parsePool('v4', '10.3.0.0/28', ['10.2.0.53']), parsePool('v6', 'fd00:3::/124', ['fd00:2::53'])] } : {}) } };
  setups.set(key, s);
  return s;
}

// ---------------------------------------------------------------------------------------------- the pair

const SETTINGS: Partial<EndpointSettings> = { epochOffsetMs: NOW };
/**
 * Time after which everything has completed or timed out: the longest legitimate chain is a REKEYED SA waiting
 * for the peer's Delete (one retransmission sequence), then our own Delete timing out (another), plus the
 * half-open timeout and a margin.
 */
const SETTLE_MS = 2 * totalRetransmitTime({ timeoutMs: 4000, base: 1.8, tries: 5, limitMs: 0, jitterPercent: 0 }) + 30_000 + 60_000;
const MAX_ROUNDS = 64;
const MAX_DATAGRAMS_PER_ROUND = 128;
const MAX_SAS = 16;
const MAX_CHILDREN = 24;

export type Intercept = (from: 'A' | 'B', datagrams: Uint8Array[]) => Uint8Array[];
export type FindingKind = 'escaped' | 'wedged' | 'unbounded' | 'safety-net';
interface Sink {
  finding(kind: FindingKind, what: string): void;
}

/**
 * Two endpoints (A initiates to B) wired back to back in virtual time, every call guarded so that an escaping
 * exception is a finding, not a crash. Also the kit for the regression tests of what the fuzzer found.
 */
export class Harness {
  now = 0;
  readonly a: IkeEndpoint;
  readonly b: IkeEndpoint;
  intercept: Intercept | undefined;
  /** A wedged pair is not reused (each wedge counts once). */
  broken = false;
  /** With `record`, every event (logs included) of A and B, for assertions. */
  readonly events: { A: IkeEvent[]; B: IkeEvent[] } = { A: [], B: [] };
  record = false;
  /** Most datagrams one endpoint had queued at a time. */
  maxQueue = 0;
  /** The datagram being delivered (addresses and marker), for the intercept. */
  lastTransmit: Transmit | undefined;
  constructor(
    readonly fz: Sink,
    setup: Setup,
    seed: number,
    backend: CryptoBackend = crypto,
  ) {
    this.a = new IkeEndpoint({ connections: setup.a.conns, credentials: setup.a.creds, crypto: backend, random: seededRandom(seed * 2 + 1), settings: SETTINGS });
    this.b = new IkeEndpoint({ connections: setup.b.conns, credentials: setup.b.creds, crypto: backend, random: seededRandom(seed * 2 + 2), settings: SETTINGS, pools: setup.b.pools ?? [] });
  }

  call<T>(what: string, fn: () => T): T | undefined {
    try {
      return fn();
    } catch (e) {
      this.fz.finding('escaped', `${what}: ${e instanceof Error ? (e.stack ?? e.message).split('\n').slice(0, 4).join(' | ') : String(e)}`);
      return undefined;
    }
  }

  /** Moves datagrams both ways until the wire is quiet. Returns false for a message storm. */
  pump(): boolean {
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const fromA = this.drain(this.a, 'A');
      const fromB = this.drain(this.b, 'B');
      if (fromA.length + fromB.length > MAX_DATAGRAMS_PER_ROUND) this.fz.finding('unbounded', `${fromA.length + fromB.length} datagrams in one round`);
      if (fromA.length === 0 && fromB.length === 0) return true;
      this.deliver(this.b, 'A', fromA);
      this.deliver(this.a, 'B', fromB);
    }
    this.fz.finding('unbounded', `still exchanging after ${MAX_ROUNDS} rounds`);
    return false;
  }

  private drain(ep: IkeEndpoint, name: string): Transmit[] {
    const out: Transmit[] = [];
    for (;;) {
      const t = this.call(`${name}.pollTransmit`, () => ep.pollTransmit());
      if (!t) break;
      out.push(t);
      if (out.length > 4 * MAX_DATAGRAMS_PER_ROUND) break;
    }
    this.maxQueue = Math.max(this.maxQueue, out.length);
    for (let n = 0; n < 100_000; n++) {
      const e = this.call(`${name}.pollEvent`, () => ep.pollEvent());
      if (!e) break;
      if (this.record) this.events[name as 'A' | 'B'].push(e);
      // The endpoint's last line of defence (IkeEndpoint.guard) logs every exception it catches: a bug each.
      if (e.type === 'log' && e.message.includes('internal error processing')) this.fz.finding('safety-net', `${name}: ${e.message}`);
    }
    return out;
  }

  private deliver(to: IkeEndpoint, from: 'A' | 'B', ts: Transmit[]): void {
    // Datagrams of one message (SKF fragments) leave together and share the first 24 header octets.
    let i = 0;
    while (i < ts.length) {
      let j = i + 1;
      while (j < ts.length && ts[j]!.nonEspMarker === ts[i]!.nonEspMarker && sameHead(ts[j]!.data, ts[i]!.data)) j++;
      const group = ts.slice(i, j);
      this.lastTransmit = group[0]!;
      const datas = this.intercept ? this.intercept(from, group.map((t) => t.data)) : group.map((t) => t.data);
      const t0 = group[0]!;
      for (const d of datas) this.call(`${from === 'A' ? 'B' : 'A'}.receive`, () => to.receive(d, t0.remote, t0.local, this.now, { marker: t0.nonEspMarker }));
      i = j;
    }
  }

  /**
   * Done with this pair: destroys every SA still alive on either side, as a stopping daemon would, so their crypto
   * contexts are freed now rather than by the backend's garbage-collection backstop, which never runs inside a
   * synchronous run; otherwise each discarded pair would show up as heap growth in the report.
   */
  close(): void {
    this.intercept = undefined;
    for (const [name, ep] of [['A', this.a], ['B', this.b]] as const)
      for (const sa of liveSas(ep)) this.call(`${name}.destroySa`, () => ep.destroySa(sa, 'deleted', 'fuzzer pair discarded'));
  }

  /** States that must resolve by themselves within the timeouts. */
  transitional(): string | undefined {
    for (const [name, ep] of [['A', this.a], ['B', this.b]] as const) {
      for (const sa of liveSas(ep)) {
        if (sa.state !== 'ESTABLISHED') return `${name} IKE SA #${sa.id} ${sa.state}`;
        const c = sa.children.find((x) => x.state !== 'INSTALLED');
        if (c) return `${name} CHILD SA ${c.name}{${c.id}} ${c.state} in IKE SA #${sa.id} (${sa.state}, pending ${sa.pending ? `${sa.pending.exchangeType}/${sa.pending.messageId} attempt ${sa.pending.attempt} deadline ${sa.pending.deadline - this.now}` : 'none'}, queue ${sa.queue.length}, timers ${sa.timers.length}, deleteBy ${c.deleteBy === undefined ? '-' : c.deleteBy - this.now})`;
      }
    }
    return undefined;
  }

  advance(ms: number): void {
    const limit = this.now + ms;
    this.runTimers(limit, () => true);
    this.now = Math.max(this.now, limit);
  }

  /** Fires both endpoints' timers in order up to `limit` while `more()` holds (at most 2000 steps). */
  private runTimers(limit: number, more: () => unknown): void {
    for (let i = 0; i < 2000 && more(); i++) {
      const na = this.call('A.nextTimeout', () => this.a.nextTimeout());
      const nb = this.call('B.nextTimeout', () => this.b.nextTimeout());
      const t = Math.min(na ?? Infinity, nb ?? Infinity);
      if (t > limit) break;
      this.now = Math.max(this.now, t);
      this.call('A.handleTimeout', () => this.a.handleTimeout(this.now));
      this.call('B.handleTimeout', () => this.b.handleTimeout(this.now));
      this.pump();
    }
  }

  /** Pumps, then lets time run (no more mutations) until nothing is transitional; a leftover is wedged. */
  settle(): string | undefined {
    this.intercept = undefined;
    this.pump();
    this.runTimers(this.now + SETTLE_MS, () => this.transitional());
    return this.transitional();
  }

  /** The live SA that sent a message with these SPIs (for its outbound keys). */
  senderKeys(from: 'A' | 'B', spiI: Uint8Array, spiR: Uint8Array): SkKeys | undefined {
    for (const sa of liveSas(from === 'A' ? this.a : this.b)) if (equal(sa.spiI, spiI) && equal(sa.spiR, spiR)) return sa.keys?.out;
    return undefined;
  }


  established(): { a: number; b: number; childA?: number } | undefined {
    const la = liveSas(this.a).find((x) => x.state === 'ESTABLISHED');
    if (!la) return undefined;
    const lb = liveSas(this.b).find((x) => x.state === 'ESTABLISHED' && equal(x.spiI, la.spiI) && equal(x.spiR, la.spiR));
    if (!lb) return undefined;
    const c = la.children.find((x) => x.state === 'INSTALLED' && lb.children.some((y) => y.spiIn === x.spiOut));
    return { a: la.id, b: lb.id, ...(c ? { childA: c.id } : {}) };
  }

}

/**
 * A pair for tests: A ('gw' to B, children c with PFS and c2) and B, with PSK or certificates. Findings (escaped
 * exceptions, safety-net hits, message storms) are collected in `findings`; events are recorded.
 */
export function createPair(auth: AuthKind = 'psk', o: { seed?: number; frag?: boolean; suite?: 0 | 1; vip?: boolean; crypto?: CryptoBackend } = {}): Harness & { findings: string[] } {
  const findings: string[] = [];
  const h = new Harness({ finding: (kind, what) => findings.push(`[${kind}] ${what}`) }, setupFor(auth, o.suite ?? 0, o.frag ?? false, o.vip ?? false), o.seed ?? 1, o.crypto);
  h.record = true;
  return Object.assign(h, { findings });
}

/**
 * The endpoint's live IKE SAs. listSas() builds display records (suite strings, identities) for each SA and CHILD
 * SA, which is most of the cost of checking states after every input; the SA table is read directly when its
 * shape is the expected one, else listSas() is used.
 */
function liveSas(ep: IkeEndpoint): IkeSa[] {
  const t = (ep as unknown as { sas?: { values?: () => Iterable<IkeSa> } }).sas;
  if (t && typeof t.values === 'function') return [...t.values()];
  return ep.listSas().flatMap((x) => ep.ikeSa(x.sa.id) ?? []);
}

function sameHead(x: Uint8Array, y: Uint8Array): boolean {
  if (x.length < 24 || y.length < 24) return false;
  for (let i = 0; i < 24; i++) if (x[i] !== y[i]) return false;
  return true;
}

function equal(x: Uint8Array, y: Uint8Array): boolean {
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

// ---------------------------------------------------------------------------------------------- scenarios

interface Scenario {
  readonly name: string;
  readonly auth: AuthKind;
  readonly frag?: boolean;
  /** A asks for virtual IPs, B leases them from pools (CP payloads in IKE_AUTH). */
  readonly vip?: boolean;
  /** 'setup': a fresh IKE SA per input; 'established': inputs on an established pair. */
  readonly kind: 'setup' | 'established';
  readonly exchange: number;
  /** Mutate the response (delivered to the initiator A) or the request (delivered to the responder B). */
  readonly response: boolean;
  readonly weight: number;
  /** Inputs run before the weighted mix (certificate IKE_AUTH: too costly for a share, but never skipped). */
  readonly min?: number;
  /** Responder role on an established pair: after the intercepted request, this many more mutations of it. */
  readonly burst?: number;
  /** Starts the exchange whose message is mutated; false when the pair cannot (then a new episode starts). */
  trigger(h: Harness, est: ReturnType<Harness['established']>): boolean;
}

const CCS = ExchangeType.CREATE_CHILD_SA;
const INFO = ExchangeType.INFORMATIONAL;

function scenarios(): Scenario[] {
  const out: Scenario[] = [];
  // Weights are shares of the inputs (percent). Responder-role scenarios on an established pair burst (cheap:
  // no new key exchange, no new pair); IKE_SA_INIT / IKE_AUTH need a fresh IKE SA per input and certificate
  // IKE_AUTH a signature and a chain validation, so they get a small share of a large run.
  const both = (s: Omit<Scenario, 'name' | 'response' | 'weight'> & { name: string }, wr: number, wi: number, burst = 0) => {
    out.push({ ...s, name: `${s.name} responder`, response: false, weight: wr, ...(burst > 0 ? { burst } : {}) });
    out.push({ ...s, name: `${s.name} initiator`, response: true, weight: wi });
  };
  const initiate = (h: Harness): boolean => h.call('A.initiate', () => h.a.initiate('gw', h.now)) !== undefined;
  both({ name: 'IKE_SA_INIT', auth: 'psk', kind: 'setup', exchange: ExchangeType.IKE_SA_INIT, trigger: initiate }, 0.6, 0.6);
  both({ name: 'IKE_AUTH psk', auth: 'psk', kind: 'setup', exchange: ExchangeType.IKE_AUTH, trigger: initiate }, 0.5, 0.5);
  both({ name: 'IKE_AUTH psk virtual IP', auth: 'psk', vip: true, kind: 'setup', exchange: ExchangeType.IKE_AUTH, trigger: initiate }, 0.3, 0.3);
  both({ name: 'IKE_AUTH psk fragmented', auth: 'psk', frag: true, kind: 'setup', exchange: ExchangeType.IKE_AUTH, trigger: initiate }, 0.15, 0.15);
  for (const t of ['rsa', 'ecdsa', 'ed25519'] as const) both({ name: `IKE_AUTH ${t}`, auth: t, kind: 'setup', exchange: ExchangeType.IKE_AUTH, trigger: initiate, min: 16 }, 0, 0);
  const est = (name: string, exchange: number, wr: number, wi: number, burst: number, trigger: Scenario['trigger'], frag = false) =>
    both({ name, auth: 'psk', kind: 'established', exchange, trigger, ...(frag ? { frag } : {}) }, wr, wi, burst);
  const rekeyChild: Scenario['trigger'] = (h, e) => {
    if (e === undefined) return false;
    let id = e.childA;
    if (id === undefined) {
      // The pair lost its CHILD SA to an earlier input: make another (unmutated) rather than a new pair.
      const armed = h.intercept;
      h.intercept = undefined;
      h.call('A.createChild', () => h.a.createChild(e.a, 'c', h.now));
      h.pump();
      h.intercept = armed;
      id = h.established()?.childA;
    }
    return id !== undefined && h.call('A.rekeyChild', () => h.a.rekeyChild(id, h.now)) === true;
  };
  est('CREATE_CHILD_SA child rekey', CCS, 15, 1, 15, rekeyChild);
  est('CREATE_CHILD_SA child rekey fragmented', CCS, 4, 0.3, 15, rekeyChild, true);
  // A bounded number of CHILD SAs per pair: past 8 the episode ends and a fresh pair is made.
  est('CREATE_CHILD_SA new child', CCS, 14, 1, 15, (h, e) => e !== undefined && (h.a.ikeSa(e.a)?.children.length ?? 99) < 8 && (h.b.ikeSa(e.b)?.children.length ?? 99) < 8 && h.call('A.createChild', () => h.a.createChild(e.a, 'c2', h.now)) === true);
  est('CREATE_CHILD_SA IKE rekey', CCS, 1, 0.15, 15, (h, e) => e !== undefined && h.call('A.rekeyIke', () => h.a.rekeyIke(e.a, h.now)) === true);
  // The CHILD SA deleted is an extra one made (unmutated) for the purpose, so the pair keeps its first one.
  est('INFORMATIONAL delete child', INFO, 15, 1, 15, (h, e) => {
    if (e === undefined) return false;
    const sa = h.a.ikeSa(e.a);
    if (!sa) return false;
    if (!sa.children.some((c) => c.name === 'c2')) {
      const armed = h.intercept;
      h.intercept = undefined;
      h.call('A.createChild', () => h.a.createChild(e.a, 'c2', h.now));
      h.pump();
      h.intercept = armed;
    }
    const victim = sa.children.find((c) => c.name === 'c2' && c.state === 'INSTALLED') ?? sa.children.find((c) => c.state === 'INSTALLED');
    return victim !== undefined && h.call('A.terminateChild', () => h.a.terminateChild(victim.id, h.now)) === true;
  });
  est('INFORMATIONAL delete IKE', INFO, 0.15, 0.15, 0, (h, e) => e !== undefined && h.call('A.terminateIke', () => h.a.terminateIke(e.a, h.now)) === true);
  est('INFORMATIONAL DPD', INFO, 40, 8, 31, (h, e) => e !== undefined && h.call('A.checkLiveness', () => h.a.checkLiveness(e.a, h.now)) === true);
  return out;
}

// ---------------------------------------------------------------------------------------------- the fuzzer

interface Hit {
  done: boolean;
  /** The genuine message as intercepted, and how it travelled. */
  template?: { datagrams: Uint8Array[]; via: Transmit };
}

class Fuzzer {
  escaped = 0;
  wedged = 0;
  unbounded = 0;
  safetyNet = 0;
  maxSas = 0;
  maxChildren = 0;
  maxQueue = 0;
  inputs = 0;
  readonly findings: string[] = [];
  private readonly seen: Record<string, number> = {};
  readonly perScenario: Record<string, number> = {};
  readonly donors: Segment[] = seedDonors();
  private readonly rng: RandomSource;
  private readonly buf = new Uint8Array(4);
  readonly r: Rng;
  current = '';
  private episodeSeed = 0;
  maxInputs = Infinity;

  constructor(readonly seed: number) {
    this.rng = seededRandom(seed);
    this.r = () => (this.rng.fill(this.buf), ((this.buf[0]! << 24) | (this.buf[1]! << 16) | (this.buf[2]! << 8) | this.buf[3]!) >>> 0) / 2 ** 32;
  }

  finding(kind: 'escaped' | 'wedged' | 'unbounded' | 'safety-net', what: string): void {
    if (kind === 'escaped') this.escaped++;
    else if (kind === 'wedged') this.wedged++;
    else if (kind === 'unbounded') this.unbounded++;
    else this.safetyNet++;
    const n = (this.seen[kind] = (this.seen[kind] ?? 0) + 1);
    if (n <= 8) this.findings.push(`[${kind}] ${this.current} (input ${this.inputs}): ${what}`);
  }

  newHarness(s: Scenario, suite: number): Harness {
    return new Harness(this, setupFor(s.auth, suite, s.frag ?? false, s.vip ?? false), this.seed * 1_000_003 + ++this.episodeSeed);
  }

  /** Intercept that mutates the first message matching the scenario's target. */
  interceptFor(h: Harness, s: Scenario, hit: Hit): Intercept {
    return (from, datagrams) => {
      if (hit.done || from !== (s.response ? 'B' : 'A')) return datagrams;
      const hd = decodeHeader(datagrams[0]!);
      if (!hd.ok || hd.value.exchangeType !== s.exchange || hd.value.flags.response !== s.response) return datagrams;
      hit.done = true;
      hit.template = { datagrams, via: h.lastTransmit! };
      return this.mutateMessage(h, from, datagrams);
    };
  }

  mutateMessage(h: Harness, from: 'A' | 'B', datagrams: Uint8Array[], o: RewriteOptions = {}): Uint8Array[] {
    return rewriteMessage(h, from, datagrams, (segs) => {
      this.learn(segs);
      return mutateChain(this.r, segs, this.donors);
    }, this.rng, this.r, o);
  }

  /**
   * Burst: more mutations of the same intercepted request, each sealed with A's real keys under the next
   * message ID B expects, so each one is a new authentic request (RFC 7296 2.2) for B to parse and answer. A's
   * message ID counter is moved past them afterwards. Stops once B's IKE SA is no longer established.
   */
  burst(h: Harness, est: NonNullable<ReturnType<Harness['established']>>, hit: Hit, n: number, s: Scenario): void {
    const t = hit.template!;
    for (let k = 0; k < n; k++) {
      const b = h.b.ikeSa(est.b);
      const a = h.a.ikeSa(est.a);
      if (!b || !a?.keys || b.state !== 'ESTABLISHED' || this.inputs >= this.maxInputs) break;
      const ds = this.mutateMessage(h, 'A', t.datagrams, { messageId: b.expectedRequestId, keys: a.keys.out });
      for (const d of ds) h.call('B.receive', () => h.b.receive(d, t.via.remote, t.via.local, h.now, { marker: t.via.nonEspMarker }));
      h.pump();
      this.inputs++;
      this.perScenario[s.name] = (this.perScenario[s.name] ?? 0) + 1;
      a.nextRequestId = Math.max(a.nextRequestId, b.expectedRequestId);
    }
  }

  /** Keeps some genuine payloads of every type as donors for bogus-but-parseable content. */
  private learn(segs: readonly Segment[]): void {
    for (const s of segs) {
      if (this.donors.length < 256) this.donors.push({ type: s.type, flags: s.flags, body: s.body });
      else if (this.r() < 0.05) this.donors[Math.floor(this.r() * 256)] = { type: s.type, flags: s.flags, body: s.body };
    }
  }

  /** After an input: safety-net hits, bounds and (after letting time run) wedged SAs. */
  check(h: Harness): void {
    // Before time runs: the SAs the input left (half-open, rekeyed, being deleted) count too.
    this.maxSas = Math.max(this.maxSas, liveSas(h.a).length, liveSas(h.b).length);
    this.maxQueue = Math.max(this.maxQueue, h.maxQueue);
    const wedge = h.settle();
    if (wedge) {
      this.finding('wedged', wedge);
      h.broken = true;
    }
    const la = liveSas(h.a);
    const lb = liveSas(h.b);
    let children = 0;
    for (const x of la) children = Math.max(children, x.children.length);
    for (const x of lb) children = Math.max(children, x.children.length);
    this.maxSas = Math.max(this.maxSas, la.length, lb.length);
    this.maxChildren = Math.max(this.maxChildren, children);
    if (la.length > MAX_SAS || lb.length > MAX_SAS || children > MAX_CHILDREN) this.finding('unbounded', `${la.length}/${lb.length} IKE SAs, ${children} CHILD SAs in one IKE SA`);
  }

}

/**
 * Opens a message with the sender's real keys (every SKF fragment, or the SK payload; IKE_SA_INIT is plaintext),
 * lets `edit` change the inner payload chain, and seals it again with the same keys so it passes the ICV.
 * Fragmented messages are re-fragmented at the original chunk size and, with `r`, sometimes disturbed (a fragment
 * lost, duplicated, reordered, a wrong Total Fragments or Fragment Number).
 */
export interface RewriteOptions {
  /** Seal under this message ID instead of the original's. */
  readonly messageId?: number;
  /** The sender's outbound keys, when already at hand. */
  readonly keys?: SkKeys;
}

export function rewriteMessage(h: Harness, from: 'A' | 'B', datagrams: Uint8Array[], edit: (segs: Segment[]) => Segment[], rng: RandomSource, disturb?: Rng, o: RewriteOptions = {}): Uint8Array[] {
  const r: Rng = disturb ?? (() => 0.99);
  const first = datagrams[0]!;
  const m = decodeMessage(first);
  if (!m.ok) return datagrams;
  const hdr = m.value.header;
  const init: IkeHeaderInit = { spiI: hdr.spiI, spiR: hdr.spiR, exchangeType: hdr.exchangeType, flags: hdr.flags, messageId: o.messageId ?? hdr.messageId };
  if (!m.value.encrypted) {
    // IKE_SA_INIT: the plaintext chain after the header.
    const segs = splitChain(first.subarray(28, hdr.length), hdr.nextPayload);
    const { first: t, bytes } = joinChain(edit(segs));
    const out = new Uint8Array(28 + bytes.length);
    out.set(first.subarray(0, 28));
    out[16] = t;
    const len = out.length;
    out[24] = len >>> 24;
    out[25] = (len >>> 16) & 0xff;
    out[26] = (len >>> 8) & 0xff;
    out[27] = len & 0xff;
    out.set(bytes, 28);
    return [out];
  }
  const keys = o.keys ?? h.senderKeys(from, hdr.spiI, hdr.spiR);
  if (!keys) return datagrams;
  // Open every fragment (or the one SK payload) with the real keys; the chain is their concatenation.
  const chunks: { n: number; bytes: Uint8Array; firstType: number }[] = [];
  for (const d of datagrams) {
    const dm = decodeMessage(d);
    if (!dm.ok || !dm.value.encrypted) return datagrams;
    const o = openEncrypted(d, dm.value.encrypted, keys);
    if (!o.ok) return datagrams;
    chunks.push({ n: dm.value.encrypted.fragmentNumber ?? 1, bytes: o.value.plaintext, firstType: o.value.firstInnerType });
  }
  chunks.sort((x, y) => x.n - y.n);
  const plain = concat(chunks.map((c) => c.bytes));
  const segs = splitChain(plain, chunks[0]!.firstType);
  const { first: t, bytes } = joinChain(edit(segs));
  const fragmented = m.value.encrypted.type === PayloadType.SKF;
  if (!fragmented) return [sealMessage(init, t, bytes, keys, rng)];
  // Re-fragment with the original chunk size, then sometimes disturb the fragments themselves (RFC 7383 2.6).
  const cap = Math.max(1, ...chunks.map((c) => c.bytes.length));
  const total = Math.max(1, Math.ceil(bytes.length / cap));
  const frags: { number: number; total: number; chunk: Uint8Array }[] = [];
  for (let i = 0; i < total; i++) frags.push({ number: i + 1, total, chunk: bytes.subarray(i * cap, (i + 1) * cap) });
  let order = frags.map((_, i) => i);
  const fr = r();
  if (fr < 0.08 && order.length > 1) order.splice(Math.floor(r() * order.length), 1); // one lost: reassembly waits, then times out
  else if (fr < 0.16) order.push(order[Math.floor(r() * order.length)]!); // a duplicate
  else if (fr < 0.24) order.reverse();
  else if (fr < 0.32) {
    const f = frags[Math.floor(r() * frags.length)]!;
    f.total = [f.number, total + 1, 65535][Math.floor(r() * 3)]!;
  }
  // Fragment Number 0 or above Total cannot be sealed; it is patched in after (the ICV then fails, as it must).
  const badNumber = fr >= 0.32 && fr < 0.4 ? { at: Math.floor(r() * frags.length), value: [0, total + 1, 65535][Math.floor(r() * 3)]! } : undefined;
  return order.map((i) => {
    const f = frags[i]!;
    const d = sealMessage(init, f.number === 1 ? t : PayloadType.NONE, f.chunk, keys, rng, { fragment: { number: f.number, total: f.total } });
    if (badNumber?.at === i) {
      d[32] = badNumber.value >> 8;
      d[33] = badNumber.value & 0xff;
    }
    return d;
  });
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Inputs per established pair before a fresh one (bounds CHILD SA growth; one DH per episode). */
const EPISODE = 300;

export function runExchangeFuzzer(o: FuzzOptions): FuzzReport {
  const t0 = performance.now();
  const fz = new Fuzzer(o.seed);
  const list = scenarios().filter((s) => o.only === undefined || s.name.includes(o.only));

  const maxInputs = o.inputs ?? Infinity;
  fz.maxInputs = maxInputs;
  const deadline = o.seconds !== undefined ? t0 + o.seconds * 1000 : Infinity;
  const pickScenario = (): Scenario => {
    let x = fz.r() * mixWeight;
    for (const s of mixed) if ((x -= s.weight) < 0) return s;
    return mixed[mixed.length - 1]!;
  };
  let lastProgress = t0;
  const msPer: Record<string, number> = {};
  const episodes = new Map<string, { h: Harness; used: number }>();
  let suite = 0;
  // Scenarios with a minimum run it first, in order; then the weighted mix (a timed run, --seconds, comes back
  // to them every 100 picks).
  const quota = list.filter((s) => (s.min ?? 0) > 0);
  const mixed = list.filter((s) => s.weight > 0);
  const mixWeight = mixed.reduce((n, s) => n + s.weight, 0);
  let picks = 0;
  // Memory stays bounded: the live heap is sampled at each tenth of the run (by inputs, or by time for --seconds).
  let tenth = 1;
  let heapWarm = Number.NaN;
  let heapMax = 0;
  const progressShare = (): number => Math.max(Number.isFinite(maxInputs) ? fz.inputs / maxInputs : 0, Number.isFinite(deadline) ? (performance.now() - t0) / (deadline - t0) : 0);
  const sampleHeap = (): void => {
    const mb = liveHeapMb();
    if (process.env.FUZZ_HEAP_DEBUG) console.log(`heap sample ${fz.inputs}: ${mb.toFixed(1)} MB`);
    if (Number.isNaN(heapWarm)) heapWarm = mb;
    else heapMax = Math.max(heapMax, mb);
  };
  while (fz.inputs < maxInputs && performance.now() < deadline) {
    if (progressShare() >= tenth / 10 && tenth < 10) {
      sampleHeap();
      tenth++;
    }
    const again = o.seconds !== undefined && quota.length > 0 && picks % 100 === 0; // long runs: quota scenarios again
    const s = picks < quota.length ? quota[picks] : mixed.length > 0 && !again ? pickScenario() : quota[picks % Math.max(1, quota.length)];
    picks++;
    if (!s) break;
    fz.current = s.name;
    // Setup scenarios run a batch of inputs, each on fresh endpoints; established ones a batch on one pair.
    // About 32 inputs per pick: a burst scenario's trigger yields 1 + burst of them.
    const batch = Math.max(1, Math.min(s.min ?? Math.ceil(32 / (1 + (s.burst ?? 0))), maxInputs - fz.inputs));
    const tb = process.cpuUsage();
    for (let k = 0; k < batch; k++) {
      let h: Harness;
      let est: ReturnType<Harness['established']>;
      if (s.kind === 'setup') {
        h = fz.newHarness(s, suite++ & 1);
        est = undefined;
      } else {
        let ep = episodes.get(s.name);
        est = ep ? ep.h.established() : undefined;
        // Orphan CHILD SAs (made by mutated requests the real initiator never sent) end an episode at 8.
        const crowded = est !== undefined && ep !== undefined && ((ep.h.a.ikeSa(est.a)?.children.length ?? 0) > 8 || (ep.h.b.ikeSa(est.b)?.children.length ?? 0) > 8);
        if (!ep || !est || ep.used >= EPISODE || ep.h.broken || crowded) {
          ep?.h.close();
          ep = { h: fz.newHarness(s, suite++ & 1), used: 0 };
          episodes.set(s.name, ep);
          ep.h.call('A.initiate', () => ep!.h.a.initiate('gw', ep!.h.now));
          ep.h.settle();
          est = ep.h.established();
          if (!est) {
            fz.finding('wedged', `baseline pair for ${s.name} did not establish`);
            break;
          }
        }
        ep.used++;
        h = ep.h;
      }
      const hit: Hit = { done: false };
      h.intercept = fz.interceptFor(h, s, hit);
      if (!s.trigger(h, est)) {
        h.close();
        episodes.delete(s.name);
        continue;
      }
      h.pump();
      h.intercept = undefined;
      if (hit.done) {
        fz.inputs++;
        fz.perScenario[s.name] = (fz.perScenario[s.name] ?? 0) + 1;
        if (s.burst && est) fz.burst(h, est, hit, s.burst, s);
      }
      fz.check(h);
      if (s.kind === 'setup') h.close();
    }
    const cu = process.cpuUsage(tb);
    msPer[s.name] = (msPer[s.name] ?? 0) + (cu.user + cu.system) / 1000;
    if (o.progress && performance.now() - lastProgress > 5000) {
      lastProgress = performance.now();
      o.progress(`  ${fz.inputs} inputs, ${fz.escaped} escaped, ${fz.safetyNet} safety-net, ${fz.wedged} wedged (${((lastProgress - t0) / 1000).toFixed(0)} s)`);
    }
  }
  sampleHeap();
  if (Number.isNaN(heapWarm)) heapWarm = heapMax;
  return {
    seed: o.seed,
    inputs: fz.inputs,
    escaped: fz.escaped,
    safetyNet: fz.safetyNet,
    wedged: fz.wedged,
    unbounded: fz.unbounded,
    maxSas: fz.maxSas,
    maxChildren: fz.maxChildren,
    maxQueue: fz.maxQueue,
    perScenario: fz.perScenario,
    msPerScenario: msPer,
    findings: fz.findings,
    seconds: (performance.now() - t0) / 1000,
    heapWarmMb: heapWarm,
    heapMaxMb: Math.max(heapMax, heapWarm),
  };
}
