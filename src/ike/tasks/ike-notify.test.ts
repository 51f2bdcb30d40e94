/** IKE_NOTIFY (RFC 7296 2.21.2): AUTHENTICATION_FAILED in an INFORMATIONAL closes the SA at the peer. */
import { describe, expect, it } from 'vitest';
import { NotifyType } from '../codec/types.js';
import { of, upPair } from '../../../test/ike/task-pair.js';
import { notify } from '../payload-util.js';
import { NotifyTask } from './ike-notify.js';

describe('IKE_NOTIFY task', () => {
  it('initiator role sends the notifies, then runs its continuation; the responder closes on AUTHENTICATION_FAILED', () => {
    const p = upPair();
    let done = 0;
    p.a.ep.queueTask(p.saA, new NotifyTask([notify(NotifyType.AUTHENTICATION_FAILED)], () => done++), p.sim.now);
    p.run(() => done === 1 && of(p.b, 'ike-down').length === 1);
    expect(of(p.b, 'ike-down')[0]).toMatchObject({ reason: 'auth-failed' });
    expect(of(p.b, 'ike-down')[0]?.message).toContain('rejected our authentication');
  });

  it('responder role: another error notify is logged and the SA stays', () => {
    const p = upPair();
    let done = 0;
    p.b.ep.queueTask(p.saB, new NotifyTask([notify(NotifyType.INVALID_SYNTAX)], () => done++), p.sim.now);
    p.run(() => done === 1);
    expect(p.a.logs.some((l) => l.includes('received INVALID_SYNTAX notify in INFORMATIONAL'))).toBe(true);
    expect(p.saA.state).toBe('ESTABLISHED');
  });
});
