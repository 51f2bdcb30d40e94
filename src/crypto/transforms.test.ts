import { describe, expect, it } from 'vitest';
import { isCryptoError } from './errors.js';
import {
  ENCR,
  ESN,
  INTEG,
  KE,
  PRF,
  aeadSpecFor,
  cipherSpecFor,
  encrTransform,
  encrTransforms,
  findEncr,
  findEsn,
  findInteg,
  findKe,
  findPrf,
  formatProposal,
  integTransform,
  integTransforms,
  isAeadEncr,
  keTransform,
  keTransforms,
  prfTransform,
  prfTransforms,
  resolveEncrKeyBits,
  transformName,
} from './transforms.js';
import { aeadNonceBytes, macOutputBytes } from './types.js';

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return isCryptoError(e) ? e.code : 'not a CryptoError';
  }
  return undefined;
}

describe('ENCR registry (Transform Type 1)', () => {
  // id, iana, name, kind, keyBits, attr, iv, block, icv, salt
  const table: [number, string, string, string, number[], boolean, number, number, number, number][] = [
    [3, 'ENCR_3DES', '3DES_CBC', 'cipher', [192], false, 8, 8, 0, 0],
    [11, 'ENCR_NULL', 'NULL', 'null', [0], false, 0, 1, 0, 0],
    [12, 'ENCR_AES_CBC', 'AES_CBC', 'cipher', [128, 192, 256], true, 16, 16, 0, 0],
    [13, 'ENCR_AES_CTR', 'AES_CTR', 'cipher', [128, 192, 256], true, 8, 1, 0, 4],
    [14, 'ENCR_AES_CCM_8', 'AES_CCM_8', 'aead', [128, 192, 256], true, 8, 1, 8, 3],
    [15, 'ENCR_AES_CCM_12', 'AES_CCM_12', 'aead', [128, 192, 256], true, 8, 1, 12, 3],
    [16, 'ENCR_AES_CCM_16', 'AES_CCM_16', 'aead', [128, 192, 256], true, 8, 1, 16, 3],
    [18, 'ENCR_AES_GCM_8', 'AES_GCM_8', 'aead', [128, 192, 256], true, 8, 1, 8, 4],
    [19, 'ENCR_AES_GCM_12', 'AES_GCM_12', 'aead', [128, 192, 256], true, 8, 1, 12, 4],
    [20, 'ENCR_AES_GCM_16', 'AES_GCM_16', 'aead', [128, 192, 256], true, 8, 1, 16, 4],
    [28, 'ENCR_CHACHA20_POLY1305', 'CHACHA20_POLY1305', 'aead', [256], false, 8, 1, 16, 4],
  ];
  it.each(table)('%i %s', (id, iana, name, kind, keyBits, attr, iv, block, icv, salt) => {
    const t = encrTransform(id);
    expect(t).toMatchObject({ type: 1, id, iana, name, kind, keyLengthAttribute: attr, ivBytes: iv, blockBytes: block });
    expect(t.keyBits).toEqual(keyBits);
    expect(t.icvBytes).toBe(icv);
    expect(t.saltBytes).toBe(salt);
    expect(isAeadEncr(id)).toBe(kind === 'aead');
  });
  it('has exactly the listed transforms', () => {
    expect(encrTransforms.map((t) => t.id)).toEqual(table.map((r) => r[0]));
  });
  it('maps AEAD transforms to AeadSpec with a nonce of salt | 8-byte IV', () => {
    for (const t of encrTransforms.filter((x) => x.kind === 'aead')) {
      for (const bits of t.keyBits) {
        const spec = aeadSpecFor(t.id, t.keyLengthAttribute ? bits : undefined);
        expect(spec).toEqual({ alg: t.aead, keyBytes: bits / 8, tagBytes: t.icvBytes });
        expect(aeadNonceBytes(spec)).toBe(t.saltBytes + t.ivBytes);
      }
    }
    expect(aeadSpecFor(ENCR.AES_GCM_8, 256)).toEqual({ alg: 'aes-gcm', keyBytes: 32, tagBytes: 8 });
    expect(aeadSpecFor(ENCR.AES_CCM_12, 192)).toEqual({ alg: 'aes-ccm', keyBytes: 24, tagBytes: 12 });
    expect(aeadSpecFor(ENCR.CHACHA20_POLY1305)).toEqual({ alg: 'chacha20-poly1305', keyBytes: 32, tagBytes: 16 });
  });
  it('maps cipher transforms to CipherSpec', () => {
    expect(cipherSpecFor(ENCR.AES_CBC, 192)).toEqual({ alg: 'aes-cbc', keyBytes: 24 });
    expect(cipherSpecFor(ENCR.AES_CTR, 256)).toEqual({ alg: 'aes-ctr', keyBytes: 32 });
    expect(cipherSpecFor(ENCR.DES3)).toEqual({ alg: '3des-cbc', keyBytes: 24 });
  });
  it('rejects a spec of the wrong kind, a missing or wrong key length, an unknown id', () => {
    expect(codeOf(() => aeadSpecFor(ENCR.AES_CBC, 128))).toBe('UNSUPPORTED_ALGORITHM');
    expect(codeOf(() => cipherSpecFor(ENCR.AES_GCM_16, 128))).toBe('UNSUPPORTED_ALGORITHM');
    expect(codeOf(() => cipherSpecFor(ENCR.NULL))).toBe('UNSUPPORTED_ALGORITHM');
    expect(codeOf(() => resolveEncrKeyBits(ENCR.AES_CBC))).toBe('INVALID_KEY_LENGTH');
    expect(codeOf(() => resolveEncrKeyBits(ENCR.AES_CBC, 64))).toBe('INVALID_KEY_LENGTH');
    expect(codeOf(() => resolveEncrKeyBits(ENCR.CHACHA20_POLY1305, 128))).toBe('INVALID_KEY_LENGTH');
    expect(resolveEncrKeyBits(ENCR.CHACHA20_POLY1305, 256)).toBe(256);
    expect(resolveEncrKeyBits(ENCR.DES3)).toBe(192);
    expect(codeOf(() => encrTransform(2))).toBe('UNSUPPORTED_ALGORITHM');
    expect(() => encrTransform(99)).toThrow(/ENCR transform 99 is not supported/);
    expect(findEncr(99)).toBeUndefined();
  });
  it('marks 3DES and NULL', () => {
    expect(encrTransform(ENCR.DES3).weak).toMatch(/RFC 8221/);
    expect(encrTransform(ENCR.NULL).weak).toMatch(/never for IKE/);
    expect(encrTransform(ENCR.AES_GCM_16).weak).toBeUndefined();
  });
});

