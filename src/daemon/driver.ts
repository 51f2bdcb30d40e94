/**
 * The daemon's driver (../shared/DESIGN.md sections 1 and 4): node:dgram sockets (batched ESP with sendmmsg and
 * recvmmsg + GRO), the TUN device, ONE timer, the status file and the key log, around the sans-IO gateway core
 * (src/gateway/gateway.ts), which owns IKE, ESP, SA installation, trap policies, reqids, expiry and DPD activity.
 * Every input follows the same path: `now` is read once, here; the core is called; its events are drained
 * (listeners, key log, status file); the timer is re-armed at the core's nextTimeout(). This file is the only
 * place that sees a clock or a socket.
 */
import dgram from 'node:dgram';
import { networkInterfaces } from 'node:os';
import { performance } from 'node:perf_hooks';
import { UdpBatchSender } from './udp-batch-sender.js';
import { UdpBatchReceiver, type UdpRecvBatch } from './udp-batch-receiver.js';
import type { CryptoBackend } from '../crypto/types.js';
import { createProvider } from '../crypto/provider.js';
import { systemRandom, type RandomSource } from '../crypto/random.js';
import type { IkeEndpoint } from '../ike/endpoint.js';
import type { RetransmitSettings } from '../ike/retransmit.js';
import type { Address, Credentials, EndpointSettings, IkeConnectionConfig } from '../ike/config.js';
import type { ChildSaInfo, IkeEvent } from '../ike/events.js';
import type { TrafficSelector } from '../ike/traffic-selector.js';
import type { EspEngine } from '../esp/engine.js';
import type { TunDevice } from '../tun/types.js';
import { fmtAddr, Gateway, type GatewayNet } from '../gateway/gateway.js';
import { keyLogLines } from './key-log.js';
import type { DaemonConfig } from './connections.js';
import type { ConfigDiff } from '../config/diff.js';
import type { Logger } from './logger.js';
import { endpointSettings, endpointSettingsDiffer, withFragmentSize, type GlobalSettings } from './settings.js';
import type { TunRoutes } from './routes.js';
import { gatewayStatus, statusLines, writeStatusFile, type DaemonStatus } from './status.js';

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
  /** TCP MSS clamping (issue 7) to this inner MTU. Default: the TUN's MTU; `false` turns it off. */
  readonly mssClampMtu?: number | false;
  /** The TUN's MTU was given explicitly (--mtu): it does not follow the negotiated ESP overhead. */
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
}

interface BoundSocket {
  readonly socket: dgram.Socket;
  readonly local: Address;
  readonly family: 4 | 6;
  batch?: UdpBatchSender;
  receiver?: UdpBatchReceiver;
}

/** Requested UDP socket buffer size (SO_RCVBUF/SO_SNDBUF). */
const SOCKET_BUFFER_BYTES = 4 * 1024 * 1024;
const errText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

export class Daemon {
  readonly gateway: Gateway;
  private readonly log: Logger;
  private config: DaemonConfig;
  private readonly sockets: BoundSocket[] = [];
  /** Batch senders with datagrams pushed since the last flushEsp. */
  private readonly pending = new Set<UdpBatchSender>();
  private espScheduled = false;
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

