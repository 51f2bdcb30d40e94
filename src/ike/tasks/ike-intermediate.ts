/**
 * IKE_INTERMEDIATE (RFC 9242) carrying RFC 9370 additional key exchanges, between IKE_SA_INIT and IKE_AUTH:
 *
 *   HDR, SAi1, KEi, Ni, N(INTERMEDIATE_EXCHANGE_SUPPORTED) -->           (IKE_SA_INIT, ADDKEn negotiated)
 *                              <-- HDR, SAr1, KEr, Nr, N(INTERMEDIATE_EXCHANGE_SUPPORTED)
 *   HDR(IKE_INTERMEDIATE, MID 1), SK {KEi(1)} -->                        (one exchange per chosen ADDKE, in type order)
 *                              <-- HDR(IKE_INTERMEDIATE, MID 1), SK {KEr(1)}
 *   ...
 *   HDR(IKE_AUTH, MID n+1), SK {IDi, AUTH, ...} -->
 *
 * RFC 9370 2.2.2: after the n-th exchange both sides recompute the IKE SA keys from SK_d(n-1) and the new shared
 * secret (SPIs and nonces unchanged); the exchange itself is protected with the keys before it. For a KEM (ML-KEM,
 * RFC 9370 2.2: "KE payload ... the initiator's encapsulation key, the responder's ciphertext") the initiator
 * generates the key pair and decapsulates, the responder encapsulates. RFC 9242 3.3: every IKE_INTERMEDIATE message
 * is folded into IntAuth_i / IntAuth_r (with the SK_p keys in force when it was protected), and IKE_AUTH's AUTH of
 * both sides covers IntAuth_iN | IntAuth_rN | IKE_AUTH_MID (auth-methods.ts). RFC 9242 3.4: these messages may be
 * fragmented (RFC 7383), which an ML-KEM-1024 key (1568 bytes) needs at the default fragment size; the IntAuth
 * chunk is computed as if the message were not (header Next Payload SK, plaintext of the whole message).
 */
import { additionalKeName } from '../../crypto/addke.js';
import { isCryptoError } from '../../crypto/errors.js';
import { createKemInitiator, kemRespond } from '../../crypto/kem.js';
import { isMlKemMethod } from '../../crypto/mlkem.js';
import type { KeyExchange } from '../../crypto/types.js';
import { writeHeader } from '../codec/message.js';
import { encodePayloads } from '../codec/index.js';
import { ExchangeType, NotifyType, PayloadType, type IkeHeader, type IkeHeaderInit, type Payload } from '../codec/types.js';
import type { ChildConfig, IkeConnectionConfig } from '../config.js';
import type { EndpointContext } from '../context.js';
import { fmt } from '../format.js';
import { setKeys, type IkeSa, type IntermediateState, type KeyedIkeSa } from '../ike-sa.js';
import { intAuthTrailer, IntermediateAuthError, nextIntAuth, type IntAuthMessageParts } from '../intermediate-keys.js';
import { deriveIkeKeys, releaseSkContexts } from '../keys.js';
import { errorNotify, findPayload, hasNotify, notify, notifyName } from '../payload-util.js';
import { proposalAddke } from '../../crypto/proposals.js';
import { IkeAuthTask } from './ike-auth.js';
import { closeOnTimeout } from './common.js';
import { emitKeys } from './key-export.js';
import type { Task, TaskStatus } from './task.js';

/** RFC 7296 3.2: payload type of the Encrypted payload; the IntAuth A chunk is built as if unfragmented (9242 3.3.2). */
const PAYLOAD_SK = 46;

/** Per-SA progress of the IKE_INTERMEDIATE exchanges (on IkeSa.intermediate). */
// The per-SA record lives with the SA (ike-sa.ts) so the SA module does not import this task (no cycle).
export type { IntermediateState } from '../ike-sa.js';

export function intermediateState(sa: IkeSa): IntermediateState {
  sa.intermediate ??= { count: 0, intAuthI: undefined, intAuthR: undefined, lastIn: undefined };
  return sa.intermediate;
}

/** How many additional key exchanges the SA negotiated (RFC 9370 2.2.1: NONE choices are not counted). */
export function additionalKeCount(sa: IkeSa): number {
  return sa.set?.addke?.length ?? 0;
}

/** Additional key exchanges negotiated but not all done yet: IKE_AUTH must wait (RFC 9370 2.2.2). */
export function intermediatePending(sa: IkeSa): boolean {
  return (sa.intermediate?.count ?? 0) < additionalKeCount(sa);
}

