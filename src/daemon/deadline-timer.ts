/**
 * The daemon driver's ONE timer (../shared/DESIGN.md section 1): armed at the core's earliest deadline
 * (Gateway.nextTimeout), re-armed only when that deadline moves.
 */
export class DeadlineTimer {
  private timer: NodeJS.Timeout | undefined;
  private at: number | undefined;

  constructor(
    private readonly clock: () => number,
    private readonly fire: () => void,
  ) {}

  /** Whether a timer is armed (vici stats' "scheduled"). */
  get armed(): boolean {
    return this.timer !== undefined;
  }

  /** Arms for `next` (ms on the driver's clock); undefined: no deadline. */
  arm(next: number | undefined): void {
    if (next === this.at && this.timer) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.at = next;
    if (next === undefined) return;
    this.timer = setTimeout(
      () => {
        this.timer = this.at = undefined;
        this.fire();
      },
      Math.max(0, Math.ceil(next - this.clock())),
    );
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
