/**
 * IKE_DPD (RFC 7296 2.4): a liveness check, an empty INFORMATIONAL request; a peer that answers none of its
 * retransmissions is dead and the IKE SA is closed (dpd_action then decides what follows: restart.ts).
 *
 *   HDR, SK {}  -->  <--  HDR, SK {}
 */
import { ExchangeType, type Payload } from '../codec/types.js';
import type { EndpointContext } from '../context.js';
import type { IkeSa } from '../ike-sa.js';
import { dpdAnswered, dpdNatd, mobikeActive, mobikeInitiator, otherPaths } from './ike-mobike.js';
import type { Task, TaskStatus } from './task.js';

export class DpdTask implements Task {
  readonly kind = 'IKE_DPD';
  readonly exchange = ExchangeType.INFORMATIONAL;

  constructor(
    private readonly ctx: EndpointContext,
    private readonly sa: IkeSa,
  ) {}

  build(): Payload[] | undefined {
    if (this.sa.state !== 'ESTABLISHED') {
      this.sa.dpdPending = false;
      return undefined;
    }
    this.ctx.log('ike', 2, this.sa, 'sending DPD request');
    // MOBIKE initiator behind a NAT: NAT-D, to find a NAT rebinding (RFC 4555 3.5; ike-mobike.ts).
    return dpdNatd(this.ctx, this.sa);
  }

  process(_h: unknown, payloads: readonly Payload[], now: number): TaskStatus {
    this.sa.dpdPending = false;
    this.ctx.log('ike', 2, this.sa, 'liveness check answered');
    dpdAnswered(this.ctx, this.sa, payloads, now);
    return 'done';
  }

  timeout(): void {
    // A MOBIKE initiator's retransmissions also went over its other paths (RFC 4555 3.5, outbound.ts probePaths),
    // and an answer on any of them would have moved the SA: none came, so no path works and the SA goes.
    const paths = mobikeInitiator(this.sa) && mobikeActive(this.sa) ? otherPaths(this.ctx, this.sa).length : 0;
    const where = paths > 0 ? ` (nor on ${paths} other path${paths === 1 ? '' : 's'})` : '';
    this.ctx.destroySa(this.sa, 'timeout', `peer ${this.sa.remote.address} did not answer DPD${where}: giving up after ${this.ctx.settings.retransmit.tries} retransmits`);
  }
}
