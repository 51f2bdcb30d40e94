/**
 * Simulator tests of the gateway core: two cores back to back on a SimNetwork in virtual time, each with an
 * in-memory TUN. Trap policies and their ACQUIRE queue, ESP lifetimes -> CHILD rekey, DPD liveness from ESP
 * activity, and reqids across a CHILD rekey.
 */
import { describe, expect, it } from 'vitest';
import { child, connection, pskCredentials } from '../ike/config-builder.js';
import type { ChildConfig } from '../ike/config.js';
import type { IkeEvent } from '../ike/events.js';
import { TRAP_QUEUE_LIMIT, type GatewayEvent } from './gateway.js';
import { gatewayPair, packetId, udpPacket, type SimGateway } from './testing.js';

const credentials = pskCredentials([{ ids: ['moon.example', 'sun.example'], secret: 'gateway core' }]);

function pair(o: { moonChild?: Partial<Parameters<typeof child>[1]>; sunChild?: Partial<Parameters<typeof child>[1]>; moonDpdMs?: number; trap?: boolean; start?: boolean }) {
  const mk = (me: string, peer: string, lts: string, rts: string, remote: string, c: Partial<Parameters<typeof child>[1]> | undefined, dpd = 0) =>
    connection({
      name: 'gw', proposals: 'aes128gcm16-prfsha256-x25519', localAddrs: [me === 'moon.example' ? '192.0.2.1' : '192.0.2.2'], remoteAddrs: [remote],
      local: { id: me }, remote: { id: peer }, dpdDelayMs: dpd,
      children: [child('net', { localTs: [lts], remoteTs: [rts], espProposals: 'aes128gcm16', ...c }) as ChildConfig],
    });
  const ref = [{ conn: 'gw', child: 'net' }];
  return gatewayPair(
    { address: '192.0.2.1', connections: [mk('moon.example', 'sun.example', '10.1.0.0/16', '10.2.0.0/16', '192.0.2.2', o.moonChild, o.moonDpdMs)], ...(o.trap ? { trapChildren: ref } : {}), ...(o.start ? { startChildren: ref } : {}) },
    { address: '192.0.2.2', connections: [mk('sun.example', 'moon.example', '10.2.0.0/16', '10.1.0.0/16', '%any', o.sunChild)] },
    { credentials },
  );
}

const ofType = <T extends IkeEvent['type']>(s: SimGateway, t: T) => s.events.filter((e): e is Extract<GatewayEvent, { type: T }> => e.type === t);
const childOf = (s: SimGateway) => s.gateway.endpoint.listSas()[0]?.children[0];
const up = (s: SimGateway) => childOf(s) !== undefined && s.gateway.endpoint.listSas()[0]!.sa.state === 'ESTABLISHED';

