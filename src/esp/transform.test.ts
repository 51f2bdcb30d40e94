import { describe, expect, it } from 'vitest';
import { availableBackends } from '../crypto/backends/index.js';
import { createProvider } from '../crypto/provider.js';
import { seededRandom } from '../crypto/random.js';
import { encrKeymatBytes, integKeyBytes } from '../crypto/suite.js';
import { ENCR, INTEG } from '../crypto/transforms.js';
import { AUTH_HMAC_SHA1_96, AUTH_NONE, DecapStatus, ENCR_AES_CBC, ENCR_AES_CTR, ENCR_AES_GCM_16 } from './constants.js';
import { isEspError } from './errors.js';
import { espSeal } from './packet.js';
import { enginePair, ipv4Packet, withRoom } from './testing.js';
import { createEspTransform, encryptionKeymatBytes, integrityKeymatBytes } from './transform.js';

const backend = availableBackends().at(-1)!;

describe('ESP transform adapter', () => {
  it('cuts KEYMAT exactly as src/crypto/suite.ts does (RFC 7296 2.17 with the salts of RFC 4106/4309/7634/3686)', () => {
    const encrs = [ENCR.AES_CBC, ENCR.AES_CTR, ENCR.AES_GCM_8, ENCR.AES_GCM_12, ENCR.AES_GCM_16, ENCR.AES_CCM_8, ENCR.AES_CCM_16];
    for (const encr of encrs) {
      for (const bits of [128, 192, 256]) {
        expect(encryptionKeymatBytes({ encr, encrKeyBits: bits, integ: AUTH_NONE })).toBe(encrKeymatBytes(encr, bits));
      }
    }
    expect(encryptionKeymatBytes({ encr: ENCR.CHACHA20_POLY1305, integ: 0 })).toBe(encrKeymatBytes(ENCR.CHACHA20_POLY1305));
    expect(encryptionKeymatBytes({ encr: ENCR.DES3, integ: 2 })).toBe(encrKeymatBytes(ENCR.DES3));
    for (const integ of Object.values(INTEG)) {
      expect(integrityKeymatBytes({ encr: ENCR.AES_CBC, integ })).toBe(integKeyBytes(integ));
    }
  });

  it('counter IVs are the 64-bit sequence number; CBC IVs are random and differ per packet', () => {
    const gcm = createEspTransform({ encr: ENCR_AES_GCM_16, encrKeyBits: 128, integ: AUTH_NONE }, new Uint8Array(20), undefined, backend, seededRandom(1));
    const b = new Uint8Array(8);
    gcm.writeIv(b, 0, 0x01020304, 0x05060708);
    expect(Array.from(b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    const ctr = createEspTransform({ encr: ENCR_AES_CTR, encrKeyBits: 128, integ: AUTH_HMAC_SHA1_96 }, new Uint8Array(20), new Uint8Array(20), backend, seededRandom(1));
    ctr.writeIv(b, 0, 0, 9);
    expect(Array.from(b)).toEqual([0, 0, 0, 0, 0, 0, 0, 9]);
    const cbc = createEspTransform({ encr: ENCR_AES_CBC, encrKeyBits: 128, integ: AUTH_HMAC_SHA1_96 }, new Uint8Array(16), new Uint8Array(20), backend, seededRandom(1));
    const seen = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const iv = new Uint8Array(16);
      cbc.writeIv(iv, 0, 0, i);
      seen.add(Buffer.from(iv).toString('hex'));
    }
    expect(seen.size).toBe(1000);
  });

  it('refuses wrong key sizes and impossible combinations with typed errors', () => {
    const code = (f: () => unknown): string => {
      try {
        f();
        return 'none';
      } catch (e) {
        return isEspError(e) ? e.code : `other: ${String(e)}`;
      }
    };
    const r = seededRandom(1);
    expect(code(() => createEspTransform({ encr: ENCR_AES_GCM_16, encrKeyBits: 128, integ: AUTH_NONE }, new Uint8Array(16), undefined, backend, r))).toBe('BAD_KEY');
    expect(code(() => createEspTransform({ encr: ENCR_AES_GCM_16, encrKeyBits: 100, integ: AUTH_NONE }, new Uint8Array(16), undefined, backend, r))).toBe('UNSUPPORTED_SUITE');
    expect(code(() => createEspTransform({ encr: ENCR_AES_GCM_16, encrKeyBits: 128, integ: AUTH_HMAC_SHA1_96 }, new Uint8Array(20), new Uint8Array(20), backend, r))).toBe('UNSUPPORTED_SUITE');
    expect(code(() => createEspTransform({ encr: ENCR_AES_CBC, encrKeyBits: 128, integ: AUTH_HMAC_SHA1_96 }, new Uint8Array(16), new Uint8Array(16), backend, r))).toBe('BAD_KEY');
    expect(code(() => createEspTransform({ encr: ENCR.NULL, integ: AUTH_NONE }, new Uint8Array(0), undefined, backend, r))).toBe('UNSUPPORTED_SUITE');
    expect(code(() => createEspTransform({ encr: ENCR_AES_CBC, encrKeyBits: 128, integ: 77 }, new Uint8Array(16), new Uint8Array(16), backend, r))).toBe('UNSUPPORTED_SUITE');
  });

  it('espSeal output is deterministic for counter-IV suites (same keys and sequence number, same bytes)', () => {
    const suite = { encr: ENCR_AES_GCM_16, encrKeyBits: 128, integ: AUTH_NONE };
    const mk = () => createEspTransform(suite, new Uint8Array(20).fill(7), undefined, backend, seededRandom(1));
    const a = new Uint8Array(200);
    const b = new Uint8Array(200);
    const ea = espSeal(mk(), a, 16, 100, 4, 0x1234, false, 0, 42);
    const eb = espSeal(mk(), b, 16, 100, 4, 0x1234, false, 0, 42);
    expect(ea).toBe(eb);
    expect(a).toEqual(b);
  });

  it('the engine runs on the auto provider (fastest backend per algorithm)', () => {
    const { a, b, hostA, hostB } = enginePair({ suite: { encr: ENCR_AES_GCM_16, encrKeyBits: 256, integ: AUTH_NONE }, backend: createProvider() });
    const r = a.encapsulate([withRoom(ipv4Packet(hostA, hostB))], 0);
    const d = b.decapsulate([{ buffer: r.buffer[0]!, offset: r.offset[0]!, length: r.length[0]! }], 0);
    expect(d.status[0]).toBe(DecapStatus.Deliver);
  });
});
