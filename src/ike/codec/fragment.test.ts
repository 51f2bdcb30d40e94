/** RFC 7383 fragmentation: fragmentSK and FragmentReassembler. */
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../crypto/random.js';
import { fragmentCapacity, fragmentSK, FragmentReassembler } from './fragment.js';
import { decodeMessage } from './message.js';
import { SUITES, suiteKeys, hex } from './test-support.js';
import { CertEncoding, ExchangeType, PayloadType, type DecodedMessage, type IkeHeaderInit, type Payload } from './types.js';

const HDR: IkeHeaderInit = {
  spiI: hex('0011223344556677'),
  spiR: hex('8899aabbccddeeff'),
  exchangeType: ExchangeType.IKE_AUTH,
  flags: { initiator: true, response: false, version: false },
  messageId: 1,
};

/** An IKE_AUTH with two big certificates: the case fragmentation exists for. */
const INNER: Payload[] = [
  { type: PayloadType.IDi, critical: false, idType: 2, data: new TextEncoder().encode('carol.example') },
  { type: PayloadType.CERT, critical: false, encoding: CertEncoding.X509_CERT_SIGNATURE, data: seededRandom(1).fill(new Uint8Array(1500)) },
  { type: PayloadType.CERT, critical: false, encoding: CertEncoding.X509_CERT_SIGNATURE, data: seededRandom(2).fill(new Uint8Array(1200)) },
  { type: PayloadType.AUTH, critical: false, method: 14, data: seededRandom(3).fill(new Uint8Array(256)) },
];

function dec(m: Uint8Array): DecodedMessage {
  const r = decodeMessage(m);
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
}

