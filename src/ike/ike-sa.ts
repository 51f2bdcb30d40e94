/**
 * State of one IKE SA: roles, SPIs, negotiated suite, keys, message-ID windows (RFC 7296 2.3, window size 1),
 * the outstanding request with its retransmission state, the cached last response, and its CHILD SAs.
 * Pure data plus small helpers; the exchanges in src/ike/exchanges drive it.
 */
import type { KeyExchange } from '../crypto/types.js';
import { formatProposal, type TransformSet } from '../crypto/transforms.js';
import { FragmentReassembler } from './codec/fragment.js';
import type { Address, AuthConfig, ChildConfig, IkeConnectionConfig } from './config.js';
import type { ChildSaInfo, IkeSaInfo, IkeSaState } from './events.js';
import { ANY_IDENTITY, formatIdentity, type Identity } from './identity.js';
import { LazySkKeys, releaseSkContexts, type IkeSaKeys } from './keys.js';
import type { TrafficSelector } from './traffic-selector.js';
import type { Task } from './tasks/task.js';
import type { Payload } from './codec/types.js';
import type { EapServerSession } from '../eap/index.js';

/** Bookkeeping of one rekey exchange of a CHILD or IKE SA, kept to resolve collisions (RFC 7296 2.8.1, 2.8.2). */
export interface RekeyExchange<T> {
  readonly Ni: Uint8Array;
  Nr?: Uint8Array;
  /** The SA the exchange created. */
  replacement?: T;
}

export interface ChildSa {
  readonly id: number;
  readonly name: string;
  readonly config: ChildConfig;
  readonly spiIn: number;
  readonly spiOut: number;
  readonly set: TransformSet;
  readonly localTs: readonly TrafficSelector[];
  readonly remoteTs: readonly TrafficSelector[];
  /**
   * INSTALLED: in use. REKEYING: our rekey is under way. REKEYED: replaced, waiting for its Delete.
   * DELETING: our Delete is under way.
   */
  state: 'INSTALLED' | 'REKEYING' | 'REKEYED' | 'DELETING';
  readonly installedAt: number;
  /** Soft (rekey) and hard (expire) deadlines from rekey_time/rand_time/life_time. */
  rekeyAt?: number;
  expireAt?: number;
  /** Our rekey of this SA, and the peer's rekey that we answered. */
  rekeyOurs?: RekeyExchange<ChildSa>;
  rekeyTheirs?: RekeyExchange<ChildSa>;
  /**
   * REKEYED, waiting for the peer's Delete: if it has not come by then, we delete the SA ourselves (kept on the
   * CHILD SA, not as an IKE SA timer, because an IKE SA rekey moves the CHILD SA to another IKE SA).
   */
  deleteBy?: number;
  /** Responder of a rekey: outbound traffic stays on `outboundDeferredFrom` until that SA is removed. */
  outboundDeferredFrom?: ChildSa;
}

/** An initiator-side exchange in progress: what to do with the response (RFC 7296 2.1 request/response pairs). */
export interface PendingRequest {
  readonly messageId: number;
  readonly exchangeType: number;
  /** The datagrams of the request (several when fragmented), resent as they are on timeout. */
  datagrams: Uint8Array[];
  attempt: number;
  deadline: number;
  /** The task whose request this is: it gets the response, or the timeout when retransmissions are exhausted. */
  readonly task: Task;
}

/** The responder's side of IKE_AUTH with EAP (RFC 7296 2.16), between the first request and the last. */
export interface EapServerRound {
  readonly session: EapServerSession;
  readonly conn: IkeConnectionConfig;
  readonly remoteId: Identity;
  /** The IDi this round's AUTH is computed with: the IKE identity, or a second round's own (RFC 4739). */
  readonly authId: Identity;
  /** The first IKE_AUTH request: its SA, TS and CP are answered in the last response. */
  readonly firstRequest: readonly Payload[];
  msk: Uint8Array | undefined;
  /** EAP-Success was sent: the next request carries AUTH. */
  succeeded: boolean;
}

