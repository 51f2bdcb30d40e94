/**
 * IKE_FOLLOWUP_KE (RFC 9370 2.2.4) between two in-memory endpoints: IKE SA and CHILD SA rekeys whose proposals carry
 * ADDKE transforms, key agreement, STATE_NOT_FOUND for a bad link, an unanswered follow-up, and ke1_none
 * negotiated down on rekey.
 */
import { describe, expect, it } from 'vitest';
import { ExchangeType, NotifyType, PayloadType } from '../codec/types.js';
import { gw, of, psk, upPair } from '../../../test/ike/task-pair.js';
import { expectConsistent, makePair } from '../../../test/ike/pair.js';
import { createPrf, prfPlus } from '../../crypto/prf.js';
import { concatBytes } from '../../crypto/bytes.js';
import { deriveChildKeys, deriveIkeKeys } from '../keys.js';
import { crypto } from '../../../test/ike/pair.js';
import { IkeRekeyTask } from './ike-rekey.js';
import { ChildCreateTask } from './child-create.js';
import { DpdTask } from './ike-dpd.js';
import { abortFollowups, FollowupKeTask } from './followup-ke.js';
import type { IkeSa } from '../ike-sa.js';
import type { UpPair } from '../../../test/ike/task-pair.js';

const strip = (b: Uint8Array) => (b.length >= 4 && b[0] === 0 && b[1] === 0 && b[2] === 0 && b[3] === 0 ? b.subarray(4) : b);
/** One entry per message: the fragments of one (RFC 7383) collapse. */
const msgs = (l: string[]) => l.filter((x, i) => x !== l[i - 1]);
const hex = (b: Uint8Array | undefined) => Buffer.from(b ?? []).toString('hex');

/** Rekeys A's IKE SA and waits until both sides have only the new one. */
function rekeyIke(p: UpPair): { a: IkeSa; b: IkeSa } {
  p.mark();
  p.a.ep.queueTask(p.saA, new IkeRekeyTask(p.a.ep, p.saA), p.sim.now);
  p.run(() => of(p.a, 'ike-rekeyed').length === 1 && of(p.b, 'ike-rekeyed').length === 1 && p.a.ep.listSas().length === 1 && p.b.ep.listSas().length === 1);
  const a = p.a.ep.ikeSa(p.a.ep.listSas()[0]!.sa.id);
  const b = p.b.ep.ikeSa(p.b.ep.listSas()[0]!.sa.id);
  if (!a || !b) throw new Error('no rekeyed SA');
  return { a, b };
}

/** A DPD (empty INFORMATIONAL) on the new SA: passes only if both sides derived the same keys. */
function dpdPasses(p: UpPair, a: IkeSa): void {
  const before = p.a.logs.length;
  p.a.ep.queueTask(a, new DpdTask(p.a.ep, a), p.sim.now);
  p.run(() => a.pending === undefined && p.a.logs.length > before);
  expect(a.state).toBe('ESTABLISHED');
}

