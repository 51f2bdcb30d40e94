/** IKE_DPD in both roles (RFC 7296 2.4): an empty INFORMATIONAL answered empty; a silent peer is dead. */
import { describe, expect, it } from 'vitest';
import { of, upPair } from '../../../test/ike/task-pair.js';
import { DpdTask } from './ike-dpd.js';

describe('IKE_DPD task', () => {
  it('initiator role: an empty request, answered, clears dpdPending', () => {
    const p = upPair();
    p.mark();
    p.saA.dpdPending = true;
    const t = new DpdTask(p.a.ep, p.saA);
    expect(t.build()).toEqual([]);
    p.a.ep.queueTask(p.saA, new DpdTask(p.a.ep, p.saA), p.sim.now);
    p.run(() => !p.saA.dpdPending);
    expect(p.sent('a')).toEqual(['INFORMATIONAL q']);
    expect(p.sent('b')).toEqual(['INFORMATIONAL r']);
    expect(p.a.logs.at(-1)).toContain('liveness check answered');
  });

  it('responder role reversed: the IKE SA responder checks, the initiator answers', () => {
    const p = upPair();
    p.mark();
    p.b.ep.queueTask(p.saB, new DpdTask(p.b.ep, p.saB), p.sim.now);
    p.run(() => p.sent('a').length === 1);
    expect(p.sent('a')).toEqual(['INFORMATIONAL r']);
  });

  it('a peer that never answers is dead: the IKE SA closes with reason timeout', () => {
    const p = upPair();
    p.net.setLink(p.b.address, p.a.address, { loss: 1 });
    p.a.ep.queueTask(p.saA, new DpdTask(p.a.ep, p.saA), p.sim.now);
    p.run(() => of(p.a, 'ike-down').length === 1, 600_000);
    expect(of(p.a, 'ike-down')[0]).toMatchObject({ reason: 'timeout' });
    expect(of(p.a, 'ike-down')[0]?.message).toContain('did not answer DPD');
  });

  it('is moot (and clears dpdPending) once the SA is no longer established', () => {
    const p = upPair();
    p.saA.dpdPending = true;
    p.a.ep.terminateIke(p.saA.id, p.sim.now);
    expect(new DpdTask(p.a.ep, p.saA).build()).toBeUndefined();
    expect(p.saA.dpdPending).toBe(false);
  });
});
