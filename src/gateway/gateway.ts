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
 */
import type { CryptoBackend } from '../crypto/types.js';
import type { RandomSource } from '../crypto/random.js';
import type { EapProvider } from '../ike/eap-provider.js';
import { IkeEndpoint } from '../ike/endpoint.js';
import type { Address, ChildConfig, Credentials, EndpointSettings, IkeConnectionConfig } from '../ike/config.js';
import type { ChildSaInfo, IkeEvent } from '../ike/events.js';
import { compareAddr, type TrafficSelector } from '../ike/traffic-selector.js';
import { AddressPool, type AddressPoolConfig } from '../ike/pool.js';
import { DecapStatus, DROP_REASON_NAMES, DropReason, EncapStatus } from '../esp/constants.js';
import { dropCountsByName, EspEngine, type PacketRef } from '../esp/engine.js';
import type { EspSa } from '../esp/sa.js';
import type { EspSelector } from '../esp/selector.js';
import { clampTcpMss, mssForMtu } from '../net/mss.js';
import { innerMtuFor } from '../net/esp-mtu.js';
import { classifyDatagram } from '../net/classify.js';
import type { ConfigDiff } from '../config/diff.js';
import { ChildSaInstaller } from './child-installer.js';
import { ChildStarter, type StartReason } from './child-starter.js';
import { RateLimitedLog } from './rate-limit.js';
import { ReqidAllocator } from './reqids.js';

/** Log lines of the core: strongSwan's groups (dmn, cfg, knl, net, esp...) and levels. */
export type GatewayLog = (group: string, level: number, message: string, fields?: { ikeSaId: number }) => void;

/** The driver's UDP side. ESP buffers are the engine's: valid until sendEsp returns, so batch or copy them. */
export interface GatewayNet {
  sendEsp(buf: Uint8Array, offset: number, length: number, local: Address, remote: Address): void;
  /** The end of one ESP batch (one sendmmsg per socket). */
  flushEsp(): void;
  /** An IKE datagram (non-ESP marker already prepended on the NAT-T port, RFC 3948 2.2). */
  sendIke(local: Address, remote: Address, data: Uint8Array): void;
  /**
   * The local address to initiate from when local_addrs is unset or %any: the source the host's routing table
   * gives for `remote` (strongSwan asks the kernel the same way, kernel_net.get_source_addr), if a socket is bound
   * to it. Optional: without it the endpoint leaves the address unspecified.
   */
  sourceFor?(remote: string): string | undefined;
}

/**
 * DNS names in remote_addrs (issue 15): the driver resolves them (src/daemon/resolve.ts, getaddrinfo so /etc/hosts
 * counts, as charon's host_create_from_dns) and the core reads the answers synchronously from its cache.
 */
export interface GatewayResolver {
  /**
   * The address `name` resolves to now, from the driver's cache (an expired entry is still returned while a fresh
   * resolution runs). undefined when the name was never resolved: the driver calls Gateway.namesResolved(now)
   * once it has an answer, and start_action = start initiations that waited for it run then.
   */
  lookup(name: string): string | undefined;
  /** Why `name` has no address (the resolver's last error), for the log. */
  failure?(name: string): string | undefined;
  /** Asks for a fresh resolution (an initiation towards the name is coming); the answer arrives later. */
  refresh?(name: string): void;
}

/**
 * The TUN as the core uses it: src/tun's TunDevice fits (written out here so the sans-IO core does not depend on
 * the driver layer; see .dependency-cruiser.cjs).
 */
export interface GatewayTun {
  readonly name: string;
  readonly mtu: number;
  /** Free bytes in front of / behind every packet read, so ESP is sealed in place. */
  readonly headroom: number;
  readonly tailroom?: number;
  readonly closed: boolean;
  writeBatch(packets: readonly Uint8Array[]): number;
  setMtu(mtu: number): Promise<void>;
}

/** Routes and addresses on the host for the tunnel (src/daemon/routes.ts's TunRoutes fits). */
export interface GatewayRoutes {
  readonly device: string;
  childUp(c: ChildSaInfo): void;
  childDown(c: ChildSaInfo): void;
  trapUp(name: string, localTs: readonly TrafficSelector[], remoteTs: readonly TrafficSelector[], peerAddress: string | undefined): void;
  trapDown(name: string): void;
  addVirtualIp(address: string): void;
}

export interface ChildRef {
  readonly conn: string;
  readonly child: string;
}

