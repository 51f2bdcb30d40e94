/**
 * The daemon's driver (../shared/DESIGN.md sections 1 and 4): node:dgram sockets (batched ESP with sendmmsg and
 * recvmmsg + GRO), the TUN device, ONE timer, the status file and the key log, around the sans-IO gateway core
 * (src/gateway/gateway.ts), which owns IKE, ESP, SA installation, trap policies, reqids, expiry and DPD activity.
 * Its parts: daemon-options.ts, address-watch.ts (binding, late binding, rtnetlink), status-writer.ts,
 * eap-wiring.ts (EAP, RADIUS, wake-ups), tcp-encap-net.ts (RFC 9329 beside UDP).
 * Every input follows the same path: `now` is read once, here; the core is called; its events are drained
 * (listeners, key log, status file); the timer is re-armed at the core's nextTimeout(). This file is the only
 * place that sees a clock or a socket.
 */
import { performance } from 'node:perf_hooks';
import { bindAddresses, UdpSockets } from './udp-sockets.js';
import { interfaceAddresses } from './late-bind.js';
import { createProvider } from '../crypto/provider.js';
import { systemRandom } from '../crypto/random.js';
import type { IkeEndpoint } from '../ike/endpoint.js';
import type { EndpointSettings, IkeConnectionConfig } from '../ike/config.js';
import type { ChildSaInfo, IkeEvent } from '../ike/events.js';
import type { EspEngine } from '../esp/engine.js';
import { fmtAddr, Gateway, isDnsName, type GatewayOptions } from '../gateway/gateway.js';
import { RemoteResolver, remoteNames } from './resolve.js';
import type { DaemonConfig } from './connections.js';
import type { ConfigDiff } from '../config/diff.js';
import type { Logger } from './logger.js';
import { endpointSettings, endpointSettingsDiffer, withFragmentSize, type GlobalSettings } from './settings.js';
import { statusLines, type DaemonStatus } from './status.js';
import { daemonStatus, StatusWriter } from './status-writer.js';
import { UpdownRunner } from './updown.js';
import type { RadiusService } from './radius-service.js';
import { RadiusAccountingWiring } from './radius-accounting-wiring.js';
import { TcpEncapNet, tcpPeers } from './tcp-encap-net.js';
import { AddressWatch } from './address-watch.js';
import { announcedAddresses, hostInterfaces } from './announce-addresses.js';
import type { DaemonOptions } from './daemon-options.js';
import { eapWiring, Waker } from './eap-wiring.js';
import { EventFanout } from './event-fanout.js';
import { DeadlineTimer } from './deadline-timer.js';
import { listenOnBound, overTcp, wantsTcp } from './tcp-glue.js';
import { UdpInput } from './udp-input.js';

export type { DaemonOptions } from './daemon-options.js';

const errText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

export class Daemon {
  readonly gateway: Gateway;
  readonly endpoint: IkeEndpoint;
  readonly engine: EspEngine;
  readonly counters: Gateway['counters'];
  private readonly log: Logger;
  private config: DaemonConfig;
  private readonly sockets: UdpSockets;
  /** The send path with RFC 9329 TCP streams beside the UDP sockets (tcp-encap-net.ts). */
  readonly tcp: TcpEncapNet;
  /** Datagrams from the sockets into the core (udp-input.ts). */
  private readonly input: UdpInput = new UdpInput({
    gateway: () => this.gateway,
    tcp: () => this.tcp,
    clock: () => this.clock(),
    stopped: () => this.state === 'stopped',
    drain: () => this.drain(),
    run: (f) => this.run(f),
  });
  /** Listeners, updown and key log for the core's events (event-fanout.ts). */
  private readonly events: EventFanout;
  /** Endpoint settings the daemon fixes itself (not from --settings): reapplied on reload. */
  private readonly fixedSettings: Partial<EndpointSettings>;
  private readonly clock: () => number;
  private readonly timer: DeadlineTimer;
  private state: DaemonStatus['state'] = 'starting';
  private stopWaiter: (() => void) | undefined;
  private readonly port: number;
  private readonly nattPort: number;
  /** The UDP ports bound on each address: charon.port, charon.port_nat_t and the local_ports at start. */
  private ports = new Set<number>();
  private globalSettings: GlobalSettings | undefined;
  /** Child `updown` scripts (strongSwan's updown plugin), fed from drain(). */
  readonly updown: UpdownRunner;
  /** Binding, late binding and rtnetlink watching of local addresses (address-watch.ts). */
  private readonly addresses: AddressWatch;
  /** remote_addrs DNS names (resolve.ts): resolved at start and reload, read by the core when it initiates. */
  readonly resolver: RemoteResolver;
  /** eap-radius (strongswan.conf charon.plugins.eap-radius): the RADIUS client and accounting. */
  private radius: RadiusService | undefined;
  /** Accounting Start/Interim/Stop from the IKE events, with `accounting = yes` (radius-accounting-wiring.ts). */
  readonly radiusAccounting: RadiusAccountingWiring | undefined;
  private readonly waker = new Waker(() => this.state !== 'stopped' && this.run((now) => this.gateway.handleTimeout(now)));
  private readonly statusFile: StatusWriter;
  /** The address list last given to the core for MOBIKE peers (announceAddresses), as logged. */
  private announced: string | undefined;

