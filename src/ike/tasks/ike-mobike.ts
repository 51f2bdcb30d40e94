/**
 * IKE_MOBIKE (RFC 4555): an IKE SA and its CHILD SAs move to other addresses without rekeying.
 *
 * Negotiation (3.1): both sides send N(MOBIKE_SUPPORTED) in IKE_AUTH (`mobike = yes`, strongSwan's default);
 * `mobike = no` sends none and the SA never moves this way. Once both did, the initiator alone decides which
 * addresses are used (3.5) and tells the responder in an INFORMATIONAL exchange sent from the new address:
 *
 *   HDR, SK { N(UPDATE_SA_ADDRESSES), N(NAT_DETECTION_SOURCE_IP), N(NAT_DETECTION_DESTINATION_IP),
 *             [N(COOKIE2)], [N(NO_ADDITIONAL_ADDRESSES)] }  -->
 *                       <--  HDR, SK { N(NAT_DETECTION_SOURCE_IP), N(NAT_DETECTION_DESTINATION_IP), [N(COOKIE2)] }
 *
 * The responder (3.6) takes the addresses the authenticated request came from and to, re-evaluates NAT (3.5),
 * moves the CHILD SAs' ESP endpoints (an 'ike-address-change' event), and echoes COOKIE2 (3.7) so the initiator
 * knows the answer is for this request. Old updates cannot be applied late: requests are taken in message-ID
 * order only (RFC 7296 2.3; a retransmission gets the cached response and changes nothing).
 *
 * MOBIKE state lives beside the SA (a WeakMap) rather than on IkeSa, so this extension stays in its own file.
 */
import { ExchangeType, NotifyType, type Payload } from '../codec/types.js';
import { randomBytes } from '../../crypto/random.js';
import type { Address, IkeConnectionConfig } from '../config.js';
import type { EndpointContext } from '../context.js';
import { fmt } from '../format.js';
import type { IkeSa } from '../ike-sa.js';
import { evaluateNatDetection, natDetectionHash } from '../natd.js';
import { formatIp, parseIp } from '../../net/ip-address.js';
import { hasNotify, notifies, notify } from '../payload-util.js';
import type { Task, TaskStatus } from './task.js';

interface MobikeState {
  /** We announced MOBIKE_SUPPORTED / the peer did (RFC 4555 3.1). */
  ours: boolean;
  peer: boolean;
  /** Initiator: our address is gone and no other one works yet; an update is sent when one appears (3.5). */
  stale: boolean;
  /**
   * RFC 4555 1.1: the MOBIKE "initiator" is the party that started the FIRST IKE SA of a series of rekeyed ones,
   * not the initiator of the latest rekey (RFC 7296's "original initiator", which a rekey by the responder
   * changes). Only it moves the SA (3.5), so the role is fixed at IKE_AUTH and carried over by inheritMobike.
   */
  initiator: boolean;
}

const state = new WeakMap<IkeSa, MobikeState>();
/** The addresses of the request being answered (dispatch.ts notes them): where an update came from (3.6). */
const lastRequest = new WeakMap<IkeSa, { local: Address; remote: Address }>();

export function noteRequestAddresses(sa: IkeSa, local: Address, remote: Address): void {
  lastRequest.set(sa, { local, remote });
}

export function requestAddresses(sa: IkeSa): { local: Address; remote: Address } | undefined {
  return lastRequest.get(sa);
}

/**
 * RFC 4555 3.4: the addresses a peer has besides the one in use, from the latest message that listed them
 * (ADDITIONAL_IP4/6_ADDRESS; NO_ADDITIONAL_ADDRESSES empties the list). Where an initiator probes when its
 * current path fails (3.5).
 */
const peerAddresses = new WeakMap<IkeSa, string[]>();
/** Our own addresses, per endpoint (IkeEndpoint.setLocalAddresses: the driver knows them). */
const localAddresses = new WeakMap<EndpointContext, readonly string[]>();

/**
 * At most this many ADDITIONAL_* notifies in one message: strongSwan's MAX_ADDITIONAL_ADDRS (ike_mobike.c), "some
 * implementations do not like too many of them". The peer only needs a few paths to probe (RFC 4555 3.5).
 */
