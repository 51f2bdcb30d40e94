/**
 * Two endpoints in one process bring up an IKE SA and its first CHILD SA (RFC 7296 1.2):
 *
 *   HDR, SAi1, KEi, Ni, N(NATD_S_IP), N(NATD_D_IP), N(FRAG_SUP), N(HASH_ALG)  -->
 *                         <--  HDR, SAr1, KEr, Nr, N(NATD_S_IP), N(NATD_D_IP), N(FRAG_SUP), N(HASH_ALG)
 *   HDR, SK {IDi, N(INIT_CONTACT), IDr, AUTH, SAi2, TSi, TSr}  -->        (now on UDP 4500, RFC 7296 2.23)
 *                         <--  HDR, SK {IDr, AUTH, SAr2, TSi, TSr}
 */
import { describe, expect, it } from 'vitest';
import { child, connection, pskCredentials } from '../../src/ike/config-builder.js';
import { makePair, captureSummary, type Side } from './pair.js';
import type { IkeEvent } from '../../src/ike/events.js';

const psk = pskCredentials([{ ids: ['moon.example', 'sun.example'], secret: 'v+NkxY9LLZvwj4qCC2o/gGrWDF2d21jL' }]);

function site(name: string, opts: { proposals: string; esp: string; localId: string; remoteId: string; remoteAddr?: string; localTs: string; remoteTs: string }) {
  return connection({
    name,
    proposals: opts.proposals,
    remoteAddrs: opts.remoteAddr ? [opts.remoteAddr] : ['%any'],
    local: { id: opts.localId },
    remote: { id: opts.remoteId },
    children: [child('net', { localTs: [opts.localTs], remoteTs: [opts.remoteTs], espProposals: opts.esp })],
  });
}

function setup(proposals: string, esp: string, o: Parameters<typeof makePair>[2] = {}, respProposals = proposals, respEsp = esp) {
  return makePair(
    { connections: [site('gw', { proposals, esp, localId: 'moon.example', remoteId: 'sun.example', remoteAddr: '192.0.2.2', localTs: '10.1.0.0/16', remoteTs: '10.2.0.0/16' })], credentials: psk },
    { connections: [site('gw', { proposals: respProposals, esp: respEsp, localId: 'sun.example', remoteId: 'moon.example', localTs: '10.2.0.0/16', remoteTs: '10.1.0.0/16' })], credentials: psk },
    o,
  );
}

const of = <T extends IkeEvent['type']>(s: Side, t: T) => s.events.filter((e): e is Extract<IkeEvent, { type: T }> => e.type === t);

function expectEstablished(a: Side, b: Side, suite: string, espSuite: string) {
  const [ua] = of(a, 'ike-up');
  const [ub] = of(b, 'ike-up');
  expect(ua?.sa.suite).toBe(suite);
  expect(ub?.sa.suite).toBe(suite);
  expect(Buffer.from(ua!.sa.spiI)).toEqual(Buffer.from(ub!.sa.spiI));
  expect(Buffer.from(ua!.sa.spiR)).toEqual(Buffer.from(ub!.sa.spiR));
  expect(ua!.sa.encapsulated && ub!.sa.encapsulated).toBe(true);
  const [ca] = of(a, 'child-install');
  const [cb] = of(b, 'child-install');
  expect(ca && cb).toBeTruthy();
  // Each side's inbound SA is the other's outbound one, with the same keys.
  expect(ca!.inbound.spi).toBe(cb!.outbound.spi);
  expect(ca!.outbound.spi).toBe(cb!.inbound.spi);
  expect(Buffer.from(ca!.inbound.encrKey)).toEqual(Buffer.from(cb!.outbound.encrKey));
  expect(Buffer.from(ca!.outbound.integKey)).toEqual(Buffer.from(cb!.inbound.integKey));
  expect(ca!.child.suite).toBe(espSuite);
  expect(ca!.child.localTs.length).toBe(1);
}