/** What the core runs: connections (ports already applied), credentials, trap and start lists, pools. */
export interface GatewayConfig {
  readonly connections: readonly IkeConnectionConfig[];
  /** Looked up per authentication, so a reload replaces them under running SAs. */
  readonly credentials: Credentials;
  readonly trapChildren: readonly ChildRef[];
  readonly startChildren: readonly ChildRef[];
  readonly pools?: readonly AddressPoolConfig[];
}

export interface GatewayOptions {
  readonly config: GatewayConfig;
  readonly settings?: Partial<EndpointSettings>;
  readonly crypto: CryptoBackend;
  readonly random: RandomSource;
  readonly net: GatewayNet;
  readonly log: GatewayLog;
  readonly tun?: GatewayTun | undefined;
  readonly routes?: GatewayRoutes | undefined;
  /** The NAT-T port (RFC 3948): datagrams to it are ESP unless they start with the non-ESP marker. Default 4500. */
  readonly nattPort?: number | undefined;
  /** TCP MSS clamping (issue 7): SYNs both ways lowered to fit this inner MTU. Default: the TUN's MTU; false: off. */
  readonly mssClampMtu?: number | false | undefined;
  /** The TUN's MTU was fixed (--mtu): it does not follow the negotiated ESP overhead. */
  readonly fixedMtu?: boolean | undefined;
  /**
   * charon.reuse_ikesa (strongswan.conf, default yes): further CHILD SAs of a connection with an IKE SA are
   * CREATE_CHILD_SA on it (RFC 7296 1.3.1), from `up`, start_action = start and trap ACQUIREs alike.
   */
  readonly reuseIkeSa?: boolean | undefined;
  /** DNS names in remote_addrs; without it, initiating to a name fails with a clear error. */
  readonly resolver?: GatewayResolver | undefined;
  /** EAP sessions for IKE_AUTH (RFC 7296 2.16); default: the built-in methods without user secrets. */
  readonly eap?: EapProvider | undefined;
  /** Asynchronous work (EAP, RADIUS) completed: call handleTimeout(now) soon (IkeEndpointOptions.wake). */
  readonly wake?: (() => void) | undefined;
}

/** Events of the core besides IkeEvents. */
export type GatewayEvent =
  | IkeEvent
  | { readonly type: 'ike-message'; readonly dir: 'in' | 'out' | 'invalid'; readonly data: Uint8Array }
  /** The set of SAs changed (status files). */
  | { readonly type: 'sa-changed' }
  /**
   * A local address appeared or went (the driver's netlink monitor, src/sys/netlink-monitor.ts), with the IKE SAs
   * whose local address it is. What MOBIKE (RFC 4555 3.5) or a reauthentication will act on; today logged only.
   */
  | { readonly type: 'local-address'; readonly address: string; readonly present: boolean; readonly why: string; readonly ikeSaIds: readonly number[] }
  | { readonly type: 'fault'; readonly what: string; readonly error: unknown };

/** A literal IPv4/IPv6 address (not %any, a name, a range or a subnet): one the kernel can route. */
function isConcreteAddress(a: string): boolean {
  return /^[0-9a-fA-F:.]+$/.test(a) && (a.includes('.') || a.includes(':')) && a !== '0.0.0.0' && a !== '::';
}

/** A DNS name in remote_addrs (strongSwan accepts FQDNs there): not %any, an address, a subnet or a range. */
export function isDnsName(a: string): boolean {
  return !a.startsWith('%') && !a.includes('/') && !a.includes(':') && /[a-zA-Z]/.test(a) && /^[a-zA-Z0-9._-]+$/.test(a) && !a.startsWith('.') && !a.startsWith('-');
}

/** Priorities in the engine's SPD: installed SAs' policies run before on-demand (trap) policies. */
const SA_POLICY_PRIORITY = 10;
const TRAP_POLICY_PRIORITY = 100;
/** Most ESP datagrams decapsulated in one engine call (bounds latency and the result arrays). */
export const ESP_BATCH_MAX = 128;
/** The path MTU the TUN's MTU is fitted to (Ethernet). */
const PATH_MTU = 1500;
/** Packets held per trapped CHILD SA while it is negotiated (issue 7: "a bounded queue"). */
export const TRAP_QUEUE_LIMIT = 64;
/** How long an inbound SA replaced by a rekey keeps accepting packets still in flight. */
const REKEY_INBOUND_GRACE_MS = 2000;
/** ESP activity is reported to IKE's DPD at most this often per SA, not per packet. */
const ACTIVITY_INTERVAL_MS = 1000;

