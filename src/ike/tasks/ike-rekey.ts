/**
 * Rekeying the IKE SA with CREATE_CHILD_SA (RFC 7296 1.3.2, 2.18):
 *
 *   HDR, SK {SA, Ni, KEi}  -->  <--  HDR, SK {SA, Nr, KEr}
 *
 * The proposals carry the new 8-byte SPIs. The new IKE SA's SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr);
 * the CHILD SAs move to it and the rekey initiator deletes the old IKE SA. The rekey initiator is the "original
 * initiator" of the new SA (its I flag) and message IDs start again at 0.
 *
 * With additional key exchanges in the chosen proposal (RFC 9370 2.2.4) the response carries
 * N(ADDITIONAL_KEY_EXCHANGE) and one IKE_FOLLOWUP_KE exchange per ADDKE follows (followup-ke.ts); the new IKE SA
 * exists only after the last one, with SKEYSEED = prf(SK_d (old), SK(0) | Ni | Nr | SK(1) | ... | SK(n)).
 *
 * Collisions (RFC 7296 2.8.2, 2.25.2): both sides rekey at once: each answers the other, the exchange holding the
 * lowest nonce made the redundant IKE SA, which its initiator deletes; the CHILD SAs move to the surviving one,
 * and the winner's initiator deletes the old SA. A rekey while CHILD SA exchanges are under way, or while the IKE
 * SA is being deleted, is answered with TEMPORARY_FAILURE.
 */
import { ExchangeType, NotifyType, PayloadType, ProtocolId, type KePayload, type NoncePayload, type Payload } from '../codec/types.js';
import type { IkeConnectionConfig } from '../config.js';
import type { EndpointContext } from '../context.js';
import { connOf, requireKeyed, type IkeSa } from '../ike-sa.js';
import { deriveIkeKeys } from '../keys.js';
import { acceptedProposal, initiatorIkeProposals, selectProposalForKe, selectionToSaProposal, toSaProposals } from '../negotiate.js';
import { errorNotify, findPayload, notify, notifyName, onlyProposal, readU16be, u16be } from '../payload-util.js';
import { randomBytes } from '../../crypto/random.js';
import { isCryptoError } from '../../crypto/errors.js';
import type { TransformSet } from '../../crypto/transforms.js';
import type { KeyExchange } from '../../crypto/types.js';
import { ourExchangeLost } from './child-sa.js';
import { DeleteIkeTask } from './ike-delete.js';
import { closeOnTimeout } from './common.js';
import type { Task, TaskStatus } from './task.js';
import { retryDelay } from './child-create.js';
import { scheduleIkeLifetimes } from '../lifetimes.js';
import { emitKeys } from './key-export.js';
import { totalRetransmitTime } from '../retransmit.js';
import { transition } from '../sa-state.js';
import { additionalKeName } from '../../crypto/addke.js';
import type { Proposal as ConfiguredProposal } from '../../crypto/proposals.js';
import { awaitFollowup, followupPending, FollowupKeTask, linkOf } from './followup-ke.js';
import { inheritMobike } from './ike-mobike.js';

/** True while CHILD SA work on this IKE SA would collide with an IKE rekey (RFC 7296 2.25.2). */
function childrenBusy(sa: IkeSa): boolean {
  // A pending CREATE_CHILD_SA that is our own IKE rekey is a collision to resolve (2.8.2), not CHILD SA work.
  // So are IKE_FOLLOWUP_KE exchanges of a CHILD SA (ours) or of any CREATE_CHILD_SA the peer started (RFC 9370 2.2.4).
  const childExchange = sa.pending !== undefined && (sa.pending.exchangeType === ExchangeType.CREATE_CHILD_SA || sa.pending.exchangeType === ExchangeType.IKE_FOLLOWUP_KE) && !sa.rekeyOurs;
  return sa.children.some((c) => c.state === 'REKEYING' || c.state === 'DELETING') || childExchange || followupPending(sa);
}