const SUITES: [string, string, string, string][] = [
  ['aes128gcm16-prfsha256-x25519', 'aes128gcm16', 'AES_GCM_16-128/PRF_HMAC_SHA2_256/CURVE_25519', 'AES_GCM_16-128'],
  ['aes256gcm16-prfsha384-ecp384', 'aes256gcm16', 'AES_GCM_16-256/PRF_HMAC_SHA2_384/ECP_384', 'AES_GCM_16-256'],
  ['aes256-sha256-modp2048', 'aes256-sha256', 'AES_CBC-256/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_2048', 'AES_CBC-256/HMAC_SHA2_256_128'],
  ['chacha20poly1305-prfsha256-x25519', 'chacha20poly1305', 'CHACHA20_POLY1305/PRF_HMAC_SHA2_256/CURVE_25519', 'CHACHA20_POLY1305'],
  ['aes128-sha1-ecp256', 'aes128-sha1', 'AES_CBC-128/HMAC_SHA1_96/PRF_HMAC_SHA1/ECP_256', 'AES_CBC-128/HMAC_SHA1_96'],
  ['aes192ccm16-prfsha512-x448', 'aes128ccm16', 'AES_CCM_16-192/PRF_HMAC_SHA2_512/CURVE_448', 'AES_CCM_16-128'],
  ['aes128ctr-sha512-ecp521', 'aes128ctr-sha384', 'AES_CTR-128/HMAC_SHA2_512_256/PRF_HMAC_SHA2_512/ECP_521', 'AES_CTR-128/HMAC_SHA2_384_192'],
  ['aes128-aesxcbc-prfaesxcbc-modp3072', 'aes128gcm12', 'AES_CBC-128/AES_XCBC_96/PRF_AES128_XCBC/MODP_3072', 'AES_GCM_12-128'],
  ['aes256-aescmac-prfaescmac-x25519', 'aes256gcm8', 'AES_CBC-256/AES_CMAC_96/PRF_AES128_CMAC/CURVE_25519', 'AES_GCM_8-256'],
];

