/**
 * IkeEndpoint: the sans-IO IKEv2 core (../shared/DESIGN.md section 1).
 *
 * The driver feeds datagrams (`receive`) and time (`handleTimeout`), issues commands (`initiate`, `terminate`),
 * then drains `pollTransmit()` and `pollEvent()` and re-arms one timer at `nextTimeout()`. Nothing here reads a
 * clock, opens a socket or draws randomness except from the injected RandomSource.
 *
 * Message handling follows RFC 7296 section 2: window size 1 in both directions (2.3), requests retransmitted by
 * the initiator of each exchange only (2.1), the last response cached and resent for a retransmitted request,
 * anything that does not decrypt and verify dropped silently (2.21.2).
 */
import type { CryptoBackend } from '../crypto/types.js';
import type { RandomSource } from '../crypto/random.js';
import { ExchangeType, type IkeHeader, type Payload } from './codec/types.js';
import { DEFAULT_SETTINGS, type Address, type ChildConfig, type Credentials, type EndpointSettings, type IkeConnectionConfig } from './config.js';
import type { ChildSaInfo, IkeDownReason, IkeEvent, IkeSaInfo, LogGroup, Transmit } from './events.js';
import { IkeSa, releaseSaKeys, spiHex, type ChildSa } from './ike-sa.js';
import { decodeIkeHeader, } from './wire.js';
import { abortFollowups } from './tasks/followup-ke.js';
import { IkeInitTask, respondIkeSaInit } from './tasks/ike-init.js';
import { queueTask, resumeTask, runQueue, type TaskHost } from './tasks/manager.js';
import { localEapProvider, type EapProvider } from './eap-provider.js';
import { DeferredWork } from './deferred.js';
import type { Task } from './tasks/task.js';
import { runTimers, saDeadline } from './lifecycle.js';
import { AddressPool, type AddressPoolConfig } from './pool.js';
import type { CookieSecret, EndpointContext, Settled } from './context.js';
import { exchangeName, fmt } from './format.js';
import { countKeyExchanges, InitAdmission } from './limits.js';
import { admitInitRequest } from './admission.js';
import { initKey, peerKey, SaTable } from './sa-table.js';
import type { Identity } from './identity.js';
import { TimerHeap } from './timer-heap.js';
import { ChildSpiAllocator, newIkeSpi, random01 } from './spi.js';
import { checkLiveness, createChild, espLifetimeReached, initiateTarget, rekeyChild, rekeyIke, terminateChild, terminateIke } from './commands.js';
import { answerMajorVersion, retransmitDue, sendRequest, sendResponse, type OutboundHost } from './outbound.js';
import { handleRequest, handleResponse, type DispatchHost } from './dispatch.js';
import { afterDown, reauthenticate, uniqueConfigs, type StartIke } from './restart.js';
import { InboundDecoder } from './inbound.js';
import { mobikeActive, MobikeAddressesTask, mobikeInitiator, mobikeStale, MobikeUpdateTask, peerAdditionalAddresses, setLocalAddresses } from './tasks/ike-mobike.js';
import { IllegalTransitionError, STRICT_TRANSITIONS_DEFAULT, transition } from './sa-state.js';
import { compactSa } from './sa-compact.js';

export type { CookieSecret, EndpointContext } from './context.js';
export { describePayloads, exchangeName, fmt } from './format.js';


export interface IkeEndpointOptions {
  readonly connections: readonly IkeConnectionConfig[];
  readonly credentials: Credentials;
  readonly crypto: CryptoBackend;
  readonly random: RandomSource;
  readonly settings?: Partial<EndpointSettings>;
  /** Virtual IP pools by name (swanctl `pools`), referenced by connections' `pools`. */
  readonly pools?: readonly AddressPoolConfig[];
  /** EAP sessions for IKE_AUTH (RFC 7296 2.16); default: the built-in methods without any user secrets. */
  readonly eap?: EapProvider;
  /**
   * The peer address for an IKE SA the core starts on its own (restart.ts): a driver with DNS names in
   * remote_addrs resolves them again here (strongSwan re-resolves on each attempt). Default: `previous`.
   */
  readonly resolveRemote?: (conn: IkeConnectionConfig, previous: Address) => Address | PendingRemote;
  /**
   * Called when asynchronous work (an EAP method, a RADIUS answer) completed: the driver should call
   * handleTimeout(now) soon (nextTimeout() also says so), then drain the outputs as after any call.
   */
  readonly wake?: () => void;
}

