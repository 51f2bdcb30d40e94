/**
 * IKE_AUTH, responder (RFC 7296 1.2, 2.15, 2.16):
 *
 *   HDR, SK {IDi, [CERT,] [CERTREQ,] [IDr,] AUTH, SAi2, TSi, TSr}  -->  <--  HDR, SK {IDr, [CERT,] AUTH, SAr2, TSi, TSr}
 *
 * and with EAP (2.16), where the initiator leaves AUTH out:
 *
 *   HDR, SK {IDi, [IDr,] SAi2, TSi, TSr}  -->  <--  HDR, SK {IDr, [CERT,] AUTH, EAP}
 *   HDR, SK {EAP}  -->  <--  HDR, SK {EAP (request, ..., success)}
 *   HDR, SK {AUTH}  -->  <--  HDR, SK {AUTH, SAr2, TSi, TSr}
 *
 * The EAP session (src/eap, or a RADIUS relay) is asynchronous: each response goes out when its step is done.
 */
import { ExchangeType, NotifyType, PayloadType, type EapPayload, type IdPayload, type Payload, type TsPayload } from '../codec/types.js';
import type { AuthConfig, IkeConnectionConfig } from '../config.js';
import type { EndpointContext, Settled } from '../context.js';
import type { EapServerRound, KeyedIkeSa, SecondRound } from '../ike-sa.js';
import { formatIdentity, identityEquals, type Identity } from '../identity.js';
import { findPayload, hasNotify, notify, notifyName } from '../payload-util.js';
import { respondChild } from './child-sa.js';
import { connectionsFor, peerConfigsFor, trafficSelectorFit } from '../connection-select.js';
import { answerCpRequest } from './config-payload.js';
import { DeleteIkeTask } from './ike-delete.js';
import { fmt } from '../format.js';
import { buildEapAuth, buildOurAuth, checkEapAuth, checkPeerAuth } from '../auth-methods.js';
import type { EapStep } from '../../eap/index.js';
import { mobikeSupported } from './ike-mobike.js';
import { responderPpk } from '../ppk-auth.js';
import { eapFailureMessage, established, idPayload, localIdentity, reportRemoteNat, toIdentity } from './ike-auth-common.js';

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
  const round = sa.eapServer;
  if (round) {
    respondEapRound(ctx, sa, round, req, messageId, now, answerFail);
    return;
  }
  const second = sa.secondRound;
  if (second) {
    respondSecondRound(ctx, sa, second, req, messageId, answerFail);
    return;
  }
  const idi = findPayload(req, PayloadType.IDi) as IdPayload | undefined;
  const idr = findPayload(req, PayloadType.IDr) as IdPayload | undefined;
  const auth = findPayload(req, PayloadType.AUTH);
  if (!idi) {
    answerFail(`IKE_AUTH request from ${fmt(sa.remote)} without IDi`);
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
  // No AUTH means the peer wants EAP (RFC 7296 2.16): prefer a connection that authenticates it so.
  const conn = candidates.find((c) => (c.remote.method === 'eap') === !auth) ?? candidates[0];
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
  // RFC 8784 3: PPK-mixed keys, or the initiator's NO_PPK_AUTH, or a failure, before any AUTH is checked or made.
  const ppk = responderPpk(ctx, sa, conn, req);
  if (!ppk.ok) {
    answerFail(ppk.message);
    return;
  }
  if (!auth) {
    if (conn.remote.method !== 'eap') {
      answerFail(`IKE_AUTH request from '${formatIdentity(remoteId)}' without AUTH: the peer wants EAP (RFC 7296 2.16), but connection '${conn.name}' authenticates it with ${conn.remote.method} (remote auth)`);
      return;
    }
    startEapServer(ctx, sa, conn, remoteId, req, messageId, answerFail, undefined, ppk.reply);
    return;
  }
  if (conn.remote.method === 'eap') {
    answerFail(`peer '${formatIdentity(remoteId)}' sent AUTH, but connection '${conn.name}' authenticates it with EAP (remote auth = eap...)`);
    return;
  }
  const peer = checkPeerAuth(ctx, sa, conn, req, ppk.auth ?? auth, remoteId, now);
  if (!peer.ok) {
    answerFail(sa.ppkId !== undefined ? `${peer.message}; PPK '${sa.ppkId}' was mixed into the keys (RFC 8784): the peer's PPK with this id may differ` : peer.message);
    return;
  }
  ctx.log('ike', 1, sa, `authentication of '${formatIdentity(remoteId)}' with ${peer.label} successful`);
  // RFC 4739: a second round follows when both the peer announces it and the connection asks for one.
  const follows = hasNotify(req, NotifyType.ANOTHER_AUTH_FOLLOWS);
  const round2 = conn.moreRemote?.[0];
  if (round2 || follows) {
    if (!round2) answerFail(`'${formatIdentity(remoteId)}' announces another authentication round (RFC 4739), but connection '${conn.name}' has no remote-2`);
    else if (!follows) answerFail(`connection '${conn.name}' requires a second authentication round (remote-2, RFC 4739), but '${formatIdentity(remoteId)}' announced none`);
    else if (round2.method !== 'eap') answerFail(`connection '${conn.name}': cygnet runs a second authentication round (remote-2) only as EAP`);
    else startSecondRound(ctx, sa, conn, round2, remoteId, req, messageId, answerFail);
    return;
  }
  const ours = buildOurAuth(ctx, sa, conn, remoteId);
  if (!ours.ok) {
    answerFail(ours.message);
    return;
  }
  ctx.log('ike', 1, sa, `authentication of '${formatIdentity(sa.localId)}' (myself) with ${ours.label}`);
  finishResponder(ctx, sa, conn, remoteId, req, [idPayload(PayloadType.IDr, sa.localId), ...ours.payloads, ...ppk.reply], messageId, now, answerFail);
}

