import { describe, expect, it } from 'vitest';
import { seededRandom } from '../crypto/random.js';
import { SimNetwork, type SimAddress } from './network.js';
import { Simulation, runUntil, type SimEndpoint } from './runner.js';
import { VirtualClock } from './clock.js';
import { SimError } from './errors.js';

/**
 * A toy sans-IO request/response pair with retransmission, shaped like the IKE endpoint: receive(), timeouts,
 * queued output. Enough to exercise the loop.
 */
class Requester implements SimEndpoint {
  readonly out: Array<{ to: SimAddress; bytes: Uint8Array }> = [];
  done = false;
  sends = 0;
  #deadline: number | undefined;
  constructor(readonly net: SimNetwork, readonly me: SimAddress, readonly peer: SimAddress, readonly rto = 1000) {
    net.bind(me, (d) => {
      if (d.bytes[0] === 2) {
        this.done = true;
        this.#deadline = undefined;
      }
    });
  }
  start(now: number): void {
    this.#transmit(now);
  }
  #transmit(now: number): void {
    this.out.push({ to: this.peer, bytes: Uint8Array.of(1) });
    this.sends++;
    this.#deadline = now + this.rto;
  }
  nextTimeout(): number | undefined {
    return this.#deadline;
  }
  handleTimeout(now: number): void {
    if (!this.done) this.#transmit(now);
  }
  flush(now: number): void {
    for (const o of this.out.splice(0)) this.net.send(this.me, o.to, o.bytes, now);
  }
}

class Responder implements SimEndpoint {
  readonly out: Array<{ to: SimAddress; bytes: Uint8Array }> = [];
  requests = 0;
  constructor(readonly net: SimNetwork, readonly me: SimAddress) {
    net.bind(me, (d) => {
      this.requests++;
      this.out.push({ to: d.from, bytes: Uint8Array.of(2) });
    });
  }
  flush(now: number): void {
    for (const o of this.out.splice(0)) this.net.send(this.me, o.to, o.bytes, now);
  }
}

const A = { address: '192.0.2.1', port: 500 };
const B = { address: '192.0.2.2', port: 500 };

describe('Simulation', () => {
  it('jumps virtual time to deadlines and stops when the predicate holds', () => {
    const net = new SimNetwork({ random: seededRandom(1), impairment: { delay: 50 } });
    const sim = new Simulation({ network: net });
    const req = new Requester(net, A, B);
    sim.add(req).add(new Responder(net, B));
    // The first two requests are lost: the third (at t=2000) gets through.
    net.dropIf((p) => p.bytes[0] === 1, { limit: 2 });
    req.start(sim.now);
    const r = sim.runUntil(() => req.done);
    expect(r).toMatchObject({ ok: true, reason: 'predicate' });
    expect(r.now).toBe(2100);
    expect(req.sends).toBe(3);
  });

  it('is deterministic under 30% loss, duplication and reordering', () => {
    const run = (seed: number) => {
      const net = new SimNetwork({ random: seededRandom(seed), impairment: { delay: 30, jitter: 20, loss: 0.3, duplicate: 0.2, reorder: 0.3 } });
      const req = new Requester(net, A, B, 500);
      const resp = new Responder(net, B);
      req.start(0);
      const r = runUntil(() => req.done, { network: net, endpoints: [req, resp], maxTime: 60_000 });
      return { r, sends: req.sends, requests: resp.requests, capture: net.capture.map((e) => [e.time, e.event, e.id]) };
    };
    const a = run(42);
    const b = run(42);
    expect(a.r.ok).toBe(true);
    expect(a).toEqual(b);
  });

  it('reports idle, max-time and max-steps', () => {
    const net = new SimNetwork({ random: seededRandom(1), impairment: { loss: 1 } });
    const req = new Requester(net, A, B, 1000);
    const sim = new Simulation({ network: net, endpoints: [req] });
    expect(sim.runUntil(() => false)).toMatchObject({ ok: false, reason: 'idle', now: 0 });
    req.start(0);
    expect(sim.runUntil(() => false, { maxTime: 5500 })).toMatchObject({ ok: false, reason: 'max-time', now: 5500 });
    // An endpoint that never moves its past deadline spins: the step guard ends it.
    const stuck: SimEndpoint = { nextTimeout: () => 0, handleTimeout: () => {} };
    const s2 = new Simulation({ endpoints: [stuck] });
    expect(s2.runUntil(() => false, { maxSteps: 50 })).toMatchObject({ ok: false, reason: 'max-steps', steps: 50 });
  });

  it('runs scripted actions at their time, before deliveries and timeouts', () => {
    const net = new SimNetwork({ random: seededRandom(1), impairment: { delay: 10 } });
    const sim = new Simulation({ network: net });
    const log: string[] = [];
    net.bind(B, (d, now) => log.push(`recv ${d.bytes[0]} @${now}`));
    sim.at(100, (now) => net.send(A, B, Uint8Array.of(1), now));
    sim.at(50, (now) => log.push(`script @${now}`));
    sim.at(110, () => log.push('script @110'));
    const r = sim.runFor(1000);
    expect(r.now).toBe(1000);
    expect(log).toEqual(['script @50', 'script @110', 'recv 1 @110']);
  });

  it('the clock only moves forward', () => {
    const c = new VirtualClock();
    expect(c.now).toBe(0);
    expect(c.advance(5)).toBe(5);
    expect(c.advanceTo(7)).toBe(7);
    expect(() => c.advanceTo(6)).toThrow(SimError);
    expect(() => c.advance(-1)).toThrow(/advance/);
  });
});
