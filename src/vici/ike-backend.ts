/**
 * A ViciBackend over cygnet's IKE endpoint, so the daemon only supplies an `IkeControl` (thin calls into its
 * driver) and forwards every IkeEvent to `onEvent`. It turns the endpoint's fire-and-forget commands into charon's
 * blocking initiate/terminate: a command waits for the events that finish it (child-install, ike-up, ike-down,
 * child-remove, child-failed, auth-failed) and forwards that SA's log lines as control-log meanwhile.
 *
 * Matching follows charon's vici_control.c: `initiate` finds the CHILD_SA config by name (under `ike` when given);
 * `terminate`/`rekey` select CHILD_SAs when `child`/`child-id` is given (within IKE_SAs named `ike`, if given),
 * IKE_SAs otherwise.
 */
import type { ChildSaInfo, IkeEvent, IkeSaInfo } from '../ike/events.js';
import type { IkeConnectionConfig } from '../ike/config.js';
import type {
  InitiateRequest,
  RekeyRequest,
  TerminateRequest,
  ViciBackend,
  ViciConn,
  ViciIkeSa,
  ViciLogLine,
  ViciResult,
  ViciStats,
  ViciVersionInfo,
} from './backend.js';
import { viciChildSa, viciConn, viciIkeSa, type ChildSaExtras, type IkeSaExtras } from './adapt.js';
import { childRekeyEvent, childUpdownEvent, ikeRekeyEvent, ikeSaBody, ikeUpdownEvent } from './commands.js';
import { IkeCounters, messageCounter } from './counters.js';
import type { ViciInput } from './message.js';
import type { ViciStore } from './store.js';
import type { ViciCertInfo, ViciPolicy, ViciPool } from './backend.js';

export interface IkeControl {
  /** Start connection `conn` with CHILD_SA `child` (or its first); returns the new IKE SA's id. May throw. */
  initiate(conn: string, child?: string): number;
  terminateIke(id: number): boolean;
  terminateChild(childId: number): boolean;
  rekeyIke?(id: number, reauth: boolean): boolean;
  rekeyChild?(childId: number): boolean;
  listSas(): readonly { readonly sa: IkeSaInfo; readonly children: readonly ChildSaInfo[] }[];
  connections(): readonly IkeConnectionConfig[];
  halfOpenCount?(): number;
  /** Re-read the configuration file. */
  reload(): ViciResult | Promise<ViciResult>;
  /** The clock IkeSaInfo.establishedAt uses (ms). */
  now(): number;
  /** ESP counters, install/rekey times of a CHILD SA (same clock). */
  childExtras?(c: ChildSaInfo): ChildSaExtras | undefined;
  ikeExtras?(sa: IkeSaInfo): Omit<IkeSaExtras, 'now' | 'child'> | undefined;
  /** Timers armed, for stats' "jobs scheduled". */
  scheduled?(): number;
  /** ESP drops since start by reason name (the engine's totals), for stats and get-counters. */
  espDrops?(): Readonly<Record<string, number>>;
  /** Rebuild the configuration from the daemon's file plus what vici clients loaded (swanctl --load-all). */
  applyVici?(store: ViciStore): ViciResult | Promise<ViciResult>;
  pools?(): readonly ViciPool[];
  policies?(): readonly ViciPolicy[];
  certificates?(): readonly ViciCertInfo[];
  install?(child: string, ike?: string): ViciResult;
  uninstall?(child: string, ike?: string): ViciResult;
}

/** Where the backend raises vici events (a ViciServer: emit to every registered client). */
export interface ViciEventSink {
  emit(event: string, msg: ViciInput): number;
  listeners(event: string): number;
}

export interface IkeViciBackendOptions {
  readonly version: string;
  readonly daemon?: string;
  readonly plugins?: readonly string[];
}

interface InitiateWaiter {
  ikeSaId: number;
  readonly conn: string;
  /** The CHILD_SA that completes it; undefined when the connection has none (IKE_SA only). */
  readonly child: string | undefined;
  readonly onLog: (l: ViciLogLine) => void;
  readonly done: (r: ViciResult) => void;
}

interface TerminateWaiter {
  readonly ikeIds: Set<number>;
  readonly childIds: Set<number>;
  readonly names: Map<number, string>;
  readonly onLog: (l: ViciLogLine) => void;
  readonly done: () => void;
}

