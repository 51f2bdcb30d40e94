/**
 * IKE_AUTH with EAP (RFC 7296 2.16) in both roles, in-process: the client leaves AUTH out, the gateway authenticates
 * itself and runs EAP-MSCHAPv2 (or EAP-MD5 where allowed), both compute the last AUTHs from the MSK, the CHILD SA
 * comes up. A wrong password or an unknown user ends with AUTHENTICATION_FAILED on both sides, nothing half-open.
 */
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../crypto/random.js';
import { eapSecretLookup } from '../../eap/index.js';
import { child, connection, pskCredentials } from '../config-builder.js';
import type { AuthConfig } from '../config.js';
import { localEapProvider } from '../eap-provider.js';
import { makePair, runAsync, type Side } from '../../../test/ike/pair.js';
import type { IkeEvent } from '../events.js';

const psk = pskCredentials([{ ids: ['gw.example', 'carol@example'], secret: 'gateway-and-carol-psk-for-the-first-auth' }]);
const enc = new TextEncoder();
const of = <T extends IkeEvent['type']>(s: Side, t: T) => s.events.filter((e): e is Extract<IkeEvent, { type: T }> => e.type === t);

function setup(o: { clientEap: AuthConfig['eap']; gwEap: AuthConfig['eap']; clientPassword?: string; users?: { id: string; password: string }[]; allowMd5?: boolean }) {
  const client = connection({
    name: 'rw',
    remoteAddrs: ['192.0.2.2'],
    local: { auth: 'eap', id: 'carol@example', eap: o.clientEap },
    remote: { auth: 'psk', id: 'gw.example' },
    children: [child('net', { localTs: ['10.1.0.0/24'], remoteTs: ['10.2.0.0/24'] })],
  });
  const gw = connection({
    name: 'rw',
    local: { auth: 'psk', id: 'gw.example' },
    remote: { auth: 'eap', eap: o.gwEap },
    children: [child('net', { localTs: ['10.2.0.0/24'], remoteTs: ['10.1.0.0/24'] })],
  });
  const users = o.users ?? [{ id: 'carol@example', password: 'carol-secret' }];
  const gwSecrets = eapSecretLookup(users.map((u) => ({ ids: [u.id], kind: 'password' as const, secret: enc.encode(u.password) })));
  const clientSecrets = eapSecretLookup([{ ids: ['carol@example'], kind: 'password', secret: enc.encode(o.clientPassword ?? 'carol-secret') }]);
  const md5 = o.allowMd5 ? { allowMd5: true } : {};
  return makePair(
    { connections: [client], credentials: psk, eap: localEapProvider({ random: seededRandom(11), secrets: clientSecrets, ...md5 }) },
    { connections: [gw], credentials: psk, eap: localEapProvider({ random: seededRandom(12), secrets: gwSecrets, ...md5 }) },
  );
}