/**
 * resolveRemote's answer when a fresh resolution is under way (a DNS name re-resolved on a retry or restart): the
 * new IKE SA waits for `fresh` and goes where it says, so the attempt that asked for the answer uses it (an
 * address that is cached may be the one that stopped answering). `meanwhile`: the cached address, the SA's until then.
 */
export interface PendingRemote {
  readonly meanwhile: Address;
  readonly fresh: Promise<Address>;
}

export class IkeEndpoint implements EndpointContext {
  readonly crypto: CryptoBackend;
  readonly random: RandomSource;
  settings: EndpointSettings;
  readonly credentials: Credentials;
  private conns: readonly IkeConnectionConfig[];
  /** IKE SAs by our SPI, id and (SPIi, remote), with half-open counts kept as they change. */
  private readonly sas = new SaTable();
  /** One deadline per SA (the earliest of its timers), so no timer work scans all SAs. */
  private readonly timers = new TimerHeap<IkeSa>();
  /** SAs an operation touched: their indexes and deadline are brought up to date before returning (settle). */
  private readonly dirty = new Set<IkeSa>();
  private readonly admission: InitAdmission;
  /** Decoding, SK opening and RFC 7383 reassembly (with its bounds across all SAs) of inbound messages. */
  private readonly inbound = new InboundDecoder(this);
  /** Key exchanges started (createKeyExchange), to charge IKE_SA_INIT requests that fail after one. */
  private keCount = 0;
  private readonly txQueue: Transmit[] = [];
  private readonly eventQueue: IkeEvent[] = [];
  private readonly childSpis: ChildSpiAllocator;
  private saCounter = 0;
  private poolMap = new Map<string, AddressPool>();
  /** The latest time the driver gave us (for actions triggered inside destroySa). */
  private lastNow = 0;
  readonly eap: EapProvider;
  private readonly resolveRemote: IkeEndpointOptions['resolveRemote'];
  /** Continuations of settled asynchronous work (defer), run at the next handleTimeout. */
  private readonly deferred: DeferredWork;
  /** Addresses remoteFor returned while a fresh resolution runs: startIke waits for it (PendingRemote). */
  private readonly freshRemotes = new WeakMap<Address, Promise<Address>>();
  private childCounter = 0;
  private faults = 0;
  onSettled: ((sa: IkeSa) => void) | undefined; // HA replication (src/ha): each SA changed or destroyed, once settled

  constructor(opts: IkeEndpointOptions) {
    this.crypto = countKeyExchanges(opts.crypto, () => this.keCount++);
    this.random = opts.random;
    this.childSpis = new ChildSpiAllocator(opts.random);
    this.admission = new InitAdmission(opts.crypto, opts.random);
    this.credentials = opts.credentials;
    this.settings = { ...DEFAULT_SETTINGS, ...opts.settings };
    this.conns = opts.connections;
    for (const p of opts.pools ?? []) this.poolMap.set(p.name, new AddressPool(p));
    this.eap = opts.eap ?? localEapProvider({ random: opts.random });
    this.deferred = new DeferredWork(opts.wake);
    this.resolveRemote = opts.resolveRemote;
  }

  pools(): ReadonlyMap<string, AddressPool> {
    return this.poolMap;
  }

  /**
   * Replaces the pool set (reload, vici load-pool/unload-pool). Pools are looked up by name per request, so a
   * pool kept by identity keeps its leases; the caller decides which ones stay (see src/gateway/gateway.ts).
   */
  setPools(pools: ReadonlyMap<string, AddressPool>): void {
    this.poolMap = new Map(pools);
  }

  // ------------------------------------------------------------------ driver interface

  /**
   * A UDP datagram carrying IKE arrived. On the NAT-T port the driver strips the 4-byte non-ESP marker (RFC 3948
   * 2.2) and says so with `marker`; left out, a datagram to local port 4500 is taken to have had one.
   */
  receive(data: Uint8Array, local: Address, remote: Address, now: number, opts: { marker?: boolean } = {}): void {
    try {
      this.receiveDatagram(data, local, remote, now, opts.marker ?? local.port === 4500);
    } finally {
      this.settle();
    }
  }