/** Responder, RFC 4739: the first round checked out and another follows; waiting for the request that opens it. */
export interface SecondRound {
  readonly conn: IkeConnectionConfig;
  readonly round: AuthConfig;
  readonly remoteId: Identity;
  readonly firstRequest: readonly Payload[];
}

type Reassembly = { request?: FragmentReassembler; response?: FragmentReassembler };
type SaTimer = { at: number; fn: (now: number) => void };
type Lease = { release(address: string): void; address: string };

/** The default of the IKE_SA_INIT messages and nonces among the rare fields below (shared: length 0, nothing to write). */
const EMPTY = new Uint8Array(0);

type InitialChild = { config: ChildConfig; spiIn: number; localTs: TrafficSelector[]; remoteTs: TrafficSelector[] };

type Rare = {
  ke?: KeyExchange | undefined;
  Ni?: Uint8Array;
  Nr?: Uint8Array;
  initRequest?: Uint8Array;
  initResponse?: Uint8Array;
  cookie?: Uint8Array | undefined;
  cookieRetries?: number;
  keRetries?: number;
  plannedChild?: ChildConfig | undefined;
  keyingTry?: number;
  peerMultipleAuth?: boolean;
  peerCertreq?: boolean;
  waiting?: Task | undefined;
  initialChild?: InitialChild | undefined;
  halfOpenDeadline?: number | undefined;
  dpdPending?: boolean;
  natLocalReal?: boolean;
  natRemoteLogPending?: boolean;
  rekeyOurs?: (RekeyExchange<IkeSa> & { spi: Uint8Array }) | undefined;
  rekeyTheirs?: RekeyExchange<IkeSa> | undefined;
  rekeyOf?: IkeSa | undefined;
  rekeyedTo?: IkeSa | undefined;
  reauthBy?: IkeSa | undefined;
  reauthOf?: IkeSa | undefined;
  eapServer?: EapServerRound | undefined;
  remoteEapId?: string | undefined;
  secondRound?: SecondRound | undefined;
  usePpkSent?: boolean;
  peerUsePpk?: boolean;
  ppkId?: string | undefined;
  intermediate?: IntermediateState | undefined;
  requestingVips?: boolean;
};

/** Defaults of the rare fields other than undefined: a field holding its default is as good as absent. */
const RARE_DEFAULTS: Partial<Record<keyof Rare, unknown>> = { Ni: EMPTY, Nr: EMPTY, initRequest: EMPTY, initResponse: EMPTY, cookieRetries: 0, keRetries: 0, keyingTry: 1, peerMultipleAuth: false, peerCertreq: false, dpdPending: false, natLocalReal: false, natRemoteLogPending: false, usePpkSent: false, peerUsePpk: false, requestingVips: false };

function isRareDefault(k: keyof Rare, v: unknown): boolean {
  const d = RARE_DEFAULTS[k];
  return v === undefined || v === d || (d === EMPTY && v instanceof Uint8Array && v.length === 0);
}

