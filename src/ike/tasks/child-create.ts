/**
 * CREATE_CHILD_SA for CHILD SAs (RFC 7296 1.3.1, 1.3.3):
 *
 *   new:    HDR, SK {SA, Ni, [KEi], TSi, TSr}  -->  <--  HDR, SK {SA, Nr, [KEr], TSi, TSr}
 *   rekey:  HDR, SK {N(REKEY_SA), SA, Ni, [KEi], TSi, TSr}  -->  <--  HDR, SK {SA, Nr, [KEr], TSi, TSr}
 *
 * With additional key exchanges in the chosen ESP proposal (PFS, RFC 9370 2.2.4) the response carries
 * N(ADDITIONAL_KEY_EXCHANGE) and IKE_FOLLOWUP_KE exchanges follow (followup-ke.ts); the CHILD SA is installed after the
 * last one, with KEYMAT = prf+(SK_d, SK(0) | Ni | Nr | SK(1) | ... | SK(n)).
 *
 * Rekeying is make-before-break: the new CHILD SA is installed before the initiator deletes the old one.
 * Collisions (RFC 7296 2.8.1, 2.25.1):
 *   - both sides rekey the same CHILD SA: each answers the other; the exchange holding the lowest of the four
 *     nonces made the redundant SA, which its initiator deletes; the winner's initiator deletes the old SA;
 *   - a rekey of a CHILD SA being deleted: TEMPORARY_FAILURE; of one that is gone: CHILD_SA_NOT_FOUND;
 *   - our rekey, while the peer deletes the old SA: the SA our rekey created is deleted too;
 *   - any CHILD SA request while the IKE SA is being rekeyed: TEMPORARY_FAILURE (retry later).
 */
import { ExchangeType, NotifyType, PayloadType, ProtocolId, type KePayload, type NoncePayload, type NotifyPayload, type Payload } from '../codec/types.js';
import type { ChildConfig } from '../config.js';
import type { EndpointContext } from '../context.js';
import { numberToSpi, spiToNumber, type ChildSa, type IkeSa } from '../ike-sa.js';
import { errorNotify, findPayload, notifies, notify, notifyName, onlyProposal, readU16be, u16be } from '../payload-util.js';
import { randomBytes } from '../../crypto/random.js';
import { TransformType } from '../../crypto/transforms.js';
import { isCryptoError } from '../../crypto/errors.js';
import type { KeyExchange } from '../../crypto/types.js';
import { acceptChild, buildChildOffer, childOfferProposals, childResponsePayloads, chooseChild, ourExchangeLost, pfsGroup, processChildResponse, type ChildChoice } from './child-sa.js';
import { acceptedProposal } from '../negotiate.js';
import { awaitFollowup, FollowupKeTask, linkOf } from './followup-ke.js';
import { DeleteChildTask, DeleteRefusedChildTask } from './child-delete.js';
import type { Task, TaskKind, TaskStatus } from './task.js';
import type { TrafficSelector } from '../traffic-selector.js';
import { totalRetransmitTime } from '../retransmit.js';

const hex = (n: number): string => n.toString(16).padStart(8, '0');

/**
 * A CHILD SA replaced by a rekey whose Delete is the peer's to send (RFC 7296 2.8: the rekey initiator deletes the
 * old SA; in a lost collision the winner's initiator does). Should that Delete never come (the peer could not use
 * our response and kept the old SA), we delete it ourselves once the peer's retransmissions would be over, so it
 * is not left REKEYED for ever.
 */
export function expectPeerDelete(ctx: EndpointContext, old: ChildSa, now: number): void {
  old.deleteBy = now + totalRetransmitTime(ctx.settings.retransmit);
}

/** Retry delay after TEMPORARY_FAILURE (RFC 7296 2.25: "retry after a short while"): 1-3 s. */
export function retryDelay(ctx: EndpointContext): number {
  return 1000 + ctx.jitter(2000);
}

/** True when an exchange on this IKE SA would collide with an IKE SA rekey or deletion in progress. */
function ikeBusy(sa: IkeSa): boolean {
  return sa.state !== 'ESTABLISHED' || sa.rekeyOurs !== undefined;
}

