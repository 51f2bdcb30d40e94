/**
 * Dead peer detection seen from both ends (issue 15, RFC 7296 2.4): both peers configured with dpd_delay check at
 * the same moment (their empty INFORMATIONAL requests cross on the wire; each side answers the other's request
 * from its own message ID counter, 2.3), an idle pair keeps its SA through many rounds, both sides find a dead
 * link and neither keeps an orphaned SA, and dpd_action = restart asks the driver where the peer is now, so a
 * remote_addrs DNS name that moved is followed (re-resolution on DPD restart).
 */
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../crypto/random.js';
import { createProvider } from '../crypto/provider.js';
import { hostIkeNode, SimNetwork, Simulation } from '../sim/index.js';
import type { Address, IkeConnectionConfig } from './config.js';
import { child, connection, pskCredentials } from './config-builder.js';
import { IkeEndpoint, type IkeEndpointOptions } from './endpoint.js';
import type { IkeEvent } from './events.js';
import { DpdTask } from './tasks/ike-dpd.js';

const credentials = pskCredentials([{ ids: ['moon.example', 'sun.example'], secret: 'dpd from both sides' }]);
const crypto = createProvider();
const DPD = 10_000;

interface Node {
  readonly ep: IkeEndpoint;
  readonly address: string;
  readonly events: IkeEvent[];
  readonly logs: string[];
  /** Empty INFORMATIONAL messages this node sent: requests and responses. */
  readonly informational: { q: number; r: number };
}

function gw(side: 'moon' | 'sun', o: { dpdDelayMs?: number; dpdAction?: 'clear' | 'restart' | 'trap'; remote?: string } = {}): IkeConnectionConfig {
  const moon = side === 'moon';
  return connection({
    name: 'gw',
    proposals: 'aes128gcm16-prfsha256-x25519',
    remoteAddrs: [o.remote ?? (moon ? '192.0.2.2' : '%any')],
    local: { id: moon ? 'moon.example' : 'sun.example' },
    remote: { id: moon ? 'sun.example' : 'moon.example' },
    dpdDelayMs: o.dpdDelayMs ?? 0,
    children: [child('net', { localTs: [moon ? '10.1.0.0/16' : '10.2.0.0/16'], remoteTs: [moon ? '10.2.0.0/16' : '10.1.0.0/16'], espProposals: 'aes128gcm16', dpdAction: o.dpdAction ?? 'clear' })],
  });
}

function network(delay: number): { sim: Simulation; net: SimNetwork; add(address: string, conn: IkeConnectionConfig, extra?: Partial<IkeEndpointOptions>): Node } {
  const net = new SimNetwork({ random: seededRandom(15), impairment: { delay } });
  const sim = new Simulation({ network: net });
  let seed = 100;
  const add = (address: string, conn: IkeConnectionConfig, extra: Partial<IkeEndpointOptions> = {}): Node => {
    const ep = new IkeEndpoint({ connections: [conn], credentials, crypto, random: seededRandom(seed++), settings: { retransmit: { tries: 3, timeoutMs: 1000, base: 2, jitterPercent: 0, limitMs: 0 } }, ...extra });
    const node: Node = { ep, address, events: [], logs: [], informational: { q: 0, r: 0 } };
    hostIkeNode(sim, net, ep, address, {
      onEvent: (e) => {
        if (e.type === 'log') node.logs.push(e.message);
        else node.events.push(e);
      },
      filter: (t) => {
        // Exchange type 37 (INFORMATIONAL) at offset 18 of the IKE header; the Response flag is 0x20 at 19.
        const d = t.data;
        const off = d.length > 4 && d[0] === 0 && d[1] === 0 && d[2] === 0 && d[3] === 0 ? 4 : 0;
        if (d[off + 18] === 37) node.informational[(d[off + 19]! & 0x20) !== 0 ? 'r' : 'q']++;
        return true;
      },
    });
    return node;
  };
  return { sim, net, add };
}

const downs = (n: Node) => n.events.filter((e): e is Extract<IkeEvent, { type: 'ike-down' }> => e.type === 'ike-down');
const established = (n: Node) => n.ep.listSas().filter((s) => s.sa.state === 'ESTABLISHED');

function upBetween(sim: Simulation, moon: Node, sun: Node): void {
  moon.ep.initiate('gw', sim.now);
  expect(sim.runUntil(() => established(moon).length === 1 && established(sun).length === 1 && established(moon)[0]!.children.length === 1 && established(sun)[0]!.children.length === 1, { maxTime: 10_000 }).ok).toBe(true);
}