describe('IKE_AUTH with EAP (RFC 7296 2.16)', () => {
  it('EAP-MSCHAPv2: client (initiator role) and gateway (responder role) establish with MSK-based AUTHs and the CHILD SA', async () => {
    const p = setup({ clientEap: { methods: ['mschapv2'] }, gwEap: { methods: ['mschapv2'] } });
    p.a.ep.initiate('rw', 0);
    const ok = await runAsync(p.sim, () => of(p.a, 'child-install').length === 1 && of(p.b, 'child-install').length === 1);
    if (!ok) console.log(`A:\n${p.a.logs.join('\n')}\nB:\n${p.b.logs.join('\n')}`);
    expect(ok).toBe(true);
    expect(p.a.logs.some((l) => l.includes('sending IKE_AUTH request 1 [ IDi N(INIT_CONTACT) N(MOBIKE_SUP) IDr SA TSi TSr ]'))).toBe(true);
    expect(p.b.logs.some((l) => /sending IKE_AUTH response 1 \[ IDr AUTH EAP \]/.test(l))).toBe(true);
    expect(p.b.logs.some((l) => l.includes("EAP method EAP-mschapv2 succeeded for 'carol@example', MSK established"))).toBe(true);
    expect(p.a.logs.some((l) => l.includes('EAP MSK successful'))).toBe(true);
    expect(p.b.logs.some((l) => l.includes("authentication of 'carol@example' with EAP MSK successful"))).toBe(true);
    expect(of(p.a, 'ike-up')).toHaveLength(1);
    expect(of(p.b, 'ike-up')).toHaveLength(1);
    // The last exchange: AUTH --> <-- AUTH, SA, TSi, TSr.
    expect(p.b.logs.some((l) => /sending IKE_AUTH response \d+ \[ AUTH SA TSi TSr N\(MOBIKE_SUP\) \]/.test(l))).toBe(true);
  });

  it('the gateway asks for the EAP identity (eap_id = %any) and finds the user by it', async () => {
    const p = setup({ clientEap: { methods: ['mschapv2'] }, gwEap: { methods: ['mschapv2'], eapId: '%any' } });
    p.a.ep.initiate('rw', 0);
    expect(await runAsync(p.sim, () => of(p.b, 'ike-up').length === 1)).toBe(true);
    expect(p.b.logs.some((l) => l.includes('asking for its EAP identity'))).toBe(true);
  });

  it('wrong password: AUTHENTICATION_FAILED to the client, both logs name the method and identity, nothing left', async () => {
    const p = setup({ clientEap: { methods: ['mschapv2'] }, gwEap: { methods: ['mschapv2'] }, clientPassword: 'wrong' });
    p.a.ep.initiate('rw', 0);
    expect(await runAsync(p.sim, () => of(p.a, 'ike-down').length === 1 && of(p.b, 'ike-down').length === 1)).toBe(true);
    expect(of(p.a, 'ike-down')[0]?.reason).toBe('auth-failed');
    expect(of(p.b, 'ike-down')[0]?.reason).toBe('auth-failed');
    expect(of(p.b, 'ike-down')[0]?.message).toMatch(/EAP-mschapv2 authentication of 'carol@example' failed/i);
    expect(of(p.a, 'ike-down')[0]?.message).toMatch(/EAP.*carol@example|AUTHENTICATION_FAILED/);
    expect(p.a.ep.listSas()).toHaveLength(0);
    expect(p.b.ep.listSas()).toHaveLength(0);
    expect(p.b.ep.halfOpenCount()).toBe(0);
  });

  it('unknown user: refused the same way', async () => {
    const p = setup({ clientEap: { methods: ['mschapv2'] }, gwEap: { methods: ['mschapv2'] }, users: [{ id: 'dave@example', password: 'x' }] });
    p.a.ep.initiate('rw', 0);
    expect(await runAsync(p.sim, () => of(p.a, 'ike-down').length === 1 && of(p.b, 'ike-down').length === 1)).toBe(true);
    expect(of(p.b, 'ike-down')[0]?.message).toMatch(/carol@example/);
    expect(p.b.ep.listSas()).toHaveLength(0);
  });

  it('EAP-MD5 (no MSK): the AUTHs use SK_pi / SK_pr (RFC 7296 2.16); refused unless allowed', async () => {
    const p = setup({ clientEap: { methods: ['md5'] }, gwEap: { methods: ['md5'] }, allowMd5: true });
    p.a.ep.initiate('rw', 0);
    expect(await runAsync(p.sim, () => of(p.a, 'child-install').length === 1 && of(p.b, 'child-install').length === 1)).toBe(true);
    expect(p.b.logs.some((l) => l.includes('no MSK established'))).toBe(true);
    const q = setup({ clientEap: { methods: ['md5'] }, gwEap: { methods: ['md5'] } });
    q.a.ep.initiate('rw', 0);
    expect(await runAsync(q.sim, () => of(q.b, 'ike-down').length === 1)).toBe(true);
    expect(of(q.b, 'ike-down')[0]?.reason).toBe('auth-failed');
  });

  it('a client without EAP against a gateway that wants it: AUTHENTICATION_FAILED naming the mismatch', async () => {
    const p = setup({ clientEap: { methods: ['mschapv2'] }, gwEap: { methods: ['mschapv2'] } });
    const conn = p.a.ep.connections()[0];
    if (!conn) throw new Error('no conn');
    p.a.ep.setConnections([{ ...conn, local: { ...conn.local, method: 'psk' } }]);
    p.a.ep.initiate('rw', 0);
    expect(await runAsync(p.sim, () => of(p.b, 'ike-down').length === 1)).toBe(true);
    expect(of(p.b, 'ike-down')[0]?.message).toMatch(/sent AUTH, but connection 'rw' authenticates it with EAP/);
  });
});

