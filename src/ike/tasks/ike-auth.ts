/**
 * IKE_AUTH, initiator (RFC 7296 1.2, 2.15, 2.16 for EAP); the responder is ike-auth-responder.ts:
 *
 *   HDR, SK {IDi, [N(INITIAL_CONTACT)], [IDr], AUTH, SAi2, TSi, TSr}  -->
 *                                         <--  HDR, SK {IDr, AUTH, SAr2, TSi, TSr}
 *
 * A CHILD SA failure (NO_PROPOSAL_CHOSEN, TS_UNACCEPTABLE, ...) in the response leaves the IKE SA up without it
 * (RFC 7296 2.21.3); an AUTHENTICATION_FAILED closes the IKE SA (2.21.2).
 */
import { ExchangeType, NotifyType, PayloadType, type IdPayload, type Payload, } from '../codec/types.js';
import type { IkeDownReason } from '../events.js';
import type { AuthConfig, ChildConfig, IkeConnectionConfig } from '../config.js';
import type { EndpointContext } from '../context.js';
import { connOf, type IkeSa, type KeyedIkeSa } from '../ike-sa.js';
import { formatIdentity, identityMatches, type Identity } from '../identity.js';
import { errorNotify, findPayload, hasNotify, notify, notifyName } from '../payload-util.js';
import { buildChildOffer, processChildResponse, } from './child-sa.js';
import { buildCpRequest, describeCpReply, readCpReply, vipAssignedEvent } from './config-payload.js';
import { ChildCreateTask, deleteRefused } from './child-create.js';
import { DeleteIkeTask } from './ike-delete.js';
import { NotifyTask } from './ike-notify.js';
import { ReauthCompleteTask } from './ike-reauth.js';
import { closeOnTimeout } from './common.js';
import type { Task, TaskStatus } from './task.js';
import { fmt } from '../format.js';
import { buildEapAuth, buildOurAuth, checkEapAuth, checkPeerAuth } from '../auth-methods.js';
import type { EapPeerSession } from '../../eap/index.js';
import { certreqPayload } from '../auth-pubkey.js';
import { mobikeSupported, notePeerMobike } from './ike-mobike.js';
import { initiatorPpkRequest, initiatorPpkResponse, type InitiatorPpk } from '../ppk-auth.js';
import { eapFailureMessage, established, idPayload, localIdentity, reportRemoteNat, toIdentity } from './ike-auth-common.js';

// ---------------------------------------------------------------------------------------------- initiator

/**
 * IKE_AUTH, initiator (RFC 7296 1.2, 2.15): our identity and AUTH (with certificates and CERTREQ for pubkey),
 * INITIAL_CONTACT (2.4), a configuration request for virtual IPs (3.15) and the first CHILD SA.
 */
export class IkeAuthTask implements Task {
  readonly kind = 'IKE_AUTH';
  readonly exchange = ExchangeType.IKE_AUTH;
  /**
   * 'first': the request with IDi (and AUTH, unless we authenticate with EAP); 'eap': EAP rounds (RFC 7296 2.16);
   * 'final': the AUTH computed from the EAP key, answered with the responder's and the CHILD SA.
   */
  private stage: 'first' | 'round2' | 'eap' | 'final' = 'first';
  /** The payloads of the next EAP-round request, prepared when the EAP method's step completed. */
  private next: Payload[] | undefined;
  private eap: EapClient | undefined;
  /** RFC 4739: the second authentication round (local-2) and the IDi it goes by. */
  private round2: { auth: AuthConfig; id: Identity } | undefined;
  /** RFC 8784: the PPK we mixed into the keys for this request, with the unmixed keys to fall back to. */
  private ppk: InitiatorPpk | undefined;

  constructor(
    private readonly ctx: EndpointContext,
    private readonly sa: KeyedIkeSa,
    readonly child: ChildConfig | undefined,
  ) {}

