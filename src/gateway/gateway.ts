/**
 * The gateway core (issue 12; ../../shared/DESIGN.md section 1): one sans-IO object that owns an IKE endpoint, an
 * ESP engine, SA installation (child-installer.ts), trap policies with their ACQUIRE queues, the reqid allocator
 * (reqids.ts), ESP lifetime expiry -> rekey/delete and DPD activity. It takes datagrams, TUN packet batches and
 * the time; it gives back
 *   - datagrams, through the driver's GatewayNet: ESP one by one into the driver's batch (`sendEsp` with the
 *     engine's buffer, no copy, no object per packet), then `flushEsp()` once per batch; IKE via `sendIke`;
 *   - TUN packets, as one writeBatch per ESP batch (GatewayTun);
 *   - route and virtual-IP changes (GatewayRoutes), and MTU changes of the TUN (setMtu);
 *   - events, pulled with pollEvent(): every IkeEvent after the core acted on it, plus gateway events;
 *   - nextTimeout(), to call handleTimeout(now) at.
 * It opens no socket, arms no timer and reads no clock: the daemon (src/daemon/driver.ts), the demo and library
 * users drive it, and the simulator tests (gateway.test.ts) run two of them back to back in virtual time.
 * Its parts: contracts.ts (what the driver provides and gets), traps.ts (trap policies, ACQUIRE queues),
 * esp-path.ts (the ESP data path, MSS, TUN MTU), remote-address.ts (remote_addrs names, source addresses),
 * local-address.ts, pool-reload.ts, child-status.ts.
 */
import { IkeEndpoint, type PendingRemote } from '../ike/endpoint.js';
import type { Address, ChildConfig, EndpointSettings } from '../ike/config.js';
import type { ChildSaInfo, IkeEvent } from '../ike/events.js';
import type { TrafficSelector } from '../ike/traffic-selector.js';
import { EspEngine } from '../esp/engine.js';
import { classifyDatagram } from '../net/classify.js';
import type { ConfigDiff } from '../config/diff.js';
import { ChildSaInstaller } from './child-installer.js';
import { ChildStarter, type StartReason } from './child-starter.js';
import { allCounters, type ChildExtras, childExtras } from './child-status.js';
import type { ChildRef, GatewayConfig, GatewayEvent, GatewayLog, GatewayOptions } from './contracts.js';
import { ESP_BATCH_MAX, EspPath } from './esp-path.js';
import { EventQueue } from './event-queue.js';
import { liveCredentials } from './live-credentials.js';
import { addressAdded, addressesChanged, addressGone, moveAway } from './local-address.js';
import { fmtAddr, spiText, withMarker } from './format.js';
import { reloadPools } from './pool-reload.js';
import { initiationAddresses, restartRemote, UnresolvedNameError } from './remote-address.js';
import { ReqidAllocator } from './reqids.js';
import { TrapPolicies } from './traps.js';

export type { ChildRef, GatewayConfig, GatewayEvent, GatewayLog, GatewayNet, GatewayOptions, GatewayResolver, GatewayRoutes, GatewayTun } from './contracts.js';
export type { ChildExtras } from './child-status.js';
export { ESP_BATCH_MAX } from './esp-path.js';
export { fmtAddr } from './format.js';
export { isDnsName, UnresolvedNameError } from './remote-address.js';
export { TRAP_QUEUE_LIMIT } from './traps.js';

/** Priority of installed SAs' policies in the engine's SPD: before on-demand (trap) policies (traps.ts). */
const SA_POLICY_PRIORITY = 10;
/** How long an inbound SA replaced by a rekey keeps accepting packets still in flight. */
const REKEY_INBOUND_GRACE_MS = 2000;