// ---------------------------------------------------------------------------------------------- initiator

export interface ChildCreateOptions {
  /** The CHILD SA this one rekeys (RFC 7296 1.3.3): CHILD_REKEY. */
  readonly rekey?: ChildSa;
  /** The PFS group to use, after the peer asked for it with INVALID_KE_PAYLOAD (1.3). */
  readonly group?: number;
}

/**
 * CHILD_CREATE / CHILD_REKEY: creates a CHILD SA for `cfg` on an established IKE SA with CREATE_CHILD_SA (RFC 7296
 * 1.3.1), or rekeys `opts.rekey` (1.3.3: the same exchange with N(REKEY_SA) naming the old SA).
 */
export class ChildCreateTask implements Task {
  readonly kind: TaskKind;
  readonly exchange = ExchangeType.CREATE_CHILD_SA;
  private offer: { spiIn: number; Ni: Uint8Array; ke: KeyExchange | undefined; localTs: TrafficSelector[]; remoteTs: TrafficSelector[] } | undefined;

  constructor(
    private readonly ctx: EndpointContext,
    private readonly sa: IkeSa,
    readonly cfg: ChildConfig,
    private readonly opts: ChildCreateOptions = {},
  ) {
    this.kind = opts.rekey ? 'CHILD_REKEY' : 'CHILD_CREATE';
  }

  build(now: number): Payload[] | undefined {
    const { ctx, sa, cfg } = this;
    const old = this.opts.rekey;
    if (old && (!sa.children.includes(old) || old.state !== 'INSTALLED')) return undefined; // gone or already handled
    if (ikeBusy(sa)) {
      // Not now: the IKE SA itself is being rekeyed or closed; try again shortly.
      if (sa.state === 'ESTABLISHED' || sa.state === 'REKEYING') scheduleRetry(ctx, sa, cfg, now, old);
      return undefined;
    }
    const spiIn = ctx.allocateChildSpi();
    const Ni = randomBytes(ctx.random, ctx.settings.nonceBytes);
    const group = this.opts.group ?? pfsGroup(cfg);
    const ke = group !== undefined ? ctx.crypto.createKeyExchange(group, ctx.random) : undefined;
    const offer = buildChildOffer(sa, cfg, spiIn, { stripKe: false, ...(old ? { ts: { local: old.localTs, remote: old.remoteTs } } : {}) });
    this.offer = { spiIn, Ni, ke, localTs: offer.localTs, remoteTs: offer.remoteTs };
    const payloads: Payload[] = [];
    if (old) {
      payloads.push(notify(NotifyType.REKEY_SA, new Uint8Array(0), ProtocolId.ESP, numberToSpi(old.spiIn)));
      old.state = 'REKEYING';
      old.rekeyOurs = { Ni };
      ctx.log('chd', 1, sa, `establishing CHILD_SA ${cfg.name} to rekey {${old.id}} (SPIs ${hex(old.spiIn)}_i ${hex(old.spiOut)}_o)`);
    } else {
      ctx.log('chd', 1, sa, `establishing CHILD_SA ${cfg.name}`);
    }
    payloads.push(offer.sa, { type: PayloadType.NONCE, critical: false, data: Ni });
    if (ke) payloads.push({ type: PayloadType.KE, critical: false, group: ke.group, data: ke.publicValue });
    payloads.push(offer.tsi, offer.tsr);
    return payloads;
  }

