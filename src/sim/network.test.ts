import { describe, expect, it } from 'vitest';
import { seededRandom } from '../crypto/random.js';
import { SimNetwork, type Datagram } from './network.js';
import { SimError } from './errors.js';

const A = { address: '192.0.2.1', port: 500 };
const B = { address: '198.51.100.2', port: 500 };

function blast(seed: number, n: number) {
  const net = new SimNetwork({
    random: seededRandom(seed),
    impairment: { delay: 20, jitter: 5, loss: 0.3, duplicate: 0.1, reorder: 0.2, reorderDelay: 50 },
  });
  for (let i = 0; i < n; i++) net.send(A, B, Uint8Array.of(i & 0xff, i >> 8), i);
  const got: Datagram[] = [];
  for (let t = 0; net.inFlight > 0; t++) got.push(...net.poll(t));
  return { net, got };
}

describe('SimNetwork', () => {
  it('a seed reproduces loss, duplication and reordering exactly', () => {
    const r1 = blast(7, 5000);
    const r2 = blast(7, 5000);
    const r3 = blast(8, 5000);
    expect(r1.net.counters).toEqual(r2.net.counters);
    expect(r1.got.map((d) => [d.id, d.deliverAt, d.duplicate])).toEqual(r2.got.map((d) => [d.id, d.deliverAt, d.duplicate]));
    expect(r1.net.capture.length).toBe(r2.net.capture.length);
    expect(r3.net.counters).not.toEqual(r1.net.counters);
  });

  it('impairment rates are what was asked for (within sampling error)', () => {
    const n = 20000;
    const { net, got } = blast(1, n);
    const c = net.counters;
    expect(c.sent).toBe(n);
    expect(c.dropped.loss / n).toBeGreaterThan(0.28);
    expect(c.dropped.loss / n).toBeLessThan(0.32);
    const survivors = n - c.dropped.loss;
    expect(c.duplicated / survivors).toBeGreaterThan(0.09);
    expect(c.duplicated / survivors).toBeLessThan(0.11);
    expect(c.reordered / survivors).toBeGreaterThan(0.18);
    expect(c.reordered / survivors).toBeLessThan(0.22);
    expect(got.length).toBe(survivors + c.duplicated);
    expect(c.delivered).toBe(got.length);
    // Reordering really happened: ids are not monotonic in delivery order.
    let inversions = 0;
    for (let i = 1; i < got.length; i++) if (got[i]!.id < got[i - 1]!.id) inversions++;
    expect(inversions).toBeGreaterThan(100);
    // And every delivery was at or after its send time + the fixed delay.
    for (const d of got) expect(d.deliverAt).toBeGreaterThanOrEqual(d.sentAt + 20);
  });

  it('delivers at now + delay in send order, and copies the bytes', () => {
    const net = new SimNetwork({ random: seededRandom(1), impairment: { delay: 10 } });
    const buf = Uint8Array.of(1, 2, 3);
    net.send(A, B, buf, 0);
    buf[0] = 9;
    net.send(B, A, buf, 0);
    expect(net.nextDeliveryTime()).toBe(10);
    expect(net.poll(9)).toEqual([]);
    const due = net.poll(10);
    expect(due.map((d) => d.id)).toEqual([1, 2]);
    expect([...due[0]!.bytes]).toEqual([1, 2, 3]);
    expect(due[1]!.from).toEqual(B);
    expect(net.nextDeliveryTime()).toBeUndefined();
  });

  it('dropNth drops exactly the n-th matching datagram', () => {
    const net = new SimNetwork({ random: seededRandom(1) });
    const isResponse = (p: { from: { port: number }; bytes: Uint8Array }) => p.bytes[0] === 0x20;
    const rule = net.dropNth(isResponse, 2);
    for (let i = 0; i < 5; i++) {
      net.send(A, B, Uint8Array.of(0x08, i), 0);
      net.send(B, A, Uint8Array.of(0x20, i), 0);
    }
    const got = net.poll(0);
    const responses = got.filter((d) => d.bytes[0] === 0x20).map((d) => d.bytes[1]);
    expect(responses).toEqual([0, 2, 3, 4]);
    expect(rule.dropped).toBe(1);
    expect(net.counters.dropped.filter).toBe(1);
    expect(net.captured({ event: 'drop' })[0]).toMatchObject({ reason: 'filter', from: B, to: A });
  });

  it('dropIf with a limit, and removal', () => {
    const net = new SimNetwork({ random: seededRandom(1) });
    const rule = net.dropIf((p) => p.to.port === 4500, { limit: 2 });
    const C = { address: '198.51.100.2', port: 4500 };
    for (let i = 0; i < 4; i++) net.send(A, C, Uint8Array.of(i), 0);
    expect(net.poll(0).map((d) => d.bytes[0])).toEqual([2, 3]);
    const r2 = net.dropIf(() => true);
    r2.remove();
    net.send(A, C, Uint8Array.of(7), 0);
    expect(net.poll(0)).toHaveLength(1);
    expect(rule.dropped).toBe(2);
  });

  it('per-link overrides beat the defaults, most specific first', () => {
    const net = new SimNetwork({ random: seededRandom(1), impairment: { delay: 5 } });
    net.setLink('192.0.2.1', '198.51.100.2', { delay: 100 });
    net.setLink('*', '192.0.2.1', { loss: 1 });
    net.send(A, B, Uint8Array.of(1), 0);
    net.send(B, A, Uint8Array.of(2), 0);
    expect(net.nextDeliveryTime()).toBe(100);
    expect(net.counters.dropped.loss).toBe(1);
    net.setLink('*', '192.0.2.1', undefined);
    net.send(B, A, Uint8Array.of(3), 0);
    expect(net.nextDeliveryTime()).toBe(5);
  });

  it('drops datagrams above the link MTU', () => {
    const net = new SimNetwork({ random: seededRandom(1), impairment: { mtu: 1280 } });
    net.send(A, B, new Uint8Array(1281), 0);
    net.send(A, B, new Uint8Array(1280), 0);
    expect(net.counters.dropped['too-big']).toBe(1);
    expect(net.poll(0)).toHaveLength(1);
  });

  it('canonicalises IPv6 addresses and delivers to bound receivers', () => {
    const net = new SimNetwork({ random: seededRandom(1) });
    const got: Datagram[] = [];
    net.bind({ address: '2001:db8::1', port: 4500 }, (d) => got.push(d));
    net.send({ address: '2001:DB8:0:0::2', port: 4500 }, { address: '2001:0db8::0001', port: 4500 }, Uint8Array.of(1), 0);
    net.send(A, { address: '2001:db8::9', port: 1 }, Uint8Array.of(1), 0);
    expect(net.deliverDue(0)).toBe(1);
    expect(got[0]!.from.address).toBe('2001:db8::2');
    expect(net.counters.dropped['no-receiver']).toBe(1);
  });

  it('rejects bad addresses and impairments with typed errors', () => {
    const net = new SimNetwork({ random: seededRandom(1) });
    expect(() => net.send({ address: '300.1.1.1', port: 1 }, B, new Uint8Array(1), 0)).toThrow(SimError);
    expect(() => net.send(A, { address: '10.0.0.1', port: 70000 }, new Uint8Array(1), 0)).toThrow(/port 70000/);
    expect(() => net.setImpairment({ loss: 1.5 })).toThrow(/loss 1.5/);
    expect(() => new SimNetwork({ random: seededRandom(1), impairment: { delay: -1 } })).toThrow(SimError);
  });
});