export class Gateway {
  readonly endpoint: IkeEndpoint;
  readonly engine: EspEngine;
  readonly reqids = new ReqidAllocator();
  /**
   * counters.trapUnhandled: packets that hit a trap policy and could not be handled (no trap for them any more,
   * the connection cannot initiate, the CHILD SA failed): counted and logged (rate limited), never silent.
   */
  readonly counters = { ikeIn: 0, ikeOut: 0, espIn: 0, espOut: 0, keepalives: 0, invalid: 0, delivered: 0, undeliverable: 0, espDrops: 0, sendErrors: 0, faults: 0, mssClamped: 0, trapQueueDropped: 0, trapUnhandled: 0 };
  private readonly installer: ChildSaInstaller;
  private readonly log: GatewayLog;
  private config: GatewayConfig;
  private readonly installedAt = new Map<number, number>();
  /** Trap policies, their ACQUIRE queues and the children being negotiated (traps.ts). */
  private readonly traps: TrapPolicies;
  /** The ESP data path (esp-path.ts). */
  private readonly esp: EspPath;
  private readonly starter: ChildStarter;
  /** An IKE SA came up, went or was rekeyed: children waiting for one may go on (flush runs starter.settle). */
  private settleDue = false;
  /** start_action = start children that could not initiate for want of a resolved remote_addrs name. */
  private readonly unresolved = new Map<string, { conn: string; child: string | undefined; reason: StartReason }>();
  private readonly events = new EventQueue<GatewayEvent>();
  private readonly nattPort: number;

  constructor(private readonly opts: GatewayOptions) {
    this.log = opts.log;
    this.config = opts.config;
    this.nattPort = opts.nattPort ?? 4500;
    const { crypto, random } = opts;
    this.endpoint = new IkeEndpoint({
      connections: opts.config.connections,
      credentials: liveCredentials(() => this.config.credentials),
      crypto,
      random,
      pools: opts.config.pools ?? [],
      settings: opts.settings ?? {},
      ...(opts.eap ? { eap: opts.eap } : {}),
      ...(opts.wake ? { wake: opts.wake } : {}),
      // Restarts (keyingtries, dpd/close_action, reauthentication) re-resolve DNS names in remote_addrs.
      resolveRemote: (c, previous) => this.remoteFor(c.name, previous),
    });
    // Drop reports (the first of each reason per SA, then rate-limited summaries) at esp 1 (issue 15).
    this.engine = new EspEngine({ backend: crypto, random, log: (level, message) => this.log('esp', level, message) });
    this.traps = new TrapPolicies({
      connections: () => this.config.connections,
      reqids: this.reqids,
      engine: this.engine,
      routes: opts.routes,
      resolver: opts.resolver,
      counters: this.counters,
      log: (group, level, message) => this.log(group, level, message),
      ikeSaExists: (id) => this.endpoint.ikeSa(id) !== undefined,
      initiate: (conn, child, now) => void this.initiateWith(conn, now, child, 'trap'),
      send: (refs, now) => this.esp.seal(refs, now),
    });
    this.esp = new EspPath({
      engine: this.engine,
      net: opts.net,
      tun: opts.tun,
      log: (group, level, message) => this.log(group, level, message),
      counters: this.counters,
      mssMtu: opts.mssClampMtu === false ? undefined : (opts.mssClampMtu ?? (opts.tun ? 'tun' : undefined)),
      fixedMtu: opts.fixedMtu ?? false,
      guard: (what, f) => this.guard(what, f),
      fault: (what, e) => this.fault(what, e),
      espActivity: (spiIn, now) => this.guard('ESP activity', () => this.endpoint.espActivity(spiIn, now)),
      acquire: (dst, now, reqid, packet) => this.traps.acquire(dst, now, reqid, packet),
    });
    this.starter = new ChildStarter(
      {
        listSas: () => this.endpoint.listSas(),
        createChild: (id, child, now) => this.endpoint.createChild(id, child, now),
        initiate: (conn, child, now) => this.initiateFresh(conn, now, child),
        log: (group, level, message) => this.log(group, level, message),
      },
      opts.reuseIkeSa ?? true,
    );
    this.installer = new ChildSaInstaller(this.engine, {
      replayWindow: (c) => this.childConfig(c)?.replayWindow ?? 1024,
      paddingCheck: (c) => this.childConfig(c)?.espPaddingCheck ?? true,
      graceMs: REKEY_INBOUND_GRACE_MS,
      priority: SA_POLICY_PRIORITY,
      log: (level, message) => this.log('esp', level, message),
      reqids: {
        // An SA of a trapped child takes the trap's reqid (strongSwan: the acquire's reqid), others their own key.
        acquire: (c) => {
          const conn = this.nameOfIke(c.ikeSaId) ?? '';
          const trapped = this.traps.reqidOf(conn, c.name);
          if (trapped !== undefined) return this.reqids.retain(trapped);
          return this.reqids.acquire(ReqidAllocator.key(conn, c.name, c.localTs, c.remoteTs));
        },
        retain: (r) => this.reqids.retain(r),
        release: (r) => this.reqids.release(r),
      },
    });
  }

