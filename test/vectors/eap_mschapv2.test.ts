/**
 * Known answers for EAP-MSCHAPv2 (vectors/eap_mschapv2.json): MD4 (RFC 1320 A.5), the RFC 2759 9.2 hash example,
 * the RFC 3079 3.5.x MPPE samples and the 64-octet MSK strongSwan and Windows derive; and a conversation with
 * FreeRADIUS 3.2.1 as the server (vectors/eap_mschapv2_freeradius.json) replayed against our peer and server.
 */
import { describe, expect, it } from 'vitest';
import { md4 } from '../../src/eap/md4.js';
import {
  challengeHash,
  generateAuthenticatorResponse,
  generateNtResponse,
  getAsymmetricStartKey,
  getMasterKey,
  getNewKeyFromSha,
  hashNtPasswordHash,
  mschapv2Msk,
  ntPasswordHash,
  reduceSessionKey,
} from '../../src/eap/mschapv2-crypto.js';
import { MsChapV2Peer, MsChapV2Server } from '../../src/eap/mschapv2.js';
import { fixedRandom, hex, loadVectors, str, toHex } from './helpers.js';

const file = loadVectors('eap_mschapv2.json');

describe('vectors: eap_mschapv2.json', () => {
  it('has entries for every family it names', () => {
    const algorithms = new Set(file.entries.map((e) => str(e, 'algorithm')));
    expect([...algorithms].sort()).toEqual(['EAP-MSCHAPv2 MSK', 'MD4', 'MPPE 128-bit', 'MPPE 40-bit', 'MPPE 56-bit', 'MS-CHAPv2']);
  });
  for (const e of file.entries) {
    const a = str(e, 'algorithm');
    it(`${e.id} (${e.source})`, () => {
      if (a === 'MD4') {
        expect(toHex(md4(new TextEncoder().encode(str(e, 'message'))))).toBe(str(e, 'digest'));
      } else if (a === 'MS-CHAPv2') {
        const ph = ntPasswordHash(str(e, 'password'));
        expect(toHex(ph)).toBe(str(e, 'password_hash'));
        expect(toHex(hashNtPasswordHash(ph))).toBe(str(e, 'password_hash_hash'));
        const ac = hex(e.authenticator_challenge);
        const pc = hex(e.peer_challenge);
        expect(toHex(challengeHash(pc, ac, str(e, 'user_name')))).toBe(str(e, 'challenge'));
        const nt = generateNtResponse(ac, pc, str(e, 'user_name'), ph);
        expect(toHex(nt)).toBe(str(e, 'nt_response'));
        expect(generateAuthenticatorResponse(ph, nt, pc, ac, str(e, 'user_name'))).toBe(str(e, 'authenticator_response'));
      } else if (a.startsWith('MPPE')) {
        const master = getMasterKey(hex(e.password_hash_hash), hex(e.nt_response));
        expect(toHex(master)).toBe(str(e, 'master_key'));
        const len = a === 'MPPE 128-bit' ? 16 : 8;
        const start = getAsymmetricStartKey(master, len, true, true);
        expect(toHex(start)).toBe(str(e, 'send_start_key'));
        // the client's receive key is the same bytes (RFC 3079 3.4 Magic3 on both)
        expect(toHex(getAsymmetricStartKey(master, len, false, false))).toBe(str(e, 'send_start_key'));
        let session = getNewKeyFromSha(start, start, len);
        if (a === 'MPPE 40-bit') session = reduceSessionKey(session, 40);
        if (a === 'MPPE 56-bit') session = reduceSessionKey(session, 56);
        expect(toHex(session)).toBe(str(e, 'send_session_key'));
      } else {
        const ph = ntPasswordHash(str(e, 'password'));
        const master = getMasterKey(hashNtPasswordHash(ph), hex(e.nt_response));
        expect(toHex(getAsymmetricStartKey(master, 16, false, true))).toBe(str(e, 'master_receive_key'));
        expect(toHex(getAsymmetricStartKey(master, 16, true, true))).toBe(str(e, 'master_send_key'));
        expect(toHex(mschapv2Msk(ph, hex(e.nt_response)))).toBe(str(e, 'msk'));
      }
    });
  }
  it('a wrong password gives another NT-Response', () => {
    const e = file.entries.find((x) => x.id === 'rfc2759-9.2');
    if (e === undefined) throw new Error('rfc2759-9.2 missing');
    const nt = generateNtResponse(hex(e.authenticator_challenge), hex(e.peer_challenge), 'User', ntPasswordHash('clientPasS'));
    expect(toHex(nt)).not.toBe(str(e, 'nt_response'));
  });
  it('the domain part of DOMAIN\\User does not enter ChallengeHash (RFC 2759 8.2)', () => {
    const e = file.entries.find((x) => x.id === 'rfc2759-9.2');
    if (e === undefined) throw new Error('rfc2759-9.2 missing');
    expect(toHex(challengeHash(hex(e.peer_challenge), hex(e.authenticator_challenge), 'CORP\\User'))).toBe(str(e, 'challenge'));
  });
});

describe('vectors: eap_mschapv2_freeradius.json (FreeRADIUS 3.2.1 as the EAP-MSCHAPv2 server)', () => {
  const e = loadVectors('eap_mschapv2_freeradius.json').entries[0];
  if (e === undefined) throw new Error('no entry');
  const secrets = () => ({ kind: 'password' as const, password: str(e, 'password') });
  it('our peer answers FreeRADIUS byte for byte, accepts its authenticator response and derives the MSK', async () => {
    const peer = new MsChapV2Peer({ identity: str(e, 'user'), serverIdentity: 'freeradius', random: fixedRandom(hex(e.peer_challenge)), secrets });
    const r1 = await peer.process(hex(e.challenge_request));
    expect(r1.kind === 'send' && toHex(r1.eap)).toBe(str(e, 'response'));
    const r2 = await peer.process(hex(e.success_request));
    expect(r2.kind === 'send' && toHex(r2.eap)).toBe(str(e, 'success_response'));
    const done = peer.finish();
    expect(done.kind === 'success' && done.msk && toHex(done.msk)).toBe(str(e, 'msk'));
  });
  it('our server, with FreeRADIUS\'s challenge, accepts the response and sends the same authenticator response', async () => {
    const server = new MsChapV2Server({ identity: str(e, 'user'), ownIdentity: 'gw', random: fixedRandom(hex(e.authenticator_challenge)), secrets });
    const challenge = await server.initiate(1);
    // same Type, OpCode, MS-CHAPv2-ID, Value-Size and challenge; the Name (so the lengths) differ ('cygnet' vs 'freeradius-3.2.1')
    expect(toHex(challenge.subarray(4, 7))).toBe(str(e, 'challenge_request').slice(8, 14));
    expect(toHex(challenge.subarray(9, 26))).toBe(str(e, 'challenge_request').slice(18, 52));
    const s = await server.process(hex(e.response));
    if (s.kind !== 'send') throw new Error(`server did not accept the response: ${JSON.stringify(s)}`);
    expect(new TextDecoder().decode(s.eap.subarray(9)).split(' ')[0]).toBe(str(e, 'authenticator_response'));
    const ok = await server.process(hex(e.success_response));
    expect(ok.kind === 'success' && ok.msk && toHex(ok.msk)).toBe(str(e, 'msk'));
  });
});
