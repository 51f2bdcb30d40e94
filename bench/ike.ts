/**
 * `npm run bench -- ike [--quick] [--levels=1000,10000,100000] [--setups=<n>] [--window=16]
 * [--scenarios=psk/x25519,...] [--fill=same|separate] [--heap-snapshot] [--json]`: IKE setups per second of one responder (IKE_SA_INIT + IKE_AUTH with the
 * first CHILD SA, RFC 7296 1.2) while it holds 1k, 10k and 100k established IKE+CHILD SAs, for PSK and ECDSA (P-256
 * certificates, RFC 7427) authentication with X25519 (RFC 8031) and MODP-2048 (RFC 3526 group 14), plus its heap
 * and RSS per SA (issue 17). `--setups` is for psk/x25519; MODP and ECDSA get half each (a quarter for both).
 *
 * The responder is the sans-IO IkeEndpoint on this thread; the initiators run in a worker thread (this same file,
 * started with workerData.role = ROLE), so their key exchanges and signatures are not billed to the responder. The
 * headline rate is setups per second of this thread's CPU time (Linux: /proc/thread-self/stat; the responder plus
 * relaying datagrams to and from the worker, as a daemon's socket I/O would be): it is what one core does when it
 * does nothing else, and it stays meaningful on a shared machine where the threads wait for a core. Next to it:
 * setups per "busy" second (wall time inside the responder's receive / handleTimeout / pollTransmit / pollEvent,
 * inflated when the machine is loaded), per wall second, and the responder's share of the wall time.
 *
 * Each level is reached by PSK/X25519 "fill" setups whose initiators are then dropped (the responder keeps its SAs:
 * no DPD, lifetimes of hours); with `--fill=separate` they use a responder connection of their own (see `fill`). At each level every scenario runs `setups` setups, which are then deleted again by
 * their initiators (INFORMATIONAL Delete, RFC 7296 1.4.1), so all scenarios see the same level.
 *
 * `--quick` (small counts) is what bench/ike.test.ts runs so the bench cannot rot; it asserts outcomes, never times.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { writeHeapSnapshot } from 'node:v8';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { createProvider } from '../src/crypto/provider.js';
import { systemRandom } from '../src/crypto/random.js';
import { child, connection, IkeEndpoint, parseIdentity, pskCredentials, type Address, type Credentials, type IkeConnectionConfig, type IkeEvent } from '../src/ike/index.js';
import {
  exportPrivateKey,
  generateKey,
  issueCertificate,
  loadPrivateKey,
  parseCertificate,
  publicKeyOf,
  sameCertificate,
  TrustStore,
  type Certificate,
  type PrivateKey,
} from '../src/pki/index.js';
import { settle } from './lib.js';
import { applyDaemonGcSettings } from '../src/daemon/gc.js';

const ROLE = 'cygnet-bench-ike-initiators';
const RESPONDER = '192.0.2.1';
const SECRET = 'ike-bench-psk-0123456789abcdef';
const GW_ID = 'gw.bench.example';
const PEER_ID = 'peer.bench.example';
/**
 * With `fill: 'separate'` the fill peers are spread over FILL_CONNS responder connections of their own (gw-fill-<i>,
 * peers with ID fill-<i>.bench.example), so work per SA of the same connection and identity stays small.
 */
const FILL_CONNS = 32;
const fillId = (i: number): string => `fill-${i}.bench.example`;
const FILL_SEPARATE = 'fill';
const DAY = 86_400_000;
/** Initiator IKE SAs per initiator endpoint; an endpoint is dropped once its SAs are up (fill) or deleted. */
const CHUNK = 256;
const ESP = 'aes128gcm16';

export type Auth = 'psk' | 'ecdsa';
export type Group = 'x25519' | 'modp2048';

export interface Scenario {
  readonly auth: Auth;
  readonly group: Group;
  readonly label: string;
}

export const SCENARIOS: readonly Scenario[] = (['psk', 'ecdsa'] as const).flatMap((auth) =>
  (['x25519', 'modp2048'] as const).map((group) => ({ auth, group, label: `${auth}/${group}` })),
);
const FILL = SCENARIOS[0] as Scenario;

export interface IkeBenchOptions {
  /** Established IKE+CHILD SAs held by the responder while each scenario is measured, ascending. */
  readonly levels: readonly number[];
  /** Setups measured per scenario and level (scaled down for the slower scenarios unless `exactSetups`). */
  readonly setups: number;
  readonly exactSetups?: boolean;
  /** Setups in flight at once (each a half-open SA: keep it below cookie_threshold, 30). */
  readonly window: number;
  /** No progress for this long fails the run (ms of wall time). */
  readonly stallMs?: number;
  /** Scenario labels to measure (default: all four). */
  readonly scenarios?: readonly string[];
  /**
   * 'same' (default): the SAs that make up a level are PSK/X25519 peers on the same responder connection as the
   * measured PSK peers, as 100k road warriors on one connection would be. 'separate': they authenticate on 32
   * connections of their own (gw-fill-<i>), so per-SA work filtered by connection and identity mostly skips them:
   * quicker to fill, and it separates that work from the rest of the per-level cost.
   */
  readonly fill?: 'same' | 'separate';
  /** Write a V8 heap snapshot of this thread at each level (after the fill), for where the bytes per SA go. */
  readonly heapSnapshot?: boolean;
  /**
   * After the run, with the worker ended, wait this long (ms of wall time, event loop idle, no forced GC) and read
   * the memory again: where a daemon holding the SAs settles once V8's memory reducer has run (it starts ~8 s
   * after the allocation rate drops). 0 or absent: not measured.
   */
  readonly idleMs?: number;
}