  process(_h: unknown, resp: readonly Payload[], t: number): TaskStatus {
    const { ctx, sa, cfg } = this;
    const old = this.opts.rekey;
    const o = this.offer;
    if (!o) return 'done'; // never built: nothing was sent
    const { spiIn } = o;
    let ke = o.ke;
    const release = (): void => {
      ke?.dispose();
      ctx.releaseChildSpi(spiIn);
    };
    const nr = findPayload(resp, PayloadType.NONCE) as NoncePayload | undefined;
    const err = errorNotify(resp);
    if (err || !nr) {
      release();
      if (old && sa.children.includes(old) && old.state === 'REKEYING') {
        // If the peer rekeyed this SA too (and we answered), it is replaced: wait for the peer's Delete.
        old.state = old.rekeyTheirs?.replacement ? 'REKEYED' : 'INSTALLED';
        old.rekeyOurs = undefined;
        if (old.state === 'REKEYED') expectPeerDelete(ctx, old, t);
      }
      handleCreateError(ctx, sa, cfg, old, err, t);
      return 'done';
    }
    let gir: Uint8Array | undefined;
    // RFC 7296 1.3 / 3.4: when we also offered proposals without a KE method, the responder may accept one of
    // them; then there is no KEr and our KEi is simply unused (no PFS for this SA).
    const accepted = onlyProposal(findPayload(resp, PayloadType.SA));
    const acceptedKe = accepted?.transforms.find((x) => x.type === TransformType.KE)?.id;
    if (ke && (acceptedKe === undefined || acceptedKe === 0) && !findPayload(resp, PayloadType.KE)) {
      ke.dispose();
      ke = undefined;
    }
    if (ke) {
      const ker = findPayload(resp, PayloadType.KE) as KePayload | undefined;
      try {
        if (!ker || ker.group !== ke.group) throw new Error(`response ${ker ? `KE for group ${ker.group}` : 'without KE'}, we sent group ${ke.group}`);
        gir = ke.computeSharedSecret(ker.data);
      } catch (e) {
        release();
        if (old && old.state === 'REKEYING') old.state = 'INSTALLED';
        const message = `CHILD_SA ${cfg.name} not established: ${isCryptoError(e) ? e.message : (e as Error).message}`;
        ctx.log('chd', 0, sa, message);
        ctx.emit({ type: 'child-failed', ikeSaId: sa.id, name: cfg.name, notify: 'INVALID_SYNTAX', message });
        deleteRefused(ctx, sa, resp, spiIn, t);
        return 'done';
      }
      ke.dispose();
    }
    const keGroup = ke?.group;
    // RFC 9370 2.2.4: additional key exchanges chosen: IKE_FOLLOWUP_KE exchanges first, then the CHILD SA.
    const set = accepted ? acceptedProposal(childOfferProposals(cfg, false), accepted, ProtocolId.ESP) : undefined;
    const steps = set?.addke ?? [];
    if (steps.length > 0) {
      const link = linkOf(resp);
      const label = old ? `CHILD_SA ${cfg.name}{${old.id}} rekey` : `CHILD_SA ${cfg.name}`;
      if (!link || link.length === 0) {
        gir?.fill(0);
        this.failed(`responder chose additional key exchanges without the ADDITIONAL_KEY_EXCHANGE notify (RFC 9370 2.2.4)`, resp, t);
        return 'done';
      }
      ctx.queueTask(
        sa,
        new FollowupKeTask(ctx, sa, this.kind, {
          label,
          steps,
          link,
          finish: (secrets, now) => this.install(resp, nr.data, gir, keGroup, secrets, now),
          fail: (message, now) => {
            gir?.fill(0);
            // No CHILD SA was created at the responder (it comes with the last exchange): nothing to delete.
            this.failed(message, [], now);
            if (old && sa.children.includes(old)) old.rekeyAt = now + retryDelay(ctx) * 10;
          },
          release: () => {
            gir?.fill(0);
            ctx.releaseChildSpi(spiIn);
          },
        }),
        t,
        { first: true },
      );
      return 'done';
    }
    this.install(resp, nr.data, gir, keGroup, [], t);
    return 'done';
  }

  /** The CHILD SA of the response, keyed with every shared secret; then the rekey's collision handling. */
  private install(resp: readonly Payload[], Nr: Uint8Array, gir: Uint8Array | undefined, keGroup: number | undefined, additional: readonly Uint8Array[], t: number): void {
    const { ctx, sa, cfg } = this;
    const old = this.opts.rekey;
    const o = this.offer;
    if (!o) return;
    const { spiIn, Ni } = o;
    const r = processChildResponse(ctx, sa, { config: cfg, spiIn, localTs: o.localTs, remoteTs: o.remoteTs }, resp, t, {
      stripKe: false,
      Ni,
      Nr,
      ...(gir ? { gir } : {}),
      ...(additional.length > 0 ? { additional } : {}),
      ...(old ? { replaces: old } : {}),
      ...(keGroup !== undefined ? { keGroup } : {}),
    });
    gir?.fill(0);
    if (!r.ok) {
      this.failed(r.message, resp, t);
      return;
    }
    if (old) finishOurRekey(ctx, sa, old, r.child, Ni, Nr, t);
  }