  build(): Payload[] | undefined {
    if (this.stage !== 'first') {
      const next = this.next;
      this.next = undefined;
      return next;
    }
    const { ctx, sa } = this;
    const child = this.child;
    const conn = connOf(sa, 'IkeAuthTask');
    sa.localId = localIdentity(sa, conn);
    // RFC 7296 2.16: an initiator that authenticates with EAP leaves AUTH out of its first IKE_AUTH request.
    const eap = conn.local.method === 'eap';
    // RFC 8784 3: NO_PPK_AUTH is computed with the unmixed keys, then sa.keys become the PPK-mixed ones for AUTH
    // (built again, this request starts from the unmixed keys: a PPK is mixed in once).
    if (this.ppk) sa.keys = this.ppk.unmixed;
    const ppk = initiatorPpkRequest(ctx, sa, conn, eap);
    if (!ppk.ok) {
      ctx.destroySa(sa, 'auth-failed', ppk.message);
      return undefined;
    }
    this.ppk = ppk.state;
    const ours = eap ? undefined : buildOurAuth(ctx, sa, conn, conn.remote.id);
    if (ours && !ours.ok) {
      ctx.destroySa(sa, 'auth-failed', ours.message);
      return undefined;
    }
    const payloads: Payload[] = [idPayload(PayloadType.IDi, sa.localId)];
    // RFC 7296 2.4: INITIAL_CONTACT when we hold no other IKE SA with this peer identity.
    const others = [...ctx.establishedWith(conn.name)].some((o) => o !== sa);
    if (!others) payloads.push(notify(NotifyType.INITIAL_CONTACT));
    payloads.push(...mobikeSupported(ctx, sa, conn));
    if (ours) payloads.push(...ours.certs);
    const certreq = certreqPayload(ctx.credentials, conn);
    if (certreq) payloads.push(certreq);
    if (conn.remote.id.type !== 0) payloads.push(idPayload(PayloadType.IDr, conn.remote.id));
    if (ours) payloads.push(ours.auth);
    payloads.push(...ppk.payloads);
    // RFC 4739: a second round (local-2) follows this one; only EAP is run as a second round here.
    const second = conn.moreLocal?.[0];
    if (second) {
      const why =
        second.method !== 'eap' || eap
          ? `connection '${conn.name}': cygnet runs a second authentication round (local-2) only as EAP after a certificate or PSK round`
          : !sa.peerMultipleAuth
            ? `connection '${conn.name}' has a second authentication round (local-2), but the peer did not announce MULTIPLE_AUTH_SUPPORTED (RFC 4739 3.1)`
            : undefined;
      if (why !== undefined) {
        ctx.destroySa(sa, 'auth-failed', why);
        return undefined;
      }
      payloads.push(notify(NotifyType.MULTIPLE_AUTH_SUPPORTED), notify(NotifyType.ANOTHER_AUTH_FOLLOWS));
    }
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
    if (ours) ctx.log('ike', 1, sa, `authentication of '${formatIdentity(sa.localId)}' (myself) with ${ours.label}`);
    else ctx.log('ike', 1, sa, `authenticating '${formatIdentity(sa.localId)}' (myself) with EAP`);
    return payloads;
  }