/** The new IKE SA that a rekey creates: same peer, identities and config; fresh SPIs, nonces and keys. */
function successor(ctx: EndpointContext, old: IkeSa, conn: IkeConnectionConfig, initiator: boolean, spiI: Uint8Array, spiR: Uint8Array, set: TransformSet, Ni: Uint8Array, Nr: Uint8Array, gir: Uint8Array, now: number, additional: readonly Uint8Array[] = []): IkeSa {
  const sa = ctx.newSa(initiator, spiI, old.local, old.remote);
  // RFC 4555 3.1: MOBIKE was negotiated in IKE_AUTH and no exchange of the new SA announces it again; it, the MOBIKE
  // role (1.1) and the peer's additional addresses (3.4) carry over, or MOBIKE would end with the first rekey.
  inheritMobike(old, sa);
  sa.spiR = spiR;
  sa.rekeyOf = old;
  sa.conn = conn;
  sa.set = set;
  sa.Ni = Ni;
  sa.Nr = Nr;
  sa.localId = old.localId;
  sa.remoteId = old.remoteId;
  sa.natLocal = old.natLocal;
  sa.natRemote = old.natRemote;
  sa.natLocalReal = old.natLocalReal;
  sa.encapsulated = old.encapsulated;
  sa.peerFragmentation = old.peerFragmentation;
  sa.virtualIps = old.virtualIps;
  sa.peerVirtualIps = old.peerVirtualIps;
  // RFC 8784 3: the PPK is not used again; the new SA's keys derive from the old, PPK-mixed SK_d, so they still
  // depend on it and the SA keeps its PPK_ID for list-sas.
  sa.ppkId = old.ppkId;
  // Only an established IKE SA is rekeyed (RFC 7296 2.18): its SK_d and prf exist.
  const oldKeys = requireKeyed(old, 'IKE SA rekey').keys;
  sa.keys = deriveIkeKeys(ctx.crypto, set, { Ni, Nr, gir, spiI, spiR, initiator, rekey: { prf: oldKeys.prf, SK_d: oldKeys.SK_d }, additional, exportKeys: ctx.settings.exportKeys });
  emitKeys(ctx, sa);
  transition(ctx, sa, 'ESTABLISHED', `new IKE SA of the rekey of [${old.id}]`);
  sa.establishedAt = now;
  sa.lastInbound = now;
  ctx.registerSa(sa);
  scheduleIkeLifetimes(ctx, sa, conn, now);
  return sa;
}

/** Moves the CHILD SAs from `from` to `to` (the rekeyed IKE SA) and reports the rekey. */
function adopt(ctx: EndpointContext, from: IkeSa, to: IkeSa, now: number): void {
  if (from.rekeyedTo) return;
  for (const c of from.children.splice(0)) to.children.push(c);
  // Pool leases belong to the peer, not to one IKE SA: they move with the CHILD SAs.
  to.leases.push(...from.leases.splice(0));
  from.rekeyedTo = to;
  transition(ctx, from, 'REKEYED', `rekeyed to [${to.id}]`);
  // The rekey initiator deletes the old IKE SA (RFC 7296 2.18; in a collision, the winner's initiator). When we
  // delete it ourselves this is a no-op; should the peer's Delete never come (it could not use our response),
  // the old SA is deleted once the peer's retransmissions would be over, rather than left REKEYED for ever.
  ctx.later(from, now + totalRetransmitTime(ctx.settings.retransmit), (t) => {
    if (from.state !== 'REKEYED') return;
    ctx.log('ike', 1, from, `peer did not delete the rekeyed IKE_SA ${from.name}[${from.id}], deleting it`);
    ctx.queueTask(from, new DeleteIkeTask(ctx, from, { reason: 'rekeyed' }), t);
  });
  const h = (b: Uint8Array): string => Buffer.from(b).toString('hex');
  ctx.log('ike', 0, to, `IKE_SA ${from.name}[${from.id}] rekeyed to [${to.id}] with SPIs ${h(to.spiI)}_i ${h(to.spiR)}_r, suite ${to.info().suite}`);
  ctx.emit({ type: 'ike-rekeyed', old: from.info(), sa: to.info() });
}

// ---------------------------------------------------------------------------------------------- initiator

/** What an IKE SA rekey offers: the configured proposals with their ADDKE (RFC 9370 2.2.4), plus for an all-optional
 * one a copy without, for a peer without RFC 9370 (negotiate.ts initiatorIkeProposals, as in IKE_SA_INIT). */
function rekeyProposals(conn: IkeConnectionConfig): ConfiguredProposal[] {
  return initiatorIkeProposals(conn.proposals);
}

const addkeNames = (set: TransformSet): string => (set.addke ?? []).map((a) => additionalKeName(a.type, a.id)).join(', ');

