/**
 * The main thread's side of the data-plane workers (`cygnet daemon --workers N`, issue 17; docs/PERFORMANCE.md
 * sections 2 and 7). The main thread keeps IKE, vici, timers and the SAD/SPD's only writer (the gateway core); the
 * pool
 *   - starts N workers (data-worker.ts), each attaching one queue of the multi-queue TUN;
 *   - makes, for every address the daemon binds on the NAT-T port, one SO_REUSEPORT group (reuseport.ts): socket 0
 *     for the main thread's dgram (IKE, keepalives), socket i for worker i (the ESP of its inbound SPIs);
 *   - forwards every SA change (child-install / child-outbound / child-remove / ike-address-change, with keys) to
 *     every worker in IKE's order, with a SharedArrayBuffer sequence counter per outbound SA (RFC 4303 3.3.3), and
 *     counts the acknowledgements (an outbound switch reaches a worker only after the install it switches to: one
 *     MessagePort is one ordered queue);
 *   - hands DPD activity and lifetime expiries from the workers to the IKE endpoint, their log lines to the logger,
 *     and sums their counters into the daemon's status.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { IkeEvent } from '../../ike/events.js';
import type { EspEngine } from '../../esp/engine.js';
import { SHARED_SA_BYTES, sharedSaViews } from '../../esp/sa.js';
import type { Gateway } from '../../gateway/gateway.js';
import type { Logger } from '../logger.js';
import type { DaemonStatus } from '../status.js';
import type { FromWorker, SaEvent, ToWorker, WorkerInit, WorkerStats } from './protocol.js';
import { closeFds, openReuseportGroup, ReuseportError } from './reuseport.js';

/** What the pool needs of the daemon (driver.ts's Daemon fits). */
export interface PoolHost {
  readonly engine: EspEngine;
  onEvent(listener: (e: IkeEvent) => void): void;
  withCore<T>(f: (gateway: Gateway, now: number) => T): T;
  /** The workers' counters moved: the status file is rewritten (at most twice a second). */
  refreshStatus?(): void;
}

export interface WorkerPoolOptions {
  readonly count: number;
  readonly log: Logger;
  readonly nattPort: number;
  /** The multi-queue TUN (opened with multiQueue) the workers attach queues of; undefined: no TUN. */
  readonly tun: { readonly name: string; readonly mtu: number; readonly offload: boolean; readonly headroom: number } | undefined;
  readonly mssMtu: number | 'tun' | undefined;
  readonly batchSend?: boolean;
  readonly batchReceive?: boolean;
  /** How long the workers may take to start (ms, default 60000: from source every worker transpiles the modules through tsx). */
  readonly startTimeoutMs?: number;
}

export class WorkerPoolError extends Error {
  override readonly name = 'WorkerPoolError';
}

const errText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** A worker in a thread: this module's sibling, loaded through tsx's hooks when running from source. */
function spawn(init: WorkerInit): Worker {
  const ts = import.meta.url.endsWith('.ts');
  const self = new URL(`./data-worker${ts ? '.ts' : '.js'}`, import.meta.url).href;
  if (!ts) return new Worker(new URL(self), { workerData: init });
  // Node 20 does not carry tsx's module hooks into workers: a stub registers them first (as bench/ike.ts).
  const api = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
  const stub = `import(${JSON.stringify(api)}).then((t) => { t.register(); return import(${JSON.stringify(self)}); }).catch((e) => { throw e; });`;
  return new Worker(stub, { eval: true, workerData: init });
}

interface Slot {
  readonly index: number;
  readonly worker: Worker;
  stats: WorkerStats | undefined;
  /** The last sequence number this worker acknowledged. */
  acked: number;
  stopped: boolean;
}