describe('IKE_SA_INIT + IKE_AUTH (PSK) between two cygnet endpoints', () => {
  it.each(SUITES)('%s / ESP %s', (ike, esp, suite, espSuite) => {
    const { sim, net, a, b } = setup(ike, esp);
    a.ep.initiate('gw', 0);
    const r = sim.runUntil(() => of(a, 'child-install').length > 0 && of(b, 'child-install').length > 0, { maxTime: 60_000 });
    expect(r.ok).toBe(true);
    expectEstablished(a, b, suite, espSuite);
    // Exactly four messages without loss: IKE_SA_INIT request/response, IKE_AUTH request/response.
    expect(captureSummary(net)).toEqual(['34q0', '34r0', '35q1', '35r1']);
    // And their payloads, as each side logged them before encryption (RFC 7296 1.2):
    const sent = (s: Side) => s.logs.filter((l) => l.includes('sending')).map((l) => l.replace(/^\[[^\]]*\] /, ''));
    expect(sent(a)).toEqual([
      'sending IKE_SA_INIT request 0 [ SA KE No N(NATD_S_IP) N(NATD_D_IP) N(FRAG_SUP) N(HASH_ALG) ]',
      'sending IKE_AUTH request 1 [ IDi N(INIT_CONTACT) N(MOBIKE_SUP) IDr AUTH SA TSi TSr ]',
    ]);
    expect(sent(b)).toEqual([
      'sending IKE_SA_INIT response 0 [ SA KE No N(NATD_S_IP) N(NATD_D_IP) N(FRAG_SUP) N(HASH_ALG) ]',
      'sending IKE_AUTH response 1 [ IDr AUTH SA TSi TSr N(MOBIKE_SUP) ]',
    ]);
  });

  it.each([1, 2, 3, 4, 5])('survives 30%% loss, duplication and reordering (seed %i)', (seed) => {
    const { sim, a, b } = setup('aes128gcm16-prfsha256-x25519', 'aes128gcm16', { seed, impairment: { loss: 0.3, duplicate: 0.2, reorder: 0.3, reorderDelay: 50, delay: 5, jitter: 10 } });
    a.ep.initiate('gw', 0);
    const r = sim.runUntil(() => of(a, 'child-install').length > 0 && of(b, 'child-install').length > 0, { maxTime: 200_000 });
    expect(r.ok).toBe(true);
    expectEstablished(a, b, 'AES_GCM_16-128/PRF_HMAC_SHA2_256/CURVE_25519', 'AES_GCM_16-128');
    // Duplicates never create a second SA on either side.
    expect(of(a, 'child-install')).toHaveLength(1);
    expect(of(b, 'child-install')).toHaveLength(1);
    expect(a.ep.listSas()).toHaveLength(1);
    expect(b.ep.listSas()).toHaveLength(1);
  });

  it('retries with the group the responder asks for (INVALID_KE_PAYLOAD)', () => {
    const { sim, net, a, b } = setup('aes128gcm16-prfsha256-x25519-ecp256', 'aes128gcm16', {}, 'aes128gcm16-prfsha256-ecp256');
    a.ep.initiate('gw', 0);
    expect(sim.runUntil(() => of(a, 'ike-up').length > 0, { maxTime: 60_000 }).ok).toBe(true);
    // IKE_SA_INIT twice (the first answered with N(INVALID_KE_PAYLOAD)), then IKE_AUTH.
    expect(captureSummary(net)).toEqual(['34q0', '34r0', '34q0', '34r0', '35q1', '35r1']);
    expect(of(b, 'ike-up')[0]?.sa.suite).toBe('AES_GCM_16-128/PRF_HMAC_SHA2_256/ECP_256');
  });

  it('narrows traffic selectors (RFC 7296 2.9)', () => {
    const { sim, a, b } = makePair(
      { connections: [site('gw', { proposals: 'default', esp: 'default', localId: 'moon.example', remoteId: 'sun.example', remoteAddr: '192.0.2.2', localTs: '10.1.0.0/16', remoteTs: '0.0.0.0/0' })], credentials: psk },
      { connections: [site('gw', { proposals: 'default', esp: 'default', localId: 'sun.example', remoteId: 'moon.example', localTs: '10.2.3.0/24', remoteTs: '10.1.0.0/16' })], credentials: psk },
    );
    a.ep.initiate('gw', 0);
    expect(sim.runUntil(() => of(a, 'child-install').length > 0, { maxTime: 60_000 }).ok).toBe(true);
    const c = of(a, 'child-install')[0]!.child;
    expect(c.remoteTs.map((t) => Array.from(t.startAddr).join('.'))).toEqual(['10.2.3.0']);
    expect(of(b, 'child-install')[0]!.child.localTs.map((t) => Array.from(t.endAddr).join('.'))).toEqual(['10.2.3.255']);
  });
});