describe('fragmentSK + FragmentReassembler', () => {
  for (const s of SUITES) {
    const keys = suiteKeys(s);
    it.skipIf(!keys)(`${s.name}: fragments fit the limit and reassemble in any order`, () => {
      const k = keys!;
      const frags = fragmentSK(HDR, INNER, k, seededRandom(5), 548);
      expect(frags.length).toBeGreaterThan(5);
      frags.forEach((f, i) => {
        expect(f.length).toBeLessThanOrEqual(548);
        const d = dec(f);
        expect(d.header.messageId).toBe(1);
        expect(d.encrypted).toMatchObject({ type: PayloadType.SKF, fragmentNumber: i + 1, totalFragments: frags.length });
        // RFC 7383 2.5: only the first fragment names the first inner payload
        expect(d.encrypted!.firstInnerType).toBe(i === 0 ? PayloadType.IDi : PayloadType.NONE);
      });
      const order = frags.map((_, i) => i).reverse();
      const r = new FragmentReassembler();
      let result;
      for (const i of order) {
        result = r.add(frags[i]!, dec(frags[i]!), k, 0);
        expect(result.ok).toBe(true);
      }
      expect(result).toMatchObject({ ok: true, value: { complete: true, messageId: 1, payloads: INNER } });
      expect(r.messageId).toBeUndefined();
    });
  }

  it('capacity accounts for header, SKF fields, IV, padding and ICV', () => {
    const cbc = suiteKeys(SUITES.find((s) => s.name === 'aes256-sha256')!)!;
    // 548 - 28 - 8 - 16 (IV) - 16 (ICV) = 480 -> 30 blocks -> 479 bytes of data + pad length
    expect(fragmentCapacity(548, cbc)).toBe(479);
    const gcm = suiteKeys(SUITES[0]!)!;
    expect(fragmentCapacity(548, gcm)).toBe(548 - 28 - 8 - 8 - 16 - 1);
    expect(() => fragmentSK(HDR, INNER, gcm, seededRandom(1), 60)).toThrow(/no room/);
  });

  it('ignores duplicates, reports progress, and drops forged fragments without losing state', () => {
    const k = suiteKeys(SUITES[0]!)!;
    const frags = fragmentSK(HDR, INNER, k, seededRandom(5), 1000);
    const r = new FragmentReassembler();
    expect(r.add(frags[0]!, dec(frags[0]!), k, 10)).toMatchObject({ ok: true, value: { complete: false, received: 1, total: frags.length } });
    expect(r.add(frags[0]!, dec(frags[0]!), k, 11)).toMatchObject({ ok: true, value: { complete: false, received: 1 } });
    const forged = frags[1]!.slice();
    forged[forged.length - 1]! ^= 1;
    expect(r.add(forged, dec(forged), k, 12)).toMatchObject({ ok: false, error: { code: 'INTEGRITY_CHECK_FAILED' } });
    expect(r.startedAt).toBe(10);
    expect(r.isExpired(20, 5)).toBe(true);
    expect(r.isExpired(12, 5)).toBe(false);
    let last;
    for (const f of frags.slice(1)) last = r.add(f, dec(f), k, 13);
    expect(last).toMatchObject({ ok: true, value: { complete: true, payloads: INNER } });
  });

  it('restarts on a larger Total Fragments and drops a smaller one (RFC 7383 2.6)', () => {
    const k = suiteKeys(SUITES[0]!)!;
    const big = fragmentSK(HDR, INNER, k, seededRandom(5), 1400);
    const small = fragmentSK(HDR, INNER, k, seededRandom(6), 600);
    expect(small.length).toBeGreaterThan(big.length);
    const r = new FragmentReassembler();
    r.add(big[0]!, dec(big[0]!), k, 0);
    // re-fragmented with a smaller PMTU: more fragments, start over
    expect(r.add(small[1]!, dec(small[1]!), k, 1)).toMatchObject({ ok: true, value: { received: 1, total: small.length } });
    expect(r.add(big[1]!, dec(big[1]!), k, 2)).toMatchObject({ ok: false, error: { code: 'FRAGMENT_INVALID' } });
    let last;
    for (const f of small) last = r.add(f, dec(f), k, 3);
    expect(last).toMatchObject({ ok: true, value: { complete: true, payloads: INNER } });
  });

  it('a fragment of another message replaces the pending reassembly', () => {
    const k = suiteKeys(SUITES[0]!)!;
    const a = fragmentSK(HDR, INNER, k, seededRandom(5), 1000);
    const b = fragmentSK({ ...HDR, messageId: 2 }, INNER, k, seededRandom(6), 1000);
    const r = new FragmentReassembler();
    r.add(a[0]!, dec(a[0]!), k, 0);
    expect(r.messageId).toBe(1);
    r.add(b[0]!, dec(b[0]!), k, 0);
    expect(r.messageId).toBe(2);
    expect(r.heldBytes).toBeGreaterThan(0);
  });

  it('enforces the fragment-count and byte limits', () => {
    const k = suiteKeys(SUITES[0]!)!;
    const frags = fragmentSK(HDR, INNER, k, seededRandom(5), 400);
    const few = new FragmentReassembler({ maxFragments: 4 });
    expect(few.add(frags[0]!, dec(frags[0]!), k, 0)).toMatchObject({ ok: false, error: { code: 'FRAGMENT_LIMIT' } });
    const small = new FragmentReassembler({ maxBytes: 1000 });
    let res;
    for (const f of frags) {
      res = small.add(f, dec(f), k, 0);
      if (!res.ok) break;
    }
    expect(res).toMatchObject({ ok: false, error: { code: 'FRAGMENT_LIMIT' } });
    expect(small.heldBytes).toBe(0);
  });

  it('rejects a non-SKF message', () => {
    const k = suiteKeys(SUITES[0]!)!;
    const r = new FragmentReassembler();
    const d: DecodedMessage = { header: dec(fragmentSK(HDR, [], k, seededRandom(1), 500)[0]!).header, payloads: [] };
    expect(r.add(new Uint8Array(28), d, k, 0)).toMatchObject({ ok: false, error: { code: 'FRAGMENT_INVALID' } });
  });
});