  // ------------------------------------------------------------------ lifecycle and control

  /** Installs the configured trap policies and initiates start_action = start children. */
  start(now: number): void {
    for (const ref of this.config.trapChildren) this.installTrap(ref);
    for (const { conn, child } of this.config.startChildren) {
      this.log('cfg', 1, `initiating '${conn}' child '${child}' (start_action = start)`);
      this.startChild(conn, child, now, 'start');
    }
    this.flush(now);
  }

  /** Deletes every IKE SA (INFORMATIONAL Delete, RFC 7296 1.4.1); returns how many there were. */
  terminateAll(now: number): number {
    const sas = this.endpoint.listSas();
    if (sas.length > 0) this.log('dmn', 1, `terminating ${sas.length} IKE SA(s)`);
    for (const { sa } of sas) this.endpoint.terminateIke(sa.id, now);
    this.flush(now);
    return sas.length;
  }

  /** Starts an IKE SA of `conn` (`cygnet up`, vici initiate); returns its id. Throws for unknown names. */
  initiate(conn: string, now: number, child?: string): number {
    try {
      return this.initiateWith(conn, now, child, 'up');
    } finally {
      this.flush(now);
    }
  }

  /**
   * Brings a child of `connName` up: CREATE_CHILD_SA on an IKE SA of the connection when charon.reuse_ikesa
   * allows (child-starter.ts), else a new IKE SA (initiateFresh). Returns the IKE SA's id.
   */
  private initiateWith(connName: string, now: number, child: string | undefined, reason: StartReason): number {
    const conn = this.config.connections.find((c) => c.name === connName);
    if (!conn) throw new Error(`no connection named '${connName}'`);
    const first = conn.children[0]?.name;
    const r = this.starter.start(connName, child, first, now, reason);
    const name = child ?? first;
    if (name !== undefined) this.traps.negotiating.set(`${connName}\0${name}`, r.ikeSaId);
    return r.ikeSaId;
  }

  /** initiateWith for start_action = start (and reloads): a name not resolved yet is retried by namesResolved. */
  private startChild(conn: string, child: string | undefined, now: number, reason: StartReason): void {
    try {
      this.initiateWith(conn, now, child, reason);
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      this.log('cfg', 0, `cannot initiate '${conn}': ${message}`);
      if (e instanceof UnresolvedNameError) this.unresolved.set(`${conn}\0${child ?? ''}`, { conn, child, reason });
    }
  }

  /** endpoint.initiate (a new IKE SA) with the addresses filled in (remote-address.ts: names, source address). */
  private initiateFresh(connName: string, now: number, child: string | undefined): number {
    const conn = this.config.connections.find((c) => c.name === connName);
    const opts: { child?: string; local?: Address; remote?: Address } = child !== undefined ? { child } : {};
    if (conn) Object.assign(opts, initiationAddresses(conn, this.opts.net, this.opts.resolver, this.log));
    return this.endpoint.initiate(connName, now, opts);
  }