  private receiveDatagram(data: Uint8Array, local: Address, remote: Address, now: number, marker: boolean): void {
    this.lastNow = Math.max(this.lastNow, now);
    const h = decodeIkeHeader(data);
    if (!h.ok) {
      this.log('net', 2, undefined, `dropping invalid IKE datagram from ${fmt(remote)}: ${h.error.message}`);
      answerMajorVersion(this, data, h.error, local, remote, marker);
      return;
    }
    const header = h.value;
    if (header.majorVersion !== 2) {
      this.log('net', 1, undefined, `dropping IKE message with major version ${header.majorVersion} from ${fmt(remote)}`);
      return;
    }
    if (header.exchangeType === ExchangeType.IKE_SA_INIT && !header.flags.response) {
      this.receiveInitRequest(data, header, local, remote, now, marker);
      return;
    }
    // The I flag says whether the sender is the original initiator; our SPI is the other one (RFC 7296 3.1).
    const ourSpi = header.flags.initiator ? header.spiR : header.spiI;
    const sa = this.sas.bySpiHex(spiHex(ourSpi));
    if (!sa) {
      // RFC 7296 2.21.4: a message outside any IKE SA we know. A response MUST NOT be answered; for a request an
      // unprotected INVALID_IKE_SPI is allowed (MAY), but the peer MUST NOT change any SA because of it, so it
      // only helps auditing, while answering unauthenticated datagrams makes us a reflector. Decision: never
      // answer, log at net level 2 (strongSwan does not answer either). Hence no rate limit is needed.
      this.log('net', 2, undefined, `no IKE SA for SPI ${spiHex(ourSpi)} from ${fmt(remote)}, dropped`);
      return;
    }
    const what = `${exchangeName(header.exchangeType)} ${header.flags.response ? 'response' : 'request'} ${header.messageId}`;
    this.dirty.add(sa);
    this.guard(sa, what, () => {
      if (header.flags.response) handleResponse(this.dispatch, sa, data, header, local, remote, now);
      else handleRequest(this.dispatch, sa, data, header, local, remote, now, marker);
    });
  }

  /**
   * A new IKE_SA_INIT request (not a retransmission of one we answered): admission first, from the header and the
   * first payload alone (cookies, block_threshold, init_limit_half_open, ikesa_limit: src/ike/limits.ts), so no
   * request past a limit costs a parse or a key exchange. A request admitted that then fails after its key
   * exchange (malformed, or a bad KE value) leaves no SA behind; it is charged as half-open for half_open_timeout
   * instead, so such requests still count towards the cookie threshold and the limits.
   */
  private receiveInitRequest(data: Uint8Array, header: IkeHeader, local: Address, remote: Address, now: number, marker: boolean): void {
    this.sas.expireCharges(now);
    const key = initKey(header.spiI, remote);
    // Only a request that could create an SA is admitted or charged; respondIkeSaInit drops the others at once.
    if (!admitInitRequest(this, this.admission, this.sas, { data, header, local, remote, marker, key }, now)) return;
    const before = this.keCount;
    this.guard(undefined, 'IKE_SA_INIT request', () => respondIkeSaInit(this, data, header, local, remote, now, marker), () => this.sas.byInitKey(key));
    if (this.keCount !== before && !this.sas.byInitKey(key)) this.sas.charge(key, remote.address, now + this.settings.halfOpenTimeoutMs);
  }

  handleTimeout(now: number): void {
    try {
      this.runDue(now);
    } finally {
      this.settle();
    }
  }

  private runDue(now: number): void {
    this.lastNow = Math.max(this.lastNow, now);
    this.sas.expireCharges(now);
    this.settle();
    for (const r of this.deferred.take()) {
      if (!this.sas.has(r.sa) || r.sa.state === 'DESTROYING') continue;
      this.dirty.add(r.sa);
      try {
        r.run(now);
        this.kick(r.sa, now);
      } catch (e) {
        this.fault(r.sa, 'deferred work', e);
      }
    }
    for (const sa of this.timers.popDue(now)) {
      if (!this.sas.has(sa)) continue;
      this.dirty.add(sa);
      try {
        this.inbound.expire(sa, now);
        retransmitDue(this.outbound, sa, now);
        if (sa.halfOpenDeadline !== undefined && sa.halfOpenDeadline <= now && sa.state === 'CONNECTING') {
          this.destroySa(sa, 'half-open-timeout', `half-open IKE SA with ${fmt(sa.remote)} timed out`);
          continue;
        }
        if (sa.state !== 'DESTROYING') runTimers(this, sa, now);
        this.kick(sa, now);
      } catch (e) {
        this.fault(sa, 'timers', e);
      }
    }
  }