describe('INTEG registry (Transform Type 3)', () => {
  const table: [number, string, string | null, number, number][] = [
    [0, 'NONE', null, 0, 0],
    [2, 'AUTH_HMAC_SHA1_96', 'hmac-sha1', 20, 12],
    [5, 'AUTH_AES_XCBC_96', 'aes-xcbc', 16, 12],
    [8, 'AUTH_AES_CMAC_96', 'aes-cmac', 16, 12],
    [12, 'AUTH_HMAC_SHA2_256_128', 'hmac-sha256', 32, 16],
    [13, 'AUTH_HMAC_SHA2_384_192', 'hmac-sha384', 48, 24],
    [14, 'AUTH_HMAC_SHA2_512_256', 'hmac-sha512', 64, 32],
  ];
  it.each(table)('%i %s', (id, iana, mac, keyBytes, icv) => {
    expect(integTransform(id)).toMatchObject({ type: 3, id, iana, mac, keyBytes, icvBytes: icv });
    if (mac !== null) {
      // truncation keeps at most the MAC's own output, and exactly half of it for HMAC-SHA2 (RFC 4868 2.3)
      expect(icv).toBeLessThanOrEqual(macOutputBytes(integTransform(id).mac!));
    }
  });
  it('has exactly the listed transforms', () => {
    expect(integTransforms.map((t) => t.id)).toEqual(table.map((r) => r[0]));
    expect(findInteg(7)).toBeUndefined();
    expect(codeOf(() => integTransform(1))).toBe('UNSUPPORTED_ALGORITHM');
  });
});

describe('PRF registry (Transform Type 2)', () => {
  const table: [number, string, string, number][] = [
    [2, 'PRF_HMAC_SHA1', 'hmac-sha1', 20],
    [4, 'PRF_AES128_XCBC', 'aes-xcbc', 16],
    [5, 'PRF_HMAC_SHA2_256', 'hmac-sha256', 32],
    [6, 'PRF_HMAC_SHA2_384', 'hmac-sha384', 48],
    [7, 'PRF_HMAC_SHA2_512', 'hmac-sha512', 64],
    [8, 'PRF_AES128_CMAC', 'aes-cmac', 16],
  ];
  it.each(table)('%i %s', (id, iana, mac, size) => {
    const t = prfTransform(id);
    expect(t).toMatchObject({ type: 2, id, iana, name: iana, mac, keyBytes: size, outputBytes: size });
    expect(macOutputBytes(t.mac)).toBe(t.outputBytes);
  });
  it('has exactly the listed transforms', () => {
    expect(prfTransforms.map((t) => t.id)).toEqual(table.map((r) => r[0]));
    expect(findPrf(1)).toBeUndefined();
    expect(codeOf(() => prfTransform(3))).toBe('UNSUPPORTED_ALGORITHM');
  });
});

