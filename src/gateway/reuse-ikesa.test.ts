/**
 * Simulator tests of issue 15's reuse_ikesa in the gateway core: further CHILD SAs of a connection with an IKE SA
 * are CREATE_CHILD_SA on it (RFC 7296 1.3.1) from `up`, start_action = start and trap ACQUIREs; packets that hit a
 * trap and cannot be handled are counted and logged once; remote_addrs DNS names go through the driver's resolver.
 */
import { describe, expect, it } from 'vitest';
import { child, connection, pskCredentials } from '../ike/config-builder.js';
import type { IkeEvent } from '../ike/events.js';
import type { ChildRef, GatewayEvent, GatewayResolver } from './gateway.js';
import { gatewayPair, packetId, udpPacket, type SimGateway } from './testing.js';

const credentials = pskCredentials([{ ids: ['moon.example', 'sun.example'], secret: 'reuse ikesa' }]);

/**
 * moon (192.0.2.1) and sun (192.0.2.2), one connection 'gw' with two children: 'a' (10.1.0.0/16 <-> 10.2.0.0/16)
 * and 'b' (10.1.0.0/16 <-> 10.3.0.0/16). sun also protects 10.3.0.0/16 unless `sunRefusesB`.
 */
function pair(o: { start?: string[]; trap?: string[]; reuse?: boolean; moonRemote?: string[]; resolver?: GatewayResolver; sunRefusesB?: boolean; moonCloseB?: 'none' | 'trap' | 'start' }) {
  const mk = (me: string, peer: string, mine: string, remote: string[], flip: boolean, refuseB = false, closeB: 'none' | 'trap' | 'start' = 'none') =>
    connection({
      name: 'gw', proposals: 'aes128gcm16-prfsha256-x25519', localAddrs: [mine], remoteAddrs: remote,
      local: { id: me }, remote: { id: peer },
      children: [
        child('a', { localTs: [flip ? '10.2.0.0/16' : '10.1.0.0/16'], remoteTs: [flip ? '10.1.0.0/16' : '10.2.0.0/16'], espProposals: 'aes128gcm16' }),
        child('b', { localTs: [flip ? (refuseB ? '10.9.0.0/16' : '10.3.0.0/16') : '10.1.0.0/16'], remoteTs: [flip ? '10.1.0.0/16' : '10.3.0.0/16'], espProposals: 'aes128gcm16', closeAction: closeB }),
      ],
    });
  const refs = (l: string[] | undefined): ChildRef[] => (l ?? []).map((c) => ({ conn: 'gw', child: c }));
  return gatewayPair(
    {
      address: '192.0.2.1',
      connections: [mk('moon.example', 'sun.example', '192.0.2.1', o.moonRemote ?? ['192.0.2.2'], false, false, o.moonCloseB)],
      startChildren: refs(o.start),
      trapChildren: refs(o.trap),
      options: { ...(o.reuse !== undefined ? { reuseIkeSa: o.reuse } : {}), ...(o.resolver ? { resolver: o.resolver } : {}) },
    },
    { address: '192.0.2.2', connections: [mk('sun.example', 'moon.example', '192.0.2.2', ['%any'], true, o.sunRefusesB)] },
    { credentials },
  );
}

const ofType = <T extends IkeEvent['type']>(s: SimGateway, t: T) => s.events.filter((e): e is Extract<GatewayEvent, { type: T }> => e.type === t);
const sas = (s: SimGateway) => s.gateway.endpoint.listSas();
const childNames = (s: SimGateway) => sas(s).flatMap((x) => x.children.map((c) => c.name)).sort();
/** IKE_SA_INIT requests sent: the first message of an IKE SA the side initiated. */
const ikeSaInits = (s: SimGateway) => s.events.filter((e) => e.type === 'ike-message' && e.dir === 'out' && e.data[18] === 34 && (e.data[19]! & 0x20) === 0).length;