export class IkeSa {
  /** Changed only through transition() (src/ike/sa-state.ts), which checks the change against the state table. */
  readonly state: IkeSaState = 'CREATED';
  spiR: Uint8Array = new Uint8Array(8);
  conn: IkeConnectionConfig | undefined;
  set: TransformSet | undefined;
  keys: IkeSaKeys | undefined;
  localId: Identity = ANY_IDENTITY;
  remoteId: Identity = ANY_IDENTITY;
  natLocal = false;
  natRemote = false;
  encapsulated = false;
  peerFragmentation = false;
  /** The peer's SIGNATURE_HASH_ALGORITHMS (RFC 7427 4), undefined when it sent none. */
  peerHashes: number[] | undefined;
  /** Our next request's message ID and the next request ID we expect from the peer. */
  nextRequestId = 0;
  expectedRequestId = 0;
  pending: PendingRequest | undefined;
  /** Tasks waiting for the request window (tasks/manager.ts). */
  get queue(): Task[] {
    return (this._queue ??= []);
  }
  /** The last response we sent, resent when its request is retransmitted. */
  lastResponse: { messageId: number; exchangeType: number; datagrams: Uint8Array[] } | undefined;
  readonly children: ChildSa[] = [];
  /**
   * The keys the endpoint's SA table (sa-table.ts) filed this SA under: its IKE_SA_INIT key (responder) and its
   * (connection, peer) key once established. Kept here rather than in maps from SA to key (issue 17). Written by
   * the SA table only.
   */
  tableInitKey: string | undefined = undefined;
  tablePeerKey: string | undefined = undefined;
  establishedAt: number | undefined;
  /** Time of the last authenticated message (or ESP packet, via the driver) from the peer (DPD, RFC 7296 2.4). */
  lastInbound = 0;
  /** Lifecycle deadlines: IKE rekey, reauthentication, hard expiry (over_time), NAT keepalive. */
  rekeyAt: number | undefined;
  reauthAt: number | undefined;
  expireAt: number | undefined;
  keepaliveAt: number | undefined;
  /** Children to re-create on this SA once it is up (reauthentication, restart). */
  get pendingChildren(): ChildConfig[] {
    return (this._pendingChildren ??= []);
  }
  set pendingChildren(v: ChildConfig[]) {
    this._pendingChildren = v;
  }
  /** CHILD SAs of `reauthOf` already replaced by ours. */
  get reauthClaimed(): Set<ChildSa> {
    return (this._reauthClaimed ??= new Set());
  }
  /** RFC 7383 reassembly, one per direction (window size 1). */
  get reassembly(): Reassembly {
    return (this._reassembly ??= {});
  }
  set reassembly(v: Reassembly) {
    this._reassembly = v;
  }
  /** One-shot callbacks (retries after TEMPORARY_FAILURE and the like). */
  get timers(): SaTimer[] {
    return (this._timers ??= []);
  }
  set timers(v: SaTimer[]) {
    this._timers = v;
  }
  /** Virtual IPs assigned to us / handed to the peer (configuration payload, RFC 7296 3.15). */
  get virtualIps(): string[] {
    return (this._virtualIps ??= []);
  }
  set virtualIps(v: string[]) {
    this._virtualIps = v;
  }
  get peerVirtualIps(): string[] {
    return (this._peerVirtualIps ??= []);
  }
  set peerVirtualIps(v: string[]) {
    this._peerVirtualIps = v;
  }
  /** Pool leases held for the peer; released when this SA goes. */
  get leases(): Lease[] {
    return (this._leases ??= []);
  }
  set leases(v: Lease[]) {
    this._leases = v;
  }
  /** Virtual IPs to ask for again (reauthentication of an SA that holds them). */
  get vipHint(): string[] {
    return (this._vipHint ??= []);
  }
  set vipHint(v: string[]) {
    this._vipHint = v;
  }
  /**
   * The lists and sets above, made on first use and dropped again while empty (dropEmpty, called by sa-compact.ts):
   * nearly all of them stay empty for an SA's life, and nine empty containers cost ~0.4 KB per SA (issue 17).
   */
  private _queue: Task[] | undefined = undefined;
  private _pendingChildren: ChildConfig[] | undefined = undefined;
  private _reauthClaimed: Set<ChildSa> | undefined = undefined;
  private _reassembly: Reassembly | undefined = undefined;
  private _timers: SaTimer[] | undefined = undefined;
  private _virtualIps: string[] | undefined = undefined;
  private _peerVirtualIps: string[] | undefined = undefined;
  private _leases: Lease[] | undefined = undefined;
  private _vipHint: string[] | undefined = undefined;