  /** The CHILD SA was not established: release our SPI, put a rekeyed SA back, tell the driver. */
  private failed(message: string, resp: readonly Payload[], t: number): void {
    const { ctx, sa, cfg } = this;
    const old = this.opts.rekey;
    const o = this.offer;
    if (!o) return;
    const { spiIn } = o;
    {
      ctx.releaseChildSpi(spiIn);
      if (old && old.state === 'REKEYING') {
        // If the peer rekeyed this SA too (and that completed), it is replaced: wait for the peer's Delete.
        old.state = old.rekeyTheirs?.replacement ? 'REKEYED' : 'INSTALLED';
        old.rekeyOurs = undefined;
        if (old.state === 'REKEYED') expectPeerDelete(ctx, old, t);
      }
      ctx.log('chd', 0, sa, `CHILD_SA ${cfg.name} not established: ${message}`);
      ctx.emit({ type: 'child-failed', ikeSaId: sa.id, name: cfg.name, notify: 'INVALID_SYNTAX', message });
      deleteRefused(ctx, sa, resp, spiIn, t);
    }
  }

  timeout(): void {
    const o = this.offer;
    if (o) {
      o.ke?.dispose();
      this.ctx.releaseChildSpi(o.spiIn);
    }
    this.ctx.destroySa(this.sa, 'timeout', `peer ${this.sa.remote.address} did not answer CREATE_CHILD_SA`);
  }
}

/** The responder answered with a CHILD SA (SA payload with its SPI) that we refused: have it deleted there too. */
export function deleteRefused(ctx: EndpointContext, sa: IkeSa, resp: readonly Payload[], spiIn: number, now: number): void {
  const saP = findPayload(resp, PayloadType.SA);
  if (onlyProposal(saP)?.spi.length === 4) ctx.queueTask(sa, new DeleteRefusedChildTask(ctx, sa, spiIn), now);
}

function scheduleRetry(ctx: EndpointContext, sa: IkeSa, cfg: ChildConfig, now: number, old: ChildSa | undefined): void {
  if (old) old.rekeyAt = now + retryDelay(ctx);
  else ctx.later(sa, now + retryDelay(ctx), (t) => ctx.queueTask(sa, new ChildCreateTask(ctx, sa, cfg), t));
}

function handleCreateError(ctx: EndpointContext, sa: IkeSa, cfg: ChildConfig, old: ChildSa | undefined, err: NotifyPayload | undefined, now: number): void {
  const n = err?.notifyType;
  const wanted = err && n === NotifyType.INVALID_KE_PAYLOAD ? readU16be(err.data) : undefined;
  if (wanted !== undefined) {
    if (cfg.espProposals.some((p) => p.ke.includes(wanted))) {
      ctx.log('chd', 1, sa, `peer requested PFS group ${wanted}, retrying CREATE_CHILD_SA with it`);
      ctx.queueTask(sa, new ChildCreateTask(ctx, sa, cfg, { ...(old ? { rekey: old } : {}), group: wanted }), now);
      return;
    }
  }
  if (n === NotifyType.TEMPORARY_FAILURE) {
    ctx.log('chd', 1, sa, `peer answered TEMPORARY_FAILURE (collision), retrying CHILD_SA ${cfg.name} shortly`);
    scheduleRetry(ctx, sa, cfg, now, old);
    return;
  }
  if (old?.rekeyTheirs?.replacement) {
    // Our rekey failed, but the peer's rekey of the same SA (which we answered) stands: nothing to retry.
    ctx.log('chd', 1, sa, `CHILD_SA {${old.id}} was rekeyed by the peer, our own rekey is not needed`);
    return;
  }
  if (n === NotifyType.CHILD_SA_NOT_FOUND && old) {
    // RFC 7296 2.25.1: the peer no longer has the SA we tried to rekey; drop it.
    ctx.log('chd', 1, sa, `peer has no CHILD_SA {${old.id}} any more, removing it`);
    if (sa.children.includes(old)) ctx.removeChild(sa, old, 'not found at peer');
    return;
  }
  const msg = `CHILD_SA ${cfg.name} not established: peer answered ${n !== undefined ? notifyName(n) : 'without nonce'}`;
  ctx.log('chd', 0, sa, msg);
  ctx.emit({ type: 'child-failed', ikeSaId: sa.id, name: cfg.name, notify: n !== undefined ? notifyName(n) : 'INVALID_SYNTAX', message: msg });
  if (old && sa.children.includes(old)) old.rekeyAt = now + retryDelay(ctx) * 10; // try again later, before the hard limit
}