  constructor(private readonly opts: DaemonOptions) {
    this.log = opts.logger;
    this.port = opts.port ?? 500;
    this.nattPort = opts.nattPort ?? 4500;
    this.config = opts.config;
    this.globalSettings = opts.settings;
    this.clock = opts.clock ?? (() => performance.now());
    // Certificate validity needs wall-clock time; the cores get the monotonic clock plus this offset (sans-IO).
    // exportKeys: the key log writes the raw IKE keys, and HA replication carries them (src/ha/export.ts).
    this.fixedSettings = { epochOffsetMs: Date.now() - this.clock(), exportKeys: opts.keyLog !== undefined || opts.exportKeys === true };
    const { batchSend, batchReceive } = opts;
    const onSendError = (n: number): number => (this.counters.sendErrors += n);
    const net = new UdpSockets({ log: this.log, nattPort: this.nattPort, batchSend, batchReceive, onSendError, resolveSource: opts.resolveSource, socketFd: opts.workers && ((a, p) => opts.workers?.socketFd(a, p)), onDatagram: (s, d, a, p) => this.input.one(s, d, a, p), onBatch: (s, b) => this.input.batch(s, b) });
    this.sockets = net;
    this.tcp = new TcpEncapNet({
      udp: net,
      log: this.log,
      ikePort: this.port,
      nattPort: this.nattPort,
      tcpPort: opts.tcpPort ?? this.nattPort,
      clock: this.clock,
      // Late-bound: the resolver is made below (DNS names in remote_addrs, resolve.ts).
      lookup: (name) => this.resolver.lookup(name),
      hasSa: (address) => this.endpoint.listSas().some(({ sa }) => sa.remote.address === address),
      sas: () => this.endpoint.listSas().map(({ sa }) => sa),
      onMessage: (data, local, remote) => {
        if (this.state !== 'stopped' && !this.gateway.receiveDatagram(data, local, remote, this.clock())) this.drain();
      },
      onIdle: () => {
        if (this.state !== 'stopped') this.run((now) => this.gateway.processEsp(now));
      },
    });
    this.tcp.setPeers(tcpPeers(opts.config.connections, opts.config.tcpEncap, isDnsName));
    const { tun, routes, mssClampMtu, fixedMtu } = opts;
    const settings = endpointSettings(opts.settings?.endpoint, this.fixedSettings, opts.retransmit);
    // Late-bound: vici's swanctl --log wraps logger.log after the daemon is built (vici.ts teeLogToVici).
    const log: GatewayOptions['log'] = (group, level, message, fields) => this.log.log(group, level, overTcp(message, fields?.ikeSaId, this.endpoint, this.tcp), fields);
    const crypto = opts.crypto ?? createProvider();
    this.resolver = new RemoteResolver({
      log: (level, message) => this.log.log('cfg', level, message),
      // A name got its first (or a new) address: start_action = start initiations that waited for it go on.
      onResolved: () => void (this.state === 'running' && this.run((now) => this.gateway.namesResolved(now))),
    });
    const reuseIkeSa = opts.settings?.reuseIkeSa ?? true;
    const eap = eapWiring({ settings: opts.settings, random: opts.random, config: () => this.config, log: this.log });
    this.radius = eap.radius;
    this.gateway = new Gateway({ config: this.gatewayConfig(opts.config), settings, crypto, random: opts.random ?? systemRandom, net: this.tcp, log, nattPort: this.nattPort, tun, routes, mssClampMtu, fixedMtu, reuseIkeSa, resolver: this.resolver, eap: eap.provider, wake: () => this.waker.wake() });
    this.endpoint = this.gateway.endpoint;
    this.engine = this.gateway.engine;
    this.counters = this.gateway.counters;
    this.updown = new UpdownRunner({
      logger: this.log,
      scriptOf: (conn, child) => this.config.updown?.get(`${conn}/${child}`),
      ikeSa: (id) => this.endpoint.listSas().find((x) => x.sa.id === id)?.sa,
      reqidOf: (c) => this.gateway.childExtras(c).reqId,
      ...(opts.tun ? { interfaceName: opts.tun.name } : {}),
    });
    this.events = new EventFanout({ updown: this.updown, keyLog: opts.keyLog, guard: (what, f) => this.guard(what, f) });
    this.timer = new DeadlineTimer(this.clock, () => this.run((now) => this.gateway.handleTimeout(now)));
    this.radiusAccounting = this.radius?.accounting ? new RadiusAccountingWiring(this, this.radius) : undefined;
    this.statusFile = new StatusWriter({ file: opts.statusFile, status: () => this.status(), drops: () => this.engine.drops, clock: this.clock, log: this.log });
    this.addresses = new AddressWatch({
      sockets: this.sockets,
      log: this.log,
      present: opts.interfaceAddresses ?? interfaceAddresses,
      bind: (address) => this.bindAll(address),
      pollMs: opts.addressPollMs,
      running: () => this.state === 'running',
      gone: (a, why) => this.run((now) => this.gateway.localAddressGone(a, now, why)),
      appeared: (a, why) => this.run((now) => this.gateway.localAddressAdded(a, now, why)),
      changed: () => this.announceAddresses(),
    });
    opts.workers?.attach(this);
  }