  /**
   * Fields an SA uses while it is set up, rekeyed or reauthenticated, or with EAP, PPK, IKE_INTERMEDIATE: kept in a
   * side object made on the first write of a value other than the default, and dropped by dropEmpty() once all
   * are back to their defaults. An idle established SA has none, and 32 in-object fields cost ~0.26 KB per SA at
   * 100k SAs (issue 17). Reads of an absent field give its default.
   */
  private _rare: Rare | undefined = undefined;
  get ke(): KeyExchange | undefined {
    return this._rare?.ke;
  }
  set ke(v: KeyExchange | undefined) {
    this.setRare('ke', v);
  }
  get Ni(): Uint8Array {
    return this._rare?.Ni ?? EMPTY;
  }
  set Ni(v: Uint8Array) {
    this.setRare('Ni', v);
  }
  get Nr(): Uint8Array {
    return this._rare?.Nr ?? EMPTY;
  }
  set Nr(v: Uint8Array) {
    this.setRare('Nr', v);
  }
  /** The IKE_SA_INIT request and response as sent (RealMessage1/2 of RFC 7296 2.15). */
  get initRequest(): Uint8Array {
    return this._rare?.initRequest ?? EMPTY;
  }
  set initRequest(v: Uint8Array) {
    this.setRare('initRequest', v);
  }
  get initResponse(): Uint8Array {
    return this._rare?.initResponse ?? EMPTY;
  }
  set initResponse(v: Uint8Array) {
    this.setRare('initResponse', v);
  }
  get cookie(): Uint8Array | undefined {
    return this._rare?.cookie;
  }
  set cookie(v: Uint8Array | undefined) {
    this.setRare('cookie', v);
  }
  get cookieRetries(): number {
    return this._rare?.cookieRetries ?? 0;
  }
  set cookieRetries(v: number) {
    this.setRare('cookieRetries', v);
  }
  /** IKE_SA_INIT retries after INVALID_KE_PAYLOAD (capped: a responder must not keep us alternating groups). */
  get keRetries(): number {
    return this._rare?.keRetries ?? 0;
  }
  set keRetries(v: number) {
    this.setRare('keRetries', v);
  }
  /** The CHILD SA this initiator SA was started for (created in IKE_AUTH). */
  get plannedChild(): ChildConfig | undefined {
    return this._rare?.plannedChild;
  }
  set plannedChild(v: ChildConfig | undefined) {
    this.setRare('plannedChild', v);
  }
  /** Which attempt of keyingtries this initiator SA is (1 = the first). */
  get keyingTry(): number {
    return this._rare?.keyingTry ?? 1;
  }
  set keyingTry(v: number) {
    this.setRare('keyingTry', v);
  }
  /** The peer announced MULTIPLE_AUTH_SUPPORTED (RFC 4739 3.1). */
  get peerMultipleAuth(): boolean {
    return this._rare?.peerMultipleAuth ?? false;
  }
  set peerMultipleAuth(v: boolean) {
    this.setRare('peerMultipleAuth', v);
  }
  /** The peer sent a CERTREQ (send_cert = ifasked sends our certificate then). */
  get peerCertreq(): boolean {
    return this._rare?.peerCertreq ?? false;
  }
  set peerCertreq(v: boolean) {
    this.setRare('peerCertreq', v);
  }
  /** A task between two requests of its exchange, waiting for asynchronous work (EAP); it holds the window. */
  get waiting(): Task | undefined {
    return this._rare?.waiting;
  }
  set waiting(v: Task | undefined) {
    this.setRare('waiting', v);
  }
  /** The CHILD SA the initiator asked for in IKE_AUTH, with the inbound SPI it allocated. */
  get initialChild(): InitialChild | undefined {
    return this._rare?.initialChild;
  }
  set initialChild(v: InitialChild | undefined) {
    this.setRare('initialChild', v);
  }
  /** Responder: drop the SA if IKE_AUTH has not completed by then (half-open timeout). */
  get halfOpenDeadline(): number | undefined {
    return this._rare?.halfOpenDeadline;
  }
  set halfOpenDeadline(v: number | undefined) {
    this.setRare('halfOpenDeadline', v);
  }
  /** A liveness check is under way (so DPD does not queue another). */
  get dpdPending(): boolean {
    return this._rare?.dpdPending ?? false;
  }
  set dpdPending(v: boolean) {
    this.setRare('dpdPending', v);
  }
  /** We are behind a real NAT (not one faked to force encapsulation): send keepalives (RFC 3948 section 4). */
  get natLocalReal(): boolean {
    return this._rare?.natLocalReal ?? false;
  }
  set natLocalReal(v: boolean) {
    this.setRare('natLocalReal', v);
  }
  /**
   * The peer's NAT_DETECTION_SOURCE_IP did not match and nothing at IKE_SA_INIT explained it: "remote host is
   * behind NAT" waits for its ID in IKE_AUTH (natd.ts remoteNatExplanation), then this clears.
   */
  get natRemoteLogPending(): boolean {
    return this._rare?.natRemoteLogPending ?? false;
  }
  set natRemoteLogPending(v: boolean) {
    this.setRare('natRemoteLogPending', v);
  }
  /** Our rekey of this IKE SA (with the new SPI we chose), and the peer's that we answered. */
  get rekeyOurs(): (RekeyExchange<IkeSa> & { spi: Uint8Array }) | undefined {
    return this._rare?.rekeyOurs;
  }
  set rekeyOurs(v: (RekeyExchange<IkeSa> & { spi: Uint8Array }) | undefined) {
    this.setRare('rekeyOurs', v);
  }
  get rekeyTheirs(): RekeyExchange<IkeSa> | undefined {
    return this._rare?.rekeyTheirs;
  }
  set rekeyTheirs(v: RekeyExchange<IkeSa> | undefined) {
    this.setRare('rekeyTheirs', v);
  }
  /** The IKE SA whose rekey created this one. */
  get rekeyOf(): IkeSa | undefined {
    return this._rare?.rekeyOf;
  }
  set rekeyOf(v: IkeSa | undefined) {
    this.setRare('rekeyOf', v);
  }
  /** Set on an IKE SA replaced by a rekey: children have moved, only the Delete is pending. */
  get rekeyedTo(): IkeSa | undefined {
    return this._rare?.rekeyedTo;
  }
  set rekeyedTo(v: IkeSa | undefined) {
    this.setRare('rekeyedTo', v);
  }
  /** Reauthentication: the IKE SA that replaces this one (make-before-break) . */
  get reauthBy(): IkeSa | undefined {
    return this._rare?.reauthBy;
  }
  set reauthBy(v: IkeSa | undefined) {
    this.setRare('reauthBy', v);
  }
  /** The IKE SA this one reauthenticates (make-before-break): deleted once we are up with all children. */
  get reauthOf(): IkeSa | undefined {
    return this._rare?.reauthOf;
  }
  set reauthOf(v: IkeSa | undefined) {
    this.setRare('reauthOf', v);
  }
  /** Responder: the EAP conversation of IKE_AUTH under way. */
  get eapServer(): EapServerRound | undefined {
    return this._rare?.eapServer;
  }
  set eapServer(v: EapServerRound | undefined) {
    this.setRare('eapServer', v);
  }
  /** The identity the peer proved in an EAP round (responder side). */
  get remoteEapId(): string | undefined {
    return this._rare?.remoteEapId;
  }
  set remoteEapId(v: string | undefined) {
    this.setRare('remoteEapId', v);
  }
  /** Responder: a second authentication round announced and not yet started (RFC 4739). */
  get secondRound(): SecondRound | undefined {
    return this._rare?.secondRound;
  }
  set secondRound(v: SecondRound | undefined) {
    this.setRare('secondRound', v);
  }
  /** RFC 8784: USE_PPK we sent / the peer sent in IKE_SA_INIT. */
  get usePpkSent(): boolean {
    return this._rare?.usePpkSent ?? false;
  }
  set usePpkSent(v: boolean) {
    this.setRare('usePpkSent', v);
  }
  get peerUsePpk(): boolean {
    return this._rare?.peerUsePpk ?? false;
  }
  set peerUsePpk(v: boolean) {
    this.setRare('peerUsePpk', v);
  }
  /** RFC 8784: the PPK_ID whose PPK is mixed into SK_d/SK_pi/SK_pr (also on an IKE SA rekeyed from such an SA). */
  get ppkId(): string | undefined {
    return this._rare?.ppkId;
  }
  set ppkId(v: string | undefined) {
    this.setRare('ppkId', v);
  }
  /** RFC 9242 / RFC 9370: progress of the IKE_INTERMEDIATE exchanges (tasks/ike-intermediate.ts). */
  get intermediate(): IntermediateState | undefined {
    return this._rare?.intermediate;
  }
  set intermediate(v: IntermediateState | undefined) {
    this.setRare('intermediate', v);
  }
  /** We asked for virtual IPs in IKE_AUTH: our 'dynamic' selectors are open until the reply. */
  get requestingVips(): boolean {
    return this._rare?.requestingVips ?? false;
  }
  set requestingVips(v: boolean) {
    this.setRare('requestingVips', v);
  }
  private setRare<K extends keyof Rare>(k: K, v: Rare[K]): void {
    if (this._rare === undefined) {
      if (isRareDefault(k, v)) return;
      this._rare = {};
    }
    this._rare[k] = v;
  }

