/**
 * IKE_AUTH with pre-shared keys and the first CHILD SA (RFC 7296 1.2, 2.15):
 *
 *   HDR, SK {IDi, [N(INITIAL_CONTACT)], [IDr], AUTH, SAi2, TSi, TSr}  -->
 *                                         <--  HDR, SK {IDr, AUTH, SAr2, TSi, TSr}
 *
 * A CHILD SA failure (NO_PROPOSAL_CHOSEN, TS_UNACCEPTABLE, ...) in the response leaves the IKE SA up without it
 * (RFC 7296 2.21.3); an AUTHENTICATION_FAILED closes the IKE SA (2.21.2).
 */
import { ExchangeType, NotifyType, PayloadType, type IdPayload, type Payload, type TsPayload } from '../codec/types.js';
import type { IkeDownReason } from '../events.js';
import type { ChildConfig, IkeConnectionConfig } from '../config.js';
import type { EndpointContext } from '../context.js';
import { connOf, type IkeSa, type KeyedIkeSa } from '../ike-sa.js';
import { formatIdentity, identityEquals, identityMatches, parseIdentity, type Identity } from '../identity.js';
import { errorNotify, findPayload, hasNotify, notify, notifyName } from '../payload-util.js';
import { buildChildOffer, processChildResponse, respondChild } from './child-sa.js';
import { connectionsFor, peerConfigsFor, trafficSelectorFit } from '../connection-select.js';
import { answerCpRequest, buildCpRequest, readCpReply } from './config-payload.js';
import { ChildCreateTask, deleteRefused } from './child-create.js';
import { DeleteIkeTask } from './ike-delete.js';
import { NotifyTask } from './ike-notify.js';
import { ReauthCompleteTask } from './ike-reauth.js';
import { closeOnTimeout } from './common.js';
import type { Task, TaskStatus } from './task.js';
import { scheduleIkeLifetimes } from '../lifetimes.js';
import { fmt } from '../format.js';
import { remoteNatExplanation } from '../natd.js';
import { transition } from '../sa-state.js';
import { buildOurAuth, checkPeerAuth } from '../auth-methods.js';
import { certIdentity, certreqPayload } from '../auth-pubkey.js';

/** The NAT verdict IKE_SA_INIT left open, now that the peer's ID is known (natd.ts remoteNatExplanation). */
function reportRemoteNat(ctx: EndpointContext, sa: IkeSa, remoteId: Identity): void {
  if (!sa.natRemoteLogPending) return;
  sa.natRemoteLogPending = false;
  ctx.log('ike', 1, sa, remoteNatExplanation(sa.local, sa.remote, remoteId) ?? 'remote host is behind NAT');
}

/** Our identity for a connection: the configured one, or our IP address when none is set (strongSwan's default). */
function localIdentity(sa: IkeSa, conn: IkeConnectionConfig): Identity {
  if (conn.local.id.type !== 0) return conn.local.id;
  if (conn.local.method === 'pubkey') return certIdentity(conn) ?? parseIdentity(sa.local.address);
  return parseIdentity(sa.local.address);
}

function idPayload(type: typeof PayloadType.IDi | typeof PayloadType.IDr, id: Identity): IdPayload {
  return { type, critical: false, idType: id.type, data: id.data };
}

function toIdentity(p: IdPayload): Identity {
  return { type: p.idType, data: p.data };
}

// ---------------------------------------------------------------------------------------------- initiator

/**
 * IKE_AUTH, initiator (RFC 7296 1.2, 2.15): our identity and AUTH (with certificates and CERTREQ for pubkey),
 * INITIAL_CONTACT (2.4), a configuration request for virtual IPs (3.15) and the first CHILD SA.
 */
export class IkeAuthTask implements Task {
  readonly kind = 'IKE_AUTH';
  readonly exchange = ExchangeType.IKE_AUTH;

  constructor(
    private readonly ctx: EndpointContext,
    private readonly sa: KeyedIkeSa,
    readonly child: ChildConfig | undefined,
  ) {}