  // ------------------------------------------------------------------ lifecycle

  async start(): Promise<void> {
    this.ports = new Set<number>([this.port, this.nattPort, ...this.gatewayConfig(this.config).connections.map((c) => c.localPort)]);
    await this.addresses.bindAll(bindAddresses(this.opts.bind, this.config.connections));
    this.log.log('net', 1, `listening on ${this.sockets.list.map((s) => fmtAddr(s.local)).join(', ')}`);
    if (this.wantsTcp()) this.log.log('net', 1, `listening on TCP ${this.tcp.listener.addresses.map(fmtAddr).join(', ')} (RFC 9329 TCP encapsulation)`);
    // With a wildcard local_addrs (and no --bind) addresses that appear later are bound too.
    const wildcard = !(this.opts.bind && this.opts.bind.length > 0) && this.config.connections.some((c) => c.localAddrs.some((a) => a.startsWith('%')));
    await this.addresses.start(wildcard, this.opts.watchAddresses === true);
    const tun = this.opts.tun;
    if (tun) {
      tun.onPackets((batch) => this.state === 'running' && this.run((now) => this.gateway.tunPackets(batch, now)));
      this.log.log('knl', 1, `TUN device ${tun.name} (MTU ${tun.mtu}) attached`);
    }
    // remote_addrs names are resolved before the first initiation (at most 5 s: one that takes longer initiates
    // when its answer comes, through onResolved).
    const names = remoteNames(this.config.connections, isDnsName);
    if (names.length > 0) await Promise.race([this.resolver.resolveAll(names), new Promise((r) => setTimeout(r, 5000).unref())]);
    this.state = 'running';
    this.announceAddresses();
    this.run((now) => this.gateway.start(now));
  }

  /**
   * Tells the core which of our addresses to announce to MOBIKE peers (RFC 4555 3.4; announce-addresses.ts says
   * which); the core sends an update to established MOBIKE SAs when the list changes (3.6). Called at start and
   * whenever the address watch saw a change. Connections with `mobike = no` announce nothing (ike-mobike.ts).
   */
  private announceAddresses(): void {
    if (this.state !== 'running') return;
    const virtual = new Set(this.endpoint.listSas().flatMap(({ sa }) => this.endpoint.ikeSa(sa.id)?.virtualIps ?? []));
    const list = announcedAddresses((this.opts.interfaceList ?? hostInterfaces)(), { tun: this.opts.tun?.name, virtual, bound: (a) => this.sockets.has(a) });
    const text = list.join(', ');
    if (text !== this.announced) this.log.log('knl', 2, `addresses for MOBIKE peers (RFC 4555 3.4): ${text || 'none'}`);
    this.announced = text;
    this.run((now) => this.gateway.setLocalAddresses(list, now));
  }