  process(_h: unknown, payloads: readonly Payload[], now: number): TaskStatus {
    const { ctx, sa } = this;
    const conn = connOf(sa, 'IkeAuthTask.process');
    notePeerMobike(ctx, sa, payloads);
    if (hasNotify(payloads, NotifyType.AUTHENTICATION_FAILED) && this.eap?.failure === undefined) {
      const what = conn.local.method === 'eap'
        ? `the EAP server refused us (EAP-${this.eap?.method ?? conn.local.eap?.methods.join('/') ?? 'method'} as '${this.eap?.identity ?? formatIdentity(sa.localId)}': check the user name and password or certificate)`
        : conn.local.method === 'psk' ? `the pre-shared key for '${formatIdentity(sa.localId)}' <-> '${formatIdentity(conn.remote.id)}' differs from the peer's` : `the peer does not accept our certificate or signature (check its CA, our certificate's identities and its revocation)`;
      const msg =
        `peer ${fmt(sa.remote)} rejected our authentication (AUTHENTICATION_FAILED): ${what}, ` +
        `or the peer expects other identities (we sent IDi '${formatIdentity(sa.localId)}'${conn.remote.id.type !== 0 ? `, IDr '${formatIdentity(conn.remote.id)}'` : ''})` +
        (this.ppk ? `; we used PPK '${this.ppk.id}' (RFC 8784)${conn.ppkRequired ? ' without NO_PPK_AUTH (ppk_required)' : ''}: the peer's PPK with this id may differ, or it requires one we lack` : '');
      ctx.emit({ type: 'auth-failed', ikeSaId: sa.id, message: msg });
      ctx.destroySa(sa, 'auth-failed', msg);
      return 'done';
    }
    if (this.eap?.failure !== undefined) {
      // Our EAP method failed and we sent its last packet: whatever the server answers, the SA goes.
      ctx.emit({ type: 'auth-failed', ikeSaId: sa.id, message: this.eap.failure });
      ctx.destroySa(sa, 'auth-failed', this.eap.failure);
      return 'done';
    }
    if (this.stage === 'eap') return this.eapRound(payloads, now);
    if (this.stage === 'round2' && this.round2) return this.startEap(conn, this.round2.auth, this.round2.id, payloads, now);
    if (this.stage === 'final') {
      // RFC 7296 2.16: the responder's AUTH, now computed with the EAP key, then the CHILD SA as in 1.2.
      const auth = findPayload(payloads, PayloadType.AUTH);
      const check = auth && this.eap ? checkEapAuth(sa, this.eap.msk, auth, sa.remoteId) : { ok: false as const, message: 'the last IKE_AUTH response after EAP lacks AUTH' };
      if (!check.ok) {
        failAfterAuth(ctx, sa, check.message, now);
        return 'done';
      }
      ctx.log('ike', 1, sa, `authentication of '${formatIdentity(sa.remoteId)}' with ${check.label} successful`);
      this.complete(conn, payloads, now);
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
    // RFC 8784 3: the response says whether the PPK was used; the responder's AUTH is checked with those keys.
    const ppk = initiatorPpkResponse(ctx, sa, conn, payloads, this.ppk);
    if (!ppk.ok) {
      failAfterAuth(ctx, sa, ppk.message, now);
      return 'done';
    }
    const peer = checkPeerAuth(ctx, sa, conn, payloads, auth, remoteId, now);
    if (!peer.ok) {
      failAfterAuth(ctx, sa, peer.message, now);
      return 'done';
    }
    ctx.log('ike', 1, sa, `authentication of '${formatIdentity(remoteId)}' with ${peer.label} successful`);
    if (conn.local.method === 'eap') return this.startEap(conn, conn.local, sa.localId, payloads, now);
    const second = conn.moreLocal?.[0];
    if (second) {
      // RFC 4739 2: the next IKE_AUTH request starts the second round with its own IDi (here, always EAP).
      const id = second.id.type !== 0 ? second.id : sa.localId;
      this.round2 = { auth: second, id };
      this.stage = 'round2';
      this.next = [idPayload(PayloadType.IDi, id)];
      ctx.log('ike', 1, sa, `authenticating '${formatIdentity(id)}' (myself) with EAP in a second round (RFC 4739)`);
      return 'more';
    }
    this.complete(conn, payloads, now);
    return 'done';
  }

  /** RFC 7296 2.16: the responder authenticated itself and sent the first EAP request; our EAP peer answers it. */
  private startEap(conn: IkeConnectionConfig, round: AuthConfig, authId: Identity, payloads: readonly Payload[], now: number): TaskStatus {
    const { ctx, sa } = this;
    const cfg = round.eap;
    const identity = cfg?.eapId ?? formatIdentity(authId);
    this.eap = new EapClient(ctx.eap.peer({ connection: conn.name, methods: cfg?.methods ?? [], identity, serverIdentity: formatIdentity(sa.remoteId) }), identity, authId);
    this.stage = 'eap';
    return this.eapRound(payloads, now);
  }

  /** One EAP request from the responder: our EAP peer's answer becomes the next request (after 'wait'). */
  private eapRound(payloads: readonly Payload[], now: number): TaskStatus {
    const { ctx, sa } = this;
    const eap = findPayload(payloads, PayloadType.EAP);
    const client = this.eap;
    if (!eap || !client) {
      const err = errorNotify(payloads);
      const msg = err ? `peer answered our EAP round with ${notifyName(err.notifyType)}` : 'IKE_AUTH response during EAP lacks the EAP payload (RFC 7296 2.16)';
      closeWithDelete(ctx, sa, err ? 'error' : 'invalid-syntax', msg, now);
      return 'done';
    }
    ctx.defer(sa, client.session.process(eap.data), (r, t) => {
      const step = r.ok ? r.value : { kind: 'failure' as const, reason: `EAP method failed: ${r.error instanceof Error ? r.error.message : String(r.error)}` };
      if (step.kind === 'send') {
        this.next = [{ type: PayloadType.EAP, critical: false, data: step.eap }];
      } else if (step.kind === 'success') {
        client.msk = step.msk;
        ctx.log('ike', 1, sa, `EAP method EAP-${client.method} succeeded, ${step.msk?.length ? 'MSK established' : 'no MSK established'}`);
        this.stage = 'final';
        this.next = [buildEapAuth(sa, step.msk, client.authId)];
      } else {
        const msg = eapFailureMessage(client.method, client.identity, step.reason);
        if (step.eap) {
          // The method's last word (MSCHAPv2's Failure-Response, RFC 2759 via draft-kamath 2.4): the server then
          // ends the exchange with EAP-Failure / AUTHENTICATION_FAILED, and both sides let the SA go.
          client.failure = msg;
          this.next = [{ type: PayloadType.EAP, critical: false, data: step.eap }];
          ctx.log('ike', 0, sa, msg);
        } else {
          ctx.emit({ type: 'auth-failed', ikeSaId: sa.id, message: msg });
          ctx.destroySa(sa, 'auth-failed', msg);
          return;
        }
      }
      ctx.resumeTask(sa, t);
    });
    return 'wait';
  }

  /** IKE_AUTH is over: the SA is up; virtual IPs, the first CHILD SA, then what was waiting for this SA. */
  private complete(conn: IkeConnectionConfig, payloads: readonly Payload[], now: number): void {
    const { ctx, sa } = this;
    established(ctx, sa, conn, now);
    if (sa.requestingVips) {
      sa.requestingVips = false;
      const got = readCpReply(payloads);
      sa.virtualIps = got.addresses;
      for (const p of got.problems) ctx.log('ike', 1, sa, p);
      if (got.addresses.length > 0) {
        ctx.log('ike', 0, sa, `installing new virtual IP ${describeCpReply(got)}`);
        ctx.emit(vipAssignedEvent(sa.id, got));
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
  }

  timeout(): void {
    closeOnTimeout(this.ctx, this.sa, this.exchange);
  }
}

/** Our side of an EAP conversation in IKE_AUTH (RFC 7296 2.16), with the MSK once the method succeeded. */
class EapClient {
  msk: Uint8Array | undefined;
  /** The method failed (its last packet sent): why, for the log and the event. */
  failure: string | undefined;
  constructor(
    readonly session: EapPeerSession,
    readonly identity: string,
    /** The IDi our AUTH after EAP is computed with (the round's, RFC 4739). */
    readonly authId: Identity,
  ) {}
  get method(): string {
    return this.session.method ?? 'method';
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

