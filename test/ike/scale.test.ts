/**
 * The IKE core at 10,000 established IKE+CHILD SAs (issue 17; `npm run test:scale` runs 100,000): per-datagram and
 * per-tick work for one SA reads no other SA (every lookup by map, timers in a heap), counted on the held SAs'
 * fields, not timed. Set-up and shortcut (a fake, cheap key exchange): test/ike/scale.ts.
 */
import { describe, expect, it } from 'vitest';
import type { IkeEndpoint } from '../../src/ike/endpoint.js';
import type { IkeSa } from '../../src/ike/ike-sa.js';
import { RESPONDER, ScaleSim, watchHeld } from './scale.js';

const N = Number(process.env.CYGNET_SCALE_SAS ?? 10_000);
const KEPT = 64;

describe(`IKE responder holding ${N.toLocaleString('en-US')} SAs`, () => {
  it('established them all, and a setup, a liveness check, a delete, a timer tick and stray datagrams read no other SA', { timeout: 900_000 }, () => {
    expect(Number.isInteger(N) && N > KEPT).toBe(true);
    const sim = new ScaleSim();
    expect(sim.establish(N - KEPT).up).toBe(N - KEPT);
    const kept = sim.establish(KEPT, true);
    expect(kept.up).toBe(KEPT);
    const r = sim.responder;
    expect(r.internalErrors).toBe(0);
    const sas = sim.responderSas();
    expect(sas).toHaveLength(N);
    expect(sas.every((sa) => sa.state === 'ESTABLISHED' && sa.children.length === 1)).toBe(true);
    const byPeer = new Map<string, IkeSa>(sas.map((sa) => [sa.remote.address, sa]));
    const watch = watchHeld(sas);

    // A timer tick with nothing due: the timer heap, no walk over SAs.
    sim.now += 1_000;
    r.handleTimeout(sim.now);
    expect(watch.reads()).toBe(0);

    // New peers set up (IKE_SA_INIT, IKE_AUTH with INITIAL_CONTACT, the unique-ID check): nothing of the held SAs.
    expect(sim.establish(32).up).toBe(32);
    expect(watch.reads()).toBe(0);

    // A liveness check (empty INFORMATIONAL, RFC 7296 1.4) on one held SA reads that SA only.
    const probe = kept.ids[5];
    if (probe === undefined) throw new Error('no kept initiator');
    watch.except(byPeer.get(probe.address));
    expect(probe.ep.checkLiveness(probe.id, sim.now)).toBe(true);
    sim.pump([probe.ep]);
    expect(watch.reads()).toBe(0);
    expect(sim.delivered).toBeGreaterThan(0);

    // The peer deletes its IKE SA (RFC 7296 1.4.1): that SA and its CHILD SA go, no other SA is read.
    const gone = kept.ids[9];
    if (gone === undefined) throw new Error('no kept initiator');
    watch.except(byPeer.get(gone.address));
    expect(gone.ep.terminateIke(gone.id, sim.now)).toBe(true);
    sim.pump([gone.ep]);
    expect(watch.reads()).toBe(0);
    watch.except(undefined);
    expect(r.listSas()).toHaveLength(N + 32 - 1); // listSas reads every SA, by design
    watch.reset();

    // Datagrams for no SA (unknown SPI) and a retransmitted IKE_AUTH of a held SA: map lookups only.
    const stray = new Uint8Array(60);
    stray.set([1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 9, 9, 9, 9, 9, 0x2e, 0x20, 0x25, 0x08, 0, 0, 0, 7, 0, 0, 0, 60]);
    r.receive(stray, { address: RESPONDER, port: 500 }, { address: '198.51.100.9', port: 500 }, sim.now);
    for (let t = r.pollTransmit(); t; t = r.pollTransmit()) {}
    expect(watch.reads()).toBe(0);
    expect(r.internalErrors).toBe(0);
  });

  it('keeps nothing of SAs its peers deleted: not in the SA table, its indexes, the timer heap or the dirty set', { timeout: 300_000 }, () => {
    // Issue 17: heap used grew ~70 KB per setup+Delete cycle at 100k SAs. The timer heap kept superseded entries
    // until they outnumbered the live ones, and each kept its deleted IKE SA alive. Counted structurally.
    const HELD = 1_000;
    const sim = new ScaleSim(3);
    expect(sim.establish(HELD).up).toBe(HELD);
    const r = sim.responder;
    const deleted = new Set<IkeSa>();
    for (let cycle = 0; cycle < 40; cycle++) {
      const { up, ids } = sim.establish(16, true);
      expect(up).toBe(16);
      const byPeer = new Map<string, IkeSa>(sim.responderSas().map((sa) => [sa.remote.address, sa]));
      const eps = new Set<IkeEndpoint>();
      for (const x of ids) {
        const sa = byPeer.get(x.address);
        if (sa === undefined) throw new Error(`no responder SA for ${x.address}`);
        deleted.add(sa);
        expect(x.ep.terminateIke(x.id, sim.now)).toBe(true);
        eps.add(x.ep);
      }
      sim.pump(eps);
      for (const x of ids) sim.initiators.delete(x.address);
    }
    expect(deleted.size).toBe(640);
    expect(r.internalErrors).toBe(0);
    expect(r.listSas()).toHaveLength(HELD);
    const internals = r as unknown as { sas: object; timers: { held(): Iterable<IkeSa>; size: number }; dirty: Set<IkeSa> };
    const kept = (xs: Iterable<unknown>): number => [...xs].filter((x) => deleted.has(x as IkeSa)).length;
    expect(kept(internals.timers.held())).toBe(0);
    expect(internals.timers.size).toBeLessThanOrEqual(HELD);
    expect(kept(internals.dirty)).toBe(0);
    // Every Map and Set of the SA table, keys and values (a Set value looked into): no deleted SA anywhere.
    let refs = 0;
    for (const v of Object.values(internals.sas)) {
      const items: unknown[] = v instanceof Map ? [...v.keys(), ...v.values()] : v instanceof Set ? [...v] : [];
      for (const x of items) refs += x instanceof Set ? kept(x) : kept([x]);
    }
    expect(refs).toBe(0);
    // The held SAs, idle and established, keep no side object of rare fields (IkeSa._rare; issue 17).
    const withRare = sim.responderSas().filter((sa) => (sa as unknown as { _rare?: object })._rare !== undefined);
    expect(withRare.map((sa) => Object.keys((sa as unknown as { _rare: object })._rare))).toEqual([]);
  });
});