describe('DPD from both sides (RFC 7296 2.4)', () => {
  it('requests that cross on the wire are both answered; both SAs stay up and neither side waits on a check', () => {
    const { sim, add } = network(50);
    const moon = add('192.0.2.1', gw('moon', { dpdDelayMs: DPD }));
    const sun = add('192.0.2.2', gw('sun', { dpdDelayMs: DPD }));
    upBetween(sim, moon, sun);
    const [sm, ss] = [established(moon)[0]!.sa, established(sun)[0]!.sa];
    const idM = moon.ep.ikeSa(sm.id)!;
    const idS = sun.ep.ikeSa(ss.id)!;
    const before = { m: { ...moon.informational }, s: { ...sun.informational } };
    // Both check in the same instant: each request is on the wire (50 ms) before the other side's arrives.
    idM.dpdPending = true;
    idS.dpdPending = true;
    moon.ep.queueTask(idM, new DpdTask(moon.ep, idM), sim.now);
    sun.ep.queueTask(idS, new DpdTask(sun.ep, idS), sim.now);
    expect(sim.runUntil(() => !idM.dpdPending && !idS.dpdPending, { maxTime: 5000 }).ok).toBe(true);
    expect(moon.informational.q - before.m.q).toBe(1);
    expect(moon.informational.r - before.m.r).toBe(1);
    expect(sun.informational.q - before.s.q).toBe(1);
    expect(sun.informational.r - before.s.r).toBe(1);
    expect(moon.logs.some((l) => l.includes('liveness check answered'))).toBe(true);
    expect(sun.logs.some((l) => l.includes('liveness check answered'))).toBe(true);
    expect(downs(moon)).toEqual([]);
    expect(downs(sun)).toEqual([]);
    expect(established(moon)).toHaveLength(1);
    expect(established(sun)).toHaveLength(1);
  });

  it('an idle pair with dpd_delay on both sides keeps its SA for 10 minutes of DPD rounds, never retransmitting', () => {
    const { sim, add } = network(20);
    const moon = add('192.0.2.1', gw('moon', { dpdDelayMs: DPD }));
    const sun = add('192.0.2.2', gw('sun', { dpdDelayMs: DPD }));
    upBetween(sim, moon, sun);
    const spi = established(moon)[0]!.sa.spiI;
    const before = { m: { ...moon.informational }, s: { ...sun.informational } };
    sim.runFor(600_000);
    const q = moon.informational.q - before.m.q + (sun.informational.q - before.s.q);
    const r = moon.informational.r - before.m.r + (sun.informational.r - before.s.r);
    // One check per dpd_delay of silence in all (59 seen), not one per side: a request received is inbound
    // traffic for its receiver, which then has no reason to ask itself.
    expect(q).toBeGreaterThanOrEqual(600_000 / DPD - 2);
    expect(q).toBeLessThanOrEqual(600_000 / DPD);
    // Every request answered exactly once: no retransmission, no lost check.
    expect(r).toBe(q);
    expect(downs(moon)).toEqual([]);
    expect(downs(sun)).toEqual([]);
    expect(established(moon)[0]!.sa.spiI).toEqual(spi);
    expect(established(sun)[0]!.sa.spiI).toEqual(spi);
  });

  it('a link that dies both ways: each side finds the other dead and clears its SA; no SA is orphaned', () => {
    const { sim, net, add } = network(20);
    const moon = add('192.0.2.1', gw('moon', { dpdDelayMs: DPD }));
    const sun = add('192.0.2.2', gw('sun', { dpdDelayMs: DPD }));
    upBetween(sim, moon, sun);
    const cut = sim.now;
    net.setLink('192.0.2.1', '192.0.2.2', { loss: 1 }, { bidirectional: true });
    expect(sim.runUntil(() => downs(moon).length === 1 && downs(sun).length === 1, { maxTime: 120_000 }).ok).toBe(true);
    for (const n of [moon, sun]) {
      expect(downs(n)[0]).toMatchObject({ reason: 'timeout' });
      expect(downs(n)[0]!.message).toContain('did not answer DPD');
      expect(n.ep.listSas()).toEqual([]);
    }
    // Within dpd_delay + the retransmission timeout (1 + 2 + 4 s, then 8 s for the last try): 25 s seen.
    expect(sim.now - cut).toBeLessThanOrEqual(DPD + 1000 + 2000 + 4000 + 8000);
  });
});

describe('dpd_action = restart re-resolves the peer (remote_addrs DNS names)', () => {
  it('the new IKE SA goes where the driver says the name points now, with the old address passed in', () => {
    const { sim, net, add } = network(10);
    let now: Address = { address: '192.0.2.2', port: 500 };
    const asked: string[] = [];
    const moon = add('192.0.2.1', gw('moon', { dpdDelayMs: DPD, dpdAction: 'restart' }), {
      resolveRemote: (c, previous) => {
        asked.push(`${c.name} ${previous.address}`);
        return now;
      },
    });
    const sun = add('192.0.2.2', gw('sun'));
    upBetween(sim, moon, sun);
    // The peer restarts at another address (a new lease; its name now points there) and the old one is gone.
    const sun2 = add('192.0.2.3', gw('sun'));
    net.setLink('192.0.2.1', '192.0.2.2', { loss: 1 }, { bidirectional: true });
    now = { address: '192.0.2.3', port: 500 };
    expect(sim.runUntil(() => established(sun2).length === 1 && established(moon).length === 1 && established(moon)[0]!.sa.remote.address === '192.0.2.3', { maxTime: 120_000 }).ok).toBe(true);
    expect(asked).toEqual(['gw 192.0.2.2']);
    expect(downs(moon)[0]).toMatchObject({ reason: 'timeout' });
    expect(moon.logs.some((l) => l.includes('restarting CHILD_SA net of gw (dpd_action)'))).toBe(true);
    expect(established(moon)[0]!.children.map((c) => c.name)).toEqual(['net']);
    expect(established(moon)).toHaveLength(1);
  });
});