  nextTimeout(): number | undefined {
    this.settle();
    if (this.deferred.pending) return this.lastNow;
    const a = this.timers.peek();
    const b = this.sas.nextChargeExpiry();
    return a === undefined ? b : b === undefined ? a : Math.min(a, b);
  }

  pollTransmit(): Transmit | undefined {
    return this.txQueue.shift();
  }

  pollEvent(): IkeEvent | undefined {
    return this.eventQueue.shift();
  }

  /** Brings indexes, half-open counts and deadlines of the SAs touched since the last call up to date. */
  private settle(): void {
    for (const sa of this.dirty) {
      if (this.sas.has(sa) && sa.state !== 'DESTROYING') {
        this.sas.sync(sa);
        this.timers.set(sa, saDeadline(this, sa));
      } else {
        this.timers.set(sa, undefined);
      }
      this.onSettled?.(sa);
      compactSa(sa);
    }
    this.dirty.clear();
  }

  // ------------------------------------------------------------------ commands

  /** Starts an IKE SA for `connName` (and its first CHILD SA, `child` or the first configured). Returns the SA id. */
  initiate(connName: string, now: number, opts: { child?: string; local?: Address; remote?: Address } = {}): number {
    const conn = this.conns.find((c) => c.name === connName);
    if (!conn) throw new Error(`no connection named '${connName}'`);
    const { child, local, remote } = initiateTarget(conn, opts);
    return this.settled(() => this.startIke(conn, child, now, { local, remote }).id);
  }

  /** What dispatch.ts needs beyond EndpointContext. */
  /** What the task manager needs: a task's request sent on the SA (numbered, encrypted, retransmitted). */
  private readonly tasks: TaskHost = {
    send: (sa, task, payloads, now) => {
      this.dirty.add(sa);
      sendRequest(this.outbound, sa, task, payloads, now);
    },
  };

  private readonly dispatch: DispatchHost = { ctx: this, tasks: this.tasks, decode: (sa, data, header) => this.inbound.decode(sa, data, header, this.lastNow), kick: (sa, now) => this.kick(sa, now), followPeer: (sa, remote) => this.followPeer(sa, remote), transmit: (sa, data) => this.transmit(sa, data), replyVia: (sa, path) => {
      this.replyPath = path ? { sa, ...path } : undefined;
    } };
  /** dispatch.ts replyVia: where messages of one SA go for the moment (MOBIKE, RFC 4555 3.10). */
  private replyPath: { sa: IkeSa; local: Address; remote: Address } | undefined;

  /** What outbound.ts needs beyond EndpointContext. */
  private readonly outbound: OutboundHost = { ctx: this, transmit: (sa, data) => this.transmit(sa, data), random01: () => random01(this.random) };

  /** startIke for restart.ts (keyingtries, dpd_action/close_action, reauthentication). */
  private readonly starter: StartIke = (conn, child, now, at) => this.startIke(conn, child, now, at);

  private startIke(conn: IkeConnectionConfig, child: ChildConfig | undefined, now: number, at: { local: Address; remote: Address }): IkeSa {
    const sa = this.newSa(true, this.newIkeSpi(), at.local, at.remote);
    sa.conn = conn;
    sa.plannedChild = child;
    this.registerSa(sa);
    const fresh = this.freshRemotes.get(at.remote);
    if (!fresh) {
      this.queueTask(sa, new IkeInitTask(this, sa, child), now);
      return sa;
    }
    // A DNS name being re-resolved (remoteFor): IKE_SA_INIT waits for the answer, so this attempt already goes to
    // a peer that moved (strongSwan resolves before each attempt too). A failed resolution keeps `meanwhile`.
    this.freshRemotes.delete(at.remote);
    this.defer(sa, fresh, (outcome, t) => {
      if (sa.state === 'DESTROYING') return;
      if (outcome.ok && (outcome.value.address !== sa.remote.address || outcome.value.port !== sa.remote.port)) {
        this.log('ike', 1, sa, `peer address resolved again: ${fmt(outcome.value)} (was ${fmt(sa.remote)})`);
        sa.remote = outcome.value;
      }
      this.queueTask(sa, new IkeInitTask(this, sa, child), t);
    });
    return sa;
  }