export const MAX_ADDITIONAL_ADDRESSES = 8;

/** Replaces our address list; true when it differs (as a set) from the one before (RFC 4555 3.6: tell the peers). */
export function setLocalAddresses(ctx: EndpointContext, addresses: readonly string[]): boolean {
  const before = localAddresses.get(ctx) ?? [];
  const next = [...new Set(addresses)];
  localAddresses.set(ctx, next);
  return next.length !== before.length || next.some((a) => !before.includes(a));
}

/** The peer's additional addresses as last announced (RFC 4555 3.4). */
export function peerAdditionalAddresses(sa: IkeSa): readonly string[] {
  return peerAddresses.get(sa) ?? [];
}

/** A (local, remote) pair of addresses an IKE SA's messages can take. */
export interface Path {
  readonly local: Address;
  readonly remote: Address;
}

/**
 * Path probing (RFC 4555 3.5): a request of a MOBIKE initiator that went unanswered this many times on the SA's own
 * path (the original and the first retransmission) is from then on also sent as copies over the other paths. Not
 * from the first retransmission: that one repairs a single lost datagram, and an answer arriving over another path
 * moves the SA there (away from the uplink the routing table prefers) for what was only a loss.
 */
export const PROBE_AFTER_RETRANSMITS = 1;

/**
 * At most this many other paths are probed (copies per retransmission), as MAX_ADDITIONAL_ADDRESSES bounds what
 * a peer announces: a host with many addresses talking to a peer with many does not multiply its retransmissions.
 */
export const MAX_PROBE_PATHS = 8;

const isV6 = (a: string): boolean => a.includes(':');
const pathKey = (p: Path): string => `${p.local.address}|${p.remote.address}`;
const samePath = (a: Path, b: Path): boolean =>
  a.local.address === b.local.address && a.local.port === b.local.port && a.remote.address === b.remote.address && a.remote.port === b.remote.port;

/**
 * The paths of `sa` other than its own (RFC 4555 3.5): our addresses (the SA's first, then the driver's list,
 * IkeEndpoint.setLocalAddresses) x the peer's (the SA's first, then its ADDITIONAL_* addresses, 3.4), same
 * address family only, at most MAX_PROBE_PATHS. Ports stay the SA's (IKE's ports do not change with the address).
 * The order is the order tried after an unanswered update: the peer's other addresses from our address first (as
 * before local probing existed), then our other addresses.
 */
export function otherPaths(ctx: EndpointContext, sa: IkeSa): Path[] {
  const locals = [sa.local.address, ...(localAddresses.get(ctx) ?? []).filter((a) => a !== sa.local.address)];
  const remotes = [sa.remote.address, ...peerAdditionalAddresses(sa).filter((a) => a !== sa.remote.address)];
  const out: Path[] = [];
  for (const l of locals) {
    for (const r of remotes) {
      if ((l === sa.local.address && r === sa.remote.address) || isV6(l) !== isV6(r)) continue;
      out.push({ local: { address: l, port: sa.local.port }, remote: { address: r, port: sa.remote.port } });
      if (out.length === MAX_PROBE_PATHS) return out;
    }
  }
  return out;
}

/**
 * Retransmission `attempt` of request `messageId` of `sa` is due (outbound.ts): the other paths its copies go over,
 * or none. Only an initiator of an established MOBIKE SA probes (RFC 4555 3.5: only it moves the SA; the responder
 * answers over the path a request came from, 3.10), and only once PROBE_AFTER_RETRANSMITS went unanswered.
 * Any request counts (DPD, rekey, address update): a dead path shows on whichever exchange runs next.
 */
export function probePaths(ctx: EndpointContext, sa: IkeSa, attempt: number, messageId: number): Path[] {
  if (attempt <= PROBE_AFTER_RETRANSMITS || !mobikeInitiator(sa) || !mobikeActive(sa)) return [];
  if (sa.state !== 'ESTABLISHED' && sa.state !== 'REKEYING') return [];
  const paths = otherPaths(ctx, sa);
  if (paths.length > 0) {
    ctx.log('ike', 1, sa, `retransmit ${attempt} of request ${messageId} unanswered on ${fmt(sa.local)} - ${fmt(sa.remote)} so far: checking paths ${paths.map((p) => `${fmt(p.local)} - ${fmt(p.remote)}`).join(', ')} (RFC 4555 3.5)`);
  }
  return paths;
}