/** Our CHILD rekey completed: resolve a collision if there was one, then delete what must go (2.8.1). */
function finishOurRekey(ctx: EndpointContext, sa: IkeSa, old: ChildSa, created: ChildSa, Ni: Uint8Array, Nr: Uint8Array, now: number): void {
  old.rekeyOurs = { Ni, Nr, replacement: created };
  if (!sa.children.includes(old)) {
    // Rekey against delete: the peer deleted the old SA meanwhile, so the one we just created goes too (2.25.1).
    ctx.log('chd', 1, sa, `CHILD_SA {${old.id}} was deleted while we rekeyed it, deleting its replacement {${created.id}}`);
    ctx.queueTask(sa, new DeleteChildTask(ctx, sa, created), now);
    return;
  }
  const theirs = old.rekeyTheirs;
  if (theirs?.Nr && !theirs.replacement) {
    // The peer's rekey of this SA is still in IKE_FOLLOWUP_KE (RFC 9370 2.2.4): the nonces decide already.
    if (ourExchangeLost({ Ni, Nr }, { Ni: theirs.Ni, Nr: theirs.Nr })) {
      ctx.log('chd', 1, sa, `CHILD_SA rekey collision lost, deleting redundant CHILD_SA ${created.name}{${created.id}}`);
      old.state = 'REKEYED';
      expectPeerDelete(ctx, old, now);
      ctx.queueTask(sa, new DeleteChildTask(ctx, sa, created), now);
      return;
    }
    ctx.log('chd', 1, sa, `CHILD_SA rekey collision won, deleting old CHILD_SA {${old.id}}`);
  }
  if (theirs?.replacement && theirs.Nr) {
    const winner = theirs.replacement;
    if (ourExchangeLost({ Ni, Nr }, { Ni: theirs.Ni, Nr: theirs.Nr })) {
      ctx.log('chd', 1, sa, `CHILD_SA rekey collision lost, deleting redundant CHILD_SA ${created.name}{${created.id}}`);
      old.state = 'REKEYED';
      expectPeerDelete(ctx, old, now);
      // Our response moved outbound traffic to the SA we created; it goes to the winner now, before ours is
      // deleted, so no packet is sent on an SA that is about to disappear.
      if (sa.children.includes(winner)) {
        winner.outboundDeferredFrom = undefined;
        ctx.emit({ type: 'child-outbound', child: sa.childInfo(winner), replaces: sa.childInfo(created) });
      }
      ctx.queueTask(sa, new DeleteChildTask(ctx, sa, created), now);
      return;
    }
    // Won: the peer's replacement is the redundant one; it is deleted by the peer and never carries our traffic.
    winner.outboundDeferredFrom = undefined;
    ctx.log('chd', 1, sa, `CHILD_SA rekey collision won, deleting old CHILD_SA {${old.id}}`);
  }
  old.state = 'REKEYED';
  ctx.queueTask(sa, new DeleteChildTask(ctx, sa, old), now);
}

// ---------------------------------------------------------------------------------------------- responder

