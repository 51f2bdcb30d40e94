/**
 * The IKE SA state machine, written down: every state an IKE SA takes, every allowed change with the RFC 7296
 * section that allows it, and the one function (`transition`) through which all changes go. A change missing from
 * the table is a bug in cygnet, not in the peer: under test it throws (so the whole test suite proves the table is
 * complete), in production the endpoint logs it at level 1 and counts it in `internalErrors`, then applies it, so
 * a gap in the table never takes a gateway down.
 */
import type { IkeSaState } from './events.js';

export type { IkeSaState } from './events.js';

/** Every IKE SA state, in the order an SA normally goes through them. */
export const IKE_SA_STATES: readonly IkeSaState[] = ['CREATED', 'CONNECTING', 'ESTABLISHED', 'REKEYING', 'REKEYED', 'DELETING', 'DESTROYING'];

export interface IkeSaTransition {
  readonly from: IkeSaState;
  readonly to: IkeSaState;
  /** The RFC 7296 section (or RFC) that allows the change. */
  readonly rfc: string;
  readonly when: string;
}

const t = (from: IkeSaState, to: IkeSaState, rfc: string, when: string): IkeSaTransition => ({ from, to, rfc, when });

/** The allowed transitions. DESTROYING is terminal: the SA has left the SA table. */
export const IKE_SA_TRANSITIONS: readonly IkeSaTransition[] = [
  t('CREATED', 'CONNECTING', 'RFC 7296 1.2', 'initiator sends IKE_SA_INIT, or responder answers one'),
  t('CREATED', 'ESTABLISHED', 'RFC 7296 2.18', 'the new IKE SA of a rekey is established with its keys'),
  t('CONNECTING', 'ESTABLISHED', 'RFC 7296 1.2', 'IKE_AUTH completed, both peers authenticated'),
  t('CONNECTING', 'DELETING', 'RFC 7296 2.21.2', 'initiator rejects an authentic IKE_AUTH response and deletes the SA the responder holds'),
  t('ESTABLISHED', 'REKEYING', 'RFC 7296 2.8', 'we start a CREATE_CHILD_SA rekey of the IKE SA'),
  t('REKEYING', 'ESTABLISHED', 'RFC 7296 2.8', 'our rekey failed or was refused (TEMPORARY_FAILURE, INVALID_KE_PAYLOAD, timeout)'),
  t('ESTABLISHED', 'REKEYED', 'RFC 7296 2.8', 'we answered the peer\'s rekey: the CHILD SAs moved to the new IKE SA'),
  t('REKEYING', 'REKEYED', 'RFC 7296 2.8.2', 'our rekey completed, or the peer\'s won a simultaneous rekey'),
  t('ESTABLISHED', 'DELETING', 'RFC 7296 1.4.1', 'we send an INFORMATIONAL Delete of the IKE SA (terminate, expiry, reauthentication)'),
  t('REKEYING', 'DELETING', 'RFC 7296 1.4.1', 'we delete the IKE SA while our rekey of it is under way'),
  t('REKEYED', 'DELETING', 'RFC 7296 2.8', 'the old IKE SA of a rekey is deleted'),
  t('CREATED', 'DESTROYING', 'RFC 7296 2.21.1', 'the SA failed before it sent anything (no usable proposal)'),
  t('CONNECTING', 'DESTROYING', 'RFC 7296 2.4', 'setup failed, timed out (retransmissions, half-open timeout) or was refused'),
  t('ESTABLISHED', 'DESTROYING', 'RFC 7296 2.4', 'peer dead (retransmissions exhausted), deleted by the peer (1.4.1) or hard lifetime'),
  t('REKEYING', 'DESTROYING', 'RFC 7296 2.4', 'the peer stopped answering or deleted the SA during our rekey (1.4.1)'),
  t('REKEYED', 'DESTROYING', 'RFC 7296 1.4.1', 'the peer deleted the old IKE SA of a rekey'),
  t('DELETING', 'DESTROYING', 'RFC 7296 1.4.1', 'our Delete was answered (or not: 2.4), or crossed the peer\'s Delete'),
];

const allowed = new Set(IKE_SA_TRANSITIONS.map((x) => `${x.from}>${x.to}`));

export function isAllowedTransition(from: IkeSaState, to: IkeSaState): boolean {
  return allowed.has(`${from}>${to}`);
}

/** The RFC section allowing `from` -> `to`, undefined when it is not allowed. */
export function transitionRfc(from: IkeSaState, to: IkeSaState): string | undefined {
  return IKE_SA_TRANSITIONS.find((x) => x.from === from && x.to === to)?.rfc;
}

export class IllegalTransitionError extends Error {
  readonly code = 'ILLEGAL_TRANSITION';
  constructor(
    readonly saId: number,
    readonly from: IkeSaState,
    readonly to: IkeSaState,
    readonly why: string,
  ) {
    super(`IKE_SA [${saId}]: transition ${from} -> ${to} is not in the state table (${why})`);
    this.name = 'IllegalTransitionError';
  }
}

/** What `transition` needs: the SA, and who hears of a change missing from the table. */
export interface StatefulSa {
  readonly id: number;
  readonly state: IkeSaState;
}

export interface TransitionSink {
  /** A change missing from the table: throw (tests) or log and count (production). */
  illegalTransition(e: IllegalTransitionError): void;
}

/**
 * Changes `sa`'s state to `to` (`why` says what caused it, for the bug report). The single place where IKE SA
 * state changes; `IkeSa.state` is readonly everywhere else.
 */
export function transition(sink: TransitionSink, sa: StatefulSa, to: IkeSaState, why: string): void {
  if (!isAllowedTransition(sa.state, to)) sink.illegalTransition(new IllegalTransitionError(sa.id, sa.state, to, why));
  (sa as { state: IkeSaState }).state = to;
}

/**
 * Whether an illegal transition throws when the endpoint's settings do not say: yes under the test runner (vitest
 * sets VITEST), so every existing test doubles as a check that the table is complete; no in production.
 */
export const STRICT_TRANSITIONS_DEFAULT: boolean = typeof process !== 'undefined' && process.env['VITEST'] !== undefined;