  /** Every port (and the TCP listener, when wanted) on `address`. */
  private async bindAll(address: string): Promise<void> {
    for (const port of this.ports) if (!this.sockets.list.some((s) => s.local.address === address && s.local.port === port)) await this.sockets.bind(address, port);
    if (this.wantsTcp()) await this.tcp.listen(address);
  }

  /** Terminates every IKE SA (RFC 7296 1.4.1), waits up to `graceMs` for the answers, then closes sockets and TUN. */
  async stop(graceMs = 2000, opts: { keepSas?: boolean } = {}): Promise<void> {
    if (this.state === 'stopping' || this.state === 'stopped') return;
    this.state = 'stopping';
    // keepSas: an HA hand-over, the other node continues the SAs (no Deletes).
    if (!opts.keepSas && this.run((now) => this.gateway.terminateAll(now)) > 0 && this.endpoint.listSas().length > 0) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          this.log.log('dmn', 1, `${this.endpoint.listSas().length} IKE SA(s) did not confirm the Delete within ${graceMs} ms`);
          resolve();
        }, graceMs);
        this.stopWaiter = () => (clearTimeout(t), resolve());
      });
    }
    this.stopWaiter = undefined;
    this.addresses.stop();
    this.resolver.close();
    this.timer.stop();
    await this.tcp.close();
    await this.sockets.close();
    await this.opts.workers?.stop();
    this.radius?.close();
    if (this.opts.routes) await this.opts.routes.cleanup();
    if (this.opts.tun) await this.opts.tun.close();
    // The down scripts of the CHILD SAs just deleted run before the daemon exits.
    await this.updown.idle();
    this.state = 'stopped';
    this.writeStatus();
  }

  status(): DaemonStatus {
    const st = daemonStatus(this.gateway, this.state, this.opts.tun?.stats, this.tcp);
    return this.opts.workers ? this.opts.workers.status(st) : st;
  }

  private wantsTcp(): boolean {
    return wantsTcp(this.opts.tcpPort, this.config);
  }

  /** Worker threads' counters moved (src/daemon/workers/pool.ts): the status file shows them. */
  refreshStatus(): void {
    if (this.state === 'running') this.writeStatus();
  }

  /** SIGUSR1: the status as log lines and the status file rewritten with fresh data-plane counters. */
  dumpStatus(): void {
    this.writeStatus();
    for (const line of statusLines(this.status())) this.log.log('dmn', 0, line);
  }

  // ------------------------------------------------------------------ control (vici's IkeControl, tests)

  /** Starts a connection by name (`cygnet up`, vici initiate). Returns the IKE SA id; throws for unknown names. */
  initiate(conn: string, child?: string): number {
    return this.run((now) => this.gateway.initiate(conn, now, child));
  }
  terminateIke(id: number): boolean {
    return this.run((now) => this.gateway.command(now, (e) => e.terminateIke(id, now)));
  }
  terminateChild(childId: number): boolean {
    return this.run((now) => this.gateway.command(now, (e) => e.terminateChild(childId, now)));
  }
  rekeyIke(id: number, reauth: boolean): boolean {
    return this.run((now) => this.gateway.command(now, (e) => e.rekeyIke(id, now, { reauth })));
  }
  rekeyChild(childId: number): boolean {
    return this.run((now) => this.gateway.command(now, (e) => e.rekeyChild(childId, now)));
  }
  /** Every IkeEvent (log lines included) after the core acted on it: vici's backend listens here. */
  onEvent(listener: (e: IkeEvent) => void): void {
    this.events.onEvent(listener);
  }
  /** IKE messages in and out, and datagrams classified invalid (vici's get-counters). */
  onIkeMessage(listener: (dir: 'in' | 'out' | 'invalid', data: Uint8Array) => void): void {
    this.events.onIkeMessage(listener);
  }
  /** Trap policies installed (vici list-policies): connection, child, and the selectors of its config. */
  trapPolicyList(): ReturnType<Gateway['trapPolicies']> {
    return this.gateway.trapPolicies();
  }
  /** vici install: a trap policy for `child` of `conn` (as start_action = trap). False when it cannot be trapped. */
  installTrapPolicy(conn: string, child: string): boolean {
    return this.run(() => this.gateway.installTrap({ conn, child }));
  }
  /** vici uninstall: removes the trap policy of `child` (of `conn`, if given). False when there is none. */
  uninstallTrapPolicy(child: string, conn?: string): boolean {
    return this.gateway.uninstallTrap(child, conn);
  }
  /** The driver's clock (ms), the one IkeSaInfo.establishedAt uses. */
  now(): number {
    return this.clock();
  }
  /** Runs `f` on the core as one input (clock read once, events drained, timer re-armed): HA takeover. */
  withCore<T>(f: (gateway: Gateway, now: number) => T): T {
    return this.run((now) => f(this.gateway, now));
  }
  /** Data-plane facts about a CHILD SA for status displays: install time and ESP counters. */
  childExtras(c: ChildSaInfo): ReturnType<Gateway['childExtras']> & { now: number } {
    const x = { now: this.clock(), ...this.gateway.childExtras(c) };
    // With worker threads the ESP counters live in their engines (src/daemon/workers/pool.ts).
    return this.opts.workers ? this.opts.workers.childExtras(x, c.spiIn, c.spiOut) : x;
  }
  /** Local addresses waiting to appear (late-bind.ts). */
  pendingAddresses(): readonly string[] {
    return this.addresses.pending;
  }
  /** Timers armed (vici stats' "scheduled"). */
  scheduled(): number {
    return this.timer.armed ? 1 : 0;
  }

  /**
   * A reloaded configuration (SIGHUP, vici load-conns): the core restarts changed and removed connections, trap
   * policies and pools follow; changed charon.* settings apply (the --retransmit-* flags still win). Ports stay.
   */
  reload(next: DaemonConfig, diff: ConfigDiff, settings?: GlobalSettings): void {
    const changed = settings !== undefined && endpointSettingsDiffer(this.globalSettings, settings);
    if (settings !== undefined) this.globalSettings = settings;
    if (settings !== undefined) this.gateway.setReuseIkeSa(settings.reuseIkeSa ?? true);
    this.config = next;
    this.tcp.setPeers(tcpPeers(next.connections, next.tcpEncap, isDnsName));
    for (const name of remoteNames(next.connections, isDnsName)) this.resolver.refresh(name);
    if (this.wantsTcp() && this.state === 'running') listenOnBound(this.tcp, this.sockets.list.map((s) => s.local.address), this.log);
    const s = changed ? endpointSettings(settings.endpoint, this.fixedSettings, this.opts.retransmit) : undefined;
    this.run((now) => this.gateway.reload(this.gatewayConfig(next), diff, now, s));
  }

  /** strongSwan's local_port default is charon.port; the settings file's fragment_size applies to every connection. */
  private gatewayConfig(c: DaemonConfig): DaemonConfig & { connections: IkeConnectionConfig[] } {
    const ported = c.connections.map((x) => (x.localPort === 500 && this.port !== 500 ? { ...x, localPort: this.port } : x));
    return { ...c, connections: withFragmentSize(ported, this.globalSettings?.fragmentSize) };
  }

  /** One input: read the clock once, call the core, drain its events, re-arm the timer. */
  private run<T>(f: (now: number) => T): T {
    try {
      return f(this.clock());
    } finally {
      this.drain();
    }
  }

  private drain(): void {
    let changed = false;
    for (let e = this.gateway.pollEvent(); e; e = this.gateway.pollEvent()) {
      if (this.events.dispatch(e)) changed = true;
      // MOBIKE over TCP (RFC 9329 7.1): the stream of the path the IKE SA left is closed once no SA uses it.
      if (e.type === 'ike-address-change' && e.from) this.tcp.saMoved(e.from, e.sa);
    }
    if (changed || this.statusFile.dropsMoved()) this.writeStatus();
    if (this.stopWaiter && this.endpoint.listSas().length === 0) this.stopWaiter();
    // One timer at the core's earliest deadline.
    if (this.state !== 'stopped') this.timer.arm(this.gateway.nextTimeout());
  }

  private guard(what: string, f: () => void): void {
    try {
      f();
    } catch (e) {
      this.counters.faults++;
      this.log.log('dmn', 0, `internal error in ${what}: ${errText(e)}`);
    }
  }

  private writeStatus(): void {
    this.statusFile.write();
  }
}