export class WorkerPool {
  private readonly slots: Slot[] = [];
  private seq = 0;
  /** Inbound SPI of the CHILD SA each SPI (in or out) belongs to, for expiries. */
  private readonly spiInOf = new Map<number, number>();
  /**
   * Byte/packet lifetimes of each outbound SA (by SPI), checked against the sum of the workers' counters: every
   * worker seals on every outbound SA, so one replica's count alone would let the SA carry up to N times its limit
   * (RFC 4301 4.4.2.1). Inbound SAs are each on one worker, whose replica enforces them.
   */
  private readonly outLifetimes = new Map<number, { spiIn: number; lt: Extract<IkeEvent, { type: 'child-install' }>['lifetimes']; soft: boolean; hard: boolean }>();
  private host: PoolHost | undefined;
  private lastMtu: number | undefined;
  private readonly waiters: { seq: number; resolve: () => void }[] = [];
  private readonly mtuTimer: NodeJS.Timeout;

  private constructor(private readonly o: WorkerPoolOptions) {
    this.lastMtu = o.tun?.mtu;
    this.mtuTimer = setInterval(() => this.followMtu(), 1000);
    this.mtuTimer.unref();
  }

  get count(): number {
    return this.slots.length;
  }

  /**
   * Starts `count` workers and waits until each has its TUN queue. Throws a WorkerPoolError naming the worker and
   * the cause (TUN refused a queue, libc unavailable...); the workers started are stopped then.
   */
  static async start(o: WorkerPoolOptions): Promise<WorkerPool> {
    if (!Number.isInteger(o.count) || o.count < 2 || o.count > 255) throw new WorkerPoolError(`--workers ${o.count}: a pool needs 2..255 workers`);
    // SO_REUSEPORT with the steering program must work here before any worker starts (libc, kernel >= 4.5).
    try {
      const probe = openReuseportGroup('127.0.0.1', 0, o.count);
      closeFds(probe.fds);
    } catch (e) {
      throw new WorkerPoolError(`SO_REUSEPORT steering unavailable: ${errText(e)}`);
    }
    const pool = new WorkerPool(o);
    const t = o.tun;
    const ready: Promise<void>[] = [];
    for (let index = 1; index <= o.count; index++) {
      const init: WorkerInit = {
        role: 'cygnet-data-worker',
        index,
        count: o.count,
        tunName: t?.name,
        offload: t?.offload ?? false,
        headroom: t?.headroom ?? 0,
        mtu: t?.mtu ?? 1400,
        nattPort: o.nattPort,
        mssMtu: o.mssMtu,
        batchSend: o.batchSend ?? true,
        batchReceive: o.batchReceive ?? true,
      };
      const worker = spawn(init);
      const slot: Slot = { index, worker, stats: undefined, acked: 0, stopped: false };
      pool.slots.push(slot);
      ready.push(
        new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new WorkerPoolError(`worker ${index} did not start within ${o.startTimeoutMs ?? 60000} ms`)), o.startTimeoutMs ?? 60000);
          worker.once('error', (e) => (clearTimeout(timer), reject(new WorkerPoolError(`worker ${index}: ${errText(e)}`))));
          worker.on('message', function first(m: FromWorker) {
            if (m.t !== 'ready') return;
            worker.off('message', first);
            clearTimeout(timer);
            if (m.error !== undefined) reject(new WorkerPoolError(`worker ${index}: ${m.error}`));
            else resolve();
          });
        }),
      );
      worker.on('message', (m: FromWorker) => pool.onMessage(slot, m));
      worker.on('error', (e) => o.log.log('dmn', 0, `worker ${index} failed: ${errText(e)}`));
      worker.on('exit', (code) => {
        const expected = slot.stopped;
        slot.stopped = true;
        // Not replaced (docs/PERFORMANCE.md section 7): its socket left the group, so the steering is off from here on.
        if (!expected) o.log.log('dmn', 0, `worker ${index} exited with code ${code}: ESP of the inbound SAs steered to it (SPI low byte mod ${o.count} = ${index - 1}) is not received any more; restart the daemon`);
      });
    }
    try {
      await Promise.all(ready);
    } catch (e) {
      await pool.stop();
      throw e;
    }
    o.log.log('dmn', 1, `${o.count} data-plane workers started${t ? ` on TUN ${t.name} (one queue each)` : ''}, ESP steered by SPI on the NAT-T port`);
    return pool;
  }

  /**
   * UdpSockets' socketFd hook: for the NAT-T port, the main thread's socket of a new SO_REUSEPORT group on
   * `address` (the workers get theirs); other ports bind as usual. A group that cannot be made is an error
   * (a plain socket there would take ESP away from the workers).
   */
  socketFd(address: string, port: number): number | undefined {
    if (port !== this.o.nattPort) return undefined;
    let g: { fds: readonly number[] };
    try {
      g = openReuseportGroup(address, port, this.slots.length);
    } catch (e) {
      throw e instanceof ReuseportError ? new Error(`SO_REUSEPORT group: ${e.message}`) : e;
    }
    const seq = ++this.seq;
    for (const [i, s] of this.slots.entries()) this.post(s, { t: 'socket', seq, address, port, fd: g.fds[i + 1]! });
    this.o.log.log('net', 2, `UDP ${address}:${port}: SO_REUSEPORT group of ${g.fds.length} sockets (main + ${this.slots.length} workers)`);
    return g.fds[0];
  }

  /** Follows the daemon's SA changes and answers the workers' activity and expiries with its core. */
  attach(host: PoolHost): void {
    this.host = host;
    host.onEvent((e) => this.onEvent(e));
  }

  /** Resolves once every worker acknowledged every message sent so far (tests; the log says when SAs are everywhere). */
  synced(): Promise<void> {
    const seq = this.seq;
    if (this.slots.every((s) => s.stopped || s.acked >= seq)) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ seq, resolve }));
  }

  /** The workers' ESP counters of one SA (their last reports), summed; undefined when no worker has it. */
  saCounters(spi: number, dir: 'in' | 'out'): { bytes: number; packets: number; drops: Record<string, number> } | undefined {
    const key = `${dir}:${spi >>> 0}`;
    let found = false;
    const r = { bytes: 0, packets: 0, drops: {} as Record<string, number> };
    for (const s of this.slots) {
      const c = s.stats?.sas[key];
      if (!c) continue;
      found = true;
      r.bytes += c.bytes;
      r.packets += c.packets;
      for (const [k, n] of Object.entries(c.drops)) r.drops[k] = (r.drops[k] ?? 0) + n;
    }
    return found ? r : undefined;
  }

  /**
   * A CHILD SA's data-plane facts (vici list-sas, metrics: Daemon.childExtras) with the workers' counters added to
   * the main thread's engine's.
   */
  childExtras<T extends { bytesIn?: number; packetsIn?: number; bytesOut?: number; packetsOut?: number; dropsIn?: Record<string, number>; dropsOut?: Record<string, number> }>(x: T, spiIn: number, spiOut: number): T {
    const i = this.saCounters(spiIn, 'in');
    const o = this.saCounters(spiOut, 'out');
    const add = (a: Record<string, number> | undefined, b: Record<string, number> | undefined): Record<string, number> => {
      const r: Record<string, number> = { ...a };
      for (const [k, n] of Object.entries(b ?? {})) r[k] = (r[k] ?? 0) + n;
      return r;
    };
    return {
      ...x,
      ...(i ? { bytesIn: (x.bytesIn ?? 0) + i.bytes, packetsIn: (x.packetsIn ?? 0) + i.packets, dropsIn: add(x.dropsIn, i.drops) } : {}),
      ...(o ? { bytesOut: (x.bytesOut ?? 0) + o.bytes, packetsOut: (x.packetsOut ?? 0) + o.packets, dropsOut: add(x.dropsOut, o.drops) } : {}),
    };
  }

  /** The daemon's status with the workers' counters: per CHILD SA summed into its ESP counters, and in total. */
  status(st: DaemonStatus): DaemonStatus {
    const stats = this.slots.map((s) => s.stats).filter((s): s is WorkerStats => s !== undefined);
    const sum = (key: string) => {
      const [dir, spi] = key.split(':') as ['in' | 'out', string];
      return this.saCounters(Number(spi), dir);
    };
    const ikeSas = st.ikeSas.map((ike) => ({
      ...ike,
      children: ike.children.map((c) => {
        const i = sum(`in:${Number.parseInt(c.spiIn, 16)}`);
        const o = sum(`out:${Number.parseInt(c.spiOut, 16)}`);
        const merge = (a: Readonly<Record<string, number>> | undefined, b: Record<string, number> | undefined): Record<string, number> | undefined => {
          const r: Record<string, number> = { ...a };
          for (const [k, n] of Object.entries(b ?? {})) r[k] = (r[k] ?? 0) + n;
          return Object.keys(r).length > 0 ? r : undefined;
        };
        const dropsIn = merge(c.dropsIn, i?.drops);
        const dropsOut = merge(c.dropsOut, o?.drops);
        return {
          ...c,
          ...(i ? { bytesIn: (c.bytesIn ?? 0) + i.bytes, packetsIn: (c.packetsIn ?? 0) + i.packets } : {}),
          ...(o ? { bytesOut: (c.bytesOut ?? 0) + o.bytes, packetsOut: (c.packetsOut ?? 0) + o.packets } : {}),
          ...(dropsIn ? { dropsIn } : {}),
          ...(dropsOut ? { dropsOut } : {}),
        };
      }),
    }));
    const counters: Record<string, number> = { ...st.counters, workers: this.slots.length };
    for (const w of stats)
      for (const [k, n] of Object.entries(w.counters)) {
        counters[`worker${w.index}.${k}`] = n;
        // The gateway's own names count the main thread's share; the workers' are added to them.
        if (k in st.counters) counters[k] = (counters[k] ?? 0) + n;
      }
    return { ...st, ikeSas, counters };
  }

  /** Stops every worker: sockets and TUN queues closed in the worker, then the thread ends. */
  async stop(): Promise<void> {
    clearInterval(this.mtuTimer);
    await Promise.all(
      this.slots.map(
        (s) =>
          new Promise<void>((resolve) => {
            if (s.stopped) return resolve();
            const timer = setTimeout(() => void s.worker.terminate().then(() => resolve()), 3000);
            s.worker.once('exit', () => (clearTimeout(timer), resolve()));
            s.worker.on('message', (m: FromWorker) => m.t === 'stopped' && void s.worker.terminate());
            this.post(s, { t: 'stop' });
            // Ended on purpose from here on (terminate() reports exit code 1).
            s.stopped = true;
          }),
      ),
    );
    for (const w of this.waiters.splice(0)) w.resolve();
  }

  private post(s: Slot, m: ToWorker): void {
    if (!s.stopped) s.worker.postMessage(m);
  }

  private onEvent(e: IkeEvent): void {
    if (e.type !== 'child-install' && e.type !== 'child-outbound' && e.type !== 'child-remove' && e.type !== 'ike-address-change') return;
    this.followMtu();
    const host = this.host;
    let extra: { sharedSeq?: SharedArrayBuffer; replayWindow?: number; paddingCheck?: boolean } = {};
    if (e.type === 'child-install') {
      const out = host?.engine.getSa(e.outbound.spi, 'out');
      const inb = host?.engine.getSa(e.inbound.spi, 'in');
      // The core refused the SA (it logged why): the workers do not get it either.
      if (!out || !inb) return;
      // One counter for the SA, whoever seals: starts at the last number the main thread used (trap-queued packets
      // released at install went out on it), so no number repeats (RFC 4303 3.3.3).
      // Beside it the SA's seal lock (sa.ts seqLock): numbers leave in the order they were taken.
      const sab = new SharedArrayBuffer(SHARED_SA_BYTES);
      const views = sharedSaViews(sab);
      views.sharedSeq[0] = out.seqLo;
      out.sharedSeq = views.sharedSeq;
      out.seqLock = views.seqLock;
      extra = { sharedSeq: sab, replayWindow: inb.replay?.size ?? 0, paddingCheck: inb.paddingCheck };
      this.spiInOf.set(e.child.spiIn, e.child.spiIn);
      this.spiInOf.set(e.child.spiOut, e.child.spiIn);
      const lt = e.lifetimes;
      if (lt.softBytes > 0 || lt.hardBytes > 0 || lt.softPackets > 0 || lt.hardPackets > 0) this.outLifetimes.set(e.outbound.spi >>> 0, { spiIn: e.child.spiIn, lt, soft: false, hard: false });
    }
    const seq = ++this.seq;
    const event = e as SaEvent;
    for (const s of this.slots) this.post(s, { t: 'sa', seq, event, ...extra });
    if (e.type === 'child-remove') {
      this.spiInOf.delete(e.child.spiIn);
      this.spiInOf.delete(e.child.spiOut);
      this.outLifetimes.delete(e.child.spiOut >>> 0);
    }
    if (e.type === 'child-install') {
      const what = `CHILD_SA ${e.child.name}{${e.child.id}}`;
      void this.synced().then(() => this.o.log.log('esp', 2, `${what} installed on all ${this.slots.length} workers`));
    }
  }

  /** Outbound lifetimes against the workers' summed counters (at most one stats interval late). */
  private checkLifetimes(): void {
    const h = this.host;
    if (!h) return;
    const reached = (v: number, limit: number): boolean => limit > 0 && v >= limit;
    for (const [spi, x] of this.outLifetimes) {
      if (x.hard) continue;
      const c = this.saCounters(spi, 'out');
      if (!c) continue;
      const kind = reached(c.bytes, x.lt.hardBytes) || reached(c.packets, x.lt.hardPackets) ? 'hard' : !x.soft && (reached(c.bytes, x.lt.softBytes) || reached(c.packets, x.lt.softPackets)) ? 'soft' : undefined;
      if (!kind) continue;
      if (kind === 'hard') x.hard = true;
      x.soft = true;
      this.o.log.log('esp', 1, `outbound ESP SA ${spi.toString(16).padStart(8, '0')}: ${kind} lifetime reached by the workers together (${c.bytes} bytes, ${c.packets} packets)`);
      h.withCore((gw, now) => gw.endpoint.espExpired(x.spiIn, kind, now));
    }
  }

  private followMtu(): void {
    const t = this.o.tun as { mtu: number } | undefined;
    if (!t || t.mtu === this.lastMtu) return;
    this.lastMtu = t.mtu;
    for (const s of this.slots) this.post(s, { t: 'mtu', mtu: t.mtu });
  }

  private onMessage(s: Slot, m: FromWorker): void {
    switch (m.t) {
      case 'ack':
        s.acked = Math.max(s.acked, m.seq);
        if (m.error !== undefined) this.o.log.log('dmn', 0, `worker ${s.index} refused change ${m.seq}: ${m.error}`);
        for (let i = this.waiters.length - 1; i >= 0; i--) {
          const w = this.waiters[i]!;
          if (this.slots.every((x) => x.stopped || x.acked >= w.seq)) {
            this.waiters.splice(i, 1);
            w.resolve();
          }
        }
        return;
      case 'log':
        this.o.log.log(m.group, m.level, m.message);
        return;
      case 'stats': {
        const before = s.stats && JSON.stringify(s.stats.counters);
        s.stats = m.stats;
        if (before !== JSON.stringify(m.stats.counters)) this.host?.refreshStatus?.();
        this.checkLifetimes();
        return;
      }
      case 'activity': {
        const h = this.host;
        if (h) h.withCore((gw, now) => gw.endpoint.espActivity(m.spiIn, now));
        return;
      }
      case 'unprotected': {
        // Into the main thread's gateway as if read from its TUN: a trap policy's ACQUIRE queues it (traps.ts).
        const h = this.host;
        if (h) h.withCore((gw, now) => gw.tunPackets([m.packet], now));
        return;
      }
      case 'expired': {
        const h = this.host;
        const spiIn = this.spiInOf.get(m.spi);
        if (h && spiIn !== undefined) h.withCore((gw, now) => gw.endpoint.espExpired(spiIn, m.kind, now));
        return;
      }
      default:
        return;
    }
  }
}
