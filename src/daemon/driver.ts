/**
 * The daemon's driver (../shared/DESIGN.md sections 1 and 4): node:dgram sockets, the sans-IO IKE endpoint, the
 * ESP engine, an optional TUN device and ONE timer. Every input follows the same path:
 *
 *   1. a datagram arrives (or the timer fires, or a TUN batch, or a command): `now` is read once, here
 *   2. it is classified (classify.ts, RFC 3948 section 2) and fed to IkeEndpoint.receive or EspEngine.decapsulate
 *   3. flush(): drain pollTransmit() -> sockets (non-ESP marker prepended), pollEvent() -> ESP SA/policy
 *      installs and removals, log lines, status file; then the ESP engine's events
 *   4. re-arm the single timer at min(endpoint.nextTimeout(), engine.nextTimeout())
 *
 * The cores never see a clock or a socket; this file is the only place that does.
 */
import dgram from 'node:dgram';
import { UdpBatchSender } from './udp-batch-sender.js';
import { UdpBatchReceiver, type UdpRecvBatch } from './udp-batch-receiver.js';
import type { EndpointSettings } from '../ike/config.js';
import { networkInterfaces } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { CryptoBackend } from '../crypto/types.js';
import { createProvider } from '../crypto/provider.js';
import { systemRandom, type RandomSource } from '../crypto/random.js';
import { IkeEndpoint } from '../ike/endpoint.js';
import type { RetransmitSettings } from '../ike/retransmit.js';
import type { Address, ChildConfig, Credentials, IkeConnectionConfig } from '../ike/config.js';
import type { ChildSaInfo, IkeEvent } from '../ike/events.js';
import { compareAddr, type TrafficSelector } from '../ike/traffic-selector.js';
import { DecapStatus, DROP_REASON_NAMES, DropReason, EncapStatus } from '../esp/constants.js';
import { EspEngine, type PacketRef } from '../esp/engine.js';
import type { EspSelector } from '../esp/selector.js';
import type { TunDevice } from '../tun/types.js';
import { ChildSaInstaller } from './child-installer.js';
import { keyLogLines } from './key-log.js';
import { classifyDatagram } from './classify.js';
import { clampTcpMss, mssForMtu } from '../net/mss.js';
import { innerMtuFor } from '../tun/mtu.js';
import type { ChildRef, DaemonConfig } from './connections.js';
import { AddressPool, type AddressPoolConfig } from '../ike/pool.js';
import type { ConfigDiff } from '../config/diff.js';
import type { Logger } from './logger.js';
import { endpointSettings, endpointSettingsDiffer, withFragmentSize, type GlobalSettings } from './settings.js';
import type { TunRoutes } from './routes.js';
import { childStatus, ikeStatus, writeStatusFile, type DaemonStatus } from './status.js';

export interface DaemonOptions {
  readonly config: DaemonConfig;
  readonly logger: Logger;
  /** Addresses to bind. Default: every concrete local_addrs entry, else every non-link-local interface address. */
  readonly bind?: readonly string[];
  /** The IKE port (charon.port), default 500. Connections whose local_port is 500 use this one instead. */
  readonly port?: number;
  /** The NAT-T port (charon.port_nat_t), default 4500. */
  readonly nattPort?: number;
  readonly tun?: TunDevice;
  readonly statusFile?: string;
  /**
   * TCP MSS clamping (issue 7): SYNs in both directions get their MSS lowered to fit this inner MTU. Default: the
   * TUN's MTU; `false` turns it off.
   */
  readonly mssClampMtu?: number | false;
  /** The TUN's MTU was given explicitly (--mtu): it does not follow the negotiated ESP overhead. */
  readonly fixedMtu?: boolean;
  /** Routes for remote selectors into the TUN (with --tun, unless --no-routes). */
  readonly routes?: TunRoutes;
  readonly crypto?: CryptoBackend;
  readonly random?: RandomSource;
  /**
   * Key log (--key-log FILE): one JSON line per IKE SA and per ESP SA with its keys, for decrypting captures with
   * tshark (key-log.ts). Off by default: nothing else ever writes key material.
   */
  readonly keyLog?: (line: string) => void;
  /**
   * IKE retransmission flags (--retransmit-*): laid over the settings file's charon.retransmit_* field by field;
   * strongSwan's defaults otherwise.
   */
  readonly retransmit?: Partial<RetransmitSettings>;
  /** strongswan.conf's daemon-wide knobs (--settings FILE, settings.ts): endpoint settings and fragment_size. */
  readonly settings?: GlobalSettings;
  /** Batched ESP transmit with sendmmsg (udp-batch-sender.ts); default on where the platform allows it. */
  readonly batchSend?: boolean;
  /** Batched receive with recvmmsg and UDP GRO on the NAT-T port (udp-batch-receiver.ts); default on where possible. */
  readonly batchReceive?: boolean;
  /** Monotonic milliseconds; default performance.now(). */
  readonly clock?: () => number;
}

interface BoundSocket {
  readonly socket: dgram.Socket;
  readonly address: string;
  readonly port: number;
  readonly family: 4 | 6;
  /** ESP transmit in one sendmmsg per batch (udp-batch-sender.ts), where the platform allows it. */
  batch?: UdpBatchSender;
  /** NAT-T port: receive with recvmmsg + UDP GRO (udp-batch-receiver.ts) instead of dgram's 'message'. */
  receiver?: UdpBatchReceiver;
}

/** Priorities in the engine's SPD: installed SAs' policies run before on-demand (trap) policies. */
const SA_POLICY_PRIORITY = 10;
const TRAP_POLICY_PRIORITY = 100;
/** Trap policies use reqids from here up (CHILD SA ids, used as reqids of installed SAs, stay small). */
const TRAP_REQID_BASE = 0x40000000;
/** Most ESP datagrams decapsulated in one engine call (bounds latency and the result arrays). */
const ESP_BATCH_MAX = 128;
/** The path MTU the TUN's MTU is fitted to (Ethernet). */
const PATH_MTU = 1500;
/** Packets held per trapped CHILD SA while it is negotiated (issue 7: "a bounded queue"). */
const TRAP_QUEUE_LIMIT = 64;
/** Requested UDP socket buffer size (SO_RCVBUF/SO_SNDBUF). */
const SOCKET_BUFFER_BYTES = 4 * 1024 * 1024;
/** How long an inbound SA replaced by a rekey keeps accepting packets still in flight. */
const REKEY_INBOUND_GRACE_MS = 2000;