describe('reuse_ikesa: further CHILD SAs over the IKE SA of the connection', () => {
  it('start + trap children of one connection: the first packet for the trapped subnet brings its CHILD SA up over the existing IKE SA', () => {
    const { sim, a, b } = pair({ start: ['a'], trap: ['b'] });
    a.gateway.start(sim.now);
    b.gateway.start(sim.now);
    expect(sim.runUntil(() => childNames(a).includes('a') && childNames(b).includes('a'), { maxTime: 10_000 }).ok).toBe(true);
    const ike = sas(a)[0]!.sa.id;
    a.host.inject([udpPacket('10.1.0.5', '10.3.0.7', 1), udpPacket('10.1.0.5', '10.3.0.7', 2)]);
    expect(a.gateway.queuedFor('gw', 'b')).toBe(2);
    expect(sim.runUntil(() => b.delivered.some((p) => packetId(p) === 2), { maxTime: 10_000 }).ok).toBe(true);
    // One IKE SA on each side, carrying both children; one IKE_SA_INIT in all.
    expect(sas(a)).toHaveLength(1);
    expect(sas(b)).toHaveLength(1);
    expect(sas(a)[0]!.sa.id).toBe(ike);
    expect(childNames(a)).toEqual(['a', 'b']);
    expect(childNames(b)).toEqual(['a', 'b']);
    expect(ikeSaInits(a)).toBe(1);
    expect(b.delivered.map(packetId)).toEqual([1, 2]);
    expect(a.gateway.counters.trapUnhandled).toBe(0);
    expect(a.logs.some((l) => /acquire 'gw' child 'b': reusing IKE_SA gw\[\d+\] \(CREATE_CHILD_SA\)/.test(l))).toBe(true);
    // The trapped CHILD SA carries the trap's reqid.
    const trap = a.gateway.trapPolicies().find((t) => t.child === 'b')!;
    const cb = sas(a)[0]!.children.find((c) => c.name === 'b')!;
    expect(a.gateway.childExtras(cb).reqId).toBe(trap.reqid);
  });

  it('`up` of a second child of an established connection is CREATE_CHILD_SA on its IKE SA (same id back)', () => {
    const { sim, a, b } = pair({ start: ['a'] });
    a.gateway.start(sim.now);
    b.gateway.start(sim.now);
    expect(sim.runUntil(() => childNames(a).length === 1 && childNames(b).length === 1, { maxTime: 10_000 }).ok).toBe(true);
    const ike = sas(a)[0]!.sa.id;
    expect(a.gateway.initiate('gw', sim.now, 'b')).toBe(ike);
    expect(sim.runUntil(() => childNames(a).length === 2 && childNames(b).length === 2, { maxTime: 10_000 }).ok).toBe(true);
    expect(sas(a)).toHaveLength(1);
    expect(sas(b)).toHaveLength(1);
    expect(ikeSaInits(a)).toBe(1);
  });

  it('reuse_ikesa = no: `up` of the second child starts a second IKE SA', () => {
    const { sim, a, b } = pair({ start: ['a'], reuse: false });
    a.gateway.start(sim.now);
    b.gateway.start(sim.now);
    expect(sim.runUntil(() => childNames(a).length === 1, { maxTime: 10_000 }).ok).toBe(true);
    const ike = sas(a)[0]!.sa.id;
    expect(a.gateway.initiate('gw', sim.now, 'b')).not.toBe(ike);
    expect(sim.runUntil(() => sas(a).length === 2 && childNames(a).length === 2 && childNames(b).length === 2, { maxTime: 10_000 }).ok).toBe(true);
    expect(ikeSaInits(a)).toBe(2);
  });

  it('reuse_ikesa changed at a reload applies to the next child', () => {
    const { sim, a, b } = pair({ start: ['a'] });
    a.gateway.start(sim.now);
    b.gateway.start(sim.now);
    expect(sim.runUntil(() => childNames(a).length === 1, { maxTime: 10_000 }).ok).toBe(true);
    a.gateway.setReuseIkeSa(false);
    expect(a.logs).toContain('cfg1 reuse_ikesa = no');
    expect(a.gateway.initiate('gw', sim.now, 'b')).not.toBe(sas(a)[0]!.sa.id);
    expect(sim.runUntil(() => sas(a).length === 2 && childNames(a).length === 2, { maxTime: 10_000 }).ok).toBe(true);
  });

  it('two start_action = start children: the second waits for the IKE SA being set up, then CREATE_CHILD_SA', () => {
    const { sim, a, b } = pair({ start: ['a', 'b'] });
    a.gateway.start(sim.now);
    b.gateway.start(sim.now);
    expect(sas(a)).toHaveLength(1);
    expect(a.logs.some((l) => /child 'b': queued on IKE_SA gw\[\d+\] \(CONNECTING\)/.test(l))).toBe(true);
    expect(sim.runUntil(() => childNames(a).length === 2 && childNames(b).length === 2, { maxTime: 10_000 }).ok).toBe(true);
    expect(sas(a)).toHaveLength(1);
    expect(sas(b)).toHaveLength(1);
    expect(ikeSaInits(a)).toBe(1);
  });

  it('a trapped child the peer refuses: its queued packets are dropped, counted and logged once; the next packet asks again', () => {
    const { sim, a, b } = pair({ start: ['a'], trap: ['b'], sunRefusesB: true });
    a.gateway.start(sim.now);
    b.gateway.start(sim.now);
    expect(sim.runUntil(() => childNames(a).length === 1, { maxTime: 10_000 }).ok).toBe(true);
    a.host.inject([udpPacket('10.1.0.5', '10.3.0.7', 1), udpPacket('10.1.0.5', '10.3.0.7', 2), udpPacket('10.1.0.5', '10.3.0.7', 3)]);
    expect(sim.runUntil(() => ofType(a, 'child-failed').length > 0, { maxTime: 10_000 }).ok).toBe(true);
    sim.runFor(100);
    expect(a.gateway.queuedFor('gw', 'b')).toBe(0);
    expect(a.gateway.counters.trapQueueDropped).toBe(3);
    expect(a.gateway.counters.trapUnhandled).toBe(3);
    const lines = a.logs.filter((l) => l.includes('that hit a trap'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/dropped 3 packet\(s\) that hit a trap: 'gw' child 'b' not established \(TS_UNACCEPTABLE/);
    // The IKE SA and child 'a' stay; a later packet starts a new CREATE_CHILD_SA (after the engine's acquire interval).
    expect(childNames(a)).toEqual(['a']);
    sim.runFor(1500);
    a.host.inject(udpPacket('10.1.0.5', '10.3.0.7', 4));
    expect(sim.runUntil(() => ofType(a, 'child-failed').length > 1, { maxTime: 10_000 }).ok).toBe(true);
    sim.runFor(100);
    // Within the rate limit: counted, not logged again.
    expect(a.gateway.counters.trapUnhandled).toBe(4);
    expect(a.logs.filter((l) => l.includes('that hit a trap'))).toHaveLength(1);
  });

  it('a trap whose connection cannot initiate (remote_addrs %any): counted and logged once, not silently lost', () => {
    const { sim, a } = pair({ trap: ['a'], moonRemote: ['%any'] });
    a.gateway.start(sim.now);
    for (let i = 1; i <= 5; i++) {
      a.host.inject(udpPacket('10.1.0.5', '10.2.0.7', i));
      sim.runFor(1100);
    }
    expect(sas(a)).toHaveLength(0);
    expect(a.gateway.counters.trapUnhandled).toBe(5);
    const lines = a.logs.filter((l) => l.includes('that hit a trap'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/cannot initiate 'gw': connection 'gw' has no concrete remote_addrs/);
    sim.runFor(10_000);
    a.host.inject(udpPacket('10.1.0.5', '10.2.0.7', 6));
    expect(a.logs.filter((l) => l.includes('that hit a trap'))[1]).toMatch(/\(4 more such since the last line\)/);
  });
});

describe('close_action of a CHILD SA the peer deleted', () => {
  it('close_action = start re-creates it over the same IKE SA; a CHILD SA deleted by the peer\'s rekey is no close', () => {
    const { sim, a, b } = pair({ start: ['a', 'b'], moonCloseB: 'start' });
    a.gateway.start(sim.now);
    b.gateway.start(sim.now);
    expect(sim.runUntil(() => childNames(a).length === 2 && childNames(b).length === 2, { maxTime: 10_000 }).ok).toBe(true);
    const ike = sas(a)[0]!.sa.id;
    const bOf = (s: SimGateway) => sas(s)[0]!.children.find((c) => c.name === 'b')!;
    // sun rekeys b: moon's old b is deleted by the peer once the new one is up; no second b appears.
    const before = bOf(b).id;
    b.gateway.command(sim.now, (e) => e.rekeyChild(before, sim.now));
    expect(sim.runUntil(() => bOf(b).id !== before && sas(b)[0]!.children.length === 2 && sas(a)[0]!.children.length === 2, { maxTime: 10_000 }).ok).toBe(true);
    sim.runFor(2000);
    expect(childNames(a)).toEqual(['a', 'b']);
    expect(a.logs.some((l) => l.includes('closed by peer'))).toBe(false);
    // sun deletes b: moon re-creates it with CREATE_CHILD_SA on the same IKE SA.
    const old = bOf(a).id;
    b.gateway.command(sim.now, (e) => e.terminateChild(bOf(b).id, sim.now));
    expect(sim.runUntil(() => a.logs.some((l) => l.includes('closed by peer: close_action = start')), { maxTime: 10_000 }).ok).toBe(true);
    expect(sim.runUntil(() => childNames(a).length === 2 && childNames(b).length === 2 && bOf(a).id !== old, { maxTime: 10_000 }).ok).toBe(true);
    expect(sas(a)).toHaveLength(1);
    expect(sas(a)[0]!.sa.id).toBe(ike);
    expect(ikeSaInits(a)).toBe(1);
  });

  it('close_action = trap installs a trap policy for it', () => {
    const { sim, a, b } = pair({ start: ['a', 'b'], moonCloseB: 'trap' });
    a.gateway.start(sim.now);
    b.gateway.start(sim.now);
    expect(sim.runUntil(() => childNames(a).length === 2 && childNames(b).length === 2, { maxTime: 10_000 }).ok).toBe(true);
    const bid = sas(b)[0]!.children.find((c) => c.name === 'b')!.id;
    b.gateway.command(sim.now, (e) => e.terminateChild(bid, sim.now));
    expect(sim.runUntil(() => childNames(a).length === 1, { maxTime: 10_000 }).ok).toBe(true);
    expect(a.gateway.trapPolicies().map((t) => t.child)).toEqual(['b']);
    // The next packet for b's subnet brings it back over the IKE SA.
    a.host.inject(udpPacket('10.1.0.5', '10.3.0.7', 9));
    expect(sim.runUntil(() => b.delivered.some((p) => packetId(p) === 9), { maxTime: 10_000 }).ok).toBe(true);
    expect(sas(a)).toHaveLength(1);
  });
});

describe('remote_addrs DNS names through the driver resolver', () => {
  const resolver = (table: Map<string, string>, asked: string[] = []): GatewayResolver => ({
    lookup: (n) => table.get(n),
    failure: (n) => (table.has(n) ? undefined : `getaddrinfo ENOTFOUND ${n}`),
    refresh: (n, o) => void asked.push(o?.force ? `${n} (forced)` : n),
  });

  it('%any plus a name: initiates to the address the name resolves to', () => {
    const table = new Map([['sun.example.net', '192.0.2.2']]);
    const { sim, a, b } = pair({ start: ['a'], moonRemote: ['%any', 'sun.example.net'], resolver: resolver(table) });
    a.gateway.start(sim.now);
    b.gateway.start(sim.now);
    expect(sim.runUntil(() => childNames(a).length === 1 && childNames(b).length === 1, { maxTime: 10_000 }).ok).toBe(true);
    expect(sas(a)[0]!.sa.remote.address).toBe('192.0.2.2');
    expect(a.logs.some((l) => l.includes("'gw': remote_addrs sun.example.net resolved to 192.0.2.2"))).toBe(true);
  });

  it('a name not resolved yet: start_action = start says why, and initiates once the driver reports an answer', () => {
    const table = new Map<string, string>();
    const asked: string[] = [];
    const { sim, a, b } = pair({ start: ['a'], moonRemote: ['sun.example.net'], resolver: resolver(table, asked) });
    a.gateway.start(sim.now);
    b.gateway.start(sim.now);
    expect(sas(a)).toHaveLength(0);
    expect(a.logs.some((l) => l.includes("cannot initiate 'gw': connection 'gw': remote_addrs name 'sun.example.net' not resolved: getaddrinfo ENOTFOUND sun.example.net"))).toBe(true);
    expect(asked).toContain('sun.example.net');
    // `up` says the same, as an error.
    expect(() => a.gateway.initiate('gw', sim.now, 'b')).toThrow(/remote_addrs name 'sun.example.net' not resolved/);
    table.set('sun.example.net', '192.0.2.2');
    a.gateway.namesResolved(sim.now);
    expect(sim.runUntil(() => childNames(a).length === 1 && childNames(b).length === 1, { maxTime: 10_000 }).ok).toBe(true);
    expect(sas(a)[0]!.sa.remote.address).toBe('192.0.2.2');
  });

  it('remoteFor (the restart hook for the IKE core): the name\'s current address, or the previous one', () => {
    const table = new Map([['sun.example.net', '192.0.2.2']]);
    const asked: string[] = [];
    const { a } = pair({ moonRemote: ['%any', 'sun.example.net'], resolver: resolver(table, asked) });
    const prev = { address: '192.0.2.2', port: 500 };
    expect(a.gateway.remoteFor('gw', prev)).toBe(prev);
    // A restart follows a peer that went silent: the cache's lifetime does not hold the refresh back.
    expect(asked).toEqual(['sun.example.net (forced)']);
    table.set('sun.example.net', '192.0.2.20');
    expect(a.gateway.remoteFor('gw', prev)).toEqual({ address: '192.0.2.20', port: 500 });
    expect(a.logs).toContain("cfg1 'gw': remote_addrs sun.example.net now resolves to 192.0.2.20 (was 192.0.2.2)");
    expect(a.gateway.remoteFor('nope', prev)).toBe(prev);
    const plain = pair({});
    expect(plain.a.gateway.remoteFor('gw', prev)).toBe(prev);
  });

  it('a trap of a connection with a remote_addrs name keeps the peer\'s resolved address out of the TUN routes', () => {
    const seen: (string | undefined)[] = [];
    const routes = { device: 'sim1', childUp: () => {}, childDown: () => {}, trapDown: () => {}, addVirtualIp: () => {}, trapUp: (_n: string, _l: unknown, _r: unknown, peer: string | undefined) => void seen.push(peer) };
    const { sim, a } = gatewayPair(
      {
        address: '192.0.2.1',
        connections: [connection({ name: 'gw', proposals: 'aes128gcm16-prfsha256-x25519', localAddrs: ['192.0.2.1'], remoteAddrs: ['%any', 'sun.example.net'], local: { id: 'moon.example' }, remote: { id: 'sun.example' }, children: [child('a', { localTs: ['10.1.0.0/16'], remoteTs: ['0.0.0.0/0'] })] })],
        trapChildren: [{ conn: 'gw', child: 'a' }],
        options: { resolver: resolver(new Map([['sun.example.net', '192.0.2.2']])), routes },
      },
      { address: '192.0.2.2', connections: [] },
      { credentials },
    );
    a.gateway.start(sim.now);
    expect(seen).toEqual(['192.0.2.2']);
  });

  it('without a resolver a name is a clear error, not a datagram to nowhere', () => {
    const { sim, a } = pair({ moonRemote: ['sun.example.net'] });
    expect(() => a.gateway.initiate('gw', sim.now, 'a')).toThrow("connection 'gw': remote_addrs name 'sun.example.net' cannot be resolved (no resolver)");
  });
});