  build(): Payload[] | undefined {
    const { ctx, sa } = this;
    const child = this.child;
    const conn = connOf(sa, 'IkeAuthTask');
    sa.localId = localIdentity(sa, conn);
    const ours = buildOurAuth(ctx, sa, conn, conn.remote.id);
    if (!ours.ok) {
      ctx.destroySa(sa, 'auth-failed', ours.message);
      return undefined;
    }
    const payloads: Payload[] = [idPayload(PayloadType.IDi, sa.localId)];
    // RFC 7296 2.4: INITIAL_CONTACT when we hold no other IKE SA with this peer identity.
    const others = ctx.establishedSas().some((o) => o !== sa && o.conn?.name === conn.name);
    if (!others) payloads.push(notify(NotifyType.INITIAL_CONTACT));
    payloads.push(...ours.certs);
    const certreq = certreqPayload(ctx.credentials, conn);
    if (certreq) payloads.push(certreq);
    if (conn.remote.id.type !== 0) payloads.push(idPayload(PayloadType.IDr, conn.remote.id));
    payloads.push(ours.auth);
    const cpReq = buildCpRequest(conn, sa.vipHint);
    if (cpReq) {
      payloads.push(cpReq);
      sa.requestingVips = true;
    }
    if (child) {
      const spiIn = ctx.allocateChildSpi();
      const offer = buildChildOffer(sa, child, spiIn, { stripKe: true });
      sa.initialChild = { config: child, spiIn, localTs: offer.localTs, remoteTs: offer.remoteTs };
      payloads.push(offer.sa, offer.tsi, offer.tsr);
    }
    ctx.log('ike', 1, sa, `authentication of '${formatIdentity(sa.localId)}' (myself) with ${ours.label}`);
    return payloads;
  }

  process(_h: unknown, payloads: readonly Payload[], now: number): TaskStatus {
    const { ctx, sa } = this;
    const conn = connOf(sa, 'IkeAuthTask.process');
    if (hasNotify(payloads, NotifyType.AUTHENTICATION_FAILED)) {
      const what = conn.local.method === 'psk' ? `the pre-shared key for '${formatIdentity(sa.localId)}' <-> '${formatIdentity(conn.remote.id)}' differs from the peer's` : `the peer does not accept our certificate or signature (check its CA, our certificate's identities and its revocation)`;
      const msg =
        `peer ${fmt(sa.remote)} rejected our authentication (AUTHENTICATION_FAILED): ${what}, ` +
        `or the peer expects other identities (we sent IDi '${formatIdentity(sa.localId)}'${conn.remote.id.type !== 0 ? `, IDr '${formatIdentity(conn.remote.id)}'` : ''})`;
      ctx.emit({ type: 'auth-failed', ikeSaId: sa.id, message: msg });
      ctx.destroySa(sa, 'auth-failed', msg);
      return 'done';
    }
    const idr = findPayload(payloads, PayloadType.IDr) as IdPayload | undefined;
    const auth = findPayload(payloads, PayloadType.AUTH);
    if (!idr || !auth) {
      const err = errorNotify(payloads);
      const msg = err ? `peer answered IKE_AUTH with ${notifyName(err.notifyType)}` : 'IKE_AUTH response lacks IDr or AUTH';
      ctx.destroySa(sa, err ? 'error' : 'invalid-syntax', msg);
      return 'done';
    }
    // RFC 3.10.1: an error type we do not handle in a response means "the corresponding request has failed
    // entirely". The errors about the CHILD SA leave the IKE SA up (2.21.3, handled below); any other one fails
    // it, and since the peer believes the IKE SA is up, we delete it there (strongSwan also fails IKE_AUTH here).
    const fatal = payloads.find((x) => x.type === PayloadType.NOTIFY && x.notifyType < 16384 && !CHILD_ERRORS.has(x.notifyType));
    if (fatal && fatal.type === PayloadType.NOTIFY) {
      closeWithDelete(ctx, sa, 'error', `peer answered IKE_AUTH with ${notifyName(fatal.notifyType)}`, now);
      return 'done';
    }
    const remoteId = toIdentity(idr);
    reportRemoteNat(ctx, sa, remoteId);
    if (!identityMatches(conn.remote.id, remoteId)) {
      const msg = `peer identity '${formatIdentity(remoteId)}' does not match the configured remote id '${formatIdentity(conn.remote.id)}'`;
      failAfterAuth(ctx, sa, msg, now);
      return 'done';
    }
    sa.remoteId = remoteId;
    const peer = checkPeerAuth(ctx, sa, conn, payloads, auth, remoteId, now);
    if (!peer.ok) {
      failAfterAuth(ctx, sa, peer.message, now);
      return 'done';
    }
    ctx.log('ike', 1, sa, `authentication of '${formatIdentity(remoteId)}' with ${peer.label} successful`);
    established(ctx, sa, conn, now);
    if (sa.requestingVips) {
      sa.requestingVips = false;
      const got = readCpReply(payloads);
      sa.virtualIps = got.addresses;
      if (got.addresses.length > 0) {
        ctx.log('ike', 0, sa, `installing new virtual IP ${got.addresses.join(', ')}${got.dns.length ? `, DNS ${got.dns.join(', ')}` : ''}`);
        ctx.emit({ type: 'vip-assigned', ikeSaId: sa.id, addresses: got.addresses, dns: got.dns });
      } else ctx.log('ike', 0, sa, 'no virtual IP received from the peer although we asked for one');
    }
    const offer = sa.initialChild;
    if (offer) {
      const err = errorNotify(payloads);
      if (err) {
        const msg = `CHILD_SA ${offer.config.name} not established: peer answered ${notifyName(err.notifyType)}`;
        ctx.log('ike', 0, sa, msg);
        ctx.emit({ type: 'child-failed', ikeSaId: sa.id, name: offer.config.name, notify: notifyName(err.notifyType), message: msg });
      } else {
        const r = processChildResponse(ctx, sa, offer, payloads, now, { stripKe: true, Ni: sa.Ni, Nr: sa.Nr });
        if (!r.ok) {
          ctx.log('ike', 0, sa, `CHILD_SA ${offer.config.name} not established: ${r.message}`);
          ctx.emit({ type: 'child-failed', ikeSaId: sa.id, name: offer.config.name, notify: 'INVALID_SYNTAX', message: r.message });
          ctx.releaseChildSpi(offer.spiIn);
          deleteRefused(ctx, sa, payloads, offer.spiIn, now);
        }
      }
    }
    // Only now (the CHILD SA of IKE_AUTH is in place) queue the follow-up CHILD SAs and a reauthentication's end.
    afterInitiatorUp(ctx, sa, now);
    return 'done';
  }