  constructor(
    readonly id: number,
    readonly initiator: boolean,
    readonly spiI: Uint8Array,
    public local: Address,
    public remote: Address,
  ) {}

  /** Drops the containers behind the getters above that are empty (getters make them again on use). */
  dropEmpty(): void {
    if (this._queue?.length === 0) this._queue = undefined;
    if (this._pendingChildren?.length === 0) this._pendingChildren = undefined;
    if (this._reauthClaimed?.size === 0) this._reauthClaimed = undefined;
    if (this._reassembly && this._reassembly.request === undefined && this._reassembly.response === undefined) this._reassembly = undefined;
    if (this._timers?.length === 0) this._timers = undefined;
    if (this._virtualIps?.length === 0) this._virtualIps = undefined;
    if (this._peerVirtualIps?.length === 0) this._peerVirtualIps = undefined;
    if (this._leases?.length === 0) this._leases = undefined;
    if (this._vipHint?.length === 0) this._vipHint = undefined;
    const r = this._rare;
    if (r !== undefined && (Object.keys(r) as (keyof Rare)[]).every((k) => isRareDefault(k, r[k]))) this._rare = undefined;
  }

  get localSpi(): Uint8Array {
    return this.initiator ? this.spiI : this.spiR;
  }

  get name(): string {
    return this.conn?.name ?? '(unknown)';
  }