/**
 * The peer is authenticated: unique-ID policy, ESTABLISHED, virtual IPs (3.15) and the first CHILD SA, answered
 * with `resp` (our identity and AUTH) in front. `req` is the request that carried SA/TS/CP (the first one with EAP).
 */
function finishResponder(
  ctx: EndpointContext,
  sa: KeyedIkeSa,
  conn: IkeConnectionConfig,
  remoteId: Identity,
  req: readonly Payload[],
  resp: Payload[],
  messageId: number,
  now: number,
  answerFail: (message: string) => void,
): void {
  // Unique IDs (strongSwan's `unique`, as its ike_sa_manager check_uniqueness): what to do with other IKE SAs of
  // the same peer identity.
  const duplicates = [...ctx.establishedWith(conn.name, remoteId)].filter((o) => o !== sa && identityEquals(o.localId, sa.localId));
  if (duplicates.length > 0) {
    const initialContact = hasNotify(req, NotifyType.INITIAL_CONTACT) && conn.unique !== 'never';
    // keep: refuse a duplicate from another address; one from the same address may be the peer reauthenticating
    // (make-before-break: it deletes the old SA itself), and INITIAL_CONTACT says the old SAs are stale (2.4).
    if (conn.unique === 'keep' && !initialContact && duplicates.some((o) => o.remote.address !== sa.remote.address)) {
      answerFail(`IKE_SA with '${formatIdentity(remoteId)}' already exists and unique = keep: rejecting the new one`);
      return;
    }
    if (conn.unique === 'replace' || initialContact) {
      // RFC 7296 2.4: INITIAL_CONTACT says the peer lost its state: the old SAs are stale, drop them silently.
      // unique = replace deletes them with a Delete as strongSwan does.
      for (const old of duplicates) {
        if (initialContact) ctx.destroySa(old, 'deleted', `deleting stale IKE_SA ${old.name}[${old.id}]: peer sent INITIAL_CONTACT`);
        else ctx.queueTask(old, new DeleteIkeTask(ctx, old), now);
      }
    }
  }
  established(ctx, sa, conn, now);
  const cp = answerCpRequest(req, conn, ctx.pools(), remoteId);
  if (cp.reply) resp.push(cp.reply);
  for (const name of cp.built) ctx.log('ike', 2, sa, `building ${name} attribute`);
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
  resp.push(...mobikeSupported(ctx, sa, conn, req));
  ctx.sendResponse(sa, ExchangeType.IKE_AUTH, messageId, resp);
}