export interface IkeBenchRow {
  readonly level: number;
  readonly scenario: string;
  readonly setups: number;
  /** Setups per second of this (responder) thread's CPU time; NaN where the thread's CPU time cannot be read. */
  readonly cpuRate: number;
  /** Setups per second of responder busy time. */
  readonly busyRate: number;
  /** Setups per second of wall time. */
  readonly wallRate: number;
  /** Responder busy time / wall time. */
  readonly utilization: number;
}

export interface IkeBenchLevel {
  readonly level: number;
  /** IKE SAs the responder holds when sampled (listSas after the fill). */
  readonly held: number;
  readonly heapBytes: number;
  readonly rssBytes: number;
  readonly heapPerSa: number;
  readonly rssPerSa: number;
  /** PSK/X25519 fill setups per responder-thread CPU second (else per busy second) on the way up to this level. */
  readonly fillRate: number;
}

export interface IkeBenchResult {
  readonly rows: IkeBenchRow[];
  readonly levels: IkeBenchLevel[];
  readonly baseline: { heapBytes: number; rssBytes: number };
  readonly failures: number;
  readonly firstFailure: string;
  readonly internalErrors: number;
  readonly wallMs: number;
  readonly fill: 'same' | 'separate';
  /**
   * Memory of this process once the initiator worker is gone, the responder still holding the last level's SAs:
   * what a gateway with 100k peers would hold (the worker's heap and allocator arenas are the bench's, not the
   * responder's; at 20k they were ~110 MB of RSS).
   */
  readonly alone: { held: number; heapBytes: number; rssBytes: number };
  /**
   * The same process after `idleMs` of idle event loop, read without forcing a GC (heap used and total as V8 left
   * them): what a gateway holding the SAs sits at. Absent unless `idleMs` > 0.
   */
  readonly settled?: { idleMs: number; heapBytes: number; heapTotalBytes: number; rssBytes: number; externalBytes: number; arrayBufferBytes: number };
}

// ------------------------------------------------------------------------------------------- shared set-up

interface Datagram {
  data: Uint8Array;
  from: Address;
  to: Address;
}

function ipv4ToU32(a: string): number {
  const p = a.split('.').map(Number);
  if (p.length !== 4 || p.some((x) => !Number.isInteger(x) || x < 0 || x > 255)) throw new Error(`bench/ike: '${a}' is not an IPv4 address`);
  return (((p[0] ?? 0) << 24) | ((p[1] ?? 0) << 16) | ((p[2] ?? 0) << 8) | (p[3] ?? 0)) >>> 0;
}

function u32ToIpv4(v: number): string {
  return `${(v >>> 24) & 0xff}.${(v >>> 16) & 0xff}.${(v >>> 8) & 0xff}.${v & 0xff}`;
}

/**
 * Datagrams cross between the threads packed in one transferred buffer (per datagram: from address u32, port u16,
 * to address u32, port u16, length u32, bytes), so the relay costs one message per batch, not a structured clone
 * per datagram and address object.
 */
function pack(ds: readonly Datagram[]): Uint8Array<ArrayBuffer> {
  let n = 0;
  for (const d of ds) n += 16 + d.data.length;
  const buf = new Uint8Array(n);
  const v = new DataView(buf.buffer);
  let o = 0;
  for (const d of ds) {
    v.setUint32(o, ipv4ToU32(d.from.address));
    v.setUint16(o + 4, d.from.port);
    v.setUint32(o + 6, ipv4ToU32(d.to.address));
    v.setUint16(o + 10, d.to.port);
    v.setUint32(o + 12, d.data.length);
    buf.set(d.data, o + 16);
    o += 16 + d.data.length;
  }
  return buf;
}

/** Each datagram gets its own copy, as a socket driver hands them over (nothing keeps the batch alive). */
function unpack(buf: Uint8Array): Datagram[] {
  const v = new DataView(buf.buffer, buf.byteOffset, buf.length);
  const out: Datagram[] = [];
  for (let o = 0; o < buf.length; ) {
    const len = v.getUint32(o + 12);
    out.push({
      from: { address: u32ToIpv4(v.getUint32(o)), port: v.getUint16(o + 4) },
      to: { address: u32ToIpv4(v.getUint32(o + 6)), port: v.getUint16(o + 10) },
      data: buf.slice(o + 16, o + 16 + len),
    });
    o += 16 + len;
  }
  return out;
}

interface Pki {
  ca: Certificate;
  gw: { cert: Certificate; key: PrivateKey };
  peer: { cert: Certificate; key: PrivateKey };
}

/** A CA and two ECDSA P-256 hosts (RFC 7427 / RFC 4754 signatures): the responder and one shared by all peers. */
function makePki(epoch: number): Pki {
  const caKey = generateKey({ type: 'ecdsa', size: 256 });
  const common = { notBefore: epoch - DAY, notAfter: epoch + 30 * DAY };
  const ca = issueCertificate({ subject: 'C=CH, O=cygnet bench, CN=bench CA', publicKey: publicKeyOf(caKey), signingKey: caKey, serial: Uint8Array.of(1), ca: true, ...common });
  const host = (cn: string, serial: number): { cert: Certificate; key: PrivateKey } => {
    const key = generateKey({ type: 'ecdsa', size: 256 });
    const cert = issueCertificate({ subject: `C=CH, O=cygnet bench, CN=${cn}`, publicKey: publicKeyOf(key), issuer: ca, signingKey: caKey, serial: Uint8Array.of(serial), san: [cn], flags: ['serverAuth', 'ikeIntermediate'], ...common });
    return { cert, key };
  };
  return { ca, gw: host(GW_ID, 2), peer: host(PEER_ID, 3) };
}