/** Responder of CREATE_CHILD_SA for a new CHILD SA or a CHILD SA rekey (RFC 7296 1.3.1, 1.3.3). */
export function respondCreateChild(ctx: EndpointContext, sa: IkeSa, req: readonly Payload[], messageId: number, now: number): void {
  const answer = (payloads: Payload[]): void => ctx.sendResponse(sa, ExchangeType.CREATE_CHILD_SA, messageId, payloads);
  const saP = findPayload(req, PayloadType.SA);
  const nonce = findPayload(req, PayloadType.NONCE) as NoncePayload | undefined;
  if (!saP || !nonce) {
    answer([notify(NotifyType.INVALID_SYNTAX)]);
    return;
  }
  // RFC 7296 2.25.2: while our IKE SA rekey (or delete) is under way, CHILD SA requests get TEMPORARY_FAILURE.
  if (ikeBusy(sa)) {
    ctx.log('chd', 1, sa, 'CREATE_CHILD_SA request while the IKE SA is rekeyed or closed: TEMPORARY_FAILURE');
    answer([notify(NotifyType.TEMPORARY_FAILURE)]);
    return;
  }
  const rekeyNs = notifies(req, NotifyType.REKEY_SA);
  const rekeyN = rekeyNs[0];
  if (rekeyN && (rekeyNs.length > 1 || (rekeyN.protocol !== ProtocolId.ESP && rekeyN.protocol !== ProtocolId.AH) || rekeyN.spi.length !== 4)) {
    // RFC 7296 3.10.1: REKEY_SA names the CHILD SA being rekeyed by its protocol (ESP/AH) and 4-byte SPI (3.11).
    // Anything else is malformed: answering it as a request for a new CHILD SA (or CHILD_SA_NOT_FOUND, which makes
    // the peer drop a SA that exists) would leave the two sides disagreeing.
    ctx.log('chd', 0, sa, `REKEY_SA with protocol ${rekeyN.protocol} and a ${rekeyN.spi.length}-byte SPI${rekeyNs.length > 1 ? ` (and ${rekeyNs.length - 1} more)` : ''}: answering INVALID_SYNTAX`);
    answer([notify(NotifyType.INVALID_SYNTAX)]);
    return;
  }
  let old: ChildSa | undefined;
  if (rekeyN) {
    const spi = spiToNumber(rekeyN.spi);
    // The peer names its inbound SPI of the SA to rekey: our outbound one.
    old = sa.children.find((c) => c.spiOut === spi);
    if (!old || old.state === 'REKEYED') {
      ctx.log('chd', 1, sa, `peer wants to rekey unknown CHILD_SA with SPI ${hex(spi)}: CHILD_SA_NOT_FOUND`);
      answer([notify(NotifyType.CHILD_SA_NOT_FOUND, new Uint8Array(0), ProtocolId.ESP, rekeyN.spi)]);
      return;
    }
    if (old.state === 'DELETING') {
      answer([notify(NotifyType.TEMPORARY_FAILURE)]);
      return;
    }
  }
  const keOffered = (findPayload(req, PayloadType.KE) as KePayload | undefined)?.group;
  const choice = chooseChild(sa, req, { stripKe: false, ...(old ? { configs: [old.config] } : {}), ...(keOffered !== undefined ? { keGroup: keOffered } : {}) });
  if (!choice.ok) {
    ctx.log('chd', 0, sa, `failed to establish CHILD_SA: ${choice.message}; sending ${notifyName(choice.notify)}`);
    answer([notify(choice.notify)]);
    return;
  }
  const keP = findPayload(req, PayloadType.KE) as KePayload | undefined;
  const group = choice.sel.set.ke;
  let ke: KeyExchange | undefined;
  let gir: Uint8Array | undefined;
  if (group !== undefined && group !== 0) {
    if (!keP || keP.group !== group) {
      // RFC 7296 1.3: the KE payload is not for the group we chose; ask for ours.
      ctx.log('chd', 1, sa, `PFS group ${keP?.group ?? 'none'} unacceptable, requesting ${group}`);
      answer([notify(NotifyType.INVALID_KE_PAYLOAD, u16be(group))]);
      return;
    }
    ke = ctx.crypto.createKeyExchange(group, ctx.random);
    try {
      gir = ke.computeSharedSecret(keP.data);
    } catch (e) {
      ke.dispose();
      ctx.log('chd', 0, sa, `invalid KE payload in CREATE_CHILD_SA: ${isCryptoError(e) ? e.message : String(e)}`);
      answer([notify(NotifyType.INVALID_SYNTAX)]);
      return;
    }
  }
  const Nr = randomBytes(ctx.random, ctx.settings.nonceBytes);
  const steps = choice.sel.set.addke ?? [];
  if (steps.length > 0) {
    respondWithFollowup(ctx, sa, choice, { Ni: nonce.data, Nr, gir, ke, old, steps, answer }, now);
    return;
  }
  const { child, sa: saR, tsi, tsr } = acceptChild(ctx, sa, choice, now, { Ni: nonce.data, Nr, ...(gir ? { gir } : {}), ...(old ? { replaces: old } : {}) });
  gir?.fill(0);
  if (old) {
    old.rekeyTheirs = { Ni: nonce.data, Nr, replacement: child };
    // Without a collision the peer deletes the old SA once it has the new one; in a collision, resolution waits
    // for the response to our own rekey.
    if (old.state === 'INSTALLED') {
      old.state = 'REKEYED';
      expectPeerDelete(ctx, old, now);
    }
  }
  const resp: Payload[] = [saR, { type: PayloadType.NONCE, critical: false, data: Nr }];
  if (ke) resp.push({ type: PayloadType.KE, critical: false, group: ke.group, data: ke.publicValue });
  resp.push(tsi, tsr);
  ke?.dispose();
  answer(resp);
}