/** Whether the last response of `sa` came over a path other than the SA's (responseArrivedOver). */
const offPath = new WeakMap<IkeSa, boolean>();

/**
 * A response of `sa` arrived over `path` (dispatch.ts, before the task sees it). Over another path than the SA's, on
 * an initiator's MOBIKE SA, it answers one of probePaths' copies: the message ID and SPIs matched and it is
 * authenticated (or it is dropped before the task sees it), so the peer is reachable there while the SA's own path
 * may be dead. The SA moves there with UPDATE_SA_ADDRESSES (NAT-D and COOKIE2: MobikeUpdateTask), queued first so
 * nothing else is sent over the old path first (RFC 4555 3.5). Without MOBIKE nothing changes here (dispatch.ts
 * keeps RFC 7296 2.23 for those); the responder never moves an SA itself.
 */
export function responseArrivedOver(ctx: EndpointContext, sa: IkeSa, path: Path, now: number): void {
  const off = mobikeInitiator(sa) && mobikeActive(sa) && sa.state === 'ESTABLISHED' && !samePath(path, sa);
  // Only a path we probe moves the SA: a response from an address neither side named (replayed from elsewhere by
  // someone on the path, RFC 4555 5.2.1) is processed as before and changes no address.
  const known = off && otherPaths(ctx, sa).some((p) => samePath(p, path));
  offPath.set(sa, known);
  if (off && !known) ctx.log('ike', 1, sa, `response from ${fmt(path.remote)} to ${fmt(path.local)}, a path we do not probe: the SA stays on ${fmt(sa.local)} - ${fmt(sa.remote)}`);
  if (!known) return;
  const next = sa.queue[0];
  if (next instanceof MobikeUpdateTask && next.goesTo(path)) return;
  ctx.log('ike', 1, sa, `response from ${fmt(path.remote)} to ${fmt(path.local)}, not over ${fmt(sa.local)} - ${fmt(sa.remote)}: that path works, moving the SA there (RFC 4555 3.5)`);
  ctx.queueTask(sa, new MobikeUpdateTask(ctx, sa, path.local, path.remote), now, { first: true });
}

/** The response being processed came over another path than the SA's (an update to that path is queued). */
function answeredOffPath(sa: IkeSa): boolean {
  return offPath.get(sa) === true;
}

/** ADDITIONAL_IP4/6_ADDRESS for our addresses other than the one `sa` uses, or NO_ADDITIONAL_ADDRESSES (3.4). */
function additionalAddresses(ctx: EndpointContext, sa: IkeSa, noneNotify: boolean): Payload[] {
  const others = (localAddresses.get(ctx) ?? []).filter((a) => a !== sa.local.address).slice(0, MAX_ADDITIONAL_ADDRESSES);
  const out: Payload[] = [];
  for (const a of others) {
    const b = parseIp(a);
    if (b) out.push(notify(b.length === 4 ? NotifyType.ADDITIONAL_IP4_ADDRESS : NotifyType.ADDITIONAL_IP6_ADDRESS, b));
  }
  if (out.length === 0 && noneNotify) out.push(notify(NotifyType.NO_ADDITIONAL_ADDRESSES));
  return out;
}

/** The peer's ADDITIONAL_IP4/6_ADDRESS or NO_ADDITIONAL_ADDRESSES in any MOBIKE message (3.4, 3.6): its list now. */
function notePeerAddresses(ctx: EndpointContext, sa: IkeSa, payloads: readonly Payload[]): void {
  const v4 = notifies(payloads, NotifyType.ADDITIONAL_IP4_ADDRESS);
  const v6 = notifies(payloads, NotifyType.ADDITIONAL_IP6_ADDRESS);
  if (v4.length === 0 && v6.length === 0 && !hasNotify(payloads, NotifyType.NO_ADDITIONAL_ADDRESSES)) return;
  const list: string[] = [];
  for (const [ns, len, name] of [[v4, 4, 'ADDITIONAL_IP4_ADDRESS'], [v6, 16, 'ADDITIONAL_IP6_ADDRESS']] as const) {
    for (const n of ns) {
      if (n.data.length === len) list.push(formatIp(n.data));
      else ctx.log('ike', 1, sa, `ignoring ${name} of ${n.data.length} bytes (RFC 4555 3.4: ${len})`);
    }
  }
  const addrs = list.filter((a) => a !== sa.remote.address);
  peerAddresses.set(sa, addrs);
  ctx.log('ike', 1, sa, addrs.length > 0 ? `peer's additional addresses: ${addrs.join(', ')}` : 'peer has no additional addresses');
}

