/** IKE_INIT in both roles (RFC 7296 1.2, 2.6): the initiator's task and its COOKIE / INVALID_KE_PAYLOAD rounds. */
import { describe, expect, it } from 'vitest';
import { PayloadType } from '../codec/types.js';
import { child, connection } from '../config-builder.js';
import { IkeEndpoint } from '../endpoint.js';
import { seededRandom } from '../../crypto/random.js';
import { makePair, crypto } from '../../../test/ike/pair.js';
import { cookiesOn } from '../../../test/ike/cookies-on.js';
import { gw, of, psk, types } from '../../../test/ike/task-pair.js';
import { tasksOf } from './manager.js';
import { IkeInitTask } from './ike-init.js';

describe('IKE_INIT task', () => {
  it('initiator role: SA, KE, Ni, NAT-D and capability notifies; IKE_AUTH queued first once keys exist', () => {
    const ep = new IkeEndpoint({ connections: [gw('a')], credentials: psk, crypto, random: seededRandom(3) });
    const id = ep.initiate('gw', 0);
    const sa = ep.ikeSa(id);
    if (!sa) throw new Error('no SA');
    expect(tasksOf(sa).map((t) => t.kind)).toEqual(['IKE_INIT']);
    expect(sa.state).toBe('CONNECTING');
    const running = tasksOf(sa)[0];
    expect(running).toBeInstanceOf(IkeInitTask);
    const probe = running?.build(0);
    expect(types(probe).slice(0, 3)).toEqual([PayloadType.SA, PayloadType.KE, PayloadType.NONCE]);
    expect(types(probe).filter((t) => t === PayloadType.NOTIFY).length).toBeGreaterThanOrEqual(3);
  });

  it('responder role: the peer answers, then both run IKE_AUTH; a COOKIE makes the task build again with it first', () => {
    const p = makePair({ connections: [gw('a')], credentials: psk }, { connections: [gw('b')], credentials: psk }, { settings: { cookieThreshold: 1 } });
    cookiesOn(p.b.ep, { address: p.b.address, port: 500 }, 0, { keep: true, proposals: 'aes128gcm16-prfsha256-x25519' });
    p.a.ep.initiate('gw', 0);
    expect(p.sim.runUntil(() => of(p.a, 'ike-up').length === 1, { maxTime: 60_000 }).ok).toBe(true);
    expect(p.a.logs.some((l) => l.includes('received COOKIE'))).toBe(true);
  });

  it('INVALID_KE_PAYLOAD: the task builds again with the group the responder asks for', () => {
    const a = connection({ name: 'gw', proposals: 'aes128gcm16-prfsha256-x25519-ecp256', remoteAddrs: ['192.0.2.2'], local: { id: 'moon.example' }, remote: { id: 'sun.example' }, children: [child('net', { localTs: ['10.1.0.0/24'], remoteTs: ['10.2.0.0/24'] })] });
    const b = connection({ name: 'gw', proposals: 'aes128gcm16-prfsha256-ecp256', remoteAddrs: ['%any'], local: { id: 'sun.example' }, remote: { id: 'moon.example' }, children: [child('net', { localTs: ['10.2.0.0/24'], remoteTs: ['10.1.0.0/24'] })] });
    const p = makePair({ connections: [a], credentials: psk }, { connections: [b], credentials: psk });
    p.a.ep.initiate('gw', 0);
    expect(p.sim.runUntil(() => of(p.a, 'ike-up').length === 1, { maxTime: 60_000 }).ok).toBe(true);
    expect(p.a.logs.some((l) => l.includes("peer didn't accept DH group 31, it requested 19"))).toBe(true);
    expect(of(p.a, 'ike-up')[0]?.sa.suite).toContain('ECP_256');
  });

  it('timeout: no answer to IKE_SA_INIT closes the SA with reason timeout', () => {
    const p = makePair({ connections: [gw('a')], credentials: psk }, { connections: [gw('b')], credentials: psk });
    p.net.setLink(p.a.address, p.b.address, { loss: 1 });
    p.a.ep.initiate('gw', 0);
    expect(p.sim.runUntil(() => of(p.a, 'ike-down').length >= 1, { maxTime: 600_000 }).ok).toBe(true);
    expect(of(p.a, 'ike-down')[0]).toMatchObject({ reason: 'timeout' });
    expect(of(p.a, 'ike-down')[0]?.message).toContain('did not answer IKE_SA_INIT');
  });
});
