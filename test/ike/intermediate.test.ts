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
import { decodeMessage, decodePayloads, encodeMessage, encodePayloads, encryptSK, openEncrypted } from '../../src/ike/codec/index.js';
import { seededRandom } from '../../src/crypto/random.js';
import type { IkeSa } from '../../src/ike/ike-sa.js';
import { ExchangeType, NotifyType, PayloadType, ProtocolId, type Payload } from '../../src/ike/codec/types.js';
import { encodePayloadBody } from '../../src/ike/codec/payloads.js';
import { toSaProposals } from '../../src/ike/negotiate.js';
import { parseProposals } from '../../src/crypto/proposals.js';
import type { IkeEvent } from '../../src/ike/events.js';
import { captureSummary, crypto, expectConsistent, makePair, type Side } from './pair.js';

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
    it(`IKE rekey by the ${who}: CREATE_CHILD_SA then IKE_FOLLOWUP_KE (RFC 9370 2.2.4), suite names KE1, CHILD SA moves and rekeys`, () => {
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
      // the rekey negotiated ADDKE1 again and ran it in one IKE_FOLLOWUP_KE exchange (request and response)
      expect(a.ep.listSas()[0]!.sa.suite).toBe('AES_GCM_16-256/PRF_HMAC_SHA2_384/CURVE_25519/KE1_ML_KEM_768');
      expect(b.ep.listSas()[0]!.sa.suite).toBe('AES_GCM_16-256/PRF_HMAC_SHA2_384/CURVE_25519/KE1_ML_KEM_768');
      expect(exchanges(captureSummary(net)).filter((e) => e.startsWith('44') || e.startsWith('IKE_FOLLOWUP_KE'))).toHaveLength(2);
      // the rekeyed IKE SA works: a CHILD rekey over it
      const child = a.ep.listSas()[0]!.children[0]!.id;
      expect(a.ep.rekeyChild(child, sim.now)).toBe(true);
      expect(sim.runUntil(() => of(a, 'child-remove').length === 1 && of(b, 'child-remove').length === 1, { maxTime: 60_000 }).ok).toBe(true);
      expectConsistent(a, b, 1);
    });
  }
});

