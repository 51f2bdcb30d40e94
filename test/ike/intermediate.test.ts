/**
 * Hybrid post-quantum IKE between two cygnet endpoints (issue 18): RFC 9370 additional key exchanges with ML-KEM,
 * carried in IKE_INTERMEDIATE exchanges (RFC 9242):
 *
 *   HDR(IKE_SA_INIT, 0), SAi1, KEi, Ni, ..., N(INTERMEDIATE_EXCHANGE_SUPPORTED)  -->
 *                      <--  HDR(IKE_SA_INIT, 0), SAr1, KEr, Nr, ..., N(INTERMEDIATE_EXCHANGE_SUPPORTED)
 *   HDR(IKE_INTERMEDIATE, 1), SK {KEi(1) = ML-KEM encapsulation key}  -->
 *                      <--  HDR(IKE_INTERMEDIATE, 1), SK {KEr(1) = ML-KEM ciphertext}
 *   [HDR(IKE_INTERMEDIATE, 2) ... for ke2_]
 *   HDR(IKE_AUTH, n+1), SK {IDi, AUTH, SAi2, TSi, TSr}  -->   (AUTH covers IntAuth_iN | IntAuth_rN | IKE_AUTH_MID)
 */
import { describe, expect, it } from 'vitest';
import { child, connection, pskCredentials } from '../../src/ike/config-builder.js';
import { encodePayloads } from '../../src/ike/codec/index.js';
import { ExchangeType, NotifyType, PayloadType, ProtocolId } from '../../src/ike/codec/types.js';
import { encodePayloadBody } from '../../src/ike/codec/payloads.js';
import { toSaProposals } from '../../src/ike/negotiate.js';
import { parseProposals } from '../../src/crypto/proposals.js';
import type { IkeEvent } from '../../src/ike/events.js';
import { captureSummary, expectConsistent, makePair, type Side } from './pair.js';

const psk = pskCredentials([{ ids: ['moon.example', 'sun.example'], secret: 'v+NkxY9LLZvwj4qCC2o/gGrWDF2d21jL' }]);

function site(name: string, proposals: string, localId: string, remoteId: string, localTs: string, remoteTs: string, remoteAddr?: string) {
  return connection({
    name,
    proposals,
    remoteAddrs: remoteAddr ? [remoteAddr] : ['%any'],
    local: { id: localId },
    remote: { id: remoteId },
    children: [child('net', { localTs: [localTs], remoteTs: [remoteTs], espProposals: 'aes256gcm16' })],
  });
}

function setup(initiator: string, responder: string) {
  return makePair(
    { connections: [site('gw', initiator, 'moon.example', 'sun.example', '10.1.0.0/16', '10.2.0.0/16', '192.0.2.2')], credentials: psk },
    { connections: [site('gw', responder, 'sun.example', 'moon.example', '10.2.0.0/16', '10.1.0.0/16')], credentials: psk },
  );
}

const of = <T extends IkeEvent['type']>(s: Side, t: T) => s.events.filter((e): e is Extract<IkeEvent, { type: T }> => e.type === t);
const sent = (s: Side) => s.logs.filter((l) => l.includes('sending')).map((l) => l.replace(/^\[[^\]]*\] /, ''));
/** Consecutive fragments of one message collapse to one entry. */
const exchanges = (summary: string[]) => summary.filter((x, i) => x !== summary[i - 1]);

function expectChildKeysAgree(a: Side, b: Side): void {
  const [ca] = of(a, 'child-install');
  const [cb] = of(b, 'child-install');
  expect(ca && cb).toBeTruthy();
  expect(ca!.inbound.spi).toBe(cb!.outbound.spi);
  expect(Buffer.from(ca!.inbound.encrKey)).toEqual(Buffer.from(cb!.outbound.encrKey));
  expect(Buffer.from(ca!.outbound.encrKey)).toEqual(Buffer.from(cb!.inbound.encrKey));
}

