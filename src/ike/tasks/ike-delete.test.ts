/** IKE_DELETE in both roles (RFC 7296 1.4.1): the SA goes on both sides; an unanswered Delete still closes ours. */
import { describe, expect, it } from 'vitest';
import { PayloadType, ProtocolId } from '../codec/types.js';
import { of, types, upPair } from '../../../test/ike/task-pair.js';
import { DeleteIkeTask } from './ike-delete.js';

describe('IKE_DELETE task', () => {
  it('initiator role (the IKE SA initiator deletes): D(IKE) sent, answered empty, both sides close', () => {
    const p = upPair();
    p.mark();
    const task = new DeleteIkeTask(p.a.ep, p.saA);
    const built = task.build();
    expect(types(built)).toEqual([PayloadType.DELETE]);
    expect(built?.[0]).toMatchObject({ protocol: ProtocolId.IKE, spis: [] });
    expect(p.saA.state).toBe('DELETING');
    // A second Delete while one is under way is moot; the probe's own request is sent through the manager's path.
    expect(new DeleteIkeTask(p.a.ep, p.saA).build()).toBeUndefined();
    (p.saA as { state: string }).state = 'ESTABLISHED';
    p.a.ep.queueTask(p.saA, new DeleteIkeTask(p.a.ep, p.saA, { why: 'test' }), p.sim.now);
    p.run(() => of(p.a, 'ike-down').length === 1 && of(p.b, 'ike-down').length === 1);
    expect(of(p.a, 'ike-down')[0]?.reason).toBe('deleted');
    expect(of(p.b, 'ike-down')[0]?.reason).toBe('deleted-by-peer');
    expect(p.sent('a')).toEqual(['INFORMATIONAL q']);
    expect(p.sent('b')).toEqual(['INFORMATIONAL r']);
    expect(p.b.logs.some((l) => l.includes('received DELETE for IKE_SA gw'))).toBe(true);
  });

  it('responder role reversed (the IKE SA responder deletes)', () => {
    const p = upPair();
    p.mark();
    p.b.ep.queueTask(p.saB, new DeleteIkeTask(p.b.ep, p.saB, { reason: 'deleted' }), p.sim.now);
    p.run(() => of(p.a, 'ike-down').length === 1 && of(p.b, 'ike-down').length === 1);
    expect(of(p.a, 'ike-down')[0]?.reason).toBe('deleted-by-peer');
    expect(p.sent('b')).toEqual(['INFORMATIONAL q']);
    expect(p.sent('a')).toEqual(['INFORMATIONAL r']);
  });

  it('an unanswered Delete closes our SA after the retransmissions and runs `afterwards` once', () => {
    const p = upPair();
    p.net.setLink(p.b.address, p.a.address, { loss: 1 });
    let after = 0;
    p.a.ep.queueTask(p.saA, new DeleteIkeTask(p.a.ep, p.saA, { afterwards: () => after++ }), p.sim.now);
    p.run(() => of(p.a, 'ike-down').length === 1, 600_000);
    expect(after).toBe(1);
    expect(p.a.ep.listSas()).toHaveLength(0);
  });

  it('is moot on an SA already gone', () => {
    const p = upPair();
    p.a.ep.terminateIke(p.saA.id, p.sim.now);
    p.run(() => p.saA.state === 'DESTROYING');
    expect(new DeleteIkeTask(p.a.ep, p.saA).build()).toBeUndefined();
  });
});