describe('failures are reported on both sides', () => {
  it('a wrong PSK: AUTHENTICATION_FAILED with the identities named', () => {
    const { sim, a, b } = makePair(
      { connections: [site('gw', { proposals: 'default', esp: 'default', localId: 'moon.example', remoteId: 'sun.example', remoteAddr: '192.0.2.2', localTs: '10.1.0.0/16', remoteTs: '10.2.0.0/16' })], credentials: pskCredentials([{ ids: ['moon.example'], secret: 'right' }]) },
      { connections: [site('gw', { proposals: 'default', esp: 'default', localId: 'sun.example', remoteId: 'moon.example', localTs: '10.2.0.0/16', remoteTs: '10.1.0.0/16' })], credentials: pskCredentials([{ ids: ['sun.example'], secret: 'wrong' }]) },
    );
    a.ep.initiate('gw', 0);
    sim.runUntil(() => of(a, 'ike-down').length > 0 && of(b, 'ike-down').length > 0, { maxTime: 60_000 });
    expect(of(a, 'ike-down')[0]?.reason).toBe('auth-failed');
    expect(of(b, 'ike-down')[0]?.reason).toBe('auth-failed');
    expect(of(a, 'auth-failed')[0]?.message).toMatch(/AUTHENTICATION_FAILED.*'moon.example' <-> 'sun.example'/);
    expect(of(b, 'auth-failed')[0]?.message).toMatch(/pre-shared key authentication of 'moon.example' failed.*'sun.example' <-> 'moon.example'/);
    expect(a.ep.listSas()).toHaveLength(0);
    expect(b.ep.listSas()).toHaveLength(0);
  });

  it('a proposal mismatch: NO_PROPOSAL_CHOSEN and a diagnostic naming the differing transform types', () => {
    const { sim, a, b } = setup('aes256gcm16-prfsha384-ecp384', 'aes256gcm16', {}, 'aes128gcm16-prfsha256-x25519');
    a.ep.initiate('gw', 0);
    sim.runUntil(() => of(a, 'ike-down').length > 0, { maxTime: 60_000 });
    expect(of(a, 'ike-down')[0]?.reason).toBe('no-proposal');
    const diag = b.logs.find((l) => l.includes('no acceptable IKE proposal'));
    expect(diag).toMatch(/encryption differs \(we offer AES_GCM_16_128, peer offers AES_GCM_16_256\)/);
    expect(diag).toMatch(/PRF differs/);
    expect(diag).toMatch(/key exchange differs \(we offer CURVE_25519, peer offers ECP_384\)/);
    expect(diag).toMatch(/received proposals: IKE:AES_GCM_16_256\/PRF_HMAC_SHA2_384\/ECP_384/);
    expect(b.ep.listSas()).toHaveLength(0);
  });

  it('an ESP proposal mismatch keeps the IKE SA and reports the CHILD SA failure', () => {
    const { sim, a, b } = setup('aes128gcm16-prfsha256-x25519', 'aes256gcm16', {}, 'aes128gcm16-prfsha256-x25519', 'aes128-sha256');
    a.ep.initiate('gw', 0);
    sim.runUntil(() => of(a, 'child-failed').length > 0, { maxTime: 60_000 });
    expect(of(a, 'ike-up')).toHaveLength(1);
    expect(of(a, 'child-failed')[0]?.notify).toBe('NO_PROPOSAL_CHOSEN');
    expect(b.logs.some((l) => /no acceptable ESP proposal: encryption differs/.test(l))).toBe(true);
  });

  it('an unreachable peer: retransmissions with backoff, then the SA is given up', () => {
    const { sim, net, a } = setup('default', 'default', { impairment: { loss: 1 } });
    a.ep.initiate('gw', 0);
    const r = sim.runUntil(() => of(a, 'ike-down').length > 0, { maxTime: 400_000 });
    expect(r.ok).toBe(true);
    expect(of(a, 'ike-down')[0]?.reason).toBe('timeout');
    const sends = net.captured({ event: 'send' }).map((c) => c.time);
    expect(sends).toEqual([0, 4000, 11200, 24160, 47488, 89478]);
    expect(Math.round(r.now / 1000)).toBe(165);
  });
});

