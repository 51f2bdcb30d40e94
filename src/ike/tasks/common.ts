/** What several tasks share: the default end of an exchange the peer never answered (RFC 7296 2.4). */
import type { EndpointContext } from '../context.js';
import { exchangeName, fmt } from '../format.js';
import type { IkeSa } from '../ike-sa.js';

/** RFC 7296 2.4: a peer that answers none of the retransmissions is dead; the IKE SA is closed. */
export function closeOnTimeout(ctx: EndpointContext, sa: IkeSa, exchange: number): void {
  ctx.destroySa(sa, 'timeout', `peer ${fmt(sa.remote)} did not answer ${exchangeName(exchange)} request after ${ctx.settings.retransmit.tries} retransmits`);
}
