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

export class IkeSa {
  /** Changed only through transition() (src/ike/sa-state.ts), which checks the change against the state table. */
  readonly state: IkeSaState = 'CREATED';
  spiR: Uint8Array = new Uint8Array(8);
  conn: IkeConnectionConfig | undefined;
  set: TransformSet | undefined;
  keys: IkeSaKeys | undefined;
  ke: KeyExchange | undefined;
  Ni: Uint8Array = new Uint8Array(0);
  Nr: Uint8Array = new Uint8Array(0);
  /** The IKE_SA_INIT request and response as sent (RealMessage1/2 of RFC 7296 2.15). */
  initRequest: Uint8Array = new Uint8Array(0);
  initResponse: Uint8Array = new Uint8Array(0);
  cookie: Uint8Array | undefined;
  cookieRetries = 0;
  /** IKE_SA_INIT retries after INVALID_KE_PAYLOAD (capped: a responder must not keep us alternating groups). */
  keRetries = 0;
  /** The CHILD SA this initiator SA was started for (created in IKE_AUTH). */
  plannedChild: ChildConfig | undefined;
  /** Which attempt of keyingtries this initiator SA is (1 = the first). */
  keyingTry = 1;
  localId: Identity = ANY_IDENTITY;
  remoteId: Identity = ANY_IDENTITY;
  natLocal = false;
  natRemote = false;
  encapsulated = false;
  peerFragmentation = false;
  /** The peer announced MULTIPLE_AUTH_SUPPORTED (RFC 4739 3.1). */
  peerMultipleAuth = false;
  /** The peer's SIGNATURE_HASH_ALGORITHMS (RFC 7427 4), undefined when it sent none. */
  peerHashes: number[] | undefined;
  /** The peer sent a CERTREQ (send_cert = ifasked sends our certificate then). */
  peerCertreq = false;
  /** Our next request's message ID and the next request ID we expect from the peer. */
  nextRequestId = 0;
  expectedRequestId = 0;
  pending: PendingRequest | undefined;
  /** A task between two requests of its exchange, waiting for asynchronous work (EAP); it holds the window. */
  waiting: Task | undefined;
  /** Tasks waiting for the request window (tasks/manager.ts). */
  get queue(): Task[] {
    return (this._queue ??= []);
  }
  /** The last response we sent, resent when its request is retransmitted. */
  lastResponse: { messageId: number; exchangeType: number; datagrams: Uint8Array[] } | undefined;
  readonly children: ChildSa[] = [];
  /** The CHILD SA the initiator asked for in IKE_AUTH, with the inbound SPI it allocated. */
  initialChild: { config: ChildConfig; spiIn: number; localTs: TrafficSelector[]; remoteTs: TrafficSelector[] } | undefined;
  establishedAt: number | undefined;
  /** Responder: drop the SA if IKE_AUTH has not completed by then (half-open timeout). */
  halfOpenDeadline: number | undefined;
  /** Time of the last authenticated message (or ESP packet, via the driver) from the peer (DPD, RFC 7296 2.4). */
  lastInbound = 0;
  /** Lifecycle deadlines: IKE rekey, reauthentication, hard expiry (over_time), NAT keepalive. */
  rekeyAt: number | undefined;
  reauthAt: number | undefined;
  expireAt: number | undefined;
  keepaliveAt: number | undefined;
  /** A liveness check is under way (so DPD does not queue another). */
  dpdPending = false;
  /** We are behind a real NAT (not one faked to force encapsulation): send keepalives (RFC 3948 section 4). */
  natLocalReal = false;
  /**
   * The peer's NAT_DETECTION_SOURCE_IP did not match and nothing at IKE_SA_INIT explained it: "remote host is
   * behind NAT" waits for its ID in IKE_AUTH (natd.ts remoteNatExplanation), then this clears.
   */
  natRemoteLogPending = false;
  /** Our rekey of this IKE SA (with the new SPI we chose), and the peer's that we answered. */
  rekeyOurs: (RekeyExchange<IkeSa> & { spi: Uint8Array }) | undefined;
  rekeyTheirs: RekeyExchange<IkeSa> | undefined;
  /** The IKE SA whose rekey created this one. */
  rekeyOf: IkeSa | undefined;
  /** Set on an IKE SA replaced by a rekey: children have moved, only the Delete is pending. */
  rekeyedTo: IkeSa | undefined;
  /** Reauthentication: the IKE SA that replaces this one (make-before-break) . */
  reauthBy: IkeSa | undefined;
  /** Children to re-create on this SA once it is up (reauthentication, restart). */
  get pendingChildren(): ChildConfig[] {
    return (this._pendingChildren ??= []);
  }
  set pendingChildren(v: ChildConfig[]) {
    this._pendingChildren = v;
  }
  /** The IKE SA this one reauthenticates (make-before-break): deleted once we are up with all children. */
  reauthOf: IkeSa | undefined;
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
  /** Responder: the EAP conversation of IKE_AUTH under way. */
  eapServer: EapServerRound | undefined;
  /** The identity the peer proved in an EAP round (responder side). */
  remoteEapId: string | undefined;
  /** Responder: a second authentication round announced and not yet started (RFC 4739). */
  secondRound: SecondRound | undefined;
  /** RFC 8784: USE_PPK we sent / the peer sent in IKE_SA_INIT. */
  usePpkSent = false;
  peerUsePpk = false;
  /** RFC 8784: the PPK_ID whose PPK is mixed into SK_d/SK_pi/SK_pr (also on an IKE SA rekeyed from such an SA). */
  ppkId: string | undefined;
  /** RFC 9242 / RFC 9370: progress of the IKE_INTERMEDIATE exchanges (tasks/ike-intermediate.ts). */
  intermediate: IntermediateState | undefined;
  /** We asked for virtual IPs in IKE_AUTH: our 'dynamic' selectors are open until the reply. */
  requestingVips = false;

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
