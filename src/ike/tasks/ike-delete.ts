/**
 * IKE_DELETE (RFC 7296 1.4.1): closing the IKE SA, and with it its CHILD SAs, with an INFORMATIONAL exchange.
 *
 *   HDR, SK {D(IKE)}  -->  <--  HDR, SK {}
 *
 * The SA is gone once the peer answered, or once it did not (2.4: a peer that does not answer a Delete is not
 * waited for). The responder answers with an empty INFORMATIONAL and closes the SA at once.
 */
import { ExchangeType, PayloadType, ProtocolId, type DeletePayload, type Payload } from '../codec/types.js';
import type { EndpointContext } from '../context.js';
import type { IkeDownReason } from '../events.js';
import type { IkeSa } from '../ike-sa.js';
import { transition } from '../sa-state.js';
import type { Task, TaskStatus } from './task.js';

export interface DeleteIkeOptions {
  /** Why the SA goes, for the ike-down event: 'deleted' (operator, expiry), 'rekeyed' (replaced by a rekey). */
  readonly reason?: IkeDownReason;
  /** The message of the ike-down event; by default "IKE_SA name[id] deleted". */
  readonly message?: string;
  /** Why the state changes to DELETING (the state table's bug report); by default the reason. */
  readonly why?: string;
  /** Runs once the SA is gone (break-before-make reauthentication starts the new SA here). */
  readonly afterwards?: (now: number) => void;
}

export class DeleteIkeTask implements Task {
  readonly kind = 'IKE_DELETE';
  readonly exchange = ExchangeType.INFORMATIONAL;
  private readonly reason: IkeDownReason;

  constructor(
    private readonly ctx: EndpointContext,
    private readonly sa: IkeSa,
    private readonly opts: DeleteIkeOptions = {},
  ) {
    this.reason = opts.reason ?? 'deleted';
  }

  build(): Payload[] | undefined {
    const { ctx, sa } = this;
    // Gone, or a Delete of it is under way already (a second terminate, expiry during a Delete): nothing to add.
    if (sa.state === 'DESTROYING' || sa.state === 'DELETING') return undefined;
    transition(ctx, sa, 'DELETING', this.opts.why ?? `sending Delete (${this.reason})`);
    if (this.opts.message === undefined) ctx.log('ike', 0, sa, `deleting IKE_SA ${sa.name}[${sa.id}] between ${sa.local.address}...${sa.remote.address}`);
    const d: DeletePayload = { type: PayloadType.DELETE, critical: false, protocol: ProtocolId.IKE, spiSize: 0, spis: [] };
    return [d];
  }

  process(_h: unknown, _p: readonly Payload[], now: number): TaskStatus {
    this.finish(now);
    return 'done';
  }

  timeout(now: number): void {
    this.finish(now);
  }

  private finish(now: number): void {
    const { sa } = this;
    const message = this.opts.message ?? `IKE_SA ${sa.name}[${sa.id}] ${this.reason === 'rekeyed' ? 'replaced and deleted' : 'deleted'}`;
    this.ctx.destroySa(sa, this.reason, message);
    this.opts.afterwards?.(now);
  }
}

/**
 * Responder (RFC 7296 1.4.1): the peer deletes the IKE SA; answer with an empty INFORMATIONAL and close it. After a
 * rekey or reauthentication the old SA's CHILD SAs live on elsewhere: it was replaced, not closed; a redundant SA
 * from a rekey collision (2.8.2) never carried anything either.
 */
export function respondDeleteIke(ctx: EndpointContext, sa: IkeSa, messageId: number): void {
  ctx.log('ike', 0, sa, `received DELETE for IKE_SA ${sa.name}[${sa.id}]`);
  ctx.sendResponse(sa, ExchangeType.INFORMATIONAL, messageId, []);
  const redundant = sa.rekeyOf !== undefined && sa.rekeyOf.rekeyedTo !== sa && sa.children.length === 0;
  if (sa.rekeyedTo || sa.reauthBy || redundant) ctx.destroySa(sa, 'rekeyed', `IKE_SA ${sa.name}[${sa.id}] replaced and deleted by peer`);
  else ctx.destroySa(sa, 'deleted-by-peer', `IKE_SA ${sa.name}[${sa.id}] deleted by peer`);
}