export class IkeViciBackend implements ViciBackend {
  private readonly initiates = new Set<InitiateWaiter>();
  private readonly terminates = new Set<TerminateWaiter>();
  private captured: IkeEvent[] | undefined;
  private sink: ViciEventSink | undefined;
  /** CHILD SAs replaced by a rekey, whose later removal is not a child-updown. */
  private readonly replacedChildren = new Set<number>();
  /** The IKE SAs last seen up, so the CHILD SAs an IKE SA's deletion takes down are still reported with it. */
  private readonly knownSas = new Map<number, IkeSaInfo>();
  /** charon's counters plugin: fed by onEvent (rekeys) and onIkeMessage (messages by exchange). */
  readonly counters = new IkeCounters();
  readonly applyVici?: (store: ViciStore) => ViciResult | Promise<ViciResult>;
  readonly pools?: () => readonly ViciPool[];
  readonly policies?: () => readonly ViciPolicy[];
  readonly certificates?: () => readonly ViciCertInfo[];
  readonly install?: (child: string, ike?: string) => ViciResult;
  readonly uninstall?: (child: string, ike?: string) => ViciResult;

  constructor(
    private readonly ctl: IkeControl,
    private readonly opts: IkeViciBackendOptions,
  ) {
    // What the daemon offers, the backend offers: commands answer "not supported" for the rest.
    if (ctl.applyVici) this.applyVici = ctl.applyVici.bind(ctl);
    if (ctl.pools) this.pools = ctl.pools.bind(ctl);
    if (ctl.policies) this.policies = ctl.policies.bind(ctl);
    if (ctl.certificates) this.certificates = ctl.certificates.bind(ctl);
    if (ctl.install) this.install = ctl.install.bind(ctl);
    if (ctl.uninstall) this.uninstall = ctl.uninstall.bind(ctl);
  }

  /** Raise ike-updown, child-updown, ike-rekey, child-rekey and ike-update to `sink` from now on. */
  attach(sink: ViciEventSink): void {
    this.sink = sink;
  }

  /**
   * Count an IKE message (without non-ESP marker) as sent ('out') or received ('in', after the endpoint handled
   * it, so a new SA is known), or a datagram that is not IKE ('invalid').
   */
  onIkeMessage(dir: 'in' | 'out' | 'invalid', data: Uint8Array): void {
    if (dir === 'invalid') {
      this.counters.count('invalid');
      return;
    }
    const name = messageCounter(data, dir);
    if (name === undefined) return;
    this.counters.count(name, this.connOfSpis(data.subarray(0, 8), data.subarray(8, 16)));
  }

  private connOfSpis(spiI: Uint8Array, spiR: Uint8Array): string | undefined {
    const eq = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((x, i) => x === b[i]);
    for (const { sa } of this.ctl.listSas()) if (eq(sa.spiI, spiI) && (eq(sa.spiR, spiR) || spiR.every((x) => x === 0))) return sa.name;
    return undefined;
  }

  version(): ViciVersionInfo {
    return { daemon: this.opts.daemon ?? 'cygnet', version: this.opts.version };
  }

  espDrops(): Readonly<Record<string, number>> {
    return this.ctl.espDrops?.() ?? {};
  }

  stats(): ViciStats {
    const sas = this.ctl.listSas();
    return {
      ikeSas: { total: sas.length, halfOpen: this.ctl.halfOpenCount?.() ?? sas.filter((s) => s.sa.state === 'CONNECTING').length },
      plugins: this.opts.plugins ?? [],
      scheduled: this.ctl.scheduled?.() ?? 0,
      ...(this.ctl.espDrops ? { espDrops: this.ctl.espDrops() } : {}),
    };
  }

  listConns(): ViciConn[] {
    return this.ctl.connections().map(viciConn);
  }

  listSas(): ViciIkeSa[] {
    const now = this.ctl.now();
    const childExtras = this.ctl.childExtras?.bind(this.ctl);
    return this.ctl.listSas().map(({ sa, children }) =>
      viciIkeSa(sa, children, { ...(this.ctl.ikeExtras?.(sa) ?? {}), now, ...(childExtras ? { child: childExtras } : {}) }),
    );
  }