  timeout(): void {
    closeOnTimeout(this.ctx, this.sa, this.exchange);
  }
}

/** Error notifies about the CHILD SA of IKE_AUTH: the IKE SA is set up without it (RFC 7296 2.21.3). */
const CHILD_ERRORS = new Set<number>([
  NotifyType.NO_PROPOSAL_CHOSEN,
  NotifyType.SINGLE_PAIR_REQUIRED,
  NotifyType.NO_ADDITIONAL_SAS,
  NotifyType.INTERNAL_ADDRESS_FAILURE,
  NotifyType.FAILED_CP_REQUIRED,
  NotifyType.TS_UNACCEPTABLE,
  NotifyType.INVALID_SELECTORS,
]);

/**
 * The initiator cannot accept an authentic IKE_AUTH response (malformed, or failing with an error we cannot act
 * on), but the responder already considers the IKE SA established. RFC 7296 2.21.2 lets the initiator report such
 * errors in a separate INFORMATIONAL exchange; we send a Delete of the IKE SA so the responder does not keep a half
 * SA (and its CHILD SA) until DPD or the lifetime removes it, then close ours whatever the answer.
 */
export function closeWithDelete(ctx: EndpointContext, sa: IkeSa, reason: IkeDownReason, message: string, now: number): void {
  ctx.log('ike', 0, sa, `${message}; deleting the IKE_SA at the peer`);
  ctx.queueTask(sa, new DeleteIkeTask(ctx, sa, { reason, message, why: 'initiator rejects an authentic IKE_AUTH response' }), now, { first: true });
}

/** RFC 7296 2.21.2: an initiator that rejects the responder's AUTH tells it in an INFORMATIONAL, then closes. */
function failAfterAuth(ctx: EndpointContext, sa: IkeSa, message: string, now: number): void {
  ctx.emit({ type: 'auth-failed', ikeSaId: sa.id, message });
  ctx.log('ike', 0, sa, `${message}; notifying the peer`);
  ctx.queueTask(sa, new NotifyTask([notify(NotifyType.AUTHENTICATION_FAILED)], () => ctx.destroySa(sa, 'auth-failed', message)), now, { first: true });
}

