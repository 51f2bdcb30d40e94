/**
 * IKE_FOLLOWUP_KE (RFC 9370 2.2.4): the additional key exchanges of a CREATE_CHILD_SA (IKE SA rekey, CHILD SA
 * creation or rekey) whose accepted proposal holds ADDKE transforms, one exchange per additional key exchange:
 *
 *   HDR(CREATE_CHILD_SA), SK {SA, Ni, KEi}  -->
 *                    <--  HDR(CREATE_CHILD_SA), SK {SA, Nr, KEr, N(ADDITIONAL_KEY_EXCHANGE)(link1)}
 *   HDR(IKE_FOLLOWUP_KE), SK {KEi(1), N(ADDITIONAL_KEY_EXCHANGE)(link1)}  -->
 *                    <--  HDR(IKE_FOLLOWUP_KE), SK {KEr(1), N(ADDITIONAL_KEY_EXCHANGE)(link2)}
 *   HDR(IKE_FOLLOWUP_KE), SK {KEi(2), N(ADDITIONAL_KEY_EXCHANGE)(link2)}  -->
 *                    <--  HDR(IKE_FOLLOWUP_KE), SK {KEr(2)}
 *
 * The link data is "a blob meaningful only to the responder" that ties each IKE_FOLLOWUP_KE to its CREATE_CHILD_SA
 * (the window may be larger than one); the initiator copies it from the last response. A request whose link the
 * responder does not know is answered STATE_NOT_FOUND. The new SA exists only once the last exchange is done; its
 * keys mix in every shared secret (SK(0) of CREATE_CHILD_SA, SK(1)...SK(n) of these exchanges, keys.ts).
 *
 * For a KEM (ML-KEM) the initiator of the exchange generates the key pair and decapsulates, the responder
 * encapsulates (RFC 9370 2.2; crypto/kem.ts), as in IKE_INTERMEDIATE. The per-exchange state stays here: the
 * initiator's in its task, the responder's in a record keyed by the IKE SA (a WeakMap: nothing is added to the SA
 * record, and it goes with the SA).
 */
import { additionalKeName } from '../../crypto/addke.js';
import { isCryptoError } from '../../crypto/errors.js';
import { createKemInitiator, kemRespond } from '../../crypto/kem.js';
import { isMlKemMethod } from '../../crypto/mlkem.js';
import { randomBytes } from '../../crypto/random.js';
import type { KeyExchange } from '../../crypto/types.js';
import { ExchangeType, NotifyType, PayloadType, type KePayload, type NotifyPayload, type Payload } from '../codec/types.js';
import type { EndpointContext } from '../context.js';
import type { IkeSa } from '../ike-sa.js';
import { errorNotify, findPayload, notify, notifyName } from '../payload-util.js';
import { totalRetransmitTime } from '../retransmit.js';
import { closeOnTimeout } from './common.js';
import type { Task, TaskKind, TaskStatus } from './task.js';

/** One negotiated additional key exchange: its Transform Type (ADDKE1 = 6 ... ADDKE7 = 12) and method. */
export interface AdditionalKe {
  readonly type: number;
  readonly id: number;
}

/** Link data length: opaque to the initiator (RFC 9370 2.2.4); 8 random octets make a stale one unlikely to match. */
const LINK_BYTES = 8;

const names = (steps: readonly AdditionalKe[]): string => steps.map((s) => additionalKeName(s.type, s.id)).join(', ');

function describe(e: unknown): string {
  return isCryptoError(e) ? e.message : e instanceof Error ? e.message : String(e);
}

/** The link data of the ADDITIONAL_KEY_EXCHANGE notify in `payloads`, if there is one (RFC 9370 2.2.4). */
export function linkOf(payloads: readonly Payload[]): Uint8Array | undefined {
  const n = payloads.find((p): p is NotifyPayload => p.type === PayloadType.NOTIFY && p.notifyType === NotifyType.ADDITIONAL_KEY_EXCHANGE);
  return n?.data;
}

// ---------------------------------------------------------------------------------------------- initiator

