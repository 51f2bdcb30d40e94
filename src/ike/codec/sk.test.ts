/** SK payload sealing/opening (RFC 7296 3.14, RFC 5282, RFC 7634) for every suite of the crypto layer. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { availableBackends } from '../../crypto/backends/index.js';
import { seededRandom } from '../../crypto/random.js';
import { createEncryption } from '../../crypto/suite.js';
import { ENCR } from '../../crypto/transforms.js';
import vectors from '../../../vectors/ike_sk_messages.json' with { type: 'json' };
import { decodeMessage, encodePayloads, writeHeader } from './message.js';
import { decryptSK, encryptSK, sealMessage } from './sk.js';
import { fixedRandom, hex, payloadArb, SUITES, suiteKeys, toHex } from './test-support.js';
import {
  ExchangeType,
  IKE_HEADER_BYTES,
  NotifyType,
  PayloadType,
  type DecodedMessage,
  type IkeHeaderInit,
  type Payload,
  type SkKeys,
} from './types.js';

const HDR: IkeHeaderInit = {
  spiI: hex('0011223344556677'),
  spiR: hex('8899aabbccddeeff'),
  exchangeType: ExchangeType.IKE_AUTH,
  flags: { initiator: true, response: false, version: false },
  messageId: 1,
};

const INNER: Payload[] = [
  { type: PayloadType.IDi, critical: false, idType: 2, data: new TextEncoder().encode('moon.example') },
  { type: PayloadType.AUTH, critical: false, method: 2, data: new Uint8Array(32).fill(0xa5) },
  { type: PayloadType.NOTIFY, critical: false, protocol: 0, spi: new Uint8Array(0), notifyType: NotifyType.INITIAL_CONTACT, data: new Uint8Array(0) },
];

function decoded(m: Uint8Array): DecodedMessage {
  const r = decodeMessage(m);
  if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
  return r.value;
}

describe('RFC 7634 Appendix B IKEv2 message (vectors/ike_sk_messages.json)', () => {
  for (const backend of availableBackends()) {
    for (const v of vectors.entries) {
      it(`${v.id} on ${backend.name}: decrypts and re-encrypts byte for byte`, () => {
        const msg = hex(v.ike_message);
        const keys: SkKeys = { encryption: createEncryption(ENCR.CHACHA20_POLY1305, undefined, hex(v.sk_e), backend) };
        const d = decoded(msg);
        expect(d.header).toMatchObject({ exchangeType: ExchangeType.INFORMATIONAL, messageId: v.msgid, length: v.length_field });
        expect(d.payloads).toEqual([]);
        const inner = decryptSK(msg, d, keys);
        if (!inner.ok) throw new Error(inner.error.message);
        expect(toHex(encodePayloads(inner.value))).toBe(v.decrypted_inner_payloads);
        expect(inner.value).toEqual([
          { type: PayloadType.NOTIFY, critical: false, protocol: 0, spi: new Uint8Array(0), notifyType: NotifyType.SET_WINDOW_SIZE, data: hex('0000000a') },
        ]);
        const iv = d.encrypted!.body.subarray(0, 8);
        const again = encryptSK(d.header, inner.value, keys, fixedRandom(iv));
        expect(toHex(again)).toBe(v.ike_message);
      });
    }
  }
});

describe('SK round trip for every suite', () => {
  for (const s of SUITES) {
    const keys = suiteKeys(s);
    it.skipIf(!keys)(`${s.name}`, () => {
      const k = keys!;
      const m = encryptSK(HDR, INNER, k, seededRandom(7));
      const d = decoded(m);
      expect(d.header.nextPayload).toBe(PayloadType.SK);
      expect(d.encrypted!.firstInnerType).toBe(PayloadType.IDi);
      const r = decryptSK(m, d, k);
      expect(r).toEqual({ ok: true, value: INNER });
      // the plaintext block alignment: IV | E(inner | pad | padlen) | ICV
      const enc = d.encrypted!;
      const icv = k.encryption.aead ? k.encryption.icvBytes : k.integrity!.icvBytes;
      const ctLen = enc.body.length - k.encryption.ivBytes - icv;
      if (!k.encryption.aead) expect(ctLen % k.encryption.blockBytes).toBe(0);
    });

    it.skipIf(!keys)(`${s.name}: every flipped bit of header, SK header, IV, ciphertext or ICV is INTEGRITY_CHECK_FAILED`, () => {
      const k = keys!;
      const m = encryptSK(HDR, INNER.slice(2), k, seededRandom(8));
      for (let i = 0; i < m.length; i++) {
        // Bits in the length fields would be caught by decodeMessage; flip every byte once and bypass it.
        if (i >= 24 && i < 28) continue;
        const bad = m.slice();
        bad[i]! ^= 0x01 << (i % 8);
        const d = decodeMessage(bad);
        if (!d.ok) continue; // caught before crypto (next payload, version, SK length)
        const r = decryptSK(bad, d.value, k);
        expect(r.ok).toBe(false);
        if (!r.ok) expect(['INTEGRITY_CHECK_FAILED', 'INVALID_SYNTAX', 'BAD_LENGTH']).toContain(r.error.code);
        if (!r.ok && i >= IKE_HEADER_BYTES + 4) expect(r.error.code).toBe('INTEGRITY_CHECK_FAILED');
      }
    });
  }

  it('round-trips arbitrary inner payloads (fast-check)', () => {
    const suites = SUITES.map((s) => suiteKeys(s)).filter((k): k is SkKeys => k !== undefined);
    fc.assert(
      fc.property(fc.nat(suites.length - 1), fc.array(payloadArb, { maxLength: 6 }), fc.integer(), (si, ps, seed) => {
        const k = suites[si]!;
        const m = encryptSK(HDR, ps, k, seededRandom(seed));
        const r = decryptSK(m, decoded(m), k);
        expect(r).toEqual({ ok: true, value: ps });
      }),
      { numRuns: 300 },
    );
  });

  it('keeps plaintext payloads before SK (outer) and authenticates them', () => {
    const k = suiteKeys(SUITES[0]!)!;
    const outer: Payload[] = [{ type: PayloadType.VENDOR, critical: false, data: hex('0102') }];
    const m = encryptSK(HDR, INNER, k, seededRandom(1), { outer });
    const d = decoded(m);
    expect(d.payloads).toEqual(outer);
    expect(decryptSK(m, d, k)).toEqual({ ok: true, value: INNER });
    const bad = m.slice();
    bad[IKE_HEADER_BYTES + 4]! ^= 1;
    expect(decryptSK(bad, decoded(bad), k)).toMatchObject({ ok: false, error: { code: 'INTEGRITY_CHECK_FAILED' } });
  });

  it('an empty SK (INFORMATIONAL liveness check) round-trips', () => {
    for (const s of [SUITES[0]!, SUITES[8]!]) {
      const k = suiteKeys(s)!;
      const m = encryptSK({ ...HDR, exchangeType: ExchangeType.INFORMATIONAL }, [], k, seededRandom(3));
      const d = decoded(m);
      expect(d.encrypted!.firstInnerType).toBe(PayloadType.NONE);
      expect(decryptSK(m, d, k)).toEqual({ ok: true, value: [] });
    }
  });
});

describe('SK typed errors', () => {
  const cbc = suiteKeys(SUITES.find((s) => s.name === 'aes256-sha256')!)!;
  const gcm = suiteKeys(SUITES.find((s) => s.name === 'aes128gcm16')!)!;

  it('wrong keys: INTEGRITY_CHECK_FAILED', () => {
    const other = suiteKeys(SUITES.find((s) => s.name === 'aes256-sha256')!, 99)!;
    const m = encryptSK(HDR, INNER, cbc, seededRandom(1));
    expect(decryptSK(m, decoded(m), other)).toMatchObject({ ok: false, error: { code: 'INTEGRITY_CHECK_FAILED', payloadType: PayloadType.SK } });
    const g = encryptSK(HDR, INNER, gcm, seededRandom(1));
    const gOther = suiteKeys(SUITES[0]!, 99)!;
    expect(decryptSK(g, decoded(g), gOther)).toMatchObject({ ok: false, error: { code: 'INTEGRITY_CHECK_FAILED' } });
  });

  /** Seals raw plaintext (inner | padding | Pad Length) without the encoder's padding logic. */
  function sealRaw(keys: SkKeys, plaintext: Uint8Array, firstInner: number): Uint8Array {
    const e = keys.encryption;
    const iv = new Uint8Array(e.ivBytes).fill(9);
    const icv = e.aead ? e.icvBytes : keys.integrity!.icvBytes;
    const ctLen = plaintext.length;
    const total = IKE_HEADER_BYTES + 4 + iv.length + ctLen + icv;
    const m = new Uint8Array(total);
    writeHeader(m, HDR, PayloadType.SK, total);
    m[28] = firstInner;
    m[30] = ((4 + iv.length + ctLen + icv) >> 8) & 0xff;
    m[31] = (4 + iv.length + ctLen + icv) & 0xff;
    m.set(iv, 32);
    if (e.aead) {
      m.set(e.seal(iv, m.subarray(0, 32), plaintext), 32 + iv.length);
    } else {
      m.set(e.encrypt(iv, plaintext), 32 + iv.length);
      m.set(keys.integrity!.compute([m.subarray(0, total - icv)]), total - icv);
    }
    return m;
  }

  it('Pad Length beyond the plaintext: INVALID_SYNTAX', () => {
    const pt = new Uint8Array(16);
    pt[15] = 16; // claims 16 bytes of padding + the length byte = 17 > 16
    const m = sealRaw(cbc, pt, PayloadType.NONE);
    expect(decryptSK(m, decoded(m), cbc)).toMatchObject({ ok: false, error: { code: 'INVALID_SYNTAX', payloadType: PayloadType.SK } });
    const g = sealRaw(gcm, hex('ff'), PayloadType.NONE);
    expect(decryptSK(g, decoded(g), gcm)).toMatchObject({ ok: false, error: { code: 'INVALID_SYNTAX' } });
  });

  it('a malformed inner chain behind a valid ICV is a typed decode error', () => {
    const inner = encodePayloads(INNER);
    inner[3] = 0xff; // IDi length past the end
    const m = sealMessage(HDR, PayloadType.IDi, inner, gcm, seededRandom(2));
    expect(decryptSK(m, decoded(m), gcm)).toMatchObject({ ok: false, error: { code: 'BAD_LENGTH', payloadType: PayloadType.IDi } });
    const sk = sealMessage(HDR, PayloadType.SK, hex('00000004'), gcm, seededRandom(2));
    expect(decryptSK(sk, decoded(sk), gcm)).toMatchObject({ ok: false, error: { code: 'INVALID_SYNTAX' } });
  });

  it('ciphertext not a multiple of the block, or too short for IV and ICV', () => {
    const m = encryptSK(HDR, INNER, cbc, seededRandom(1));
    // cut one ciphertext byte but keep the lengths consistent and re-MAC so only the block check can fail
    const cut = new Uint8Array(m.length - 1);
    const icv = cbc.integrity!.icvBytes;
    cut.set(m.subarray(0, m.length - icv - 1));
    const skLen = (m[30]! << 8) | m[31]!;
    cut[30] = ((skLen - 1) >> 8) & 0xff;
    cut[31] = (skLen - 1) & 0xff;
    cut[27] = cut.length & 0xff;
    cut[26] = (cut.length >> 8) & 0xff;
    cut.set(cbc.integrity!.compute([cut.subarray(0, cut.length - icv)]), cut.length - icv);
    expect(decryptSK(cut, decoded(cut), cbc)).toMatchObject({ ok: false, error: { code: 'INVALID_SYNTAX' } });
    const tiny = sealRaw(gcm, new Uint8Array(0), PayloadType.NONE);
    expect(decryptSK(tiny, decoded(tiny), gcm)).toMatchObject({ ok: false, error: { code: 'BAD_LENGTH' } });
  });

  it('a cipher returning no plaintext: INVALID_SYNTAX naming the missing Pad Length, not a throw', () => {
    const m = encryptSK(HDR, INNER, gcm, seededRandom(1));
    const e = gcm.encryption;
    if (!e.aead) throw new Error('aes128gcm16 is AEAD');
    const empty: SkKeys = { encryption: { ...e, open: () => new Uint8Array(0) } };
    expect(decryptSK(m, decoded(m), empty)).toMatchObject({
      ok: false,
      error: { code: 'INVALID_SYNTAX', message: 'empty plaintext has no Pad Length', payloadType: PayloadType.SK },
    });
  });

  it('a non-AEAD cipher without SK_a: sealing throws IkeEncodeError, opening is INVALID_SYNTAX', () => {
    const noMac: SkKeys = { encryption: cbc.encryption };
    expect(() => encryptSK(HDR, INNER, noMac, seededRandom(1))).toThrow(/needs an integrity transform/);
    const m = encryptSK(HDR, INNER, cbc, seededRandom(1));
    expect(decryptSK(m, decoded(m), noMac)).toMatchObject({ ok: false, error: { code: 'INVALID_SYNTAX', message: expect.stringMatching(/without an integrity/) } });
  });

  it('no SK, or an SKF, is INVALID_SYNTAX from decryptSK', () => {
    const d: DecodedMessage = { header: decoded(encryptSK(HDR, [], gcm, seededRandom(1))).header, payloads: [] };
    expect(decryptSK(new Uint8Array(28), d, gcm)).toMatchObject({ ok: false, error: { code: 'INVALID_SYNTAX' } });
  });
});
