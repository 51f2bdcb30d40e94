/**
 * Asynchronous work inside the sans-IO core (EAP methods, RADIUS answers: RFC 7296 2.16): a settled promise never
 * runs exchange code by itself; its continuation waits here until the endpoint's next call (handleTimeout), which
 * the driver is woken to make. Time stays what the driver passes in.
 */
import type { Settled } from './context.js';
import type { IkeSa } from './ike-sa.js';

export class DeferredWork {
  private readonly ready: { sa: IkeSa; run: (now: number) => void }[] = [];

  constructor(private readonly wake: (() => void) | undefined) {}

  /** `then` runs at the next drain() after `work` settled; the driver is woken then. */
  add<T>(sa: IkeSa, work: Promise<T>, then: (outcome: Settled<T>, now: number) => void): void {
    const done = (outcome: Settled<T>): void => {
      this.ready.push({ sa, run: (now) => then(outcome, now) });
      this.wake?.();
    };
    work.then(
      (value) => done({ ok: true, value }),
      (error: unknown) => done({ ok: false, error }),
    );
  }

  get pending(): boolean {
    return this.ready.length > 0;
  }

  /** The continuations that are ready, each with its SA (the caller skips SAs that are gone). */
  take(): { sa: IkeSa; run: (now: number) => void }[] {
    return this.ready.splice(0);
  }
}
