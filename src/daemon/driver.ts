/**
 * The daemon's driver (../shared/DESIGN.md sections 1 and 4): node:dgram sockets (batched ESP with sendmmsg and
 * recvmmsg + GRO), the TUN device, ONE timer, the status file and the key log, around the sans-IO gateway core
 * (src/gateway/gateway.ts), which owns IKE, ESP, SA installation, trap policies, reqids, expiry and DPD activity.
 * Every input follows the same path: `now` is read once, here; the core is called; its events are drained
 * (listeners, key log, status file); the timer is re-armed at the core's nextTimeout(). This file is the only
 * place that sees a clock or a socket.
 */
import { performance } from 'node:perf_hooks';
import type { UdpRecvBatch } from './udp-batch-receiver.js';
import { bindAddresses, isAddressNotAvailable, UdpSockets, type BoundSocket } from './udp-sockets.js';
import { ADDRESS_POLL_MS, addressChange, interfaceAddresses, LateBinder, LinkAddresses } from './late-bind.js';
import { NetlinkMonitor } from '../sys/netlink-monitor.js';
import type { CryptoBackend } from '../crypto/types.js';
import { createProvider } from '../crypto/provider.js';
import { systemRandom, type RandomSource } from '../crypto/random.js';
import type { IkeEndpoint } from '../ike/endpoint.js';
import type { RetransmitSettings } from '../ike/retransmit.js';
import type { EndpointSettings, IkeConnectionConfig } from '../ike/config.js';
import type { ChildSaInfo, IkeEvent } from '../ike/events.js';
import type { EspEngine } from '../esp/engine.js';
import type { TunDevice } from '../tun/types.js';
import { fmtAddr, Gateway, isDnsName, type GatewayOptions } from '../gateway/gateway.js';
import { RemoteResolver, remoteNames } from './resolve.js';
import { keyLogLines } from './key-log.js';
import type { DaemonConfig } from './connections.js';
import type { ConfigDiff } from '../config/diff.js';
import type { Logger } from './logger.js';
import { endpointSettings, endpointSettingsDiffer, withFragmentSize, type GlobalSettings } from './settings.js';
import type { TunRoutes } from './routes.js';
import { gatewayStatus, statusLines, writeStatusFile, type DaemonStatus } from './status.js';
import { UpdownRunner } from './updown.js';
import { daemonEapProvider } from './eap-provider.js';
import { RadiusService } from './radius-service.js';
import { RadiusAccountingWiring } from './radius-accounting-wiring.js';
import type { EapProvider } from '../ike/eap-provider.js';
import { TcpEncapNet, tcpPeers } from './tcp-encap-net.js';

