/**
 * Takeover in the simulator (issue 20): moon-a (active) and sun bring up an IKE SA with a CHILD SA and pass
 * traffic both ways while moon-a replicates into an in-memory store (store-model.ts, the Redis scripts'
 * semantics). moon-a dies; moon-b, with the same configuration and address, takes the lease, restores the SAs from
 * the store and carries on: sun keeps its IKE SA (same SPIs, no IKE_SA_INIT), traffic flows both ways, no
 * outbound sequence number is reused, and DPD, a CHILD rekey and an IKE rekey work on the new active.
 */
import { describe, expect, it } from 'vitest';
import { createProvider } from '../crypto/provider.js';
import { seededRandom } from '../crypto/random.js';
import { Gateway, type GatewayEvent } from '../gateway/gateway.js';
import { packetId, udpPacket } from '../gateway/testing.js';
import { child, connection, pskCredentials } from '../ike/config-builder.js';
import type { ChildConfig, IkeConnectionConfig } from '../ike/config.js';
import { SimNetwork, Simulation } from '../sim/index.js';
import { createMemoryTun, type TunHost } from '../tun/memory.js';
import { HaNode } from './node.js';
import { parseSecretsKey, SecretBox } from './seal.js';
import { acquireLease, applyBatch, emptyStore, type StoreState } from './store-model.js';

const crypto = createProvider();
const credentials = pskCredentials([{ ids: ['moon.example', 'sun.example'], secret: 'ha takeover' }]);
const box = new SecretBox(parseSecretsKey('11'.repeat(32)));

const conn = (me: string, peer: string, addr: string, remote: string, lts: string, rts: string, dpdDelayMs = 0): IkeConnectionConfig =>
  connection({
    name: 'gw', proposals: 'aes128gcm16-prfsha256-x25519', localAddrs: [addr], remoteAddrs: [remote], local: { id: me }, remote: { id: peer }, dpdDelayMs,
    children: [child('net', { localTs: [lts], remoteTs: [rts], espProposals: 'aes128gcm16' }) as ChildConfig],
  });

interface Side {
  readonly gateway: Gateway;
  readonly host: TunHost;
  readonly events: GatewayEvent[];
  readonly delivered: Uint8Array[];
  alive: boolean;
  bound: (() => void)[];
}

function world() {
  const network = new SimNetwork({ random: seededRandom(7), impairment: { delay: 5 } });
  const sim = new Simulation({ network });
  let n = 0;
  const side = (address: string, c: IkeConnectionConfig, start: boolean, hooks: { event?: (e: GatewayEvent, now: number) => void; flush?: (now: number) => void } = {}): Side => {
    n++;
    const { tun, host } = createMemoryTun({ name: `ha${n}`, mtu: 1400, delivery: 'sync', headroom: 64 });
    const s: Side = { gateway: undefined as unknown as Gateway, host, events: [], delivered: [], alive: true, bound: [] };
    host.onWrite((p) => s.delivered.push(...p));
    const gateway = new Gateway({
      config: { connections: [c], credentials, trapChildren: [], startChildren: start ? [{ conn: 'gw', child: 'net' }] : [] },
      // exportKeys: the IKE SA keeps its raw SK_e/SK_a, which replication carries (src/ha/export.ts).
      settings: { epochOffsetMs: 1_800_000_000_000, exportKeys: true },
      crypto,
      random: seededRandom(100 + n),
      net: {
        sendEsp: (buf, off, len, local, remote) => void (s.alive && network.send(local, remote, buf.subarray(off, off + len), sim.now)),
        flushEsp: () => {},
        sendIke: (local, remote, data) => void (s.alive && network.send(local, remote, data, sim.now)),
      },
      log: () => {},
      tun,
    });
    Object.assign(s, { gateway });
    tun.onPackets((batch) => s.alive && gateway.tunPackets(batch, sim.now));
    s.bound.push(...[500, 4500].map((port) => network.bind({ address, port }, (d, now) => void (s.alive && gateway.receiveDatagram(d.bytes, d.to, d.from, now)))));
    sim.add({
      nextTimeout: () => (s.alive ? gateway.nextTimeout() : undefined),
      handleTimeout: (now) => s.alive && gateway.handleTimeout(now),
      flush: (now) => {
        if (!s.alive) return;
        gateway.processEsp(now);
        for (let e = gateway.pollEvent(); e; e = gateway.pollEvent()) {
          s.events.push(e);
          hooks.event?.(e, now);
        }
        hooks.flush?.(now);
      },
    });
    return s;
  };
  return { sim, network, side };
}

