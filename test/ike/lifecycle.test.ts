/**
 * IKE SA lifecycle in virtual time: CREATE_CHILD_SA, CHILD and IKE rekeys started by either side, every
 * collision of RFC 7296 2.8.1/2.8.2/2.25, lifetimes and DPD. Each case asserts the exchanges on the wire and the
 * SAs left on both sides (one IKE SA, the expected CHILD SAs, SPIs paired).
 */
import { describe, expect, it } from 'vitest';
import { child, connection, pskCredentials, type ChildOptions, type ConnectionOptions } from '../../src/ike/config-builder.js';
import { makePair, captureSummary, type Side, type PairOptions, expectConsistent } from './pair.js';
import type { IkeEvent } from '../../src/ike/events.js';

const psk = pskCredentials([{ ids: ['moon.example', 'sun.example'], secret: 'lifecycle' }]);
const of = <T extends IkeEvent['type']>(s: Side, t: T) => s.events.filter((e): e is Extract<IkeEvent, { type: T }> => e.type === t);

function setup(o: { conn?: Partial<ConnectionOptions>; child?: ChildOptions; respConn?: Partial<ConnectionOptions>; respChild?: ChildOptions; pair?: PairOptions; extraChild?: boolean } = {}) {
  const mk = (local: string, remote: string, addr: string | undefined, lts: string, rts: string, co: Partial<ConnectionOptions> | undefined, ch: ChildOptions | undefined) => {
    const children = [child('net', { localTs: [lts], remoteTs: [rts], espProposals: 'aes128gcm16-x25519', ...ch })];
    if (o.extraChild) children.push(child('voice', { localTs: [lts.replace('/16', '/24')], remoteTs: [rts.replace('/16', '/24')], espProposals: 'aes256gcm16' }));
    return connection({ name: 'gw', proposals: 'aes128gcm16-prfsha256-x25519', remoteAddrs: addr ? [addr] : ['%any'], local: { id: local }, remote: { id: remote }, children, ...co });
  };
  return makePair(
    { connections: [mk('moon.example', 'sun.example', '192.0.2.2', '10.1.0.0/16', '10.2.0.0/16', o.conn, o.child)], credentials: psk },
    { connections: [mk('sun.example', 'moon.example', undefined, '10.2.0.0/16', '10.1.0.0/16', o.respConn ?? o.conn, o.respChild ?? o.child)], credentials: psk },
    { impairment: { delay: 5 }, ...o.pair },
  );
}

function up(o: Parameters<typeof setup>[0] = {}) {
  const p = setup(o);
  p.a.ep.initiate('gw', 0);
  expect(p.sim.runUntil(() => of(p.a, 'child-install').length > 0 && of(p.b, 'child-install').length > 0, { maxTime: 60_000 }).ok).toBe(true);
  return p;
}


const ikeId = (s: Side) => s.ep.listSas()[0]!.sa.id;
const childId = (s: Side, i = 0) => s.ep.listSas()[0]!.children[i]!.id;
/** Wire summary after the initial four IKE_SA_INIT/IKE_AUTH messages. */
const after = (net: Parameters<typeof captureSummary>[0]) => captureSummary(net).slice(4);