export interface FollowupInitiator {
  /** What the exchanges are for, for logs: "IKE_SA gw[3] rekey", "CHILD_SA net rekey". */
  readonly label: string;
  /** The negotiated additional key exchanges, in Transform Type order (RFC 9370 2.2.2 / 2.2.4). */
  readonly steps: readonly AdditionalKe[];
  /** Link data of the CREATE_CHILD_SA response. */
  readonly link: Uint8Array;
  /** All exchanges done: SK(1) ... SK(n) (zeroed after the call). */
  finish(secrets: readonly Uint8Array[], now: number): void;
  /** An exchange failed (error notify, bad KE): no SA is created; the IKE SA stays. */
  fail(message: string, now: number): void;
  /** The peer did not answer a request: the caller's resources are released before the IKE SA is closed. */
  release(): void;
}

/**
 * The initiator's IKE_FOLLOWUP_KE exchanges for one CREATE_CHILD_SA, queued first by the task that got its
 * response ('more' until every additional key exchange is done). Known to the task manager by its parent's kind.
 */
export class FollowupKeTask implements Task {
  readonly exchange = ExchangeType.IKE_FOLLOWUP_KE;
  private index = 0;
  private link: Uint8Array;
  private ke: KeyExchange | undefined;
  private readonly secrets: Uint8Array[] = [];

  constructor(
    private readonly ctx: EndpointContext,
    private readonly sa: IkeSa,
    readonly kind: TaskKind,
    private readonly run: FollowupInitiator,
  ) {
    this.link = run.link;
  }

  build(now: number): Payload[] | undefined {
    const { ctx, sa, run } = this;
    const step = run.steps[this.index];
    if (!step) return undefined;
    if (sa.state === 'DELETING' || sa.state === 'DESTROYING') {
      this.abort(`IKE_SA ${sa.name}[${sa.id}] is closing`, now);
      return undefined;
    }
    try {
      this.ke = isMlKemMethod(step.id) ? createKemInitiator(ctx.crypto, step.id, ctx.random) : ctx.crypto.createKeyExchange(step.id, ctx.random);
    } catch (e) {
      this.abort(`additional key exchange ${additionalKeName(step.type, step.id)}: ${describe(e)}`, now);
      return undefined;
    }
    ctx.log('ike', 1, sa, `IKE_FOLLOWUP_KE ${this.index + 1} of ${run.steps.length} for ${run.label}: additional key exchange ${additionalKeName(step.type, step.id)} (RFC 9370 2.2.4)`);
    return [
      { type: PayloadType.KE, critical: false, group: step.id, data: this.ke.publicValue },
      notify(NotifyType.ADDITIONAL_KEY_EXCHANGE, this.link),
    ];
  }

  process(_h: unknown, resp: readonly Payload[], now: number): TaskStatus {
    const { run } = this;
    const ke = this.ke;
    this.ke = undefined;
    const step = run.steps[this.index];
    if (!ke || !step) return 'done';
    try {
      const err = errorNotify(resp);
      if (err) {
        // RFC 9370 2.2.4: STATE_NOT_FOUND when the responder lost (or never had) the state of this link; any
        // error ends the whole CREATE_CHILD_SA: no SA is created.
        this.abort(`peer answered IKE_FOLLOWUP_KE ${this.index + 1} of ${run.steps.length} with ${notifyName(err.notifyType)}`, now);
        return 'done';
      }
      const keP = findPayload(resp, PayloadType.KE) as KePayload | undefined;
      if (!keP || keP.group !== step.id) {
        this.abort(`IKE_FOLLOWUP_KE response lacks the KE payload of ${additionalKeName(step.type, step.id)}${keP ? ` (it carries method ${keP.group})` : ''}`, now);
        return 'done';
      }
      this.secrets.push(ke.computeSharedSecret(keP.data));
      this.ctx.log('ike', 1, this.sa, `additional key exchange ${additionalKeName(step.type, step.id)} done (${this.index + 1} of ${run.steps.length}) for ${run.label}`);
      this.index++;
      if (this.index < run.steps.length) {
        // Every response but the last carries the link for the next request (RFC 9370 2.2.4).
        const next = linkOf(resp);
        if (!next || next.length === 0) {
          this.abort(`IKE_FOLLOWUP_KE response ${this.index} of ${run.steps.length} without the ADDITIONAL_KEY_EXCHANGE notify for the next exchange`, now);
          return 'done';
        }
        this.link = next;
        return 'more';
      }
      run.finish(this.secrets, now);
      return 'done';
    } catch (e) {
      this.abort(`invalid IKE_FOLLOWUP_KE response: ${describe(e)}`, now);
      return 'done';
    } finally {
      ke.dispose();
      if (this.index >= run.steps.length) this.wipe();
    }
  }