/**
 * IKE_REKEY: rekeys the IKE SA with CREATE_CHILD_SA (RFC 7296 1.3.2), in the group in use unless the peer asked for
 * another with INVALID_KE_PAYLOAD; with the additional key exchanges of the chosen proposal in IKE_FOLLOWUP_KE.
 */
export class IkeRekeyTask implements Task {
  readonly kind = 'IKE_REKEY';
  readonly exchange = ExchangeType.CREATE_CHILD_SA;
  private started: { spi: Uint8Array; Ni: Uint8Array; ke: KeyExchange; group: number; conn: IkeConnectionConfig; offered: ConfiguredProposal[] } | undefined;

  constructor(
    private readonly ctx: EndpointContext,
    private readonly sa: IkeSa,
    private readonly group?: number,
  ) {}

  build(now: number): Payload[] | undefined {
    const { ctx, sa } = this;
    if (sa.state !== 'ESTABLISHED' || sa.rekeyOurs || sa.rekeyedTo) return undefined;
    if (childrenBusy(sa)) {
      sa.rekeyAt = now + retryDelay(ctx);
      return undefined;
    }
    const conn = connOf(sa, 'IkeRekeyTask');
    // Prefer the group in use (strongSwan does): it is known to be acceptable.
    const g = this.group ?? sa.set?.ke ?? conn.proposals[0]?.ke[0];
    if (g === undefined) return undefined; // a connection without key exchange methods never got established
    const spi = ctx.newIkeSpi();
    const Ni = randomBytes(ctx.random, ctx.settings.nonceBytes);
    const ke = ctx.crypto.createKeyExchange(g, ctx.random);
    const offered = rekeyProposals(conn);
    transition(ctx, sa, 'REKEYING', 'starting IKE SA rekey');
    sa.rekeyOurs = { Ni, spi };
    this.started = { spi, Ni, ke, group: g, conn, offered };
    ctx.log('ike', 1, sa, `rekeying IKE_SA ${sa.name}[${sa.id}]`);
    return [
      { type: PayloadType.SA, critical: false, proposals: toSaProposals(offered, ProtocolId.IKE, spi) },
      { type: PayloadType.NONCE, critical: false, data: Ni },
      { type: PayloadType.KE, critical: false, group: ke.group, data: ke.publicValue },
    ];
  }

  private abandon(): void {
    this.started?.ke.dispose();
    this.sa.rekeyOurs = undefined;
    if (this.sa.state === 'REKEYING') transition(this.ctx, this.sa, 'ESTABLISHED', 'IKE SA rekey abandoned');
  }