/** A step of an EAP session, or the failure its promise ended with. */
function stepOf(r: Settled<EapStep>): EapStep {
  return r.ok ? r.value : { kind: 'failure', reason: `EAP method failed: ${r.error instanceof Error ? r.error.message : String(r.error)}` };
}

function eapPayload(data: Uint8Array): EapPayload {
  return { type: PayloadType.EAP, critical: false, data };
}

/**
 * RFC 7296 2.16: the initiator left AUTH out: we authenticate ourselves with our own method, and start the EAP
 * conversation (EAP-Identity, or the configured method directly) in the same response.
 */
function startEapServer(
  ctx: EndpointContext,
  sa: KeyedIkeSa,
  conn: IkeConnectionConfig,
  remoteId: Identity,
  req: readonly Payload[],
  messageId: number,
  answerFail: (message: string) => void,
  second?: { readonly round: AuthConfig; readonly authId: Identity },
  /** RFC 8784: N(PPK_IDENTITY) confirming the PPK, in the response that carries our AUTH. */
  ppkReply: readonly Payload[] = [],
): void {
  // The first round: we authenticate ourselves in this response; a second round (RFC 4739): we already did.
  let lead: Payload[] = [];
  if (!second) {
    const ours = buildOurAuth(ctx, sa, conn, remoteId);
    if (!ours.ok) {
      answerFail(ours.message);
      return;
    }
    ctx.log('ike', 1, sa, `authentication of '${formatIdentity(sa.localId)}' (myself) with ${ours.label}`);
    lead = [idPayload(PayloadType.IDr, sa.localId), ...ours.payloads, ...ppkReply];
  }
  const authId = second?.authId ?? remoteId;
  const cfg = (second?.round ?? conn.remote).eap;
  const methods = cfg?.methods ?? [];
  const session = ctx.eap.server({
    connection: conn.name,
    methods,
    ikeIdentity: formatIdentity(authId),
    ownIdentity: formatIdentity(sa.localId),
    ...(cfg?.eapId !== undefined ? { eapId: cfg.eapId } : {}),
    peerAddress: `${sa.remote.address}[${sa.remote.port}]`,
    ownAddress: `${sa.local.address}[${sa.local.port}]`,
    ikeSaId: sa.id,
  });
  sa.eapServer = { session, conn, remoteId, authId, firstRequest: req, msk: undefined, succeeded: false };
  ctx.log('ike', 1, sa, `initiating EAP${methods.length ? `-${methods.join('/')}` : ''} for '${formatIdentity(authId)}'${cfg?.eapId === '%any' ? ' (asking for its EAP identity)' : ''}${second ? ' in a second round (RFC 4739)' : ''}`);
  ctx.defer(sa, session.start(), (r) => {
    const step = stepOf(r);
    if (step.kind === 'send') {
      ctx.sendResponse(sa, ExchangeType.IKE_AUTH, messageId, [...lead, eapPayload(step.eap)]);
      return;
    }
    // A method cannot succeed before the peer said anything: only a failure (no secret, no server) ends it here.
    eapFailed(ctx, sa, step.kind === 'failure' ? step : { reason: 'the EAP method ended before the peer answered' }, messageId, answerFail);
  });
}

/**
 * RFC 4739: the initiator's first round checked out and it announced ANOTHER_AUTH_FOLLOWS: we answer with our own
 * IDr and AUTH only; its next request (an IDi of its own, without AUTH) starts the second round, here EAP.
 */
function startSecondRound(ctx: EndpointContext, sa: KeyedIkeSa, conn: IkeConnectionConfig, round: AuthConfig, remoteId: Identity, req: readonly Payload[], messageId: number, answerFail: (message: string) => void): void {
  const ours = buildOurAuth(ctx, sa, conn, remoteId);
  if (!ours.ok) {
    answerFail(ours.message);
    return;
  }
  ctx.log('ike', 1, sa, `authentication of '${formatIdentity(sa.localId)}' (myself) with ${ours.label}`);
  sa.secondRound = { conn, round, remoteId, firstRequest: req };
  ctx.sendResponse(sa, ExchangeType.IKE_AUTH, messageId, [idPayload(PayloadType.IDr, sa.localId), ...ours.payloads]);
}