function credentials(own: { cert: Certificate; key: PrivateKey }, ca: Certificate): Credentials {
  return { ...pskCredentials([{ ids: [], secret: SECRET }]), privateKeyFor: (c) => (sameCertificate(c, own.cert) ? own.key : undefined), trust: new TrustStore([ca]) };
}

const ikeProposal = (g: Group | 'both'): string => `aes128gcm16-prfsha256-${g === 'both' ? 'x25519-modp2048' : g}`;

/**
 * The responder answers PSK peers (their IP address as ID) on gw-psk and certificate peers (PEER_ID, an exact match
 * that outranks %any in IKE_AUTH) on gw-ecdsa. unique = never: the certificate peers share one identity and each
 * initiator endpoint's first SA sends INITIAL_CONTACT, which would otherwise delete the others (RFC 7296 2.4).
 */
function responderConnections(pki: Pki, fill: 'same' | 'separate'): IkeConnectionConfig[] {
  const children = [child('net', { localTs: ['10.0.0.0/8'], remoteTs: ['dynamic'], espProposals: ESP })];
  const fillConns = Array.from({ length: fill === 'separate' ? FILL_CONNS : 0 }, (_, i) =>
    connection({ name: `gw-fill-${i}`, proposals: ikeProposal('both'), local: { id: GW_ID }, remote: { id: fillId(i) }, unique: 'never', children }),
  );
  return [
    ...fillConns,
    connection({ name: 'gw-psk', proposals: ikeProposal('both'), local: { id: GW_ID }, unique: 'never', children }),
    connection({
      name: 'gw-ecdsa',
      proposals: ikeProposal('both'),
      local: { auth: 'pubkey', id: GW_ID, certs: [pki.gw.cert] },
      remote: { auth: 'pubkey', id: PEER_ID },
      unique: 'never',
      sendCert: 'always',
      children,
    }),
  ];
}

function initiatorConnection(s: Scenario, peerCert: Certificate): IkeConnectionConfig {
  const children = [child('net', { remoteTs: ['10.0.0.0/8'], espProposals: ESP })];
  const common = { name: s.label, proposals: ikeProposal(s.group), remoteAddrs: [RESPONDER], sendCert: 'always' as const, children };
  return s.auth === 'psk'
    ? connection(common)
    : connection({ ...common, local: { auth: 'pubkey', id: PEER_ID, certs: [peerCert] }, remote: { auth: 'pubkey' } });
}

// ------------------------------------------------------------------------------------------- messages

interface WorkerInit {
  role: typeof ROLE;
  epoch: number;
  caDer: Uint8Array;
  peerCertDer: Uint8Array;
  peerKeyDer: Uint8Array;
}

/** Main -> worker. */
interface ToWorker {
  now: number;
  /** pack()ed datagrams. */
  dgrams: Uint8Array<ArrayBuffer>;
  start?: { scenario: string; n: number; keep: boolean };
  /** Delete every kept initiator SA (the measured ones) with an INFORMATIONAL Delete. */
  deleteKept?: boolean;
  /** Close partly filled initiator endpoints so they are dropped once their SAs are up. */
  endPhase?: boolean;
}

/** Worker -> main. */
interface FromWorker {
  dgrams: Uint8Array<ArrayBuffer>;
  failures: string[];
}

// ------------------------------------------------------------------------------------------- worker: initiators

function ip(n: number): string {
  // 10.64.0.0/10 and up: one address per peer, so PSK peers have distinct IDs (the default ID is the address).
  return u32ToIpv4((((10 << 24) | (64 << 16)) + n) >>> 0);
}

interface Chunk {
  readonly ep: IkeEndpoint;
  readonly scenario: string;
  readonly connName: string;
  readonly keep: boolean;
  readonly addresses: string[];
  readonly ids: number[];
  /** SAs not yet up (or, after deleteKept, not yet down). */
  open: number;
  closed: boolean;
  deleting: boolean;
}