/**
 * Initiator, once IKE_AUTH is done: create the further CHILD SAs this SA should carry (reauthentication,
 * restart), then, when this SA reauthenticates another one (make-before-break), delete the old IKE SA. The queue
 * runs these one after the other, after the CHILD SA of IKE_AUTH itself.
 */
function afterInitiatorUp(ctx: EndpointContext, sa: IkeSa, now: number): void {
  for (const cfg of sa.pendingChildren.splice(0)) ctx.queueTask(sa, new ChildCreateTask(ctx, sa, cfg), now);
  const old = sa.reauthOf;
  if (old) ctx.queueTask(sa, new ReauthCompleteTask(ctx, sa, old), now);
}

function established(ctx: EndpointContext, sa: IkeSa, conn: IkeConnectionConfig, now: number): void {
  transition(ctx, sa, 'ESTABLISHED', 'IKE_AUTH complete');
  sa.establishedAt = now;
  sa.lastInbound = now;
  sa.halfOpenDeadline = undefined;
  scheduleIkeLifetimes(ctx, sa, conn, now);
  const h = (b: Uint8Array): string => Buffer.from(b).toString('hex');
  ctx.log('ike', 0, sa, `IKE_SA ${sa.name}[${sa.id}] established between ${sa.local.address}[${formatIdentity(sa.localId)}]...${sa.remote.address}[${formatIdentity(sa.remoteId)}]`);
  ctx.log('ike', 1, sa, `IKE_SA ${sa.name}[${sa.id}] SPIs ${h(sa.spiI)}_i${sa.initiator ? '*' : ''} ${h(sa.spiR)}_r${sa.initiator ? '' : '*'}, suite ${sa.info().suite}`);
  ctx.emit({ type: 'ike-up', sa: sa.info() });
}

// ---------------------------------------------------------------------------------------------- responder

