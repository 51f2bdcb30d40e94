/** IKE_REKEY in both roles (RFC 7296 1.3.2, 2.18): a new IKE SA takes the CHILD SAs, the old one is deleted. */
import { describe, expect, it } from 'vitest';
import { PayloadType, ProtocolId } from '../codec/types.js';
import { of, types, upPair } from '../../../test/ike/task-pair.js';
import { IkeRekeyTask } from './ike-rekey.js';

describe('IKE_REKEY task', () => {
  it('initiator role: SA (IKE, new SPI), Ni, KEi; both sides move to the new SA and delete the old', () => {
    const p = upPair();
    const t = new IkeRekeyTask(p.a.ep, p.saA);
    const built = t.build(p.sim.now);
    expect(types(built)).toEqual([PayloadType.SA, PayloadType.NONCE, PayloadType.KE]);
    const saP = built?.[0];
    expect(saP?.type === PayloadType.SA && saP.proposals[0]?.protocol).toBe(ProtocolId.IKE);
    expect(p.saA.state).toBe('REKEYING');
    // Let the manager run the real one: undo the state the probe build set.
    p.saA.rekeyOurs = undefined;
    (p.saA as { state: string }).state = 'ESTABLISHED';
    p.mark();
    p.a.ep.queueTask(p.saA, new IkeRekeyTask(p.a.ep, p.saA), p.sim.now);
    p.run(() => of(p.a, 'ike-rekeyed').length === 1 && of(p.b, 'ike-rekeyed').length === 1 && p.a.ep.listSas().length === 1 && p.b.ep.listSas().length === 1);
    expect(p.sent('a')).toEqual(['CREATE_CHILD_SA q', 'INFORMATIONAL q']);
    const [la] = p.a.ep.listSas();
    const [lb] = p.b.ep.listSas();
    expect(la?.sa.id).not.toBe(p.saA.id);
    expect(Buffer.compare(Buffer.from(la?.sa.spiI ?? []), Buffer.from(lb?.sa.spiI ?? []))).toBe(0);
    expect(la?.children).toHaveLength(1);
  });

  it('responder role reversed: the IKE SA responder rekeys and becomes the new SA\'s initiator', () => {
    const p = upPair();
    p.b.ep.queueTask(p.saB, new IkeRekeyTask(p.b.ep, p.saB), p.sim.now);
    p.run(() => of(p.a, 'ike-rekeyed').length === 1 && p.a.ep.listSas().length === 1 && p.b.ep.listSas().length === 1);
    expect(p.b.ep.listSas()[0]?.sa.initiator).toBe(true);
    expect(p.a.ep.listSas()[0]?.sa.initiator).toBe(false);
  });

  it('is moot on an SA that is not established or already rekeying', () => {
    const p = upPair();
    p.saA.rekeyOurs = { Ni: new Uint8Array(32), spi: new Uint8Array(8) };
    expect(new IkeRekeyTask(p.a.ep, p.saA).build(p.sim.now)).toBeUndefined();
  });
});