  constructor(private readonly opts: DaemonOptions) {
    this.log = opts.logger;
    this.port = opts.port ?? 500;
    this.nattPort = opts.nattPort ?? 4500;
    this.config = opts.config;
    this.globalSettings = opts.settings;
    this.clock = opts.clock ?? (() => performance.now());
    // Certificate validity needs wall-clock time; the cores get the monotonic clock plus this offset (sans-IO).
    this.fixedSettings = { epochOffsetMs: Date.now() - this.clock(), exportKeys: opts.keyLog !== undefined };
    // Credentials are looked up through the daemon, so a reload can replace them under running SAs.
    const self = this;
    const credentials: Credentials = {
      sharedKey: (l, r) => self.config.credentials.sharedKey(l, r),
      privateKeyFor: (cert) => self.config.credentials.privateKeyFor?.(cert),
      get trust() {
        return self.config.credentials.trust;
      },
    };
    const net: GatewayNet = {
      sendEsp: (buf, off, len, local, remote) => this.sendEsp(buf, off, len, local, remote),
      flushEsp: () => this.flushEsp(),
      sendIke: (local, remote, data) => this.send(local, remote, data),
    };
    this.gateway = new Gateway({
      config: this.gatewayConfig(opts.config),
      credentials,
      settings: endpointSettings(opts.settings?.endpoint, this.fixedSettings, opts.retransmit),
      crypto: opts.crypto ?? createProvider(),
      random: opts.random ?? systemRandom,
      net,
      log: (group, level, message, fields) => this.log.log(group, level, message, fields),
      nattPort: this.nattPort,
      ...(opts.tun ? { tun: opts.tun } : {}),
      ...(opts.routes ? { routes: opts.routes } : {}),
      ...(opts.mssClampMtu !== undefined ? { mssClampMtu: opts.mssClampMtu } : {}),
      ...(opts.fixedMtu ? { fixedMtu: true } : {}),
    });
  }

  get endpoint(): IkeEndpoint {
    return this.gateway.endpoint;
  }
  get engine(): EspEngine {
    return this.gateway.engine;
  }
  get counters(): Gateway['counters'] {
    return this.gateway.counters;
  }

  // ------------------------------------------------------------------ lifecycle

  async start(): Promise<void> {
    const ports = new Set<number>([this.port, this.nattPort, ...this.gatewayConfig(this.config).connections.map((c) => c.localPort)]);
    for (const address of this.bindAddresses()) for (const port of ports) await this.bindSocket(address, port);
    this.log.log('net', 1, `listening on ${this.sockets.map((s) => fmtAddr(s.local)).join(', ')}`);
    const tun = this.opts.tun;
    if (tun) {
      tun.onPackets((batch) => this.state === 'running' && this.run((now) => this.gateway.tunPackets(batch, now)));
      this.log.log('knl', 1, `TUN device ${tun.name} (MTU ${tun.mtu}) attached`);
    }
    this.state = 'running';
    this.run((now) => this.gateway.start(now));
  }

