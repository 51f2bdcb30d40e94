import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { availableBackends } from './backends/index.js';
import { nodeBackend } from './backends/node.js';
import { isCryptoError } from './errors.js';
import {
  childKeymatBytes,
  createEncryption,
  createIntegrity,
  encrKeymatBytes,
  ikeSaKeySizes,
  integKeyBytes,
  prfKeyBytes,
  splitChildKeymat,
  type AeadEncryption,
  type CipherEncryption,
} from './suite.js';
import { ENCR, INTEG, PRF, aeadSpecFor, cipherSpecFor, encrTransforms, findInteg, findPrf, integTransforms, prfTransform } from './transforms.js';
import type { CryptoBackend } from './types.js';

const hex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const vectors = (name: string) =>
  JSON.parse(readFileSync(new URL(`../../vectors/${name}.json`, import.meta.url), 'utf8')) as { entries: Record<string, unknown>[] };

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return isCryptoError(e) ? e.code : `not a CryptoError: ${String(e)}`;
  }
  return undefined;
}

const backends = availableBackends();

describe('key material sizes', () => {
  // id, keyBits, keymat bytes (key + salt/nonce)
  const encr: [number, number | undefined, number][] = [
    [ENCR.DES3, undefined, 24],
    [ENCR.AES_CBC, 128, 16], [ENCR.AES_CBC, 192, 24], [ENCR.AES_CBC, 256, 32],
    [ENCR.AES_CTR, 128, 20], [ENCR.AES_CTR, 192, 28], [ENCR.AES_CTR, 256, 36],
    [ENCR.AES_CCM_8, 128, 19], [ENCR.AES_CCM_12, 192, 27], [ENCR.AES_CCM_16, 256, 35],
    [ENCR.AES_GCM_8, 128, 20], [ENCR.AES_GCM_12, 192, 28], [ENCR.AES_GCM_16, 256, 36],
    [ENCR.AES_GCM_16, 128, 20], [ENCR.AES_CCM_16, 128, 19],
    [ENCR.CHACHA20_POLY1305, undefined, 36], [ENCR.CHACHA20_POLY1305, 256, 36],
    [ENCR.NULL, undefined, 0],
  ];
  it.each(encr)('encr %i/%s takes %i bytes', (id, bits, bytes) => {
    expect(encrKeymatBytes(id, bits)).toBe(bytes);
  });
  it('covers every key size of every encryption transform', () => {
    for (const t of encrTransforms) {
      for (const bits of t.keyBits) {
        expect(encrKeymatBytes(t.id, t.keyLengthAttribute ? bits : undefined)).toBe(bits / 8 + t.saltBytes);
      }
    }
  });
  it('integrity and PRF key sizes', () => {
    expect(integTransforms.map((t) => [t.id, integKeyBytes(t.id)])).toEqual([
      [0, 0], [2, 20], [5, 16], [8, 16], [12, 32], [13, 48], [14, 64],
    ]);
    expect([2, 4, 5, 6, 7, 8].map(prfKeyBytes)).toEqual([20, 16, 32, 48, 64, 16]);
  });
  it('rejects missing or wrong key lengths', () => {
    expect(codeOf(() => encrKeymatBytes(ENCR.AES_GCM_16))).toBe('INVALID_KEY_LENGTH');
    expect(codeOf(() => encrKeymatBytes(ENCR.AES_CBC, 512))).toBe('INVALID_KEY_LENGTH');
    expect(codeOf(() => encrKeymatBytes(99, 128))).toBe('UNSUPPORTED_ALGORITHM');
    expect(codeOf(() => integKeyBytes(99))).toBe('UNSUPPORTED_ALGORITHM');
  });

  it('splits CHILD SA KEYMAT as encr_i | integ_i | encr_r | integ_r (RFC 7296 2.17)', () => {
    const n = childKeymatBytes(ENCR.AES_CBC, 128, INTEG.HMAC_SHA2_256_128);
    expect(n).toBe(2 * (16 + 32));
    const keymat = Uint8Array.from({ length: n }, (_, i) => i);
    const k = splitChildKeymat(keymat, ENCR.AES_CBC, 128, INTEG.HMAC_SHA2_256_128);
    expect(k.initiator.encr).toEqual(keymat.subarray(0, 16));
    expect(k.initiator.integ).toEqual(keymat.subarray(16, 48));
    expect(k.responder.encr).toEqual(keymat.subarray(48, 64));
    expect(k.responder.integ).toEqual(keymat.subarray(64, 96));
    expect(k.initiator.encr.buffer).toBe(keymat.buffer); // views, not copies
    const g = splitChildKeymat(new Uint8Array(40), ENCR.AES_GCM_16, 128);
    expect([g.initiator.encr.length, g.initiator.integ.length, g.responder.encr.length]).toEqual([20, 0, 20]);
    expect(codeOf(() => splitChildKeymat(new Uint8Array(39), ENCR.AES_GCM_16, 128))).toBe('INVALID_KEY_LENGTH');
  });

  it('gives the IKE SA key sizes for RFC 7296 2.14', () => {
    const t = { prf: PRF.HMAC_SHA2_256, encr: ENCR.AES_CBC, keyBits: 256, integ: INTEG.HMAC_SHA2_256_128 };
    expect(ikeSaKeySizes(t)).toEqual({ encrKey: 32, integKey: 32, prfKey: 32 });
    expect(ikeSaKeySizes({ prf: PRF.HMAC_SHA2_512, encr: ENCR.AES_GCM_16, keyBits: 128 }))
      .toEqual({ encrKey: 20, integKey: 0, prfKey: 64 });
    expect(ikeSaKeySizes({ prf: PRF.AES128_XCBC, encr: ENCR.AES_CTR, keyBits: 192, integ: INTEG.AES_XCBC_96 }))
      .toEqual({ encrKey: 28, integKey: 16, prfKey: 16 });
    expect(codeOf(() => ikeSaKeySizes({ prf: PRF.HMAC_SHA2_256, encr: ENCR.AES_GCM_16 }))).toBe('INVALID_KEY_LENGTH');
  });
});