describe('SimNetwork properties', () => {
  it('conserves datagrams and delivers in time order, for any impairment and seed', async () => {
    const fc = (await import('fast-check')).default;
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 31 }),
        fc.record({
          delay: fc.integer({ min: 0, max: 100 }),
          jitter: fc.integer({ min: 0, max: 100 }),
          loss: fc.double({ min: 0, max: 1, noNaN: true }),
          duplicate: fc.double({ min: 0, max: 1, noNaN: true }),
          reorder: fc.double({ min: 0, max: 1, noNaN: true }),
          reorderDelay: fc.integer({ min: 0, max: 200 }),
        }),
        fc.array(fc.integer({ min: 0, max: 50 }), { minLength: 1, maxLength: 60 }),
        (seed, imp, gaps) => {
          const net = new SimNetwork({ random: seededRandom(seed), impairment: imp });
          let t = 0;
          let polled = 0;
          let last = -Infinity;
          for (const g of gaps) {
            t += g;
            net.send(A, B, Uint8Array.of(1), t);
            for (const d of net.poll(t - 1)) {
              polled++;
              expect(d.deliverAt).toBeGreaterThanOrEqual(last);
              expect(d.deliverAt).toBeGreaterThanOrEqual(d.sentAt + imp.delay);
              last = d.deliverAt;
            }
          }
          const c = net.counters;
          const drops = Object.values(c.dropped).reduce((a, b) => a + b, 0);
          expect(c.sent + c.duplicated).toBe(polled + drops + net.inFlight);
          polled += net.poll(Infinity).length;
          expect(net.inFlight).toBe(0);
          expect(polled).toBe(c.delivered);
        },
      ),
      { numRuns: 300 },
    );
  });
});