function stateOf(sa: IkeSa): MobikeState {
  let s = state.get(sa);
  if (!s) {
    s = { ours: false, peer: false, stale: false, initiator: sa.initiator };
    state.set(sa, s);
  }
  return s;
}

/**
 * An IKE rekey (RFC 7296 2.18) replaced `old` with `next`: MOBIKE negotiated in IKE_AUTH stays negotiated (no
 * IKE_AUTH on the new SA announces it again, RFC 4555 3.1), with the peer's address list (3.4) and its NAT mapping.
 * For the rekey's successor() (ike-rekey.ts): without this call MOBIKE ends with the first IKE rekey.
 */
export function inheritMobike(old: IkeSa, next: IkeSa): void {
  const s = state.get(old);
  if (s) state.set(next, { ours: s.ours, peer: s.peer, stale: false, initiator: s.initiator });
  const addrs = peerAddresses.get(old);
  if (addrs) peerAddresses.set(next, [...addrs]);
  const mapping = natMapping.get(old);
  if (mapping) natMapping.set(next, mapping);
}

/** `mobike` of a connection: strongSwan's default is yes. */
export function mobikeEnabled(conn: IkeConnectionConfig | undefined): boolean {
  return conn !== undefined && (conn as { mobike?: boolean }).mobike !== false;
}

/** We are the MOBIKE initiator of `sa` (RFC 4555 1.1: we started its first IKE SA, whoever rekeyed it since). */
export function mobikeInitiator(sa: IkeSa): boolean {
  return state.get(sa)?.initiator ?? sa.initiator;
}

/** Both sides announced MOBIKE_SUPPORTED in IKE_AUTH (RFC 4555 3.1). */
export function mobikeActive(sa: IkeSa): boolean {
  const s = state.get(sa);
  return s !== undefined && s.ours && s.peer;
}

/** Initiator, waiting for an address after losing its own (RFC 4555 3.5). */
export function mobikeStale(sa: IkeSa): boolean {
  return state.get(sa)?.stale === true;
}

/**
 * IKE_AUTH, initiator request: N(MOBIKE_SUPPORTED) when the connection allows it (RFC 4555 3.1). Responder:
 * only in answer to a peer that announced it (`peerPayloads`), as strongSwan does.
 */
export function mobikeSupported(ctx: EndpointContext, sa: IkeSa, conn: IkeConnectionConfig, peerPayloads?: readonly Payload[]): Payload[] {
  if (peerPayloads) notePeerMobike(ctx, sa, peerPayloads);
  if (!mobikeEnabled(conn)) return [];
  if (peerPayloads && !stateOf(sa).peer) return [];
  stateOf(sa).ours = true;
  // 3.4: our other addresses ride along (as strongSwan: none listed, no notify, in IKE_AUTH).
  return [notify(NotifyType.MOBIKE_SUPPORTED), ...additionalAddresses(ctx, sa, false)];
}

/** IKE_AUTH: the peer's N(MOBIKE_SUPPORTED), in any of its messages (RFC 4555 3.1), and its other addresses (3.4). */
export function notePeerMobike(ctx: EndpointContext, sa: IkeSa, payloads: readonly Payload[]): void {
  if (!hasNotify(payloads, NotifyType.MOBIKE_SUPPORTED)) return;
  stateOf(sa).peer = true;
  notePeerAddresses(ctx, sa, payloads);
}

/**
 * Our NAT_DETECTION_* for the addresses the SA uses now (RFC 4555 3.5). With encap = yes (cygnet's default: a
 * userspace data path has no other way to get ESP) the source hash cannot match, as in IKE_SA_INIT: a peer that
 * saw the real one would conclude 'not behind NAT anymore' and switch its ESP to plain IP protocol 50, which
 * cygnet never receives (strongSwan then even rekeys to turn encapsulation off).
 */