  /** Deletes an IKE SA (and with it its CHILD SAs) with an INFORMATIONAL Delete (RFC 7296 1.4.1). */
  terminateIke(id: number, now: number): boolean {
    return this.command(this.findById(id), (sa) => terminateIke(this, sa, now));
  }

  /** Deletes one CHILD SA by its unique id. */
  terminateChild(childId: number, now: number): boolean {
    return this.command(this.sas.childById(childId), (f) => terminateChild(this, f.sa, f.child, now));
  }

  /** Creates another CHILD SA of the IKE SA's connection with CREATE_CHILD_SA (RFC 7296 1.3.1). */
  createChild(ikeSaId: number, childName: string, now: number): boolean {
    return this.command(this.findById(ikeSaId), (sa) => createChild(this, sa, childName, now));
  }

  /** Rekeys a CHILD SA (by unique id) now. */
  rekeyChild(childId: number, now: number): boolean {
    return this.command(this.sas.childById(childId), (f) => rekeyChild(this, f.sa, f.child, now));
  }

  /** Rekeys an IKE SA now (RFC 7296 1.3.2), or reauthenticates it with `reauth`. */
  rekeyIke(id: number, now: number, opts: { reauth?: boolean } = {}): boolean {
    return this.command(this.findById(id), (sa) => rekeyIke(this, sa, now, opts.reauth === true));
  }

  /**
   * The ESP engine reports a byte/packet lifetime of the CHILD SA with inbound SPI `spiIn`: soft starts a rekey,
   * hard deletes it (strongSwan: rekey_bytes/packets and life_bytes/packets).
   */
  espExpired(spiIn: number, kind: 'soft' | 'hard', now: number): void {
    const f = this.sas.childBySpi(spiIn, true);
    if (!f || !espLifetimeReached(f.child, kind, now)) return;
    this.dirty.add(f.sa);
    this.handleTimeout(now);
  }

  /** The data plane saw authenticated ESP from the peer of this CHILD SA: the peer is alive (DPD). */
  espActivity(spiIn: number, now: number): void {
    const f = this.sas.childBySpi(spiIn);
    if (!f) return;
    // Only moves the DPD deadline later: the armed (earlier) deadline just wakes us up to find nothing due.
    f.sa.lastInbound = Math.max(f.sa.lastInbound, now);
  }

  /**
   * MOBIKE (RFC 4555 3.5, tasks/ike-mobike.ts): IKE SA `id` moves to local address `local` (same port), and to the
   * peer's address `remote` when given, telling the responder with UPDATE_SA_ADDRESSES. False when there is no such
   * SA or MOBIKE was not negotiated on it.
   */
  mobikeUpdate(id: number, local: string, now: number, remote?: string): boolean {
    return this.command(this.findById(id), (sa) => {
      // RFC 4555 1.1/3.5: the MOBIKE initiator (who started the first IKE SA, whoever rekeyed it since) moves it.
      if (!mobikeInitiator(sa) || !mobikeActive(sa)) return false;
      // `remote`: one of the peer's announced addresses when ours can no longer reach the one in use (3.5).
      const to = remote !== undefined && remote !== sa.remote.address ? { address: remote, port: sa.remote.port } : undefined;
      this.queueTask(sa, new MobikeUpdateTask(this, sa, { address: local, port: sa.local.port }, to), now);
      return true;
    });
  }

  /** The peer's addresses besides the one IKE SA `id` uses (its ADDITIONAL_IP*_ADDRESS list, RFC 4555 3.4/3.6). */
  peerAdditionalAddresses(id: number): readonly string[] {
    const sa = this.findById(id);
    return sa ? peerAdditionalAddresses(sa).filter((a) => a !== sa.remote.address) : [];
  }