export interface DaemonOptions {
  readonly config: DaemonConfig;
  readonly logger: Logger;
  /** Addresses to bind. Default: every concrete local_addrs entry, else every non-link-local interface address. */
  readonly bind?: readonly string[];
  /** The IKE port (charon.port), default 500. Connections whose local_port is 500 use this one instead. */
  readonly port?: number;
  /** The NAT-T port (charon.port_nat_t), default 4500. */
  readonly nattPort?: number;
  /**
   * The TCP port of RFC 9329 TCP encapsulation (--tcp-port), default the NAT-T port. Given, the daemon listens on
   * it; otherwise only when a connection has `encap = tcp|tcp-fallback`.
   */
  readonly tcpPort?: number;
  readonly tun?: TunDevice;
  readonly statusFile?: string;
  /** TCP MSS clamping and a fixed --mtu: see GatewayOptions. */
  readonly mssClampMtu?: GatewayOptions['mssClampMtu'];
  readonly fixedMtu?: boolean;
  /** Routes for remote selectors into the TUN (with --tun, unless --no-routes). */
  readonly routes?: TunRoutes;
  readonly crypto?: CryptoBackend;
  readonly random?: RandomSource;
  /** Key log (--key-log FILE): one JSON line per IKE SA and ESP SA with its keys, for tshark (key-log.ts). Off by default. */
  readonly keyLog?: (line: string) => void;
  /** IKE retransmission flags (--retransmit-*): laid over charon.retransmit_* field by field. */
  readonly retransmit?: Partial<RetransmitSettings>;
  /** strongswan.conf's daemon-wide knobs (--settings FILE, settings.ts): endpoint settings and fragment_size. */
  readonly settings?: GlobalSettings;
  /** Batched ESP transmit with sendmmsg (udp-batch-sender.ts); default on where the platform allows it. */
  readonly batchSend?: boolean;
  /** Batched receive with recvmmsg and UDP GRO on the NAT-T port (udp-batch-receiver.ts); default on where possible. */
  readonly batchReceive?: boolean;
  /** Monotonic milliseconds; default performance.now(). */
  readonly clock?: () => number;
  /** The kernel's source address for a peer (initiating with local_addrs unset/%any); default `ip -j route get`. */
  readonly resolveSource?: (remote: string) => string | undefined;
  /** Addresses on the interfaces now (late binding, late-bind.ts); default os.networkInterfaces(). */
  readonly interfaceAddresses?: () => readonly string[];
  /** Poll interval for late-appearing local addresses, ms (default 5000). */
  readonly addressPollMs?: number;
  /**
   * Watch the host's addresses and links (rtnetlink through `ip monitor`, src/sys/netlink-monitor.ts): new
   * addresses are bound at once, vanished ones reported to the core (Gateway.localAddressGone). Off by default
   * (tests); `cygnet daemon` turns it on.
   */
  readonly watchAddresses?: boolean;
}

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
  private espScheduled = false;
  /** The source of ESP datagrams in a receive batch, reused (no object per datagram). */
  private readonly batchFrom = { address: '', port: 0 };
  private readonly listeners: ((e: IkeEvent) => void)[] = [];
  private readonly messageListeners: ((dir: 'in' | 'out' | 'invalid', data: Uint8Array) => void)[] = [];
  /** Endpoint settings the daemon fixes itself (not from --settings): reapplied on reload. */
  private readonly fixedSettings: Partial<EndpointSettings>;
  private readonly clock: () => number;
  private timer: NodeJS.Timeout | undefined;
  private timerAt: number | undefined;
  private state: DaemonStatus['state'] = 'starting';
  private stopWaiter: (() => void) | undefined;
  private readonly port: number;
  private readonly nattPort: number;
  private globalSettings: GlobalSettings | undefined;
  /** Child `updown` scripts (strongSwan's updown plugin), fed from drain(). */
  readonly updown: UpdownRunner;
  private late: LateBinder | undefined;
  private monitor: NetlinkMonitor | undefined;
  /** remote_addrs DNS names (resolve.ts): resolved at start and reload, read by the core when it initiates. */
  readonly resolver: RemoteResolver;
  private addressPoll: NodeJS.Timeout | undefined;
  /** eap-radius (strongswan.conf charon.plugins.eap-radius): the RADIUS client and accounting. */
  private radius: RadiusService | undefined;
  /** Accounting Start/Interim/Stop from the IKE events, with `accounting = yes` (radius-accounting-wiring.ts). */
  readonly radiusAccounting: RadiusAccountingWiring | undefined;
  private wakeScheduled = false;

  constructor(private readonly opts: DaemonOptions) {
    this.log = opts.logger;
    this.port = opts.port ?? 500;
    this.nattPort = opts.nattPort ?? 4500;
    this.config = opts.config;
    this.globalSettings = opts.settings;
    this.clock = opts.clock ?? (() => performance.now());
    // Certificate validity needs wall-clock time; the cores get the monotonic clock plus this offset (sans-IO).
    this.fixedSettings = { epochOffsetMs: Date.now() - this.clock(), exportKeys: opts.keyLog !== undefined };
    const { batchSend, batchReceive } = opts;
    const onSendError = (n: number): number => (this.counters.sendErrors += n);
    const net = new UdpSockets({ log: this.log, nattPort: this.nattPort, batchSend, batchReceive, onSendError, resolveSource: opts.resolveSource, onDatagram: this.onDatagram.bind(this), onBatch: this.onDatagramBatch.bind(this) });
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
    const log: GatewayOptions['log'] = (group, level, message, fields) => this.log.log(group, level, this.overTcp(message, fields?.ikeSaId), fields);
    const crypto = opts.crypto ?? createProvider();
    this.resolver = new RemoteResolver({
      log: (level, message) => this.log.log('cfg', level, message),
      // A name got its first (or a new) address: start_action = start initiations that waited for it go on.
      onResolved: () => void (this.state === 'running' && this.run((now) => this.gateway.namesResolved(now))),
    });
    const reuseIkeSa = opts.settings?.reuseIkeSa ?? true;
    this.gateway = new Gateway({ config: this.gatewayConfig(opts.config), settings, crypto, random: opts.random ?? systemRandom, net: this.tcp, log, nattPort: this.nattPort, tun, routes, mssClampMtu, fixedMtu, reuseIkeSa, resolver: this.resolver, eap: this.eapProvider(opts), wake: () => this.wakeSoon() });
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
    this.radiusAccounting = this.radius?.accounting ? new RadiusAccountingWiring(this, this.radius) : undefined;
  }

  // ------------------------------------------------------------------ lifecycle

  async start(): Promise<void> {
    const ports = new Set<number>([this.port, this.nattPort, ...this.gatewayConfig(this.config).connections.map((c) => c.localPort)]);
    const bindAll = async (address: string): Promise<void> => {
      for (const port of ports) if (!this.sockets.list.some((s) => s.local.address === address && s.local.port === port)) await this.sockets.bind(address, port);
      if (this.wantsTcp()) await this.tcp.listen(address);
    };
    const present = this.opts.interfaceAddresses ?? interfaceAddresses;
    const late = new LateBinder({ present, bind: bindAll, log: (level, message) => this.log.log('net', level, message) });
    for (const address of bindAddresses(this.opts.bind, this.config.connections)) {
      try {
        await bindAll(address);
      } catch (e) {
        // An address not on any interface yet does not stop the daemon: it is bound when it appears (late-bind.ts).
        if (!isAddressNotAvailable(e)) throw e;
        late.add(address);
      }
    }
    this.log.log('net', 1, `listening on ${this.sockets.list.map((s) => fmtAddr(s.local)).join(', ')}`);
    if (this.wantsTcp()) this.log.log('net', 1, `listening on TCP ${this.tcp.listener.addresses.map(fmtAddr).join(', ')} (RFC 9329 TCP encapsulation)`);
    // With a wildcard local_addrs (and no --bind) addresses that appear later are bound too.
    const wildcard = !(this.opts.bind && this.opts.bind.length > 0) && this.config.connections.some((c) => c.localAddrs.some((a) => a.startsWith('%')));
    if (late.waiting.length > 0 || wildcard) {
      this.late = late;
      const extra = (): string[] => (wildcard ? present().filter((a) => !a.toLowerCase().startsWith('fe80')) : []);
      this.addressPoll = setInterval(() => {
        if (this.state !== 'running') return;
        void late.poll(extra(), (a) => this.sockets.has(a)).then((done) => {
          if (done.length > 0) this.log.log('net', 1, `listening on ${this.sockets.list.map((s) => fmtAddr(s.local)).join(', ')}`);
        });
      }, this.opts.addressPollMs ?? ADDRESS_POLL_MS);
      this.addressPoll.unref();
    }
    if (this.opts.watchAddresses) await this.watchAddresses(late, () => (wildcard ? present().filter((a) => !a.toLowerCase().startsWith('fe80')) : []));
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
    this.run((now) => this.gateway.start(now));
  }

  /** Terminates every IKE SA (RFC 7296 1.4.1), waits up to `graceMs` for the answers, then closes sockets and TUN. */
  /** EAP sessions for IKE_AUTH: secrets and certificates of the current configuration, RADIUS when configured. */
  private eapProvider(opts: DaemonOptions): EapProvider {
    const radius = opts.settings?.radius;
    if (radius) this.radius = new RadiusService(radius, { log: (group, level, message) => this.log.log(group, level, message) });
    return daemonEapProvider({
      random: opts.random ?? systemRandom,
      secrets: () => this.config.eapSecrets,
      connections: () => this.config.connections,
      credentials: () => this.config.credentials,
      radius: () => this.radius,
      log: (group, level, message) => this.log.log(group, level, message),
    });
  }

  /** The core finished asynchronous work (an EAP step, a RADIUS answer): run it at once, on the next turn. */
  private wakeSoon(): void {
    if (this.wakeScheduled) return;
    this.wakeScheduled = true;
    setImmediate(() => {
      this.wakeScheduled = false;
      if (this.state !== 'stopped') this.run((now) => this.gateway.handleTimeout(now));
    });
  }

  async stop(graceMs = 2000): Promise<void> {
    if (this.state === 'stopping' || this.state === 'stopped') return;
    this.state = 'stopping';
    if (this.run((now) => this.gateway.terminateAll(now)) > 0 && this.endpoint.listSas().length > 0) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          this.log.log('dmn', 1, `${this.endpoint.listSas().length} IKE SA(s) did not confirm the Delete within ${graceMs} ms`);
          resolve();
        }, graceMs);
        this.stopWaiter = () => (clearTimeout(t), resolve());
      });
    }
    this.stopWaiter = undefined;
    if (this.addressPoll) clearInterval(this.addressPoll);
    this.addressPoll = undefined;
    this.monitor?.stop();
    this.monitor = undefined;
    this.resolver.close();
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.tcp.close();
    await this.sockets.close();
    this.radius?.close();
    if (this.opts.routes) await this.opts.routes.cleanup();
    if (this.opts.tun) await this.opts.tun.close();
    // The down scripts of the CHILD SAs just deleted run before the daemon exits.
    await this.updown.idle();
    this.state = 'stopped';
    this.writeStatus();
  }

  status(): DaemonStatus {
    const st = gatewayStatus(this.gateway, this.state, this.opts.tun?.stats);
    // The transport of each IKE SA (RFC 9329): its datagrams' way to the peer now, and the TCP stream's addresses.
    const remotes = new Map(this.endpoint.listSas().map(({ sa }) => [sa.id, sa.remote] as const));
    const ikeSas = st.ikeSas.map((sa) => {
      const remote = remotes.get(sa.id);
      const s = remote && this.tcp.streamOf(remote);
      return s ? { ...sa, transport: 'tcp' as const, tcp: s.name } : { ...sa, transport: 'udp' as const };
    });
    return { ...st, ikeSas, counters: { ...st.counters, ...this.tcp.stats() } };
  }

  /** RFC 9329: a TCP listener beside the UDP sockets when a connection uses TCP or --tcp-port asks for one. */
  private wantsTcp(): boolean {
    return this.opts.tcpPort !== undefined || (this.config.tcpEncap?.size ?? 0) > 0;
  }

  /** "IKE_SA ... established between ..." names the transport when it is TCP (RFC 9329). */
  private overTcp(message: string, ikeSaId: number | undefined): string {
    if (ikeSaId === undefined || !/IKE_SA \S+ established between /.test(message)) return message;
    const sa = this.endpoint.listSas().find((x) => x.sa.id === ikeSaId)?.sa;
    const s = sa && this.tcp.streamOf(sa.remote);
    return s ? `${message} over TCP ${s.name}` : message;
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
    this.listeners.push(listener);
  }
  /** IKE messages in and out, and datagrams classified invalid (vici's get-counters). */
  onIkeMessage(listener: (dir: 'in' | 'out' | 'invalid', data: Uint8Array) => void): void {
    this.messageListeners.push(listener);
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
  /** Data-plane facts about a CHILD SA for status displays: install time and ESP counters. */
  childExtras(c: ChildSaInfo): ReturnType<Gateway['childExtras']> & { now: number } {
    return { now: this.clock(), ...this.gateway.childExtras(c) };
  }
  /** Local addresses waiting to appear (late-bind.ts). */
  pendingAddresses(): readonly string[] {
    return this.late?.waiting ?? [];
  }
  /** Timers armed (vici stats' "scheduled"). */
  scheduled(): number {
    return this.timer ? 1 : 0;
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
    // A reload that brings the first encap = tcp connection starts the TCP listener on the bound addresses.
    if (this.wantsTcp() && this.state === 'running')
      for (const address of new Set(this.sockets.list.map((s) => s.local.address)))
        if (!this.tcp.listener.has(address))
          this.tcp.listen(address).then(
            () => this.log.log('net', 1, `listening on TCP ${address}[${this.tcp.listener.addresses[0]?.port}] (RFC 9329 TCP encapsulation)`),
            (e: unknown) => this.log.log('net', 0, errText(e)),
          );
    const s = changed ? endpointSettings(settings.endpoint, this.fixedSettings, this.opts.retransmit) : undefined;
    this.run((now) => this.gateway.reload(this.gatewayConfig(next), diff, now, s));
  }

  /** strongSwan's local_port default is charon.port; the settings file's fragment_size applies to every connection. */
  private gatewayConfig(c: DaemonConfig): DaemonConfig & { connections: IkeConnectionConfig[] } {
    const ported = c.connections.map((x) => (x.localPort === 500 && this.port !== 500 ? { ...x, localPort: this.port } : x));
    return { ...c, connections: withFragmentSize(ported, this.globalSettings?.fragmentSize) };
  }

  /**
   * rtnetlink events (issue 15): addresses that appear are bound at once (late-bind.ts) and, like those that go
   * or whose link goes down, reported to the core. Without `ip` the interface poll goes on alone.
   */
  private async watchAddresses(late: LateBinder, extra: () => string[]): Promise<void> {
    const monitor = new NetlinkMonitor({ log: (level, message) => this.log.log('knl', level, message) });
    // Each link's addresses, so a link that goes down reports the ones it had (late-bind.ts).
    const links = new LinkAddresses();
    if (!(await monitor.start())) {
      this.log.log('knl', 1, `not watching address changes (${monitor.failure}): polling the interface list instead`);
      return;
    }
    this.monitor = monitor;
    this.log.log('knl', 2, 'watching addresses and links (ip monitor: RTM_NEWADDR/RTM_DELADDR, RTM_NEWLINK)');
    monitor.onEvent((e) => {
      const c = this.state === 'running' ? addressChange(e, (ifname) => links.of(ifname)) : undefined;
      links.apply(e);
      if (!c) return;
      for (const a of c.gone) this.run((now) => this.gateway.localAddressGone(a, now, c.why));
      for (const a of c.appeared) this.run((now) => this.gateway.localAddressAdded(a, now, c.why));
      if (c.appeared.length === 0 || (late.waiting.length === 0 && extra().length === 0)) return;
      void late.poll(extra(), (a) => this.sockets.has(a)).then((done) => {
        if (done.length > 0) this.log.log('net', 1, `listening on ${this.sockets.list.map((s) => fmtAddr(s.local)).join(', ')}`);
      });
    });
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
      const ev = e;
      if (ev.type === 'sa-changed') changed = true;
      else if (ev.type === 'ike-message') for (const l of this.messageListeners) this.guard('IKE message listener', () => l(ev.dir, ev.data));
      else if (ev.type === 'local-address') continue;
      else if (ev.type !== 'fault') {
        for (const l of this.listeners) this.guard(`${ev.type} listener`, () => l(ev));
        this.guard('updown', () => this.updown.onEvent(ev));
        const keyLog = this.opts.keyLog;
        if (keyLog && (ev.type === 'ike-keys' || ev.type === 'child-install')) this.guard('key log', () => keyLogLines(ev).forEach(keyLog));
      }
    }
    if (changed || this.dropsMoved()) this.writeStatus();
    if (this.stopWaiter && this.endpoint.listSas().length === 0) this.stopWaiter();
    this.arm();
  }

  private guard(what: string, f: () => void): void {
    try {
      f();
    } catch (e) {
      this.counters.faults++;
      this.log.log('dmn', 0, `internal error in ${what}: ${errText(e)}`);
    }
  }

  /**
   * New ESP drops since the status file was last written (issue 15: the file shows them while they happen), at
   * most once a second: a sum of the engine's per-reason totals per drain, nothing per packet.
   */
  private dropsMoved(): boolean {
    if (!this.opts.statusFile) return false;
    let n = 0;
    for (const x of this.gateway.engine.drops) n += x;
    if (n === this.statusDrops) return false;
    const now = this.clock();
    if (now - this.statusDropsAt < 1000) return false;
    this.statusDrops = n;
    this.statusDropsAt = now;
    return true;
  }

  private statusDrops = 0;
  private statusDropsAt = Number.NEGATIVE_INFINITY;

  private writeStatus(): void {
    if (!this.opts.statusFile) return;
    try {
      writeStatusFile(this.opts.statusFile, this.status());
    } catch (e) {
      this.log.log('dmn', 0, `cannot write status file ${this.opts.statusFile}: ${errText(e)}`);
    }
  }

  /** One timer at the core's earliest deadline. */
  private arm(): void {
    if (this.state === 'stopped') return;
    const next = this.gateway.nextTimeout();
    if (next === this.timerAt && this.timer) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = next;
    if (next === undefined) return;
    this.timer = setTimeout(() => {
      this.timer = this.timerAt = undefined;
      this.run((now) => this.gateway.handleTimeout(now));
    }, Math.max(0, Math.ceil(next - this.clock())));
  }

  // ------------------------------------------------------------------ inputs

  /** A recvmmsg batch (views into the receiver's arena, valid until this returns): ESP is decapsulated before returning. */
  private onDatagramBatch(s: BoundSocket, b: UdpRecvBatch): void {
    if (this.state === 'stopped') return;
    const now = this.clock();
    const from = this.batchFrom;
    if (this.tcp.watchingUdp) for (let i = 0; i < b.count; i++) this.tcp.noteUdp(b.address[i]!);
    for (let i = 0; i < b.count; i++) {
      const d = b.data[i]!;
      // ESP (a non-zero SPI, RFC 3948 2.2) is queued as a view with a reused source address (ESP does not keep it);
      // anything else is copied with an address of its own (the core may keep both: IKE, rare).
      const esp = d.length > 4 && (d[0]! | d[1]! | d[2]! | d[3]!) !== 0;
      from.address = b.address[i]!;
      from.port = b.port[i]!;
      if (!this.gateway.receiveDatagram(esp ? d : Uint8Array.from(d), s.local, esp ? from : { ...from }, now)) this.drain();
    }
    this.run((t) => this.gateway.processEsp(t));
  }

  private onDatagram(s: BoundSocket, data: Uint8Array, address: string, port: number): void {
    if (this.state === 'stopped') return;
    if (this.tcp.watchingUdp) this.tcp.noteUdp(address);
    // dgram hands each datagram its own Buffer, so ESP can be decrypted in place and batched without a copy. Queued
    // ESP is decapsulated as one batch at the end of this event-loop turn (one engine call, one TUN write), as
    // wireguard-go's receive path batches; anything else is handled at once (and its events drained).
    if (!this.gateway.receiveDatagram(data, s.local, { address, port }, this.clock())) this.drain();
    else if (!this.espScheduled) {
      this.espScheduled = true;
      setImmediate(() => {
        this.espScheduled = false;
        if (this.state !== 'stopped') this.run((now) => this.gateway.processEsp(now));
      });
    }
  }
}