function natdNotifies(ctx: EndpointContext, sa: IkeSa, at: { local: Address; remote: Address } = sa): Payload[] {
  const source = sa.conn?.encap === true ? randomBytes(ctx.random, 20) : natDetectionHash(ctx.crypto, sa.spiI, sa.spiR, at.local);
  return [
    notify(NotifyType.NAT_DETECTION_SOURCE_IP, source),
    notify(NotifyType.NAT_DETECTION_DESTINATION_IP, natDetectionHash(ctx.crypto, sa.spiI, sa.spiR, at.remote)),
  ];
}

/**
 * Initiator: the peer's last NAT_DETECTION_DESTINATION_IP, the hash of our address and port as it sees them (each
 * answer carrying NAT-D). A different one later means our NAT mapping changed. Not IKE_SA_INIT's, as strongSwan:
 * RFC 4555 3.5 says to compare with it too, but that one hashed the mapping of port 500 and we float to 4500.
 */
const natMapping = new WeakMap<IkeSa, Uint8Array>();

/** MOBIKE answers: the peer's view of our address, for NAT rebinding detection. */
export function noteNatMapping(sa: IkeSa, destination: readonly Uint8Array[]): void {
  const d = destination[0];
  if (mobikeInitiator(sa) && d) natMapping.set(sa, d);
}

/**
 * A liveness check of a MOBIKE initiator behind a real NAT carries NAT-D (as strongSwan's ike_mobike dpd()): with
 * MOBIKE the responder does no implicit update (RFC 4555 3.5), so a NAT that changed its mapping must be found
 * here and told with UPDATE_SA_ADDRESSES.
 */
export function dpdNatd(ctx: EndpointContext, sa: IkeSa): Payload[] {
  return mobikeInitiator(sa) && mobikeActive(sa) && sa.natLocalReal ? natdNotifies(ctx, sa) : [];
}

/**
 * The answer to such a liveness check: when its NAT_DETECTION_DESTINATION_IP differs from the last one the NAT
 * rebound us to another address or port; an address update follows from the same local address (RFC 4555 3.5,
 * 3.10), so the responder moves its IKE and ESP SAs to the new mapping. True when the update was queued.
 */
export function dpdAnswered(ctx: EndpointContext, sa: IkeSa, payloads: readonly Payload[], now: number): boolean {
  const d = notifies(payloads, NotifyType.NAT_DETECTION_DESTINATION_IP)[0]?.data;
  if (!d || !mobikeInitiator(sa) || !mobikeActive(sa)) return false;
  // Answered over another path (a probe copy): its NAT-D hashes that path, not ours; the update to that path that
  // is queued (responseArrivedOver) learns the mapping there.
  if (answeredOffPath(sa)) return false;
  const last = natMapping.get(sa);
  natMapping.set(sa, d);
  if (!last || (last.length === d.length && last.every((b, i) => b === d[i]))) return false;
  ctx.log('ike', 1, sa, `NAT mapping of ${fmt(sa.local)} changed (the peer's NAT_DETECTION_DESTINATION_IP differs): sending an address update (RFC 4555 3.5)`);
  ctx.queueTask(sa, new MobikeUpdateTask(ctx, sa, sa.local), now);
  return true;
}

/**
 * Responder: a MOBIKE request that is no address update but carries NAT-D (a liveness check, a path probe) is
 * answered with NAT-D for the addresses it came from and to, so the initiator can see a NAT mapping change.
 */
export function natdAnswer(ctx: EndpointContext, sa: IkeSa, req: readonly Payload[]): Payload[] {
  // 3.6: an INFORMATIONAL may also just tell the peer's new list of addresses.
  if (mobikeActive(sa)) notePeerAddresses(ctx, sa, req);
  const at = requestAddresses(sa);
  followResponder(ctx, sa, req, at);
  if (!mobikeActive(sa) || mobikeInitiator(sa) || !at || !hasNotify(req, NotifyType.NAT_DETECTION_DESTINATION_IP)) return [];
  return natdNotifies(ctx, sa, at);
}