describe('CREATE_CHILD_SA', () => {
  it('adds a second CHILD SA: HDR, SK {SA, Ni, TSi, TSr} --> <-- HDR, SK {SA, Nr, TSi, TSr}', () => {
    const { sim, net, a, b } = up({ extraChild: true });
    expect(a.ep.createChild(ikeId(a), 'voice', sim.now)).toBe(true);
    sim.runUntil(() => of(b, 'child-install').length === 2 && of(a, 'child-install').length === 2, { maxTime: 60_000 });
    expect(after(net)).toEqual(['36q2', '36r2']);
    expectConsistent(a, b, 2);
    expect(of(a, 'child-install')[1]!.child.suite).toBe('AES_GCM_16-256');
  });

  for (const who of ['initiator', 'responder'] as const) {
    it(`rekeys a CHILD SA started by the ${who}, with PFS: N(REKEY_SA), SA, Ni, KEi, TSi, TSr; then Delete of the old`, () => {
      const { sim, net, a, b } = up();
      const [x, y] = who === 'initiator' ? [a, b] : [b, a];
      const oldIn = x.ep.listSas()[0]!.children[0]!.spiIn;
      x.ep.rekeyChild(childId(x), sim.now);
      sim.runUntil(() => of(a, 'child-remove').length === 1 && of(b, 'child-remove').length === 1, { maxTime: 60_000 });
      // The rekey from x, then x deletes the old SA (make-before-break).
      const mid = who === 'initiator' ? 2 : 0;
      expect(after(net)).toEqual([`36q${mid}`, `36r${mid}`, `37q${mid + 1}`, `37r${mid + 1}`]);
      expectConsistent(a, b, 1);
      const installs = of(x, 'child-install');
      expect(installs[1]!.replaces?.spiIn).toBe(oldIn);
      expect(installs[1]!.child.keGroup).toBe(31); // PFS with x25519 from 'aes128gcm16-x25519'
      expect(of(y, 'child-remove')[0]!.child.spiOut).toBe(oldIn);
    });

    it(`rekeys the IKE SA started by the ${who}: CHILD SAs move, the old IKE SA is deleted`, () => {
      const { sim, net, a, b } = up();
      const [x] = who === 'initiator' ? [a, b] : [b, a];
      const before = a.ep.listSas()[0]!;
      x.ep.rekeyIke(ikeId(x), sim.now);
      sim.runUntil(() => of(a, 'ike-down').length === 1 && of(b, 'ike-down').length === 1, { maxTime: 60_000 });
      const mid = who === 'initiator' ? 2 : 0;
      expect(after(net)).toEqual([`36q${mid}`, `36r${mid}`, `37q${mid + 1}`, `37r${mid + 1}`]);
      expect(of(a, 'ike-down')[0]!.reason).toBe('rekeyed');
      expect(of(b, 'ike-down')[0]!.reason).toBe('rekeyed');
      expect(of(a, 'child-remove')).toHaveLength(0);
      expectConsistent(a, b, 1);
      const now = a.ep.listSas()[0]!;
      expect(Buffer.compare(now.sa.spiI, before.sa.spiI)).not.toBe(0);
      expect(now.children[0]!.spiIn).toBe(before.children[0]!.spiIn);
      // The rekey initiator is the original initiator of the new IKE SA (RFC 7296 2.18).
      expect(x.ep.listSas()[0]!.sa.initiator).toBe(true);
      // The new IKE SA works: a CHILD rekey on it succeeds with message IDs from 0.
      a.ep.rekeyChild(childId(a), sim.now);
      sim.runUntil(() => of(a, 'child-remove').length === 1 && of(b, 'child-remove').length === 1, { maxTime: 60_000 });
      expectConsistent(a, b, 1);
    });
  }

  it('retries a CHILD rekey with the PFS group the responder asks for (INVALID_KE_PAYLOAD)', () => {
    const { sim, net, a, b } = up({ child: { espProposals: 'aes128gcm16-ecp256-x25519' }, respChild: { espProposals: 'aes128gcm16-x25519' } });
    a.ep.rekeyChild(childId(a), sim.now);
    sim.runUntil(() => of(a, 'child-remove').length === 1 && of(b, 'child-remove').length === 1, { maxTime: 60_000 });
    expect(after(net)).toEqual(['36q2', '36r2', '36q3', '36r3', '37q4', '37r4']);
    expect(of(a, 'child-install')[1]!.child.keGroup).toBe(31);
    expectConsistent(a, b, 1);
  });
});

