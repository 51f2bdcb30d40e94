/**
 * IKE_MOBIKE (RFC 4555) in the simulator: the initiator moves to another address (a roaming laptop), behind a NAT
 * or not, and the responder follows with the same IKE SA and CHILD SPIs; an unanswered update leaves the SA
 * waiting; a retransmitted update is answered once; `mobike = no` is respected.
 */
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../crypto/random.js';
import { createProvider } from '../../crypto/provider.js';
import { SimNetwork, Simulation } from '../../sim/index.js';
import { child, connection, pskCredentials } from '../config-builder.js';
import { IkeEndpoint } from '../endpoint.js';
import type { IkeEvent } from '../events.js';
import { NotifyType } from '../codec/types.js';
import { notify } from '../payload-util.js';
import { mobikeActive, mobikeInitiator, natdAnswer, peerAdditionalAddresses } from './ike-mobike.js';
import { addressesChanged, moveAway } from '../../gateway/local-address.js';
import type { GatewayNet } from '../../gateway/contracts.js';

const crypto = createProvider();
const MARKER = new Uint8Array(4);
const psk = pskCredentials([{ ids: [], secret: 'mobike' }]);

interface Host {
  ep: IkeEndpoint;
  events: IkeEvent[];
  logs: string[];
  /** Brings an address up on this host (binds 500 and 4500). */
  up(address: string): void;
  down(address: string): void;
}

/** A host with several addresses: datagrams leave from the local address the endpoint chose (unlike hostIkeNode). */
function host(sim: Simulation, net: SimNetwork, ep: IkeEndpoint, addresses: string[]): Host {
  const h: Host = { ep, events: [], logs: [], up: () => {}, down: () => {} };
  const unbind = new Map<string, (() => void)[]>();
  h.up = (address) => {
    unbind.set(
      address,
      [500, 4500].map((port) =>
        net.bind({ address, port }, (d, now) => {
          let bytes = d.bytes;
          if (port === 4500) {
            if (bytes.length < 4 || bytes.subarray(0, 4).some((b) => b !== 0)) return;
            bytes = bytes.subarray(4);
          }
          ep.receive(bytes, d.to, d.from, now);
        }),
      ),
    );
  };
  h.down = (address) => {
    for (const u of unbind.get(address) ?? []) u();
    unbind.delete(address);
  };
  for (const a of addresses) h.up(a);
  sim.add({
    nextTimeout: () => ep.nextTimeout(),
    handleTimeout: (now) => ep.handleTimeout(now),
    flush: (now) => {
      for (let t = ep.pollTransmit(); t; t = ep.pollTransmit()) {
        // A source address that is gone cannot send (the kernel refuses).
        if (!unbind.has(t.local.address)) continue;
        const data = t.nonEspMarker ? new Uint8Array([...MARKER, ...t.data]) : t.data;
        net.send(t.local, t.remote, data, now);
      }
      for (let e = ep.pollEvent(); e; e = ep.pollEvent()) {
        if (e.type === 'log') h.logs.push(e.message);
        else h.events.push(e);
      }
    },
  });
  return h;
}

function setup(o: { mobikeA?: boolean; mobikeB?: boolean; natA?: boolean; natB?: boolean; bSecond?: boolean; tries?: number } = {}) {
  const net = new SimNetwork({ random: seededRandom(11), impairment: { delay: 5 } });
  const sim = new Simulation({ network: net });
  const settings = { retransmit: { timeoutMs: 1000, base: 1.8, tries: o.tries ?? 3, limitMs: 0, jitterPercent: 0 } };
  // B (responder) at 203.0.113.2, or behind a NAT at 10.9.0.2 with a public 203.0.113.2 (a port forward is not
  // modelled: the responder behind NAT is reached at its inside address through an endpoint-independent NAT).
  const bAddr = '203.0.113.2';
  const a = connection({ name: 'road', ...(o.mobikeA === false ? { mobike: false } : {}), remoteAddrs: [bAddr], children: [child('net', { localTs: ['10.1.0.0/16'], remoteTs: ['10.2.0.0/16'] })] });
  const b = connection({ name: 'gw', ...(o.mobikeB === false ? { mobike: false } : {}), children: [child('net', { localTs: ['10.2.0.0/16'], remoteTs: ['10.1.0.0/16'] })] });
  const epA = new IkeEndpoint({ connections: [a], credentials: psk, crypto, random: seededRandom(1), settings });
  const epB = new IkeEndpoint({ connections: [b], credentials: psk, crypto, random: seededRandom(2), settings });
  const A = host(sim, net, epA, ['192.0.2.10', '198.51.100.10', '10.0.0.5']);
  // Behind its own NAT (natB), B is reached through port forwards of 500 and 4500 on the public address.
  const B = host(sim, net, epB, [o.natB ? '10.9.0.2' : bAddr, ...(o.bSecond ? ['203.0.113.3'] : [])]);
  // A second uplink of the responder, announced as ADDITIONAL_IP4_ADDRESS (RFC 4555 3.4).
  if (o.bSecond) epB.setLocalAddresses([bAddr, '203.0.113.3']);
  const natB = o.natB ? net.addNat('dc', { publicAddress: bAddr, inside: ['10.9.0.2'], forwards: [500, 4500].map((port) => ({ address: '10.9.0.2', port })) }) : undefined;
  const nat = o.natA ? net.addNat('home', { publicAddress: '192.0.2.99', inside: ['10.0.0.5'] }) : undefined;
  const from = o.natA ? '10.0.0.5' : '192.0.2.10';
  epA.initiate('road', 0, { local: { address: from, port: 500 }, remote: { address: bAddr, port: 500 } });
  const up = () => A.events.some((e) => e.type === 'child-install') && B.events.some((e) => e.type === 'child-install');
  expect(sim.runUntil(up, { maxTime: 30_000 }).ok).toBe(true);
  return { net, sim, A, B, nat, natB };
}