/** The driver's write loop, in miniature: one batch per flush into the store, with the node's token. */
function writer(node: HaNode, store: StoreState, name: string, token: () => number, up: () => boolean) {
  return (now: number): void => {
    node.collect(now);
    for (let b = node.replicator.takeBatch(); b; b = node.replicator.takeBatch()) {
      if (!up()) {
        node.replicator.fail();
        return;
      }
      const r = applyBatch(store, { node: name, token: token(), writes: b.map((w) => ({ key: w.key, rev: w.rev, value: w.value })) });
      if (r.ok) node.replicator.ack(now);
      else {
        node.replicator.fail();
        return;
      }
    }
  };
}

describe('HA takeover in the simulator', () => {
  it('the standby continues the IKE and CHILD SAs: same SPIs, traffic both ways, no sequence number reused, DPD and rekeys work', () => {
    const { sim, network, side } = world();
    const store = emptyStore();
    const seq = { every: 64, gap: 4096 };
    let nodeA: HaNode | undefined;
    const leaseA = acquireLease(store, 'moon-a', 3000, 0);
    const tokenA = leaseA.ok ? leaseA.lease.token : 0;
    const moonConf = conn('moon.example', 'sun.example', '192.0.2.1', '192.0.2.2', '10.1.0.0/16', '10.2.0.0/16');
    let writeA: (now: number) => void = () => {};
    const a = side('192.0.2.1', moonConf, false, { event: (e, now) => nodeA?.handleEvent(e, now), flush: (now) => writeA(now) });
    nodeA = new HaNode(a.gateway, { box, seq });
    nodeA.activate();
    writeA = writer(nodeA, store, 'moon-a', () => tokenA, () => true);
    const sun = side('192.0.2.2', conn('sun.example', 'moon.example', '192.0.2.2', '192.0.2.1', '10.2.0.0/16', '10.1.0.0/16', 2000), true);
    a.gateway.start(sim.now);
    sun.gateway.start(sim.now);
    const sunSa = () => sun.gateway.endpoint.listSas()[0];
    expect(sim.runUntil(() => sunSa()?.sa.state === 'ESTABLISHED' && a.gateway.endpoint.listSas()[0]?.sa.state === 'ESTABLISHED', { maxTime: 10_000 }).ok).toBe(true);
    const before = sunSa();
    expect(before).toBeDefined();
    const spis = { i: Buffer.from(before?.sa.spiI ?? []).toString('hex'), r: Buffer.from(before?.sa.spiR ?? []).toString('hex') };
    // The first ESP packet sun sends is kept, to be replayed after the takeover.
    let firstEsp: { bytes: Uint8Array; from: { address: string; port: number }; to: { address: string; port: number } } | undefined;
    network.dropIf((p) => {
      const isEsp = p.to.port === 4500 && p.bytes.length > 8 && (p.bytes[0] ?? 0) + (p.bytes[1] ?? 0) + (p.bytes[2] ?? 0) + (p.bytes[3] ?? 0) > 0;
      if (!firstEsp && isEsp && p.from.address === '192.0.2.2') firstEsp = { bytes: p.bytes.slice(), from: p.from, to: p.to };
      return false;
    });
    // Traffic both ways in bursts, so the marks move several times: 500 packets to sun, 1500 from it (beyond the
    // 1024-packet replay window).
    let id = 0;
    for (let burst = 0; burst < 30; burst++) {
      if (burst < 10) a.host.inject(Array.from({ length: 50 }, () => udpPacket('10.1.0.5', '10.2.0.7', ++id)));
      sun.host.inject(Array.from({ length: 50 }, () => udpPacket('10.2.0.7', '10.1.0.5', ++id)));
      sim.runFor(50);
    }
    expect(sun.delivered.length).toBe(500);
    expect(a.delivered.length).toBe(1500);
    const aChild = a.gateway.endpoint.listSas()[0]?.children[0];
    const aOut = a.gateway.engine.getSa(aChild?.spiOut ?? 0, 'out');
    const lastSentByA = aOut?.seqLo ?? 0;
    expect(lastSentByA).toBe(500);
    expect([...store.data.keys()].sort()).toEqual([`ike/${spis.i}-${spis.r}`, `seq/${(aChild?.spiIn ?? 0).toString(16).padStart(8, '0')}/in`, `seq/${(aChild?.spiOut ?? 0).toString(16).padStart(8, '0')}/out`].sort());
    // The keys are not in the store in the clear.
    const rec = store.data.get(`ike/${spis.i}-${spis.r}`) ?? '';
    expect(rec).not.toContain(Buffer.from(a.gateway.endpoint.ikeSa(a.gateway.endpoint.listSas()[0]?.sa.id ?? 0)?.keys?.SK_d ?? []).toString('hex'));

    const initsBefore = network.captured({ to: { address: '192.0.2.1', port: 500 } }).length;
    // moon-a dies (kill -9): it sends nothing more, its sockets are gone.
    a.alive = false;
    for (const u of a.bound) u();
    sim.runFor(3500);
    // moon-b takes the lease (expired) and the SAs.
    const leaseB = acquireLease(store, 'moon-b', 3000, 3500);
    expect(leaseB.ok).toBe(true);
    const tokenB = leaseB.ok ? leaseB.lease.token : 0;
    let nodeB: HaNode | undefined;
    let writeB: (now: number) => void = () => {};
    const b = side('192.0.2.1', moonConf, false, { event: (e, now) => nodeB?.handleEvent(e, now), flush: (now) => writeB(now) });
    nodeB = new HaNode(b.gateway, { box, seq });
    writeB = writer(nodeB, store, 'moon-b', () => tokenB, () => true);
    const report = nodeB.takeover(new Map(store.data), sim.now);
    expect(report).toMatchObject({ ikeSas: 1, childSas: 1, failed: [] });
    const bSa = b.gateway.endpoint.listSas()[0];
    expect(bSa?.sa.state).toBe('ESTABLISHED');
    expect(Buffer.from(bSa?.sa.spiI ?? []).toString('hex')).toBe(spis.i);
    const bChild = bSa?.children[0];
    expect(bChild?.spiIn).toBe(aChild?.spiIn);
    const bOut = b.gateway.engine.getSa(bChild?.spiOut ?? 0, 'out');
    // The next number moon-b sends is past everything moon-a sent (mark + gap).
    expect(bOut?.seqLo ?? 0).toBeGreaterThan(lastSentByA);
    expect(report.seq.find((s) => s.dir === 'out')?.to?.lo).toBe((bOut?.seqLo ?? 0));

    // RFC 4303 3.4.3: the inbound window restarted at sun's replicated mark, so sun's first packet, replayed before any
    // new packet arrives, is refused as a replay rather than delivered again.
    expect(firstEsp).toBeDefined();
    const replayDrops = b.gateway.engine.dropCounts().replay ?? 0;
    if (firstEsp) b.gateway.receiveDatagram(firstEsp.bytes, firstEsp.to, firstEsp.from, sim.now);
    b.gateway.processEsp(sim.now);
    expect(b.delivered.length).toBe(0);
    expect(b.gateway.engine.dropCounts().replay ?? 0).toBe(replayDrops + 1);
    expect(report.seq.find((s) => s.dir === 'in')?.to?.lo ?? 0).toBeGreaterThan(1024);

    // Traffic resumes both ways through moon-b.
    b.host.inject(Array.from({ length: 20 }, () => udpPacket('10.1.0.5', '10.2.0.7', ++id)));
    sun.host.inject(Array.from({ length: 20 }, () => udpPacket('10.2.0.7', '10.1.0.5', ++id)));
    sim.runFor(100);
    expect(sun.delivered.length).toBe(520);
    expect(b.delivered.length).toBe(20);
    expect(packetId(sun.delivered[519] ?? new Uint8Array(32))).toBe(id - 20);
    // sun kept its IKE SA: same SA, no second IKE_SA_INIT, never went down.
    expect(sun.events.filter((e) => e.type === 'ike-up')).toHaveLength(1);
    expect(sun.events.filter((e) => e.type === 'ike-down')).toHaveLength(0);
    expect(network.captured({ to: { address: '192.0.2.1', port: 500 } }).length).toBe(initsBefore);

    // IKE continues with the replicated message IDs: a liveness check each way, then a CHILD rekey and an IKE
    // rekey initiated by the new active.
    expect(sun.gateway.command(sim.now, (e) => e.checkLiveness(before?.sa.id ?? 0, sim.now))).toBe(true);
    expect(b.gateway.command(sim.now, (e) => e.checkLiveness(bSa?.sa.id ?? 0, sim.now))).toBe(true);
    const sunIke = sun.gateway.endpoint.ikeSa(before?.sa.id ?? 0);
    const bIke = b.gateway.endpoint.ikeSa(bSa?.sa.id ?? 0);
    expect(sunIke?.pending !== undefined && bIke?.pending !== undefined).toBe(true);
    // Both are answered (sun's after its own DPD that went unanswered while no node was active, at that one's next
    // retransmission): the message IDs each side expects are the ones the other uses.
    expect(sim.runUntil(() => !sunIke?.pending && !bIke?.pending && sunIke?.queue.length === 0 && bIke?.queue.length === 0, { maxTime: 10_000 }).ok).toBe(true);
    expect(sun.events.filter((e) => e.type === 'ike-down')).toHaveLength(0);
    expect(b.gateway.command(sim.now, (e) => e.rekeyChild(bChild?.id ?? 0, sim.now))).toBe(true);
    expect(sim.runUntil(() => (sun.gateway.endpoint.listSas()[0]?.children[0]?.spiIn ?? 0) !== bChild?.spiOut && sun.gateway.endpoint.listSas()[0]?.children.length === 1, { maxTime: 5000 }).ok).toBe(true);
    expect(b.gateway.command(sim.now, (e) => e.rekeyIke(bSa?.sa.id ?? 0, sim.now))).toBe(true);
    expect(sim.runUntil(() => sun.events.some((e) => e.type === 'ike-rekeyed'), { maxTime: 5000 }).ok).toBe(true);
    sim.runFor(500);
    b.host.inject([udpPacket('10.1.0.5', '10.2.0.7', ++id)]);
    sim.runFor(100);
    expect(packetId(sun.delivered[sun.delivered.length - 1] ?? new Uint8Array(32))).toBe(id);
    // The store follows the new active: the rekeyed IKE SA's record replaced the old one, under moon-b's token.
    const ikeKeys = [...store.data.keys()].filter((k) => k.startsWith('ike/'));
    expect(ikeKeys).toHaveLength(1);
    expect(ikeKeys[0]).not.toBe(`ike/${spis.i}-${spis.r}`);
    expect(store.versions.get(ikeKeys[0] ?? '')?.token).toBe(tokenB);
  });

  it("answers a request the old active had answered whose response was lost, from the replicated last response (RFC 7296 2.1)", () => {
    const { sim, network, side } = world();
    const store = emptyStore();
    const seq = { every: 64, gap: 4096 };
    const leaseA = acquireLease(store, 'moon-a', 3000, 0);
    const tokenA = leaseA.ok ? leaseA.lease.token : 0;
    const moonConf = conn('moon.example', 'sun.example', '192.0.2.1', '192.0.2.2', '10.1.0.0/16', '10.2.0.0/16');
    let nodeA: HaNode | undefined;
    let writeA: (now: number) => void = () => {};
    const a = side('192.0.2.1', moonConf, false, { event: (e, now) => nodeA?.handleEvent(e, now), flush: (now) => writeA(now) });
    nodeA = new HaNode(a.gateway, { box, seq });
    nodeA.activate();
    writeA = writer(nodeA, store, 'moon-a', () => tokenA, () => true);
    const sun = side('192.0.2.2', conn('sun.example', 'moon.example', '192.0.2.2', '192.0.2.1', '10.2.0.0/16', '10.1.0.0/16'), true);
    a.gateway.start(sim.now);
    sun.gateway.start(sim.now);
    expect(sim.runUntil(() => sun.gateway.endpoint.listSas()[0]?.sa.state === 'ESTABLISHED' && a.gateway.endpoint.listSas()[0]?.sa.state === 'ESTABLISHED', { maxTime: 10_000 }).ok).toBe(true);
    sim.runFor(100);
    // sun sends a liveness check; moon-a answers, the answer is lost; moon-a has replicated its state by then.
    const lost = network.dropIf((p) => p.from.address === '192.0.2.1' && p.to.address === '192.0.2.2' && p.bytes.length > 4 && p.bytes[0] === 0 && p.bytes[1] === 0 && p.bytes[2] === 0 && p.bytes[3] === 0, { limit: 1 });
    const sunId = sun.gateway.endpoint.listSas()[0]?.sa.id ?? 0;
    expect(sun.gateway.command(sim.now, (e) => e.checkLiveness(sunId, sim.now))).toBe(true);
    sim.runFor(200);
    expect(lost.dropped).toBe(1);
    a.alive = false;
    for (const u of a.bound) u();
    const leaseB = acquireLease(store, 'moon-b', 3000, 5000);
    const tokenB = leaseB.ok ? leaseB.lease.token : 0;
    let nodeB: HaNode | undefined;
    let writeB: (now: number) => void = () => {};
    const b = side('192.0.2.1', moonConf, false, { event: (e, now) => nodeB?.handleEvent(e, now), flush: (now) => writeB(now) });
    nodeB = new HaNode(b.gateway, { box, seq });
    writeB = writer(nodeB, store, 'moon-b', () => tokenB, () => true);
    expect(nodeB.takeover(new Map(store.data), sim.now).ikeSas).toBe(1);
    // sun's retransmission reaches moon-b, which resends the response moon-a had sent: the check completes.
    const sunIke = sun.gateway.endpoint.ikeSa(sunId);
    expect(sim.runUntil(() => sunIke?.pending === undefined, { maxTime: 15_000 }).ok).toBe(true);
    expect(sun.events.filter((e) => e.type === 'ike-down')).toHaveLength(0);
  });

  it('a CHILD rekey of ours under way when the active died: its message ID goes to a liveness check and the rekey is redone', () => {
    const { sim, network, side } = world();
    const store = emptyStore();
    const seq = { every: 64, gap: 4096 };
    const leaseA = acquireLease(store, 'moon-a', 3000, 0);
    const tokenA = leaseA.ok ? leaseA.lease.token : 0;
    const moonConf = conn('moon.example', 'sun.example', '192.0.2.1', '192.0.2.2', '10.1.0.0/16', '10.2.0.0/16');
    let nodeA: HaNode | undefined;
    let writeA: (now: number) => void = () => {};
    const a = side('192.0.2.1', moonConf, false, { event: (e, now) => nodeA?.handleEvent(e, now), flush: (now) => writeA(now) });
    nodeA = new HaNode(a.gateway, { box, seq });
    nodeA.activate();
    writeA = writer(nodeA, store, 'moon-a', () => tokenA, () => true);
    const sun = side('192.0.2.2', conn('sun.example', 'moon.example', '192.0.2.2', '192.0.2.1', '10.2.0.0/16', '10.1.0.0/16'), true);
    a.gateway.start(sim.now);
    sun.gateway.start(sim.now);
    expect(sim.runUntil(() => sun.gateway.endpoint.listSas()[0]?.sa.state === 'ESTABLISHED' && a.gateway.endpoint.listSas()[0]?.sa.state === 'ESTABLISHED', { maxTime: 10_000 }).ok).toBe(true);
    sim.runFor(100);
    const first = a.gateway.endpoint.listSas()[0]?.children[0];
    // moon-a's CHILD SA reaches its rekey time: the rekey starts (its deadline consumed), the request never reaches
    // sun, and moon-a dies with the rekey under way.
    network.dropIf((p) => p.from.address === '192.0.2.1', { limit: 1 });
    const aIke = a.gateway.endpoint.ikeSa(a.gateway.endpoint.listSas()[0]?.sa.id ?? 0);
    const aChild = aIke?.children[0];
    expect(aIke && aChild).toBeTruthy();
    if (aIke && aChild) {
      aChild.rekeyAt = sim.now + 10;
      a.gateway.endpoint.later(aIke, sim.now + 10, () => {});
    }
    sim.runFor(200);
    expect(aChild?.state).toBe('REKEYING');
    expect(aChild?.rekeyAt).toBeUndefined();
    a.alive = false;
    for (const u of a.bound) u();
    const leaseB = acquireLease(store, 'moon-b', 3000, 5000);
    const tokenB = leaseB.ok ? leaseB.lease.token : 0;
    let nodeB: HaNode | undefined;
    let writeB: (now: number) => void = () => {};
    const b = side('192.0.2.1', moonConf, false, { event: (e, now) => nodeB?.handleEvent(e, now), flush: (now) => writeB(now) });
    nodeB = new HaNode(b.gateway, { box, seq });
    writeB = writer(nodeB, store, 'moon-b', () => tokenB, () => true);
    expect(nodeB.takeover(new Map(store.data), sim.now).childSas).toBe(1);
    // moon-b spends the lost request's message ID on a liveness check (sun never saw the rekey), then rekeys the
    // CHILD SA anew within a few seconds: the replacement is installed on both sides, the first one is gone, the
    // IKE SA never went down.
    expect(sim.runUntil(() => {
      const mine = b.gateway.endpoint.listSas()[0]?.children ?? [];
      const theirs = sun.gateway.endpoint.listSas()[0]?.children ?? [];
      return mine.length === 1 && mine[0]?.spiIn !== first?.spiIn && theirs.some((c) => c.spiOut === mine[0]?.spiIn) && !theirs.some((c) => c.spiOut === first?.spiIn);
    }, { maxTime: 10_000 }).ok).toBe(true);
    const bIke = b.gateway.endpoint.ikeSa(b.gateway.endpoint.listSas()[0]?.sa.id ?? 0);
    const sunIke = sun.gateway.endpoint.ikeSa(sun.gateway.endpoint.listSas()[0]?.sa.id ?? 0);
    expect(bIke?.nextRequestId).toBe(sunIke?.expectedRequestId);
    expect(sun.events.filter((e) => e.type === 'ike-down')).toHaveLength(0);
  });

  it('an INFORMATIONAL of ours in flight when the active died is sent again as it was: message IDs in step', () => {
    const { sim, network, side } = world();
    const store = emptyStore();
    const seq = { every: 64, gap: 4096 };
    const leaseA = acquireLease(store, 'moon-a', 3000, 0);
    const tokenA = leaseA.ok ? leaseA.lease.token : 0;
    const moonConf = conn('moon.example', 'sun.example', '192.0.2.1', '192.0.2.2', '10.1.0.0/16', '10.2.0.0/16');
    let nodeA: HaNode | undefined;
    let writeA: (now: number) => void = () => {};
    const a = side('192.0.2.1', moonConf, false, { event: (e, now) => nodeA?.handleEvent(e, now), flush: (now) => writeA(now) });
    nodeA = new HaNode(a.gateway, { box, seq });
    nodeA.activate();
    writeA = writer(nodeA, store, 'moon-a', () => tokenA, () => true);
    const sun = side('192.0.2.2', conn('sun.example', 'moon.example', '192.0.2.2', '192.0.2.1', '10.2.0.0/16', '10.1.0.0/16'), true);
    a.gateway.start(sim.now);
    sun.gateway.start(sim.now);
    expect(sim.runUntil(() => sun.gateway.endpoint.listSas()[0]?.sa.state === 'ESTABLISHED' && a.gateway.endpoint.listSas()[0]?.sa.state === 'ESTABLISHED', { maxTime: 10_000 }).ok).toBe(true);
    sim.runFor(100);
    // moon-a's liveness check is lost on its way to sun; moon-a dies waiting for the answer. (Had sun received it,
    // moon-b's next message ID would be right anyway; this is the case where it would not be.)
    network.dropIf((p) => p.from.address === '192.0.2.1' && p.to.port === 4500 && p.bytes.length > 4 && p.bytes[0] === 0 && p.bytes[1] === 0 && p.bytes[2] === 0 && p.bytes[3] === 0, { limit: 1 });
    const aId = a.gateway.endpoint.listSas()[0]?.sa.id ?? 0;
    expect(a.gateway.command(sim.now, (e) => e.checkLiveness(aId, sim.now))).toBe(true);
    sim.runFor(200);
    expect(a.gateway.endpoint.ikeSa(aId)?.pending).toBeDefined();
    a.alive = false;
    for (const u of a.bound) u();
    const leaseB = acquireLease(store, 'moon-b', 3000, 5000);
    const tokenB = leaseB.ok ? leaseB.lease.token : 0;
    let nodeB: HaNode | undefined;
    let writeB: (now: number) => void = () => {};
    const b = side('192.0.2.1', moonConf, false, { event: (e, now) => nodeB?.handleEvent(e, now), flush: (now) => writeB(now) });
    nodeB = new HaNode(b.gateway, { box, seq });
    writeB = writer(nodeB, store, 'moon-b', () => tokenB, () => true);
    expect(nodeB.takeover(new Map(store.data), sim.now).ikeSas).toBe(1);
    const bIke = b.gateway.endpoint.ikeSa(b.gateway.endpoint.listSas()[0]?.sa.id ?? 0);
    const sunIke = sun.gateway.endpoint.ikeSa(sun.gateway.endpoint.listSas()[0]?.sa.id ?? 0);
    // sun processes the resent request now; then a fresh exchange each way works.
    expect(sim.runUntil(() => bIke?.pending === undefined, { maxTime: 5000 }).ok).toBe(true);
    expect(bIke?.nextRequestId).toBe(sunIke?.expectedRequestId);
    expect(b.gateway.command(sim.now, (e) => e.checkLiveness(bIke?.id ?? 0, sim.now))).toBe(true);
    expect(sun.gateway.command(sim.now, (e) => e.checkLiveness(sunIke?.id ?? 0, sim.now))).toBe(true);
    expect(sim.runUntil(() => bIke?.pending === undefined && sunIke?.pending === undefined && bIke?.queue.length === 0 && sunIke?.queue.length === 0, { maxTime: 2000 }).ok).toBe(true);
    expect(sun.events.filter((e) => e.type === 'ike-down')).toHaveLength(0);
  });
});