  /**
   * Where a restart of `connName` (keyingtries retry, dpd_action/close_action = restart, reauthentication) should
   * go: the current address of its remote_addrs name when it has one (re-resolved, as strongSwan does on each
   * attempt), else `previous`. The IKE core's restarts (src/ike/restart.ts) call it through the endpoint's
   * resolveRemote. Asks the resolver for a fresh answer, and the attempt waits for it (a PendingRemote).
   */
  remoteFor(connName: string, previous: Address): Address | PendingRemote {
    return restartRemote(this.config.connections.find((c) => c.name === connName), this.opts.resolver, previous, this.log);
  }

  /** charon.reuse_ikesa changed (a reload of the settings file): applies to the next child brought up. */
  setReuseIkeSa(on: boolean): void {
    if (this.starter.reuseIkeSa === on) return;
    this.starter.reuseIkeSa = on;
    this.log('cfg', 1, `reuse_ikesa = ${on ? 'yes' : 'no'}`);
  }

  /**
   * The driver's resolver has new answers: start_action = start children that could not initiate for want of an
   * address try again (as charon.retry_initiate_interval does in strongSwan).
   */
  namesResolved(now: number): void {
    if (this.unresolved.size === 0) return;
    const list = [...this.unresolved.values()];
    this.unresolved.clear();
    for (const u of list) {
      this.log('cfg', 1, `retrying '${u.conn}'${u.child !== undefined ? ` child '${u.child}'` : ''}: its remote_addrs name resolved`);
      this.startChild(u.conn, u.child, now, u.reason);
    }
    this.flush(now);
  }

  /** Runs an endpoint command (initiate, terminate, rekey...) and does what it produced. */
  command<T>(now: number, f: (endpoint: IkeEndpoint) => T): T {
    try {
      return f(this.endpoint);
    } finally {
      this.flush(now);
    }
  }

  nextTimeout(): number | undefined {
    const a = this.endpoint.nextTimeout();
    const b = this.engine.nextTimeout();
    return a === undefined ? b : b === undefined ? a : Math.min(a, b);
  }

  handleTimeout(now: number): void {
    this.guard('IKE timeout', () => this.endpoint.handleTimeout(now));
    this.guard('ESP timeout', () => this.engine.handleTimeout(now));
    this.flush(now);
  }

  /**
   * The next event (IkeEvents after the core acted on them, gateway events), or undefined. Drain after every call
   * into the core, as the daemon does: events wait in a queue until pulled.
   */
  pollEvent(): GatewayEvent | undefined {
    return this.events.poll();
  }

  /**
   * Applies a reloaded configuration (SIGHUP, vici load-conns): SAs of removed and changed connections are
   * deleted, changed and added ones with start_action = start initiated, trap policies and pools follow. `settings`:
   * changed charon.* knobs for the endpoint, if any.
   */
  reload(next: GatewayConfig, diff: ConfigDiff, now: number, settings?: Partial<EndpointSettings>): void {
    const restart = new Set([...diff.removed, ...diff.changed.map((c) => c.name)]);
    if (settings) {
      this.endpoint.updateSettings(settings);
      this.log('cfg', 1, 'applied changed charon.* settings');
    }
    this.config = next;
    this.endpoint.setConnections(next.connections);
    this.traps.removeConnections(restart);
    for (const conn of restart) {
      this.starter.forget(conn);
      for (const k of [...this.unresolved.keys()]) if (k.startsWith(`${conn}\0`)) this.unresolved.delete(k);
    }
    for (const { sa } of this.endpoint.listSas())
      if (restart.has(sa.name)) {
        this.log('cfg', 1, `connection '${sa.name}' ${diff.removed.includes(sa.name) ? 'removed' : 'changed'}: deleting IKE_SA ${sa.name}[${sa.id}]`);
        this.guard('terminate', () => this.endpoint.terminateIke(sa.id, now));
      }
    for (const ref of next.trapChildren) this.installTrap(ref);
    const fresh = new Set([...diff.added, ...diff.changed.map((c) => c.name)]);
    for (const { conn, child } of next.startChildren)
      if (fresh.has(conn)) {
        this.log('cfg', 1, `initiating '${conn}' child '${child}' (start_action = start, reloaded)`);
        this.startChild(conn, child, now, 'reload');
      }
    if (diff.pools.added.length + diff.pools.removed.length + diff.pools.changed.length > 0) this.endpoint.setPools(reloadPools(this.endpoint.pools(), next.pools ?? [], diff.pools, this.log));
    this.log(
      'cfg',
      1,
      `reloaded: ${diff.added.length} added, ${diff.removed.length} removed, ${diff.changed.length} changed, ${diff.unchanged.length} unchanged connection(s)${diff.secretsChanged ? ', secrets changed' : ''}`,
    );
    this.flush(now);
  }