describe('KE registry (Transform Type 4)', () => {
  // id, name, kind, public value bytes, weak
  const table: [number, string, string, number, boolean][] = [
    [2, 'MODP_1024', 'modp', 128, true],
    [5, 'MODP_1536', 'modp', 192, true],
    [14, 'MODP_2048', 'modp', 256, false],
    [15, 'MODP_3072', 'modp', 384, false],
    [16, 'MODP_4096', 'modp', 512, false],
    [17, 'MODP_6144', 'modp', 768, false],
    [18, 'MODP_8192', 'modp', 1024, false],
    [19, 'ECP_256', 'ecp', 64, false],
    [20, 'ECP_384', 'ecp', 96, false],
    [21, 'ECP_521', 'ecp', 132, false],
    [22, 'MODP_1024_160', 'modp', 128, true],
    [23, 'MODP_2048_224', 'modp', 256, true],
    [24, 'MODP_2048_256', 'modp', 256, true],
    [27, 'ECP_224_BP', 'ecp-bp', 56, false],
    [28, 'ECP_256_BP', 'ecp-bp', 64, false],
    [29, 'ECP_384_BP', 'ecp-bp', 96, false],
    [30, 'ECP_512_BP', 'ecp-bp', 128, false],
    [31, 'CURVE_25519', 'montgomery', 32, false],
    [32, 'CURVE_448', 'montgomery', 56, false],
    [35, 'ML_KEM_512', 'kem', 800, false],
    [36, 'ML_KEM_768', 'kem', 1184, false],
    [37, 'ML_KEM_1024', 'kem', 1568, false],
  ];
  it.each(table)('%i %s', (id, name, kind, publicBytes, weak) => {
    const t = keTransform(id);
    expect(t).toMatchObject({ type: 4, id, name, kind, publicBytes });
    expect(t.weak !== undefined).toBe(weak);
  });
  it('gives KEMs a responder value of their own (FIPS 203 Table 3: c = 32(du*k + dv)) and DH groups none', () => {
    expect([35, 36, 37].map((id) => keTransform(id).responderBytes)).toEqual([768, 1088, 1568]);
    expect(keTransform(KE.ML_KEM_768).iana).toBe('ML-KEM-768');
    expect(keTransforms.filter((t) => t.kind !== 'kem').every((t) => t.responderBytes === undefined)).toBe(true);
  });
  it('has exactly the listed groups', () => {
    expect(keTransforms.map((t) => t.id)).toEqual(table.map((r) => r[0]));
    expect(findKe(1)).toBeUndefined();
    expect(findKe(KE.NONE)).toBeUndefined();
    expect(codeOf(() => keTransform(25))).toBe('UNSUPPORTED_ALGORITHM');
    expect(keTransform(KE.MODP_1024).weak).toMatch(/RFC 8247/);
  });
});

describe('ESN (Transform Type 5)', () => {
  it('knows both values', () => {
    expect(findEsn(ESN.NONE)?.name).toBe('NO_EXT_SEQ');
    expect(findEsn(ESN.ESN)?.name).toBe('EXT_SEQ');
    expect(findEsn(2)).toBeUndefined();
  });
});

describe('names for logs', () => {
  it('prints transforms as strongSwan logs them', () => {
    expect(transformName(1, ENCR.AES_GCM_16, 128)).toBe('AES_GCM_16_128');
    expect(transformName(1, ENCR.AES_CBC, 256)).toBe('AES_CBC_256');
    expect(transformName(1, ENCR.CHACHA20_POLY1305)).toBe('CHACHA20_POLY1305');
    expect(transformName(1, ENCR.DES3)).toBe('3DES_CBC');
    expect(transformName(2, PRF.HMAC_SHA2_256)).toBe('PRF_HMAC_SHA2_256');
    expect(transformName(3, INTEG.HMAC_SHA2_256_128)).toBe('HMAC_SHA2_256_128');
    expect(transformName(4, KE.CURVE_25519)).toBe('CURVE_25519');
    expect(transformName(4, KE.NONE)).toBe('KE_NONE');
    expect(transformName(5, ESN.NONE)).toBe('NO_EXT_SEQ');
    expect(transformName(1, 99)).toBe('UNKNOWN_1_99');
  });
  it('formats a negotiated set like swanctl --list-sas', () => {
    expect(formatProposal({ encr: ENCR.AES_GCM_16, keyBits: 128, prf: PRF.HMAC_SHA2_256, ke: KE.CURVE_25519 }))
      .toBe('AES_GCM_16-128/PRF_HMAC_SHA2_256/CURVE_25519');
    expect(formatProposal({
      encr: ENCR.AES_CBC, keyBits: 256, integ: INTEG.HMAC_SHA2_256_128, prf: PRF.HMAC_SHA2_256, ke: KE.MODP_2048,
    })).toBe('AES_CBC-256/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_2048');
    expect(formatProposal({ encr: ENCR.CHACHA20_POLY1305, integ: INTEG.NONE, ke: KE.NONE, esn: ESN.NONE }))
      .toBe('CHACHA20_POLY1305');
    expect(formatProposal({ encr: ENCR.AES_CBC, keyBits: 128, integ: INTEG.HMAC_SHA1_96, ke: KE.ECP_256, esn: 1 }))
      .toBe('AES_CBC-128/HMAC_SHA1_96/ECP_256/ESN');
  });
});