describe('IKE_FOLLOWUP_KE: IKE SA rekey (RFC 9370 2.2.4)', () => {
  it('x25519-ke1_mlkem768: CREATE_CHILD_SA, one IKE_FOLLOWUP_KE, then the old SA deleted; the new SA names KE1 and its keys agree', () => {
    const p = upPair({ proposals: 'aes256gcm16-prfsha384-x25519-ke1_mlkem768' });
    const { a, b } = rekeyIke(p);
    expect(msgs(p.sent('a'))).toEqual(['CREATE_CHILD_SA q', '44 q', 'INFORMATIONAL q']);
    expect(msgs(p.sent('b'))).toEqual(['CREATE_CHILD_SA r', '44 r', 'INFORMATIONAL r']);
    expect(p.a.ep.listSas()[0]?.sa.suite).toBe('AES_GCM_16-256/PRF_HMAC_SHA2_384/CURVE_25519/KE1_ML_KEM_768');
    expect(of(p.b, 'ike-rekeyed')[0]?.sa.suite).toContain('KE1_ML_KEM_768');
    expect(hex(a.keys?.SK_d)).toBe(hex(b.keys?.SK_d));
    expect(p.a.logs.some((l) => l.includes('IKE_FOLLOWUP_KE 1 of 1 for IKE_SA gw[') && l.includes('KE1_ML_KEM_768'))).toBe(true);
    expect(p.a.logs.some((l) => /IKE_SA gw\[\d+\] rekeyed to \[\d+\] .*suite .*KE1_ML_KEM_768/.test(l))).toBe(true);
    dpdPasses(p, a);
    // The CHILD SA moved and the rekeyed SA rekeys again (with the follow-up again).
    expect(a.children).toHaveLength(1);
    p.mark();
    p.a.ep.queueTask(a, new IkeRekeyTask(p.a.ep, a), p.sim.now);
    p.run(() => of(p.a, 'ike-rekeyed').length === 2 && p.a.ep.listSas().length === 1 && p.b.ep.listSas().length === 1);
    expect(msgs(p.sent('a'))).toEqual(['CREATE_CHILD_SA q', '44 q', 'INFORMATIONAL q']);
  });

  it('ke1_mlkem768-ke2_mlkem1024: two IKE_FOLLOWUP_KE exchanges, the second linked by the first response', () => {
    const p = upPair({ proposals: 'aes256gcm16-prfsha384-x25519-ke1_mlkem768-ke2_mlkem1024' });
    const { a, b } = rekeyIke(p);
    // (an ML-KEM-1024 key is sent in two fragments, RFC 7383: one line per datagram in sent())
    expect(new Set(p.sent('a'))).toEqual(new Set(['CREATE_CHILD_SA q', '44 q', 'INFORMATIONAL q']));
    expect(p.a.logs.filter((l) => /IKE_FOLLOWUP_KE [12] of 2 for IKE_SA/.test(l))).toHaveLength(2);
    expect(p.b.logs.filter((l) => /IKE_FOLLOWUP_KE [12] of 2 for IKE_SA .* done/.test(l))).toHaveLength(2);
    expect(a.set?.addke).toEqual([{ type: 6, id: 36 }, { type: 7, id: 37 }]);
    expect(p.a.ep.listSas()[0]?.sa.suite).toBe('AES_GCM_16-256/PRF_HMAC_SHA2_384/CURVE_25519/KE1_ML_KEM_768/KE2_ML_KEM_1024');
    expect(hex(a.keys?.SK_d)).toBe(hex(b.keys?.SK_d));
    expect(p.a.logs.some((l) => l.includes('IKE_FOLLOWUP_KE 2 of 2'))).toBe(true);
    dpdPasses(p, a);
  });

  it('ke1_mlkem768-ke1_none against a peer without ADDKE: negotiated down on rekey, no IKE_FOLLOWUP_KE', () => {
    const p = makePair(
      { connections: [gw('a', { proposals: 'aes256gcm16-prfsha384-x25519-ke1_mlkem768-ke1_none' })], credentials: psk },
      { connections: [gw('b', { proposals: 'aes256gcm16-prfsha384-x25519' })], credentials: psk },
    );
    p.a.ep.initiate('gw', 0);
    expect(p.sim.runUntil(() => of(p.b, 'child-install').length > 0, { maxTime: 60_000 }).ok).toBe(true);
    const saA = p.a.ep.ikeSa(p.a.ep.listSas()[0]!.sa.id)!;
    p.a.ep.queueTask(saA, new IkeRekeyTask(p.a.ep, saA), p.sim.now);
    expect(p.sim.runUntil(() => of(p.a, 'ike-rekeyed').length === 1 && p.a.ep.listSas().length === 1, { maxTime: p.sim.now + 60_000 }).ok).toBe(true);
    expect(p.a.ep.listSas()[0]?.sa.suite).toBe('AES_GCM_16-256/PRF_HMAC_SHA2_384/CURVE_25519');
    expect(p.a.logs.some((l) => l.includes('IKE_FOLLOWUP_KE'))).toBe(false);
  });

  it('a required ke1 the peer does not have: NO_PROPOSAL_CHOSEN, the current IKE SA stays', () => {
    const p = makePair(
      // The initial SA without ADDKE on both sides; A's rekey requires ML-KEM (its proposals changed meanwhile).
      { connections: [gw('a', { proposals: 'aes256gcm16-prfsha384-x25519' })], credentials: psk },
      { connections: [gw('b', { proposals: 'aes256gcm16-prfsha384-x25519' })], credentials: psk },
    );
    p.a.ep.initiate('gw', 0);
    expect(p.sim.runUntil(() => of(p.b, 'child-install').length > 0, { maxTime: 60_000 }).ok).toBe(true);
    const saA = p.a.ep.ikeSa(p.a.ep.listSas()[0]!.sa.id)!;
    saA.conn = gw('a', { proposals: 'aes256gcm16-prfsha384-x25519-ke1_mlkem768' });
    p.a.ep.queueTask(saA, new IkeRekeyTask(p.a.ep, saA), p.sim.now);
    expect(p.sim.runUntil(() => p.a.logs.some((l) => l.includes('IKE_SA rekey failed: peer answered NO_PROPOSAL_CHOSEN')), { maxTime: p.sim.now + 60_000 }).ok).toBe(true);
    expect(saA.state).toBe('ESTABLISHED');
    expect(p.b.logs.some((l) => l.includes('no acceptable proposal in IKE_SA rekey request'))).toBe(true);
  });

  it('the responder answers STATE_NOT_FOUND for an unknown link; the rekey is abandoned, the IKE SA stays', () => {
    const p = upPair({ proposals: 'aes256gcm16-prfsha384-x25519-ke1_mlkem768' });
    let failed = '';
    p.mark();
    p.a.ep.queueTask(
      p.saA,
      new FollowupKeTask(p.a.ep, p.saA, 'IKE_REKEY', {
        label: 'test',
        steps: [{ type: 6, id: 36 }],
        link: Uint8Array.of(1, 2, 3, 4),
        finish: () => {
          throw new Error('must not finish');
        },
        fail: (m) => {
          failed = m;
        },
        release: () => {},
      }),
      p.sim.now,
    );
    p.run(() => failed !== '');
    expect(failed).toBe('peer answered IKE_FOLLOWUP_KE 1 of 1 with STATE_NOT_FOUND');
    expect(p.b.logs.some((l) => l.includes('IKE_FOLLOWUP_KE request') && l.includes('unknown link: answering STATE_NOT_FOUND'))).toBe(true);
    expect(p.saA.state).toBe('ESTABLISHED');
    expect(p.saB.state).toBe('ESTABLISHED');
  });

  it('a responder that lost its state (STATE_NOT_FOUND) mid-rekey: the initiator keeps the old SA and retries later', () => {
    const p = upPair({ proposals: 'aes256gcm16-prfsha384-x25519-ke1_mlkem768' });
    // B answers the CREATE_CHILD_SA, then its state for the link is gone (as after 20 s): the follow-up finds none.
    p.net.dropNth((i) => i.from.address === p.a.address && strip(i.bytes)[18] === ExchangeType.IKE_FOLLOWUP_KE, 1);
    p.a.ep.queueTask(p.saA, new IkeRekeyTask(p.a.ep, p.saA), p.sim.now);
    p.run(() => p.b.logs.some((l) => l.includes('follow in IKE_FOLLOWUP_KE')));
    // A retransmits its dropped request; before that B's state for the link goes (as when it expires, 2.2.4).
    abortFollowups(p.saB, 'test');
    p.run(() => p.a.logs.some((l) => l.includes('failed: peer answered IKE_FOLLOWUP_KE 1 of 1 with STATE_NOT_FOUND')), 120_000);
    expect(p.saA.state).toBe('ESTABLISHED');
    expect(p.saA.rekeyOurs).toBeUndefined();
    expect(p.saA.rekeyAt).toBeGreaterThan(p.sim.now);
  });

  it('a peer that never answers the IKE_FOLLOWUP_KE request: the IKE SA is closed after the retransmissions (RFC 7296 2.4)', () => {
    const p = upPair({ proposals: 'aes256gcm16-prfsha384-x25519-ke1_mlkem768' });
    p.net.dropIf((i) => i.from.address === p.b.address && strip(i.bytes)[18] === ExchangeType.IKE_FOLLOWUP_KE);
    p.a.ep.queueTask(p.saA, new IkeRekeyTask(p.a.ep, p.saA), p.sim.now);
    p.run(() => of(p.a, 'ike-down').length === 1, 600_000);
    expect(p.a.logs.some((l) => l.includes('did not answer IKE_FOLLOWUP_KE request after 5 retransmits'))).toBe(true);
    // B did its part (its responses were lost): as with any lost CREATE_CHILD_SA response, it moved to the new SA
    // and deletes the old one itself when A's Delete does not come.
    expect(p.b.logs.some((l) => /IKE_FOLLOWUP_KE 1 of 1 for IKE_SA gw\[\d+\] rekey by the peer: .* done/.test(l))).toBe(true);
    p.run(() => p.b.logs.some((l) => l.includes('peer did not delete the rekeyed IKE_SA')), 600_000);
  });

  it('an initiator that never continues: the responder drops the link state once retransmissions would be over', () => {
    const p = upPair({ proposals: 'aes256gcm16-prfsha384-x25519-ke1_mlkem768' });
    p.net.dropIf((i) => i.from.address === p.a.address && strip(i.bytes)[18] === ExchangeType.IKE_FOLLOWUP_KE);
    p.a.ep.queueTask(p.saA, new IkeRekeyTask(p.a.ep, p.saA), p.sim.now);
    p.run(() => p.b.logs.some((l) => l.includes('peer did not continue with IKE_FOLLOWUP_KE 1 of 1, state removed')), 600_000);
    expect(p.saB.rekeyTheirs).toBeUndefined();
    expect(p.saB.state).toBe('ESTABLISHED');
  });
});