interface AeadVector {
  id: string; algorithm: string; key_bits: number; keymat: string; key: string; salt: string; iv: string;
  aad: string; plaintext: string; ciphertext: string; tag: string; icv_length: number;
}

describe.each(backends.map((b) => [b.name, b] as const))('createEncryption on %s', (_name, backend: CryptoBackend) => {
  const aead = vectors('aead').entries as unknown as AeadVector[];
  it(`AEAD vectors (${aead.length})`, () => {
    let ran = 0;
    const skipped: string[] = [];
    for (const v of aead) {
      const id = Number(/transform ID (\d+)/.exec(v.algorithm)![1]);
      const keyBits = id === ENCR.CHACHA20_POLY1305 ? undefined : v.key_bits;
      if (!backend.hasAead(aeadSpecFor(id, keyBits))) {
        skipped.push(v.id);
        continue;
      }
      const enc = createEncryption(id, keyBits, hex(v.keymat), backend) as AeadEncryption;
      expect(enc.aead, v.id).toBe(true);
      expect(toHex(enc.salt), v.id).toBe(v.salt);
      expect(enc.icvBytes, v.id).toBe(v.icv_length);
      expect(enc.ivBytes).toBe(8);
      const iv = hex(v.iv);
      const sealed = enc.seal(iv, hex(v.aad), hex(v.plaintext));
      expect(toHex(sealed), v.id).toBe(v.ciphertext + v.tag);
      expect(toHex(enc.open(iv, hex(v.aad), sealed)!), v.id).toBe(v.plaintext);
      // in place, into the caller's buffer
      const buf = new Uint8Array(v.plaintext.length / 2 + enc.icvBytes);
      buf.set(hex(v.plaintext));
      enc.seal(iv, hex(v.aad), buf.subarray(0, v.plaintext.length / 2), buf);
      expect(toHex(buf), v.id).toBe(v.ciphertext + v.tag);
      const bad = sealed.slice();
      bad[bad.length - 1]! ^= 1;
      expect(enc.open(iv, hex(v.aad), bad), v.id).toBeNull();
      enc.dispose();
      ran++;
    }
    if (skipped.length > 0) console.log(`${backend.name}: skipped ${skipped.length} AEAD entries the backend lacks: ${skipped.join(', ')}`);
    expect(ran + skipped.length).toBe(aead.length);
    expect(ran).toBeGreaterThan(0);
  });

  const cipher = vectors('cipher').entries as unknown as {
    id: string; algorithm: string; key_bits?: number; key: string; keymat?: string; iv: string; plaintext: string;
    ciphertext: string; nonce?: string;
  }[];
  it(`cipher vectors (${cipher.length})`, () => {
    const skipped: string[] = [];
    for (const v of cipher) {
      const id = Number(/\((\d+)\)/.exec(v.algorithm)![1]);
      const keyBits = id === ENCR.DES3 ? undefined : (v.key_bits ?? v.key.length * 4);
      if (!backend.hasCipher(cipherSpecFor(id, keyBits))) {
        skipped.push(v.id);
        continue;
      }
      const enc = createEncryption(id, keyBits, hex(v.keymat ?? v.key), backend) as CipherEncryption;
      expect(enc.aead).toBe(false);
      if (id === ENCR.AES_CTR) {
        expect(toHex(enc.nonce!), v.id).toBe(v.nonce);
        expect([enc.ivBytes, enc.blockBytes]).toEqual([8, 1]);
      } else {
        expect(enc.nonce).toBeUndefined();
        expect([enc.ivBytes, enc.blockBytes]).toEqual(id === ENCR.DES3 ? [8, 8] : [16, 16]);
      }
      const ct = enc.encrypt(hex(v.iv), hex(v.plaintext));
      expect(toHex(ct), v.id).toBe(v.ciphertext);
      expect(toHex(enc.decrypt(hex(v.iv), ct)), v.id).toBe(v.plaintext);
      enc.dispose();
    }
    if (skipped.length > 0) console.log(`${backend.name}: skipped ${skipped.length} cipher entries the backend lacks: ${skipped.join(', ')}`);
    expect(skipped.length).toBeLessThan(cipher.length);
  });

  it('rejects wrong keymat and IV sizes with typed errors', () => {
    expect(codeOf(() => createEncryption(ENCR.AES_GCM_16, 128, new Uint8Array(16), backend))).toBe('INVALID_KEY_LENGTH');
    expect(() => createEncryption(ENCR.AES_GCM_16, 128, new Uint8Array(16), backend)).toThrow(
      /ENCR_AES_GCM_16-128: keymat is 16 bytes, expected 20/,
    );
    expect(codeOf(() => createEncryption(ENCR.AES_CTR, 128, new Uint8Array(16), backend))).toBe('INVALID_KEY_LENGTH');
    expect(codeOf(() => createEncryption(ENCR.AES_CBC, 100, new Uint8Array(16), backend))).toBe('INVALID_KEY_LENGTH');
    expect(codeOf(() => createEncryption(ENCR.NULL, undefined, new Uint8Array(0), backend))).toBe('UNSUPPORTED_ALGORITHM');
    const gcm = createEncryption(ENCR.AES_GCM_16, 128, new Uint8Array(20), backend) as AeadEncryption;
    expect(codeOf(() => gcm.seal(new Uint8Array(12), new Uint8Array(0), new Uint8Array(4)))).toBe('INVALID_IV_LENGTH');
    const cbc = createEncryption(ENCR.AES_CBC, 128, new Uint8Array(16), backend) as CipherEncryption;
    expect(codeOf(() => cbc.encrypt(new Uint8Array(8), new Uint8Array(16)))).toBe('INVALID_IV_LENGTH');
    const ctr = createEncryption(ENCR.AES_CTR, 128, new Uint8Array(20), backend) as CipherEncryption;
    expect(codeOf(() => ctr.encrypt(new Uint8Array(16), new Uint8Array(16)))).toBe('INVALID_IV_LENGTH');
    for (const c of [gcm, cbc, ctr]) c.dispose();
  });

  it('builds the AEAD nonce as salt | IV (RFC 4106 section 4) and CCM with a 3-byte salt (RFC 4309)', () => {
    const gcm = createEncryption(ENCR.AES_GCM_16, 128, hex('00'.repeat(16) + 'a1a2a3a4'), backend) as AeadEncryption;
    expect(toHex(gcm.nonce(hex('0102030405060708')))).toBe('a1a2a3a40102030405060708');
    gcm.dispose();
    if (!backend.hasAead(aeadSpecFor(ENCR.AES_CCM_8, 128))) return;
    const ccm = createEncryption(ENCR.AES_CCM_8, 128, hex('00'.repeat(16) + 'b1b2b3'), backend) as AeadEncryption;
    expect(toHex(ccm.nonce(hex('0102030405060708')))).toBe('b1b2b30102030405060708');
    ccm.dispose();
  });
});