/** The request that opens the second round: its IDi, no AUTH (EAP, RFC 7296 2.16 within RFC 4739). */
function respondSecondRound(ctx: EndpointContext, sa: KeyedIkeSa, pending: SecondRound, req: readonly Payload[], messageId: number, answerFail: (message: string) => void): void {
  sa.secondRound = undefined;
  const idi = findPayload(req, PayloadType.IDi) as IdPayload | undefined;
  if (!idi) {
    answerFail(`the second authentication round of '${formatIdentity(pending.remoteId)}' starts without IDi (RFC 4739 2)`);
    return;
  }
  if (findPayload(req, PayloadType.AUTH)) {
    answerFail(`'${formatIdentity(pending.remoteId)}' authenticates its second round with AUTH, but connection '${pending.conn.name}' expects EAP there (remote-2)`);
    return;
  }
  const authId = toIdentity(idi);
  startEapServer(ctx, sa, pending.conn, pending.remoteId, pending.firstRequest, messageId, answerFail, { round: pending.round, authId });
}

/** An IKE_AUTH request during EAP: the next EAP response, or, after EAP-Success, the AUTH made with the EAP key. */
function respondEapRound(
  ctx: EndpointContext,
  sa: KeyedIkeSa,
  round: EapServerRound,
  req: readonly Payload[],
  messageId: number,
  now: number,
  answerFail: (message: string) => void,
): void {
  if (!round.succeeded) {
    const eap = findPayload(req, PayloadType.EAP);
    if (!eap) {
      answerFail(`IKE_AUTH request of '${formatIdentity(round.remoteId)}' during EAP lacks the EAP payload (RFC 7296 2.16)`);
      return;
    }
    ctx.defer(sa, round.session.process(eap.data), (r) => {
      const step = stepOf(r);
      if (step.kind === 'send') {
        ctx.sendResponse(sa, ExchangeType.IKE_AUTH, messageId, [eapPayload(step.eap)]);
      } else if (step.kind === 'success') {
        round.succeeded = true;
        round.msk = step.msk;
        sa.remoteEapId = round.session.identity ?? formatIdentity(round.authId);
        ctx.log('ike', 1, sa, `EAP method EAP-${round.session.method ?? '?'} succeeded for '${round.session.identity ?? formatIdentity(round.remoteId)}', ${step.msk?.length ? 'MSK established' : 'no MSK established'}`);
        ctx.sendResponse(sa, ExchangeType.IKE_AUTH, messageId, step.eap ? [eapPayload(step.eap)] : []);
      } else {
        eapFailed(ctx, sa, step, messageId, answerFail);
      }
    });
    return;
  }
  const auth = findPayload(req, PayloadType.AUTH);
  if (!auth) {
    answerFail(`IKE_AUTH request of '${formatIdentity(round.remoteId)}' after EAP-Success lacks AUTH (RFC 7296 2.16)`);
    return;
  }
  const check = checkEapAuth(sa, round.msk, auth, round.authId);
  if (!check.ok) {
    answerFail(check.message);
    return;
  }
  sa.eapServer = undefined;
  ctx.log('ike', 1, sa, `authentication of '${formatIdentity(round.authId)}' with ${check.label} successful`);
  finishResponder(ctx, sa, round.conn, round.remoteId, round.firstRequest, [buildEapAuth(sa, round.msk)], messageId, now, answerFail);
}

/** The EAP conversation failed: EAP-Failure and AUTHENTICATION_FAILED to the peer (2.21.2), then the SA goes. */
function eapFailed(ctx: EndpointContext, sa: KeyedIkeSa, step: { readonly eap?: Uint8Array; readonly reason: string }, messageId: number, answerFail: (message: string) => void): void {
  const round = sa.eapServer;
  const who = round?.session.identity ?? (round ? formatIdentity(round.remoteId) : '?');
  const message = eapFailureMessage(round?.session.method ?? round?.conn.remote.eap?.methods.join('/') ?? 'method', who, step.reason);
  if (step.eap) {
    ctx.emit({ type: 'auth-failed', ikeSaId: sa.id, message });
    ctx.sendResponse(sa, ExchangeType.IKE_AUTH, messageId, [notify(NotifyType.AUTHENTICATION_FAILED), eapPayload(step.eap)]);
    ctx.destroySa(sa, 'auth-failed', message);
    return;
  }
  answerFail(message);
}