describe('IKE_FOLLOWUP_KE: CHILD SA with ESP ADDKE for PFS (RFC 9370 2.2.4)', () => {
  it('CHILD rekey with aes256gcm16-x25519-ke1_mlkem768: one IKE_FOLLOWUP_KE, the new pair keyed alike, suite names KE1', () => {
    const p = upPair({ esp: 'aes256gcm16-x25519-ke1_mlkem768' });
    // RFC 7296 1.2: the CHILD SA of IKE_AUTH had no key exchange, so no ADDKE either.
    expect(p.a.ep.listSas()[0]?.children[0]?.suite).toBe('AES_GCM_16-256');
    const old = p.saA.children[0]!;
    p.mark();
    p.a.ep.queueTask(p.saA, new ChildCreateTask(p.a.ep, p.saA, old.config, { rekey: old }), p.sim.now);
    p.run(() => of(p.a, 'child-remove').length === 1 && of(p.b, 'child-remove').length === 1);
    expect(msgs(p.sent('a'))).toEqual(['CREATE_CHILD_SA q', '44 q', 'INFORMATIONAL q']);
    const ia = of(p.a, 'child-install').at(-1)!;
    const ib = of(p.b, 'child-install').at(-1)!;
    expect(ia.replaces?.spiIn).toBe(old.spiIn);
    expect(ia.inbound.spi).toBe(ib.outbound.spi);
    expect(hex(ia.inbound.encrKey)).toBe(hex(ib.outbound.encrKey));
    expect(hex(ia.outbound.encrKey)).toBe(hex(ib.inbound.encrKey));
    expect(ia.child.suite).toBe('AES_GCM_16-256/CURVE_25519/KE1_ML_KEM_768');
    expect(p.a.logs.some((l) => l.includes('IKE_FOLLOWUP_KE 1 of 1 for CHILD_SA net{'))).toBe(true);
  });

  it('a new CHILD SA with ke1+ke2 in the responder role reversed (B creates it)', () => {
    const p = upPair({ children: 2, esp: 'aes256gcm16-x25519-ke1_mlkem768-ke2_mlkem512' });
    const cfg = p.saB.conn!.children[1]!;
    p.b.ep.queueTask(p.saB, new ChildCreateTask(p.b.ep, p.saB, cfg), p.sim.now);
    p.run(() => p.saA.children.length === 2 && p.saB.children.length === 2);
    const ia = of(p.a, 'child-install').at(-1)!;
    const ib = of(p.b, 'child-install').at(-1)!;
    expect(hex(ia.inbound.encrKey)).toBe(hex(ib.outbound.encrKey));
    expect(ib.child.suite).toContain('KE2_ML_KEM_512');
  });

  it('ESP ke1_mlkem768-ke1_none against a peer without ADDKE: the offer adds a copy without ADDKE; negotiated down, no IKE_FOLLOWUP_KE', () => {
    const p = makePair(
      { connections: [gw('a', { esp: 'aes256gcm16-x25519-ke1_mlkem768-ke1_none' })], credentials: psk },
      { connections: [gw('b', { esp: 'aes256gcm16-x25519' })], credentials: psk },
    );
    p.a.ep.initiate('gw', 0);
    expect(p.sim.runUntil(() => of(p.a, 'child-install').length > 0 && of(p.b, 'child-install').length > 0, { maxTime: 60_000 }).ok).toBe(true);
    const saA = p.a.ep.ikeSa(p.a.ep.listSas()[0]!.sa.id)!;
    const old = saA.children[0]!;
    const built = new ChildCreateTask(p.a.ep, saA, old.config, { rekey: old }).build(p.sim.now);
    const offer = built?.find((x) => x.type === PayloadType.SA);
    // RFC 7296 3.3.6: a peer without RFC 9370 refuses proposal 1 (Transform Type 6) and can take proposal 2.
    expect(offer?.type === PayloadType.SA && offer.proposals.map((x) => [x.num, x.transforms.some((t) => t.type === 6)])).toEqual([[1, true], [2, false]]);
    old.state = 'INSTALLED';
    old.rekeyOurs = undefined;
    p.a.ep.queueTask(saA, new ChildCreateTask(p.a.ep, saA, old.config, { rekey: old }), p.sim.now);
    expect(p.sim.runUntil(() => of(p.a, 'child-remove').length === 1, { maxTime: p.sim.now + 60_000 }).ok).toBe(true);
    expect(of(p.a, 'child-install').at(-1)?.child.suite).toBe('AES_GCM_16-256/CURVE_25519');
    expect(p.a.logs.some((l) => l.includes('IKE_FOLLOWUP_KE'))).toBe(false);
  });

  it('a CHILD follow-up answered with an error: no CHILD SA, the SPI released, the old SA kept', () => {
    const p = upPair({ esp: 'aes256gcm16-x25519-ke1_mlkem768' });
    const old = p.saA.children[0]!;
    // The follow-up request is lost and B forgets the link before A's retransmission: B answers STATE_NOT_FOUND.
    p.net.dropNth((i) => i.from.address === p.a.address && strip(i.bytes)[18] === ExchangeType.IKE_FOLLOWUP_KE, 1);
    p.a.ep.queueTask(p.saA, new ChildCreateTask(p.a.ep, p.saA, old.config, { rekey: old }), p.sim.now);
    p.run(() => p.b.logs.some((l) => l.includes('follow in IKE_FOLLOWUP_KE')));
    abortFollowups(p.saB, 'test');
    p.run(() => of(p.a, 'child-failed').length === 1, 120_000);
    expect(old.state).toBe('INSTALLED');
    expect(p.saA.children).toEqual([old]);
    expect(p.saB.children).toHaveLength(1);
  });
});