describe('gateway core: trap policies (start_action = trap)', () => {
  it('queues the packets that triggered the ACQUIRE, counts what overflows, and sends the rest in order once the CHILD SA is up', () => {
    const { sim, a, b } = pair({ trap: true });
    a.gateway.start(sim.now);
    b.gateway.start(sim.now);
    expect(a.gateway.trapPolicies()).toHaveLength(1);
    expect(a.gateway.endpoint.listSas()).toHaveLength(0);
    const n = TRAP_QUEUE_LIMIT + 6;
    a.host.inject(Array.from({ length: n }, (_, i) => udpPacket('10.1.0.5', '10.2.0.7', i + 1)));
    // One ACQUIRE started one IKE SA; the queue holds its limit, the rest is counted, not silently lost.
    expect(a.gateway.endpoint.listSas()).toHaveLength(1);
    expect(a.gateway.queuedFor('gw', 'net')).toBe(TRAP_QUEUE_LIMIT);
    expect(a.gateway.counters.trapQueueDropped).toBe(6);
    expect(sim.runUntil(() => up(a) && up(b), { maxTime: 10_000 }).ok).toBe(true);
    sim.runFor(100);
    expect(a.gateway.queuedFor('gw', 'net')).toBe(0);
    expect(b.delivered.map(packetId)).toEqual(Array.from({ length: TRAP_QUEUE_LIMIT }, (_, i) => i + 1));
    // The CHILD SA brought up by the trap carries the trap's reqid (strongSwan: the acquire's reqid).
    const trapReqid = a.gateway.trapPolicies()[0]!.reqid;
    expect(a.gateway.engine.getSa(childOf(a)!.spiOut, 'out')!.reqid).toBe(trapReqid);
    // The trap stays: after the SA is gone, the next packet triggers a new ACQUIRE.
    a.gateway.command(sim.now, (e) => e.terminateIke(a.gateway.endpoint.listSas()[0]!.sa.id, sim.now));
    expect(sim.runUntil(() => a.gateway.endpoint.listSas().length === 0, { maxTime: 10_000 }).ok).toBe(true);
    a.host.inject(udpPacket('10.1.0.5', '10.2.0.7', 1000));
    expect(a.gateway.queuedFor('gw', 'net')).toBe(1);
    expect(sim.runUntil(() => b.delivered.some((p) => packetId(p) === 1000), { maxTime: 10_000 }).ok).toBe(true);
    expect(a.gateway.engine.getSa(childOf(a)!.spiOut, 'out')!.reqid).toBe(trapReqid);
  });

  it('drops and counts the queue when the connection fails, and uninstall removes the policy', () => {
    const { sim, a, b, network } = pair({ trap: true });
    a.gateway.start(sim.now);
    b.gateway.start(sim.now);
    network.dropIf(() => true);
    a.host.inject([udpPacket('10.1.0.5', '10.2.0.7', 1), udpPacket('10.1.0.5', '10.2.0.7', 2)]);
    expect(a.gateway.queuedFor('gw', 'net')).toBe(2);
    // IKE_SA_INIT is never answered: after the retransmissions give up the IKE SA goes and so does the queue.
    expect(sim.runUntil(() => ofType(a, 'ike-down').length > 0, { maxTime: 600_000 }).ok).toBe(true);
    expect(a.gateway.queuedFor('gw', 'net')).toBe(0);
    expect(a.gateway.counters.trapQueueDropped).toBe(2);
    expect(a.gateway.uninstallTrap('net')).toBe(true);
    expect(a.gateway.trapPolicies()).toEqual([]);
    expect(a.gateway.reqids.size).toBe(0);
    a.host.inject(udpPacket('10.1.0.5', '10.2.0.7', 3));
    expect(a.gateway.queuedFor('gw', 'net')).toBe(0);
  });
});