interface TrapPolicy {
  readonly conn: string;
  readonly child: string;
  readonly local: readonly TrafficSelector[];
  readonly remote: readonly TrafficSelector[];
  readonly policyId: number;
}

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
  private readonly lastActivity = new Map<number, number>();
  private readonly installedAt = new Map<number, number>();
  /** Trap policies by reqid. */
  private readonly traps = new Map<number, TrapPolicy>();
  /** Packets that triggered (or followed) an ACQUIRE, per trapped conn/child, until the CHILD SA is up. */
  private readonly trapQueue = new Map<string, Uint8Array[]>();
  /** Children (conn\0child) whose CHILD SA is being negotiated, with their IKE SA's id: one ACQUIRE each. */
  private readonly negotiating = new Map<string, number>();
  private readonly starter: ChildStarter;
  /** An IKE SA came up, went or was rekeyed: children waiting for one may go on (flush runs starter.settle). */
  private settleDue = false;
  /** Log lines about trapped packets that cannot be handled: the first of a kind, then rate limited. */
  private readonly trapLog = new RateLimitedLog(10_000);
  /** start_action = start children that could not initiate for want of a resolved remote_addrs name. */
  private readonly unresolved = new Map<string, { conn: string; child: string | undefined; reason: StartReason }>();
  /** ESP datagrams received and not yet decapsulated (processEsp). */
  private readonly espBatch: PacketRef[] = [];
  private readonly events: GatewayEvent[] = [];
  private eventHead = 0;
  private readonly nattPort: number;
  private readonly mssMtu: number | 'tun' | undefined;

  constructor(private readonly opts: GatewayOptions) {
    this.log = opts.log;
    this.config = opts.config;
    this.nattPort = opts.nattPort ?? 4500;
    this.mssMtu = opts.mssClampMtu === false ? undefined : (opts.mssClampMtu ?? (opts.tun ? 'tun' : undefined));
    const { crypto, random } = opts;
    const self = this;
    const credentials: Credentials = {
      sharedKey: (l, r) => self.config.credentials.sharedKey(l, r),
      privateKeyFor: (cert) => self.config.credentials.privateKeyFor?.(cert),
      get trust() {
        return self.config.credentials.trust;
      },
    };
    this.endpoint = new IkeEndpoint({
      connections: opts.config.connections,
      credentials,
      crypto,
      random,
      pools: opts.config.pools ?? [],
      settings: opts.settings ?? {},
      ...(opts.eap ? { eap: opts.eap } : {}),
      ...(opts.wake ? { wake: opts.wake } : {}),
    });
    // Drop reports (the first of each reason per SA, then rate-limited summaries) at esp 1 (issue 15).
    this.engine = new EspEngine({ backend: crypto, random, log: (level, message) => this.log('esp', level, message) });
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
          for (const [reqid, t] of this.traps) if (t.conn === conn && t.child === c.name) return this.reqids.retain(reqid);
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
    if (name !== undefined) this.negotiating.set(`${connName}\0${name}`, r.ikeSaId);
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

  /**
   * endpoint.initiate (a new IKE SA) with the addresses filled in: a DNS name in remote_addrs resolved through the
   * driver's resolver (strongSwan resolves when initiating), and, when the connection names no local address
   * (local_addrs unset or %any), the driver's routing-table source for the peer, as charon picks it, instead of an
   * unspecified address that would leave from whichever socket comes first (the loopback one: EINVAL).
   */
  private initiateFresh(connName: string, now: number, child: string | undefined): number {
    const conn = this.config.connections.find((c) => c.name === connName);
    const opts: { child?: string; local?: Address; remote?: Address } = child !== undefined ? { child } : {};
    if (conn) {
      let remote = conn.remoteAddrs.find(isConcreteAddress);
      const name = remote === undefined ? conn.remoteAddrs.find(isDnsName) : undefined;
      if (name !== undefined) {
        remote = this.resolveRemote(connName, name);
        opts.remote = { address: remote, port: conn.remotePort };
      }
      if (!conn.localAddrs.some(isConcreteAddress) && this.opts.net.sourceFor && remote !== undefined) {
        const source = this.opts.net.sourceFor(remote);
        if (source !== undefined) opts.local = { address: source, port: conn.localPort };
        else this.log('cfg', 1, `no source address found for ${remote}, leaving it to the socket layer`);
      }
    }
    return this.endpoint.initiate(connName, now, opts);
  }

  /**
   * The address of a remote_addrs name from the driver's resolver cache. Throws UnresolvedNameError with the
   * reason when there is none yet, so `up` says why and start_action = start retries at namesResolved.
   */
  private resolveRemote(connName: string, name: string): string {
    const r = this.opts.resolver;
    if (!r) throw new UnresolvedNameError(`connection '${connName}': remote_addrs name '${name}' cannot be resolved (no resolver)`);
    const address = r.lookup(name);
    if (address === undefined) {
      r.refresh?.(name);
      const why = r.failure?.(name);
      throw new UnresolvedNameError(`connection '${connName}': remote_addrs name '${name}' not resolved${why ? `: ${why}` : ' yet'}`);
    }
    // The next initiation (a retry, a restart) sees a fresh answer if the name moved meanwhile.
    r.refresh?.(name);
    this.log('cfg', 1, `'${connName}': remote_addrs ${name} resolved to ${address}`);
    return address;
  }

  /**
   * Where a restart of `connName` (keyingtries retry, dpd_action/close_action = restart, reauthentication) should
   * go: the current address of its remote_addrs name when it has one (re-resolved, as strongSwan does on each
   * attempt), else `previous`. For the IKE core's restarts (src/ike/restart.ts, which today reuses the old SA's
   * address): the hook it needs is a callback with this signature in its options. Asks the resolver for a fresh
   * answer, so the attempt after this one sees a moved name even if this one used the cached address.
   */
  remoteFor(connName: string, previous: Address): Address {
    const conn = this.config.connections.find((c) => c.name === connName);
    const name = conn && !conn.remoteAddrs.some(isConcreteAddress) ? conn.remoteAddrs.find(isDnsName) : undefined;
    const r = this.opts.resolver;
    if (!conn || name === undefined || !r) return previous;
    r.refresh?.(name);
    const address = r.lookup(name);
    if (address === undefined || address === previous.address) return previous;
    this.log('cfg', 1, `'${connName}': remote_addrs ${name} now resolves to ${address} (was ${previous.address})`);
    return { address, port: conn.remotePort };
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
    if (this.eventHead >= this.events.length) return undefined;
    const e = this.events[this.eventHead++];
    if (this.eventHead === this.events.length) this.events.length = this.eventHead = 0;
    return e;
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
    for (const [reqid, t] of [...this.traps]) if (restart.has(t.conn)) this.removeTrap(reqid, t);
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
    if (diff.pools.added.length + diff.pools.removed.length + diff.pools.changed.length > 0) this.applyPools(next.pools ?? [], diff.pools);
    this.log(
      'cfg',
      1,
      `reloaded: ${diff.added.length} added, ${diff.removed.length} removed, ${diff.changed.length} changed, ${diff.unchanged.length} unchanged connection(s)${diff.secretsChanged ? ', secrets changed' : ''}`,
    );
    this.flush(now);
  }

  /**
   * Pools added, removed or redefined by a reload: new ones serve the next request; a pool with addresses online
   * keeps its leases and is replaced or removed only when it has none (charon's vici_attribute.c refuses too).
   */
  private applyPools(pools: readonly AddressPoolConfig[], diff: ConfigDiff['pools']): void {
    const live = new Map(this.endpoint.pools());
    for (const name of [...diff.removed, ...diff.changed]) {
      const p = live.get(name);
      if (p && p.stats().online > 0) {
        this.log('cfg', 0, `pool ${name} has ${p.stats().online} online lease(s): kept as it was`);
        continue;
      }
      live.delete(name);
      if (diff.removed.includes(name)) this.log('cfg', 1, `removed pool ${name}`);
    }
    for (const cfg of pools)
      if ((diff.added.includes(cfg.name) || diff.changed.includes(cfg.name)) && !live.has(cfg.name)) {
        live.set(cfg.name, new AddressPool(cfg));
        this.log('cfg', 1, `${diff.added.includes(cfg.name) ? 'added' : 'replaced'} pool ${cfg.name} (${live.get(cfg.name)!.stats().size} addresses)`);
      }
    this.endpoint.setPools(live);
  }

  // ------------------------------------------------------------------ local addresses (issue 15)

  /**
   * The driver saw a local address go (RTM_DELADDR, or its link went down: `why`): the IKE SAs using it are
   * named in the log and in a 'local-address' event. Without MOBIKE they stay until DPD or the peer ends them, as
   * in strongSwan without MOBIKE; with it (the IKE core, RFC 4555) this is where an address update starts.
   */
  localAddressGone(address: string, now: number, why = 'address removed'): readonly number[] {
    const ids = this.endpoint.listSas().filter(({ sa }) => sa.local.address === address).map(({ sa }) => sa.id);
    const which = this.endpoint.listSas().filter(({ sa }) => ids.includes(sa.id)).map(({ sa }) => `${sa.name}[${sa.id}]`);
    this.log('knl', ids.length > 0 ? 1 : 2, `local address ${address} gone (${why})${ids.length > 0 ? `: used by IKE_SA ${which.join(', ')}` : ''}`);
    this.events.push({ type: 'local-address', address, present: false, why, ikeSaIds: ids });
    this.flush(now);
    return ids;
  }

  /** A local address appeared (RTM_NEWADDR, not tentative) or its link came up: reported as a 'local-address' event. */
  localAddressAdded(address: string, now: number, why = 'address added'): void {
    this.log('knl', 2, `local address ${address} present (${why})`);
    this.events.push({ type: 'local-address', address, present: true, why, ikeSaIds: [] });
    this.flush(now);
  }

  // ------------------------------------------------------------------ trap policies (start_action = trap)

  /** Trap policies installed: connection, child, reqid and the selectors of its config. */
  trapPolicies(): { conn: string; child: string; reqid: number; local: readonly TrafficSelector[]; remote: readonly TrafficSelector[] }[] {
    return [...this.traps].map(([reqid, t]) => ({ conn: t.conn, child: t.child, reqid, local: t.local, remote: t.remote }));
  }

  /** Packets waiting in the ACQUIRE queue of a trapped child. */
  queuedFor(conn: string, child: string): number {
    return this.trapQueue.get(`${conn}\0${child}`)?.length ?? 0;
  }

  /** A trap policy (start_action/dpd_action/close_action = trap, vici install): protect with no SA -> ACQUIRE -> initiate. */
  installTrap({ conn, child }: ChildRef): boolean {
    if ([...this.traps.values()].some((t) => t.conn === conn && t.child === child)) return true;
    const cfg = this.config.connections.find((x) => x.name === conn);
    const c = cfg?.children.find((x) => x.name === child);
    if (!c) return false;
    // 'dynamic' needs the SA's address; only fully configured selectors can be trapped before an SA exists.
    const local = c.localTs.filter((t): t is TrafficSelector => !('dynamic' in t));
    const remote = c.remoteTs.filter((t): t is TrafficSelector => !('dynamic' in t));
    if (local.length === 0 || remote.length === 0) {
      this.log('cfg', 1, `'${conn}' child '${child}': trap needs explicit local_ts and remote_ts, not trapped`);
      return false;
    }
    const reqid = this.reqids.acquire(ReqidAllocator.key(conn, child, local, remote));
    const policyId = this.engine.installPolicy({ local: local as EspSelector[], remote: remote as EspSelector[], reqid, priority: TRAP_POLICY_PRIORITY });
    this.traps.set(reqid, { conn, child, local, remote, policyId });
    // The peer's address keeps a selector that covers it out of the TUN routes; a remote_addrs name counts with
    // the address it resolves to (resolved before start by the driver).
    const remoteAddrs = cfg?.remoteAddrs ?? [];
    const named = remoteAddrs.find(isDnsName);
    const peer = remoteAddrs.find((a) => /^[0-9a-fA-F:.]+$/.test(a)) ?? (named !== undefined ? this.opts.resolver?.lookup(named) : undefined);
    this.opts.routes?.trapUp(`${conn}/${child}`, local, remote, peer);
    this.log('cfg', 1, `installed trap policy for '${conn}' child '${child}'`);
    return true;
  }

  /** vici uninstall: removes the trap policy of `child` (of `conn`, if given). False when there is none. */
  uninstallTrap(child: string, conn?: string): boolean {
    let found = false;
    for (const [reqid, t] of [...this.traps])
      if (t.child === child && (conn === undefined || t.conn === conn)) {
        this.removeTrap(reqid, t);
        found = true;
      }
    return found;
  }

  private removeTrap(reqid: number, t: TrapPolicy): void {
    this.engine.removePolicy(t.policyId);
    this.traps.delete(reqid);
    this.reqids.release(reqid);
    this.opts.routes?.trapDown(`${t.conn}/${t.child}`);
  }

  /**
   * ACQUIRE for a trap policy (RFC 4301 5.2's "no SA yet"): initiate the connection unless an IKE SA for it
   * exists already, and keep the packet in a bounded queue that is sent once the CHILD SA is up.
   */
  private acquire(dst: Uint8Array, now: number, reqid: number | undefined, packet: Uint8Array): void {
    const byReqid = reqid !== undefined ? this.traps.get(reqid) : undefined;
    for (const t of byReqid ? [byReqid] : this.traps.values()) {
      if (!byReqid && !t.remote.some((ts) => ts.startAddr.length === dst.length && compareAddr(dst, ts.startAddr) >= 0 && compareAddr(dst, ts.endAddr) <= 0)) continue;
      const key = `${t.conn}\0${t.child}`;
      const q = this.trapQueue.get(key) ?? [];
      if (q.length < TRAP_QUEUE_LIMIT) q.push(packet.slice());
      else {
        this.counters.trapQueueDropped++;
        this.trapLog.note(`full\0${key}`, now, (n) => this.log('knl', 1, `'${t.conn}' child '${t.child}': ${TRAP_QUEUE_LIMIT} packets already wait for its CHILD SA, dropping more${n ? ` (${n} more since the last line)` : ''}`));
      }
      this.trapQueue.set(key, q);
      // One ACQUIRE per child: later packets only queue while its CHILD SA is negotiated.
      const pending = this.negotiating.get(key);
      // (A map lookup, not listSas(): this runs for every packet queued meanwhile.)
      if (pending !== undefined && this.endpoint.ikeSa(pending) !== undefined) return;
      this.log('knl', 1, `acquire for '${t.conn}' child '${t.child}' (start_action = trap): initiating`);
      try {
        this.initiateWith(t.conn, now, t.child, 'trap');
      } catch (e) {
        this.negotiating.delete(key);
        this.unhandled(key, q.length, now, `cannot initiate '${t.conn}': ${e instanceof Error ? e.message : String(e)}`);
        this.trapQueue.delete(key);
      }
      return;
    }
    // A packet the engine held for a trap that is gone (uninstalled meanwhile), or for an SA policy whose SA went.
    this.unhandled('no-trap', 1, now, `no trap policy for a packet to ${dstText(dst)} any more`);
  }

  /** Packets of a trap that cannot be handled: counted, and logged once per kind (then rate limited). */
  private unhandled(kind: string, packets: number, now: number, why: string): void {
    this.counters.trapUnhandled += packets;
    this.trapLog.note(kind, now, (n) => this.log('knl', 1, `dropped ${packets} packet(s) that hit a trap: ${why}${n ? ` (${n} more such since the last line)` : ''}`));
  }

  /** The CHILD SA a trap waited for is up: send what queued meanwhile, in order. */
  private releaseTrapQueue(conn: string | undefined, child: string, now: number): void {
    if (conn === undefined) return;
    const key = `${conn}\0${child}`;
    const q = this.trapQueue.get(key);
    if (!q) return;
    this.trapQueue.delete(key);
    this.log('knl', 2, `sending ${q.length} packet(s) queued for '${conn}' child '${child}'`);
    this.encapsulateAndSend(q.map((p) => ({ buffer: p, offset: 0, length: p.length })), now);
  }

  /** The connection (or one child of it) failed: packets waiting for it are dropped, counted and logged. */
  private dropTrapQueue(conn: string, child?: string, why = 'its IKE_SA went down', now = 0): void {
    for (const [key, q] of [...this.trapQueue])
      if (child === undefined ? key.startsWith(`${conn}\0`) : key === `${conn}\0${child}`) {
        this.counters.trapQueueDropped += q.length;
        this.trapQueue.delete(key);
        this.negotiating.delete(key);
        this.unhandled(`failed\0${key}`, q.length, now, `'${conn}' child '${key.slice(conn.length + 1)}' not established (${why})`);
      }
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
      this.espBatch.push({ buffer: data, offset: 0, length: data.length });
      if (this.espBatch.length >= ESP_BATCH_MAX) this.processEsp(now);
      return true;
    }
    if (this.espBatch.length > 0) this.processEsp(now);
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
    const batch = this.espBatch.splice(0);
    if (batch.length === 0) return;
    this.guard('ESP decapsulate', () => {
      const r = this.engine.decapsulate(batch, now);
      const out: Uint8Array[] = [];
      const outSa: (EspSa | undefined)[] = [];
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
          outSa.push(sa);
        } else if (st === DecapStatus.Drop) {
          this.counters.espDrops++;
          this.log('esp', 3, `inbound ESP dropped: ${DROP_REASON_NAMES[r.reason[i]!] ?? r.reason[i]}`);
        }
      }
      if (out.length === 0) return;
      const tun = this.opts.tun;
      if (tun && !tun.closed) {
        const written = tun.writeBatch(out);
        this.counters.delivered += written;
        // A full TUN queue refuses the tail of a batch: those packets are counted as drops on their SAs.
        for (let i = written; i < out.length; i++) this.engine.noteDrops(DropReason.TunFull, outSa[i], 1, now);
      } else this.counters.undeliverable += out.length;
    });
    this.flush(now);
  }

  /**
   * A batch read from the TUN (views valid until this returns): MSS clamp, then ESP sealed in place in the device's
   * headroom and tailroom, and the datagrams handed to the driver's batch.
   */
  tunPackets(batch: readonly Uint8Array[], now: number): void {
    for (const p of batch) this.clampMss(p);
    const head = this.opts.tun?.headroom ?? 0;
    const tail = this.opts.tun?.tailroom ?? 0;
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
    const net = this.opts.net;
    for (let i = 0; i < r.count; i++) {
      const st = r.status[i];
      if (st === EncapStatus.Send) {
        const sa = r.sa[i]!;
        if (sa.local && sa.remote) {
          this.counters.espOut++;
          net.sendEsp(r.buffer[i]!, r.offset[i]!, r.length[i]!, sa.local, sa.remote);
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
    net.flushEsp();
  }

  // ------------------------------------------------------------------ data-plane decisions

  /**
   * Lowers the MSS option of a TCP SYN/SYN-ACK in place (RFC 9293 3.7.1, checksum per RFC 1624), so TCP across
   * the tunnel never builds segments ESP + UDP would push past the path MTU. Only TCP over IPv4/IPv6 is looked at.
   */
  private clampMss(p: Uint8Array): void {
    const mtu = this.mssMtu === 'tun' ? this.opts.tun?.mtu : this.mssMtu;
    if (mtu === undefined || p.length < 40) return;
    const v = p[0]! >>> 4;
    if (v === 4 ? p[9] !== 6 : v === 6 ? p[6] !== 6 : true) return;
    if (clampTcpMss(p, mssForMtu(mtu, v === 4 ? 4 : 6)) === 'clamped') this.counters.mssClamped++;
  }

  /**
   * Issue 7: "the MTU follows the ESP + UDP overhead". Unless fixed, the TUN's MTU is lowered so an inner packet
   * of that size still fits a 1500-byte path once encapsulated with this CHILD SA's suite and outer family
   * (RFC 4303 section 2 + RFC 3948 section 2.1 overhead, src/net/esp-mtu.ts). It is never raised again.
   */
  private fitTunMtu(c: ChildSaInfo): void {
    const tun = this.opts.tun;
    const sa = this.engine.getSa(c.spiOut, 'out');
    if (!tun || !sa || this.opts.fixedMtu) return;
    const t = sa.transform;
    const v = c.remote.address.includes(':') ? 6 : 4;
    const mtu = innerMtuFor(PATH_MTU, { outerVersion: v, ivBytes: t.ivBytes, icvBytes: t.icvBytes, blockBytes: t.padAlign });
    if (mtu >= tun.mtu || mtu < 576) return;
    const from = tun.mtu;
    tun.setMtu(mtu).then(
      () => this.log('knl', 1, `MTU of ${tun.name} lowered from ${from} to ${mtu} for ${c.suite} over IPv${v}`),
      (err: unknown) => this.log('knl', 0, `cannot set the MTU of ${tun.name} to ${mtu}: ${err instanceof Error ? err.message : String(err)}`),
    );
  }

  /** Tells IKE the peer is alive (DPD, RFC 7296 2.4) at most once a second per SA, not per packet. */
  private noteActivity(spiIn: number, now: number): void {
    const last = this.lastActivity.get(spiIn);
    if (last !== undefined && now - last < ACTIVITY_INTERVAL_MS) return;
    this.lastActivity.set(spiIn, now);
    this.guard('ESP activity', () => this.endpoint.espActivity(spiIn, now));
  }

  /** Data-plane facts about a CHILD SA for status displays: install time, reqid (vici's, as charon's) and ESP counters. */
  childExtras(c: ChildSaInfo): {
    installedAt?: number;
    reqId?: number;
    bytesIn?: number;
    packetsIn?: number;
    bytesOut?: number;
    packetsOut?: number;
    /** Non-zero drop counters of the inbound and outbound ESP SA, by reason name (issue 15). */
    dropsIn?: Record<string, number>;
    dropsOut?: Record<string, number>;
  } {
    const i = this.engine.getSa(c.spiIn, 'in');
    const o = this.engine.getSa(c.spiOut, 'out');
    const at = this.installedAt.get(c.id);
    return {
      ...(at !== undefined ? { installedAt: at } : {}),
      ...(o ? { reqId: o.reqid } : {}),
      ...(i ? { bytesIn: i.bytes, packetsIn: i.packets, dropsIn: dropCountsByName(i.drops) } : {}),
      ...(o ? { bytesOut: o.bytes, packetsOut: o.packets, dropsOut: dropCountsByName(o.drops) } : {}),
    };
  }

  /** Counters of the core and the engine, with non-zero drop reasons as `drop-<reason>`. */
  allCounters(): Record<string, number> {
    const out: Record<string, number> = { ...this.counters, ...this.engine.stats };
    this.engine.drops.forEach((n, i) => {
      if (n > 0 && i > 0) out[`drop-${DROP_REASON_NAMES[i] ?? i}`] = n;
    });
    return out;
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
      for (let e = this.engine.pollEvent(); e; e = this.engine.pollEvent()) {
        progressed = true;
        this.log('esp', e.type === 'removed' ? 2 : 1, `ESP SA ${spiText(e.spi)} (${e.direction}): ${e.type}${'cause' in e ? ` (${e.cause})` : ''}`);
        if (e.type === 'soft-expire' || e.type === 'hard-expire') {
          // Byte/packet lifetimes live in the data plane; IKE rekeys (soft) or deletes (hard) the CHILD SA.
          const child = [...this.installer.installed.values()].find((c) => c.info.spiIn === e.spi || c.info.spiOut === e.spi);
          const kind = e.type === 'soft-expire' ? 'soft' : 'hard';
          if (child) this.guard('ESP expiry', () => this.endpoint.espExpired(child.info.spiIn, kind, now));
        }
      }
      if (!progressed && this.settleDue) {
        // Children waiting for an IKE SA of their connection: CREATE_CHILD_SA now that it is up, or give up. Only
        // after an IKE SA came up, went or was rekeyed (settle scans the SAs; not once per packet).
        this.settleDue = false;
        const before = this.starter.waitingCount;
        for (const g of this.starter.settle(now)) this.dropTrapQueue(g.conn, g.child, 'no IKE_SA to create it on', now);
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
        if (e.reason !== 'rekeyed') {
          for (const [key, id] of [...this.negotiating]) if (id === e.sa.id) this.negotiating.delete(key);
          // Children still waiting move to another IKE SA of the connection (a keyingtries retry), if there is one.
          if (!this.endpoint.listSas().some(({ sa }) => sa.name === e.sa.name && sa.id !== e.sa.id)) this.dropTrapQueue(e.sa.name, undefined, e.reason, now);
        } else for (const [key, id] of [...this.negotiating]) if (id === e.sa.id) this.negotiating.delete(key);
        return true;
      case 'auth-failed':
        this.log('dmn', 2, `event auth-failed IKE SA ${e.ikeSaId}: ${e.message}`);
        return true;
      case 'child-failed':
        this.log('dmn', 2, `event child-failed ${e.name} (${e.notify}): ${e.message}`);
        {
          const conn = this.nameOfIke(e.ikeSaId);
          if (conn !== undefined) {
            this.negotiating.delete(`${conn}\0${e.name}`);
            this.dropTrapQueue(conn, e.name, `${e.notify}${e.message ? `: ${e.message}` : ''}`, now);
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
        this.fitTunMtu(e.child);
        this.opts.routes?.childUp(e.child);
        this.negotiating.delete(`${this.nameOfIke(e.child.ikeSaId) ?? ''}\0${e.child.name}`);
        this.releaseTrapQueue(this.nameOfIke(e.child.ikeSaId), e.child.name, now);
        return true;
      case 'child-remove':
        if (this.installer.installed.has(e.child.id)) {
          this.installer.handle(e, now);
          this.lastActivity.delete(e.child.spiIn);
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
        // The peer moved (NAT rebinding, RFC 7296 2.23): ESP follows IKE to the new address and port.
        this.installer.handle(e, now);
        this.log('esp', 1, `IKE_SA ${e.sa.name}[${e.sa.id}] peer now at ${fmtAddr(e.sa.remote)}: ${e.children.length} outbound ESP SA(s) follow`);
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

/** An initiation that needs a remote_addrs name the resolver has no address for (yet). */
export class UnresolvedNameError extends Error {
  override readonly name = 'UnresolvedNameError';
}

function dstText(dst: Uint8Array): string {
  if (dst.length === 4) return dst.join('.');
  const parts: string[] = [];
  for (let i = 0; i + 1 < dst.length; i += 2) parts.push(((dst[i]! << 8) | dst[i + 1]!).toString(16));
  return parts.join(':');
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

export function fmtAddr(a: Address): string {
  return a.address.includes(':') ? `[${a.address}]:${a.port}` : `${a.address}[${a.port}]`;
}

/** Destination address of an IPv4 or IPv6 packet (a view), or undefined if it is neither. */
function destinationOf(p: Uint8Array): Uint8Array | undefined {
  const v = p[0]! >>> 4;
  if (v === 4 && p.length >= 20) return p.subarray(16, 20);
  if (v === 6 && p.length >= 40) return p.subarray(24, 40);
  return undefined;
}