/** RFC 9242 3.2: INTERMEDIATE_EXCHANGE_SUPPORTED in our IKE_SA_INIT request when our proposals have ADDKE types. */
export function intermediateSupportedRequest(conn: IkeConnectionConfig): Payload[] {
  const wanted = conn.proposals.some((p) => proposalAddke(p).some((l) => l.length > 0));
  return wanted ? [notify(NotifyType.INTERMEDIATE_EXCHANGE_SUPPORTED)] : [];
}

/** The responder announces it back when the initiator did and an additional key exchange was chosen (9242 3.2). */
export function intermediateSupportedResponse(sa: IkeSa, request: readonly Payload[]): Payload[] {
  return additionalKeCount(sa) > 0 && hasNotify(request, NotifyType.INTERMEDIATE_EXCHANGE_SUPPORTED) ? [notify(NotifyType.INTERMEDIATE_EXCHANGE_SUPPORTED)] : [];
}

/**
 * For the initiator's NO_PROPOSAL_CHOSEN message: the additional key exchanges every one of our proposals requires
 * (an ADDKE type without NONE, RFC 9370 2.2.1), which a responder without RFC 9370 refuses (RFC 7296 3.3.6).
 */
export function requiredAddkeHint(conn: IkeConnectionConfig): string {
  const required = conn.proposals.map((p) => proposalAddke(p).flatMap((ids, i) => (ids.length > 0 && !ids.includes(0) ? [ids.map((id) => additionalKeName(i + 6, id)).join('/')] : [])));
  if (required.length === 0 || required.some((r) => r.length === 0)) return '';
  const names = [...new Set(required.flat())].join(', ');
  return `; every proposal requires additional key exchanges (${names}), which a peer without RFC 9370 support (e.g. strongSwan before 6.0) refuses: add ke<n>_none to make them optional or a proposal without them`;
}

/**
 * Initiator, IKE_SA_INIT done: the task that comes next, IKE_INTERMEDIATE when additional key exchanges were chosen
 * (RFC 9370 2.2.2), else IKE_AUTH.
 */
export function taskAfterInit(ctx: EndpointContext, sa: KeyedIkeSa, child: ChildConfig | undefined, response: readonly Payload[]): Task {
  if (additionalKeCount(sa) === 0) return new IkeAuthTask(ctx, sa, child);
  return new IkeIntermediateTask(ctx, sa, child, hasNotify(response, NotifyType.INTERMEDIATE_EXCHANGE_SUPPORTED));
}

export { intAuthForAuth } from '../intermediate-auth.js';

/** The IntAuth chunk parts of a message we encode with outbound.ts (RFC 9242 3.3.2), from its payloads. */
function sentParts(sa: IkeSa, messageId: number, response: boolean, payloads: readonly Payload[]): IntAuthMessageParts {
  const h: IkeHeaderInit = { spiI: sa.spiI, spiR: sa.spiR, exchangeType: ExchangeType.IKE_INTERMEDIATE, flags: { initiator: sa.initiator, response, version: false }, messageId };
  const ikeHeader = new Uint8Array(28);
  writeHeader(ikeHeader, h, PAYLOAD_SK, 0);
  const first = payloads[0]?.type;
  return { ikeHeader, unencryptedPayloads: new Uint8Array(0), firstInnerPayload: typeof first === 'number' ? first : 0, innerPlaintext: encodePayloads(payloads) };
}

function receivedParts(sa: IkeSa): IntAuthMessageParts {
  const last = sa.intermediate?.lastIn;
  if (!last) throw new IntermediateAuthError('IntAuth: the IKE_INTERMEDIATE message received was not kept by the decoder');
  return { ikeHeader: last.header, unencryptedPayloads: new Uint8Array(0), firstInnerPayload: last.firstInnerType, innerPlaintext: last.plaintext };
}

/** Records what inbound.ts opened of an IKE_INTERMEDIATE message (RFC 9242 3.3.2 needs the plaintext as received). */
export function keepIntermediateInbound(sa: IkeSa, data: Uint8Array, firstInnerType: number, plaintext: Uint8Array): void {
  const header = data.slice(0, 28);
  header[16] = PAYLOAD_SK; // as if unfragmented (RFC 9242 3.3.2, 3.4): SKF's header counts as SK's
  intermediateState(sa).lastIn = { header, firstInnerType, plaintext: plaintext.slice() };
}