  // ------------------------------------------------------------------ local addresses (issue 15)

  /**
   * The driver saw a local address go (RTM_DELADDR, or its link went down: `why`): the IKE SAs using it are
   * named in the log and in a 'local-address' event. Without MOBIKE they stay until DPD or the peer ends them, as
   * in strongSwan without MOBIKE; with it (the IKE core, RFC 4555) this is where an address update starts.
   */
  localAddressGone(address: string, now: number, why = 'address removed'): readonly number[] {
    const e = addressGone(this.endpoint.listSas(), address, why, this.log);
    this.events.push(e);
    moveAway(this.endpoint, this.opts.net, e, now, this.log);
    this.flush(now);
    return e.ikeSaIds;
  }

  /**
   * The driver's list of our addresses that can carry IKE (bound, not loopback, link-local, TUN or virtual IPs):
   * announced to MOBIKE peers as ADDITIONAL_IP4/6_ADDRESS (RFC 4555 3.4), with an update when it changes (3.6).
   */
  setLocalAddresses(addresses: readonly string[], now: number): void {
    addressesChanged(this.endpoint, this.opts.net, addresses, now, this.log);
    this.flush(now);
  }

  /** A local address appeared (RTM_NEWADDR, not tentative) or its link came up: reported as a 'local-address' event. */
  localAddressAdded(address: string, now: number, why = 'address added'): void {
    this.events.push(addressAdded(address, why, this.log));
    this.flush(now);
  }

  // ------------------------------------------------------------------ trap policies (start_action = trap)

  /** Trap policies installed: connection, child, reqid and the selectors of its config. */
  trapPolicies(): { conn: string; child: string; reqid: number; local: readonly TrafficSelector[]; remote: readonly TrafficSelector[] }[] {
    return this.traps.list();
  }

  /** Packets waiting in the ACQUIRE queue of a trapped child. */
  queuedFor(conn: string, child: string): number {
    return this.traps.queuedFor(conn, child);
  }

  /** A trap policy (start_action/dpd_action/close_action = trap, vici install): protect with no SA -> ACQUIRE -> initiate. */
  installTrap(ref: ChildRef): boolean {
    return this.traps.install(ref);
  }

  /** vici uninstall: removes the trap policy of `child` (of `conn`, if given). False when there is none. */
  uninstallTrap(child: string, conn?: string): boolean {
    return this.traps.uninstall(child, conn);
  }

  // ------------------------------------------------------------------ inputs