describe('RFC 9370 additional key exchanges in IKE_INTERMEDIATE (RFC 9242)', () => {
  it('x25519-ke1_mlkem768: one IKE_INTERMEDIATE, IKE_AUTH as message 2, keys agree', () => {
    const p = 'aes256gcm16-prfsha384-x25519-ke1_mlkem768';
    const { sim, net, a, b } = setup(p, p);
    a.ep.initiate('gw', 0);
    expect(sim.runUntil(() => of(a, 'child-install').length > 0 && of(b, 'child-install').length > 0, { maxTime: 60_000 }).ok).toBe(true);
    const suite = 'AES_GCM_16-256/PRF_HMAC_SHA2_384/CURVE_25519/KE1_ML_KEM_768';
    expect(of(a, 'ike-up')[0]?.sa.suite).toBe(suite);
    expect(of(b, 'ike-up')[0]?.sa.suite).toBe(suite);
    // 34 IKE_SA_INIT, 43 IKE_INTERMEDIATE, 35 IKE_AUTH with message ID n+1 = 2 (RFC 9242 3)
    expect(exchanges(captureSummary(net))).toEqual(['34q0', '34r0', '43q1', '43r1', '35q2', '35r2']);
    // strongSwan 6 names the notify N(IKE_INT_SUP) in the same place
    expect(sent(a).slice(0, 2)).toEqual([
      'sending IKE_SA_INIT request 0 [ SA KE No N(NATD_S_IP) N(NATD_D_IP) N(FRAG_SUP) N(HASH_ALG) N(IKE_INT_SUP) ]',
      'sending IKE_INTERMEDIATE request 1 [ KE ]',
    ]);
    expect(sent(b)[0]).toBe('sending IKE_SA_INIT response 0 [ SA KE No N(NATD_S_IP) N(NATD_D_IP) N(FRAG_SUP) N(HASH_ALG) N(IKE_INT_SUP) ]');
    expect(sent(b)[1]).toBe('sending IKE_INTERMEDIATE response 1 [ KE ]');
    expect(a.logs.some((l) => l.includes('additional key exchange KE1_ML_KEM_768 done, IKE SA keys updated (RFC 9370 2.2.2)'))).toBe(true);
    expectChildKeysAgree(a, b);
    expectConsistent(a, b, 1);
  });

  it('a responder with ke1_mlkem768-ke1_none does not announce IKE_INTERMEDIATE to a classic initiator', () => {
    const { sim, a, b } = setup('aes256gcm16-prfsha384-x25519', 'aes256gcm16-prfsha384-x25519-ke1_mlkem768-ke1_none');
    a.ep.initiate('gw', 0);
    expect(sim.runUntil(() => of(b, 'ike-up').length > 0, { maxTime: 60_000 }).ok).toBe(true);
    expect(sent(a)[0]).not.toContain('IKE_INT_SUP');
    expect(sent(b)[0]).not.toContain('IKE_INT_SUP');
  });

  it('ke1_mlkem768-ke2_mlkem1024: two IKE_INTERMEDIATE exchanges, fragmented (RFC 9242 3.4), IKE_AUTH as message 3', () => {
    const p = 'aes256gcm16-prfsha384-x25519-ke1_mlkem768-ke2_mlkem1024';
    const { sim, net, a, b } = setup(p, p);
    a.ep.initiate('gw', 0);
    expect(sim.runUntil(() => of(a, 'child-install').length > 0 && of(b, 'child-install').length > 0, { maxTime: 60_000 }).ok).toBe(true);
    expect(of(b, 'ike-up')[0]?.sa.suite).toBe('AES_GCM_16-256/PRF_HMAC_SHA2_384/CURVE_25519/KE1_ML_KEM_768/KE2_ML_KEM_1024');
    const summary = captureSummary(net);
    expect(exchanges(summary)).toEqual(['34q0', '34r0', '43q1', '43r1', '43q2', '43r2', '35q3', '35r3']);
    // the ML-KEM-1024 encapsulation key (1568 bytes) does not fit one 1280-byte datagram: RFC 7383 fragments
    expect(summary.filter((x) => x === '43q2').length).toBeGreaterThan(1);
    expect(b.logs.some((l) => /IKE message 2 reassembled from \d+ fragments/.test(l))).toBe(true);
    expectChildKeysAgree(a, b);
    expectConsistent(a, b, 1);
  });

  it('ke1_none: a responder without additional key exchanges negotiates down (RFC 9370 2.2.1)', () => {
    const { sim, net, a, b } = setup('aes256gcm16-prfsha384-x25519-ke1_mlkem768-ke1_none', 'aes256gcm16-prfsha384-x25519');
    a.ep.initiate('gw', 0);
    expect(sim.runUntil(() => of(a, 'child-install').length > 0 && of(b, 'child-install').length > 0, { maxTime: 60_000 }).ok).toBe(true);
    expect(of(a, 'ike-up')[0]?.sa.suite).toBe('AES_GCM_16-256/PRF_HMAC_SHA2_384/CURVE_25519');
    expect(exchanges(captureSummary(net))).toEqual(['34q0', '34r0', '35q1', '35r1']);
    expectChildKeysAgree(a, b);
  });

  it('a required ke1_mlkem768 against a responder without it fails with NO_PROPOSAL_CHOSEN, both sides saying why', () => {
    const { sim, a, b } = setup('aes256gcm16-prfsha384-x25519-ke1_mlkem768', 'aes256gcm16-prfsha384-x25519');
    a.ep.initiate('gw', 0);
    sim.runUntil(() => of(a, 'ike-down').length > 0, { maxTime: 60_000 });
    expect(of(a, 'ike-down')[0]?.reason).toBe('no-proposal');
    expect(of(a, 'ike-down')[0]?.message).toMatch(/every proposal requires additional key exchanges \(KE1_ML_KEM_768\), which a peer without RFC 9370 support .* refuses: add ke<n>_none/);
    expect(of(a, 'child-install')).toHaveLength(0);
    expect(b.logs.some((l) => l.includes('additional key exchange ADDKE1 differs (we offer KE1_NONE, peer offers KE1_ML_KEM_768 (required); RFC 9370 2.2.1)'))).toBe(true);
  });

  it('a responder requiring ke1_mlkem768 refuses an initiator without it', () => {
    const { sim, a, b } = setup('aes256gcm16-prfsha384-x25519', 'aes256gcm16-prfsha384-x25519-ke1_mlkem768');
    a.ep.initiate('gw', 0);
    sim.runUntil(() => of(a, 'ike-down').length > 0, { maxTime: 60_000 });
    expect(of(a, 'ike-down')[0]?.reason).toBe('no-proposal');
    expect(b.logs.some((l) => l.includes('we offer KE1_ML_KEM_768 (required), peer offers KE1_NONE'))).toBe(true);
  });

  it('an additional x25519 exchange (a DH group as ADDKE1) works too', () => {
    const p = 'aes128gcm16-prfsha256-ecp256-ke1_x25519';
    const { sim, a, b } = setup(p, p);
    a.ep.initiate('gw', 0);
    expect(sim.runUntil(() => of(a, 'child-install').length > 0 && of(b, 'child-install').length > 0, { maxTime: 60_000 }).ok).toBe(true);
    expect(of(a, 'ike-up')[0]?.sa.suite).toBe('AES_GCM_16-128/PRF_HMAC_SHA2_256/ECP_256/KE1_CURVE_25519');
    expectChildKeysAgree(a, b);
  });
});