export class Daemon {
  readonly endpoint: IkeEndpoint;
  readonly engine: EspEngine;
  private readonly log: Logger;
  private connections: IkeConnectionConfig[];
  private config: DaemonConfig;
  private readonly sockets: BoundSocket[] = [];
  /** IKE's CHILD SA events -> ESP SAs and policies (sans-IO, shared with the simulations). */
  private readonly installer: ChildSaInstaller;
  private readonly lastActivity = new Map<number, number>();
  private readonly installedAt = new Map<number, number>();
  /** Packets that triggered (or followed) an ACQUIRE, per trapped conn/child, until the CHILD SA is up. */
  private readonly trapQueue = new Map<string, Uint8Array[]>();
  /** ESP datagrams received in this event-loop turn, decapsulated together. */
  private readonly espBatch: PacketRef[] = [];
  private espBatchScheduled = false;
  /** The inner MTU SYNs are clamped for, or undefined (no TUN, or clamping off). */
  private readonly mssMtu: number | 'tun' | undefined;
  private readonly listeners: ((e: IkeEvent) => void)[] = [];
  /** IKE messages as sent and received (vici's counters): after the endpoint handled an inbound one. */
  private readonly messageListeners: ((dir: 'in' | 'out' | 'invalid', data: Uint8Array) => void)[] = [];
  private readonly trapPolicies = new Map<number, { conn: string; child: string; remote: readonly TrafficSelector[]; policyId: number }>();
  private nextTrapReqid = TRAP_REQID_BASE;
  /** Endpoint settings the daemon fixes itself (not from --settings): reapplied on reload. */
  private fixedSettings: Partial<EndpointSettings> = {};
  private readonly clock: () => number;
  private timer: NodeJS.Timeout | undefined;
  private timerAt: number | undefined;
  private state: DaemonStatus['state'] = 'starting';
  private stopWaiter: (() => void) | undefined;
  private readonly port: number;
  private readonly nattPort: number;
  /** The settings file as last loaded (its fragment_size follows reloads; the endpoint's settings do not). */
  private globalSettings: GlobalSettings | undefined;
  readonly counters = { ikeIn: 0, ikeOut: 0, espIn: 0, espOut: 0, keepalives: 0, invalid: 0, delivered: 0, undeliverable: 0, espDrops: 0, sendErrors: 0, faults: 0, mssClamped: 0, trapQueueDropped: 0 };

  constructor(private readonly opts: DaemonOptions) {
    this.log = opts.logger;
    this.port = opts.port ?? 500;
    this.nattPort = opts.nattPort ?? 4500;
    // strongSwan's local_port default is charon.port: a connection left at 500 follows --port.
    this.config = opts.config;
    this.globalSettings = opts.settings;
    // Default: follow the TUN's MTU, which itself follows the negotiated ESP overhead (fitTunMtu).
    this.mssMtu = opts.mssClampMtu === false ? undefined : opts.mssClampMtu ?? (opts.tun ? 'tun' : undefined);
    this.connections = this.withPorts(opts.config.connections);
    const crypto = opts.crypto ?? createProvider();
    const random = opts.random ?? systemRandom;
    this.clock = opts.clock ?? (() => performance.now());
    // Certificate validity needs wall-clock time; the cores get the monotonic clock plus this offset (sans-IO).
    const epochOffsetMs = Date.now() - this.clock();
    // Credentials are looked up through the daemon, so a reload can replace them under running SAs.
    const self = this;
    const credentials: Credentials = {
      sharedKey: (l, r) => self.config.credentials.sharedKey(l, r),
      privateKeyFor: (cert) => self.config.credentials.privateKeyFor?.(cert),
      get trust() {
        return self.config.credentials.trust;
      },
    };
    this.fixedSettings = { epochOffsetMs, exportKeys: opts.keyLog !== undefined };
    const settings = endpointSettings(opts.settings?.endpoint, this.fixedSettings, opts.retransmit);
    this.endpoint = new IkeEndpoint({ connections: this.connections, credentials, crypto, random, pools: opts.config.pools ?? [], settings });
    this.engine = new EspEngine({ backend: crypto, random });
    this.installer = new ChildSaInstaller(this.engine, {
      replayWindow: (c) => this.childConfig(c)?.replayWindow ?? 1024,
      graceMs: REKEY_INBOUND_GRACE_MS,
      priority: SA_POLICY_PRIORITY,
      log: (level, message) => this.log.log('esp', level, message),
    });
  }

  // ------------------------------------------------------------------ lifecycle