  initiate(req: InitiateRequest): Promise<ViciResult> {
    const conns = this.ctl.connections();
    let conn: IkeConnectionConfig | undefined;
    if (req.ike !== undefined) {
      conn = conns.find((c) => c.name === req.ike);
      if (!conn) return Promise.resolve({ success: false, errmsg: `IKE_SA config '${req.ike}' not found` });
      if (req.child !== undefined && !conn.children.some((c) => c.name === req.child)) {
        return Promise.resolve({ success: false, errmsg: `CHILD_SA config '${req.child}' not found` });
      }
    } else {
      conn = conns.find((c) => c.children.some((ch) => ch.name === req.child));
      if (!conn) return Promise.resolve({ success: false, errmsg: `CHILD_SA config '${req.child}' not found` });
    }
    const child = req.child ?? conn.children[0]?.name;
    let id: number;
    // The driver may flush events synchronously inside initiate (its first log lines, even a failure): keep them
    // and replay them to this waiter once the SA id is known.
    const captured: IkeEvent[] = [];
    this.captured = captured;
    try {
      id = this.ctl.initiate(conn.name, req.child);
    } catch (e) {
      return Promise.resolve({ success: false, errmsg: `initiating '${conn.name}' failed: ${e instanceof Error ? e.message : String(e)}` });
    } finally {
      this.captured = undefined;
    }
    return new Promise((resolve) => {
      const w: InitiateWaiter = {
        ikeSaId: id,
        conn: conn.name,
        child,
        onLog: req.onLog,
        done: (r) => {
          this.initiates.delete(w);
          resolve(r);
        },
      };
      this.initiates.add(w);
      for (const e of captured) if (this.initiates.has(w)) this.applyInitiate(w, e);
      // Detached (timeout, client gone): the SA goes on; only the waiting stops, as in charon.
      req.signal.addEventListener('abort', () => w.done({ success: false, errmsg: 'detached' }), { once: true });
    });
  }

  terminate(req: TerminateRequest): Promise<ViciResult> {
    const sas = this.ctl.listSas().filter(({ sa }) => (req.ike === undefined || sa.name === req.ike) && (req.ikeId === undefined || sa.id === req.ikeId));
    const byChild = req.child !== undefined || req.childId !== undefined;
    const w: TerminateWaiter = { ikeIds: new Set(), childIds: new Set(), names: new Map(), onLog: req.onLog, done: () => {} };
    let failed = 0;
    // As for initiate: events the driver flushes during the calls are replayed to the waiter.
    const captured: IkeEvent[] = [];
    this.captured = captured;
    try {
      for (const { sa, children } of sas) {
        if (byChild) {
          for (const c of children) {
            if ((req.child !== undefined && c.name !== req.child) || (req.childId !== undefined && c.id !== req.childId)) continue;
            w.names.set(sa.id, sa.name);
            if (this.ctl.terminateChild(c.id)) w.childIds.add(c.id);
            else failed++;
          }
        } else {
          w.names.set(sa.id, sa.name);
          if (this.ctl.terminateIke(sa.id)) w.ikeIds.add(sa.id);
          else failed++;
        }
      }
    } finally {
      this.captured = undefined;
    }
    const matches = w.ikeIds.size + w.childIds.size + failed;
    if (matches === 0) return Promise.resolve({ success: false, errmsg: 'no matching SAs to terminate found', matches: 0 });
    const result = (): ViciResult =>
      failed === 0 ? { success: true, matches } : { success: false, errmsg: `terminating ${failed} of ${matches} SAs failed`, matches };
    if (req.force || w.ikeIds.size + w.childIds.size === 0) {
      for (const e of captured) if (e.type === 'log') this.applyTerminate(w, e);
      return Promise.resolve(result());
    }
    return new Promise((resolve) => {
      let settled = false;
      const waiter: TerminateWaiter = {
        ...w,
        done: () => {
          if (settled) return;
          settled = true;
          this.terminates.delete(waiter);
          resolve(result());
        },
      };
      this.terminates.add(waiter);
      for (const e of captured) this.applyTerminate(waiter, e);
      req.signal.addEventListener('abort', () => waiter.done(), { once: true });
    });
  }