interface MacVector { id: string; algorithm: string; key: string; data: string; mac: string }

describe.each(backends.map((b) => [b.name, b] as const))('createIntegrity on %s', (_name, backend: CryptoBackend) => {
  const all = vectors('prf_hmac').entries as unknown as MacVector[];
  // integrity entries with an IANA Transform Type 3 id that cygnet has (AUTH_HMAC_SHA1_160 (7) is not one)
  const integ = all.flatMap((v) => {
    const m = /^(?:INTEG )?(AUTH_\w+) \((\d+)\)/.exec(v.algorithm);
    const t = m ? findInteg(Number(m[2])) : undefined;
    return t !== undefined && `AUTH_${t.name}` === m![1] ? [{ v, t }] : [];
  });
  it(`integrity vectors (${integ.length}) with truncation and constant-time verify`, () => {
    expect(integ.length).toBeGreaterThanOrEqual(17);
    for (const { v, t } of integ) {
      const ctx = createIntegrity(t.id, hex(v.key), backend);
      expect(ctx.icvBytes).toBe(t.icvBytes);
      expect(v.mac.length / 2, v.id).toBe(t.icvBytes);
      expect(toHex(ctx.compute(hex(v.data))), v.id).toBe(v.mac);
      // in parts and into a caller buffer larger than the ICV
      const data = hex(v.data);
      const out = new Uint8Array(t.icvBytes + 5);
      const icv = ctx.compute([data.subarray(0, 3), data.subarray(3)], out);
      expect(toHex(icv), v.id).toBe(v.mac);
      expect(icv.buffer).toBe(out.buffer);
      expect(ctx.verify(data, hex(v.mac)), v.id).toBe(true);
      const bad = hex(v.mac);
      bad[0]! ^= 0x80;
      expect(ctx.verify(data, bad), v.id).toBe(false);
      expect(ctx.verify(data, hex(v.mac).subarray(1)), v.id).toBe(false);
      ctx.dispose();
    }
  });

  // HMAC PRFs map straight onto MacAlgorithm (the AES PRFs adjust their key first: prf.ts)
  const prfs = all.flatMap((v) => {
    const m = /^PRF (PRF_HMAC_\w+) \((\d+)\)/.exec(v.algorithm);
    const t = m ? findPrf(Number(m[2])) : undefined;
    return t !== undefined && t.name === m![1] ? [{ v, t }] : [];
  });
  it(`HMAC PRF vectors (${prfs.length}) through the transform's MacAlgorithm`, () => {
    expect(prfs.length).toBeGreaterThanOrEqual(21);
    for (const { v, t } of prfs) {
      const mac = backend.createMac(prfTransform(t.id).mac, hex(v.key));
      expect(toHex(mac.compute(hex(v.data))), v.id).toBe(v.mac);
      mac.dispose();
    }
  });

  it('rejects a wrong key size, NONE, and a short output buffer', () => {
    expect(codeOf(() => createIntegrity(INTEG.HMAC_SHA2_256_128, new Uint8Array(20), backend))).toBe('INVALID_KEY_LENGTH');
    expect(() => createIntegrity(INTEG.HMAC_SHA2_256_128, new Uint8Array(20), backend)).toThrow(
      /AUTH_HMAC_SHA2_256_128: keymat is 20 bytes, expected 32/,
    );
    expect(codeOf(() => createIntegrity(INTEG.AES_XCBC_96, new Uint8Array(32), backend))).toBe('INVALID_KEY_LENGTH');
    expect(codeOf(() => createIntegrity(INTEG.NONE, new Uint8Array(0), backend))).toBe('UNSUPPORTED_ALGORITHM');
    const ctx = createIntegrity(INTEG.HMAC_SHA1_96, new Uint8Array(20), backend);
    expect(codeOf(() => ctx.compute(new Uint8Array(3), new Uint8Array(11)))).toBe('INVALID_OUTPUT_LENGTH');
    ctx.dispose();
  });
});

describe('backends', () => {
  it('runs against node at least', () => {
    expect(backends.map((b) => b.name)).toContain(nodeBackend.name);
  });
});
