/**
 * IKE_NOTIFY (RFC 7296 1.5, 2.21.2): an INFORMATIONAL request carrying error notifies, e.g. the initiator telling the
 * responder that it rejected the responder's AUTH (AUTHENTICATION_FAILED) before closing the SA.
 */
import { ExchangeType, type Payload } from '../codec/types.js';
import type { Task, TaskStatus } from './task.js';

export class NotifyTask implements Task {
  readonly kind = 'IKE_NOTIFY';
  readonly exchange = ExchangeType.INFORMATIONAL;

  /** `then` runs when the exchange is over, answered or not. */
  constructor(
    private readonly payloads: readonly Payload[],
    private readonly then: (now: number) => void,
  ) {}

  build(): Payload[] {
    return [...this.payloads];
  }

  process(_h: unknown, _p: readonly Payload[], now: number): TaskStatus {
    this.then(now);
    return 'done';
  }

  timeout(now: number): void {
    this.then(now);
  }
}