  /**
   * Our address `local` of IKE SA `id` is gone and MOBIKE was not negotiated: reauthenticate from `local` (as
   * strongSwan does on a roam without MOBIKE; make-before-break per settings). False when there is no such SA, we
   * did not initiate it, or it is not established.
   */
  reauthenticateFrom(id: number, local: string, now: number): boolean {
    return this.command(this.findById(id), (sa) => {
      if (!sa.initiator || sa.state !== 'ESTABLISHED' || mobikeActive(sa)) return false;
      this.log('ike', 1, sa, `local address ${sa.local.address} gone, no MOBIKE: reauthenticating from ${local}`);
      sa.local = { address: local, port: sa.local.port };
      reauthenticate(this, sa, now, this.starter);
      return true;
    });
  }

  /**
   * Our addresses (the driver's view of the host), announced to MOBIKE peers as ADDITIONAL_IP4/6_ADDRESS besides the
   * one an SA uses (RFC 4555 3.4), so they can try them when that one fails. With `now`, a changed list is sent
   * at once to the peers of established MOBIKE SAs (3.6); without it, it goes with the next IKE_AUTH or update.
   */
  setLocalAddresses(addresses: readonly string[], now?: number): void {
    if (!setLocalAddresses(this, addresses) || now === undefined) return;
    // RFC 4555 3.6: the list changed: every MOBIKE SA tells its peer, unless an address update (which carries the
    // list) is already queued or in flight on it, or it waits for an address of its own (mobikeStale).
    for (const sa of this.sas.values()) {
      if (sa.state !== 'ESTABLISHED' || !mobikeActive(sa) || mobikeStale(sa)) continue;
      if (sa.pending?.task.kind === 'IKE_MOBIKE' || sa.queue.some((t) => t.kind === 'IKE_MOBIKE')) continue;
      this.queueTask(sa, new MobikeAddressesTask(this, sa), now);
    }
  }

  /** Sends an empty INFORMATIONAL (liveness check, RFC 7296 2.4). */
  checkLiveness(id: number, now: number): boolean {
    return this.command(this.findById(id), (sa) => checkLiveness(this, sa, now));
  }

  /**
   * Replaces settings (reload of strongswan.conf's charon.* knobs). Deadlines already armed keep their time; the
   * new values apply from the next retransmission, keepalive or threshold check on.
   */
  updateSettings(s: Partial<EndpointSettings>): void {
    this.settings = { ...this.settings, ...s };
  }

  /** Replaces the connection set (reload). SAs keep the config object they were created with. */
  setConnections(conns: readonly IkeConnectionConfig[]): void {
    this.conns = conns;
  }

  listSas(): { sa: IkeSaInfo; children: ChildSaInfo[] }[] {
    return [...this.sas.values()].map((sa) => ({ sa: sa.info(), children: sa.children.map((c) => sa.childInfo(c)) }));
  }

  /** Exceptions caught by the safety net in receive/handleTimeout: each one is a bug (test/fuzz asserts 0). */
  get internalErrors(): number {
    return this.faults;
  }

  /**
   * A state change missing from the state table (src/ike/sa-state.ts) is a bug: under test it throws; in
   * production it is logged at level 1 and counted in internalErrors, and the change is applied.
   */
  illegalTransition(e: IllegalTransitionError): void {
    if (this.strictTransitions) throw e;
    this.faults++;
    this.log('ike', 1, this.findById(e.saId), `internal error: ${e.message}`);
  }

  private get strictTransitions(): boolean {
    return this.settings.strictTransitions ?? STRICT_TRANSITIONS_DEFAULT;
  }

  /** The live IKE SA object with this id, for inspection by tools and tests (do not mutate). */
  ikeSa(id: number): IkeSa | undefined {
    return this.findById(id);
  }

  // ------------------------------------------------------------------ EndpointContext

  connections(): readonly IkeConnectionConfig[] {
    return this.conns;
  }

  emit(e: IkeEvent): void {
    this.eventQueue.push(e);
  }

  log(group: LogGroup, level: number, sa: IkeSa | undefined, message: string): void {
    // Exchanges change SAs directly and log as they do: a cheap way to be sure such an SA gets settled.
    if (sa) this.dirty.add(sa);
    const prefix = sa ? `[${sa.name}|${sa.id}] ` : '';
    this.eventQueue.push({ type: 'log', group, level, ...(sa ? { ikeSaId: sa.id } : {}), message: prefix + message });
  }

