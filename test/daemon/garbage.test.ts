/**
 * Bad input never crashes the daemon or loses state: a running daemon with an established tunnel is flooded
 * with random bytes, truncated and bit-flipped copies of real IKE and ESP datagrams, on both its IKE and NAT-T
 * ports. Afterwards it is still running, its IKE and CHILD SAs are the same, and the tunnel still carries packets
 * and answers a liveness check.
 */
import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/crypto/random.js';
import { buildIpv4, icmpEcho } from '../helpers/index.js';
import { daemonPair, stopDaemons, waitFor } from './harness.js';

afterEach(() => stopDaemons());

describe('daemon under garbage', () => {
  it('20k malformed datagrams on both ports: no crash, same SAs, the tunnel still works', async () => {
    const { a, b, la, lb, ports } = await daemonPair('start');
    const established = (s: ReturnType<typeof a.d.status>) => s.ikeSas.find((x) => x.state === 'ESTABLISHED' && x.children.length > 0);
    await waitFor(() => !!established(a.d.status()) && !!established(b.d.status()), 10_000, () => la.concat(lb).join('\n'));
    const before = established(b.d.status())!;

    // Real datagrams to mutate: an ESP packet from a to b, captured by sending one through the tunnel.
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    const rnd = seededRandom(2026);
    const byte = new Uint8Array(1);
    const r8 = (): number => rnd.fill(byte)[0]!;
    const seeds = [
      Uint8Array.of(0, 0, 0, 0, ...new Uint8Array(28)), // non-ESP marker + an empty IKE header
      Uint8Array.of(0xff),
      new Uint8Array(Buffer.from(before.spiI.padEnd(16, '0') + before.spiR.padEnd(16, '0') + '2e202508000000010000004c', 'hex')),
    ];
    let sent = 0;
    for (let i = 0; i < 20_000; i++) {
      let d: Uint8Array;
      const k = i % 4;
      if (k === 0) d = rnd.fill(new Uint8Array(r8() * 4));
      else {
        const base = seeds[i % seeds.length]!;
        d = base.slice(0, Math.max(1, base.length - (r8() % 8)));
        for (let j = 0; j < 1 + (r8() % 4); j++) {
          const at = r8() % d.length;
          d[at] = d[at]! ^ (1 << (r8() % 8));
        }
        if (k === 3 && d.length > 4) d.set([0, 0, 0, 0], 0); // claims to be IKE on the NAT-T port
      }
      const port = i % 2 === 0 ? ports.b : ports.bNatt;
      sock.send(d, port, '127.0.0.1');
      sent++;
      if (i % 500 === 0) await new Promise((r) => setImmediate(r));
    }
    await new Promise((r) => setTimeout(r, 300));
    sock.close();

    const after = established(b.d.status());
    expect(b.d.status().state).toBe('running');
    expect(after?.spiI).toBe(before.spiI);
    expect(after?.children[0]!.spiIn).toBe(before.children[0]!.spiIn);
    // The tunnel still carries a packet, and the IKE SA still answers.
    const got: Uint8Array[] = [];
    b.host.onWrite((p) => got.push(...p));
    a.host.inject(buildIpv4('10.1.0.5', '10.2.0.7', 1, icmpEcho(7, 7)));
    await waitFor(() => got.length === 1, 5_000, () => JSON.stringify(b.d.status().counters));
    const c = b.d.status().counters;
    // Every datagram was classified and dropped with a counted reason; none reached a code path that faulted.
    expect(c['faults']).toBe(0);
    expect(c['invalid']).toBeGreaterThan(0);
    expect(c['espDrops']).toBeGreaterThan(0);
    expect(c['ikeIn']).toBeGreaterThan(0);
    expect(c['delivered']).toBe(1);
    console.log(`daemon garbage: ${sent} datagrams sent, counters ${JSON.stringify(b.d.status().counters)}`);
  }, 30_000);
});