  /**
   * A UDP datagram from `remote` to `local`. ESP is only queued (returns true): the driver calls processEsp(now)
   * once per event-loop turn or receive batch, and `data` must stay untouched until then (decrypted in place).
   * IKE, keepalives and junk are handled at once, after any ESP queued before them (a Delete must not overtake
   * packets already in flight). For ESP `remote` is not kept, so a driver may pass one reused object.
   */
  receiveDatagram(data: Uint8Array, local: Address, remote: Address, now: number): boolean {
    const k = classifyDatagram(data, local.port !== this.nattPort, local.port === 500);
    if (k.kind === 'esp') {
      this.counters.espIn++;
      this.esp.queue(data);
      if (this.esp.queued >= ESP_BATCH_MAX) this.processEsp(now);
      return true;
    }
    if (this.esp.queued > 0) this.processEsp(now);
    switch (k.kind) {
      case 'ike':
        this.counters.ikeIn++;
        this.log('net', 2, `received packet: from ${fmtAddr(remote)} to ${fmtAddr(local)} (${k.data.length} bytes)`);
        // A stripped non-ESP marker (RFC 3948) shows as IKE data shorter than the datagram.
        this.guard('IKE receive', () => this.endpoint.receive(k.data, local, remote, now, { marker: k.data.length !== data.length }));
        this.events.push({ type: 'ike-message', dir: 'in', data: k.data });
        break;
      case 'keepalive':
        this.counters.keepalives++;
        break;
      case 'invalid':
        this.counters.invalid++;
        this.events.push({ type: 'ike-message', dir: 'invalid', data });
        this.log('net', 2, `from ${fmtAddr(remote)}: ${k.why}`);
        break;
    }
    this.flush(now);
    return false;
  }

  /** Inbound pipeline for the queued ESP: engine (SPI, replay, ICV, policy) -> DPD activity -> MSS clamp -> TUN. */
  processEsp(now: number): void {
    if (this.esp.decapsulate(now)) this.flush(now);
  }

  /**
   * A batch read from the TUN (views valid until this returns): MSS clamp, then ESP sealed in place in the device's
   * headroom and tailroom, and the datagrams handed to the driver's batch.
   */
  tunPackets(batch: readonly Uint8Array[], now: number): void {
    this.esp.fromTun(batch, now);
    this.flush(now);
  }

  // ------------------------------------------------------------------ status

  /** Data-plane facts about a CHILD SA for status displays: install time, reqid (vici's, as charon's) and ESP counters. */
  childExtras(c: ChildSaInfo): ChildExtras {
    return childExtras(this.engine, this.installedAt.get(c.id), c);
  }

  /** Counters of the core and the engine, with non-zero drop reasons as `drop-<reason>`. */
  allCounters(): Record<string, number> {
    return allCounters(this.counters, this.engine);
  }

  // ------------------------------------------------------------------ outputs

  /**
   * Runs a call into a core. The cores return typed errors for bad input; an exception is a bug, and one bad
   * datagram must not take the gateway down: it is logged and reported as a 'fault' event, and the loop goes on.
   */
  private guard(what: string, f: () => void, quiet = false): void {
    try {
      f();
    } catch (e) {
      // A command refused for a reason (unknown connection...) is a config problem, not a bug.
      if (quiet) this.log('cfg', 0, `cannot ${what}: ${e instanceof Error ? e.message : String(e)}`);
      else this.fault(what, e);
    }
  }

  private fault(what: string, e: unknown): void {
    this.counters.faults++;
    this.log('dmn', 0, `internal error in ${what}: ${e instanceof Error ? e.message : String(e)}`);
    if (e instanceof Error && e.stack) this.log('dmn', 2, e.stack);
    this.events.push({ type: 'fault', what, error: e });
  }

  /** Drains everything the cores want done: IKE datagrams out, IKE events acted on, ESP events (expiry). */
  private flush(now: number): void {
    let changed = false;
    for (;;) {
      let progressed = false;
      for (let t = this.endpoint.pollTransmit(); t; t = this.endpoint.pollTransmit()) {
        progressed = true;
        this.counters.ikeOut++;
        this.opts.net.sendIke(t.local, t.remote, t.nonEspMarker ? withMarker(t.data) : t.data);
        this.events.push({ type: 'ike-message', dir: 'out', data: t.data });
      }
      for (let e = this.endpoint.pollEvent(); e; e = this.endpoint.pollEvent()) {
        progressed = true;
        const ev = e;
        this.guard(`${e.type} event`, () => {
          if (this.onIkeEvent(ev, now)) changed = true;
        });
        this.events.push(ev);
      }
      // Byte/packet lifetimes live in the data plane; IKE rekeys (soft) or deletes (hard) the CHILD SA.
      const expired = this.esp.engineEvents((spi, kind) => {
        const child = [...this.installer.installed.values()].find((c) => c.info.spiIn === spi || c.info.spiOut === spi);
        if (child) this.guard('ESP expiry', () => this.endpoint.espExpired(child.info.spiIn, kind, now));
      });
      if (expired) progressed = true;
      if (!progressed && this.settleDue) {
        // Children waiting for an IKE SA of their connection: CREATE_CHILD_SA now that it is up, or give up. Only
        // after an IKE SA came up, went or was rekeyed (settle scans the SAs; not once per packet).
        this.settleDue = false;
        const before = this.starter.waitingCount;
        for (const g of this.starter.settle(now)) this.traps.drop(g.conn, g.child, 'no IKE_SA to create it on', now);
        progressed = this.starter.waitingCount !== before;
      }
      if (!progressed) break;
    }
    if (changed) this.events.push({ type: 'sa-changed' });
  }