describe('IKE_FOLLOWUP_KE: rekey collisions (RFC 7296 2.8.1, 2.8.2 with RFC 9370 2.2.4)', () => {
  for (const seed of [1, 2, 3, 4]) {
    it(`simultaneous IKE rekeys with ke1: one new IKE SA survives, naming KE1, with the CHILD SA (seed ${seed})`, () => {
      const p = upPair({ proposals: 'aes256gcm16-prfsha384-x25519-ke1_mlkem768', pair: { seed, impairment: { delay: 20 } } });
      p.a.ep.rekeyIke(p.saA.id, p.sim.now);
      p.b.ep.rekeyIke(p.saB.id, p.sim.now);
      p.sim.runFor(30_000);
      expectConsistent(p.a, p.b, 1);
      expect(p.a.ep.listSas()[0]?.sa.suite).toContain('KE1_ML_KEM_768');
      expect(of(p.a, 'child-remove')).toHaveLength(0);
      expect([...p.a.logs, ...p.b.logs].filter((l) => /IKE_SA rekey collision (won|lost)/.test(l))).toHaveLength(2);
      expect([...p.a.logs, ...p.b.logs].filter((l) => /IKE_FOLLOWUP_KE 1 of 1 for IKE_SA gw\[\d+\] rekey by the peer: .* done/.test(l))).toHaveLength(2);
      const [sa] = p.a.ep.listSas();
      dpdPasses(p, p.a.ep.ikeSa(sa!.sa.id)!);
    });

    it(`simultaneous CHILD rekeys with ESP ke1: one CHILD SA survives, keyed alike (seed ${seed})`, () => {
      const p = upPair({ esp: 'aes256gcm16-x25519-ke1_mlkem768', pair: { seed, impairment: { delay: 20 } } });
      p.a.ep.rekeyChild(p.saA.children[0]!.id, p.sim.now);
      p.b.ep.rekeyChild(p.saB.children[0]!.id, p.sim.now);
      p.sim.runFor(30_000);
      expectConsistent(p.a, p.b, 1);
      const ca = p.saA.children[0]!;
      const ia = of(p.a, 'child-install').find((e) => e.child.spiIn === ca.spiIn)!;
      const ib = of(p.b, 'child-install').find((e) => e.child.spiOut === ca.spiIn)!;
      expect(hex(ia.inbound.encrKey)).toBe(hex(ib.outbound.encrKey));
      expect(ia.child.suite).toContain('KE1_ML_KEM_768');
      expect([...p.a.logs, ...p.b.logs].filter((l) => /CHILD_SA rekey collision (won|lost)/.test(l))).toHaveLength(2);
    });
  }
});

