/**
 * The simulation loop: it pumps sans-IO endpoints against a SimNetwork in virtual time, the way the daemon's
 * driver pumps them against sockets and timers (DESIGN.md section 1), so protocol tests read like a script.
 *
 * One step at the current time, in this fixed order:
 *   1. scripted actions due (`at(time, fn)`), in the order they were scheduled;
 *   2. network datagrams due, in delivery order, handed to the receivers bound on the network;
 *   3. endpoint timeouts due (`nextTimeout() <= now`), in the order endpoints were added;
 *   4. every endpoint's `flush(now)`: drain its outputs (datagrams to `network.send`, events to the test).
 * Steps repeat at the same time while they do work (a zero-delay reply is due at once); when nothing is due
 * the clock jumps to the earliest deadline of the network, the endpoints and the script.
 */
import { VirtualClock } from './clock.js';
import type { SimNetwork } from './network.js';

export interface SimEndpoint {
  /** The endpoint's next deadline (absolute ms), or undefined when it has none. */
  nextTimeout?(): number | undefined;
  /** Called when `now >= nextTimeout()`. */
  handleTimeout?(now: number): void;
  /** Called after every step: move the endpoint's outputs on (pollTransmit -> network.send, pollEvent -> log). */
  flush?(now: number): void;
}

export interface RunOptions {
  /** Give up after this much virtual time from the start of the call (ms). Default 600000 (10 minutes). */
  maxTime?: number;
  /** Give up after this many steps (a guard against endpoints that never go idle). Default 1000000. */
  maxSteps?: number;
}

export interface RunResult {
  /** True when the predicate held. */
  readonly ok: boolean;
  readonly reason: 'predicate' | 'idle' | 'max-time' | 'max-steps';
  readonly now: number;
  readonly steps: number;
}

export interface SimulationOptions {
  clock?: VirtualClock;
  network?: SimNetwork;
  endpoints?: SimEndpoint[];
}

export class Simulation {
  readonly clock: VirtualClock;
  readonly network: SimNetwork | undefined;
  readonly endpoints: SimEndpoint[];
  readonly #actions: Array<{ at: number; seq: number; fn: (now: number) => void }> = [];
  #seq = 0;

  constructor(o: SimulationOptions = {}) {
    this.clock = o.clock ?? new VirtualClock();
    this.network = o.network;
    this.endpoints = [...(o.endpoints ?? [])];
  }

  get now(): number {
    return this.clock.now;
  }

  add(ep: SimEndpoint): this {
    this.endpoints.push(ep);
    return this;
  }

  /** Schedules a scripted action (change impairment, rebind a NAT, send a command) at absolute time `at`. */
  at(at: number, fn: (now: number) => void): this {
    const seq = this.#seq++;
    let i = this.#actions.length;
    while (i > 0 && this.#actions[i - 1]!.at > at) i--;
    this.#actions.splice(i, 0, { at, seq, fn });
    return this;
  }

  /** Earliest pending deadline of the script, the network and the endpoints. */
  nextEventTime(): number | undefined {
    let t = this.#actions[0]?.at;
    const d = this.network?.nextDeliveryTime();
    if (d !== undefined && (t === undefined || d < t)) t = d;
    for (const ep of this.endpoints) {
      const e = ep.nextTimeout?.();
      if (e !== undefined && (t === undefined || e < t)) t = e;
    }
    return t;
  }

  /** Runs one step at the current time (order in the header comment). Returns whether anything was due. */
  step(): boolean {
    const now = this.clock.now;
    let worked = false;
    while (this.#actions.length > 0 && this.#actions[0]!.at <= now) {
      this.#actions.shift()!.fn(now);
      worked = true;
    }
    if (this.network && this.network.deliverDue(now) > 0) worked = true;
    // deliverDue may also have dropped datagrams to unbound addresses: that is not work for the endpoints.
    for (const ep of this.endpoints) {
      const t = ep.nextTimeout?.();
      if (t !== undefined && t <= now && ep.handleTimeout) {
        ep.handleTimeout(now);
        worked = true;
      }
    }
    for (const ep of this.endpoints) ep.flush?.(now);
    return worked;
  }

  /** Pumps until `predicate()` holds, nothing is left to do, or a limit is hit. Checked after every step. */
  runUntil(predicate: () => boolean, o: RunOptions = {}): RunResult {
    const deadline = this.clock.now + (o.maxTime ?? 600_000);
    const maxSteps = o.maxSteps ?? 1_000_000;
    let steps = 0;
    // Flush first: commands issued before the call (initiate(), send()) have outputs waiting.
    for (const ep of this.endpoints) ep.flush?.(this.clock.now);
    for (;;) {
      if (predicate()) return { ok: true, reason: 'predicate', now: this.clock.now, steps };
      if (steps >= maxSteps) return { ok: false, reason: 'max-steps', now: this.clock.now, steps };
      steps++;
      if (this.step()) continue;
      // Nothing due now (or nothing more due at this time): jump to the next deadline.
      const next = this.nextEventTime();
      if (next === undefined) return { ok: predicate(), reason: predicate() ? 'predicate' : 'idle', now: this.clock.now, steps };
      if (next > deadline) {
        this.clock.advanceTo(Math.max(deadline, this.clock.now));
        return { ok: predicate(), reason: predicate() ? 'predicate' : 'max-time', now: this.clock.now, steps };
      }
      // An endpoint may report a deadline in the past that it does not act on; never move time backwards,
      // and count the step so that such a spin ends at maxSteps.
      if (next > this.clock.now) this.clock.advanceTo(next);
    }
  }

  /** Pumps until nothing is pending (network empty, no timeouts, no script) or a limit is hit. */
  runUntilIdle(o: RunOptions = {}): RunResult {
    return this.runUntil(() => false, o);
  }

  /** Pumps for `ms` of virtual time and leaves the clock exactly `ms` later. */
  runFor(ms: number, o: Omit<RunOptions, 'maxTime'> = {}): RunResult {
    const end = this.clock.now + ms;
    const r = this.runUntil(() => false, { ...o, maxTime: ms });
    if (this.clock.now < end && r.reason !== 'max-steps') this.clock.advanceTo(end);
    return { ...r, now: this.clock.now };
  }
}

/**
 * The loop as one function, for tests that do not need a Simulation object:
 * `runUntil(() => a.isUp && b.isUp, { clock, network, endpoints: [a, b], maxTime: 60_000 })`.
 */
export function runUntil(predicate: () => boolean, o: SimulationOptions & RunOptions): RunResult {
  const sim = new Simulation(o);
  return sim.runUntil(predicate, o);
}
