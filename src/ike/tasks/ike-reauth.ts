/**
 * IKE_REAUTH (RFC 7296 2.8.3): reauthentication creates a new IKE SA with IKE_SA_INIT/IKE_AUTH and moves the CHILD
 * SAs to it. Make-before-break (strongSwan's make_before_break): once every CHILD SA of the old IKE SA exists on the
 * new one (including any that completed on the old SA while we were reauthenticating), this task deletes the old IKE
 * SA. It sends nothing itself: it queues the CHILD creations still missing (and itself after them), or the Delete.
 * Break-before-make is restart.ts's: the old SA's Delete starts the new one.
 */
import { ExchangeType, type IkeHeader, type Payload } from '../codec/types.js';
import type { ChildConfig } from '../config.js';
import type { EndpointContext } from '../context.js';
import type { IkeSa } from '../ike-sa.js';
import { ChildCreateTask } from './child-create.js';
import { DeleteIkeTask } from './ike-delete.js';
import type { Task, TaskStatus } from './task.js';

export class ReauthCompleteTask implements Task {
  readonly kind = 'IKE_REAUTH';
  readonly exchange = ExchangeType.INFORMATIONAL;

  constructor(
    private readonly ctx: EndpointContext,
    private readonly sa: IkeSa,
    readonly old: IkeSa,
  ) {}

  build(now: number): Payload[] | undefined {
    const { ctx, sa, old } = this;
    if (sa.state !== 'ESTABLISHED' || (old.state !== 'ESTABLISHED' && old.state !== 'REKEYED')) return undefined;
    const have = new Set(sa.children.map((c) => c.config));
    const missing = [...new Set(old.children.map((c) => c.config))].filter((c) => !have.has(c));
    if (missing.length > 0) {
      for (const cfg of missing) ctx.queueTask(sa, new ChildCreateTask(ctx, sa, cfg), now);
      ctx.queueTask(sa, new ReauthCompleteTask(ctx, sa, old), now);
      return undefined;
    }
    ctx.log('ike', 0, sa, `reauthentication of IKE_SA ${old.name}[${old.id}] complete, deleting it`);
    ctx.queueTask(old, new DeleteIkeTask(ctx, old, { reason: 'rekeyed' }), now);
    return undefined;
  }

  /** Never called: build() sends nothing. */
  process(): TaskStatus {
    return 'done';
  }

  timeout(): void {}
}

/**
 * Break-before-make reauthentication (strongSwan's default before 5.3, `make_before_break = no`): delete the IKE SA,
 * then start the new one with the CHILD SAs the old one carried when the Delete went out (`start`).
 */
export class ReauthBreakTask implements Task {
  readonly kind = 'IKE_REAUTH';
  readonly exchange = ExchangeType.INFORMATIONAL;
  private del: DeleteIkeTask | undefined;

  constructor(
    private readonly ctx: EndpointContext,
    private readonly sa: IkeSa,
    private readonly start: (current: ChildConfig[], now: number) => void,
  ) {}

  build(): Payload[] | undefined {
    const current = [...new Set(this.sa.children.map((c) => c.config))];
    this.del = new DeleteIkeTask(this.ctx, this.sa, { afterwards: (t) => this.start(current, t) });
    return this.del.build();
  }

  process(h: IkeHeader, p: readonly Payload[], now: number): TaskStatus {
    return this.del?.process(h, p, now) ?? 'done';
  }

  timeout(now: number): void {
    this.del?.timeout(now);
  }
}