/**
 * Initiator: a MOBIKE responder whose own address changed tells us with its address list (3.6), sent over the path
 * it found working, from its new address: "implicitly requesting an address change", as strongSwan's responder
 * logs it. strongSwan's initiator then takes the addresses that authenticated request came over (ike_mobike.c
 * process_r: update_hosts to the message's source and destination); so does cygnet, or each side would send to an
 * address the other no longer uses (seen against charon 5.9.8, which roams as responder right after IKE_AUTH when
 * kernel-libipsec's routes appear). An empty liveness check or path probe (no address list) moves nothing.
 */
function followResponder(ctx: EndpointContext, sa: IkeSa, req: readonly Payload[], at: { local: Address; remote: Address } | undefined): void {
  if (!at || !mobikeActive(sa) || !mobikeInitiator(sa) || sa.state !== 'ESTABLISHED') return;
  const list = hasNotify(req, NotifyType.ADDITIONAL_IP4_ADDRESS) || hasNotify(req, NotifyType.ADDITIONAL_IP6_ADDRESS) || hasNotify(req, NotifyType.NO_ADDITIONAL_ADDRESSES);
  if (!list || (at.remote.address === sa.remote.address && at.remote.port === sa.remote.port)) return;
  const from = { local: sa.local, remote: sa.remote };
  sa.local = at.local;
  sa.remote = at.remote;
  ctx.log('ike', 1, sa, `peer sent its address list from ${fmt(at.remote)} to ${fmt(at.local)}: following its address change (RFC 4555 3.6)`);
  moved(ctx, sa, from);
}

/** NAT state from the peer's NAT_DETECTION_* (RFC 4555 3.5), against the addresses the SA uses now. */
function applyNat(ctx: EndpointContext, sa: IkeSa, payloads: readonly Payload[]): void {
  const source = notifies(payloads, NotifyType.NAT_DETECTION_SOURCE_IP).map((n) => n.data);
  const destination = notifies(payloads, NotifyType.NAT_DETECTION_DESTINATION_IP).map((n) => n.data);
  if (source.length === 0 && destination.length === 0) return;
  const r = evaluateNatDetection(ctx.crypto, sa.spiI, sa.spiR, { source, destination }, sa.local, sa.remote);
  const encap = sa.conn?.encap === true;
  if (r.localBehindNat !== sa.natLocalReal) ctx.log('ike', 1, sa, r.localBehindNat ? 'local host is behind NAT now, sending keep alives' : 'local host is no longer behind NAT');
  sa.natLocal = r.localBehindNat || encap;
  sa.natLocalReal = r.localBehindNat;
  sa.natRemote = r.remoteBehindNat;
}

/** The SA moved: logged as strongSwan does and reported so the ESP SAs follow (their UDP encapsulation, 3.6). */
export function moved(ctx: EndpointContext, sa: IkeSa, from: { local: Address; remote: Address }): void {
  const same = (a: Address, b: Address): boolean => a.address === b.address && a.port === b.port;
  if (same(from.local, sa.local) && same(from.remote, sa.remote)) return;
  ctx.log('ike', 0, sa, `IKE_SA ${sa.name}[${sa.id}] moved from ${fmt(from.local)}-${fmt(from.remote)} to ${fmt(sa.local)}-${fmt(sa.remote)}`);
  ctx.emit({ type: 'ike-address-change', sa: sa.info(), children: sa.children.map((c) => sa.childInfo(c)), from });
}

/**
 * Initiator (RFC 4555 3.5): our address changed to `local` (or the path changed): the request goes from there,
 * and its retransmissions too, so a path that works carries it. Answered: NAT state and ESP endpoints follow.
 */
export class MobikeUpdateTask implements Task {
  readonly kind = 'IKE_MOBIKE';
  readonly exchange = ExchangeType.INFORMATIONAL;
  private cookie2: Uint8Array | undefined;
  private from: { local: Address; remote: Address } | undefined;
  /** The message ID our request goes with (outbound.ts numbers it right after build). */
  private messageId = -1;

