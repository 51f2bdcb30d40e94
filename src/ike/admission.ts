/**
 * Admission of a new IKE_SA_INIT request (not a retransmission of one we answered), from the header and the first
 * payload alone, before any parse or key exchange: a request that repeats one that failed after its key exchange is
 * dropped, then strongSwan's limits in its order (src/ike/limits.ts: cookie_threshold with RFC 7296 2.6 cookies,
 * block_threshold, init_limit_half_open, ikesa_limit).
 */
import { ExchangeType, NotifyType, type IkeHeader, type IkeHeaderInit } from './codec/types.js';
import type { Address } from './config.js';
import type { EndpointContext } from './context.js';
import { fmt } from './format.js';
import type { InitAdmission } from './limits.js';
import { notify } from './payload-util.js';
import type { SaTable } from './sa-table.js';
import { encodePlainMessage } from './wire.js';

export interface InitRequest {
  readonly data: Uint8Array;
  readonly header: IkeHeader;
  readonly local: Address;
  readonly remote: Address;
  readonly marker: boolean;
  /** initKey(SPIi, remote): the request's identity in the SA table. */
  readonly key: string;
}

/** Whether the request goes on to respondIkeSaInit; otherwise it was dropped or answered with a COOKIE here. */
export function admitInitRequest(ctx: EndpointContext, admission: InitAdmission, sas: SaTable, r: InitRequest, now: number): boolean {
  const { header, remote } = r;
  // Only a request that could create an SA is admitted or charged; respondIkeSaInit drops the others at once.
  const fresh = header.messageId === 0 && header.spiR.every((b) => b === 0);
  if (!fresh || sas.byInitKey(r.key)) return true;
  if (sas.charged(r.key)) {
    ctx.log('net', 2, undefined, `IKE_SA_INIT request from ${fmt(remote)} repeats one that failed, dropped`);
    return false;
  }
  const a = admission.admit(r.data, remote.address, now, ctx.settings, {
    halfOpen: () => sas.halfOpenCount(),
    halfOpenFrom: (address) => sas.halfOpenFrom(address),
    total: () => sas.size,
  });
  if (a.kind === 'drop') {
    ctx.log('net', 1, undefined, a.message);
    return false;
  }
  if (a.kind === 'cookie') {
    ctx.log('net', 2, undefined, `sending COOKIE notify to ${remote.address}`);
    const h: IkeHeaderInit = { spiI: header.spiI, spiR: new Uint8Array(8), exchangeType: ExchangeType.IKE_SA_INIT, flags: { initiator: false, response: true, version: false }, messageId: 0 };
    ctx.sendRaw(r.marker, encodePlainMessage(h, [notify(NotifyType.COOKIE, a.cookie)]), r.local, remote);
    return false;
  }
  return true;
}