  process(_h: unknown, resp: readonly Payload[], t: number): TaskStatus {
    const { ctx, sa } = this;
    const st = this.started;
    if (!st) return 'done';
    const { spi, Ni, ke, group: g, conn, offered } = st;
    const err = errorNotify(resp);
    if (err) {
      this.abandon();
      const wanted = err.notifyType === NotifyType.INVALID_KE_PAYLOAD ? readU16be(err.data) : undefined;
      if (wanted !== undefined && conn.proposals.some((p) => p.ke.includes(wanted)) && wanted !== g) {
        ctx.queueTask(sa, new IkeRekeyTask(ctx, sa, wanted), t);
        return 'done';
      }
      if (sa.rekeyedTo) return 'done';
      if (sa.rekeyTheirs?.replacement) {
        // Our rekey failed but the peer's, which we answered, stands: move to it and wait for its Delete.
        adopt(ctx, sa, sa.rekeyTheirs.replacement, t);
        return 'done';
      }
      ctx.log('ike', 1, sa, `IKE_SA rekey failed: peer answered ${notifyName(err.notifyType)}, retrying later`);
      sa.rekeyAt = t + (err.notifyType === NotifyType.TEMPORARY_FAILURE ? retryDelay(ctx) : retryDelay(ctx) * 10);
      return 'done';
    }
    const saP = findPayload(resp, PayloadType.SA);
    const nr = findPayload(resp, PayloadType.NONCE) as NoncePayload | undefined;
    const ker = findPayload(resp, PayloadType.KE) as KePayload | undefined;
    // RFC 7296 3.3.1: exactly one proposal, numbered as the one we sent with these transforms.
    const chosen = onlyProposal(saP);
    const set = chosen ? acceptedProposal(offered, chosen, ProtocolId.IKE) : undefined;
    // RFC 9370 2.2.4: with additional key exchanges chosen, the response links the IKE_FOLLOWUP_KE exchanges.
    const link = linkOf(resp);
    const steps = set?.addke ?? [];
    if (!chosen || !nr || !ker || !set || ker.group !== g || set.ke !== g || chosen.spi.length !== 8 || (steps.length > 0 && (!link || link.length === 0))) {
      this.abandon();
      const why = set && steps.length > 0 && !link ? ` (${addkeNames(set)} chosen without the ADDITIONAL_KEY_EXCHANGE notify, RFC 9370 2.2.4)` : '';
      ctx.log('ike', 0, sa, `invalid IKE_SA rekey response${why}, keeping the current IKE_SA`);
      sa.rekeyAt = t + retryDelay(ctx) * 10;
      return 'done';
    }
    let gir: Uint8Array;
    try {
      gir = ke.computeSharedSecret(ker.data);
    } catch (e) {
      this.abandon();
      ctx.log('ike', 0, sa, `IKE_SA rekey failed: ${isCryptoError(e) ? e.message : String(e)}`);
      return 'done';
    }
    ke.dispose();
    const Nr = nr.data;
    if (steps.length === 0 || !link) {
      this.complete(spi, chosen.spi, set, Ni, Nr, gir, [], t);
      return 'done';
    }
    sa.rekeyOurs = { Ni, Nr, spi };
    ctx.queueTask(
      sa,
      new FollowupKeTask(ctx, sa, this.kind, {
        label: `IKE_SA ${sa.name}[${sa.id}] rekey`,
        steps,
        link,
        finish: (secrets, now) => this.complete(spi, chosen.spi, set, Ni, Nr, gir, secrets, now),
        fail: (_message, now) => {
          gir.fill(0);
          this.abandon();
          if (sa.rekeyTheirs?.replacement && !sa.rekeyedTo) adopt(ctx, sa, sa.rekeyTheirs.replacement, now);
          else sa.rekeyAt = now + retryDelay(ctx) * 10;
        },
        release: () => gir.fill(0),
      }),
      t,
      { first: true },
    );
    return 'done';
  }

  /** The exchange(s) done: the new IKE SA, then collision resolution (RFC 7296 2.8.2) and the old SA's delete. */
  private complete(spi: Uint8Array, peerSpi: Uint8Array, set: TransformSet, Ni: Uint8Array, Nr: Uint8Array, gir: Uint8Array, additional: readonly Uint8Array[], t: number): void {
    const { ctx, sa } = this;
    const conn = connOf(sa, 'IkeRekeyTask');
    const created = successor(ctx, sa, conn, true, spi, peerSpi, set, Ni, Nr, gir, t, additional);
    gir.fill(0);
    sa.rekeyOurs = { Ni, Nr, spi, replacement: created };
    const theirs = sa.rekeyTheirs;
    if (theirs?.Nr && ourExchangeLost({ Ni, Nr }, { Ni: theirs.Ni, Nr: theirs.Nr })) {
      // Our new SA is redundant: delete it; the peer (the winner's initiator) deletes the old one.
      ctx.log('ike', 1, sa, `IKE_SA rekey collision lost, deleting redundant IKE_SA [${created.id}]`);
      // The peer's rekey may still be in IKE_FOLLOWUP_KE (RFC 9370 2.2.4): its completion moves the CHILD SAs then.
      if (theirs.replacement) adopt(ctx, sa, theirs.replacement, t);
      ctx.queueTask(created, new DeleteIkeTask(ctx, created, { reason: 'rekeyed' }), t);
      return;
    }
    if (theirs?.Nr) ctx.log('ike', 1, sa, 'IKE_SA rekey collision won');
    adopt(ctx, sa, created, t);
    // Make-before-break: the new IKE SA carries everything now; delete the old one on the old SA.
    ctx.queueTask(sa, new DeleteIkeTask(ctx, sa, { reason: 'rekeyed' }), t);
  }

  timeout(): void {
    this.started?.ke.dispose();
    closeOnTimeout(this.ctx, this.sa, this.exchange);
  }
}

// ---------------------------------------------------------------------------------------------- responder