describe('collisions (RFC 7296 2.8.1, 2.8.2, 2.25)', () => {
  for (const seed of [1, 2, 3, 4]) {
    it(`simultaneous CHILD rekeys: the lowest nonce loses, one CHILD SA survives (seed ${seed})`, () => {
      const { sim, a, b } = up({ pair: { seed, impairment: { delay: 20 } } });
      a.ep.rekeyChild(childId(a), sim.now);
      b.ep.rekeyChild(childId(b), sim.now);
      sim.runFor(30_000);
      expectConsistent(a, b, 1);
      // Two replacements were created, then the redundant one and the old one were deleted on both sides.
      expect(of(a, 'child-install')).toHaveLength(3);
      expect(of(a, 'child-remove')).toHaveLength(2);
      expect(of(b, 'child-remove')).toHaveLength(2);
      expect(a.logs.some((l) => /rekey collision (won|lost)/.test(l))).toBe(true);
    });

    it(`simultaneous IKE rekeys: one new IKE SA survives with the CHILD SA (seed ${seed})`, () => {
      const { sim, a, b } = up({ pair: { seed, impairment: { delay: 20 } } });
      a.ep.rekeyIke(ikeId(a), sim.now);
      b.ep.rekeyIke(ikeId(b), sim.now);
      sim.runFor(30_000);
      expectConsistent(a, b, 1);
      expect(of(a, 'child-remove')).toHaveLength(0);
      expect(of(a, 'ike-down').map((e) => e.reason)).toEqual(['rekeyed', 'rekeyed']);
      expect(a.logs.some((l) => /IKE_SA rekey collision (won|lost)/.test(l))).toBe(true);
    });
  }

  it('CHILD rekey against a Delete of the same CHILD SA: nothing survives, both sides agree', () => {
    const { sim, a, b } = up({ pair: { impairment: { delay: 20 } } });
    a.ep.rekeyChild(childId(a), sim.now);
    b.ep.terminateChild(childId(b), sim.now);
    sim.runFor(30_000);
    expectConsistent(a, b, 0);
  });

  it('Delete against Delete of the same CHILD SA: answered without a Delete payload, both gone', () => {
    const { sim, a, b } = up({ pair: { impairment: { delay: 20 } } });
    a.ep.terminateChild(childId(a), sim.now);
    b.ep.terminateChild(childId(b), sim.now);
    sim.runFor(30_000);
    expectConsistent(a, b, 0);
    expect(of(a, 'child-remove')).toHaveLength(1);
    expect(of(b, 'child-remove')).toHaveLength(1);
  });

  it('Delete against Delete of the IKE SA: both sides close it once', () => {
    const { sim, a, b } = up({ pair: { impairment: { delay: 20 } } });
    a.ep.terminateIke(ikeId(a), sim.now);
    b.ep.terminateIke(ikeId(b), sim.now);
    sim.runFor(30_000);
    expect(a.ep.listSas()).toHaveLength(0);
    expect(b.ep.listSas()).toHaveLength(0);
    expect(of(a, 'ike-down')).toHaveLength(1);
    expect(of(b, 'ike-down')).toHaveLength(1);
  });

  it('IKE rekey against a CHILD rekey: TEMPORARY_FAILURE, retried, both done', () => {
    const { sim, a, b } = up({ pair: { impairment: { delay: 20 } } });
    const spiBefore = a.ep.listSas()[0]!.sa.spiI;
    a.ep.rekeyIke(ikeId(a), sim.now);
    b.ep.rekeyChild(childId(b), sim.now);
    sim.runFor(60_000);
    expectConsistent(a, b, 1);
    expect(Buffer.compare(a.ep.listSas()[0]!.sa.spiI, spiBefore)).not.toBe(0);
    expect(of(b, 'child-install').length).toBeGreaterThanOrEqual(2);
    expect([...a.logs, ...b.logs].some((l) => /TEMPORARY_FAILURE/.test(l))).toBe(true);
  });

  it('IKE rekey against a Delete of the IKE SA: the delete wins', () => {
    const { sim, a, b } = up({ pair: { impairment: { delay: 20 } } });
    a.ep.rekeyIke(ikeId(a), sim.now);
    b.ep.terminateIke(ikeId(b), sim.now);
    sim.runFor(60_000);
    expect(a.ep.listSas()).toHaveLength(0);
    expect(b.ep.listSas()).toHaveLength(0);
  });
});

describe('lifetimes', () => {
  it('rekeys CHILD SAs at rekey_time - rand_time and the IKE SA at its rekey_time', () => {
    const { sim, a, b } = up({ conn: { rekeyTimeMs: 4 * 3600_000, overTimeMs: 360_000, randTimeMs: 360_000 }, child: { rekeyTimeMs: 3600_000, lifeTimeMs: 3960_000, randTimeMs: 360_000 } });
    sim.runFor(5 * 3600_000);
    expectConsistent(a, b, 1);
    const rekeys = of(a, 'child-install').filter((e) => e.replaces).length + of(b, 'child-install').filter((e) => e.replaces).length;
    // Roughly one CHILD rekey per hour (started by whichever side's timer fires first), at least one IKE rekey.
    expect(rekeys / 2).toBeGreaterThanOrEqual(4);
    expect(rekeys / 2).toBeLessThanOrEqual(6);
    expect(of(a, 'ike-rekeyed').length).toBeGreaterThanOrEqual(1);
    expect(of(a, 'ike-down').every((e) => e.reason === 'rekeyed')).toBe(true);
  });

  it('a CHILD SA that cannot be rekeyed is deleted at life_time', () => {
    const { sim, net, a, b } = up({ child: { rekeyTimeMs: 0, lifeTimeMs: 600_000 } });
    void net;
    sim.runFor(700_000);
    expect(of(a, 'child-remove')).toHaveLength(1);
    expectConsistent(a, b, 0);
  });

  it('byte lifetimes from the ESP engine: soft rekeys, hard deletes', () => {
    const { sim, a, b } = up();
    const spi = a.ep.listSas()[0]!.children[0]!.spiIn;
    a.ep.espExpired(spi, 'soft', sim.now);
    sim.runUntil(() => of(a, 'child-remove').length === 1 && of(b, 'child-remove').length === 1, { maxTime: 60_000 });
    expectConsistent(a, b, 1);
    const spi2 = a.ep.listSas()[0]!.children[0]!.spiIn;
    a.ep.espExpired(spi2, 'hard', sim.now);
    sim.runUntil(() => of(a, 'child-remove').length === 2 && of(b, 'child-remove').length === 2, { maxTime: 60_000 });
    expectConsistent(a, b, 0);
  });
});