  /**
   * `remote`: another address of the peer to try (path probing, 3.5); `tried`: the paths (pathKey) already tried
   * by this round of updates.
   */
  constructor(
    private readonly ctx: EndpointContext,
    private readonly sa: IkeSa,
    private readonly local: Address,
    private readonly remote?: Address,
    private readonly tried: ReadonlySet<string> = new Set(),
  ) {}

  /** This update moves the SA to `path` (responseArrivedOver: no second one is queued for it). */
  goesTo(path: Path): boolean {
    return samePath(path, { local: this.local, remote: this.remote ?? this.sa.remote });
  }

  build(): Payload[] | undefined {
    const { ctx, sa } = this;
    if (sa.state !== 'ESTABLISHED' || !mobikeActive(sa)) return undefined;
    this.from = { local: sa.local, remote: sa.remote };
    this.messageId = sa.nextRequestId;
    sa.local = this.local;
    if (this.remote) sa.remote = this.remote;
    stateOf(sa).stale = false;
    // RFC 4555 3.7: COOKIE2 ties the answer to this request (a return routability check of the new path).
    this.cookie2 = randomBytes(ctx.random, 16);
    ctx.log('ike', 1, sa, `sending address update from ${fmt(sa.local)} to ${fmt(sa.remote)} (RFC 4555 UPDATE_SA_ADDRESSES)`);
    // 3.4/3.6: our other addresses, or NO_ADDITIONAL_ADDRESSES when this is the only one.
    return [notify(NotifyType.UPDATE_SA_ADDRESSES), ...natdNotifies(ctx, sa), notify(NotifyType.COOKIE2, this.cookie2), ...additionalAddresses(ctx, sa, true)];
  }

  process(_h: unknown, payloads: readonly Payload[]): TaskStatus {
    const { ctx, sa } = this;
    const echoed = notifies(payloads, NotifyType.COOKIE2)[0]?.data;
    const cookie = this.cookie2;
    if (cookie && (!echoed || echoed.length !== cookie.length || !echoed.every((b, i) => b === cookie[i]))) {
      // RFC 4555 3.7: a response without our COOKIE2 is not proof the peer saw this request.
      ctx.log('ike', 1, sa, 'address update answered without our COOKIE2 (RFC 4555 3.7): update not confirmed');
      return 'done';
    }
    if (answeredOffPath(sa) && this.from) {
      // A probe copy of this update was answered over another path (RFC 4555 3.5): the responder moved there, and
      // an update to that path is queued (responseArrivedOver), with NAT-D for it. This answer's NAT-D hashes
      // that path, not the one we asked for: nothing from it is applied, and the SA counts as where it was until
      // the queued update moves it (logged then from where to where).
      sa.local = this.from.local;
      sa.remote = this.from.remote;
      return 'done';
    }
    applyNat(ctx, sa, payloads);
    noteNatMapping(sa, notifies(payloads, NotifyType.NAT_DETECTION_DESTINATION_IP).map((n) => n.data));
    if (sa.natLocal || sa.natRemote) sa.encapsulated = true;
    if (this.from) moved(ctx, sa, this.from);
    return 'done';
  }

  timeout(now: number): void {
    const { ctx, sa } = this;
    // The responder never answered this request, so it still expects its message ID (RFC 7296 2.3): the next
    // update reuses it. Had it processed the request and only the answer been lost, it answers the next one from
    // its cache, with the old COOKIE2: reported unconfirmed, and the SA stays in step.
    if (sa.nextRequestId === this.messageId + 1) sa.nextRequestId = this.messageId;
    // RFC 4555 3.5: this path fails: try the others, one by one (otherPaths: the peer's other addresses (3.4) from
    // our address first, then our other addresses, each with every peer address), each path once per round.
    const tried = new Set([...this.tried, pathKey(sa)]);
    const next = otherPaths(ctx, sa).find((p) => !tried.has(pathKey(p)));
    if (next !== undefined) {
      const what = next.local.address === sa.local.address ? `the peer's other address ${next.remote.address}` : `the path ${fmt(next.local)} - ${fmt(next.remote)}`;
      ctx.log('ike', 1, sa, `address update from ${fmt(sa.local)} to ${fmt(sa.remote)} unanswered: trying ${what} (RFC 4555 3.5)`);
      ctx.queueTask(sa, new MobikeUpdateTask(ctx, sa, next.local, next.remote, tried), now);
      return;
    }
    // No path works: keep the SA and wait for another address.
    stateOf(sa).stale = true;
    ctx.log('ike', 1, sa, `address update from ${fmt(sa.local)} unanswered: waiting for another local address (RFC 4555 3.5)`);
  }
}