describe('rekeying an SA made with additional key exchanges', () => {
  for (const who of ['initiator', 'responder'] as const) {
    it(`IKE rekey by the ${who}: classic exchange only (IKE_FOLLOWUP_KE not done), suite says so, CHILD SA moves and rekeys`, () => {
      const p = 'aes256gcm16-prfsha384-x25519-ke1_mlkem768';
      const { sim, net, a, b } = setup(p, p);
      a.ep.initiate('gw', 0);
      expect(sim.runUntil(() => of(a, 'child-install').length > 0 && of(b, 'child-install').length > 0, { maxTime: 60_000 }).ok).toBe(true);
      const [x] = who === 'initiator' ? [a] : [b];
      const id = x.ep.listSas()[0]!.sa.id;
      expect(x.ep.rekeyIke(id, sim.now)).toBe(true);
      expect(sim.runUntil(() => of(a, 'ike-down').length === 1 && of(b, 'ike-down').length === 1, { maxTime: 60_000 }).ok).toBe(true);
      expect(of(a, 'ike-down')[0]!.reason).toBe('rekeyed');
      expectConsistent(a, b, 1);
      // the SA payload of the rekey carried no ADDKE transform, and the successor names only what it negotiated
      expect(a.ep.listSas()[0]!.sa.suite).toBe('AES_GCM_16-256/PRF_HMAC_SHA2_384/CURVE_25519');
      expect(b.ep.listSas()[0]!.sa.suite).toBe('AES_GCM_16-256/PRF_HMAC_SHA2_384/CURVE_25519');
      expect(exchanges(captureSummary(net)).filter((e) => e.startsWith('44'))).toEqual([]);
      // the rekeyed IKE SA works: a CHILD rekey over it
      const child = a.ep.listSas()[0]!.children[0]!.id;
      expect(a.ep.rekeyChild(child, sim.now)).toBe(true);
      expect(sim.runUntil(() => of(a, 'child-remove').length === 1 && of(b, 'child-remove').length === 1, { maxTime: 60_000 }).ok).toBe(true);
      expectConsistent(a, b, 1);
    });
  }
});