/**
 * Responder, additional key exchanges chosen (RFC 9370 2.2.4): the response names our SPI and the selectors and
 * links the IKE_FOLLOWUP_KE exchanges; the CHILD SA is installed when the last one is answered.
 */
function respondWithFollowup(
  ctx: EndpointContext,
  sa: IkeSa,
  choice: ChildChoice,
  x: { Ni: Uint8Array; Nr: Uint8Array; gir: Uint8Array | undefined; ke: KeyExchange | undefined; old: ChildSa | undefined; steps: readonly { type: number; id: number }[]; answer: (p: Payload[]) => void },
  now: number,
): void {
  const { Ni, Nr, gir, ke, old } = x;
  const spiIn = ctx.allocateChildSpi();
  const { sa: saR, tsi, tsr } = childResponsePayloads(choice, spiIn);
  // A collision with our own rekey of `old` is resolved with these nonces (finishOurRekey) before this one completes.
  const theirs = old ? { Ni, Nr } : undefined;
  if (old && theirs) old.rekeyTheirs = theirs;
  const link = awaitFollowup(
    ctx,
    sa,
    {
      label: old ? `CHILD_SA ${choice.cfg.name}{${old.id}} rekey by the peer` : `CHILD_SA ${choice.cfg.name} by the peer`,
      steps: x.steps,
      finish: (secrets, t) => {
        // The old SA may be gone meanwhile (we won a collision and deleted it): then this one is a new SA, which
        // the peer, having lost, deletes.
        const replaces = old && sa.children.includes(old) ? old : undefined;
        const { child } = acceptChild(ctx, sa, choice, t, { Ni, Nr, spiIn, additional: secrets, ...(gir ? { gir } : {}), ...(replaces ? { replaces } : {}) });
        gir?.fill(0);
        if (replaces) {
          replaces.rekeyTheirs = { Ni, Nr, replacement: child };
          if (replaces.state === 'INSTALLED') {
            replaces.state = 'REKEYED';
            expectPeerDelete(ctx, replaces, t);
          }
        }
      },
      abort: () => {
        gir?.fill(0);
        ctx.releaseChildSpi(spiIn);
        if (old && old.rekeyTheirs === theirs) old.rekeyTheirs = undefined;
      },
    },
    now,
  );
  const resp: Payload[] = [saR, { type: PayloadType.NONCE, critical: false, data: Nr }];
  if (ke) resp.push({ type: PayloadType.KE, critical: false, group: ke.group, data: ke.publicValue });
  resp.push(tsi, tsr, link);
  ke?.dispose();
  x.answer(resp);
}