/** RFC 9370 2.2.2: SKEYSEED(n) = prf(SK_d(n-1), SK(n) | Ni | Nr), then the seven keys with the unchanged SPIs. */
function updateKeys(ctx: EndpointContext, sa: KeyedIkeSa, shared: Uint8Array): void {
  const old = sa.keys;
  if (!sa.set) throw new IntermediateAuthError('additional key exchange on an IKE SA without a negotiated transform set');
  const keys = deriveIkeKeys(ctx.crypto, sa.set, {
    Ni: sa.Ni,
    Nr: sa.Nr,
    gir: shared,
    spiI: sa.spiI,
    spiR: sa.spiR,
    initiator: sa.initiator,
    rekey: { prf: old.prf, SK_d: old.SK_d },
    exportKeys: ctx.settings.exportKeys,
  });
  setKeys(sa, keys);
  releaseSkContexts(old);
  emitKeys(ctx, sa);
}

/** Our side of one additional key exchange: a DH group as usual, a KEM in its role (RFC 9370 2.2). */
function initiatorExchange(ctx: EndpointContext, method: number): KeyExchange {
  return isMlKemMethod(method) ? createKemInitiator(ctx.crypto, method, ctx.random) : ctx.crypto.createKeyExchange(method, ctx.random);
}

function describe(e: unknown): string {
  return isCryptoError(e) || e instanceof IntermediateAuthError ? e.message : String(e);
}

// ---------------------------------------------------------------------------------------------- initiator

/** The initiator's IKE_INTERMEDIATE exchanges, one per additional key exchange ('more' until all are done). */
export class IkeIntermediateTask implements Task {
  readonly kind = 'IKE_INTERMEDIATE';
  readonly exchange = ExchangeType.IKE_INTERMEDIATE;
  private ke: KeyExchange | undefined;
  private sent: Payload[] | undefined;

  constructor(
    private readonly ctx: EndpointContext,
    private readonly sa: KeyedIkeSa,
    readonly child: ChildConfig | undefined,
    private readonly peerSupports: boolean,
  ) {}

  build(): Payload[] | undefined {
    const { ctx, sa } = this;
    if (!this.peerSupports) {
      // RFC 9242 3.2: without the responder's INTERMEDIATE_EXCHANGE_SUPPORTED no IKE_INTERMEDIATE may be sent.
      ctx.destroySa(sa, 'no-proposal', `responder ${fmt(sa.remote)} chose additional key exchanges (${this.names()}) but did not announce IKE_INTERMEDIATE support (RFC 9242 3.2)`);
      return undefined;
    }
    const st = intermediateState(sa);
    const step = sa.set?.addke?.[st.count];
    if (!step) return undefined;
    try {
      this.ke = initiatorExchange(ctx, step.id);
    } catch (e) {
      ctx.destroySa(sa, 'no-proposal', `additional key exchange ${additionalKeName(step.type, step.id)}: ${describe(e)}`);
      return undefined;
    }
    ctx.log('ike', 1, sa, `IKE_INTERMEDIATE ${st.count + 1} of ${additionalKeCount(sa)}: additional key exchange ${additionalKeName(step.type, step.id)} (RFC 9370)`);
    this.sent = [{ type: PayloadType.KE, critical: false, group: step.id, data: this.ke.publicValue }];
    return this.sent;
  }

  private names(): string {
    return (this.sa.set?.addke ?? []).map((a) => additionalKeName(a.type, a.id)).join(', ');
  }

  process(header: IkeHeader, payloads: readonly Payload[], now: number): TaskStatus {
    const { ctx, sa } = this;
    const ke = this.ke;
    const sent = this.sent;
    this.ke = undefined;
    if (!ke || !sent) return 'done';
    try {
      const st = intermediateState(sa);
      const step = sa.set?.addke?.[st.count];
      const err = errorNotify(payloads);
      if (err || !step) {
        ctx.destroySa(sa, 'error', `peer answered IKE_INTERMEDIATE with ${err ? notifyName(err.notifyType) : 'nothing we asked for'}`);
        return 'done';
      }
      const keP = findPayload(payloads, PayloadType.KE);
      if (!keP || keP.group !== step.id) {
        ctx.destroySa(sa, 'invalid-syntax', `IKE_INTERMEDIATE response ${header.messageId} from ${fmt(sa.remote)} lacks the KE payload of ${additionalKeName(step.type, step.id)}${keP ? ` (it carries method ${keP.group})` : ''} (RFC 9370 2.2.2)`);
        return 'done';
      }
      const shared = ke.computeSharedSecret(keP.data);
      // RFC 9242 3.3.2: both messages of this exchange were protected with the keys before the update.
      const k = sa.keys;
      st.intAuthI = nextIntAuth(k.prf, k.SK_pi, st.intAuthI, sentParts(sa, header.messageId, false, sent));
      st.intAuthR = nextIntAuth(k.prf, k.SK_pr, st.intAuthR, receivedParts(sa));
      st.lastIn = undefined;
      updateKeys(ctx, sa, shared);
      shared.fill(0);
      st.count++;
      ctx.log('ike', 1, sa, `additional key exchange ${additionalKeName(step.type, step.id)} done, IKE SA keys updated (RFC 9370 2.2.2)`);
      if (st.count < additionalKeCount(sa)) return 'more';
      // IKE_AUTH follows at once, before anything else queued on the SA (RFC 9242 3, RFC 7296 1.2).
      ctx.queueTask(sa, new IkeAuthTask(ctx, sa, this.child), now, { first: true });
      return 'done';
    } catch (e) {
      ctx.destroySa(sa, 'invalid-syntax', `invalid IKE_INTERMEDIATE response from ${fmt(sa.remote)}: ${describe(e)}`);
      return 'done';
    } finally {
      ke.dispose();
    }
  }