  /**
   * close_action of a CHILD SA the peer deleted while its IKE SA lives on (strongSwan's child_delete: `start`
   * re-creates it, over that IKE SA with reuse_ikesa; `trap` installs a trap policy). A CHILD SA deleted as the
   * old half of a rekey (RFC 7296 2.8: its replacement is already there) is no close; an IKE SA deleted by the
   * peer is the core's business (restart.ts).
   */
  private childClosedByPeer(c: ChildSaInfo, now: number): void {
    const cfg = this.childConfig(c);
    const conn = this.nameOfIke(c.ikeSaId);
    if (!cfg || conn === undefined || cfg.closeAction === 'none' || cfg.closeAction === 'clear') return;
    const live = this.endpoint.listSas().find(({ sa }) => sa.id === c.ikeSaId);
    if (!live || live.children.some((x) => x.name === c.name)) return;
    if (cfg.closeAction === 'trap') {
      this.log('chd', 1, `CHILD_SA ${c.name}{${c.id}} closed by peer: close_action = trap`);
      this.installTrap({ conn, child: c.name });
      return;
    }
    this.log('chd', 1, `CHILD_SA ${c.name}{${c.id}} closed by peer: close_action = start, re-creating it`);
    this.guard(`close_action of '${conn}' child '${c.name}'`, () => void this.initiateWith(conn, now, c.name, 'close'), true);
  }