  rekey(req: RekeyRequest): ViciResult {
    const sas = this.ctl.listSas().filter(({ sa }) => (req.ike === undefined || sa.name === req.ike) && (req.ikeId === undefined || sa.id === req.ikeId));
    const byChild = req.child !== undefined || req.childId !== undefined;
    let matches = 0;
    let failed = 0;
    for (const { sa, children } of sas) {
      if (byChild) {
        for (const c of children) {
          if ((req.child !== undefined && c.name !== req.child) || (req.childId !== undefined && c.id !== req.childId)) continue;
          matches++;
          if (!this.ctl.rekeyChild?.(c.id)) failed++;
        }
      } else {
        matches++;
        if (!this.ctl.rekeyIke?.(sa.id, req.reauth)) failed++;
      }
    }
    if (matches === 0) return { success: false, errmsg: 'no matching SAs to rekey found', matches: 0 };
    return failed === 0 ? { success: true, matches } : { success: false, errmsg: `rekeying ${failed} of ${matches} SAs failed`, matches };
  }

  reload(): ViciResult | Promise<ViciResult> {
    return this.ctl.reload();
  }

  /** Feed every event the endpoint emits (the daemon's pollEvent loop). */
  onEvent(e: IkeEvent): void {
    this.captured?.push(e);
    this.count(e);
    if (this.sink) this.raise(this.sink, e);
    for (const w of [...this.initiates]) this.applyInitiate(w, e);
    for (const w of [...this.terminates]) this.applyTerminate(w, e);
  }

  /** Rekeys for the counters: the new IKE SA's initiator is the side that started the rekey (RFC 7296 2.18). */
  private count(e: IkeEvent): void {
    if (e.type === 'ike-rekeyed') this.counters.count(e.sa.initiator ? 'ike-rekey-init' : 'ike-rekey-resp', e.sa.name);
    else if (e.type === 'child-install' && e.replaces) this.counters.count('child-rekey', this.nameOf(e.child.ikeSaId));
  }

  private nameOf(ikeSaId: number): string | undefined {
    return this.ctl.listSas().find(({ sa }) => sa.id === ikeSaId)?.sa.name;
  }

  private viewOf(sa: IkeSaInfo, children?: readonly ChildSaInfo[]): ViciIkeSa {
    const now = this.ctl.now();
    const childExtras = this.ctl.childExtras?.bind(this.ctl);
    const kids = children ?? this.ctl.listSas().find((x) => x.sa.id === sa.id)?.children ?? [];
    return viciIkeSa(sa, kids, { ...(this.ctl.ikeExtras?.(sa) ?? {}), now, ...(childExtras ? { child: childExtras } : {}) });
  }

  private childView(c: ChildSaInfo): ReturnType<typeof viciChildSa> {
    const x = this.ctl.childExtras?.(c);
    return viciChildSa(c, { ...(x ?? {}), now: this.ctl.now() });
  }

  /**
   * The events swanctl --monitor-sa prints (vici README "ike-updown" ... "child-rekey"), as charon's vici_query.c
   * listener raises them. Built only when someone listens.
   */
  private raise(sink: ViciEventSink, e: IkeEvent): void {
    const emit = (name: string, build: () => ViciInput | undefined): void => {
      if (sink.listeners(name) === 0) return;
      const m = build();
      if (m) sink.emit(name, m);
    };
    switch (e.type) {
      case 'ike-up':
        this.knownSas.set(e.sa.id, e.sa);
        emit('ike-updown', () => ikeUpdownEvent(this.viewOf(e.sa), true));
        return;
      case 'ike-down':
        if (e.reason !== 'rekeyed') emit('ike-updown', () => ikeUpdownEvent(this.viewOf(e.sa, []), false));
        this.knownSas.delete(e.sa.id);
        return;
      case 'ike-rekeyed':
        this.knownSas.delete(e.old.id);
        this.knownSas.set(e.sa.id, e.sa);
        emit('ike-rekey', () => ikeRekeyEvent(this.viewOf(e.old, []), this.viewOf(e.sa)));
        return;
      case 'child-install': {
        const sa = this.ctl.listSas().find((x) => x.sa.id === e.child.ikeSaId)?.sa;
        if (!sa) return;
        if (e.replaces) {
          const old = e.replaces;
          this.replacedChildren.add(old.id);
          emit('child-rekey', () => childRekeyEvent(this.viewOf(sa, []), this.childView(old), this.childView(e.child)));
        } else emit('child-updown', () => childUpdownEvent(this.viewOf(sa, []), this.childView(e.child), true));
        return;
      }
      case 'child-remove': {
        // A CHILD SA replaced by a rekey is not "down" (charon raises child-rekey only).
        if (this.replacedChildren.delete(e.child.id) || /rekeyed/.test(e.reason)) return;
        const sa = this.ctl.listSas().find((x) => x.sa.id === e.child.ikeSaId)?.sa ?? this.knownSas.get(e.child.ikeSaId);
        if (!sa) return;
        emit('child-updown', () => childUpdownEvent(this.viewOf(sa, []), this.childView(e.child), false));
        return;
      }
      case 'ike-address-change':
        // vici_query.c ike_update: the new endpoints, then the IKE_SA.
        emit('ike-update', () => {
          const m: ViciInput = {
            'local-host': e.sa.local.address,
            'local-port': e.sa.local.port,
            'remote-host': e.sa.remote.address,
            'remote-port': e.sa.remote.port,
          };
          m[e.sa.name] = ikeSaBody(this.viewOf(e.sa, []));
          return m;
        });
        return;
      default:
        return;
    }
  }