function initiatorWorker(init: WorkerInit): void {
  const port = parentPort;
  if (port === null) throw new Error('bench/ike.ts: initiator role without a parent port');
  const crypto = createProvider();
  const ca = parseCertificate(init.caDer);
  const peer = { cert: parseCertificate(init.peerCertDer), key: loadPrivateKey(init.peerKeyDer) };
  const creds = credentials(peer, ca);
  const conns = new Map(SCENARIOS.map((s) => [s.label, initiatorConnection(s, peer.cert)]));
  const fillConn = initiatorConnection(FILL, peer.cert);
  for (let i = 0; i < FILL_CONNS; i++) conns.set(`${FILL_SEPARATE}-${i}`, { ...fillConn, name: `${FILL_SEPARATE}-${i}`, local: { ...fillConn.local, id: parseIdentity(fillId(i)) } });
  let fillChunks = 0;
  const byAddress = new Map<string, Chunk>();
  const filling = new Map<string, Chunk>();
  const chunks = new Set<Chunk>();
  let nextPeer = 0;
  let now = 0;
  let out: Datagram[] = [];
  let failures: string[] = [];

  const chunkFor = (scenario: string, keep: boolean): Chunk => {
    const key = `${scenario}|${keep}`;
    let c = filling.get(key);
    if (c === undefined || c.closed) {
      const conn = conns.get(scenario === FILL_SEPARATE ? `${FILL_SEPARATE}-${fillChunks++ % FILL_CONNS}` : scenario);
      if (conn === undefined) throw new Error(`unknown scenario ${scenario}`);
      const ep = new IkeEndpoint({ connections: [conn], credentials: creds, crypto, random: systemRandom, settings: { epochOffsetMs: init.epoch } });
      c = { ep, scenario, connName: conn.name, keep, addresses: [], ids: [], open: 0, closed: false, deleting: false };
      filling.set(key, c);
      chunks.add(c);
    }
    return c;
  };

  const drop = (c: Chunk): void => {
    for (const a of c.addresses) byAddress.delete(a);
    chunks.delete(c);
  };

  const flush = (c: Chunk): void => {
    for (let t = c.ep.pollTransmit(); t; t = c.ep.pollTransmit()) out.push({ data: t.data, from: t.local, to: t.remote });
    for (let e = c.ep.pollEvent(); e; e = c.ep.pollEvent()) {
      if (e.type === 'ike-up' && !c.deleting) c.open--;
      else if (e.type === 'ike-down') {
        if (c.deleting) c.open--;
        else {
          failures.push(`initiator ${c.scenario}: ${e.reason}: ${e.message}`);
          c.open--;
        }
      }
    }
    if (c.closed && c.open === 0 && (!c.keep || c.deleting)) drop(c);
  };

  port.on('message', (m: ToWorker) => {
    now = m.now;
    const touched = new Set<Chunk>();
    for (const d of unpack(m.dgrams)) {
      const c = byAddress.get(d.to.address);
      if (c === undefined) continue; // an answer to an initiator already dropped (none expected)
      c.ep.receive(d.data, d.to, d.from, now);
      touched.add(c);
    }
    if (m.start) {
      for (let i = 0; i < m.start.n; i++) {
        const c = chunkFor(m.start.scenario, m.start.keep);
        const address = ip(nextPeer++);
        byAddress.set(address, c);
        c.addresses.push(address);
        c.ids.push(c.ep.initiate(c.connName, now, { local: { address, port: 500 } }));
        c.open++;
        if (c.addresses.length >= CHUNK) c.closed = true;
        touched.add(c);
      }
    }
    if (m.endPhase) {
      for (const c of filling.values()) {
        c.closed = true;
        touched.add(c);
      }
      filling.clear();
    }
    if (m.deleteKept) {
      for (const c of chunks) {
        if (!c.keep || c.deleting) continue;
        c.closed = true;
        c.deleting = true;
        c.open = 0;
        for (const id of c.ids) if (c.ep.terminateIke(id, now)) c.open++;
        touched.add(c);
      }
    }
    for (const c of touched) flush(c);
    const msg: FromWorker = { dgrams: pack(out), failures };
    out = [];
    failures = [];
    port.postMessage(msg, [msg.dgrams.buffer]);
  });
}

// ------------------------------------------------------------------------------------------- main: responder

type Phase = { kind: 'setup'; scenario: string; target: number; keep: boolean } | { kind: 'delete'; target: number };

class ResponderHarness {
  readonly ep: IkeEndpoint;
  readonly origin = performance.now();
  busyMs = 0;
  up = 0;
  deleted = 0;
  failures = 0;
  firstFailure = '';

  constructor(pki: Pki, epoch: number, fill: 'same' | 'separate') {
    this.ep = new IkeEndpoint({
      connections: responderConnections(pki, fill),
      credentials: credentials(pki.gw, pki.ca),
      crypto: createProvider(),
      random: systemRandom,
      settings: { epochOffsetMs: epoch },
    });
  }

  get now(): number {
    return Math.floor(performance.now() - this.origin);
  }

  /** Everything the responder does for one batch of datagrams, timed. */
  feed(batch: readonly Datagram[]): Datagram[] {
    const t0 = performance.now();
    const now = Math.floor(t0 - this.origin);
    const ep = this.ep;
    for (const d of batch) ep.receive(d.data, d.to, d.from, now);
    const due = ep.nextTimeout();
    if (due !== undefined && due <= now) ep.handleTimeout(now);
    const out: Datagram[] = [];
    for (let t = ep.pollTransmit(); t; t = ep.pollTransmit()) out.push({ data: t.data, from: t.local, to: t.remote });
    for (let e = ep.pollEvent(); e; e = ep.pollEvent()) this.event(e);
    this.busyMs += performance.now() - t0;
    return out;
  }

  private event(e: IkeEvent): void {
    if (e.type === 'ike-up') this.up++;
    else if (e.type === 'ike-down') {
      if (e.reason === 'deleted-by-peer') this.deleted++;
      else this.fail(`responder: ${e.reason}: ${e.message}`);
    } else if (e.type === 'auth-failed' || e.type === 'child-failed') this.fail(`responder ${e.type}: ${e.message}`);
  }

  fail(why: string): void {
    this.failures++;
    if (!this.firstFailure) this.firstFailure = why;
  }

