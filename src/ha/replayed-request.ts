/**
 * An INFORMATIONAL request (DPD, Delete) the old active had in flight when it died (issue 20): the peer may or may
 * not have received it, so its message ID may or may not be spent (RFC 7296 2.3). The new active sends the very
 * same datagrams again, as a retransmission (2.1): a peer that processed it answers from its cache, one that never
 * saw it processes it now; either way the answer ends the exchange and both sides agree on the next message ID.
 * The answer itself is dropped: the task that made the request died with the old node. (A CREATE_CHILD_SA in
 * flight is handled otherwise: restore.ts.)
 */
import type { IkeHeader, Payload } from '../ike/codec/types.js';
import type { EndpointContext } from '../ike/context.js';
import { exchangeName } from '../ike/format.js';
import type { IkeSa } from '../ike/ike-sa.js';
import type { Task, TaskStatus } from '../ike/tasks/task.js';

export class ReplayedRequest implements Task {
  readonly kind = 'IKE_NOTIFY' as const;

  constructor(
    private readonly ctx: EndpointContext,
    private readonly sa: IkeSa,
    readonly exchange: number,
    private readonly messageId: number,
  ) {}

  /** Never built: it is restored as the SA's pending request, with the old active's datagrams. */
  build(): Payload[] | undefined {
    return undefined;
  }

  process(_header: IkeHeader, _payloads: readonly Payload[], _now: number): TaskStatus {
    this.ctx.log('ike', 1, this.sa, `answer to ${exchangeName(this.exchange)} request ${this.messageId}, in flight at the takeover, received: message IDs in step again (the answer itself is dropped)`);
    return 'done';
  }

  timeout(_now: number): void {
    this.ctx.destroySa(this.sa, 'timeout', `${exchangeName(this.exchange)} request ${this.messageId}, in flight at the takeover, was never answered`);
  }
}