  remoteFor(conn: IkeConnectionConfig, previous: Address): Address {
    const r = this.resolveRemote?.(conn, previous);
    if (r === undefined || !('fresh' in r)) return r ?? previous;
    // restart.ts hands this object to startIke (now or, break-before-make, after the Delete): it waits for `fresh`.
    this.freshRemotes.set(r.meanwhile, r.fresh);
    return r.meanwhile;
  }

  resumeTask(sa: IkeSa, now: number): void {
    this.dirty.add(sa);
    resumeTask(this.tasks, sa, now);
  }

  defer<T>(sa: IkeSa, work: Promise<T>, then: (outcome: Settled<T>, now: number) => void): void {
    this.deferred.add(sa, work, then);
  }

  queueTask(sa: IkeSa, task: Task, now: number, opts?: { first?: boolean }): void {
    this.dirty.add(sa);
    queueTask(sa, task, opts);
    this.kick(sa, now);
  }

  sendResponse(sa: IkeSa, exchangeType: number, messageId: number, payloads: readonly Payload[]): void {
    this.dirty.add(sa);
    sendResponse(this.outbound, sa, exchangeType, messageId, payloads);
  }

  sendRaw(marker: boolean, data: Uint8Array, local: Address, remote: Address): void {
    this.txQueue.push({ data, local, remote, nonEspMarker: marker });
  }

  registerSa(sa: IkeSa): void {
    this.sas.add(sa);
    this.dirty.add(sa);
  }

  destroySa(sa: IkeSa, reason: IkeDownReason, message: string): void {
    if (sa.state === 'DESTROYING') return;
    const configs = uniqueConfigs(sa.children.map((c) => c.config));
    const conn = sa.conn;
    for (const c of [...sa.children]) this.removeChild(sa, c, reason === 'deleted-by-peer' ? 'IKE SA deleted by peer' : `IKE SA closed: ${reason}`);
    const wasUp = sa.state === 'ESTABLISHED' || sa.state === 'REKEYING' || sa.state === 'DELETING';
    transition(this, sa, 'DESTROYING', `${reason}: ${message}`);
    sa.pending = undefined;
    sa.queue.length = 0;
    // RFC 9370 2.2.4 state a peer's CREATE_CHILD_SA left waiting for its IKE_FOLLOWUP_KE: its reserved CHILD SPI and
    // shared secrets go with the IKE SA.
    abortFollowups(sa, `IKE_SA ${sa.name}[${sa.id}] closed`);
    this.sas.remove(sa);
    this.dirty.add(sa);
    this.inbound.drop(sa);
    releaseSaKeys(sa);
    for (const l of sa.leases.splice(0)) l.release(l.address);
    this.log('ike', wasUp ? 1 : 0, sa, message);
    this.emit({ type: 'ike-down', sa: sa.info(), reason, message });
    if (sa.reauthOf && reason !== 'rekeyed') sa.reauthOf.reauthBy = undefined;
    if (sa.rekeyedTo || reason === 'rekeyed' || !conn) return;
    afterDown(this, sa, conn, configs, reason, wasUp, this.lastNow, this.starter);
  }

  /** Removes a CHILD SA from its IKE SA and tells the driver to uninstall it. */
  removeChild(sa: IkeSa, c: ChildSa, reason: string): void {
    const i = sa.children.indexOf(c);
    if (i >= 0) sa.children.splice(i, 1);
    this.sas.unindexChild(sa, c);
    this.dirty.add(sa);
    this.childSpis.release(c.spiIn);
    // Replacements that kept sending on this SA (rekey responder) switch their outbound traffic now.
    for (const r of sa.children)
      if (r.outboundDeferredFrom === c) {
        r.outboundDeferredFrom = undefined;
        this.emit({ type: 'child-outbound', child: sa.childInfo(r), replaces: sa.childInfo(c) });
      }
    this.emit({ type: 'child-remove', child: sa.childInfo(c), reason });
  }

  allocateChildSpi(): number {
    return this.childSpis.allocate();
  }

  nextChildId(): number {
    return ++this.childCounter;
  }

  newSa(initiator: boolean, spiI: Uint8Array, local: Address, remote: Address): IkeSa {
    return new IkeSa(++this.saCounter, initiator, spiI, local, remote);
  }

  findSaBySpiI(spiI: Uint8Array, remote: Address): IkeSa | undefined {
    return this.sas.byInitKey(initKey(spiI, remote));
  }

