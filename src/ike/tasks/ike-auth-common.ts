/** What IKE_AUTH's initiator (ike-auth.ts) and responder (ike-auth-responder.ts) share (RFC 7296 1.2, 2.15). */
import { PayloadType, type IdPayload } from '../codec/types.js';
import type { IkeConnectionConfig } from '../config.js';
import type { EndpointContext } from '../context.js';
import type { IkeSa } from '../ike-sa.js';
import { formatIdentity, parseIdentity, type Identity } from '../identity.js';
import { scheduleIkeLifetimes } from '../lifetimes.js';
import { remoteNatExplanation } from '../natd.js';
import { transition } from '../sa-state.js';
import { certIdentity } from '../auth-pubkey.js';

/** The NAT verdict IKE_SA_INIT left open, now that the peer's ID is known (natd.ts remoteNatExplanation). */
export function reportRemoteNat(ctx: EndpointContext, sa: IkeSa, remoteId: Identity): void {
  if (!sa.natRemoteLogPending) return;
  sa.natRemoteLogPending = false;
  ctx.log('ike', 1, sa, remoteNatExplanation(sa.local, sa.remote, remoteId) ?? 'remote host is behind NAT');
}

/** Our identity for a connection: the configured one, or our IP address when none is set (strongSwan's default). */
export function localIdentity(sa: IkeSa, conn: IkeConnectionConfig): Identity {
  if (conn.local.id.type !== 0) return conn.local.id;
  if (conn.local.method === 'pubkey') return certIdentity(conn) ?? parseIdentity(sa.local.address);
  return parseIdentity(sa.local.address);
}

export function idPayload(type: typeof PayloadType.IDi | typeof PayloadType.IDr, id: Identity): IdPayload {
  return { type, critical: false, idType: id.type, data: id.data };
}

export function toIdentity(p: IdPayload): Identity {
  return { type: p.idType, data: p.data };
}

/** IKE_AUTH completed on `sa`: ESTABLISHED (RFC 7296 1.2), lifetimes scheduled, ike-up. */
export function established(ctx: EndpointContext, sa: IkeSa, conn: IkeConnectionConfig, now: number): void {
  transition(ctx, sa, 'ESTABLISHED', 'IKE_AUTH complete');
  sa.establishedAt = now;
  sa.lastInbound = now;
  sa.halfOpenDeadline = undefined;
  scheduleIkeLifetimes(ctx, sa, conn, now);
  const h = (b: Uint8Array): string => Buffer.from(b).toString('hex');
  ctx.log('ike', 0, sa, `IKE_SA ${sa.name}[${sa.id}] established between ${sa.local.address}[${formatIdentity(sa.localId)}]...${sa.remote.address}[${formatIdentity(sa.remoteId)}]`);
  ctx.log('ike', 1, sa, `IKE_SA ${sa.name}[${sa.id}] SPIs ${h(sa.spiI)}_i${sa.initiator ? '*' : ''} ${h(sa.spiR)}_r${sa.initiator ? '' : '*'}, suite ${sa.info().suite}`);
  ctx.emit({ type: 'ike-up', sa: sa.info() });
}

/** A failed EAP conversation in logs and events: the method's own reason when it names method and identity. */
export function eapFailureMessage(method: string, who: string, reason: string): string {
  return /^EAP-\S+ authentication of '/.test(reason) ? reason : `EAP-${method} authentication of '${who}' failed: ${reason}`;
}
