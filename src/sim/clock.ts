/**
 * Virtual time for simulations. Nothing in cygnet's core reads a clock (DESIGN.md section 1): drivers pass `now`
 * in milliseconds. Tests pass this clock's `now`, which starts at 0 and moves only when told to, so a run that
 * covers minutes of retransmissions takes microseconds and is the same every time.
 */
import { SimError } from './errors.js';

export class VirtualClock {
  #now: number;

  constructor(start = 0) {
    if (!Number.isFinite(start) || start < 0) throw new SimError('BAD_TIME', `clock start ${start} is not a finite time >= 0`);
    this.#now = start;
  }

  /** Current virtual time in milliseconds. */
  get now(): number {
    return this.#now;
  }

  /** Moves time forward by `ms` (>= 0) and returns the new time. */
  advance(ms: number): number {
    if (!Number.isFinite(ms) || ms < 0) throw new SimError('BAD_TIME', `cannot advance the clock by ${ms} ms`);
    this.#now += ms;
    return this.#now;
  }

  /** Moves time to `t`; time never runs backwards, so `t` below `now` is an error. */
  advanceTo(t: number): number {
    if (!Number.isFinite(t) || t < this.#now) throw new SimError('BAD_TIME', `cannot move the clock from ${this.#now} back to ${t}`);
    this.#now = t;
    return this.#now;
  }
}