  /** Terminates every IKE SA (RFC 7296 1.4.1), waits up to `graceMs` for the answers, then closes sockets and TUN. */
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
    return gatewayStatus(this.gateway, this.state, this.opts.tun?.stats);
  }

  /** SIGUSR1: the status as log lines and the status file rewritten with fresh data-plane counters. */
  dumpStatus(): void {
    this.writeStatus();
    for (const line of statusLines(this.status())) this.log.log('dmn', 0, line);
  }

  // ------------------------------------------------------------------ control (vici's IkeControl, tests)

  /** Starts a connection by name (`cygnet up`, vici initiate). Returns the IKE SA id; throws for unknown names. */
  initiate(conn: string, child?: string): number {
    return this.run((now) => this.gateway.command(now, (e) => e.initiate(conn, now, child !== undefined ? { child } : {})));
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
  trapPolicyList(): { conn: string; child: string; local: readonly TrafficSelector[]; remote: readonly TrafficSelector[] }[] {
    return this.gateway.trapPolicies().map(({ conn, child, local, remote }) => ({ conn, child, local, remote }));
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
    this.config = next;
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
      const ev = e;
      if (ev.type === 'sa-changed') changed = true;
      else if (ev.type === 'ike-message') for (const l of this.messageListeners) this.guard('IKE message listener', () => l(ev.dir, ev.data));
      else if (ev.type !== 'fault') {
        for (const l of this.listeners) this.guard(`${ev.type} listener`, () => l(ev));
        const keyLog = this.opts.keyLog;
        if (keyLog && (ev.type === 'ike-keys' || ev.type === 'child-install')) this.guard('key log', () => keyLogLines(ev).forEach(keyLog));
      }
    }
    if (changed) this.writeStatus();
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

  // ------------------------------------------------------------------ sockets

  private bindAddresses(): string[] {
    if (this.opts.bind && this.opts.bind.length > 0) return [...this.opts.bind];
    const concrete = new Set<string>();
    let wildcard = false;
    for (const c of this.config.connections)
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
    // Large socket buffers absorb bursts while the event loop is busy encrypting (capped at net.core.rmem_max).
    const socket = dgram.createSocket({ type: family === 6 ? 'udp6' : 'udp4', recvBufferSize: SOCKET_BUFFER_BYTES, sendBufferSize: SOCKET_BUFFER_BYTES });
    const bound: BoundSocket = { socket, local: { address, port }, family };
    return new Promise((resolve, reject) => {
      const onError = (e: Error): void => reject(new Error(`cannot bind UDP ${fmtAddr(bound.local)}: ${e.message}`));
      socket.once('error', onError);
      socket.bind({ address, port, exclusive: true }, () => {
        socket.off('error', onError);
        socket.on('error', (e) => this.log.log('net', 1, `socket ${fmtAddr(bound.local)}: ${e.message}`));
        socket.on('message', (msg, rinfo) => this.onDatagram(bound, new Uint8Array(msg.buffer, msg.byteOffset, msg.length), rinfo.address, rinfo.port));
        // Measured with bench/tunnel: +23% throughput, -11% CPU per Mbit/s against a dgram send per datagram.
        if (this.opts.batchSend !== false) {
          const batch = UdpBatchSender.create(socket, { fallback: (d, p, a) => socket.send(d, p, a) });
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
    return this.sockets.find((s) => s.local.port === local.port && s.local.address === local.address) ?? this.sockets.find((s) => s.local.port === local.port && s.family === family);
  }

  private send(local: Address, remote: Address, data: Uint8Array): void {
    const s = this.socketFor(local, remote);
    if (!s) {
      this.counters.sendErrors++;
      this.log.log('net', 1, `no socket for ${fmtAddr(local)} to send to ${fmtAddr(remote)}`);
      return;
    }
    s.socket.send(data, remote.port, remote.address, (err) => {
      if (!err) return;
      this.counters.sendErrors++;
      this.log.log('net', 2, `sending to ${fmtAddr(remote)} failed: ${err.message}`);
    });
  }

  private sendEsp(buf: Uint8Array, off: number, len: number, local: Address, remote: Address): void {
    const b = this.socketFor(local, remote)?.batch;
    if (b && b.push(buf, off, len, remote.address, remote.port)) this.pending.add(b);
    // dgram may send after this turn; the TUN and pool buffers are reused, so the datagram is copied.
    else this.send(local, remote, Buffer.from(buf.subarray(off, off + len)));
  }

  /** One sendmmsg per socket for the whole batch. */
  private flushEsp(): void {
    for (const b of this.pending) {
      const before = b.stats.dropped;
      b.flush();
      this.counters.sendErrors += b.stats.dropped - before;
    }
    this.pending.clear();
  }

  // ------------------------------------------------------------------ inputs

  /** A recvmmsg batch (views into the receiver's arena, valid until this returns): ESP is decapsulated before returning. */
  private onDatagramBatch(s: BoundSocket, b: UdpRecvBatch): void {
    if (this.state === 'stopped') return;
    const now = this.clock();
    for (let i = 0; i < b.count; i++) {
      const d = b.data[i]!;
      // ESP (a non-zero SPI, RFC 3948 2.2) is queued as a view; anything else is copied (the core may keep IKE data).
      const esp = d.length > 4 && (d[0]! | d[1]! | d[2]! | d[3]!) !== 0;
      if (!this.gateway.receiveDatagram(esp ? d : Uint8Array.from(d), s.local, { address: b.address[i]!, port: b.port[i]! }, now)) this.drain();
    }
    this.run((t) => this.gateway.processEsp(t));
  }

  private onDatagram(s: BoundSocket, data: Uint8Array, address: string, port: number): void {
    if (this.state === 'stopped') return;
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