describe('gateway core: ESP lifetimes and reqids', () => {
  // 20/1000: rand_packets defaults to life - rekey = 980, more than the soft limit itself; the jitter is capped at
  // half the limit (src/ike/lifetimes.ts softLimit), else the soft limit went below zero and never fired.
  it.each([
    [20, 25],
    [20, 1000],
  ])('a soft packet lifetime in the data plane rekeys the CHILD SA (rekey_packets %i, life_packets %i); its reqid and policy survive the rekey', (rekeyPackets, lifePackets) => {
    const { sim, a, b } = pair({ start: true, moonChild: { rekeyPackets, lifePackets } });
    a.gateway.start(sim.now);
    b.gateway.start(sim.now);
    expect(sim.runUntil(() => up(a) && up(b), { maxTime: 10_000 }).ok).toBe(true);
    const before = childOf(a)!;
    const reqid = a.gateway.engine.getSa(before.spiOut, 'out')!.reqid;
    for (let i = 1; i <= 30; i++) {
      a.host.inject(udpPacket('10.1.0.5', '10.2.0.7', i));
      sim.runFor(50);
    }
    const ok = sim.runUntil(() => ofType(a, 'child-install').some((e) => e.replaces?.id === before.id) && childOf(a)?.id !== before.id, { maxTime: 10_000 }).ok;
    expect(ok).toBe(true);
    const after = childOf(a)!;
    expect(after.spiOut).not.toBe(before.spiOut);
    expect(a.gateway.engine.getSa(after.spiOut, 'out')!.reqid).toBe(reqid);
    expect(a.gateway.engine.getSa(before.spiOut, 'out')).toBeUndefined();
    expect(a.logs.some((l) => l.includes('soft-expire'))).toBe(true);
    // Traffic goes on over the new SA; nothing was dropped on the way.
    a.host.inject(udpPacket('10.1.0.5', '10.2.0.7', 99));
    sim.runFor(100);
    expect(b.delivered.map(packetId)).toEqual([...Array.from({ length: 30 }, (_, i) => i + 1), 99]);
    expect(b.gateway.counters.espDrops).toBe(0);
  });

  it('a hard lifetime deletes the CHILD SA', () => {
    const { sim, a, b } = pair({ start: true, moonChild: { rekeyPackets: 0, lifePackets: 5 } });
    a.gateway.start(sim.now);
    b.gateway.start(sim.now);
    expect(sim.runUntil(() => up(a) && up(b), { maxTime: 10_000 }).ok).toBe(true);
    const c = childOf(a)!;
    for (let i = 1; i <= 6; i++) a.host.inject(udpPacket('10.1.0.5', '10.2.0.7', i));
    expect(sim.runUntil(() => ofType(a, 'child-remove').some((e) => e.child.id === c.id), { maxTime: 10_000 }).ok).toBe(true);
    expect(a.gateway.engine.getSa(c.spiOut, 'out')).toBeUndefined();
  });

  it('reqids are stable across a CHILD rekey in both cores and freed when the CHILD SA goes', () => {
    const { sim, a, b } = pair({ start: true });
    a.gateway.start(sim.now);
    b.gateway.start(sim.now);
    expect(sim.runUntil(() => up(a) && up(b), { maxTime: 10_000 }).ok).toBe(true);
    const reqidOf = (s: SimGateway) => s.gateway.engine.getSa(childOf(s)!.spiOut, 'out')!.reqid;
    const ra = reqidOf(a);
    const rb = reqidOf(b);
    for (let round = 0; round < 3; round++) {
      const id = childOf(a)!.id;
      expect(a.gateway.command(sim.now, (e) => e.rekeyChild(id, sim.now))).toBe(true);
      expect(sim.runUntil(() => childOf(a)!.id !== id && a.gateway.endpoint.listSas()[0]!.children.length === 1 && b.gateway.endpoint.listSas()[0]!.children.length === 1, { maxTime: 10_000 }).ok).toBe(true);
      expect(reqidOf(a)).toBe(ra);
      expect(reqidOf(b)).toBe(rb);
      // What vici's list-sas shows as the CHILD SA's reqid (charon's too stays put across rekeys).
      expect(a.gateway.childExtras(childOf(a)!).reqId).toBe(ra);
      expect(a.gateway.reqids.size).toBe(1);
    }
    a.gateway.command(sim.now, (e) => e.terminateChild(childOf(a)!.id, sim.now));
    expect(sim.runUntil(() => childOf(a) === undefined && childOf(b) === undefined, { maxTime: 10_000 }).ok).toBe(true);
    expect(a.gateway.reqids.size).toBe(0);
    expect(b.gateway.reqids.size).toBe(0);
  });
});

describe('gateway core: DPD liveness from ESP activity', () => {
  it('inbound ESP keeps the peer alive: no DPD while it flows, a DPD exchange once it stops', () => {
    const { sim, a, b } = pair({ start: true, moonDpdMs: 30_000 });
    a.gateway.start(sim.now);
    b.gateway.start(sim.now);
    expect(sim.runUntil(() => up(a) && up(b), { maxTime: 10_000 }).ok).toBe(true);
    const ikeOut = () => a.gateway.counters.ikeOut;
    const sent = ikeOut();
    // Sun sends a packet every 5 s for two minutes: moon hears ESP, never IKE.
    for (let t = 0; t < 120_000; t += 5000) {
      b.host.inject(udpPacket('10.2.0.7', '10.1.0.5', t / 5000 + 1));
      sim.runFor(5000);
    }
    expect(a.delivered).toHaveLength(24);
    expect(ikeOut()).toBe(sent);
    // Silence: within dpd_delay moon checks liveness with an empty INFORMATIONAL (RFC 7296 2.4), and sun answers.
    sim.runFor(31_000);
    expect(ikeOut()).toBeGreaterThan(sent);
    expect(b.gateway.counters.ikeIn).toBeGreaterThan(0);
    expect(up(a)).toBe(true);
  });
});