  timeout(): void {
    this.ke?.dispose();
    this.wipe();
    this.run.release();
    // RFC 7296 2.4: a peer that answers no retransmission is dead, whichever exchange it was.
    closeOnTimeout(this.ctx, this.sa, this.exchange);
  }

  private abort(message: string, now: number): void {
    this.ke?.dispose();
    this.ke = undefined;
    this.wipe();
    this.ctx.log('ike', 0, this.sa, `${this.run.label} failed: ${message} (RFC 9370 2.2.4)`);
    this.run.fail(message, now);
  }

  private wipe(): void {
    for (const s of this.secrets.splice(0)) s.fill(0);
  }
}

// ---------------------------------------------------------------------------------------------- responder

export interface FollowupResponder {
  readonly label: string;
  readonly steps: readonly AdditionalKe[];
  /** All exchanges answered: SK(1) ... SK(n) (zeroed after the call). Creates the SA. */
  finish(secrets: readonly Uint8Array[], now: number): void;
  /** The exchanges end without an SA (error, or the initiator never came back): release what was set aside. */
  abort(message: string): void;
}

interface ResponderState {
  readonly run: FollowupResponder;
  link: Uint8Array;
  done: number;
  readonly secrets: Uint8Array[];
}

/** Responder state of the IKE_FOLLOWUP_KE exchanges under way, per IKE SA (the window may allow several). */
const waiting = new WeakMap<IkeSa, ResponderState[]>();

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

function forget(sa: IkeSa, st: ResponderState): void {
  const list = waiting.get(sa);
  const i = list?.indexOf(st) ?? -1;
  if (list && i >= 0) list.splice(i, 1);
  for (const s of st.secrets.splice(0)) s.fill(0);
}

/** Whether IKE_FOLLOWUP_KE exchanges the peer started on `sa` are still to come (collision checks). */
export function followupPending(sa: IkeSa): boolean {
  return (waiting.get(sa)?.length ?? 0) > 0;
}

/**
 * Responder of a CREATE_CHILD_SA whose chosen proposal has additional key exchanges: keeps `run` until the
 * initiator's IKE_FOLLOWUP_KE requests come, and returns the ADDITIONAL_KEY_EXCHANGE notify for the response.
 * RFC 9370 2.2.4: should the initiator never continue (it lost its state), the responder "MUST handle this
 * gracefully and delete the associated state"; it is kept for as long as the initiator could still be
 * retransmitting (the RFC suggests 5-20 s; a lost response is resent on the CREATE_CHILD_SA's retransmission).
 */
export function awaitFollowup(ctx: EndpointContext, sa: IkeSa, run: FollowupResponder, now: number): NotifyPayload {
  const st: ResponderState = { run, link: randomBytes(ctx.random, LINK_BYTES), done: 0, secrets: [] };
  const list = waiting.get(sa) ?? [];
  list.push(st);
  waiting.set(sa, list);
  armExpiry(ctx, sa, st, now);
  ctx.log('ike', 1, sa, `${run.label}: ${run.steps.length} additional key exchange(s) (${names(run.steps)}) follow in IKE_FOLLOWUP_KE (RFC 9370 2.2.4)`);
  return notify(NotifyType.ADDITIONAL_KEY_EXCHANGE, st.link);
}