  get held(): number {
    return this.up - this.deleted;
  }
}

/** Runs phases against the worker: starts setups with at most `window` in flight, or deletes the kept ones. */
class Driver {
  private phase: Phase | undefined;
  private startedInPhase = 0;
  private upAtStart = 0;
  private deletedAtStart = 0;
  private failuresAtStart = 0;
  private done: (() => void) | undefined;
  private fail: ((e: Error) => void) | undefined;
  private lastProgress = performance.now();
  private progressMark = -1;
  private readonly timer: ReturnType<typeof setInterval>;

  constructor(
    private readonly worker: Worker,
    private readonly r: ResponderHarness,
    private readonly window: number,
    stallMs: number,
  ) {
    worker.on('message', (m: FromWorker) => this.onWorker(m));
    worker.on('error', (e) => this.fail?.(e instanceof Error ? e : new Error(String(e))));
    this.timer = setInterval(() => {
      const mark = r.up + r.deleted + r.failures;
      if (mark !== this.progressMark) {
        this.progressMark = mark;
        this.lastProgress = performance.now();
      } else if (this.phase && performance.now() - this.lastProgress > stallMs) {
        const p = this.phase;
        this.fail?.(new Error(`bench/ike: no progress for ${stallMs} ms in ${p.kind} phase (${r.held} SAs held, ${r.failures} failures; first: ${r.firstFailure || 'none'})`));
      }
    }, 1000);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Runs one phase to its end; resolves with the responder busy time, this thread's CPU time and the wall time. */
  async run(p: Phase): Promise<{ busyMs: number; cpuMs: number; wallMs: number }> {
    this.phase = p;
    this.startedInPhase = 0;
    this.upAtStart = this.r.up;
    this.deletedAtStart = this.r.deleted;
    this.failuresAtStart = this.r.failures;
    const busy0 = this.r.busyMs;
    const cpu0 = threadCpuMs();
    const t0 = performance.now();
    const finished = new Promise<void>((resolve, reject) => {
      this.done = resolve;
      this.fail = reject;
    });
    this.send([], true);
    await finished;
    this.phase = undefined;
    if (p.kind === 'setup') this.worker.postMessage({ now: this.r.now, dgrams: new Uint8Array(0), endPhase: true } satisfies ToWorker);
    const wallMs = performance.now() - t0;
    return { busyMs: this.r.busyMs - busy0, cpuMs: threadCpuMs() - cpu0, wallMs };
  }

  private completed(p: Phase): number {
    return p.kind === 'setup' ? this.r.up - this.upAtStart + (this.r.failures - this.failuresAtStart) : this.r.deleted - this.deletedAtStart;
  }

  private send(dgrams: Datagram[], first: boolean): void {
    const p = this.phase;
    const msg: ToWorker = { now: this.r.now, dgrams: pack(dgrams) };
    if (p?.kind === 'setup') {
      const inFlight = this.startedInPhase - this.completed(p);
      const n = Math.min(this.window - inFlight, p.target - this.startedInPhase);
      if (n > 0) {
        msg.start = { scenario: p.scenario, n, keep: p.keep };
        this.startedInPhase += n;
      }
    } else if (p?.kind === 'delete' && first) msg.deleteKept = true;
    if (msg.dgrams.length > 0 || msg.start || msg.deleteKept) this.worker.postMessage(msg, [msg.dgrams.buffer]);
  }

  private onWorker(m: FromWorker): void {
    for (const f of m.failures) this.r.fail(f);
    const out = m.dgrams.length > 0 ? this.r.feed(unpack(m.dgrams)) : [];
    const p = this.phase;
    if (p && this.completed(p) >= p.target) {
      // The last answers still go to the initiators (their IKE_AUTH responses, Delete responses).
      if (out.length > 0) {
        const msg: ToWorker = { now: this.r.now, dgrams: pack(out) };
        this.worker.postMessage(msg, [msg.dgrams.buffer]);
      }
      const d = this.done;
      this.done = undefined;
      d?.();
      return;
    }
    this.send(out, false);
  }
}

/**
 * This file as a worker. Node 20 does not carry tsx's module hooks into workers (nor take --import in a worker's
 * execArgv), so a small CommonJS stub registers tsx's ESM hooks in the worker first and then imports this file,
 * whether the parent runs under tsx (npm run bench) or vitest.
 */
function startWorker(init: WorkerInit): Worker {
  // The ESM entry of tsx/esm/api (require.resolve would give its CommonJS twin, which cannot register ESM hooks).
  const api = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
  const self = import.meta.url;
  const stub = `import(${JSON.stringify(api)}).then((t) => { t.register(); return import(${JSON.stringify(self)}); }).catch((e) => { throw e; });`;
  return new Worker(stub, { eval: true, workerData: init });
}

/**
 * CPU time of the calling thread in ms (utime + stime of /proc/thread-self/stat, fields 14 and 15, in clock ticks of
 * 10 ms: USER_HZ is 100 on Linux), or NaN where there is no such file. Node 20 has no per-thread CPU clock.
 */
function threadCpuMs(): number {
  try {
    const stat = readFileSync('/proc/thread-self/stat', 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    return Number.NaN;
  }
}

/** IKE SAs the endpoint holds (a function of its own: see the call site). */
function countSas(ep: IkeEndpoint): number {
  return ep.listSas().length;
}

function memory(): { heapBytes: number; rssBytes: number } {
  settle();
  settle();
  const m = process.memoryUsage();
  return { heapBytes: m.heapUsed, rssBytes: m.rss };
}

/** Per-scenario setups: the slow scenarios (MODP, ECDSA) get fewer so each takes about the same time. */
function setupsFor(s: Scenario, o: IkeBenchOptions): number {
  if (o.exactSetups) return o.setups;
  const f = (s.group === 'modp2048' ? 0.5 : 1) * (s.auth === 'ecdsa' ? 0.5 : 1);
  return Math.max(1, Math.round(o.setups * f));
}

/**
 * Runs the bench. `progress` gets a line before each phase; `done` gets each level's memory figures and each row as
 * soon as they are measured (a 100k run takes long on a shared machine: what is done survives an interruption).
 */
export async function ikeBench(
  o: IkeBenchOptions,
  progress: (line: string) => void = () => {},
  done: (x: IkeBenchRow | IkeBenchLevel) => void = () => {},
): Promise<IkeBenchResult> {
  const wall0 = performance.now();
  const epoch = Date.now();
  const pki = makePki(epoch);
  const init: WorkerInit = { role: ROLE, epoch, caDer: pki.ca.der, peerCertDer: pki.peer.cert.der, peerKeyDer: exportPrivateKey(pki.peer.key, 'der', 'pkcs8') };
  const worker = startWorker(init);
  const r = new ResponderHarness(pki, epoch, o.fill ?? 'same');
  const driver = new Driver(worker, r, o.window, o.stallMs ?? 30_000);
  const rows: IkeBenchRow[] = [];
  const levels: IkeBenchLevel[] = [];
  try {
    const baseline = memory();
    for (const level of o.levels) {
      const need = level - r.held;
      let fillRate = Number.NaN;
      if (need > 0) {
        progress(`filling to ${level} SAs`);
        const f = await driver.run({ kind: 'setup', scenario: o.fill === 'separate' ? FILL_SEPARATE : FILL.label, target: need, keep: false });
        fillRate = (need * 1000) / (Number.isFinite(f.cpuMs) && f.cpuMs > 0 ? f.cpuMs : f.busyMs);
      }
      const mem = memory();
      const held = countSas(r.ep);
      if (o.heapSnapshot) process.stderr.write(`heap snapshot at ${held} SAs: ${writeHeapSnapshot(`ike-bench-${level}.heapsnapshot`)}\n`);
      const perSa = (b: number, base: number): number => (b - base) / Math.max(1, held);
      const l: IkeBenchLevel = { level, held, ...mem, heapPerSa: perSa(mem.heapBytes, baseline.heapBytes), rssPerSa: perSa(mem.rssBytes, baseline.rssBytes), fillRate };
      levels.push(l);
      done(l);
      for (const s of SCENARIOS) {
        if (o.scenarios && !o.scenarios.includes(s.label)) continue;
        const n = setupsFor(s, o);
        progress(`${level} SAs: ${n} ${s.label} setups`);
        const m = await driver.run({ kind: 'setup', scenario: s.label, target: n, keep: true });
        const row: IkeBenchRow = { level, scenario: s.label, setups: n, cpuRate: (n * 1000) / m.cpuMs, busyRate: (n * 1000) / m.busyMs, wallRate: (n * 1000) / m.wallMs, utilization: m.busyMs / m.wallMs };
        rows.push(row);
        done(row);
        await driver.run({ kind: 'delete', target: n });
      }
    }
    driver.stop();
    await worker.terminate();
    // Counted in a call of its own, before memory(): listSas() builds an info object per SA (~0.7 KB each), and an
    // array left in a register of this frame stays reachable for the GC: 13 MB of phantom heap at 20k SAs, read as a
    // leak of ~70 KB per setup+Delete cycle at 100k before (issue 17).
    const held = countSas(r.ep);
    const alone = { held, ...memory() };
    // After the deletes: diffed against the level's snapshot, it shows what deleted SAs left behind (issue 17).
    if (o.heapSnapshot) process.stderr.write(`heap snapshot with the worker ended, ${alone.held} SAs: ${writeHeapSnapshot('ike-bench-alone.heapsnapshot')}\n`);
    let settled: IkeBenchResult['settled'];
    if ((o.idleMs ?? 0) > 0) {
      const idleMs = o.idleMs ?? 0;
      progress(`idle ${idleMs / 1000} s with ${alone.held} SAs (V8 memory reducer, no forced GC)`);
      await new Promise((resolve) => setTimeout(resolve, idleMs));
      const m = process.memoryUsage();
      settled = { idleMs, heapBytes: m.heapUsed, heapTotalBytes: m.heapTotal, rssBytes: m.rss, externalBytes: m.external, arrayBufferBytes: m.arrayBuffers };
    }
    return { rows, levels, baseline, failures: r.failures, firstFailure: r.firstFailure, internalErrors: r.ep.internalErrors, wallMs: performance.now() - wall0, fill: o.fill ?? 'same', alone, ...(settled ? { settled } : {}) };
  } finally {
    driver.stop();
    await worker.terminate();
  }
}

// ------------------------------------------------------------------------------------------- report

function options(argv: readonly string[]): IkeBenchOptions {
  const quick = argv.includes('--quick');
  const arg = (name: string): string | undefined => argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  const int = (name: string, dflt: number): number => {
    const v = arg(name);
    if (v === undefined) return dflt;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name}: expected a positive integer, got '${v}'`);
    return n;
  };
  const levelsArg = arg('levels');
  const levels = levelsArg === undefined ? (quick ? [100, 400] : [1_000, 10_000, 100_000]) : levelsArg.split(',').map((x) => {
    const n = Number(x);
    if (!Number.isInteger(n) || n < 0) throw new Error(`--levels: '${x}' is not a non-negative integer (in '${levelsArg}')`);
    return n;
  });
  if (levels.some((l, i) => i > 0 && l <= (levels[i - 1] ?? 0))) throw new Error(`--levels: must ascend, got '${levels.join(',')}'`);
  const fill = arg('fill') ?? 'same';
  if (fill !== 'same' && fill !== 'separate') throw new Error(`--fill: expected 'same' or 'separate', got '${fill}'`);
  const only = arg('scenarios')?.split(',');
  const unknown = only?.filter((x) => !SCENARIOS.some((s) => s.label === x)) ?? [];
  if (unknown.length > 0) throw new Error(`--scenarios: unknown ${unknown.join(', ')} (known: ${SCENARIOS.map((s) => s.label).join(', ')})`);
  const idleArg = arg('idle');
  const idle = idleArg === undefined ? (quick ? 0 : 20) : Number(idleArg);
  if (!Number.isFinite(idle) || idle < 0) throw new Error(`--idle: expected seconds >= 0, got '${idleArg}'`);
  return { levels, setups: int('setups', quick ? 40 : 2000), window: int('window', quick ? 8 : 16), fill, heapSnapshot: argv.includes('--heap-snapshot'), idleMs: idle * 1000, ...(only ? { scenarios: only } : {}) };
}

const fmt = (n: number, digits = 0): string => (Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : 'n/a');

/** Setups per responder-thread CPU second, or per busy second where the thread's CPU time is unknown. */
export function headline(row: IkeBenchRow): number {
  return Number.isFinite(row.cpuRate) ? row.cpuRate : row.busyRate;
}

export function summarize(res: IkeBenchResult): string[] {
  const lines: string[] = [];
  const first = res.levels[0];
  const last = res.levels[res.levels.length - 1];
  if (first === undefined || last === undefined) return lines;
  const rate = (level: number, s: string): number => {
    const row = res.rows.find((x) => x.level === level && x.scenario === s);
    return row === undefined ? Number.NaN : headline(row);
  };
  for (const s of SCENARIOS) {
    if (!res.rows.some((x) => x.scenario === s.label)) continue;
    const ratio = rate(last.level, s.label) / rate(first.level, s.label);
    lines.push(`${s.label}: rate at ${fmt(last.level)} SAs / rate at ${fmt(first.level)} SAs = ${fmt(ratio, 2)} (${fmt(rate(last.level, s.label))} vs ${fmt(rate(first.level, s.label))} setups/s)`);
  }
  const psk = rate(first.level, FILL.label);
  const r = rate(last.level, FILL.label) / psk;
  lines.push(`target: >= 1,000 setups/s on one core (psk/x25519 at ${fmt(first.level)} SAs): ${fmt(psk)} ${psk >= 1000 ? 'PASS' : 'FAIL'}`);
  lines.push(`target: rate at ${fmt(last.level)} within 20% of ${fmt(first.level)} (psk/x25519): ${fmt(r, 2)} ${r >= 0.8 ? 'PASS' : 'FAIL'}`);
  // The target is read where a daemon holding the SAs sits: after the idle period when it was measured.
  const settledGib = res.settled === undefined ? undefined : res.settled.rssBytes / 2 ** 30;
  const gib = settledGib ?? res.alone.rssBytes / 2 ** 30;
  const where = res.settled === undefined ? 'responder alone, worker ended' : `responder alone after ${res.settled.idleMs / 1000} s idle`;
  lines.push(
    `target: ${fmt(res.alone.held)} SAs under 0.5 GiB RSS (${where}): ${fmt(gib, 3)} GiB ${gib < 0.5 ? 'PASS' : 'FAIL'}${last.level < 100_000 ? ' (fewer than 100k SAs: not the target level)' : ''}; right after the run ${fmt(res.alone.rssBytes / 2 ** 30, 3)} GiB (heap ${fmt(res.alone.heapBytes / 2 ** 20)} MB after forced GCs); with the initiator worker ${fmt(last.rssBytes / 2 ** 30, 3)} GiB`,
  );
  lines.push(`level SAs: PSK/X25519 peers on ${res.fill === 'same' ? 'the same connection as the measured PSK peers' : `connections of their own (--fill=separate: ${FILL_CONNS} connections)`}`);
  lines.push(`failures ${res.failures}${res.firstFailure ? ` (first: ${res.firstFailure})` : ''}, internal errors ${res.internalErrors}, wall ${fmt(res.wallMs / 1000, 1)} s`);
  return lines;
}

function table(res: IkeBenchResult): string {
  const head = ['SAs held', 'scenario', 'setups', 'setups/s (CPU)', 'setups/s (busy)', 'setups/s (wall)', 'responder share'];
  const body = res.rows.map((x) => [fmt(x.level), x.scenario, fmt(x.setups), fmt(x.cpuRate), fmt(x.busyRate), fmt(x.wallRate), `${fmt(x.utilization * 100)} %`]);
  const mhead = ['SAs held', 'heap MB', 'RSS MB', 'heap B/SA', 'RSS B/SA', 'fill setups/s (CPU)'];
  const mbody = res.levels.map((l) => [fmt(l.held), fmt(l.heapBytes / 2 ** 20, 1), fmt(l.rssBytes / 2 ** 20, 1), fmt(l.heapPerSa), fmt(l.rssPerSa), fmt(l.fillRate)]);
  const render = (h: string[], b: string[][]): string => {
    const w = h.map((c, i) => Math.max(c.length, ...b.map((row) => (row[i] ?? '').length)));
    const line = (v: string[]): string => v.map((c, i) => (i === 1 && h === head ? c.padEnd(w[i] ?? 0) : c.padStart(w[i] ?? 0))).join('  ');
    return [line(h), line(w.map((n) => '-'.repeat(n))), ...b.map(line)].join('\n');
  };
  const base = `baseline before any SA: heap ${fmt(res.baseline.heapBytes / 2 ** 20, 1)} MB, RSS ${fmt(res.baseline.rssBytes / 2 ** 20, 1)} MB (RSS includes the initiator worker)`;
  const alone = `responder alone (initiator worker ended): ${fmt(res.alone.held)} SAs, heap ${fmt(res.alone.heapBytes / 2 ** 20, 1)} MB, RSS ${fmt(res.alone.rssBytes / 2 ** 20, 1)} MB, ${fmt((res.alone.rssBytes - res.baseline.rssBytes) / Math.max(1, res.alone.held))} RSS B/SA over the baseline`;
  const st = res.settled;
  const settled = st === undefined ? '' : `\nafter ${st.idleMs / 1000} s idle (no forced GC): heap used ${fmt(st.heapBytes / 2 ** 20, 1)} MB of ${fmt(st.heapTotalBytes / 2 ** 20, 1)} MB, external ${fmt(st.externalBytes / 2 ** 20, 1)} MB (ArrayBuffers ${fmt(st.arrayBufferBytes / 2 ** 20, 1)} MB), RSS ${fmt(st.rssBytes / 2 ** 20, 1)} MB`;
  return `${render(head, body)}\n\n${render(mhead, mbody)}\n${base}\n${alone}${settled}`;
}

const rowJson = (x: IkeBenchRow): object => ({ bench: 'ike', backend: 'cygnet', algorithm: x.scenario, size: 0, op: 'setup', pps: Math.round(headline(x)), sas: x.level, setups: x.setups, busyPps: Math.round(x.busyRate), wallPps: Math.round(x.wallRate), utilization: Math.round(x.utilization * 1000) / 1000 });
const levelJson = (l: IkeBenchLevel): object => ({ bench: 'ike', backend: 'cygnet', algorithm: 'memory', size: 0, op: 'hold', pps: Math.round(l.fillRate), sas: l.held, heapBytes: l.heapBytes, rssBytes: l.rssBytes, heapPerSa: Math.round(l.heapPerSa), rssPerSa: Math.round(l.rssPerSa) });

export async function run(): Promise<void> {
  const o = options(process.argv.slice(2));
  const json = process.argv.includes('--json');
  const quietFlag = process.argv.includes('--quiet');
  // The daemon's V8 settings (src/daemon/gc.ts), so the memory figures are what `cygnet daemon` would hold;
  // --no-daemon-gc measures V8's defaults instead.
  const gc = process.argv.includes('--no-daemon-gc') ? [] : applyDaemonGcSettings();
  process.stderr.write(`ike: V8 flags as the daemon: ${gc.length > 0 ? gc.join(' ') : 'none (--no-daemon-gc)'}\n`);
  const quiet = quietFlag || !process.stderr.isTTY;
  const res = await ikeBench(
    o,
    (line) => {
      if (!quiet) process.stderr.write(`\r\x1b[K${line}`);
    },
    // Each figure as soon as it exists, on stderr (also when it is not a terminal): a long run stays readable.
    (x) => {
      if (!quietFlag) process.stderr.write(`${quiet ? '' : '\r\x1b[K'}ike partial: ${JSON.stringify('scenario' in x ? rowJson(x) : levelJson(x))}\n`);
    },
  );
  if (!quiet) process.stderr.write('\r\x1b[K');
  const summary = summarize(res).join('\n');
  if (json) process.stderr.write(`${summary}\n`);
  else process.stdout.write(`${table(res)}\n\n${summary}\n\n`);
  const aloneJson = { bench: 'ike', backend: 'cygnet', algorithm: 'memory-alone', size: 0, op: 'hold', pps: 0, sas: res.alone.held, heapBytes: res.alone.heapBytes, rssBytes: res.alone.rssBytes };
  const st = res.settled;
  const settledJson = st === undefined ? [] : [{ bench: 'ike', backend: 'cygnet', algorithm: 'memory-settled', size: 0, op: 'hold', pps: 0, sas: res.alone.held, idleMs: st.idleMs, heapBytes: st.heapBytes, heapTotalBytes: st.heapTotalBytes, externalBytes: st.externalBytes, arrayBufferBytes: st.arrayBufferBytes, rssBytes: st.rssBytes }];
  const lines = [...res.rows.map(rowJson), ...res.levels.map(levelJson), aloneJson, ...settledJson];
  process.stdout.write(`${lines.map((x) => JSON.stringify(x)).join('\n')}\n`);
}

if (!isMainThread && (workerData as { role?: unknown } | null)?.role === ROLE) initiatorWorker(workerData as WorkerInit);