describe('payload encodings against the RFC text', () => {
  it('RFC 9370 3 / RFC 7296 3.3.2: an ADDKE1 transform is Transform Type 6 with the Transform Type 4 ID', () => {
    const [prop] = toSaProposals(parseProposals('aes256gcm16-prfsha384-x25519-ke1_mlkem768-ke2_mlkem1024', 'ike'), ProtocolId.IKE, new Uint8Array(0));
    const body = encodePayloadBody({ type: PayloadType.SA, critical: false, proposals: [prop!] });
    // Transform substructure (RFC 7296 3.3.2):
    //   Last Substruc (1 octet: 3 = more, 0 = last) | RESERVED | Transform Length (2) | Transform Type | RESERVED | Transform ID (2)
    const hex = Buffer.from(body).toString('hex');
    expect(hex).toContain('030000080600' + '0024'); // more follows, 8 bytes, type 6 (ADDKE1), ML-KEM-768 = 36
    expect(hex.endsWith('000000080700' + '0025')).toBe(true); // last, 8 bytes, type 7 (ADDKE2), ML-KEM-1024 = 37
  });

  it('RFC 9370 2.2.2 / RFC 7296 3.4: the KE payload of IKE_INTERMEDIATE carries the method number and the ML-KEM value', () => {
    const data = new Uint8Array(1184).fill(0xab);
    const bytes = encodePayloads([{ type: PayloadType.KE, critical: false, group: 36, data }]);
    // Next Payload 0 | C + RESERVED 0 | Payload Length 8 + 1184 = 0x04a8 | Key Exchange Method Num 36 | RESERVED 0 | data
    expect(Buffer.from(bytes.subarray(0, 8)).toString('hex')).toBe('000004a800240000');
    expect(bytes.length).toBe(8 + 1184);
  });

  it('RFC 9242 3.2: INTERMEDIATE_EXCHANGE_SUPPORTED is a status notify 16438 with no SPI and no data', () => {
    const bytes = encodePayloads([{ type: PayloadType.NOTIFY, critical: false, protocol: 0, spi: new Uint8Array(0), notifyType: NotifyType.INTERMEDIATE_EXCHANGE_SUPPORTED, data: new Uint8Array(0) }]);
    // Next Payload | C/RESERVED | Length 8 | Protocol ID 0 | SPI Size 0 | Notify Message Type 16438 = 0x4036
    expect(Buffer.from(bytes).toString('hex')).toBe('0000000800004036');
    expect(ExchangeType.IKE_INTERMEDIATE).toBe(43);
  });
});
