/**
 * The responder role of the tasks: which task answers a request, by exchange type and content (RFC 7296 1.2-1.5).
 * IKE_SA_INIT requests create their SA and are answered by ike-init.ts before any SA exists (endpoint.ts).
 */
import { ExchangeType, NotifyType, PayloadType, ProtocolId, type Payload } from '../codec/types.js';
import type { EndpointContext } from '../context.js';
import { requireKeyed, type IkeSa } from '../ike-sa.js';
import { findPayload, notify } from '../payload-util.js';
import { respondCreateChild } from './child-create.js';
import { respondIkeAuth } from './ike-auth-responder.js';
import { additionalKeCount, intermediatePending, respondIkeIntermediate } from './ike-intermediate.js';
import { respondRekeyIke } from './ike-rekey.js';
import { respondFollowupKe } from './followup-ke.js';
import { respondInformational } from './informational.js';

/** Answers the request `req` (message ID `messageId`) of exchange `exchange` on `sa`. */
export function respond(ctx: EndpointContext, sa: IkeSa, exchange: number, req: readonly Payload[], messageId: number, now: number): void {
  switch (exchange) {
    case ExchangeType.IKE_AUTH:
      if (intermediatePending(sa)) {
        // RFC 9370 2.2.2: every negotiated additional key exchange comes before IKE_AUTH; skipping one would
        // authenticate an SA without the post-quantum secret the proposal required.
        const message = `IKE_AUTH request ${messageId} before the ${additionalKeCount(sa)} negotiated additional key exchange(s) were done (${sa.intermediate?.count ?? 0})`;
        ctx.log('ike', 0, sa, `${message}; answering INVALID_SYNTAX`);
        ctx.sendResponse(sa, exchange, messageId, [notify(NotifyType.INVALID_SYNTAX)]);
        ctx.destroySa(sa, 'invalid-syntax', message);
        return;
      }
      // The SK payload was opened with the SA's keys: they exist.
      respondIkeAuth(ctx, requireKeyed(sa, 'IKE_AUTH request'), req, messageId, now);
      return;
    case ExchangeType.IKE_INTERMEDIATE:
      respondIkeIntermediate(ctx, requireKeyed(sa, 'IKE_INTERMEDIATE request'), req, messageId);
      return;
    case ExchangeType.INFORMATIONAL:
      respondInformational(ctx, sa, req, messageId, now);
      return;
    case ExchangeType.CREATE_CHILD_SA:
      // RFC 7296 1.3.2: an SA payload with IKE proposals rekeys the IKE SA; anything else creates or rekeys a CHILD SA.
      if (findPayload(req, PayloadType.SA)?.proposals[0]?.protocol === ProtocolId.IKE) respondRekeyIke(ctx, sa, req, messageId, now);
      else respondCreateChild(ctx, sa, req, messageId, now);
      return;
    case ExchangeType.IKE_FOLLOWUP_KE:
      // RFC 9370 2.2.4: the additional key exchanges of a CREATE_CHILD_SA, linked to it by their notify data.
      respondFollowupKe(ctx, sa, req, messageId, now);
      return;
    default:
      ctx.log('ike', 1, sa, `unsupported exchange type ${exchange}, answering INVALID_SYNTAX`);
      ctx.sendResponse(sa, exchange, messageId, [notify(NotifyType.INVALID_SYNTAX)]);
  }
}