  info(): IkeSaInfo {
    return {
      id: this.id,
      name: this.name,
      state: this.state,
      initiator: this.initiator,
      spiI: this.spiI,
      spiR: this.spiR,
      local: this.local,
      remote: this.remote,
      localId: formatIdentity(this.localId),
      remoteId: formatIdentity(this.remoteId),
      ...(this.remoteEapId !== undefined ? { remoteEapId: this.remoteEapId } : {}),
      suite: this.set ? formatProposal(this.set) : '',
      natDetected: { local: this.natLocal, remote: this.natRemote },
      encapsulated: this.encapsulated,
      ...(this.establishedAt !== undefined ? { establishedAt: this.establishedAt } : {}),
      ...(this.ppkId !== undefined ? { ppkId: this.ppkId } : {}),
    };
  }

  childInfo(c: ChildSa): ChildSaInfo {
    return {
      ikeSaId: this.id,
      name: c.name,
      id: c.id,
      mode: 'tunnel',
      protocol: 'esp',
      encrId: c.set.encr,
      ...(c.set.keyBits !== undefined ? { encrKeyBits: c.set.keyBits } : {}),
      integId: c.set.integ ?? 0,
      ...(c.set.ke !== undefined ? { keGroup: c.set.ke } : {}),
      esn: c.set.esn === 1,
      spiIn: c.spiIn,
      spiOut: c.spiOut,
      localTs: c.localTs,
      remoteTs: c.remoteTs,
      local: this.local,
      remote: this.remote,
      encapsulated: this.encapsulated,
      suite: formatProposal(c.set),
    };
  }
}

/**
 * An IKE SA whose keys are derived: after IKE_SA_INIT (RFC 7296 2.14) or, for the new SA of a rekey, its
 * CREATE_CHILD_SA (2.18). Key material (SK_d, SK_a, SK_e, SK_p, the prf) is reached through this type only.
 */
export type KeyedIkeSa = IkeSa & { keys: IkeSaKeys };

export function keyed(sa: IkeSa): sa is KeyedIkeSa {
  return sa.keys !== undefined;
}