/**
 * RFC 4555 3.6: our list of addresses changed (one appeared, one went): an INFORMATIONAL request carrying the new
 * ADDITIONAL_IP4/6_ADDRESS list, or NO_ADDITIONAL_ADDRESSES, so the peer probes the right ones (3.5). Sent by either
 * side, as strongSwan's 'sending address list update using MOBIKE'. The SA's addresses stay as they are; an
 * initiator whose own address went sends UPDATE_SA_ADDRESSES instead (MobikeUpdateTask carries the list too).
 */
export class MobikeAddressesTask implements Task {
  readonly kind = 'IKE_MOBIKE';
  readonly exchange = ExchangeType.INFORMATIONAL;

  constructor(
    private readonly ctx: EndpointContext,
    private readonly sa: IkeSa,
  ) {}

  build(): Payload[] | undefined {
    const { ctx, sa } = this;
    if (sa.state !== 'ESTABLISHED' || !mobikeActive(sa) || stateOf(sa).stale) return undefined;
    const list = additionalAddresses(ctx, sa, true);
    const shown = (localAddresses.get(ctx) ?? []).filter((a) => a !== sa.local.address).slice(0, MAX_ADDITIONAL_ADDRESSES);
    ctx.log('ike', 1, sa, `sending address list update (RFC 4555 3.6): ${shown.length > 0 ? `additional addresses ${shown.join(', ')}` : 'no additional addresses'}`);
    return list;
  }

  process(): TaskStatus {
    return 'done';
  }

  timeout(now: number): void {
    const { ctx, sa } = this;
    // The initiator probes the peer's other addresses before it gives up, as after an unanswered update (3.5).
    if (mobikeInitiator(sa) && mobikeActive(sa)) {
      ctx.log('ike', 1, sa, `address list update to ${fmt(sa.remote)} unanswered: checking the path with an address update (RFC 4555 3.5)`);
      ctx.queueTask(sa, new MobikeUpdateTask(ctx, sa, sa.local), now);
      return;
    }
    ctx.destroySa(sa, 'timeout', `peer ${sa.remote.address} did not answer the address list update: giving up after ${ctx.settings.retransmit.tries} retransmits`);
  }
}

/**
 * Responder (RFC 4555 3.6): an authenticated N(UPDATE_SA_ADDRESSES) from `from` to `to`: the SA's addresses are
 * those of the request, NAT state re-evaluated from its NAT_DETECTION_*, ESP endpoints follow; COOKIE2 echoed.
 * Without MOBIKE negotiated the notify is ignored (the SA stays where it is) and the request answered empty.
 */
export function respondUpdateSaAddresses(ctx: EndpointContext, sa: IkeSa, req: readonly Payload[], messageId: number, at: { local: Address; remote: Address } | undefined): void {
  const cookie2 = notifies(req, NotifyType.COOKIE2)[0]?.data;
  const echo = cookie2 ? [notify(NotifyType.COOKIE2, cookie2)] : [];
  if (!mobikeActive(sa) || mobikeInitiator(sa) || !at) {
    ctx.log('ike', 1, sa, `ignoring UPDATE_SA_ADDRESSES: ${mobikeInitiator(sa) ? 'only the initiator moves an IKE SA (RFC 4555 3.5)' : 'MOBIKE was not negotiated (RFC 4555 3.1)'}`);
    ctx.sendResponse(sa, ExchangeType.INFORMATIONAL, messageId, echo);
    return;
  }
  const from = { local: sa.local, remote: sa.remote };
  sa.local = at.local;
  sa.remote = at.remote;
  notePeerAddresses(ctx, sa, req);
  applyNat(ctx, sa, req);
  const resp = [...natdNotifies(ctx, sa), ...echo];
  ctx.sendResponse(sa, ExchangeType.INFORMATIONAL, messageId, resp);
  moved(ctx, sa, from);
}