  /** Acts on one IKE event; true when the SA set changed. */
  private onIkeEvent(e: IkeEvent, now: number): boolean {
    switch (e.type) {
      case 'log':
        this.log(e.group, e.level, e.message, e.ikeSaId !== undefined ? { ikeSaId: e.ikeSaId } : undefined);
        return false;
      case 'ike-up':
        this.log('dmn', 2, `event ike-up ${e.sa.name}[${e.sa.id}] ${e.sa.suite}`);
        if (this.starter.waitingCount > 0) this.settleDue = true;
        return true;
      case 'ike-down':
        this.log('dmn', 2, `event ike-down ${e.sa.name}[${e.sa.id}] (${e.reason})`);
        if (this.starter.waitingCount > 0) this.settleDue = true;
        this.traps.forgetIke(e.sa.id);
        // Children still waiting move to another IKE SA of the connection (a keyingtries retry), if there is one.
        if (e.reason !== 'rekeyed' && !this.endpoint.listSas().some(({ sa }) => sa.name === e.sa.name && sa.id !== e.sa.id)) this.traps.drop(e.sa.name, undefined, e.reason, now);
        return true;
      case 'auth-failed':
        this.log('dmn', 2, `event auth-failed IKE SA ${e.ikeSaId}: ${e.message}`);
        return true;
      case 'child-failed':
        this.log('dmn', 2, `event child-failed ${e.name} (${e.notify}): ${e.message}`);
        {
          const conn = this.nameOfIke(e.ikeSaId);
          if (conn !== undefined) {
            this.traps.negotiating.delete(`${conn}\0${e.name}`);
            this.traps.drop(conn, e.name, `${e.notify}${e.message ? `: ${e.message}` : ''}`, now);
          }
        }
        return true;
      case 'child-install':
        try {
          this.installer.handle(e, now);
        } catch (err) {
          this.log('esp', 0, `installing ESP SAs of ${e.child.name}{${e.child.id}} failed: ${err instanceof Error ? err.message : String(err)}`);
          return true;
        }
        this.installedAt.set(e.child.id, now);
        this.esp.fitTunMtu(e.child);
        this.opts.routes?.childUp(e.child);
        this.traps.negotiating.delete(`${this.nameOfIke(e.child.ikeSaId) ?? ''}\0${e.child.name}`);
        this.traps.release(this.nameOfIke(e.child.ikeSaId), e.child.name, now);
        return true;
      case 'child-remove':
        if (this.installer.installed.has(e.child.id)) {
          this.installer.handle(e, now);
          this.esp.forget(e.child.spiIn);
          this.installedAt.delete(e.child.id);
          this.opts.routes?.childDown(e.child);
          this.log('esp', 1, `removed ESP SAs ${e.child.name}{${e.child.id}} (${spiText(e.child.spiIn)}/${spiText(e.child.spiOut)}): ${e.reason}`);
        }
        if (e.reason === 'deleted by peer') this.childClosedByPeer(e.child, now);
        return true;
      case 'child-outbound':
        // A rekey responder moves outbound traffic once the old SA is gone (RFC 7296 2.8).
        this.installer.handle(e, now);
        this.log('esp', 2, `outbound traffic of ${e.child.name} moved from ${spiText(e.replaces.spiOut)} to ${spiText(e.child.spiOut)}`);
        return true;
      case 'ike-address-change':
        // The peer moved (NAT rebinding, RFC 7296 2.23) or the SA did (MOBIKE, RFC 4555): ESP follows IKE to the
        // new addresses and ports, ours included.
        this.installer.handle(e, now);
        this.log('esp', 1, `IKE_SA ${e.sa.name}[${e.sa.id}] ${e.from ? `moved from ${fmtAddr(e.from.local)}-${fmtAddr(e.from.remote)} ` : ''}to ${fmtAddr(e.sa.local)}-${fmtAddr(e.sa.remote)}: ESP SAs of ${e.children.length} CHILD SA(s) follow`);
        return true;
      case 'ike-rekeyed':
        this.log('dmn', 2, `event ike-rekeyed ${e.old.name}[${e.old.id}] -> [${e.sa.id}]`);
        if (this.starter.waitingCount > 0) this.settleDue = true;
        return true;
      case 'trap':
        // dpd_action/close_action = trap: the next matching packet brings the CHILD SA back.
        this.installTrap({ conn: e.connection, child: e.child });
        return false;
      case 'ike-keys':
        // Key material: only for an explicit key log (the driver's), never logged here.
        return false;
      case 'vip-assigned': {
        // Virtual IPs (RFC 7296 3.15) go on the TUN, before the routes that use them as source. DNS servers are
        // reported only: cygnet does not rewrite the host's resolver configuration.
        const routes = this.opts.routes;
        if (routes) for (const a of e.addresses) routes.addVirtualIp(a);
        const dns = e.dns.length ? `, DNS ${e.dns.join(', ')}` : '';
        this.log('dmn', 1, `virtual IP(s) ${e.addresses.join(', ')} assigned${dns}${routes ? ` (on ${routes.device})` : ' (no TUN routes: not configured on any interface)'}`);
        return true;
      }
      default:
        // An event type newer than this core: pollEvent still hands it on.
        return false;
    }
  }

  private childConfig(c: ChildSaInfo): ChildConfig | undefined {
    return this.config.connections.find((x) => x.name === this.nameOfIke(c.ikeSaId))?.children.find((x) => x.name === c.name);
  }

  private nameOfIke(id: number): string | undefined {
    return this.endpoint.listSas().find(({ sa }) => sa.id === id)?.sa.name;
  }
}