/** Stores the keys of `sa` and returns it typed as keyed. */
export function setKeys(sa: IkeSa, keys: IkeSaKeys): KeyedIkeSa {
  return Object.assign(sa, { keys });
}

/**
 * Frees what an IKE SA being destroyed holds in the crypto backend: its pending key exchange and the SK payload
 * contexts of both directions (RFC 7296 3.14; dispose wipes their key schedules). Without this they lived until
 * the backend's garbage-collection backstop freed them, which never runs while a synchronous loop is busy (the
 * exchange fuzzer's live heap grew ~150 bytes per input, issue 11). Nothing seals or opens with them afterwards:
 * a destroyed SA is out of the table, and an IKE rekey derives from the old SA's prf before the old SA goes.
 */
export function releaseSaKeys(sa: IkeSa): void {
  sa.ke?.dispose();
  if (sa.keys === undefined) return;
  // Lazy SK keys (keys.ts) are released without touching their getters, which would key a context only to free it.
  releaseSkContexts(sa.keys);
  for (const k of [sa.keys.in, sa.keys.out]) {
    if (k instanceof LazySkKeys) continue;
    for (const c of [k.encryption, k.integrity]) if (c && 'dispose' in c && typeof c.dispose === 'function') c.dispose();
  }
}

/** Work that needs the IKE SA's keys reached an SA without them: a bug in cygnet, caught by the endpoint's safety net. */
export class IkeSaNotKeyedError extends Error {
  readonly code = 'IKE_SA_NOT_KEYED';
  constructor(readonly saId: number, readonly where: string) {
    super(`IKE_SA [${saId}] has no keys yet (${where})`);
    this.name = 'IkeSaNotKeyedError';
  }
}

/** An IKE SA past the point where its connection is chosen had none: a bug, caught by the endpoint's safety net. */
export class IkeSaNoConnectionError extends Error {
  readonly code = 'IKE_SA_NO_CONNECTION';
  constructor(readonly saId: number, readonly where: string) {
    super(`IKE_SA [${saId}] has no connection (${where})`);
    this.name = 'IkeSaNoConnectionError';
  }
}

/**
 * The connection of `sa`: set when an initiator starts it, when a responder chooses it in IKE_SA_INIT (and
 * possibly again in IKE_AUTH), and copied to the new SA of a rekey. Throws IkeSaNoConnectionError naming `where`.
 */
export function connOf(sa: IkeSa, where: string): IkeConnectionConfig {
  if (!sa.conn) throw new IkeSaNoConnectionError(sa.id, where);
  return sa.conn;
}

/**
 * `sa` typed as keyed, for paths the protocol only reaches with keys (an SK payload was opened with them, or the
 * SA is established); throws IkeSaNotKeyedError, naming `where`, should that ever not hold.
 */
export function requireKeyed(sa: IkeSa, where: string): KeyedIkeSa {
  if (!keyed(sa)) throw new IkeSaNotKeyedError(sa.id, where);
  return sa;
}

export function spiHex(spi: Uint8Array): string {
  return Buffer.from(spi).toString('hex');
}

export function spiToNumber(spi: Uint8Array): number {
  return spi.length === 4 ? new DataView(spi.buffer, spi.byteOffset, 4).getUint32(0) : 0;
}

export function numberToSpi(n: number): Uint8Array {
  return Uint8Array.of(n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
}

/** RFC 9242 / RFC 9370: progress of an SA's IKE_INTERMEDIATE exchanges (driven by tasks/ike-intermediate.ts). */
export interface IntermediateState {
  /** Additional key exchanges completed (and IKE_INTERMEDIATE exchanges done: one each). */
  count: number;
  /** RFC 9242 3.3.2: the running IntAuth of the initiator's and the responder's messages. */
  intAuthI: Uint8Array | undefined;
  intAuthR: Uint8Array | undefined;
  /** The last IKE_INTERMEDIATE message received, as inbound.ts opened it: what the IntAuth chunk of it needs. */
  lastIn: { header: Uint8Array; firstInnerType: number; plaintext: Uint8Array } | undefined;
}
