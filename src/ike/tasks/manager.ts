/**
 * The task manager of one IKE SA (strongSwan's task_manager_v2.c, reduced to what RFC 7296 asks): tasks wait in
 * the SA's queue, and when the request window is free (2.3: `windowSize` outstanding requests; cygnet uses 1, the
 * size RFC 7296 requires every implementation to support) the first one builds its request. Responses go to the
 * task whose request they answer; exhausted retransmissions to its `timeout`. Collisions between our tasks and the
 * peer's requests (2.8.1, 2.8.2, 2.25) are resolved by the tasks themselves with the bookkeeping on the SAs.
 */
import type { IkeHeader, Payload } from '../codec/types.js';
import type { IkeSa } from '../ike-sa.js';
import type { Task } from './task.js';

export interface TaskHost {
  /** Sends `task`'s request on `sa` (numbered, encrypted, armed for retransmission: outbound.ts). */
  send(sa: IkeSa, task: Task, payloads: readonly Payload[], now: number): void;
}

/** RFC 7296 2.3: requests we may have outstanding at once. */
export const WINDOW_SIZE = 1;

/** Queues `task` on `sa`: last, or `first` (a task that continues the one just finished, e.g. IKE_AUTH). */
export function queueTask(sa: IkeSa, task: Task, opts: { first?: boolean } = {}): void {
  if (opts.first) sa.queue.unshift(task);
  else sa.queue.push(task);
}

/** Starts queued tasks while the window has room and the SA lives. */
export function runQueue(h: TaskHost, sa: IkeSa, now: number): void {
  while (outstanding(sa) < WINDOW_SIZE && sa.state !== 'DESTROYING') {
    const task = sa.queue.shift();
    if (!task) return;
    start(h, sa, task, now);
  }
}

function outstanding(sa: IkeSa): number {
  return sa.pending || sa.waiting ? 1 : 0;
}

function start(h: TaskHost, sa: IkeSa, task: Task, now: number): void {
  const payloads = task.build(now);
  if (payloads !== undefined && sa.state !== 'DESTROYING') h.send(sa, task, payloads, now);
}

/** The response to the pending request arrived (dispatch.ts matched its message ID): the task processes it. */
export function responseArrived(h: TaskHost, sa: IkeSa, header: IkeHeader, payloads: readonly Payload[], now: number): void {
  const p = sa.pending;
  if (!p) return;
  sa.pending = undefined;
  const status = p.task.process(header, payloads, now);
  if (status === 'wait' && sa.state !== 'DESTROYING') {
    sa.waiting = p.task;
    return;
  }
  if (status !== 'more' || sa.state === 'DESTROYING') return;
  // Another round of the same task; should something have taken the window meanwhile, it goes first after that.
  if (sa.pending) queueTask(sa, p.task, { first: true });
  else start(h, sa, p.task, now);
}

/** The waiting task of `sa` is ready for its next request (its asynchronous work completed). */
export function resumeTask(h: TaskHost, sa: IkeSa, now: number): void {
  const task = sa.waiting;
  if (!task) return;
  sa.waiting = undefined;
  if (sa.state !== 'DESTROYING') start(h, sa, task, now);
}

/** The tasks queued, waiting or running on `sa` (tests, list output). */
export function tasksOf(sa: IkeSa): readonly Task[] {
  const active = sa.pending?.task ?? sa.waiting;
  return active ? [active, ...sa.queue] : [...sa.queue];
}
