/**
 * INFORMATIONAL exchanges (RFC 7296 1.4, 1.5, 2.4):
 *
 *   Delete IKE SA:    HDR, SK {D(IKE)}  -->  <--  HDR, SK {}
 *   Delete CHILD SA:  HDR, SK {D(ESP, SPIs)}  -->  <--  HDR, SK {D(ESP, SPIs of the paired SAs)}
 *   Liveness (DPD):   HDR, SK {}  -->  <--  HDR, SK {}
 */
import { ExchangeType, NotifyType, PayloadType, ProtocolId, type DeletePayload, type Payload } from '../codec/types.js';
import type { EndpointContext } from '../context.js';
import { numberToSpi, spiToNumber, type ChildSa, type IkeSa } from '../ike-sa.js';
import { errorNotify, notifyName } from '../payload-util.js';
import { transition } from '../sa-state.js';

const hex = (n: number): string => n.toString(16).padStart(8, '0');

export function startDeleteIke(ctx: EndpointContext, sa: IkeSa, now: number, reason: 'deleted' | 'rekeyed' = 'deleted'): void {
  if (sa.state === 'DESTROYING') return;
  transition(ctx, sa, 'DELETING', `sending Delete (${reason})`);
  ctx.log('ike', 0, sa, `deleting IKE_SA ${sa.name}[${sa.id}] between ${sa.local.address}...${sa.remote.address}`);
  const d: DeletePayload = { type: PayloadType.DELETE, critical: false, protocol: ProtocolId.IKE, spiSize: 0, spis: [] };
  const done = (): void => ctx.destroySa(sa, reason, `IKE_SA ${sa.name}[${sa.id}] ${reason === 'rekeyed' ? 'replaced and' : ''} deleted`.replace('  ', ' '));
  ctx.sendRequest(sa, ExchangeType.INFORMATIONAL, [d], now, done, done);
}

export function startDeleteChild(ctx: EndpointContext, sa: IkeSa, child: ChildSa, now: number): void {
  if (!sa.children.includes(child) || child.state === 'DELETING') return;
  if (child.state === 'REKEYING') {
    // Let the rekey finish first; the delete is retried when the window frees.
    ctx.later(sa, now + 1000, (t) => startDeleteChild(ctx, sa, child, t));
    return;
  }
  child.state = 'DELETING';
  ctx.log('chd', 0, sa, `closing CHILD_SA ${child.name}{${child.id}} with SPIs ${hex(child.spiIn)}_i ${hex(child.spiOut)}_o`);
  const d: DeletePayload = { type: PayloadType.DELETE, critical: false, protocol: ProtocolId.ESP, spiSize: 4, spis: [numberToSpi(child.spiIn)] };
  ctx.sendRequest(sa, ExchangeType.INFORMATIONAL, [d], now, () => {
    // The response carries the paired SA's SPI; either way our CHILD SA is gone (RFC 7296 1.4.1).
    if (sa.children.includes(child)) ctx.removeChild(sa, child, 'deleted');
  });
}

/**
 * Deletes a CHILD SA the peer installed but we refused (its response to our CREATE_CHILD_SA or IKE_AUTH request did
 * not check out): we never installed ours, so only the peer's half exists. `spiIn` is the inbound SPI we offered,
 * which is how the peer knows the SA (RFC 7296 3.11: the SPI the sender of the Delete expects inbound). strongSwan
 * does the same (child_create delete_failed_sa).
 */
export function startDeleteRefusedChild(ctx: EndpointContext, sa: IkeSa, spiIn: number, now: number): void {
  if (sa.state !== 'ESTABLISHED' && sa.state !== 'REKEYING') return;
  ctx.log('chd', 1, sa, `deleting the CHILD_SA with SPI ${hex(spiIn)} the peer installed for a response we refused`);
  const d: DeletePayload = { type: PayloadType.DELETE, critical: false, protocol: ProtocolId.ESP, spiSize: 4, spis: [numberToSpi(spiIn)] };
  ctx.sendRequest(sa, ExchangeType.INFORMATIONAL, [d], now, () => undefined);
}

