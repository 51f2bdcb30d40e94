/** IKE_AUTH in both roles (RFC 7296 1.2, 2.15, 2.21.2). */
import { describe, expect, it } from 'vitest';
import { PayloadType } from '../codec/types.js';
import { pskCredentials } from '../config-builder.js';
import { makePair } from '../../../test/ike/pair.js';
import { gw, of, psk, upPair } from '../../../test/ike/task-pair.js';
import { requireKeyed } from '../ike-sa.js';
import { IkeAuthTask } from './ike-auth.js';

describe('IKE_AUTH task', () => {
  it('initiator role: IDi, INITIAL_CONTACT, IDr, AUTH, SA, TSi, TSr in that order (byte-identical to before tasks)', () => {
    const p = upPair();
    // An IKE_AUTH request built again on the SA shows the payload order.
    const built = new IkeAuthTask(p.a.ep, requireKeyed(p.saA, 'test'), p.saA.conn?.children[0]).build();
    expect(built?.map((x) => x.type)).toEqual([PayloadType.IDi, PayloadType.NOTIFY, PayloadType.NOTIFY, PayloadType.IDr, PayloadType.AUTH, PayloadType.SA, PayloadType.TSi, PayloadType.TSr]);
    expect(p.a.logs.find((l) => l.includes('sending IKE_AUTH request'))).toContain('[ IDi N(INIT_CONTACT) N(MOBIKE_SUP) IDr AUTH SA TSi TSr ]');
  });

  it('responder role: IDr, AUTH, SA, TSi, TSr; both sides establish and install the CHILD SA', () => {
    const p = upPair();
    expect(p.b.logs.find((l) => l.includes('sending IKE_AUTH response'))).toContain('[ IDr AUTH SA TSi TSr N(MOBIKE_SUP) ]');
    expect(of(p.b, 'ike-up')).toHaveLength(1);
  });

  it('responder role, wrong PSK: AUTHENTICATION_FAILED, the initiator closes with auth-failed, nothing left', () => {
    const wrong = pskCredentials([{ ids: ['moon.example', 'sun.example'], secret: 'not-the-same-secret-at-all' }]);
    const p = makePair({ connections: [gw('a')], credentials: wrong }, { connections: [gw('b')], credentials: psk });
    p.a.ep.initiate('gw', 0);
    expect(p.sim.runUntil(() => of(p.a, 'ike-down').length === 1 && of(p.b, 'ike-down').length === 1, { maxTime: 60_000 }).ok).toBe(true);
    expect(of(p.a, 'ike-down')[0]?.reason).toBe('auth-failed');
    expect(of(p.b, 'ike-down')[0]?.reason).toBe('auth-failed');
    expect(p.a.ep.listSas()).toHaveLength(0);
    expect(p.b.ep.listSas()).toHaveLength(0);
  });
});