describe('two authentication rounds (RFC 4739): a pre-shared key, then EAP-MSCHAPv2', () => {
  function rounds(o: { gwWantsSecond?: boolean; clientSends?: boolean; password?: string } = {}) {
    const client = connection({
      name: 'rw',
      remoteAddrs: ['192.0.2.2'],
      local: { auth: 'psk', id: 'carol@example' },
      remote: { auth: 'psk', id: 'gw.example' },
      children: [child('net', { localTs: ['10.1.0.0/24'], remoteTs: ['10.2.0.0/24'] })],
    });
    const gw = connection({
      name: 'rw',
      local: { auth: 'psk', id: 'gw.example' },
      remote: { auth: 'psk', id: 'carol@example' },
      children: [child('net', { localTs: ['10.2.0.0/24'], remoteTs: ['10.1.0.0/24'] })],
    });
    const eapRound = (id: string) => ({ method: 'eap' as const, id: { type: 3, data: enc.encode(id) }, eap: { methods: ['mschapv2'] } });
    const c = o.clientSends === false ? client : { ...client, moreLocal: [eapRound('carol-user')] };
    const g = o.gwWantsSecond === false ? gw : { ...gw, moreRemote: [{ method: 'eap' as const, id: { type: 0, data: new Uint8Array(0) }, eap: { methods: ['mschapv2'] } }] };
    const secrets = (pw: string) => eapSecretLookup([{ ids: ['carol-user'], kind: 'password', secret: enc.encode(pw) }]);
    return makePair(
      { connections: [c], credentials: psk, eap: localEapProvider({ random: seededRandom(21), secrets: secrets(o.password ?? 'pw-2') }) },
      { connections: [g], credentials: psk, eap: localEapProvider({ random: seededRandom(22), secrets: secrets('pw-2') }) },
    );
  }

  it('both rounds: MULT_AUTH announced, AUTH_FOLLOWS, the second IDi runs EAP, the CHILD SA comes last', async () => {
    const p = rounds();
    p.a.ep.initiate('rw', 0);
    const ok = await runAsync(p.sim, () => of(p.a, 'child-install').length === 1 && of(p.b, 'child-install').length === 1);
    if (!ok) console.log(`A:\n${p.a.logs.join('\n')}\nB:\n${p.b.logs.join('\n')}`);
    expect(ok).toBe(true);
    expect(p.b.logs.some((l) => /sending IKE_SA_INIT response 0 \[.*N\(MULT_AUTH\) \]/.test(l))).toBe(true);
    expect(p.a.logs.some((l) => /sending IKE_AUTH request 1 \[ IDi .*AUTH N\(MULT_AUTH\) N\(AUTH_FOLLOWS\) SA TSi TSr \]/.test(l))).toBe(true);
    expect(p.b.logs.some((l) => /sending IKE_AUTH response 1 \[ IDr AUTH \]/.test(l))).toBe(true);
    expect(p.a.logs.some((l) => /sending IKE_AUTH request 2 \[ IDi \]/.test(l))).toBe(true);
    expect(p.b.logs.some((l) => l.includes("authentication of 'carol-user' with EAP MSK successful"))).toBe(true);
    expect(p.b.logs.some((l) => /sending IKE_AUTH response \d+ \[ AUTH SA TSi TSr N\(MOBIKE_SUP\) \]/.test(l))).toBe(true);
  });

  it('the second round fails: AUTHENTICATION_FAILED, nothing left', async () => {
    const p = rounds({ password: 'wrong' });
    p.a.ep.initiate('rw', 0);
    expect(await runAsync(p.sim, () => of(p.a, 'ike-down').length === 1 && of(p.b, 'ike-down').length === 1)).toBe(true);
    expect(of(p.b, 'ike-down')[0]?.message).toMatch(/EAP-mschapv2 authentication of 'carol-user' failed/i);
    expect(p.b.ep.listSas()).toHaveLength(0);
  });

  it('a gateway that requires a second round refuses a client that announces none, and the other way round', async () => {
    const p = rounds({ clientSends: false });
    p.a.ep.initiate('rw', 0);
    expect(await runAsync(p.sim, () => of(p.b, 'ike-down').length === 1)).toBe(true);
    expect(of(p.b, 'ike-down')[0]?.message).toMatch(/requires a second authentication round \(remote-2, RFC 4739\)/);
    const q = rounds({ gwWantsSecond: false });
    q.a.ep.initiate('rw', 0);
    expect(await runAsync(q.sim, () => of(q.a, 'ike-down').length === 1)).toBe(true);
    expect(of(q.a, 'ike-down')[0]?.message).toMatch(/did not announce MULTIPLE_AUTH_SUPPORTED/);
  });
});