  private applyInitiate(w: InitiateWaiter, e: IkeEvent): void {
    switch (e.type) {
      case 'log':
        if (e.ikeSaId === w.ikeSaId) w.onLog({ group: e.group, level: e.level, ikeSaName: w.conn, ikeSaUniqueId: e.ikeSaId, message: e.message });
        return;
      case 'ike-up':
        if (w.ikeSaId === e.sa.id && w.child === undefined) w.done({ success: true });
        return;
      case 'child-install':
        if (!e.replaces && w.ikeSaId === e.child.ikeSaId && (w.child === undefined || w.child === e.child.name)) w.done({ success: true });
        return;
      case 'child-failed':
        if (w.ikeSaId === e.ikeSaId && (w.child === undefined || w.child === e.name)) {
          w.done({ success: false, errmsg: `establishing CHILD_SA '${e.name}' failed: ${e.notify}${e.message ? `: ${e.message}` : ''}` });
        }
        return;
      case 'auth-failed':
        if (w.ikeSaId === e.ikeSaId) w.done({ success: false, errmsg: `establishing IKE_SA '${w.conn}' failed: authentication failed: ${e.message}` });
        return;
      case 'ike-rekeyed':
        // The CHILD_SAs live on under the new IKE SA: follow them.
        if (w.ikeSaId === e.old.id) w.ikeSaId = e.sa.id;
        return;
      case 'ike-down':
        if (w.ikeSaId === e.sa.id && e.reason !== 'rekeyed') {
          w.done({ success: false, errmsg: `establishing IKE_SA '${w.conn}' failed: ${e.reason}${e.message ? `: ${e.message}` : ''}` });
        }
        return;
      default:
        return;
    }
  }

  private applyTerminate(w: TerminateWaiter, e: IkeEvent): void {
    switch (e.type) {
      case 'log':
        if (e.ikeSaId !== undefined && w.names.has(e.ikeSaId)) {
          w.onLog({ group: e.group, level: e.level, ikeSaName: w.names.get(e.ikeSaId) ?? '', ikeSaUniqueId: e.ikeSaId, message: e.message });
        }
        return;
      case 'ike-down':
        w.ikeIds.delete(e.sa.id);
        this.settle(w, e.sa.id);
        return;
      case 'child-remove':
        w.childIds.delete(e.child.id);
        this.settle(w);
        return;
      default:
        return;
    }
  }

  private settle(w: TerminateWaiter, deadIkeSa?: number): void {
    if (deadIkeSa !== undefined) {
      // CHILD_SAs of a destroyed IKE_SA are gone even if no child-remove was reported for them.
      const alive = new Set(this.ctl.listSas().flatMap(({ children }) => children.map((c) => c.id)));
      for (const id of [...w.childIds]) if (!alive.has(id)) w.childIds.delete(id);
    }
    if (w.ikeIds.size === 0 && w.childIds.size === 0) w.done();
  }
}