export function respondRekeyIke(ctx: EndpointContext, sa: IkeSa, req: readonly Payload[], messageId: number, now: number): void {
  const answer = (payloads: Payload[]): void => ctx.sendResponse(sa, ExchangeType.CREATE_CHILD_SA, messageId, payloads);
  if ((sa.state !== 'ESTABLISHED' && sa.state !== 'REKEYING') || sa.rekeyedTo || childrenBusy(sa)) {
    ctx.log('ike', 1, sa, 'IKE_SA rekey request while CHILD_SA work or a delete is under way: TEMPORARY_FAILURE');
    answer([notify(NotifyType.TEMPORARY_FAILURE)]);
    return;
  }
  const conn = connOf(sa, 'respondRekeyIke');
  const saP = findPayload(req, PayloadType.SA);
  const ni = findPayload(req, PayloadType.NONCE) as NoncePayload | undefined;
  const keP = findPayload(req, PayloadType.KE) as KePayload | undefined;
  if (!saP || !ni || !keP) {
    answer([notify(NotifyType.INVALID_SYNTAX)]);
    return;
  }
  // RFC 9370 2.2.4: the configured proposals with their ADDKE types; an absent type counts as NONE (2.2.1).
  const sel = selectProposalForKe(conn.proposals, saP.proposals, ProtocolId.IKE, keP.group);
  if (!sel || sel.spi.length !== 8) {
    ctx.log('ike', 0, sa, 'no acceptable proposal in IKE_SA rekey request: NO_PROPOSAL_CHOSEN');
    answer([notify(NotifyType.NO_PROPOSAL_CHOSEN)]);
    return;
  }
  const group = sel.set.ke;
  if (group === undefined) {
    answer([notify(NotifyType.NO_PROPOSAL_CHOSEN)]);
    return;
  }
  if (group !== keP.group) {
    answer([notify(NotifyType.INVALID_KE_PAYLOAD, u16be(group))]);
    return;
  }
  let ke: KeyExchange | undefined;
  let gir: Uint8Array;
  try {
    ke = ctx.crypto.createKeyExchange(group, ctx.random);
    gir = ke.computeSharedSecret(keP.data);
  } catch (e) {
    ke?.dispose();
    ctx.log('ike', 0, sa, `invalid KE in IKE_SA rekey request: ${isCryptoError(e) ? e.message : String(e)}`);
    answer([notify(NotifyType.INVALID_SYNTAX)]);
    return;
  }
  const Nr = randomBytes(ctx.random, ctx.settings.nonceBytes);
  const ourSpi = ctx.newIkeSpi();
  const payloads: Payload[] = [
    { type: PayloadType.SA, critical: false, proposals: [selectionToSaProposal(sel.set, sel.num, ProtocolId.IKE, ourSpi)] },
    { type: PayloadType.NONCE, critical: false, data: Nr },
    { type: PayloadType.KE, critical: false, group: ke.group, data: ke.publicValue },
  ];
  ke.dispose();
  const steps = sel.set.addke ?? [];
  // The peer initiates this rekey: it is the original initiator of the new SA (RFC 7296 2.18).
  const create = (additional: readonly Uint8Array[], t: number, respond?: () => void): void => {
    const created = successor(ctx, sa, conn, false, sel.spi, ourSpi, sel.set, ni.data, Nr, gir, t, additional);
    gir.fill(0);
    sa.rekeyTheirs = { Ni: ni.data, Nr, replacement: created };
    respond?.();
    // Without a collision the CHILD SAs move now and the peer deletes the old SA; with one, the response to our
    // own rekey decides (IkeRekeyTask). Should ours have completed already and lost, it left the move to us.
    if (!sa.rekeyOurs || sa.rekeyOurs.replacement) adopt(ctx, sa, created, t);
  };
  if (steps.length === 0) {
    create([], now, () => answer(payloads));
    return;
  }
  // RFC 9370 2.2.4: the new IKE SA comes once the IKE_FOLLOWUP_KE exchanges are done; until then the peer's
  // nonces are known for collision resolution, and the SA stays as it is.
  const theirs = { Ni: ni.data, Nr };
  sa.rekeyTheirs = theirs;
  payloads.push(
    awaitFollowup(
      ctx,
      sa,
      {
        label: `IKE_SA ${sa.name}[${sa.id}] rekey by the peer`,
        steps,
        finish: (secrets, t) => {
          if (sa.state === 'DESTROYING' || sa.state === 'DELETING') {
            gir.fill(0);
            return;
          }
          create(secrets, t);
        },
        abort: () => {
          gir.fill(0);
          if (sa.rekeyTheirs === theirs) sa.rekeyTheirs = undefined;
        },
      },
      now,
    ),
  );
  answer(payloads);
}
