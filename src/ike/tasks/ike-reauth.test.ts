/** IKE_REAUTH (RFC 7296 2.8.3): make-before-break and break-before-make, from either side. */
import { describe, expect, it } from 'vitest';
import { of, upPair } from '../../../test/ike/task-pair.js';
import { ReauthCompleteTask } from './ike-reauth.js';

describe('IKE_REAUTH tasks', () => {
  it('make-before-break: a new IKE SA with the CHILD SAs, then the old one is deleted', () => {
    const p = upPair({ children: 2 });
    const cfg = p.saA.conn?.children[1];
    if (!cfg) throw new Error('no config');
    p.a.ep.createChild(p.saA.id, cfg.name, p.sim.now);
    p.run(() => p.saA.children.length === 2 && p.saB.children.length === 2);
    const oldId = p.saA.id;
    expect(p.a.ep.rekeyIke(oldId, p.sim.now, { reauth: true })).toBe(true);
    p.run(() => p.a.ep.listSas().length === 1 && p.a.ep.listSas()[0]?.sa.id !== oldId && p.a.ep.listSas()[0]?.children.length === 2 && p.b.ep.listSas().length === 1);
    expect(of(p.a, 'ike-down').at(-1)?.reason).toBe('rekeyed');
  });

  it('break-before-make: the old SA is deleted first, then a new one carries the CHILD SA', () => {
    const p = upPair({ pair: { settings: { makeBeforeBreak: false } } });
    const oldId = p.saA.id;
    p.a.ep.rekeyIke(oldId, p.sim.now, { reauth: true });
    p.run(() => of(p.a, 'ike-down').length === 1 && of(p.a, 'ike-up').length === 2 && (p.a.ep.listSas()[0]?.children.length ?? 0) === 1);
    const downAt = p.a.events.findIndex((e) => e.type === 'ike-down');
    const upAt = p.a.events.map((e) => e.type).lastIndexOf('ike-up');
    expect(downAt).toBeLessThan(upAt);
  });

  it('the completion task is moot while the new SA is not up, and sends nothing itself', () => {
    const p = upPair();
    const t = new ReauthCompleteTask(p.a.ep, p.saA, p.saA);
    (p.saA as { state: string }).state = 'CONNECTING';
    expect(t.build(p.sim.now)).toBeUndefined();
    (p.saA as { state: string }).state = 'ESTABLISHED';
  });
});
