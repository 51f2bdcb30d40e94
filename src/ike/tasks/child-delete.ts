/**
 * CHILD_DELETE (RFC 7296 1.4.1): closing one CHILD SA with an INFORMATIONAL exchange.
 *
 *   HDR, SK {D(ESP, SPIs)}  -->  <--  HDR, SK {D(ESP, SPIs of the paired SAs)}
 *
 * The Delete names our inbound SPI (3.11); the response names the peer's inbound SPI of the pair, unless the peer
 * was deleting the same SA at the same time (then it leaves it out, 1.4.1).
 */
import { ExchangeType, PayloadType, ProtocolId, type DeletePayload, type Payload } from '../codec/types.js';
import type { EndpointContext } from '../context.js';
import { numberToSpi, spiToNumber, type ChildSa, type IkeSa } from '../ike-sa.js';
import { closeOnTimeout } from './common.js';
import type { Task, TaskStatus } from './task.js';

const hex = (n: number): string => n.toString(16).padStart(8, '0');

/** While a rekey of the CHILD SA is under way, its Delete waits this long and is queued again. */
const REKEY_WAIT_MS = 1000;

export class DeleteChildTask implements Task {
  readonly kind = 'CHILD_DELETE';
  readonly exchange = ExchangeType.INFORMATIONAL;

  constructor(
    private readonly ctx: EndpointContext,
    private readonly sa: IkeSa,
    readonly child: ChildSa,
  ) {}

  build(now: number): Payload[] | undefined {
    const { ctx, sa, child } = this;
    if (!sa.children.includes(child) || child.state === 'DELETING') return undefined;
    if (child.state === 'REKEYING') {
      // Let the rekey finish first; the Delete is queued again a little later.
      ctx.later(sa, now + REKEY_WAIT_MS, (t) => ctx.queueTask(sa, new DeleteChildTask(ctx, sa, child), t));
      return undefined;
    }
    child.state = 'DELETING';
    ctx.log('chd', 0, sa, `closing CHILD_SA ${child.name}{${child.id}} with SPIs ${hex(child.spiIn)}_i ${hex(child.spiOut)}_o`);
    return [deleteEsp([child.spiIn])];
  }

  process(): TaskStatus {
    // The response carries the paired SA's SPI; either way our CHILD SA is gone (RFC 7296 1.4.1).
    if (this.sa.children.includes(this.child)) this.ctx.removeChild(this.sa, this.child, 'deleted');
    return 'done';
  }

  timeout(): void {
    closeOnTimeout(this.ctx, this.sa, this.exchange);
  }
}

/**
 * Deletes a CHILD SA the peer installed but we refused (its response to our CREATE_CHILD_SA or IKE_AUTH request did
 * not check out): we never installed ours, so only the peer's half exists. `spiIn` is the inbound SPI we offered,
 * which is how the peer knows the SA (RFC 7296 3.11: the SPI the sender of the Delete expects inbound). strongSwan
 * does the same (child_create delete_failed_sa).
 */
export class DeleteRefusedChildTask implements Task {
  readonly kind = 'CHILD_DELETE';
  readonly exchange = ExchangeType.INFORMATIONAL;

  constructor(
    private readonly ctx: EndpointContext,
    private readonly sa: IkeSa,
    readonly spiIn: number,
  ) {}

  build(): Payload[] | undefined {
    const { ctx, sa } = this;
    if (sa.state !== 'ESTABLISHED' && sa.state !== 'REKEYING') return undefined;
    ctx.log('chd', 1, sa, `deleting the CHILD_SA with SPI ${hex(this.spiIn)} the peer installed for a response we refused`);
    return [deleteEsp([this.spiIn])];
  }

  process(): TaskStatus {
    return 'done';
  }

  timeout(): void {
    closeOnTimeout(this.ctx, this.sa, this.exchange);
  }
}

function deleteEsp(spis: readonly number[]): DeletePayload {
  return { type: PayloadType.DELETE, critical: false, protocol: ProtocolId.ESP, spiSize: 4, spis: spis.map(numberToSpi) };
}

/**
 * Responder: the peer deletes CHILD SAs (each Delete names the peer's inbound SPIs, our outbound ones). Returns the
 * Delete payloads of the response: our inbound SPIs of the pairs, except those we were deleting ourselves (1.4.1).
 */
export function respondDeleteChild(ctx: EndpointContext, sa: IkeSa, d: DeletePayload): DeletePayload | undefined {
  const ours: Uint8Array[] = [];
  for (const spiBytes of d.spis) {
    const spi = spiToNumber(spiBytes);
    const child = sa.children.find((c) => c.spiOut === spi);
    if (!child) {
      ctx.log('chd', 1, sa, `received DELETE for unknown ESP CHILD_SA with SPI ${hex(spi)}`);
      continue;
    }
    ctx.log('chd', 0, sa, `received DELETE for ESP CHILD_SA with SPI ${hex(spi)}, closing CHILD_SA ${child.name}{${child.id}}`);
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
  return ours.length ? { type: PayloadType.DELETE, critical: false, protocol: d.protocol, spiSize: 4, spis: ours } : undefined;
}