const only = <T,>(xs: readonly T[]): T => {
  expect(xs).toHaveLength(1);
  return xs[0] as T;
};
const spis = (h: Host) => h.ep.listSas().map(({ sa, children }) => ({ spiI: Buffer.from(sa.spiI).toString('hex'), spiR: Buffer.from(sa.spiR).toString('hex'), children: children.map((c) => [c.spiIn, c.spiOut]) }));
const moves = (h: Host) => h.events.filter((e): e is Extract<IkeEvent, { type: 'ike-address-change' }> => e.type === 'ike-address-change');

describe('MOBIKE (RFC 4555)', () => {
  it('negotiates MOBIKE_SUPPORTED in IKE_AUTH, and the responder follows a roaming initiator (same SPIs)', () => {
    const { sim, A, B } = setup();
    const before = { a: spis(A), b: spis(B) };
    const id = only(A.ep.listSas()).sa.id;
    // The laptop leaves 192.0.2.10 for 198.51.100.10 (Wi-Fi to LTE).
    A.down('192.0.2.10');
    expect(A.ep.mobikeUpdate(id, '198.51.100.10', sim.now)).toBe(true);
    expect(sim.runUntil(() => moves(B).length > 0 && moves(A).length > 0, { maxTime: 10_000 }).ok).toBe(true);
    const atB = only(B.ep.listSas()).sa;
    expect(atB.remote.address).toBe('198.51.100.10');
    expect(only(A.ep.listSas()).sa.local.address).toBe('198.51.100.10');
    // ESP endpoints follow without rekeying: the event carries the CHILD SAs with the new peer address.
    const ev = moves(B).at(-1);
    expect(ev?.children.map((c) => c.remote.address)).toEqual(['198.51.100.10']);
    // The event says from where to where (issue 15): `from` the old addresses, `sa` the new ones.
    expect(ev?.from).toEqual({ local: { address: '203.0.113.2', port: 4500 }, remote: { address: '192.0.2.10', port: 4500 } });
    expect([ev?.sa.local.address, ev?.sa.remote.address]).toEqual(['203.0.113.2', '198.51.100.10']);
    expect({ a: spis(A), b: spis(B) }).toEqual(before);
    // encap = yes (the default): the update's NAT_DETECTION_SOURCE_IP is faked as in IKE_SA_INIT, so the responder
    // keeps UDP encapsulation (a real hash would make strongSwan switch to plain ESP, which cygnet never gets).
    expect(atB.natDetected.remote).toBe(true);
    expect(B.logs.some((l) => l.includes('no longer behind NAT'))).toBe(false);
    expect(B.logs.some((l) => /IKE_SA gw\[\d+\] moved from 203\.0\.113\.2\[4500\]-192\.0\.2\.10\[4500\] to 203\.0\.113\.2\[4500\]-198\.51\.100\.10\[4500\]/.test(l))).toBe(true);
    // The SA still works from the new address: a liveness check is answered.
    expect(A.ep.checkLiveness(id, sim.now)).toBe(true);
    expect(sim.runUntil(() => A.logs.some((l) => l.includes('liveness check answered')), { maxTime: 10_000 }).ok).toBe(true);
  });

  it('behind a NAT: the initiator moves out of it and the responder updates its NAT state', () => {
    const { sim, A, B } = setup({ natA: true });
    expect(only(B.ep.listSas()).sa.remote.address).toBe('192.0.2.99');
    const id = only(A.ep.listSas()).sa.id;
    A.down('10.0.0.5');
    A.ep.mobikeUpdate(id, '192.0.2.10', sim.now);
    expect(sim.runUntil(() => moves(B).length > 0, { maxTime: 10_000 }).ok).toBe(true);
    expect(only(B.ep.listSas()).sa.remote.address).toBe('192.0.2.10');
  });

  /** A's first uplink gone and its second down at the same time: its update is unanswered and the SA waits. */
  function stranded() {
    const t = setup();
    const id = only(t.A.ep.listSas()).sa.id;
    t.A.down('192.0.2.10');
    const rule = t.net.dropIf((p) => p.from.address === '198.51.100.10');
    t.A.ep.mobikeUpdate(id, '198.51.100.10', t.sim.now);
    expect(t.sim.runUntil(() => t.A.logs.some((l) => l.includes('unanswered: waiting for another local address')), { maxTime: 30_000 }).ok).toBe(true);
    return { ...t, id, rule };
  }

  it('an uplink that goes down: the update is unanswered and the SA waits; when an address comes back it moves', () => {
    const { sim, A, B, id, rule } = stranded();
    expect(A.ep.listSas()).toHaveLength(1);
    // The uplink comes back: the update is sent again and goes through.
    rule.remove();
    A.ep.mobikeUpdate(id, '198.51.100.10', sim.now);
    expect(sim.runUntil(() => moves(B).length > 0, { maxTime: 10_000 }).ok).toBe(true);
    expect(only(B.ep.listSas()).sa.remote.address).toBe('198.51.100.10');
  });

  it('an SA waiting for an address (every path failed) moves when the driver\'s address list changes (gateway addressesChanged)', () => {
    const { sim, A, B, id, rule } = stranded();
    rule.remove();
    const logs: string[] = [];
    // The routing table's source for the peer is 198.51.100.10 again (the driver's GatewayNet.sourceFor).
    addressesChanged(A.ep, { sourceFor: () => '198.51.100.10' } as unknown as GatewayNet, ['198.51.100.10', '10.0.0.5'], sim.now, (_g, _l, m) => void logs.push(m));
    expect(logs).toEqual([`IKE_SA road[${id}] waited for an address: moving to 198.51.100.10 (MOBIKE)`]);
    expect(sim.runUntil(() => moves(B).length > 0, { maxTime: 10_000 }).ok).toBe(true);
    expect(only(B.ep.listSas()).sa.remote.address).toBe('198.51.100.10');
    // The waiting SA sent no separate address list update: its UPDATE_SA_ADDRESSES carried the list.
    expect(A.logs.some((l) => l.includes('sending address list update'))).toBe(false);
    expect(B.logs.some((l) => l.includes("peer's additional addresses: 10.0.0.5"))).toBe(true);
  });

  it('retransmission during an address update: the lost response is resent and the SA moves once', () => {
    const { sim, A, B, net } = setup();
    const id = only(A.ep.listSas()).sa.id;
    // The first response to the update is lost: A retransmits; B answers from its cache.
    const rule = net.dropNth((p) => p.from.address === '203.0.113.2' && p.to.address === '198.51.100.10', 1);
    A.down('192.0.2.10');
    A.ep.mobikeUpdate(id, '198.51.100.10', sim.now);
    expect(sim.runUntil(() => moves(A).length > 0, { maxTime: 10_000 }).ok).toBe(true);
    expect(rule.dropped).toBe(1);
    expect(B.logs.some((l) => l.includes('received retransmit of request'))).toBe(true);
    expect(moves(B)).toHaveLength(1);
  });

  it('a request from another path (the initiator probing it, RFC 4555 3.10) is answered there; only UPDATE_SA_ADDRESSES moves the SA', () => {
    const { sim, A, B } = setup();
    const id = only(A.ep.listSas()).sa.id;
    const sa = A.ep.ikeSa(id);
    if (!sa) throw new Error('no SA');
    // As charon does before an update ('checking path'): an empty INFORMATIONAL from the new address, the old
    // one gone (an answer sent there would be lost).
    A.down('192.0.2.10');
    sa.local = { address: '198.51.100.10', port: sa.local.port };
    expect(A.ep.checkLiveness(id, sim.now)).toBe(true);
    expect(sim.runUntil(() => A.logs.some((l) => l.includes('liveness check answered')), { maxTime: 10_000 }).ok).toBe(true);
    // With MOBIKE the responder does not follow it (no RFC 7296 2.23 implicit update, as strongSwan).
    expect(only(B.ep.listSas()).sa.remote.address).toBe('192.0.2.10');
    expect(moves(B)).toHaveLength(0);
    expect(A.ep.mobikeUpdate(id, '198.51.100.10', sim.now)).toBe(true);
    expect(sim.runUntil(() => moves(B).length > 0, { maxTime: 10_000 }).ok).toBe(true);
    expect(only(B.ep.listSas()).sa.remote.address).toBe('198.51.100.10');
  });

  it('NAT rebinding (the NAT maps the initiator to another port, it stays put): found by a liveness check, the update moves the responder (same SPIs)', () => {
    const { sim, A, B, nat } = setup({ natA: true });
    if (!nat) throw new Error('no NAT');
    const before = { a: spis(A), b: spis(B) };
    const id = only(A.ep.listSas()).sa.id;
    const oldPort = only(B.ep.listSas()).sa.remote.port;
    // Unchanged mapping: the liveness check carries NAT-D (RFC 4555 3.5, as strongSwan) and nothing moves.
    const answered = () => A.logs.filter((l) => l.includes('liveness check answered')).length;
    A.ep.checkLiveness(id, sim.now);
    expect(sim.runUntil(() => answered() === 1, { maxTime: 10_000 }).ok).toBe(true);
    expect(A.logs.some((l) => l.includes('NAT mapping of'))).toBe(false);
    expect(moves(B)).toHaveLength(0);
    // The NAT forgets the mapping: the next packet from the initiator gets a new external port.
    expect(nat.rebind()).toBeGreaterThan(0);
    A.ep.checkLiveness(id, sim.now);
    expect(sim.runUntil(() => moves(B).length > 0, { maxTime: 10_000 }).ok).toBe(true);
    expect(A.logs.some((l) => /NAT mapping of 10\.0\.0\.5\[4500\] changed/.test(l))).toBe(true);
    const atB = only(B.ep.listSas()).sa;
    expect(atB.remote.address).toBe('192.0.2.99');
    expect(atB.remote.port).not.toBe(oldPort);
    expect(moves(B).at(-1)?.children.map((c) => c.remote.port)).toEqual([atB.remote.port]);
    expect({ a: spis(A), b: spis(B) }).toEqual(before);
  });

  it('change of NAT type: from a public address into a NAT, then into a different NAT; the responder follows each (same SPIs)', () => {
    const { sim, A, B, net } = setup();
    net.addNat('home', { publicAddress: '192.0.2.99', inside: ['10.0.0.5'] });
    net.addNat('work', { publicAddress: '198.51.100.99', inside: ['198.51.100.10'] });
    const before = { a: spis(A), b: spis(B) };
    const id = only(A.ep.listSas()).sa.id;
    // No NAT -> NAT: the laptop joins the home Wi-Fi.
    A.down('192.0.2.10');
    A.ep.mobikeUpdate(id, '10.0.0.5', sim.now);
    expect(sim.runUntil(() => moves(B).length === 1 && moves(A).length === 1, { maxTime: 10_000 }).ok).toBe(true);
    expect(only(B.ep.listSas()).sa.remote.address).toBe('192.0.2.99');
    expect(only(A.ep.listSas()).sa.natDetected.local).toBe(true);
    expect(A.logs.some((l) => l.includes('local host is behind NAT now'))).toBe(true);
    // NAT -> a different NAT: from home to the office.
    A.down('10.0.0.5');
    A.ep.mobikeUpdate(id, '198.51.100.10', sim.now);
    expect(sim.runUntil(() => moves(B).length === 2, { maxTime: 10_000 }).ok).toBe(true);
    expect(only(B.ep.listSas()).sa.remote.address).toBe('198.51.100.99');
    expect(moves(B).at(-1)?.children.map((c) => c.remote.address)).toEqual(['198.51.100.99']);
    expect({ a: spis(A), b: spis(B) }).toEqual(before);
    // The SA works there: a liveness check is answered.
    const answered = A.logs.filter((l) => l.includes('liveness check answered')).length;
    A.ep.checkLiveness(id, sim.now);
    expect(sim.runUntil(() => A.logs.filter((l) => l.includes('liveness check answered')).length > answered, { maxTime: 10_000 }).ok).toBe(true);
  });

  it('both sides behind NAT (the responder behind port forwards): established, the initiator roams to another NAT and back out, the responder follows', () => {
    const { sim, A, B, net, natB } = setup({ natA: true, natB: true });
    expect(natB?.counters.translatedIn).toBeGreaterThan(0);
    const atB = only(B.ep.listSas()).sa;
    expect(atB.local.address).toBe('10.9.0.2');
    expect(atB.remote.address).toBe('192.0.2.99');
    // B learns from NAT-D that it is behind a NAT itself (its public address is in A's destination hash).
    expect(atB.natDetected.local).toBe(true);
    const before = { a: spis(A), b: spis(B) };
    const id = only(A.ep.listSas()).sa.id;
    net.addNat('work', { publicAddress: '198.51.100.99', inside: ['198.51.100.10'] });
    A.down('10.0.0.5');
    A.ep.mobikeUpdate(id, '198.51.100.10', sim.now);
    expect(sim.runUntil(() => moves(B).length === 1, { maxTime: 10_000 }).ok).toBe(true);
    expect(only(B.ep.listSas()).sa.remote.address).toBe('198.51.100.99');
    A.up('192.0.2.10');
    A.ep.mobikeUpdate(id, '192.0.2.10', sim.now);
    expect(sim.runUntil(() => moves(B).length === 2, { maxTime: 10_000 }).ok).toBe(true);
    expect(only(B.ep.listSas()).sa.remote.address).toBe('192.0.2.10');
    expect(only(B.ep.listSas()).sa.local.address).toBe('10.9.0.2');
    expect({ a: spis(A), b: spis(B) }).toEqual(before);
  });

  it("ADDITIONAL_IP4_ADDRESS and path probing: the responder's other address is recorded; when the path to its first one fails, the update goes there (RFC 4555 3.4, 3.5)", () => {
    const { sim, A, B, net } = setup({ bSecond: true });
    expect(A.logs.some((l) => l.includes("peer's additional addresses: 203.0.113.3"))).toBe(true);
    const id = only(A.ep.listSas()).sa.id;
    const before = { a: spis(A), b: spis(B) };
    // The responder's first uplink fails, and the laptop moves at the same time.
    net.dropIf((p) => p.to.address === '203.0.113.2' || p.from.address === '203.0.113.2');
    A.down('192.0.2.10');
    A.ep.mobikeUpdate(id, '198.51.100.10', sim.now);
    expect(sim.runUntil(() => moves(B).length > 0 && moves(A).length > 0, { maxTime: 60_000 }).ok).toBe(true);
    // The update's second retransmission also went as a copy to the other address (path probing), and that
    // copy's answer moved the SA there.
    expect(A.logs.some((l) => l.includes('checking paths 198.51.100.10[4500] - 203.0.113.3[4500] (RFC 4555 3.5)'))).toBe(true);
    expect(A.logs.some((l) => l.includes('response from 203.0.113.3[4500] to 198.51.100.10[4500], not over 198.51.100.10[4500] - 203.0.113.2[4500]'))).toBe(true);
    const atA = only(A.ep.listSas()).sa;
    const atB = only(B.ep.listSas()).sa;
    expect([atA.local.address, atA.remote.address]).toEqual(['198.51.100.10', '203.0.113.3']);
    expect([atB.local.address, atB.remote.address]).toEqual(['203.0.113.3', '198.51.100.10']);
    expect(B.logs.some((l) => /moved from 203\.0\.113\.2\[4500\]-192\.0\.2\.10\[4500\] to 203\.0\.113\.3\[4500\]-198\.51\.100\.10\[4500\]/.test(l))).toBe(true);
    expect({ a: spis(A), b: spis(B) }).toEqual(before);
    // The update announced the initiator's addresses: none besides the one in use.
    expect(B.logs.some((l) => l.includes('peer has no additional addresses'))).toBe(true);
  });

  it("our address goes with the only route to the peer's address in use: the gateway moves the SA towards the peer's other address at once (moveAway, RFC 4555 3.5)", () => {
    const { sim, A, B, net } = setup({ bSecond: true });
    const id = only(A.ep.listSas()).sa.id;
    const before = { a: spis(A), b: spis(B) };
    expect(A.ep.peerAdditionalAddresses(id)).toEqual(['203.0.113.3']);
    // 203.0.113.2 was reachable only through 192.0.2.10's connected route; that address goes.
    net.dropIf((p) => p.to.address === '203.0.113.2' || p.from.address === '203.0.113.2');
    A.down('192.0.2.10');
    const routes: Record<string, string> = { '203.0.113.3': '198.51.100.10' };
    const gw = { sourceFor: (remote: string) => routes[remote] } as unknown as GatewayNet;
    const logs: string[] = [];
    moveAway(A.ep, gw, { type: 'local-address', address: '192.0.2.10', present: false, why: 'RTM_DELADDR on eth0', ikeSaIds: [id] }, sim.now, (_g, _l, m) => logs.push(m));
    expect(logs).toEqual([`IKE_SA road[${id}]: local address 192.0.2.10 gone, moving to 198.51.100.10 towards the peer's other address 203.0.113.3 (MOBIKE)`]);
    const t0 = sim.now;
    expect(sim.runUntil(() => moves(B).length > 0 && moves(A).length > 0, { maxTime: 60_000 }).ok).toBe(true);
    // Straight there: no retransmission, no probing of the dead path.
    expect(sim.now - t0).toBeLessThan(1000);
    expect(A.logs.some((l) => l.includes('checking paths'))).toBe(false);
    const atA = only(A.ep.listSas()).sa;
    const atB = only(B.ep.listSas()).sa;
    expect([atA.local.address, atA.remote.address]).toEqual(['198.51.100.10', '203.0.113.3']);
    expect([atB.local.address, atB.remote.address]).toEqual(['203.0.113.3', '198.51.100.10']);
    expect({ a: spis(A), b: spis(B) }).toEqual(before);
  });

  it('no source reaches the peer at any of its addresses: moveAway leaves the SA (DPD or an address coming back moves it)', () => {
    const { sim, A } = setup({ bSecond: true });
    const id = only(A.ep.listSas()).sa.id;
    A.down('192.0.2.10');
    const logs: string[] = [];
    moveAway(A.ep, { sourceFor: () => undefined } as unknown as GatewayNet, { type: 'local-address', address: '192.0.2.10', present: false, why: 'link down', ikeSaIds: [id] }, sim.now, (_g, _l, m) => logs.push(m));
    // A route that would pick the gone address itself is no way out either.
    moveAway(A.ep, { sourceFor: () => '192.0.2.10' } as unknown as GatewayNet, { type: 'local-address', address: '192.0.2.10', present: false, why: 'link down', ikeSaIds: [id] }, sim.now, (_g, _l, m) => logs.push(m));
    expect(logs).toEqual([]);
    expect(only(A.ep.listSas()).sa.local.address).toBe('192.0.2.10');
  });

  it('a malformed ADDITIONAL_IP4_ADDRESS is ignored with a log line naming it', () => {
    const { A, B } = setup();
    const sa = B.ep.ikeSa(only(B.ep.listSas()).sa.id);
    if (!sa) throw new Error('no SA');
    const logs: string[] = [];
    const ctx = { log: (_g: string, _l: number, _s: unknown, m: string) => logs.push(m) } as unknown as Parameters<typeof natdAnswer>[0];
    natdAnswer(ctx, sa, [notify(NotifyType.ADDITIONAL_IP4_ADDRESS, new Uint8Array(5)), notify(NotifyType.ADDITIONAL_IP4_ADDRESS, Uint8Array.of(198, 51, 100, 20))]);
    expect(logs).toContain('ignoring ADDITIONAL_IP4_ADDRESS of 5 bytes (RFC 4555 3.4: 4)');
    expect(peerAdditionalAddresses(sa)).toEqual(['198.51.100.20']);
    expect(A.ep.listSas()).toHaveLength(1);
  });

  it('without MOBIKE, losing the address reauthenticates from the new one (as strongSwan on a roam): a new IKE SA there, the old one gone', () => {
    const { sim, A, B } = setup({ mobikeB: false });
    const old = only(A.ep.listSas()).sa;
    A.down('192.0.2.10');
    expect(A.ep.mobikeUpdate(old.id, '198.51.100.10', sim.now)).toBe(false);
    expect(A.ep.reauthenticateFrom(old.id, '198.51.100.10', sim.now)).toBe(true);
    const settled = () => {
      const a = A.ep.listSas();
      const b = B.ep.listSas();
      return a.length === 1 && b.length === 1 && a[0]!.sa.id !== old.id && a[0]!.sa.state === 'ESTABLISHED' && a[0]!.children.length === 1 && b[0]!.children.length === 1;
    };
    expect(sim.runUntil(settled, { maxTime: 60_000 }).ok).toBe(true);
    expect(only(A.ep.listSas()).sa.local.address).toBe('198.51.100.10');
    expect(only(B.ep.listSas()).sa.remote.address).toBe('198.51.100.10');
    expect(A.logs.some((l) => l.includes('local address 192.0.2.10 gone, no MOBIKE: reauthenticating from 198.51.100.10'))).toBe(true);
    // Not for a responder, nor twice for an SA that is gone.
    expect(B.ep.reauthenticateFrom(only(B.ep.listSas()).sa.id, '203.0.113.2', sim.now)).toBe(false);
    expect(A.ep.reauthenticateFrom(old.id, '198.51.100.10', sim.now)).toBe(false);
  });

  it('our address list changes: each side tells its MOBIKE peer in an INFORMATIONAL (RFC 4555 3.6), only when it changed, capped at 8', () => {
    const { sim, A, B } = setup();
    // The initiator gains a second uplink: the responder hears of it.
    A.ep.setLocalAddresses(['192.0.2.10', '198.51.100.10'], sim.now);
    expect(sim.runUntil(() => B.logs.some((l) => l.includes("peer's additional addresses: 198.51.100.10")), { maxTime: 10_000 }).ok).toBe(true);
    expect(A.logs.some((l) => l.includes('sending address list update (RFC 4555 3.6): additional addresses 198.51.100.10'))).toBe(true);
    const bId = only(B.ep.listSas()).sa.id;
    expect(peerAdditionalAddresses(B.ep.ikeSa(bId)!)).toEqual(['198.51.100.10']);
    // The same list again (in another order): nothing is sent.
    const count = () => A.logs.filter((l) => l.includes('sending address list update')).length;
    A.ep.setLocalAddresses(['198.51.100.10', '192.0.2.10'], sim.now);
    sim.runUntil(() => false, { maxTime: 2000 });
    expect(count()).toBe(1);
    // The uplink goes: NO_ADDITIONAL_ADDRESSES empties the responder's list.
    A.ep.setLocalAddresses(['192.0.2.10'], sim.now);
    expect(sim.runUntil(() => B.logs.some((l) => l.includes('peer has no additional addresses')), { maxTime: 10_000 }).ok).toBe(true);
    expect(peerAdditionalAddresses(B.ep.ikeSa(bId)!)).toEqual([]);
    // The responder's list changes: it tells the initiator (both roles send updates, as strongSwan).
    B.ep.setLocalAddresses(['203.0.113.2', ...Array.from({ length: 12 }, (_, i) => `203.0.113.${10 + i}`)], sim.now);
    const aSa = A.ep.ikeSa(only(A.ep.listSas()).sa.id)!;
    expect(sim.runUntil(() => peerAdditionalAddresses(aSa).length > 0, { maxTime: 10_000 }).ok).toBe(true);
    expect(peerAdditionalAddresses(aSa)).toEqual(Array.from({ length: 8 }, (_, i) => `203.0.113.${10 + i}`));
    expect(A.ep.listSas()).toHaveLength(1);
    expect(B.ep.listSas()).toHaveLength(1);
  });

  it('mobike = no: a changed address list is not announced', () => {
    const { sim, A, B } = setup({ mobikeA: false });
    A.ep.setLocalAddresses(['192.0.2.10', '198.51.100.10'], sim.now);
    sim.runUntil(() => false, { maxTime: 3000 });
    expect(A.logs.some((l) => l.includes('sending address list update'))).toBe(false);
    expect(B.logs.some((l) => l.includes('additional addresses'))).toBe(false);
  });

  it('mobike = no on either side: no MOBIKE_SUPPORTED exchange, no update possible', () => {
    for (const o of [{ mobikeA: false }, { mobikeB: false }]) {
      const { sim, A } = setup(o);
      expect(A.ep.mobikeUpdate(only(A.ep.listSas()).sa.id, '198.51.100.10', sim.now)).toBe(false);
    }
  });
});

