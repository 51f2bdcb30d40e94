/**
 * The responder of INFORMATIONAL requests (RFC 7296 1.4, 1.5, 2.4): Deletes of the IKE SA (ike-delete.ts) or of
 * CHILD SAs (child-delete.ts), liveness checks (an empty request, answered empty), and error notifies.
 */
import { ExchangeType, NotifyType, PayloadType, ProtocolId, type DeletePayload, type Payload } from '../codec/types.js';
import type { EndpointContext } from '../context.js';
import type { IkeSa } from '../ike-sa.js';
import { errorNotify, hasNotify, notifyName } from '../payload-util.js';
import { respondDeleteChild } from './child-delete.js';
import { respondDeleteIke } from './ike-delete.js';
import { natdAnswer, requestAddresses, respondUpdateSaAddresses } from './ike-mobike.js';

export function respondInformational(ctx: EndpointContext, sa: IkeSa, req: readonly Payload[], messageId: number, _now: number): void {
  const deletes = req.filter((p): p is DeletePayload => p.type === PayloadType.DELETE);
  if (deletes.some((d) => d.protocol === ProtocolId.IKE)) {
    respondDeleteIke(ctx, sa, messageId);
    return;
  }
  // RFC 4555 3.6: an address update (MOBIKE) is answered by ike-mobike.ts.
  if (hasNotify(req, NotifyType.UPDATE_SA_ADDRESSES)) {
    respondUpdateSaAddresses(ctx, sa, req, messageId, requestAddresses(sa));
    return;
  }
  const resp: Payload[] = [];
  for (const d of deletes) {
    if (d.protocol !== ProtocolId.ESP && d.protocol !== ProtocolId.AH) continue;
    const ours = respondDeleteChild(ctx, sa, d);
    if (ours) resp.push(ours);
  }
  const err = errorNotify(req);
  // MOBIKE: NAT-D in a liveness check or path probe is answered with ours (RFC 4555 3.5, 3.10).
  resp.push(...natdAnswer(ctx, sa, req));
  ctx.sendResponse(sa, ExchangeType.INFORMATIONAL, messageId, resp);
  if (err && err.notifyType === NotifyType.AUTHENTICATION_FAILED) {
    ctx.destroySa(sa, 'auth-failed', `peer reported ${notifyName(err.notifyType)}: it rejected our authentication`);
  } else if (err) {
    ctx.log('ike', 1, sa, `received ${notifyName(err.notifyType)} notify in INFORMATIONAL`);
  }
}
