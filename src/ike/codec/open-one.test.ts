import { describe, expect, it } from 'vitest';
import { defaultProvider } from '../../crypto/provider.js';
import { seededRandom } from '../../crypto/random.js';
import { createEncryption, createIntegrity } from '../../crypto/suite.js';
import { fragmentSK } from './fragment.js';
import { decryptIkeMessage, joinFragments } from './open-one.js';
import { encryptSK } from './sk.js';
import { ExchangeType, NotifyType, PayloadType, type IkeHeaderInit, type Payload } from './types.js';

const backend = defaultProvider();
const HDR: IkeHeaderInit = {
  spiI: Uint8Array.from(Buffer.from('0011223344556677', 'hex')),
  spiR: Uint8Array.from(Buffer.from('8899aabbccddeeff', 'hex')),
  exchangeType: ExchangeType.CREATE_CHILD_SA,
  flags: { initiator: true, response: false, version: false },
  messageId: 7,
};
const INNER: Payload[] = [
  { type: PayloadType.NOTIFY, critical: false, protocol: 3, spi: Uint8Array.of(1, 2, 3, 4), notifyType: NotifyType.REKEY_SA, data: new Uint8Array(0) },
  { type: PayloadType.NONCE, critical: false, data: new Uint8Array(32).fill(7) },
];
const skE = new Uint8Array(36).fill(0x11); // AES-256 key + 4-byte salt
const cbcKey = new Uint8Array(16).fill(0x22);
const skA = new Uint8Array(32).fill(0x33);

describe('decryptIkeMessage', () => {
  it('decrypts an AES-GCM SK message from SK_e alone (key length from the key)', () => {
    const msg = encryptSK(HDR, INNER, { encryption: createEncryption(20, 256, skE, backend) }, seededRandom(1));
    const r = decryptIkeMessage(msg, { encr: 20, skE });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.header.messageId).toBe(7);
    expect(r.value.payloads).toEqual(INNER);
    expect(r.value.suite).toBe('AES_GCM_16-256');
  });

  it('checks integrity before decrypting (AES-CBC + HMAC-SHA2-256): a wrong SK_a names the transforms', () => {
    const keys = { encryption: createEncryption(12, 128, cbcKey, backend), integrity: createIntegrity(12, skA, backend) };
    const msg = encryptSK(HDR, INNER, keys, seededRandom(2));
    expect(decryptIkeMessage(msg, { encr: 12, encrKeyBits: 128, skE: cbcKey, integ: 12, skA }).ok).toBe(true);
    const bad = decryptIkeMessage(msg, { encr: 12, encrKeyBits: 128, skE: cbcKey, integ: 12, skA: new Uint8Array(32) });
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.error.code).toBe('INTEGRITY_CHECK_FAILED');
    expect(!bad.ok && bad.error.message).toContain('AES_CBC-128/HMAC_SHA2_256_128');
  });

  it('returns SKF fragments for reassembly (RFC 7383 2.5), in any arrival order', () => {
    const keys = { encryption: createEncryption(20, 256, skE, backend) };
    const big: Payload[] = [...INNER, { type: PayloadType.VENDOR, critical: false, data: new Uint8Array(600).fill(9) }];
    const frags = fragmentSK(HDR, big, keys, seededRandom(3), 300);
    expect(frags.length).toBeGreaterThan(2);
    const opened = frags.reverse().map((f) => decryptIkeMessage(f, { encr: 20, skE }));
    const chunks: Uint8Array[] = [];
    let first = 0;
    for (const o of opened) {
      if (!o.ok || !o.value.fragment) throw new Error('fragment did not open');
      chunks[o.value.fragment.number - 1] = o.value.fragment.plaintext;
      if (o.value.fragment.number === 1) first = o.value.fragment.firstInnerType;
      expect(o.value.fragment.total).toBe(frags.length);
    }
    expect(joinFragments(chunks, first)).toEqual({ ok: true, value: big });
  });

  it('errors are typed and name the transform', () => {
    const msg = encryptSK(HDR, INNER, { encryption: createEncryption(20, 256, skE, backend) }, seededRandom(1));
    const camellia = decryptIkeMessage(msg, { encr: 23, skE: cbcKey, integ: 12, skA });
    expect(!camellia.ok && camellia.error).toMatchObject({ code: 'UNSUPPORTED_TRANSFORM' });
    expect(!camellia.ok && camellia.error.message).toContain('CAMELLIA_CBC');
    const shortKey = decryptIkeMessage(msg, { encr: 20, encrKeyBits: 256, skE: new Uint8Array(10) });
    expect(!shortKey.ok && shortKey.error.code).toBe('BAD_KEY');
    expect(decryptIkeMessage(new Uint8Array(10), { encr: 20, skE })).toMatchObject({ ok: false, error: { code: 'TRUNCATED' } });
    const plain = msg.slice(0, 28);
    plain[16] = 0; // Next Payload NONE
    plain.set([0, 0, 0, 28], 24);
    expect(decryptIkeMessage(plain, { encr: 20, skE })).toMatchObject({ ok: false, error: { code: 'NOT_ENCRYPTED' } });
  });
});