/**
 * Path probing (RFC 4555 3.5) when a path dies but every address stays (a Wi-Fi that keeps its address and carries
 * nothing): the initiator's retransmissions also go as copies over its other paths, and an answer over another
 * path moves the SA there with UPDATE_SA_ADDRESSES.
 */
describe('MOBIKE path probing: a dead path, addresses unchanged', () => {
  const downs = (h: Host) => h.events.filter((e) => e.type === 'ike-down');
  /** Everything from and to `address` vanishes, both ways; the address stays bound. */
  const silence = (net: SimNetwork, address: string) => net.dropIf((p) => p.from.address === address || p.to.address === address);

  it("a DPD unanswered on the first uplink: the probe copy from the second local address is answered and the SA moves there (same IKE SA, CHILD SAs follow)", () => {
    const { sim, A, B, net } = setup();
    const id = only(A.ep.listSas()).sa.id;
    // The driver knows both uplinks (announce-addresses.ts); the responder hears of the second.
    A.ep.setLocalAddresses(['192.0.2.10', '198.51.100.10'], sim.now);
    expect(sim.runUntil(() => B.logs.some((l) => l.includes("peer's additional addresses: 198.51.100.10")), { maxTime: 10_000 }).ok).toBe(true);
    const before = { a: spis(A), b: spis(B) };
    const rule = silence(net, '192.0.2.10');
    expect(A.ep.checkLiveness(id, sim.now)).toBe(true);
    expect(sim.runUntil(() => moves(B).length > 0 && moves(A).length > 0, { maxTime: 60_000 }).ok).toBe(true);
    expect(rule.dropped).toBeGreaterThan(0);
    // Retransmission 1 goes over the SA's path alone; from retransmission 2 the copies (PROBE_AFTER_RETRANSMITS).
    expect(A.logs.some((l) => /retransmit 1 of request \d+ unanswered/.test(l))).toBe(false);
    expect(A.logs.some((l) => /retransmit 2 of request \d+ unanswered on 192\.0\.2\.10\[4500\] - 203\.0\.113\.2\[4500\] so far: checking paths 198\.51\.100\.10\[4500\] - 203\.0\.113\.2\[4500\] \(RFC 4555 3\.5\)/.test(l))).toBe(true);
    expect(A.logs.some((l) => l.includes('liveness check answered'))).toBe(true);
    expect(A.logs.some((l) => /IKE_SA road\[\d+\] moved from 192\.0\.2\.10\[4500\]-203\.0\.113\.2\[4500\] to 198\.51\.100\.10\[4500\]-203\.0\.113\.2\[4500\]/.test(l))).toBe(true);
    expect(B.logs.some((l) => /IKE_SA gw\[\d+\] moved from 203\.0\.113\.2\[4500\]-192\.0\.2\.10\[4500\] to 203\.0\.113\.2\[4500\]-198\.51\.100\.10\[4500\]/.test(l))).toBe(true);
    // Same IKE SA and CHILD SPIs; the ESP endpoints the drivers install follow on both sides.
    expect({ a: spis(A), b: spis(B) }).toEqual(before);
    expect(only(A.ep.listSas()).sa.id).toBe(id);
    expect(moves(A).at(-1)?.children.map((c) => c.local.address)).toEqual(['198.51.100.10']);
    expect(moves(B).at(-1)?.children.map((c) => c.remote.address)).toEqual(['198.51.100.10']);
    expect([downs(A), downs(B)]).toEqual([[], []]);
    // The new path works while the old one stays dead: the next liveness check is answered at once (no retransmit).
    const answered = A.logs.filter((l) => l.includes('liveness check answered')).length;
    const retransmits = A.logs.filter((l) => l.startsWith('retransmit')).length;
    A.ep.checkLiveness(id, sim.now);
    expect(sim.runUntil(() => A.logs.filter((l) => l.includes('liveness check answered')).length > answered, { maxTime: 10_000 }).ok).toBe(true);
    expect(A.logs.filter((l) => l.startsWith('retransmit')).length).toBe(retransmits);
  });

  it("the peer's additional address is the working path: the probe copy to it is answered and the SA moves there", () => {
    const { sim, A, B, net } = setup({ bSecond: true });
    const id = only(A.ep.listSas()).sa.id;
    const before = { a: spis(A), b: spis(B) };
    silence(net, '203.0.113.2');
    A.ep.checkLiveness(id, sim.now);
    expect(sim.runUntil(() => moves(B).length > 0 && moves(A).length > 0, { maxTime: 60_000 }).ok).toBe(true);
    expect(A.logs.some((l) => l.includes('checking paths 192.0.2.10[4500] - 203.0.113.3[4500] (RFC 4555 3.5)'))).toBe(true);
    const atA = only(A.ep.listSas()).sa;
    const atB = only(B.ep.listSas()).sa;
    expect([atA.local.address, atA.remote.address]).toEqual(['192.0.2.10', '203.0.113.3']);
    expect([atB.local.address, atB.remote.address]).toEqual(['203.0.113.3', '192.0.2.10']);
    expect(moves(B).at(-1)?.children.map((c) => c.local.address)).toEqual(['203.0.113.3']);
    expect({ a: spis(A), b: spis(B) }).toEqual(before);
    expect([downs(A), downs(B)]).toEqual([[], []]);
  });

  it('without MOBIKE the SA is destroyed as before: no copies over other paths', () => {
    const { sim, A, B, net } = setup({ mobikeB: false });
    A.ep.setLocalAddresses(['192.0.2.10', '198.51.100.10'], sim.now);
    const other = net.dropIf((p) => p.from.address === '198.51.100.10');
    silence(net, '192.0.2.10');
    A.ep.checkLiveness(only(A.ep.listSas()).sa.id, sim.now);
    expect(sim.runUntil(() => downs(A).length > 0, { maxTime: 60_000 }).ok).toBe(true);
    expect(A.ep.listSas()).toHaveLength(0);
    expect(other.dropped).toBe(0);
    expect(A.logs.some((l) => l.includes('checking paths'))).toBe(false);
    expect(moves(B)).toHaveLength(0);
  });

  it('every path dead: the DPD gives up and the SA goes (the copies did not find a path)', () => {
    const { sim, A, net } = setup();
    A.ep.setLocalAddresses(['192.0.2.10', '198.51.100.10'], sim.now);
    sim.runUntil(() => false, { maxTime: 2000 });
    silence(net, '203.0.113.2');
    A.ep.checkLiveness(only(A.ep.listSas()).sa.id, sim.now);
    expect(sim.runUntil(() => downs(A).length > 0, { maxTime: 60_000 }).ok).toBe(true);
    // Retransmissions 2 and 3 (tries = 3) carried copies.
    expect(A.logs.filter((l) => l.includes('checking paths 198.51.100.10[4500] - 203.0.113.2[4500]'))).toHaveLength(2);
    expect(downs(A).map((e) => e.message)).toEqual(['peer 203.0.113.2 did not answer DPD (nor on 1 other path): giving up after 3 retransmits']);
  });

  it('the responder never probes (RFC 4555 3.5: only the initiator moves the SA): its unanswered DPD goes over its own path alone', () => {
    const { sim, A, B, net } = setup({ bSecond: true });
    A.ep.setLocalAddresses(['192.0.2.10', '198.51.100.10'], sim.now);
    expect(sim.runUntil(() => B.logs.some((l) => l.includes("peer's additional addresses: 198.51.100.10")), { maxTime: 10_000 }).ok).toBe(true);
    const copies = net.dropIf((p) => p.from.address !== '203.0.113.2' || p.to.address !== '192.0.2.10');
    silence(net, '192.0.2.10');
    B.ep.checkLiveness(only(B.ep.listSas()).sa.id, sim.now);
    expect(sim.runUntil(() => downs(B).length > 0, { maxTime: 60_000 }).ok).toBe(true);
    expect(B.logs.some((l) => l.includes('checking paths'))).toBe(false);
    expect(copies.dropped).toBe(0);
  });

  it('the copies are bounded: at most MAX_PROBE_PATHS (8) other paths, same address family only', () => {
    const { sim, A, B, net } = setup();
    const locals = ['192.0.2.10', ...Array.from({ length: 5 }, (_, i) => `192.0.2.${20 + i}`), '2001:db8::10'];
    for (const l of locals.slice(1)) A.up(l);
    A.ep.setLocalAddresses(locals);
    B.ep.setLocalAddresses(['203.0.113.2', '203.0.113.3', '203.0.113.4', '2001:db8:1::2'], sim.now);
    const aSa = A.ep.ikeSa(only(A.ep.listSas()).sa.id)!;
    expect(sim.runUntil(() => peerAdditionalAddresses(aSa).length === 3, { maxTime: 10_000 }).ok).toBe(true);
    const copies = new Set<string>();
    net.dropIf((p) => {
      if (p.from.address !== '192.0.2.10' || p.to.address !== '203.0.113.2') copies.add(`${p.from.address}-${p.to.address}`);
      return true;
    });
    A.ep.checkLiveness(aSa.id, sim.now);
    expect(sim.runUntil(() => downs(A).length > 0, { maxTime: 60_000 }).ok).toBe(true);
    // 6 IPv4 local x 3 IPv4 peer addresses = 17 other paths: 8 probed; the IPv6 addresses only pair with each other.
    expect(copies.size).toBe(8);
    expect([...copies].every((c) => !c.includes(':'))).toBe(true);
    expect(A.logs.find((l) => l.includes('checking paths'))?.match(/ - /g)).toHaveLength(9);
  });

  it('a response over a path nobody announced: without MOBIKE processed as before (RFC 7296 2.23), with MOBIKE processed and the SA stays; no update either way', () => {
    for (const mobikeB of [false, true]) {
      const { sim, A, B, net } = setup({ mobikeB });
      const id = only(A.ep.listSas()).sa.id;
      // The answer to the liveness check arrives from an address of the responder that nobody announced: taken off
      // the wire and handed to the initiator as from 203.0.113.9 (the port stays).
      let answer: { bytes: Uint8Array; to: { address: string; port: number } } | undefined;
      const rule = net.dropIf(
        (p) => {
          const ike = p.to.port === 4500 ? p.bytes.subarray(4) : p.bytes;
          if (p.from.address !== '203.0.113.2' || ike.length < 28 || ((ike[19] ?? 0) & 0x20) === 0) return false;
          answer = { bytes: ike.slice(), to: p.to };
          return true;
        },
        { limit: 1 },
      );
      A.ep.checkLiveness(id, sim.now);
      expect(sim.runUntil(() => answer !== undefined, { maxTime: 10_000 }).ok).toBe(true);
      rule.remove();
      A.ep.receive(answer!.bytes, answer!.to, { address: '203.0.113.9', port: 4500 }, sim.now);
      expect(sim.runUntil(() => A.logs.some((l) => l.includes('liveness check answered')), { maxTime: 10_000 }).ok).toBe(true);
      sim.runUntil(() => false, { maxTime: 3000 });
      expect(A.logs.some((l) => l.includes('UPDATE_SA_ADDRESSES'))).toBe(false);
      expect(moves(B)).toHaveLength(0);
      const atA = only(A.ep.listSas()).sa;
      expect(atA.local.address).toBe('192.0.2.10');
      if (mobikeB) {
        expect(atA.remote.address).toBe('203.0.113.2');
        expect(A.logs.some((l) => l.endsWith('response from 203.0.113.9[4500] to 192.0.2.10[4500], a path we do not probe: the SA stays on 192.0.2.10[4500] - 203.0.113.2[4500]'))).toBe(true);
      } else {
        // Unchanged without MOBIKE: NAT-T (encap = yes) follows the peer's address on an authentic message.
        expect(atA.remote.address).toBe('203.0.113.9');
        expect(A.logs.some((l) => l.includes('a path we do not probe'))).toBe(false);
      }
    }
  });

  /** A MOBIKE pair (B with a second address) whose IKE SA `who` rekeyed: the old and the new SA on each side. */
  function rekeyedPair(who: 'A' | 'B') {
    const t = setup({ bSecond: true });
    const { sim, A, B } = t;
    const oldA = A.ep.ikeSa(only(A.ep.listSas()).sa.id)!;
    const oldB = B.ep.ikeSa(only(B.ep.listSas()).sa.id)!;
    expect(who === 'A' ? A.ep.rekeyIke(oldA.id, sim.now) : B.ep.rekeyIke(oldB.id, sim.now)).toBe(true);
    expect(sim.runUntil(() => A.ep.listSas()[0]?.sa.id !== oldA.id && A.ep.listSas().length === 1 && B.ep.listSas().length === 1, { maxTime: 20_000 }).ok).toBe(true);
    return { ...t, oldA, oldB, newA: A.ep.ikeSa(only(A.ep.listSas()).sa.id)!, newB: B.ep.ikeSa(only(B.ep.listSas()).sa.id)! };
  }

  it('after an IKE rekey (inheritMobike): MOBIKE and the peer\'s addresses carry over, and a dead path is probed on the new SA', () => {
    const { sim, A, B, net, oldA, oldB, newA, newB } = rekeyedPair('A');
    // ike-rekey.ts successor() calls inheritMobike: no help from the test.
    expect([mobikeActive(newA), mobikeActive(newB)]).toEqual([true, true]);
    expect([oldB.id === newB.id, mobikeInitiator(newA), mobikeInitiator(newB)]).toEqual([false, true, false]);
    expect(peerAdditionalAddresses(newA)).toEqual(['203.0.113.3']);
    silence(net, '203.0.113.2');
    A.ep.checkLiveness(newA.id, sim.now);
    expect(sim.runUntil(() => moves(B).length > 0 && moves(A).length > 0, { maxTime: 60_000 }).ok).toBe(true);
    expect([newA.remote.address, newB.local.address]).toEqual(['203.0.113.3', '203.0.113.3']);
    expect(downs(A).map((e) => e.sa.id)).toEqual([oldA.id]);
  });

  it('after an IKE rekey started by the RESPONDER: the original initiator stays the MOBIKE initiator (RFC 4555 1.1) and moves the SA', () => {
    const { sim, A, B, net, newA, newB } = rekeyedPair('B');
    // RFC 7296 2.18: B started the rekey, so B is the new SA's (IKE header) initiator; MOBIKE's roles do not change.
    expect([newA.initiator, newB.initiator]).toEqual([false, true]);
    expect([mobikeInitiator(newA), mobikeInitiator(newB), mobikeActive(newA), mobikeActive(newB)]).toEqual([true, false, true, true]);
    silence(net, '203.0.113.2');
    A.ep.checkLiveness(newA.id, sim.now);
    expect(sim.runUntil(() => moves(B).length > 0 && moves(A).length > 0, { maxTime: 60_000 }).ok).toBe(true);
    expect([newA.remote.address, newB.local.address]).toEqual(['203.0.113.3', '203.0.113.3']);
    // B (MOBIKE responder) never sends an address update of its own.
    expect(B.logs.some((l) => l.includes('sending address update'))).toBe(false);
    expect(A.ep.mobikeUpdate(newA.id, '192.0.2.10', sim.now)).toBe(true);
    expect(B.ep.mobikeUpdate(newB.id, '203.0.113.2', sim.now)).toBe(false);
  });

  it("the responder's address list from its new address (charon roaming as responder): the initiator follows it (RFC 4555 3.6)", () => {
    const { sim, A, B } = setup({ bSecond: true });
    const atA = A.ep.ikeSa(only(A.ep.listSas()).sa.id)!;
    const atB = B.ep.ikeSa(only(B.ep.listSas()).sa.id)!;
    // B's first address stops being usable for it; it sends its list from the second one (as charon does after a
    // roam event: 'sending address list update using MOBIKE, implicitly requesting an address change').
    atB.local = { address: '203.0.113.3', port: atB.local.port };
    B.ep.setLocalAddresses(['203.0.113.3'], sim.now);
    expect(sim.runUntil(() => moves(A).length > 0, { maxTime: 10_000 }).ok).toBe(true);
    expect(atA.remote.address).toBe('203.0.113.3');
    expect(A.logs.some((l) => l.includes('peer sent its address list from 203.0.113.3[4500]') && l.includes('following its address change (RFC 4555 3.6)'))).toBe(true);
    // The CHILD SA's ESP endpoints follow (the event the driver installs from).
    expect(moves(A)[0]?.children.length).toBe(1);
    // A plain liveness check from B's other address (no list) moves nothing.
    const n = moves(A).length;
    atB.local = { address: '203.0.113.2', port: atB.local.port };
    B.ep.checkLiveness(atB.id, sim.now);
    sim.runUntil(() => false, { maxTime: 3_000 });
    expect(moves(A).length).toBe(n);
    expect(atA.remote.address).toBe('203.0.113.3');
  });

  it('the update chain (no copies: tries = 1) tries our other local address after the peer\'s addresses, before waiting', () => {
    const { sim, A, B, net } = setup({ tries: 1, bSecond: true });
    const id = only(A.ep.listSas()).sa.id;
    A.ep.setLocalAddresses(['192.0.2.10', '198.51.100.10'], sim.now);
    expect(sim.runUntil(() => B.logs.some((l) => l.includes("peer's additional addresses: 198.51.100.10")), { maxTime: 10_000 }).ok).toBe(true);
    silence(net, '192.0.2.10');
    A.ep.mobikeUpdate(id, '192.0.2.10', sim.now);
    expect(sim.runUntil(() => moves(B).length > 0, { maxTime: 60_000 }).ok).toBe(true);
    expect(A.logs.some((l) => l.includes('checking paths'))).toBe(false);
    expect(A.logs.some((l) => l.includes("address update from 192.0.2.10[4500] to 203.0.113.2[4500] unanswered: trying the peer's other address 203.0.113.3 (RFC 4555 3.5)"))).toBe(true);
    expect(A.logs.some((l) => l.includes('address update from 192.0.2.10[4500] to 203.0.113.3[4500] unanswered: trying the path 198.51.100.10[4500] - '))).toBe(true);
    const atA = only(A.ep.listSas()).sa;
    expect(atA.local.address).toBe('198.51.100.10');
    expect(only(B.ep.listSas()).sa.remote.address).toBe('198.51.100.10');
    expect(A.logs.some((l) => l.includes('waiting for another local address'))).toBe(false);
  });
});
