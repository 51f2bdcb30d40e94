/** CHILD_CREATE and CHILD_REKEY in both roles (RFC 7296 1.3.1, 1.3.3, 2.8). */
import { describe, expect, it } from 'vitest';
import { NotifyType, PayloadType } from '../codec/types.js';
import { of, types, upPair } from '../../../test/ike/task-pair.js';
import { ChildCreateTask } from './child-create.js';

describe('CHILD_CREATE task', () => {
  it('initiator role: SA, Ni, TSi, TSr; the responder installs the pair', () => {
    const p = upPair({ children: 2 });
    const cfg = p.saA.conn?.children[1];
    if (!cfg) throw new Error('no second child config');
    const t = new ChildCreateTask(p.a.ep, p.saA, cfg);
    expect(t.kind).toBe('CHILD_CREATE');
    p.mark();
    p.a.ep.queueTask(p.saA, t, p.sim.now);
    p.run(() => p.saA.children.length === 2 && p.saB.children.length === 2);
    expect(p.sent('a')).toEqual(['CREATE_CHILD_SA q']);
    expect(p.sent('b')).toEqual(['CREATE_CHILD_SA r']);
    expect(p.saB.children.map((c) => c.name).sort()).toEqual(['net', 'net1']);
  });

  it('responder role reversed: the IKE SA responder creates the CHILD SA', () => {
    const p = upPair({ children: 2 });
    const cfg = p.saB.conn?.children[1];
    if (!cfg) throw new Error('no second child config');
    p.b.ep.queueTask(p.saB, new ChildCreateTask(p.b.ep, p.saB, cfg), p.sim.now);
    p.run(() => p.saA.children.length === 2 && p.saB.children.length === 2);
    const a1 = p.saA.children.find((c) => c.name === 'net1');
    const b1 = p.saB.children.find((c) => c.name === 'net1');
    expect(a1?.spiIn).toBe(b1?.spiOut);
  });

  it('with PFS: KEi in the request, the SA keyed with the new shared secret', () => {
    const p = upPair({ children: 2, esp: 'aes128gcm16-x25519' });
    const cfg = p.saA.conn?.children[1];
    if (!cfg) throw new Error('no second child config');
    const built = new ChildCreateTask(p.a.ep, p.saA, cfg).build(p.sim.now);
    expect(types(built)).toEqual([PayloadType.SA, PayloadType.NONCE, PayloadType.KE, PayloadType.TSi, PayloadType.TSr]);
  });

  it('responder refuses while the IKE SA is being rekeyed (TEMPORARY_FAILURE) and the initiator retries', () => {
    const p = upPair({ children: 2 });
    const cfg = p.saA.conn?.children[1];
    if (!cfg) throw new Error('no second child config');
    // B's IKE rekey is under way (its request not yet answered) when A's CREATE_CHILD_SA arrives.
    p.saB.rekeyOurs = { Ni: new Uint8Array(32), spi: new Uint8Array(8) };
    p.a.ep.queueTask(p.saA, new ChildCreateTask(p.a.ep, p.saA, cfg), p.sim.now);
    p.run(() => p.a.logs.some((l) => l.includes('TEMPORARY_FAILURE')));
    p.saB.rekeyOurs = undefined;
    p.run(() => p.saA.children.length === 2 && p.saB.children.length === 2);
  });
});

describe('CHILD_REKEY task', () => {
  it('initiator role: N(REKEY_SA) first; the new pair replaces the old, which is deleted', () => {
    const p = upPair();
    const old = p.saA.children[0];
    if (!old) throw new Error('no child');
    const t = new ChildCreateTask(p.a.ep, p.saA, old.config, { rekey: old });
    expect(t.kind).toBe('CHILD_REKEY');
    p.mark();
    p.a.ep.queueTask(p.saA, t, p.sim.now);
    p.run(() => of(p.a, 'child-remove').length === 1 && of(p.b, 'child-remove').length === 1);
    expect(p.sent('a')).toEqual(['CREATE_CHILD_SA q', 'INFORMATIONAL q']);
    expect(p.saA.children).toHaveLength(1);
    expect(p.saA.children[0]?.spiIn).not.toBe(old.spiIn);
    expect(of(p.a, 'child-install').at(-1)?.replaces?.spiIn).toBe(old.spiIn);
  });

  it('responder role reversed: the IKE SA responder rekeys', () => {
    const p = upPair();
    const old = p.saB.children[0];
    if (!old) throw new Error('no child');
    p.b.ep.queueTask(p.saB, new ChildCreateTask(p.b.ep, p.saB, old.config, { rekey: old }), p.sim.now);
    p.run(() => of(p.a, 'child-remove').length === 1 && of(p.b, 'child-remove').length === 1);
    expect(p.saB.children[0]?.spiIn).not.toBe(old.spiIn);
    expect(p.saA.children[0]?.spiOut).toBe(p.saB.children[0]?.spiIn);
  });

  it('the responder answers CHILD_SA_NOT_FOUND for an SA it does not have, and the initiator drops it', () => {
    const p = upPair();
    const old = p.saA.children[0];
    const theirs = p.saB.children[0];
    if (!old || !theirs) throw new Error('no child');
    p.b.ep.removeChild(p.saB, theirs, 'test');
    const built = new ChildCreateTask(p.a.ep, p.saA, old.config, { rekey: old }).build(p.sim.now);
    expect(built?.[0]).toMatchObject({ type: PayloadType.NOTIFY, notifyType: NotifyType.REKEY_SA });
    old.state = 'INSTALLED';
    old.rekeyOurs = undefined;
    p.a.ep.queueTask(p.saA, new ChildCreateTask(p.a.ep, p.saA, old.config, { rekey: old }), p.sim.now);
    p.run(() => p.saA.children.length === 0);
    expect(p.a.logs.some((l) => l.includes('peer has no CHILD_SA'))).toBe(true);
  });

  it('is moot for a CHILD SA that is gone or already being rekeyed', () => {
    const p = upPair();
    const old = p.saA.children[0];
    if (!old) throw new Error('no child');
    old.state = 'REKEYING';
    expect(new ChildCreateTask(p.a.ep, p.saA, old.config, { rekey: old }).build(p.sim.now)).toBeUndefined();
  });
});
