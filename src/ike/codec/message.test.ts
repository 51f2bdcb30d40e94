/** IKE header and whole-message decoding/encoding (RFC 7296 3.1, 3.2), and decode(encode(x)) = x properties. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeHeader, decodeMessage, encodeMessage, encodePayloads } from './message.js';
import { headerArb, hex, payloadArb, payloadArbs, toHex } from './test-support.js';
import { ExchangeType, NotifyType, PayloadType, type IkeHeaderInit, type Payload } from './types.js';

const HDR: IkeHeaderInit = {
  spiI: hex('0001020304050607'),
  spiR: hex('0000000000000000'),
  exchangeType: ExchangeType.IKE_SA_INIT,
  flags: { initiator: true, response: false, version: false },
  messageId: 0,
};

const NONCE: Payload = { type: PayloadType.NONCE, critical: false, data: new Uint8Array(32).fill(7) };
const NOTIFY: Payload = {
  type: PayloadType.NOTIFY,
  critical: false,
  protocol: 0,
  spi: new Uint8Array(0),
  notifyType: NotifyType.IKEV2_FRAGMENTATION_SUPPORTED,
  data: new Uint8Array(0),
};

describe('IKE header (RFC 7296 3.1)', () => {
  it('encodes the header fields, next payload and length', () => {
    const m = encodeMessage({ ...HDR, messageId: 0x01020304 }, [NONCE, NOTIFY]);
    expect(toHex(m.subarray(0, 28))).toBe('0001020304050607' + '0000000000000000' + '28' + '20' + '22' + '08' + '01020304' + (28 + 36 + 8).toString(16).padStart(8, '0'));
    const h = decodeHeader(m);
    expect(h.ok && h.value).toMatchObject({ nextPayload: PayloadType.NONCE, majorVersion: 2, minorVersion: 0, exchangeType: 34, messageId: 0x01020304, length: 72 });
    expect(h.ok && h.value.flags).toEqual({ initiator: true, response: false, version: false });
    // N follows Nonce in the chain
    expect(m[28]).toBe(PayloadType.NOTIFY);
  });
  it('encodes response and version flags', () => {
    const m = encodeMessage({ ...HDR, flags: { initiator: false, response: true, version: true } }, []);
    expect(m[19]).toBe(0x30);
    expect(m[16]).toBe(0);
    expect(m.length).toBe(28);
  });
  it('rejects short buffers, other major versions and bad lengths', () => {
    const m = encodeMessage(HDR, [NONCE]);
    expect(decodeHeader(m.subarray(0, 27))).toMatchObject({ ok: false, error: { code: 'TRUNCATED' } });
    const v3 = m.slice();
    v3[17] = 0x30;
    expect(decodeMessage(v3)).toMatchObject({ ok: false, error: { code: 'BAD_VERSION', offset: 17 } });
    const v1 = m.slice();
    v1[17] = 0x10;
    expect(decodeMessage(v1)).toMatchObject({ ok: false, error: { code: 'BAD_VERSION' } });
    expect(decodeMessage(m.subarray(0, m.length - 1))).toMatchObject({ ok: false, error: { code: 'TRUNCATED', offset: 24 } });
    const longer = new Uint8Array(m.length + 1);
    longer.set(m);
    expect(decodeMessage(longer)).toMatchObject({ ok: false, error: { code: 'BAD_LENGTH', offset: 24 } });
    const small = m.slice();
    small[27] = 20;
    expect(decodeMessage(small)).toMatchObject({ ok: false, error: { code: 'BAD_LENGTH' } });
  });
  it('accepts a higher minor version (RFC 7296 2.5)', () => {
    const m = encodeMessage({ ...HDR, minorVersion: 3 }, [NONCE]);
    expect(decodeMessage(m)).toMatchObject({ ok: true, value: { header: { minorVersion: 3 } } });
  });
});

describe('SK as the last payload (RFC 7296 3.14)', () => {
  function withSk(skBody: string, after = ''): Uint8Array {
    const body = hex(skBody);
    const chain = encodePayloads([NOTIFY], PayloadType.SK);
    const sk = new Uint8Array(4 + body.length);
    sk[0] = PayloadType.IDi;
    sk[2] = (sk.length >> 8) & 0xff;
    sk[3] = sk.length & 0xff;
    sk.set(body, 4);
    const tail = hex(after);
    const m = new Uint8Array(28 + chain.length + sk.length + tail.length);
    m.set(encodeMessage(HDR, []).subarray(0, 28));
    m[16] = PayloadType.NOTIFY;
    m.set(chain, 28);
    m.set(sk, 28 + chain.length);
    m.set(tail, 28 + chain.length + sk.length);
    m[27] = m.length & 0xff;
    m[26] = (m.length >> 8) & 0xff;
    return m;
  }
  it('returns plaintext payloads and the sealed body with its offsets', () => {
    const m = withSk('aabbccdd');
    const r = decodeMessage(m);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.payloads).toEqual([NOTIFY]);
    expect(r.value.encrypted).toMatchObject({ type: PayloadType.SK, firstInnerType: PayloadType.IDi, headerOffset: 36, ivOffset: 40 });
    expect(toHex(r.value.encrypted!.body)).toBe('aabbccdd');
  });
  it('rejects SK that is not last', () => {
    const m = withSk('aabbccdd', '00000004');
    expect(decodeMessage(m)).toMatchObject({ ok: false, error: { code: 'INVALID_SYNTAX', payloadType: PayloadType.SK } });
  });
  it('parses SKF fragment numbers and rejects impossible ones (RFC 7383 2.5)', () => {
    const mk = (num: number, total: number) => {
      const m = withSk(num.toString(16).padStart(4, '0') + total.toString(16).padStart(4, '0') + 'aabb');
      m[28] = PayloadType.SKF; // N's Next Payload: the encrypted payload is an SKF
      return m;
    };
    const ok = decodeMessage((mk(2, 3)));
    expect(ok).toMatchObject({ ok: true, value: { encrypted: { type: PayloadType.SKF, fragmentNumber: 2, totalFragments: 3, ivOffset: 44 } } });
    expect(decodeMessage((mk(0, 3)))).toMatchObject({ ok: false, error: { code: 'INVALID_SYNTAX' } });
    expect(decodeMessage((mk(4, 3)))).toMatchObject({ ok: false, error: { code: 'INVALID_SYNTAX' } });
  });
});

/** Strips the derived header fields so a decoded header compares with the IkeHeaderInit it came from. */
function headerInit(h: { spiI: Uint8Array; spiR: Uint8Array; exchangeType: number; flags: object; messageId: number; minorVersion: number }) {
  return { spiI: h.spiI, spiR: h.spiR, exchangeType: h.exchangeType, flags: h.flags, messageId: h.messageId, minorVersion: h.minorVersion };
}

describe('decode(encode(x)) = x (fast-check)', () => {
  for (const [name, arb] of Object.entries(payloadArbs)) {
    it(`${name} payload`, () => {
      fc.assert(
        fc.property(headerArb, fc.array(arb as fc.Arbitrary<Payload>, { minLength: 1, maxLength: 3 }), (h, ps) => {
          const m = encodeMessage(h, ps);
          const r = decodeMessage(m);
          if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
          expect(r.value.payloads).toEqual(ps);
          expect(headerInit(r.value.header)).toEqual(h);
          expect(r.value.header.length).toBe(m.length);
          // and encode(decode(m)) = m
          expect(toHex(encodeMessage(h, r.value.payloads))).toBe(toHex(m));
        }),
        { numRuns: 150 },
      );
    });
  }
  it('mixed messages', () => {
    fc.assert(
      fc.property(headerArb, fc.array(payloadArb, { maxLength: 10 }), (h, ps) => {
        const r = decodeMessage(encodeMessage(h, ps));
        expect(r.ok && r.value.payloads).toEqual(ps);
      }),
      { numRuns: 300 },
    );
  });
});
