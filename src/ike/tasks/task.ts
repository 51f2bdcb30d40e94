/**
 * A task: one unit of IKE work, as strongSwan's sa/ikev2/tasks/ are, in TypeScript's idiom. The initiator of an
 * exchange queues a task on the IKE SA; when the SA's request window is free (RFC 7296 2.3) the task manager
 * (manager.ts) asks it to `build` the request, sends it, retransmits it, and hands the response to `process`.
 * A task whose work needs several round trips of its exchange (IKE_SA_INIT after a COOKIE or INVALID_KE_PAYLOAD,
 * 2.6 and 1.2; IKE_AUTH with EAP, 2.16) answers `process` with 'more' and is built again at once.
 *
 * The responder role of each task is a function `respondX(ctx, sa, request, messageId, now)` in the task's file;
 * responders.ts picks it by exchange type and content.
 */
import type { IkeHeader, Payload } from '../codec/types.js';

/** What the task manager knows each task as (logs, collision checks, tests). */
export type TaskKind =
  | 'IKE_INIT'
  | 'IKE_INTERMEDIATE'
  | 'IKE_AUTH'
  | 'CHILD_CREATE'
  | 'CHILD_REKEY'
  | 'CHILD_DELETE'
  | 'IKE_REKEY'
  | 'IKE_DELETE'
  | 'IKE_DPD'
  | 'IKE_NOTIFY'
  | 'IKE_REAUTH'
  | 'IKE_MOBIKE';

/**
 * `process`'s answer: the task is finished; or needs another request of the same exchange, built at once ('more');
 * or needs one once asynchronous work is done (an EAP method, a RADIUS server: 'wait'). A waiting task keeps the
 * request window (nothing else starts on the SA) until it calls EndpointContext.resumeTask.
 */
export type TaskStatus = 'done' | 'more' | 'wait';

export interface Task {
  readonly kind: TaskKind;
  /** The exchange type of the task's requests (RFC 7296 3.1). */
  readonly exchange: number;
  /**
   * The request's payloads, now that the window is free; undefined when the task has become moot while queued (the
   * SA it was for is gone, another exchange did the work): the manager then goes on with the next task.
   */
  build(now: number): Payload[] | undefined;
  /** The peer's response to the request `build` made. */
  process(header: IkeHeader, payloads: readonly Payload[], now: number): TaskStatus;
  /** The request went unanswered through every retransmission (RFC 7296 2.4). */
  timeout(now: number): void;
}