describe('RFC 9370 2.2.4 key derivation with additional shared secrets', () => {
  const Ni = new Uint8Array(32).fill(1);
  const Nr = new Uint8Array(32).fill(2);
  const gir = new Uint8Array(32).fill(3);
  const sk1 = new Uint8Array(32).fill(4);
  const sk2 = new Uint8Array(32).fill(5);
  const prf = createPrf(7, crypto); // PRF_HMAC_SHA2_512 (RFC 4868)
  const SK_d = new Uint8Array(48).fill(9);

  it('IKE SA rekey: SKEYSEED = prf(SK_d (old), SK(0) | Ni | Nr | SK(1) | SK(2))', () => {
    const set = { encr: 20, keyBits: 256, prf: 7, ke: 31 };
    const spiI = new Uint8Array(8).fill(6);
    const spiR = new Uint8Array(8).fill(7);
    const base = { Ni, Nr, gir, spiI, spiR, initiator: true, rekey: { prf, SK_d } };
    const withExtra = deriveIkeKeys(crypto, set, { ...base, additional: [sk1, sk2] });
    // The same keys from a "new SA" derivation fed the SKEYSEED computed by hand: prf+(SKEYSEED, Ni | Nr | SPIi | SPIr).
    const seed = prf.compute(SK_d, [gir, Ni, Nr, sk1, sk2]);
    const stream = prfPlus(prf, seed, concatBytes([Ni, Nr, spiI, spiR]), withExtra.SK_d.length);
    expect(hex(withExtra.SK_d)).toBe(hex(stream));
    expect(hex(deriveIkeKeys(crypto, set, base).SK_d)).not.toBe(hex(stream));
  });

  it('CHILD SA: KEYMAT = prf+(SK_d, SK(0) | Ni | Nr | SK(1))', () => {
    const set = { encr: 20, keyBits: 256, esn: 0 };
    const k = deriveChildKeys(prf, SK_d, set, { Ni, Nr, gir, additional: [sk1], initiator: true });
    const keymat = prfPlus(prf, SK_d, concatBytes([gir, Ni, Nr, sk1]), 72);
    expect(hex(k.outbound.encrKey)).toBe(hex(keymat.subarray(0, 36)));
    expect(hex(k.inbound.encrKey)).toBe(hex(keymat.subarray(36, 72)));
  });

  it('the notify and exchange numbers (RFC 9370 3)', () => {
    expect([ExchangeType.IKE_FOLLOWUP_KE, NotifyType.ADDITIONAL_KEY_EXCHANGE, NotifyType.STATE_NOT_FOUND, PayloadType.KE]).toEqual([44, 16441, 47, 34]);
  });
});

describe('IKE_FOLLOWUP_KE state when the IKE SA goes (RFC 9370 2.2.4)', () => {
  it("a peer's CHILD rekey waiting for its follow-up: closing the IKE SA releases the reserved CHILD SPI and the state", () => {
    const p = upPair({ esp: 'aes256gcm16-x25519-ke1_mlkem768' });
    const inUse = () => (p.b.ep as unknown as { childSpis: { inUse: Set<number> } }).childSpis.inUse.size;
    expect(inUse()).toBe(1);
    // A's follow-up never reaches B: B has answered the CREATE_CHILD_SA and holds a CHILD SPI for the new SA.
    p.net.dropIf((i) => i.from.address === p.a.address && strip(i.bytes)[18] === ExchangeType.IKE_FOLLOWUP_KE);
    const old = p.saA.children[0]!;
    p.a.ep.queueTask(p.saA, new ChildCreateTask(p.a.ep, p.saA, old.config, { rekey: old }), p.sim.now);
    p.run(() => p.b.logs.some((l) => l.includes('follow in IKE_FOLLOWUP_KE')));
    expect(inUse()).toBe(2);
    p.b.ep.destroySa(p.saB, 'deleted', 'test: IKE SA closed');
    expect(inUse()).toBe(0);
  });
});