describe('DPD (RFC 7296 2.4)', () => {
  it('sends an empty INFORMATIONAL after dpd_delay of silence, and the peer answers', () => {
    const { sim, net, a, b } = up({ conn: { dpdDelayMs: 30_000 } });
    sim.runFor(31_000);
    // Whichever side's dpd_delay expires first sends HDR, SK {} and the other answers HDR, SK {}; the answer
    // counts as traffic for the other side, so one liveness exchange covers both.
    expect(after(net)).toEqual(['37q0', '37r0']);
    expect(b.logs.some((l) => l.includes('sending DPD request'))).toBe(true);
    expectConsistent(a, b, 1);
  });

  for (const action of ['clear', 'trap', 'restart'] as const) {
    it(`a dead peer: the SA is closed and dpd_action = ${action} runs`, () => {
      const { sim, net, a, b } = up({ conn: { dpdDelayMs: 30_000 }, child: { dpdAction: action } });
      // The peer dies: nothing it sends arrives any more, and it never answers again.
      net.dropIf((p) => p.from.address === '192.0.2.2');
      sim.runUntil(() => of(a, 'ike-down').length > 0, { maxTime: 400_000 });
      expect(of(a, 'ike-down')[0]!.reason).toBe('timeout');
      expect(of(a, 'child-remove')).toHaveLength(1);
      if (action === 'trap') expect(of(a, 'trap')).toEqual([{ type: 'trap', connection: 'gw', child: 'net' }]);
      if (action === 'restart') {
        // The peer comes back: the restarted IKE SA comes up again with its CHILD SA.
        net.dropIf(() => false);
        (net as unknown as { rules?: unknown }).rules;
        expect(a.logs.some((l) => /restarting CHILD_SA net of gw \(dpd_action\)/.test(l))).toBe(true);
      }
      void b;
    });
  }
});

describe('reauthentication', () => {
  for (const mbb of [true, false]) {
    it(`${mbb ? 'make-before-break' : 'break-before-make'}: a new IKE SA with the same CHILD SAs replaces the old`, () => {
      const { sim, a, b } = up({ extraChild: true, pair: { settings: { makeBeforeBreak: mbb } } });
      a.ep.createChild(ikeId(a), 'voice', sim.now);
      // Reauthenticate while the second CHILD SA is still being created: it must not be lost.
      sim.runUntil(() => of(b, 'child-install').length === 2, { maxTime: 60_000 });
      const old = a.ep.listSas()[0]!.sa;
      a.ep.rekeyIke(old.id, sim.now, { reauth: true });
      sim.runFor(60_000);
      expectConsistent(a, b, 2);
      expect(a.ep.listSas()[0]!.sa.id).not.toBe(old.id);
      // Make-before-break: the new CHILD SAs were installed before the old ones were removed.
      const events = a.events.filter((e) => e.type === 'child-install' || e.type === 'child-remove').map((e) => e.type).slice(2);
      if (mbb) expect(events).toEqual(['child-install', 'child-install', 'child-remove', 'child-remove']);
      else expect(events).toEqual(['child-remove', 'child-remove', 'child-install', 'child-install']);
      // The peer treats the old SA's deletion as a replacement, not as a close (no close_action).
      expect(b.logs.some((l) => /restarting/.test(l))).toBe(false);
    });
  }
});