  async start(): Promise<void> {
    const ports = new Set<number>([this.port, this.nattPort, ...this.connections.map((c) => c.localPort)]);
    for (const address of this.bindAddresses()) for (const port of ports) await this.bindSocket(address, port);
    this.log.log('net', 1, `listening on ${this.sockets.map((s) => fmtAddr(s.address, s.port)).join(', ')}`);
    if (this.opts.tun) {
      const tun = this.opts.tun;
      tun.onPackets((batch) => this.onTunPackets(tun, batch));
      this.log.log('knl', 1, `TUN device ${tun.name} (MTU ${tun.mtu}) attached`);
    }
    this.installTrapPolicies();
    this.state = 'running';
    const now = this.clock();
    for (const { conn, child } of this.config.startChildren) {
      try {
        this.log.log('cfg', 1, `initiating '${conn}' child '${child}' (start_action = start)`);
        this.endpoint.initiate(conn, now, { child });
      } catch (e) {
        this.log.log('cfg', 0, `cannot initiate '${conn}': ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    this.flush(now);
  }

  /**
   * Terminates every IKE SA (INFORMATIONAL Delete, RFC 7296 1.4.1), waits up to `graceMs` for the answers,
   * then closes sockets and the TUN device.
   */
  async stop(graceMs = 2000): Promise<void> {
    if (this.state === 'stopping' || this.state === 'stopped') return;
    this.state = 'stopping';
    const now = this.clock();
    const sas = this.endpoint.listSas();
    if (sas.length > 0) this.log.log('dmn', 1, `terminating ${sas.length} IKE SA(s)`);
    for (const { sa } of sas) this.endpoint.terminateIke(sa.id, now);
    this.flush(now);
    if (this.endpoint.listSas().length > 0) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          this.log.log('dmn', 1, `${this.endpoint.listSas().length} IKE SA(s) did not confirm the Delete within ${graceMs} ms`);
          resolve();
        }, graceMs);
        this.stopWaiter = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
    this.stopWaiter = undefined;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    for (const s of this.sockets) {
      s.batch?.close();
      // The receiver's poll() must end before dgram closes the fd it watches.
      await s.receiver?.close();
      s.socket.close();
    }
    this.sockets.length = 0;
    if (this.opts.routes) await this.opts.routes.cleanup();
    if (this.opts.tun) await this.opts.tun.close();
    this.state = 'stopped';
    this.writeStatus();
  }

  status(): DaemonStatus {
    const counters = (spi: number, dir: 'in' | 'out') => {
      const sa = this.engine.getSa(spi, dir);
      return sa ? { bytes: sa.bytes, packets: sa.packets } : undefined;
    };
    return {
      pid: process.pid,
      state: this.state,
      updated: new Date().toISOString(),
      ikeSas: this.endpoint.listSas().map(({ sa, children }) => ikeStatus(sa, children.map((c) => childStatus(c, counters)))),
      counters: { ...this.counters, ...this.engine.stats, ...this.dropCounters(), ...this.tunCounters() },
    };
  }

  /** The ESP engine's non-zero drop counters, as `drop-<reason>`. */
  private dropCounters(): Record<string, number> {
    const out: Record<string, number> = {};
    this.engine.drops.forEach((n, i) => {
      if (n > 0 && i > 0) out[`drop-${DROP_REASON_NAMES[i] ?? i}`] = n;
    });
    return out;
  }

  private tunCounters(): Record<string, number> {
    const t = this.opts.tun?.stats;
    if (!t) return {};
    return { tunRxPackets: t.rxPackets, tunTxPackets: t.txPackets, tunRxDropped: t.rxDropped, tunTxDropped: t.txDropped, tunErrors: t.errors };
  }

  /**
   * SIGUSR1: the status as log lines (dmn group, level 0, so it shows at every level but -1), and the status
   * file rewritten with fresh data-plane counters (it is otherwise only written when SAs change).
   */
  dumpStatus(): void {
    this.writeStatus();
    const st = this.status();
    this.log.log('dmn', 0, `status: ${st.ikeSas.length} IKE SA(s), counters ${JSON.stringify(st.counters)}`);
    for (const sa of st.ikeSas) {
      this.log.log('dmn', 0, `  ${sa.name}[${sa.id}]: ${sa.state}, ${sa.local}[${sa.localId}]...${sa.remote}[${sa.remoteId}], SPIs ${sa.spiI}_i ${sa.spiR}_r, ${sa.suite}`);
      for (const c of sa.children)
        this.log.log('dmn', 0, `    ${c.name}{${c.id}}: ${c.suite}, SPIs ${c.spiIn}_i ${c.spiOut}_o, ${c.localTs.join(' ')} === ${c.remoteTs.join(' ')}`);
    }
  }

  // ------------------------------------------------------------------ control (vici's IkeControl, tests)

  /** Starts a connection by name (`cygnet up`, vici initiate). Returns the IKE SA id; throws for unknown names. */
  initiate(conn: string, child?: string): number {
    const now = this.clock();
    const id = this.endpoint.initiate(conn, now, child !== undefined ? { child } : {});
    this.flush(now);
    return id;
  }

  terminateIke(id: number): boolean {
    return this.command((now) => this.endpoint.terminateIke(id, now));
  }

  terminateChild(childId: number): boolean {
    return this.command((now) => this.endpoint.terminateChild(childId, now));
  }

  rekeyIke(id: number, reauth: boolean): boolean {
    return this.command((now) => this.endpoint.rekeyIke(id, now, { reauth }));
  }

  rekeyChild(childId: number): boolean {
    return this.command((now) => this.endpoint.rekeyChild(childId, now));
  }

  /** Every IkeEvent (log lines included) after the driver acted on it: vici's backend listens here. */
  onEvent(listener: (e: IkeEvent) => void): void {
    this.listeners.push(listener);
  }

  /** IKE messages in and out, and datagrams classified invalid (vici's get-counters). */
  onIkeMessage(listener: (dir: 'in' | 'out' | 'invalid', data: Uint8Array) => void): void {
    this.messageListeners.push(listener);
  }

  /** Trap policies installed (vici list-policies): connection, child, and the selectors of its config. */
  trapPolicyList(): { conn: string; child: string; local: readonly TrafficSelector[]; remote: readonly TrafficSelector[] }[] {
    return [...this.trapPolicies.values()].map((t) => {
      const c = this.connections.find((x) => x.name === t.conn)?.children.find((x) => x.name === t.child);
      return { conn: t.conn, child: t.child, local: (c?.localTs ?? []).filter((x): x is TrafficSelector => !('dynamic' in x)), remote: t.remote };
    });
  }

  /** vici install: a trap policy for `child` of `conn` (as start_action = trap). False when it cannot be trapped. */
  installTrapPolicy(conn: string, child: string): boolean {
    this.installTrap({ conn, child });
    return [...this.trapPolicies.values()].some((t) => t.conn === conn && t.child === child);
  }

  /** vici uninstall: removes the trap policy of `child` (of `conn`, if given). False when there is none. */
  uninstallTrapPolicy(child: string, conn?: string): boolean {
    let found = false;
    for (const [reqid, t] of [...this.trapPolicies])
      if (t.child === child && (conn === undefined || t.conn === conn)) {
        this.engine.removePolicy(t.policyId);
        this.trapPolicies.delete(reqid);
        this.opts.routes?.trapDown(`${t.conn}/${t.child}`);
        found = true;
      }
    return found;
  }

  /** The driver's clock (ms), the one IkeSaInfo.establishedAt uses. */
  now(): number {
    return this.clock();
  }

  /** Data-plane facts about a CHILD SA for status displays: install time and ESP counters. */
  childExtras(c: ChildSaInfo): { now: number; installedAt?: number; bytesIn?: number; packetsIn?: number; bytesOut?: number; packetsOut?: number } {
    const i = this.engine.getSa(c.spiIn, 'in');
    const o = this.engine.getSa(c.spiOut, 'out');
    const at = this.installedAt.get(c.id);
    return {
      now: this.clock(),
      ...(at !== undefined ? { installedAt: at } : {}),
      ...(i ? { bytesIn: i.bytes, packetsIn: i.packets } : {}),
      ...(o ? { bytesOut: o.bytes, packetsOut: o.packets } : {}),
    };
  }

  /** Timers armed (vici stats' "scheduled"). */
  scheduled(): number {
    return this.timer ? 1 : 0;
  }

  private command(f: (now: number) => boolean): boolean {
    const now = this.clock();
    const r = f(now);
    this.flush(now);
    return r;
  }

  /**
   * Applies a reloaded configuration (SIGHUP; later vici's load-conns). SAs of connections whose configuration
   * did not change are left alone; removed connections' SAs are deleted; changed ones are deleted and, with
   * start_action = start, initiated again; added ones start as configured. Credentials apply to the next
   * authentication. Trap policies follow the new configuration. Pools follow (applyPools); bound ports stay as started.
   */
  reload(next: DaemonConfig, diff: ConfigDiff, settings?: GlobalSettings): void {
    const now = this.clock();
    const restart = new Set([...diff.removed, ...diff.changed.map((c) => c.name)]);
    if (settings !== undefined) {
      // fragment_size is read per message from the connection; the endpoint takes the other charon.* knobs anew
      // (the --retransmit-* flags still win), from its next retransmission, keepalive or threshold check on.
      if (endpointSettingsDiffer(this.globalSettings, settings)) {
        this.endpoint.updateSettings(endpointSettings(settings.endpoint, this.fixedSettings, this.opts.retransmit));
        this.log.log('cfg', 1, 'applied changed charon.* settings');
      }
      this.globalSettings = settings;
    }
    this.config = next;
    this.connections = this.withPorts(next.connections);
    this.endpoint.setConnections(this.connections);
    for (const [reqid, t] of [...this.trapPolicies])
      if (restart.has(t.conn)) {
        this.engine.removePolicy(t.policyId);
        this.trapPolicies.delete(reqid);
        this.opts.routes?.trapDown(`${t.conn}/${t.child}`);
      }
    for (const { sa } of this.endpoint.listSas())
      if (restart.has(sa.name)) {
        this.log.log('cfg', 1, `connection '${sa.name}' ${diff.removed.includes(sa.name) ? 'removed' : 'changed'}: deleting IKE_SA ${sa.name}[${sa.id}]`);
        this.guard('terminate', () => this.endpoint.terminateIke(sa.id, now));
      }
    for (const ref of next.trapChildren) this.installTrap(ref);
    const fresh = new Set([...diff.added, ...diff.changed.map((c) => c.name)]);
    for (const { conn, child } of next.startChildren)
      if (fresh.has(conn)) {
        this.log.log('cfg', 1, `initiating '${conn}' child '${child}' (start_action = start, reloaded)`);
        this.guard('initiate', () => void this.endpoint.initiate(conn, now, { child }));
      }
    if (diff.pools.added.length + diff.pools.removed.length + diff.pools.changed.length > 0) this.applyPools(next.pools, diff.pools);
    this.log.log(
      'cfg',
      1,
      `reloaded: ${diff.added.length} added, ${diff.removed.length} removed, ${diff.changed.length} changed, ${diff.unchanged.length} unchanged connection(s)${diff.secretsChanged ? ', secrets changed' : ''}`,
    );
    this.flush(now);
  }

  /**
   * Pools added, removed or redefined by a reload (SIGHUP, vici load-pool): new ones serve the next request; a
   * pool with addresses online keeps its leases and is replaced or removed only when it has none (charon's
   * vici_attribute.c refuses to unload such a pool).
   */
  private applyPools(pools: readonly AddressPoolConfig[], diff: ConfigDiff['pools']): void {
    // The endpoint looks pools up by name per request in the map pools() returns; it has no setter (yet).
    const live = this.endpoint.pools() as Map<string, AddressPool>;
    for (const name of [...diff.removed, ...diff.changed]) {
      const p = live.get(name);
      if (p && p.stats().online > 0) {
        this.log.log('cfg', 0, `pool ${name} has ${p.stats().online} online lease(s): kept as it was`);
        continue;
      }
      live.delete(name);
      if (diff.removed.includes(name)) this.log.log('cfg', 1, `removed pool ${name}`);
    }
    for (const cfg of pools)
      if ((diff.added.includes(cfg.name) || diff.changed.includes(cfg.name)) && !live.has(cfg.name)) {
        live.set(cfg.name, new AddressPool(cfg));
        this.log.log('cfg', 1, `${diff.added.includes(cfg.name) ? 'added' : 'replaced'} pool ${cfg.name} (${live.get(cfg.name)!.stats().size} addresses)`);
      }
  }

  /**
   * strongSwan's local_port default is charon.port: a connection left at 500 follows --port. The settings file's
   * fragment_size applies to every connection.
   */
  private withPorts(conns: readonly IkeConnectionConfig[]): IkeConnectionConfig[] {
    const ported = conns.map((c) => (c.localPort === 500 && this.port !== 500 ? { ...c, localPort: this.port } : c));
    return withFragmentSize(ported, this.globalSettings?.fragmentSize);
  }

  // ------------------------------------------------------------------ sockets

  private bindAddresses(): string[] {
    if (this.opts.bind && this.opts.bind.length > 0) return [...this.opts.bind];
    const concrete = new Set<string>();
    let wildcard = false;
    for (const c of this.connections)
      for (const a of c.localAddrs) {
        if (/^[0-9a-fA-F:.]+$/.test(a) && (a.includes('.') || a.includes(':'))) concrete.add(a);
        else wildcard = true;
      }
    if (wildcard || concrete.size === 0) {
      // dgram cannot tell which local address a datagram on a wildcard socket was sent to (no IP_PKTINFO), and
      // the endpoint needs it (NAT-D, the default local identity, dynamic traffic selectors): bind each one.
      for (const list of Object.values(networkInterfaces()))
        for (const i of list ?? []) if (!(i.family === 'IPv6' && i.address.toLowerCase().startsWith('fe80'))) concrete.add(i.address);
    }
    return [...concrete];
  }

  private bindSocket(address: string, port: number): Promise<void> {
    const family: 4 | 6 = address.includes(':') ? 6 : 4;
    // Large socket buffers absorb bursts while the event loop is busy encrypting (the kernel caps them at
    // net.core.rmem_max / wmem_max); overflow shows up as TCP retransmits inside the tunnel.
    const socket = dgram.createSocket({ type: family === 6 ? 'udp6' : 'udp4', recvBufferSize: SOCKET_BUFFER_BYTES, sendBufferSize: SOCKET_BUFFER_BYTES });
    const bound: BoundSocket = { socket, address, port, family };
    return new Promise((resolve, reject) => {
      const onError = (e: Error): void => reject(new Error(`cannot bind UDP ${fmtAddr(address, port)}: ${e.message}`));
      socket.once('error', onError);
      socket.bind({ address, port, exclusive: true }, () => {
        socket.off('error', onError);
        socket.on('error', (e) => this.log.log('net', 1, `socket ${fmtAddr(address, port)}: ${e.message}`));
        socket.on('message', (msg, rinfo) => this.onDatagram(bound, msg, rinfo));
        // Measured with bench/tunnel: +23% throughput, -11% CPU per Mbit/s against a dgram send per datagram.
        if (this.opts.batchSend !== false) {
          const batch = UdpBatchSender.create(socket, { fallback: (d, port, addr) => socket.send(d, port, addr) });
          if (batch) bound.batch = batch;
        }
        // ESP arrives on the NAT-T port: one recvmmsg per wake-up, GRO buffers split, no Buffer per datagram.
        if (port === this.nattPort && this.opts.batchReceive !== false) {
          const receiver = UdpBatchReceiver.create(socket, { onBatch: (b) => this.onDatagramBatch(bound, b) });
          if (receiver) bound.receiver = receiver;
        }
        this.sockets.push(bound);
        resolve();
      });
    });
  }

  private socketFor(local: Address, remote: Address): BoundSocket | undefined {
    const family = remote.address.includes(':') ? 6 : 4;
    return (
      this.sockets.find((s) => s.port === local.port && s.address === local.address) ??
      this.sockets.find((s) => s.port === local.port && s.family === family)
    );
  }

  private send(local: Address, remote: Address, data: Uint8Array): void {
    const s = this.socketFor(local, remote);
    if (!s) {
      this.counters.sendErrors++;
      this.log.log('net', 1, `no socket for ${fmtAddr(local.address, local.port)} to send to ${fmtAddr(remote.address, remote.port)}`);
      return;
    }
    s.socket.send(data, remote.port, remote.address, (err) => {
      if (err) {
        this.counters.sendErrors++;
        this.log.log('net', 2, `sending to ${fmtAddr(remote.address, remote.port)} failed: ${err.message}`);
      }
    });
  }

  // ------------------------------------------------------------------ inputs

  /**
   * A batch from the NAT-T socket's receiver (views into its arena, valid until this returns): ESP is queued and
   * decapsulated before returning; anything else takes dgram's path with a copy (IKE, keepalives: rare).
   */
  private onDatagramBatch(s: BoundSocket, b: UdpRecvBatch): void {
    if (this.state === 'stopped') return;
    for (let i = 0; i < b.count; i++) {
      const data = b.data[i]!;
      const k = classifyDatagram(data, s.port !== this.nattPort, s.port === 500);
      if (k.kind === 'esp') {
        this.counters.espIn++;
        this.espBatch.push({ buffer: data, offset: 0, length: data.length });
        if (this.espBatch.length >= ESP_BATCH_MAX) this.processEspBatch();
        continue;
      }
      const copy = Buffer.from(data);
      this.onDatagram(s, copy, { address: b.address[i]!, port: b.port[i]!, family: s.family === 6 ? 'IPv6' : 'IPv4', size: copy.length });
    }
    if (this.espBatch.length > 0) this.processEspBatch();
  }

  private onDatagram(s: BoundSocket, msg: Buffer, rinfo: dgram.RemoteInfo): void {
    if (this.state === 'stopped') return;
    // dgram hands each datagram its own Buffer, so ESP can be decrypted in place and batched without a copy.
    const data = new Uint8Array(msg.buffer, msg.byteOffset, msg.length);
    const k = classifyDatagram(data, s.port !== this.nattPort, s.port === 500);
    if (k.kind === 'esp') {
      // ESP waits for the end of this event-loop turn and is decapsulated as one batch (one engine call, one
      // TUN write, one flush), as wireguard-go's receive path batches.
      this.counters.espIn++;
      this.espBatch.push({ buffer: data, offset: 0, length: data.length });
      if (this.espBatch.length >= ESP_BATCH_MAX) this.processEspBatch();
      else if (!this.espBatchScheduled) {
        this.espBatchScheduled = true;
        setImmediate(() => this.processEspBatch());
      }
      return;
    }
    // IKE must not overtake ESP received before it (a Delete would drop packets already in flight).
    if (this.espBatch.length > 0) this.processEspBatch();
    const now = this.clock();
    const local: Address = { address: s.address, port: s.port };
    const remote: Address = { address: rinfo.address, port: rinfo.port };
    switch (k.kind) {
      case 'ike':
        this.counters.ikeIn++;
        this.log.log('net', 2, `received packet: from ${fmtAddr(remote.address, remote.port)} to ${fmtAddr(local.address, local.port)} (${k.data.length} bytes)`);
        // A stripped non-ESP marker (RFC 3948) shows as IKE data shorter than the datagram.
        this.guard('IKE receive', () => this.endpoint.receive(k.data, local, remote, now, { marker: k.data.length !== data.length }));
        for (const l of this.messageListeners) this.guard('IKE message listener', () => l('in', k.data));
        break;
      case 'keepalive':
        this.counters.keepalives++;
        break;
      case 'invalid':
        this.counters.invalid++;
        for (const l of this.messageListeners) this.guard('IKE message listener', () => l('invalid', data));
        this.log.log('net', 2, `from ${fmtAddr(remote.address, remote.port)}: ${k.why}`);
        break;
    }
    this.flush(now);
  }

  /** Inbound pipeline: ESP engine (SPI, replay, ICV, policy) -> MSS clamp -> TUN, for the datagrams of one turn. */
  private processEspBatch(): void {
    this.espBatchScheduled = false;
    const batch = this.espBatch.splice(0);
    if (batch.length === 0 || this.state === 'stopped') return;
    const now = this.clock();
    this.guard('ESP decapsulate', () => {
      const r = this.engine.decapsulate(batch, now);
      const out: Uint8Array[] = [];
      let lastSpi = -1;
      for (let i = 0; i < r.count; i++) {
        const st = r.status[i];
        if (st === DecapStatus.Deliver) {
          const sa = r.sa[i];
          if (sa && sa.spi !== lastSpi) {
            lastSpi = sa.spi;
            this.noteActivity(sa.spi, now);
          }
          const pkt = r.buffer[i]!.subarray(r.offset[i]!, r.offset[i]! + r.length[i]!);
          this.clampMss(pkt);
          out.push(pkt);
        } else if (st === DecapStatus.Drop) {
          this.counters.espDrops++;
          this.log.log('esp', 3, `inbound ESP dropped: ${DROP_REASON_NAMES[r.reason[i]!] ?? r.reason[i]}`);
        }
      }
      if (out.length === 0) return;
      if (this.opts.tun && !this.opts.tun.closed) {
        this.opts.tun.writeBatch(out);
        this.counters.delivered += out.length;
      } else this.counters.undeliverable += out.length;
    });
    this.flush(now);
  }

  private onTunPackets(tun: TunDevice, batch: readonly Uint8Array[]): void {
    if (this.state !== 'running') return;
    const now = this.clock();
    for (const p of batch) this.clampMss(p);
    // The device's headroom and tailroom let the engine seal each packet in place (no copy into its pool).
    const head = tun.headroom;
    const tail = tun.tailroom ?? 0;
    const refs: PacketRef[] = batch.map((p) =>
      head > 0 || tail > 0
        ? { buffer: new Uint8Array(p.buffer, p.byteOffset - head, head + p.length + tail), offset: head, length: p.length }
        : { buffer: p, offset: 0, length: p.length },
    );
    this.encapsulateAndSend(refs, now);
    this.flush(now);
  }

  /** Outbound pipeline: ESP engine -> UDP; packets without an SA under a trap policy wait in the trap queue. */
  private encapsulateAndSend(refs: readonly PacketRef[], now: number): void {
    let r: ReturnType<EspEngine['encapsulate']>;
    try {
      r = this.engine.encapsulate(refs, now);
    } catch (e) {
      this.fault('ESP encapsulate', e);
      return;
    }
    const batches = new Set<UdpBatchSender>();
    for (let i = 0; i < r.count; i++) {
      const st = r.status[i];
      if (st === EncapStatus.Send) {
        const sa = r.sa[i]!;
        const buf = r.buffer[i]!;
        if (sa.local && sa.remote) {
          this.counters.espOut++;
          const b = this.socketFor(sa.local, sa.remote)?.batch;
          if (b && b.push(buf, r.offset[i]!, r.length[i]!, sa.remote.address, sa.remote.port)) {
            batches.add(b);
          } else {
            // dgram may send after this turn; the TUN and pool buffers are reused, so the datagram is copied.
            this.send(sa.local, sa.remote, Buffer.from(buf.subarray(r.offset[i]!, r.offset[i]! + r.length[i]!)));
          }
        }
      } else if (st === EncapStatus.Acquire) {
        const a = r.acquire[i];
        const ref = refs[i]!;
        if (a) this.acquire(a.packet.dstAddr, now, a.reqid, ref.buffer.subarray(ref.offset, ref.offset + ref.length));
      } else if (st === EncapStatus.Drop && r.reason[i] === DropReason.NoSa) {
        // A trap whose ACQUIRE was already reported (the engine rate-limits them): the packet waits too.
        const ref = refs[i]!;
        const pkt = ref.buffer.subarray(ref.offset, ref.offset + ref.length);
        const dst = destinationOf(pkt);
        if (dst) this.acquire(dst, now, undefined, pkt);
      }
    }
    // One sendmmsg per socket for the whole batch; the engine's buffers may be reused once this returns.
    for (const b of batches) {
      const before = b.stats.dropped;
      b.flush();
      this.counters.sendErrors += b.stats.dropped - before;
    }
  }

  /**
   * ACQUIRE for a trap policy (start_action = trap, RFC 4301 5.2's "no SA yet"): initiate the connection unless an
   * IKE SA for it exists already, and keep the packet in a bounded queue that is sent once the CHILD SA is up.
   */
  private acquire(dst: Uint8Array, now: number, reqid: number | undefined, packet: Uint8Array): void {
    const byReqid = reqid !== undefined ? this.trapPolicies.get(reqid) : undefined;
    for (const t of byReqid ? [byReqid] : this.trapPolicies.values()) {
      if (!byReqid && !t.remote.some((ts) => ts.startAddr.length === dst.length && compareAddr(dst, ts.startAddr) >= 0 && compareAddr(dst, ts.endAddr) <= 0)) continue;
      const key = `${t.conn}\0${t.child}`;
      const q = this.trapQueue.get(key) ?? [];
      if (q.length < TRAP_QUEUE_LIMIT) q.push(packet.slice());
      else this.counters.trapQueueDropped++;
      this.trapQueue.set(key, q);
      if (this.endpoint.listSas().some(({ sa }) => sa.name === t.conn)) return;
      this.log.log('knl', 1, `acquire for '${t.conn}' child '${t.child}' (start_action = trap): initiating`);
      try {
        this.endpoint.initiate(t.conn, now, { child: t.child });
      } catch (e) {
        this.log.log('cfg', 0, `cannot initiate '${t.conn}': ${e instanceof Error ? e.message : String(e)}`);
        this.trapQueue.delete(key);
      }
      return;
    }
  }

  /** The CHILD SA a trap waited for is up: send what queued meanwhile, in order. */
  private releaseTrapQueue(conn: string | undefined, child: string, now: number): void {
    if (conn === undefined) return;
    const key = `${conn}\0${child}`;
    const q = this.trapQueue.get(key);
    if (!q) return;
    this.trapQueue.delete(key);
    this.log.log('knl', 2, `sending ${q.length} packet(s) queued for '${conn}' child '${child}'`);
    this.encapsulateAndSend(q.map((p) => ({ buffer: p, offset: 0, length: p.length })), now);
  }

  /** The connection failed: packets waiting for it are dropped (counted). */
  private dropTrapQueue(conn: string): void {
    for (const [key, q] of [...this.trapQueue])
      if (key.startsWith(`${conn}\0`)) {
        this.counters.trapQueueDropped += q.length;
        this.trapQueue.delete(key);
      }
  }

  private installTrapPolicies(): void {
    for (const ref of this.config.trapChildren) this.installTrap(ref);
  }

  /** A trap policy (start_action/dpd_action/close_action = trap): protect with no SA -> ACQUIRE -> initiate. */
  private installTrap({ conn, child }: ChildRef): void {
    if ([...this.trapPolicies.values()].some((t) => t.conn === conn && t.child === child)) return;
    const c = this.connections.find((x) => x.name === conn)?.children.find((x) => x.name === child);
    if (!c) return;
    // 'dynamic' needs the SA's address; only fully configured selectors can be trapped before an SA exists.
    const local = c.localTs.filter((t): t is TrafficSelector => !('dynamic' in t));
    const remote = c.remoteTs.filter((t): t is TrafficSelector => !('dynamic' in t));
    if (local.length === 0 || remote.length === 0) {
      this.log.log('cfg', 1, `'${conn}' child '${child}': trap needs explicit local_ts and remote_ts, not trapped`);
      return;
    }
    const reqid = this.nextTrapReqid++;
    const policyId = this.engine.installPolicy({ local: local as EspSelector[], remote: remote as EspSelector[], reqid, priority: TRAP_POLICY_PRIORITY });
    this.trapPolicies.set(reqid, { conn, child, remote, policyId });
    const peer = this.connections.find((x) => x.name === conn)?.remoteAddrs.find((a) => /^[0-9a-fA-F:.]+$/.test(a));
    this.opts.routes?.trapUp(`${conn}/${child}`, local, remote, peer);
    this.log.log('cfg', 1, `installed trap policy for '${conn}' child '${child}'`);
  }

  /**
   * Lowers the MSS option of a TCP SYN/SYN-ACK in place (RFC 9293 3.7.1, checksum fixed per RFC 1624), so TCP
   * across the tunnel never builds segments that ESP + UDP would push past the path MTU. A cheap protocol check
   * first: only TCP over IPv4 or IPv6 (no extension headers) is looked at.
   */
  private clampMss(p: Uint8Array): void {
    const mtu = this.mssMtu === 'tun' ? this.opts.tun?.mtu : this.mssMtu;
    if (mtu === undefined || p.length < 40) return;
    const v = p[0]! >>> 4;
    if (v === 4 ? p[9] !== 6 : v === 6 ? p[6] !== 6 : true) return;
    if (clampTcpMss(p, mssForMtu(mtu, v === 4 ? 4 : 6)) === 'clamped') this.counters.mssClamped++;
  }

  /**
   * Issue 7: "the MTU follows the ESP + UDP overhead". Unless --mtu fixed it, the TUN's MTU is lowered so an inner
   * packet of that size still fits a 1500-byte path once encapsulated with this CHILD SA's suite and outer family
   * (RFC 4303 section 2 + RFC 3948 section 2.1 overhead, src/tun/mtu.ts). It is never raised again.
   */
  private fitTunMtu(c: ChildSaInfo): void {
    const tun = this.opts.tun;
    const sa = this.engine.getSa(c.spiOut, 'out');
    if (!tun || !sa || this.opts.fixedMtu) return;
    const t = sa.transform;
    const mtu = innerMtuFor(PATH_MTU, { outerVersion: c.remote.address.includes(':') ? 6 : 4, ivBytes: t.ivBytes, icvBytes: t.icvBytes, blockBytes: t.padAlign });
    if (mtu >= tun.mtu || mtu < 576) return;
    const from = tun.mtu;
    tun.setMtu(mtu).then(
      () => this.log.log('knl', 1, `MTU of ${tun.name} lowered from ${from} to ${mtu} for ${c.suite} over IPv${c.remote.address.includes(':') ? 6 : 4}`),
      (err: unknown) => this.log.log('knl', 0, `cannot set the MTU of ${tun.name} to ${mtu}: ${err instanceof Error ? err.message : String(err)}`),
    );
  }

  /** Tells IKE the peer is alive (DPD, RFC 7296 2.4) at most once a second per SA, not per packet. */
  private noteActivity(spiIn: number, now: number): void {
    const last = this.lastActivity.get(spiIn);
    if (last !== undefined && now - last < 1000) return;
    this.lastActivity.set(spiIn, now);
    this.guard('ESP activity', () => this.endpoint.espActivity(spiIn, now));
  }

  // ------------------------------------------------------------------ outputs

  /**
   * Runs a call into a core. The cores return typed errors for bad input; an exception is a bug, and one bad
   * datagram must not take the daemon down: it is logged (with its stack at level 2) and the loop goes on.
   */
  private guard(what: string, f: () => void): void {
    try {
      f();
    } catch (e) {
      this.fault(what, e);
    }
  }

  private fault(what: string, e: unknown): void {
    this.counters.faults++;
    this.log.log('dmn', 0, `internal error in ${what}: ${e instanceof Error ? e.message : String(e)}`);
    if (e instanceof Error && e.stack) this.log.log('dmn', 2, e.stack);
  }

  /** Drains everything the cores want done, then re-arms the one timer. */
  private flush(now: number): void {
    let changed = false;
    for (;;) {
      let progressed = false;
      for (let t = this.endpoint.pollTransmit(); t; t = this.endpoint.pollTransmit()) {
        progressed = true;
        this.counters.ikeOut++;
        const data = t.nonEspMarker ? withMarker(t.data) : t.data;
        this.send(t.local, t.remote, data);
        for (const l of this.messageListeners) this.guard('IKE message listener', () => l('out', t.data));
      }
      for (let e = this.endpoint.pollEvent(); e; e = this.endpoint.pollEvent()) {
        progressed = true;
        const ev = e;
        this.guard(`${e.type} event`, () => {
          if (this.onIkeEvent(ev, now)) changed = true;
        });
        for (const l of this.listeners) this.guard(`${e.type} listener`, () => l(ev));
        const keyLog = this.opts.keyLog;
        if (keyLog && (ev.type === 'ike-keys' || ev.type === 'child-install')) this.guard('key log', () => keyLogLines(ev).forEach(keyLog));
      }
      for (let e = this.engine.pollEvent(); e; e = this.engine.pollEvent()) {
        progressed = true;
        this.log.log('esp', e.type === 'removed' ? 2 : 1, `ESP SA ${spiText(e.spi)} (${e.direction}): ${e.type}${'cause' in e ? ` (${e.cause})` : ''}`);
        if (e.type === 'soft-expire' || e.type === 'hard-expire') {
          // Byte/packet lifetimes live in the data plane; IKE rekeys (soft) or deletes (hard) the CHILD SA.
          const child = [...this.installer.installed.values()].find((c) => c.info.spiIn === e.spi || c.info.spiOut === e.spi);
          const kind = e.type === 'soft-expire' ? 'soft' : 'hard';
          if (child) this.guard('ESP expiry', () => this.endpoint.espExpired(child.info.spiIn, kind, now));
        }
      }
      if (!progressed) break;
    }
    if (changed) this.writeStatus();
    if (this.stopWaiter && this.endpoint.listSas().length === 0) this.stopWaiter();
    this.arm();
  }

  /** Returns true when the SA set changed (status file to rewrite). */
  private onIkeEvent(e: IkeEvent, now: number): boolean {
    switch (e.type) {
      case 'log':
        this.log.log(e.group, e.level, e.message, e.ikeSaId !== undefined ? { ikeSaId: e.ikeSaId } : undefined);
        return false;
      case 'ike-up':
        this.log.log('dmn', 2, `event ike-up ${e.sa.name}[${e.sa.id}] ${e.sa.suite}`);
        return true;
      case 'ike-down':
        this.log.log('dmn', 2, `event ike-down ${e.sa.name}[${e.sa.id}] (${e.reason})`);
        if (e.reason !== 'rekeyed') this.dropTrapQueue(e.sa.name);
        return true;
      case 'auth-failed':
        this.log.log('dmn', 2, `event auth-failed IKE SA ${e.ikeSaId}: ${e.message}`);
        return true;
      case 'child-failed':
        this.log.log('dmn', 2, `event child-failed ${e.name} (${e.notify}): ${e.message}`);
        return true;
      case 'child-install':
        try {
          this.installer.handle(e, now);
        } catch (err) {
          this.log.log('esp', 0, `installing ESP SAs of ${e.child.name}{${e.child.id}} failed: ${err instanceof Error ? err.message : String(err)}`);
          return true;
        }
        this.installedAt.set(e.child.id, now);
        this.fitTunMtu(e.child);
        this.opts.routes?.childUp(e.child);
        this.releaseTrapQueue(this.nameOfIke(e.child.ikeSaId), e.child.name, now);
        return true;
      case 'child-remove':
        if (this.installer.installed.has(e.child.id)) {
          this.installer.handle(e, now);
          this.lastActivity.delete(e.child.spiIn);
          this.installedAt.delete(e.child.id);
          this.opts.routes?.childDown(e.child);
          this.log.log('esp', 1, `removed ESP SAs ${e.child.name}{${e.child.id}} (${spiText(e.child.spiIn)}/${spiText(e.child.spiOut)}): ${e.reason}`);
        }
        return true;
      case 'child-outbound':
        // A rekey responder moves outbound traffic once the old SA is gone (RFC 7296 2.8).
        this.installer.handle(e, now);
        this.log.log('esp', 2, `outbound traffic of ${e.child.name} moved from ${spiText(e.replaces.spiOut)} to ${spiText(e.child.spiOut)}`);
        return true;
      case 'ike-address-change':
        // The peer moved (NAT rebinding, RFC 7296 2.23): ESP follows IKE to the new address and port.
        this.installer.handle(e, now);
        this.log.log('esp', 1, `IKE_SA ${e.sa.name}[${e.sa.id}] peer now at ${fmtAddr(e.sa.remote.address, e.sa.remote.port)}: ${e.children.length} outbound ESP SA(s) follow`);
        return true;
      case 'ike-rekeyed':
        this.log.log('dmn', 2, `event ike-rekeyed ${e.old.name}[${e.old.id}] -> [${e.sa.id}]`);
        return true;
      case 'trap':
        // dpd_action/close_action = trap: the next matching packet brings the CHILD SA back.
        this.installTrap({ conn: e.connection, child: e.child });
        return false;
      case 'ike-keys':
        // Key material: only for an explicit key log (listeners), never logged here.
        return false;
      case 'vip-assigned':
        // Virtual IPs (RFC 7296 3.15) go on the TUN, before the routes that use them as source. DNS servers are
        // reported only: cygnet does not rewrite the host's resolver configuration.
        if (this.opts.routes) for (const a of e.addresses) this.opts.routes.addVirtualIp(a);
        this.log.log(
          'dmn',
          1,
          `virtual IP(s) ${e.addresses.join(', ')} assigned${e.dns.length ? `, DNS ${e.dns.join(', ')}` : ''}${this.opts.routes ? ` (on ${this.opts.routes.device})` : ' (no TUN routes: not configured on any interface)'}`,
        );
        return true;
      default:
        // An event type newer than this driver: listeners still see it.
        return false;
    }
  }

  private childConfig(c: ChildSaInfo): ChildConfig | undefined {
    return this.connections.find((x) => x.name === this.nameOfIke(c.ikeSaId))?.children.find((x) => x.name === c.name);
  }

  private nameOfIke(id: number): string | undefined {
    return this.endpoint.listSas().find(({ sa }) => sa.id === id)?.sa.name;
  }

  private writeStatus(): void {
    if (!this.opts.statusFile) return;
    try {
      writeStatusFile(this.opts.statusFile, this.status());
    } catch (e) {
      this.log.log('dmn', 0, `cannot write status file ${this.opts.statusFile}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  /** One timer at the earliest deadline of either core. */
  private arm(): void {
    if (this.state === 'stopped') return;
    const a = this.endpoint.nextTimeout();
    const b = this.engine.nextTimeout();
    const next = a === undefined ? b : b === undefined ? a : Math.min(a, b);
    if (next === this.timerAt && this.timer) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = next;
    if (next === undefined) return;
    const delay = Math.max(0, Math.ceil(next - this.clock()));
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerAt = undefined;
      const now = this.clock();
      this.guard('IKE timeout', () => this.endpoint.handleTimeout(now));
      this.guard('ESP timeout', () => this.engine.handleTimeout(now));
      this.flush(now);
    }, delay);
  }
}

function withMarker(data: Uint8Array): Uint8Array {
  // RFC 3948 section 2.2: IKE on the NAT-T port is preceded by four zero bytes.
  const out = new Uint8Array(data.length + 4);
  out.set(data, 4);
  return out;
}

function spiText(spi: number): string {
  return (spi >>> 0).toString(16).padStart(8, '0');
}

function fmtAddr(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}[${port}]`;
}

/** Destination address of an IPv4 or IPv6 packet (a view), or undefined if it is neither. */
function destinationOf(p: Uint8Array): Uint8Array | undefined {
  const v = p[0]! >>> 4;
  if (v === 4 && p.length >= 20) return p.subarray(16, 20);
  if (v === 6 && p.length >= 40) return p.subarray(24, 40);
  return undefined;
}