describe('keyingtries', () => {
  it.each([
    [3, 3],
    [1, 1],
  ])('keyingtries = %i: %i retransmission sequences, each with a fresh IKE SA', (tries, sequences) => {
    const mk = (l: string, r: string, addr?: string) => connection({ name: 'gw', keyingTries: tries, remoteAddrs: addr ? [addr] : ['%any'], local: { id: l }, remote: { id: r }, children: [child('net')] });
    const { sim, net, a } = makePair({ connections: [mk('moon.example', 'sun.example', '192.0.2.2')], credentials: psk }, { connections: [], credentials: psk }, { impairment: { loss: 1 }, settings: { retransmit: { timeoutMs: 1000, base: 2, tries: 2, limitMs: 0, jitterPercent: 0 } } });
    a.ep.initiate('gw', 0);
    sim.runFor(120_000);
    const downs = of(a, 'ike-down');
    expect(downs).toHaveLength(sequences);
    expect(new Set(downs.map((d) => Buffer.from(d.sa.spiI).toString('hex'))).size).toBe(sequences);
    // Each sequence: the request and 2 retransmissions.
    expect(net.captured({ event: 'send' })).toHaveLength(3 * sequences);
    expect(a.ep.listSas()).toHaveLength(0);
  });

  it('keyingtries = 0 keeps trying until the peer answers, then brings up the CHILD SA', () => {
    const mk = (l: string, r: string, addr?: string) => connection({ name: 'gw', keyingTries: 0, remoteAddrs: addr ? [addr] : ['%any'], local: { id: l }, remote: { id: r }, children: [child('net')] });
    const { sim, net, a, b } = makePair({ connections: [mk('moon.example', 'sun.example', '192.0.2.2')], credentials: psk }, { connections: [mk('sun.example', 'moon.example')], credentials: psk }, { settings: { retransmit: { timeoutMs: 1000, base: 2, tries: 2, limitMs: 0, jitterPercent: 0 } } });
    const block = net.dropIf(() => true);
    a.ep.initiate('gw', 0);
    sim.runFor(60_000);
    expect(of(a, 'ike-down').length).toBeGreaterThanOrEqual(5);
    block.remove();
    expect(sim.runUntil(() => of(a, 'child-install').length > 0 && of(b, 'child-install').length > 0, { maxTime: 60_000 }).ok).toBe(true);
  });
});

describe('INFORMATIONAL deletes', () => {
  for (const who of ['initiator', 'responder'] as const) {
    it(`a Delete of the IKE SA from the ${who} is honoured`, () => {
      const { sim, a, b } = setup('default', 'default');
      a.ep.initiate('gw', 0);
      sim.runUntil(() => of(b, 'child-install').length > 0 && of(a, 'child-install').length > 0, { maxTime: 60_000 });
      const [x, y] = who === 'initiator' ? [a, b] : [b, a];
      x.ep.terminateIke(x.ep.listSas()[0]!.sa.id, sim.now);
      sim.runUntil(() => of(a, 'ike-down').length > 0 && of(b, 'ike-down').length > 0, { maxTime: 60_000 });
      expect(of(x, 'ike-down')[0]?.reason).toBe('deleted');
      expect(of(y, 'ike-down')[0]?.reason).toBe('deleted-by-peer');
      expect(of(a, 'child-remove')).toHaveLength(1);
      expect(of(b, 'child-remove')).toHaveLength(1);
      expect(a.ep.listSas()).toHaveLength(0);
      expect(b.ep.listSas()).toHaveLength(0);
    });
    it(`a Delete of a CHILD SA from the ${who} is honoured and the IKE SA stays`, () => {
      const { sim, a, b } = setup('default', 'default');
      a.ep.initiate('gw', 0);
      sim.runUntil(() => of(b, 'child-install').length > 0 && of(a, 'child-install').length > 0, { maxTime: 60_000 });
      const [x] = who === 'initiator' ? [a] : [b];
      x.ep.terminateChild(x.ep.listSas()[0]!.children[0]!.id, sim.now);
      sim.runUntil(() => of(a, 'child-remove').length > 0 && of(b, 'child-remove').length > 0, { maxTime: 60_000 });
      expect(a.ep.listSas()[0]!.children).toHaveLength(0);
      expect(b.ep.listSas()[0]!.children).toHaveLength(0);
      expect(a.ep.listSas()[0]!.sa.state).toBe('ESTABLISHED');
    });
  }
});