function armExpiry(ctx: EndpointContext, sa: IkeSa, st: ResponderState, now: number): void {
  const done = st.done;
  ctx.later(sa, now + totalRetransmitTime(ctx.settings.retransmit), () => {
    if (st.done !== done || !(waiting.get(sa) ?? []).includes(st)) return;
    forget(sa, st);
    const message = `peer did not continue with IKE_FOLLOWUP_KE ${done + 1} of ${st.run.steps.length}, state removed`;
    ctx.log('ike', 1, sa, `${st.run.label}: ${message} (RFC 9370 2.2.4)`);
    st.run.abort(message);
  });
}

/** Drops every pending IKE_FOLLOWUP_KE state of `sa` (e.g. the IKE SA is deleted or rekeyed away). */
export function abortFollowups(sa: IkeSa, message: string): void {
  for (const st of [...(waiting.get(sa) ?? [])]) {
    forget(sa, st);
    st.run.abort(message);
  }
}

/** Answers an IKE_FOLLOWUP_KE request (RFC 9370 2.2.4). */
export function respondFollowupKe(ctx: EndpointContext, sa: IkeSa, req: readonly Payload[], messageId: number, now: number): void {
  const answer = (payloads: Payload[]): void => ctx.sendResponse(sa, ExchangeType.IKE_FOLLOWUP_KE, messageId, payloads);
  const link = linkOf(req);
  const st = link ? waiting.get(sa)?.find((s) => sameBytes(s.link, link)) : undefined;
  if (!st) {
    // RFC 9370 2.2.4: no state for this link (never had it, or removed): STATE_NOT_FOUND.
    ctx.log('ike', 1, sa, `IKE_FOLLOWUP_KE request ${messageId} ${link ? 'with an unknown link' : 'without ADDITIONAL_KEY_EXCHANGE notify'}: answering STATE_NOT_FOUND (RFC 9370 2.2.4)`);
    answer([notify(NotifyType.STATE_NOT_FOUND)]);
    return;
  }
  const { run } = st;
  const step = run.steps[st.done];
  const keP = findPayload(req, PayloadType.KE) as KePayload | undefined;
  const fail = (message: string): void => {
    forget(sa, st);
    ctx.log('ike', 0, sa, `${run.label} failed: ${message}; answering INVALID_SYNTAX`);
    answer([notify(NotifyType.INVALID_SYNTAX)]);
    run.abort(message);
  };
  if (!step || !keP || keP.group !== step.id) {
    fail(`IKE_FOLLOWUP_KE request ${messageId} lacks the KE payload of ${step ? additionalKeName(step.type, step.id) : 'a further exchange'}${keP ? ` (it carries method ${keP.group})` : ''} (RFC 9370 2.2.4)`);
    return;
  }
  let ours: KeyExchange;
  let shared: Uint8Array;
  try {
    ours = isMlKemMethod(step.id) ? kemRespond(ctx.crypto, step.id, keP.data, ctx.random) : ctx.crypto.createKeyExchange(step.id, ctx.random);
    shared = ours.computeSharedSecret(keP.data);
  } catch (e) {
    fail(`invalid KE payload in IKE_FOLLOWUP_KE request ${messageId} (${additionalKeName(step.type, step.id)}): ${describe(e)}`);
    return;
  }
  st.secrets.push(shared);
  st.done++;
  ctx.log('ike', 1, sa, `IKE_FOLLOWUP_KE ${st.done} of ${run.steps.length} for ${run.label}: additional key exchange ${additionalKeName(step.type, step.id)} done (RFC 9370 2.2.4)`);
  const response: Payload[] = [{ type: PayloadType.KE, critical: false, group: step.id, data: ours.publicValue }];
  ours.dispose();
  if (st.done < run.steps.length) {
    st.link = randomBytes(ctx.random, LINK_BYTES);
    response.push(notify(NotifyType.ADDITIONAL_KEY_EXCHANGE, st.link));
    answer(response);
    armExpiry(ctx, sa, st, now);
    return;
  }
  const secrets = [...st.secrets];
  st.secrets.length = 0;
  const list = waiting.get(sa);
  list?.splice(list.indexOf(st), 1);
  answer(response);
  try {
    run.finish(secrets, now);
  } finally {
    for (const s of secrets) s.fill(0);
  }
}