  timeout(): void {
    closeOnTimeout(this.ctx, this.sa, this.exchange);
  }
}

// ---------------------------------------------------------------------------------------------- responder

/** Answers an IKE_INTERMEDIATE request: the next additional key exchange, then the key update (RFC 9370 2.2.2). */
export function respondIkeIntermediate(ctx: EndpointContext, sa: KeyedIkeSa, req: readonly Payload[], messageId: number): void {
  const st = intermediateState(sa);
  const step = sa.set?.addke?.[st.count];
  const fail = (message: string): void => {
    ctx.log('ike', 0, sa, `${message}; answering INVALID_SYNTAX`);
    ctx.sendResponse(sa, ExchangeType.IKE_INTERMEDIATE, messageId, [notify(NotifyType.INVALID_SYNTAX)]);
    // Before IKE_AUTH the SA cannot continue; an established one stays (the request was authentic, RFC 7296 2.21.2).
    if (sa.state === 'CONNECTING') ctx.destroySa(sa, 'invalid-syntax', message);
  };
  if (sa.state !== 'CONNECTING' || !step) {
    // RFC 9242 3: IKE_INTERMEDIATE only between IKE_SA_INIT and IKE_AUTH; RFC 9370: one per negotiated ADDKE.
    fail(`unexpected IKE_INTERMEDIATE request ${messageId} from ${fmt(sa.remote)}: ${additionalKeCount(sa)} additional key exchange(s) negotiated, ${st.count} done`);
    return;
  }
  const keP = findPayload(req, PayloadType.KE);
  if (!keP || keP.group !== step.id) {
    fail(`IKE_INTERMEDIATE request ${messageId} from ${fmt(sa.remote)} lacks the KE payload of ${additionalKeName(step.type, step.id)}${keP ? ` (it carries method ${keP.group})` : ''} (RFC 9370 2.2.2)`);
    return;
  }
  let ours: KeyExchange;
  let shared: Uint8Array;
  let intAuthI: Uint8Array;
  try {
    ours = isMlKemMethod(step.id) ? kemRespond(ctx.crypto, step.id, keP.data, ctx.random) : ctx.crypto.createKeyExchange(step.id, ctx.random);
    shared = ours.computeSharedSecret(keP.data);
    intAuthI = nextIntAuth(sa.keys.prf, sa.keys.SK_pi, st.intAuthI, receivedParts(sa));
  } catch (e) {
    fail(`invalid IKE_INTERMEDIATE request ${messageId} from ${fmt(sa.remote)} (${additionalKeName(step.type, step.id)}): ${describe(e)}`);
    return;
  }
  const response: Payload[] = [{ type: PayloadType.KE, critical: false, group: step.id, data: ours.publicValue }];
  // Sent (and kept for retransmissions) under the keys before the update (RFC 9370 2.2.2).
  ctx.sendResponse(sa, ExchangeType.IKE_INTERMEDIATE, messageId, response);
  ours.dispose();
  st.intAuthI = intAuthI;
  st.intAuthR = nextIntAuth(sa.keys.prf, sa.keys.SK_pr, st.intAuthR, sentParts(sa, messageId, true, response));
  st.lastIn = undefined;
  updateKeys(ctx, sa, shared);
  shared.fill(0);
  st.count++;
  ctx.log('ike', 1, sa, `additional key exchange ${additionalKeName(step.type, step.id)} done (${st.count} of ${additionalKeCount(sa)}), IKE SA keys updated (RFC 9370 2.2.2)`);
}