export function startDpd(ctx: EndpointContext, sa: IkeSa, now: number): void {
  if (sa.state !== 'ESTABLISHED') {
    sa.dpdPending = false;
    return;
  }
  ctx.log('ike', 2, sa, 'sending DPD request');
  ctx.sendRequest(
    sa,
    ExchangeType.INFORMATIONAL,
    [],
    now,
    () => {
      sa.dpdPending = false;
      ctx.log('ike', 2, sa, 'liveness check answered');
    },
    () => ctx.destroySa(sa, 'timeout', `peer ${sa.remote.address} did not answer DPD: giving up after ${ctx.settings.retransmit.tries} retransmits`),
  );
}

export function respondInformational(ctx: EndpointContext, sa: IkeSa, req: readonly Payload[], messageId: number, _now: number): void {
  const deletes = req.filter((p): p is DeletePayload => p.type === PayloadType.DELETE);
  const ikeDelete = deletes.some((d) => d.protocol === ProtocolId.IKE);
  if (ikeDelete) {
    ctx.log('ike', 0, sa, `received DELETE for IKE_SA ${sa.name}[${sa.id}]`);
    ctx.sendResponse(sa, ExchangeType.INFORMATIONAL, messageId, []);
    // After a rekey or reauthentication the old SA's CHILD SAs live on elsewhere: it was replaced, not closed.
    // A redundant SA from a rekey collision (2.8.2) never carried anything either.
    const redundant = sa.rekeyOf !== undefined && sa.rekeyOf.rekeyedTo !== sa && sa.children.length === 0;
    if (sa.rekeyedTo || sa.reauthBy || redundant) ctx.destroySa(sa, 'rekeyed', `IKE_SA ${sa.name}[${sa.id}] replaced and deleted by peer`);
    else ctx.destroySa(sa, 'deleted-by-peer', `IKE_SA ${sa.name}[${sa.id}] deleted by peer`);
    return;
  }
  const resp: Payload[] = [];
  for (const d of deletes) {
    if (d.protocol !== ProtocolId.ESP && d.protocol !== ProtocolId.AH) continue;
    const ours: Uint8Array[] = [];
    for (const spiBytes of d.spis) {
      const spi = spiToNumber(spiBytes);
      // The peer names its inbound SPI, which is our outbound one.
      const child = sa.children.find((c) => c.spiOut === spi);
      if (!child) {
        ctx.log('chd', 1, sa, `received DELETE for unknown ESP CHILD_SA with SPI ${hex(spi)}`);
        continue;
      }
      ctx.log('chd', 0, sa, `received DELETE for ESP CHILD_SA with SPI ${hex(spi)}, closing CHILD_SA ${child.name}{${child.id}}`);
      // RFC 7296 1.4.1: when we were deleting it too, do not include it again in the response.
      if (child.state !== 'DELETING') ours.push(numberToSpi(child.spiIn));
      ctx.removeChild(sa, child, 'deleted by peer');
      // The peer deleted the SA its own rekey created (it refused our response): the SA it replaced stays in use
      // (unless we rekeyed it ourselves too, a collision that the rekey bookkeeping resolves).
      for (const o of sa.children)
        if (o.rekeyTheirs?.replacement === child && o.state === 'REKEYED' && !o.rekeyOurs) {
          o.state = 'INSTALLED';
          o.rekeyTheirs = undefined;
        }
    }
    if (ours.length) resp.push({ type: PayloadType.DELETE, critical: false, protocol: d.protocol, spiSize: 4, spis: ours });
  }
  const err = errorNotify(req);
  ctx.sendResponse(sa, ExchangeType.INFORMATIONAL, messageId, resp);
  if (err && err.notifyType === NotifyType.AUTHENTICATION_FAILED) {
    ctx.destroySa(sa, 'auth-failed', `peer reported ${notifyName(err.notifyType)}: it rejected our authentication`);
  } else if (err) {
    ctx.log('ike', 1, sa, `received ${notifyName(err.notifyType)} notify in INFORMATIONAL`);
  }
}
