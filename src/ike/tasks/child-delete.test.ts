/** CHILD_DELETE in both roles (RFC 7296 1.4.1): the pair goes on both sides; the response names the peer's SPI. */
import { describe, expect, it } from 'vitest';
import { PayloadType, ProtocolId } from '../codec/types.js';
import { of, types, upPair } from '../../../test/ike/task-pair.js';
import { spiToNumber } from '../ike-sa.js';
import { DeleteChildTask, DeleteRefusedChildTask, respondDeleteChild } from './child-delete.js';

describe('CHILD_DELETE task', () => {
  it('initiator role: D(ESP, our inbound SPI); both sides remove the pair, the IKE SA stays', () => {
    const p = upPair();
    const c = p.saA.children[0];
    if (!c) throw new Error('no child');
    p.mark();
    p.a.ep.queueTask(p.saA, new DeleteChildTask(p.a.ep, p.saA, c), p.sim.now);
    p.run(() => p.saA.children.length === 0 && p.saB.children.length === 0);
    expect(p.sent('a')).toEqual(['INFORMATIONAL q']);
    expect(of(p.b, 'child-remove')).toHaveLength(1);
    expect(p.saA.state).toBe('ESTABLISHED');
    expect(p.saB.state).toBe('ESTABLISHED');
  });

  it('responder role (the IKE SA responder deletes); the answer carries the paired SPI', () => {
    const p = upPair();
    const cb = p.saB.children[0];
    const ca = p.saA.children[0];
    if (!cb || !ca) throw new Error('no child');
    // Unit: the responder function on A answers a Delete naming B's inbound SPI (A's outbound) with A's inbound.
    const resp = respondDeleteChild(p.a.ep, p.saA, { type: PayloadType.DELETE, critical: false, protocol: ProtocolId.ESP, spiSize: 4, spis: [Uint8Array.of(ca.spiOut >>> 24, (ca.spiOut >>> 16) & 255, (ca.spiOut >>> 8) & 255, ca.spiOut & 255)] });
    expect(resp?.spis.map(spiToNumber)).toEqual([ca.spiIn]);
    expect(p.saA.children).toHaveLength(0);
  });

  it('a Delete of an unknown SPI is logged and answered without it', () => {
    const p = upPair();
    const resp = respondDeleteChild(p.a.ep, p.saA, { type: PayloadType.DELETE, critical: false, protocol: ProtocolId.ESP, spiSize: 4, spis: [Uint8Array.of(1, 2, 3, 4)] });
    expect(resp).toBeUndefined();
    expect(p.a.ep.listSas()[0]?.children).toHaveLength(1);
  });

  it('waits for a rekey under way, and is moot for a CHILD SA already gone', () => {
    const p = upPair();
    const c = p.saA.children[0];
    if (!c) throw new Error('no child');
    c.state = 'REKEYING';
    expect(new DeleteChildTask(p.a.ep, p.saA, c).build(p.sim.now)).toBeUndefined();
    expect(c.state).toBe('REKEYING');
    c.state = 'INSTALLED';
    expect(types(new DeleteChildTask(p.a.ep, p.saA, c).build(p.sim.now))).toEqual([PayloadType.DELETE]);
    expect(c.state).toBe('DELETING');
    expect(new DeleteChildTask(p.a.ep, p.saA, c).build(p.sim.now)).toBeUndefined();
  });

  it('deletes a CHILD SA the peer installed for a response we refused, by the SPI we offered', () => {
    const p = upPair();
    const built = new DeleteRefusedChildTask(p.a.ep, p.saA, 0x01020304).build();
    expect(built?.[0]).toMatchObject({ type: PayloadType.DELETE, protocol: ProtocolId.ESP, spiSize: 4 });
  });
});