  establishedWith(conn: string, remoteId?: Identity): ReadonlySet<IkeSa> {
    this.settle();
    return this.sas.establishedWith(conn, remoteId === undefined ? undefined : peerKey(remoteId));
  }

  /** Half-open responder IKE SAs, plus IKE_SA_INIT requests charged for a key exchange that left no SA. */
  halfOpenCount(): number {
    this.settle();
    return this.sas.halfOpenCount();
  }

  jitter(maxMs: number): number {
    return maxMs > 0 ? Math.floor(random01(this.random) * maxMs) : 0;
  }

  later(sa: IkeSa, at: number, fn: (now: number) => void): void {
    this.dirty.add(sa);
    sa.timers.push({ at, fn });
  }

  releaseChildSpi(spi: number): void {
    this.childSpis.release(spi);
  }

  sendKeepalive(sa: IkeSa): void {
    this.txQueue.push({ data: Uint8Array.of(0xff), local: sa.local, remote: sa.remote, nonEspMarker: false });
  }

  reauthenticate(sa: IkeSa, now: number): void {
    reauthenticate(this, sa, now, this.starter);
  }

  cookieSecrets(now: number): { current: CookieSecret; previous?: CookieSecret } {
    return this.admission.secretsAt(now, this.settings);
  }

  halfOpenFrom(address: string): number {
    this.settle();
    return this.sas.halfOpenFrom(address);
  }

  newIkeSpi(): Uint8Array {
    return newIkeSpi(this.random, (hex) => this.sas.spiInUse(hex));
  }

  // ------------------------------------------------------------------ internals

  /**
   * Last line of defence. Every decoder and rule check returns a typed error that maps to a notify or a silent
   * drop (RFC 7296 2.21), so an exception here is a bug; it must not escape to the driver nor leave the SA
   * wedged: log it at level 1 naming the exchange and SA, and fail that SA. The exchange fuzzer asserts 0 hits.
   */
  private guard(sa: IkeSa | undefined, what: string, fn: () => void, findSa?: () => IkeSa | undefined): void {
    try {
      fn();
    } catch (e) {
      this.fault(sa ?? findSa?.(), what, e);
    }
  }

  private fault(sa: IkeSa | undefined, what: string, e: unknown): void {
    // Strict (tests): a state change missing from the table must fail the test, not be absorbed here.
    if (e instanceof IllegalTransitionError && this.strictTransitions) throw e;
    this.faults++;
    const why = `internal error processing ${what}: ${e instanceof Error ? e.message : String(e)}`;
    this.log('ike', 1, sa, why);
    if (!sa) return;
    try {
      this.destroySa(sa, 'error', `${why}; IKE SA failed`);
    } catch {
      if (sa.state !== 'DESTROYING') transition(this, sa, 'DESTROYING', why);
      this.sas.remove(sa);
      this.dirty.add(sa);
      this.inbound.drop(sa);
    }
  }

  private findById(id: number): IkeSa | undefined {
    return this.sas.byIdOf(id);
  }

  /** Runs a command on `target` when it exists (false otherwise), settling what it touched. */
  private command<T>(target: T | undefined, fn: (t: T) => boolean): boolean {
    return target === undefined ? false : this.settled(() => fn(target));
  }

  /** Runs a command and settles what it touched (indexes, deadlines) before returning to the driver. */
  private settled<T>(fn: () => T): T {
    try {
      return fn();
    } finally {
      this.settle();
    }
  }

  /** RFC 7296 2.23: behind a NAT, follow the peer's address and port as seen on authenticated messages. */
  private followPeer(sa: IkeSa, remote: Address): void {
    this.log('ike', 0, sa, `remote endpoint changed from ${fmt(sa.remote)} to ${fmt(remote)}`);
    const from = { local: sa.local, remote: sa.remote };
    sa.remote = remote;
    this.emit({ type: 'ike-address-change', sa: sa.info(), children: sa.children.map((c) => sa.childInfo(c)), from });
  }

  private kick(sa: IkeSa, now: number): void {
    runQueue(this.tasks, sa, now);
  }

  private transmit(sa: IkeSa, data: Uint8Array): void {
    const via = this.replyPath?.sa === sa ? this.replyPath : sa;
    this.txQueue.push({ data, local: via.local, remote: via.remote, nonEspMarker: sa.encapsulated });
  }
}