export function respondIkeAuth(ctx: EndpointContext, sa: KeyedIkeSa, req: readonly Payload[], messageId: number, now: number): void {
  const answerFail = (message: string): void => {
    // destroySa logs the message once.
    ctx.emit({ type: 'auth-failed', ikeSaId: sa.id, message });
    ctx.sendResponse(sa, ExchangeType.IKE_AUTH, messageId, [notify(NotifyType.AUTHENTICATION_FAILED)]);
    ctx.destroySa(sa, 'auth-failed', message);
  };
  if (sa.state !== 'CONNECTING') {
    ctx.sendResponse(sa, ExchangeType.IKE_AUTH, messageId, [notify(NotifyType.INVALID_SYNTAX)]);
    return;
  }
  const idi = findPayload(req, PayloadType.IDi) as IdPayload | undefined;
  const idr = findPayload(req, PayloadType.IDr) as IdPayload | undefined;
  const auth = findPayload(req, PayloadType.AUTH);
  if (!idi || !auth) {
    // EAP and multiple authentication rounds are not supported: no AUTH means the peer wants EAP (RFC 7296 2.16).
    answerFail(`IKE_AUTH request from ${fmt(sa.remote)} without ${!idi ? 'IDi' : 'AUTH (EAP is not supported)'}`);
    return;
  }
  const remoteId = toIdentity(idi);
  const wantedLocal = idr ? toIdentity(idr) : undefined;
  reportRemoteNat(ctx, sa, remoteId);
  sa.remoteId = remoteId;
  // Peer config lookup (strongSwan: by addresses, then identities): the remote id must match IDi, and our local
  // id must match IDr when the initiator named one.
  // The most specific connection wins, not the one IKE_SA_INIT settled on (strongSwan's peer_cfg priorities:
  // identities, then addresses, then how the proposed traffic selectors fit); ties keep configuration order.
  const tsi = findPayload(req, PayloadType.TSi) as TsPayload | undefined;
  const tsr = findPayload(req, PayloadType.TSr) as TsPayload | undefined;
  const proposed = tsi && tsr ? { tsi: tsi.selectors, tsr: tsr.selectors } : undefined;
  const candidates = peerConfigsFor(ctx, {
    local: sa.local,
    remote: sa.remote,
    remoteId,
    wantedLocal,
    localIdentity: (c) => localIdentity(sa, c),
    tsFit: proposed ? (c) => trafficSelectorFit(c, proposed, sa.local, sa.remote) : undefined,
  });
  const conn = candidates[0];
  if (!conn) {
    answerFail(
      `no matching peer config found for '${formatIdentity(remoteId)}'${wantedLocal ? ` (asking for us as '${formatIdentity(wantedLocal)}')` : ''}: ` +
        `configured remote ids: ${connectionsFor(ctx, sa.local, sa.remote).map((c) => `'${formatIdentity(c.remote.id)}'`).join(', ') || 'none'}`,
    );
    return;
  }
  sa.conn = conn;
  sa.localId = localIdentity(sa, conn);
  if (findPayload(req, PayloadType.CERTREQ)) sa.peerCertreq = true;
  const peer = checkPeerAuth(ctx, sa, conn, req, auth, remoteId, now);
  if (!peer.ok) {
    answerFail(peer.message);
    return;
  }
  ctx.log('ike', 1, sa, `authentication of '${formatIdentity(remoteId)}' with ${peer.label} successful`);
  // Unique IDs (strongSwan's `unique`): what to do with other IKE SAs of the same peer identity.
  const duplicates = ctx.establishedSas().filter((o) => o !== sa && o.conn?.name === conn.name && identityEquals(o.remoteId, remoteId) && identityEquals(o.localId, sa.localId));
  if (duplicates.length > 0) {
    if (conn.unique === 'keep') {
      answerFail(`IKE_SA with '${formatIdentity(remoteId)}' already exists and unique = keep: rejecting the new one`);
      return;
    }
    const initialContact = hasNotify(req, NotifyType.INITIAL_CONTACT) && conn.unique !== 'never';
    if (conn.unique === 'replace' || initialContact) {
      // RFC 7296 2.4: INITIAL_CONTACT says the peer lost its state: the old SAs are stale, drop them silently.
      // unique = replace deletes them with a Delete as strongSwan does.
      for (const old of duplicates) {
        if (initialContact) ctx.destroySa(old, 'deleted', `deleting stale IKE_SA ${old.name}[${old.id}]: peer sent INITIAL_CONTACT`);
        else ctx.queueTask(old, new DeleteIkeTask(ctx, old), now);
      }
    }
  }
  const ours = buildOurAuth(ctx, sa, conn, remoteId);
  if (!ours.ok) {
    answerFail(ours.message);
    return;
  }
  const resp: Payload[] = [idPayload(PayloadType.IDr, sa.localId), ...ours.payloads];
  ctx.log('ike', 1, sa, `authentication of '${formatIdentity(sa.localId)}' (myself) with ${ours.label}`);
  established(ctx, sa, conn, now);
  const cp = answerCpRequest(req, conn, ctx.pools(), remoteId);
  if (cp.reply) resp.push(cp.reply);
  for (const l of cp.leased) {
    sa.leases.push({ release: (a) => l.pool.release(a), address: l.address });
    sa.peerVirtualIps.push(l.address);
    ctx.log('ike', 0, sa, `assigning virtual IP ${l.address} to peer '${formatIdentity(remoteId)}'`);
  }
  if (cp.failed) {
    // RFC 7296 3.10.1: no address for the peer; the IKE SA stands, the CHILD SA cannot be built.
    ctx.log('ike', 0, sa, `no virtual IP for '${formatIdentity(remoteId)}' in pools ${conn.pools.join(', ') || '(none configured)'}: sending INTERNAL_ADDRESS_FAILURE`);
    resp.push(notify(NotifyType.INTERNAL_ADDRESS_FAILURE));
  } else if (findPayload(req, PayloadType.SA)) {
    const child = respondChild(ctx, sa, req, now, { Ni: sa.Ni, Nr: sa.Nr });
    if (!child.ok) {
      ctx.log('ike', 0, sa, `failed to establish CHILD_SA: ${child.message}; sending ${notifyName(child.notify)}`);
      ctx.emit({ type: 'child-failed', ikeSaId: sa.id, name: conn.children[0]?.name ?? '', notify: notifyName(child.notify), message: child.message });
    }
    resp.push(...child.payloads);
  }
  ctx.sendResponse(sa, ExchangeType.IKE_AUTH, messageId, resp);
}