describe('bad IKE_INTERMEDIATE input: a clear error naming cause and place', () => {
  const strip = (b: Uint8Array) => (b.length >= 4 && b[0] === 0 && b[1] === 0 && b[2] === 0 && b[3] === 0 ? b.subarray(4) : b);
  const rnd = seededRandom(5);
  const P = 'aes256gcm16-prfsha384-x25519-ke1_mlkem768';

  /** IKE_SA_INIT done, A's IKE_INTERMEDIATE request lost: B waits for message 1 with the pre-update keys. */
  function atIntermediate() {
    const p = setup(P, P);
    p.net.dropIf((i) => i.from.address === p.a.address && strip(i.bytes)[18] === ExchangeType.IKE_INTERMEDIATE);
    p.a.ep.initiate('gw', 0);
    p.sim.runFor(200);
    const aSa = p.a.ep.ikeSa(p.a.ep.listSas()[0]!.sa.id)!;
    return { ...p, aSa };
  }
  function seal(from: IkeSa, exchangeType: number, messageId: number, payloads: readonly Payload[]): Uint8Array {
    return encryptSK({ spiI: from.spiI, spiR: from.spiR, exchangeType, flags: { initiator: true, response: false, version: false }, messageId }, payloads, from.keys!.out, rnd);
  }
  function inject(p: ReturnType<typeof atIntermediate>, data: Uint8Array): Uint8Array[] {
    const { a, b } = p;
    b.ep.receive(data, { address: b.address, port: 4500 }, { address: a.address, port: 4500 }, p.sim.now);
    const out: Uint8Array[] = [];
    for (let t = b.ep.pollTransmit(); t; t = b.ep.pollTransmit()) out.push(t.data);
    for (let e = b.ep.pollEvent(); e; e = b.ep.pollEvent()) if (e.type === 'log') b.logs.push(e.message);
    else b.events.push(e);
    return out;
  }
  const answer = (bSa: IkeSa | undefined, keys: IkeSa['keys'], data: Uint8Array) => {
    const m = decodeMessage(strip(data));
    if (!m.ok || !m.value.encrypted) throw new Error('not SK');
    const o = openEncrypted(strip(data), m.value.encrypted, keys!.out === undefined ? bSa!.keys!.in : keys!.in);
    if (!o.ok) throw new Error(o.error.message);
    const d = decodePayloads(o.value.plaintext, o.value.firstInnerType);
    if (!d.ok) throw new Error(d.error.message);
    return d.value;
  };

  it('a KE payload of another method: INVALID_SYNTAX, naming the expected exchange and the method received', () => {
    const p = atIntermediate();
    const keys = p.aSa.keys;
    const [resp] = inject(p, seal(p.aSa, ExchangeType.IKE_INTERMEDIATE, 1, [{ type: PayloadType.KE, critical: false, group: 35, data: new Uint8Array(800) }]));
    expect(resp).toBeDefined();
    expect(answer(undefined, keys, resp!).map((x) => (x.type === PayloadType.NOTIFY ? x.notifyType : x.type))).toEqual([NotifyType.INVALID_SYNTAX]);
    expect(p.b.logs.some((l) => l.includes('IKE_INTERMEDIATE request 1 from 192.0.2.1[4500] lacks the KE payload of KE1_ML_KEM_768 (it carries method 35) (RFC 9370 2.2.2)'))).toBe(true);
    expect(of(p.b, 'ike-down')[0]?.reason).toBe('invalid-syntax');
  });

  it('a malformed ML-KEM encapsulation key (wrong length): INVALID_SYNTAX naming the key', () => {
    const p = atIntermediate();
    const [resp] = inject(p, seal(p.aSa, ExchangeType.IKE_INTERMEDIATE, 1, [{ type: PayloadType.KE, critical: false, group: 36, data: new Uint8Array(1000) }]));
    expect(resp).toBeDefined();
    const line = p.b.logs.find((l) => l.includes('invalid IKE_INTERMEDIATE request 1'));
    expect(line).toMatch(/\(KE1_ML_KEM_768\): ML-KEM-768 \(method 36\): initiator's encapsulation key is 1000 bytes, must be 1184 .*; answering INVALID_SYNTAX/);
    expect(of(p.b, 'ike-down')[0]?.reason).toBe('invalid-syntax');
  });

  it('IKE_AUTH before the negotiated IKE_INTERMEDIATE: refused (no silent downgrade to the classic exchange)', () => {
    const p = atIntermediate();
    const [resp] = inject(p, seal(p.aSa, ExchangeType.IKE_AUTH, 1, [{ type: PayloadType.IDi, critical: false, idType: 2, data: new TextEncoder().encode('moon.example') }]));
    expect(resp).toBeDefined();
    expect(p.b.logs.some((l) => l.includes('IKE_AUTH request 1 before the 1 negotiated additional key exchange(s) were done (0); answering INVALID_SYNTAX'))).toBe(true);
    expect(of(p.b, 'ike-down')[0]?.reason).toBe('invalid-syntax');
    expect(of(p.b, 'ike-up')).toHaveLength(0);
  });

  it('IKE_INTERMEDIATE on an established SA without additional key exchanges: INVALID_SYNTAX, the SA stays', () => {
    const { sim, a, b } = setup('aes256gcm16-prfsha384-x25519', 'aes256gcm16-prfsha384-x25519');
    a.ep.initiate('gw', 0);
    expect(sim.runUntil(() => of(b, 'child-install').length > 0 && of(a, 'child-install').length > 0, { maxTime: 60_000 }).ok).toBe(true);
    const aSa = a.ep.ikeSa(a.ep.listSas()[0]!.sa.id)!;
    const data = encryptSK({ spiI: aSa.spiI, spiR: aSa.spiR, exchangeType: ExchangeType.IKE_INTERMEDIATE, flags: { initiator: true, response: false, version: false }, messageId: 2 }, [{ type: PayloadType.KE, critical: false, group: 36, data: new Uint8Array(1184) }], aSa.keys!.out, rnd);
    b.ep.receive(data, { address: b.address, port: 4500 }, { address: a.address, port: 4500 }, sim.now);
    for (let e = b.ep.pollEvent(); e; e = b.ep.pollEvent()) if (e.type === 'log') b.logs.push(e.message);
    expect(b.logs.some((l) => /unexpected IKE_INTERMEDIATE request 2 from .*: 0 additional key exchange\(s\) negotiated, 0 done; answering INVALID_SYNTAX/.test(l))).toBe(true);
    expect(b.ep.listSas()[0]?.sa.state).toBe('ESTABLISHED');
  });
});

describe('an initiator that does not announce IKE_INTERMEDIATE (RFC 9242 3.2)', () => {
  /** B answers a hand-made IKE_SA_INIT request offering `offer`, without N(IKE_INT_SUP). */
  function ask(offer: string, responder: string): readonly Payload[] {
    const { b } = setup('aes256gcm16-prfsha384-x25519', responder);
    const ke = crypto.createKeyExchange(31, seededRandom(3));
    const req = encodeMessage(
      { spiI: Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8), spiR: new Uint8Array(8), exchangeType: ExchangeType.IKE_SA_INIT, flags: { initiator: true, response: false, version: false }, messageId: 0 },
      [
        { type: PayloadType.SA, critical: false, proposals: toSaProposals(parseProposals(offer, 'ike'), ProtocolId.IKE, new Uint8Array(0)) },
        { type: PayloadType.KE, critical: false, group: 31, data: ke.publicValue },
        { type: PayloadType.NONCE, critical: false, data: new Uint8Array(32).fill(7) },
      ],
    );
    b.ep.receive(req, { address: b.address, port: 500 }, { address: '192.0.2.1', port: 500 }, 0);
    for (let e = b.ep.pollEvent(); e; e = b.ep.pollEvent()) if (e.type === 'log') b.logs.push(e.message);
    const out = b.ep.pollTransmit();
    const m = decodeMessage(out!.data);
    if (!m.ok) throw new Error(m.error.message);
    (ask as { logs?: string[] }).logs = b.logs;
    return m.value.payloads;
  }
  const notifyTypes = (ps: readonly Payload[]) => ps.flatMap((x) => (x.type === PayloadType.NOTIFY ? [x.notifyType] : []));

  it('its optional ke1_mlkem768 is answered with NONE: no ADDKE transform, no IKE_INT_SUP', () => {
    const resp = ask('aes256gcm16-prfsha384-x25519-ke1_mlkem768-ke1_none', 'aes256gcm16-prfsha384-x25519-ke1_mlkem768-ke1_none');
    const sa = resp.find((x) => x.type === PayloadType.SA);
    expect(sa && sa.type === PayloadType.SA ? sa.proposals[0]!.transforms.map((t) => t.type) : []).toEqual([1, 2, 4]);
    expect(notifyTypes(resp)).not.toContain(NotifyType.INTERMEDIATE_EXCHANGE_SUPPORTED);
  });

  it('its required ke1_mlkem768 is refused, and the log says the announcement was missing', () => {
    const resp = ask('aes256gcm16-prfsha384-x25519-ke1_mlkem768', 'aes256gcm16-prfsha384-x25519-ke1_mlkem768');
    expect(notifyTypes(resp)).toEqual([NotifyType.NO_PROPOSAL_CHOSEN]);
    expect((ask as { logs?: string[] }).logs?.some((l) => l.includes('the peer did not announce IKE_INTERMEDIATE, RFC 9242 3.2'))).toBe(true);
  });

  it('a responder requiring ke1_mlkem768 does not accept a classic offer for it', () => {
    const resp = ask('aes256gcm16-prfsha384-x25519', 'aes256gcm16-prfsha384-x25519-ke1_mlkem768');
    expect(notifyTypes(resp)).toEqual([NotifyType.NO_PROPOSAL_CHOSEN]);
  });
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
