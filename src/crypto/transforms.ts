/**
 * The IANA "Internet Key Exchange Version 2 (IKEv2) Parameters" registry, Transform Types 1-5, for the transforms
 * cygnet knows, as data: what each one needs from the key material and the wire (key, salt, IV, block, ICV sizes),
 * and how it maps onto the crypto contract in types.ts (AeadSpec / CipherSpec / MacAlgorithm).
 *
 * Names: `iana` is the registry's name (ENCR_AES_GCM_16); `name` is the short name strongSwan prints in logs and in
 * `swanctl --list-sas` (AES_GCM_16), so our logs can be compared line by line with a strongSwan peer's.
 */
import { CryptoError } from './errors.js';
import type { AeadAlgorithm, AeadSpec, CipherAlgorithm, CipherSpec, MacAlgorithm } from './types.js';

/**
 * Transform Type values (RFC 7296 section 3.3.2; type 4 "Diffie-Hellman Group" is Key Exchange Method since
 * RFC 9370). The one table: src/ike/codec/types.ts re-exports it.
 */
export const TransformType = { ENCR: 1, PRF: 2, INTEG: 3, KE: 4, ESN: 5 } as const;
export type TransformTypeId = (typeof TransformType)[keyof typeof TransformType];

/** Transform Attribute Type of the Key Length attribute, value in bits (RFC 7296 section 3.3.5). */
export const KEY_LENGTH_ATTRIBUTE = 14;

/** Transform Type 1 IDs. */
export const ENCR = {
  DES3: 3, // ENCR_3DES, RFC 2451
  NULL: 11, // ENCR_NULL, RFC 2410 (ESP only: RFC 7296 3.3.2 forbids it for IKE)
  AES_CBC: 12, // RFC 3602
  AES_CTR: 13, // RFC 3686 / RFC 5930
  AES_CCM_8: 14, // RFC 4309 / RFC 5282
  AES_CCM_12: 15,
  AES_CCM_16: 16,
  AES_GCM_8: 18, // RFC 4106 / RFC 5282
  AES_GCM_12: 19,
  AES_GCM_16: 20,
  CHACHA20_POLY1305: 28, // RFC 7634
} as const;

/** Transform Type 2 IDs. */
export const PRF = {
  HMAC_SHA1: 2, // RFC 2104
  AES128_XCBC: 4, // RFC 4434
  HMAC_SHA2_256: 5, // RFC 4868
  HMAC_SHA2_384: 6,
  HMAC_SHA2_512: 7,
  AES128_CMAC: 8, // RFC 4615
} as const;

/** Transform Type 3 IDs. */
export const INTEG = {
  NONE: 0,
  HMAC_SHA1_96: 2, // RFC 2404
  AES_XCBC_96: 5, // RFC 3566
  AES_CMAC_96: 8, // RFC 4494
  HMAC_SHA2_256_128: 12, // RFC 4868
  HMAC_SHA2_384_192: 13,
  HMAC_SHA2_512_256: 14,
} as const;

/** Transform Type 4 IDs (Key Exchange Method; "Diffie-Hellman Group" before RFC 9370). */
export const KE = {
  NONE: 0,
  MODP_1024: 2, // RFC 2409
  MODP_1536: 5, // RFC 3526
  MODP_2048: 14,
  MODP_3072: 15,
  MODP_4096: 16,
  MODP_6144: 17,
  MODP_8192: 18,
  ECP_256: 19, // RFC 5903
  ECP_384: 20,
  ECP_521: 21,
  MODP_1024_160: 22, // RFC 5114
  MODP_2048_224: 23,
  MODP_2048_256: 24,
  ECP_224_BP: 27, // RFC 6954
  ECP_256_BP: 28,
  ECP_384_BP: 29,
  ECP_512_BP: 30,
  CURVE_25519: 31, // RFC 8031
  CURVE_448: 32,
  // FIPS 203 ML-KEM (draft-ietf-ipsecme-ikev2-mlkem); a KEM, so only through RFC 9370 / RFC 9242 (see mlkem.ts).
  ML_KEM_512: 35,
  ML_KEM_768: 36,
  ML_KEM_1024: 37,
} as const;

/** Transform Type 5 IDs. */
export const ESN = { NONE: 0, ESN: 1 } as const;

/** An encryption transform (Type 1). */
export interface EncrTransform {
  readonly type: 1;
  readonly id: number;
  readonly iana: string;
  /** strongSwan's short name (printed with `_<keyBits>` in logs and `-<keyBits>` by swanctl --list-sas). */
  readonly name: string;
  readonly rfc: string;
  readonly kind: 'aead' | 'cipher' | 'null';
  /** Key sizes allowed, in bits, without salt/nonce. */
  readonly keyBits: readonly number[];
  /** Whether the transform carries the Key Length attribute (RFC 7296 3.3.5; RFC 7634 section 2 forbids it). */
  readonly keyLengthAttribute: boolean;
  /** Bytes of the per-packet IV carried on the wire. */
  readonly ivBytes: number;
  /** Padding granularity the cipher itself needs (1 for stream and counter modes; ESP still aligns to 4). */
  readonly blockBytes: number;
  /** ICV bytes the transform produces (0 for non-AEAD: the integrity transform supplies the ICV). */
  readonly icvBytes: number;
  /** Bytes taken from the key material after the key: AEAD salt (GCM 4, CCM 3, ChaCha 4) or the CTR nonce (4). */
  readonly saltBytes: number;
  readonly aead?: AeadAlgorithm;
  readonly cipher?: CipherAlgorithm;
  /** Why this transform should not be used, when RFC 8221 / RFC 8247 advise against it. */
  readonly weak?: string;
}

/** An integrity transform (Type 3). */
export interface IntegTransform {
  readonly type: 3;
  readonly id: number;
  readonly iana: string;
  readonly name: string;
  readonly rfc: string;
  /** The MAC behind it, or null for NONE. */
  readonly mac: MacAlgorithm | null;
  /** Key bytes taken from the key material (RFC 4868 2.1.1: the hash output size for HMAC-SHA2; 16 for AES). */
  readonly keyBytes: number;
  /** Truncated ICV bytes sent on the wire. */
  readonly icvBytes: number;
  readonly weak?: string;
}

/** A pseudorandom function (Type 2). */
export interface PrfTransform {
  readonly type: 2;
  readonly id: number;
  readonly iana: string;
  readonly name: string;
  readonly rfc: string;
  readonly mac: MacAlgorithm;
  /**
   * Preferred key size: the length of SK_d, SK_pi and SK_pr (RFC 7296 2.13, 2.14). The PRF accepts keys of any
   * length (AES-XCBC-PRF-128 and AES-CMAC-PRF-128 adjust them, RFC 4434 / RFC 4615).
   */
  readonly keyBytes: number;
  readonly outputBytes: number;
  readonly weak?: string;
}

/** A key exchange method (Type 4). */
export interface KeTransform {
  readonly type: 4;
  readonly id: number;
  readonly iana: string;
  readonly name: string;
  readonly rfc: string;
  readonly kind: 'modp' | 'ecp' | 'ecp-bp' | 'montgomery' | 'kem';
  /**
   * Group size in bits (prime size for MODP and ECP, curve size for Montgomery curves); for a KEM the claimed
   * security strength (FIPS 203 section 8, Table 2: 128/192/256).
   */
  readonly bits: number;
  /**
   * Length of the KE payload's Key Exchange Data (RFC 7296 3.4; RFC 5903 section 7 x|y; RFC 8031 section 3). For a
   * KEM this is what the initiator sends: the encapsulation key ek (draft-ietf-ipsecme-ikev2-mlkem section 2).
   */
  readonly publicBytes: number;
  /**
   * KEM only: the responder's Key Exchange Data, the ciphertext c, which differs from the initiator's (RFC 9370
   * section 2.2). Undefined for Diffie-Hellman groups, where both sides send publicBytes.
   */
  readonly responderBytes?: number;
  /** Why this group should not be used (RFC 8247 section 2.4), or undefined. */
  readonly weak?: string;
}

/** Extended Sequence Numbers (Type 5). */
export interface EsnTransform {
  readonly type: 5;
  readonly id: number;
  readonly iana: string;
  readonly name: string;
}

const AES_KEY_BITS = [128, 192, 256] as const;

function aesAead(id: number, alg: 'aes-gcm' | 'aes-ccm', icv: number): EncrTransform {
  const mode = alg === 'aes-gcm' ? 'GCM' : 'CCM';
  return {
    type: 1, id, iana: `ENCR_AES_${mode}_${icv}`, name: `AES_${mode}_${icv}`,
    rfc: alg === 'aes-gcm' ? 'RFC 4106, RFC 5282' : 'RFC 4309, RFC 5282',
    kind: 'aead', keyBits: AES_KEY_BITS, keyLengthAttribute: true,
    // RFC 4106 section 3.1 / RFC 4309 section 3.1: an 8-byte explicit IV; section 8.1 / 7.1: 4 / 3 bytes of salt.
    ivBytes: 8, blockBytes: 1, icvBytes: icv, saltBytes: alg === 'aes-gcm' ? 4 : 3, aead: alg,
  };
}

const ENCR_TABLE: readonly EncrTransform[] = [
  {
    type: 1, id: ENCR.DES3, iana: 'ENCR_3DES', name: '3DES_CBC', rfc: 'RFC 2451', kind: 'cipher', keyBits: [192],
    keyLengthAttribute: false, ivBytes: 8, blockBytes: 8, icvBytes: 0, saltBytes: 0, cipher: '3des-cbc',
    weak: 'RFC 8221 section 5: 3DES is SHOULD NOT (64-bit block)',
  },
  {
    type: 1, id: ENCR.NULL, iana: 'ENCR_NULL', name: 'NULL', rfc: 'RFC 2410', kind: 'null', keyBits: [0],
    keyLengthAttribute: false, ivBytes: 0, blockBytes: 1, icvBytes: 0, saltBytes: 0,
    weak: 'no confidentiality; ESP only, never for IKE (RFC 7296 3.3.2)',
  },
  {
    type: 1, id: ENCR.AES_CBC, iana: 'ENCR_AES_CBC', name: 'AES_CBC', rfc: 'RFC 3602', kind: 'cipher',
    keyBits: AES_KEY_BITS, keyLengthAttribute: true, ivBytes: 16, blockBytes: 16, icvBytes: 0, saltBytes: 0,
    cipher: 'aes-cbc',
  },
  {
    // RFC 3686 section 5.1: KEYMAT = key | 4-byte nonce; section 3: an 8-byte IV; counter mode needs no padding.
    type: 1, id: ENCR.AES_CTR, iana: 'ENCR_AES_CTR', name: 'AES_CTR', rfc: 'RFC 3686, RFC 5930', kind: 'cipher',
    keyBits: AES_KEY_BITS, keyLengthAttribute: true, ivBytes: 8, blockBytes: 1, icvBytes: 0, saltBytes: 4,
    cipher: 'aes-ctr',
  },
  aesAead(ENCR.AES_CCM_8, 'aes-ccm', 8),
  aesAead(ENCR.AES_CCM_12, 'aes-ccm', 12),
  aesAead(ENCR.AES_CCM_16, 'aes-ccm', 16),
  aesAead(ENCR.AES_GCM_8, 'aes-gcm', 8),
  aesAead(ENCR.AES_GCM_12, 'aes-gcm', 12),
  aesAead(ENCR.AES_GCM_16, 'aes-gcm', 16),
  {
    // RFC 7634 section 2: 256-bit key + 4-byte salt, 8-byte IV, 16-byte tag, no Key Length attribute.
    type: 1, id: ENCR.CHACHA20_POLY1305, iana: 'ENCR_CHACHA20_POLY1305', name: 'CHACHA20_POLY1305',
    rfc: 'RFC 7634', kind: 'aead', keyBits: [256], keyLengthAttribute: false, ivBytes: 8, blockBytes: 1,
    icvBytes: 16, saltBytes: 4, aead: 'chacha20-poly1305',
  },
];

const INTEG_TABLE: readonly IntegTransform[] = [
  { type: 3, id: INTEG.NONE, iana: 'NONE', name: 'NONE', rfc: 'RFC 7296', mac: null, keyBytes: 0, icvBytes: 0 },
  {
    type: 3, id: INTEG.HMAC_SHA1_96, iana: 'AUTH_HMAC_SHA1_96', name: 'HMAC_SHA1_96', rfc: 'RFC 2404',
    mac: 'hmac-sha1', keyBytes: 20, icvBytes: 12,
  },
  {
    type: 3, id: INTEG.AES_XCBC_96, iana: 'AUTH_AES_XCBC_96', name: 'AES_XCBC_96', rfc: 'RFC 3566',
    mac: 'aes-xcbc', keyBytes: 16, icvBytes: 12,
  },
  {
    type: 3, id: INTEG.AES_CMAC_96, iana: 'AUTH_AES_CMAC_96', name: 'AES_CMAC_96', rfc: 'RFC 4494',
    mac: 'aes-cmac', keyBytes: 16, icvBytes: 12,
  },
  {
    type: 3, id: INTEG.HMAC_SHA2_256_128, iana: 'AUTH_HMAC_SHA2_256_128', name: 'HMAC_SHA2_256_128',
    rfc: 'RFC 4868', mac: 'hmac-sha256', keyBytes: 32, icvBytes: 16,
  },
  {
    type: 3, id: INTEG.HMAC_SHA2_384_192, iana: 'AUTH_HMAC_SHA2_384_192', name: 'HMAC_SHA2_384_192',
    rfc: 'RFC 4868', mac: 'hmac-sha384', keyBytes: 48, icvBytes: 24,
  },
  {
    type: 3, id: INTEG.HMAC_SHA2_512_256, iana: 'AUTH_HMAC_SHA2_512_256', name: 'HMAC_SHA2_512_256',
    rfc: 'RFC 4868', mac: 'hmac-sha512', keyBytes: 64, icvBytes: 32,
  },
];

const PRF_TABLE: readonly PrfTransform[] = [
  {
    type: 2, id: PRF.HMAC_SHA1, iana: 'PRF_HMAC_SHA1', name: 'PRF_HMAC_SHA1', rfc: 'RFC 2104', mac: 'hmac-sha1',
    keyBytes: 20, outputBytes: 20, weak: 'RFC 8247 section 2.3: PRF_HMAC_SHA1 is MUST- (being phased out)',
  },
  {
    type: 2, id: PRF.AES128_XCBC, iana: 'PRF_AES128_XCBC', name: 'PRF_AES128_XCBC', rfc: 'RFC 4434',
    mac: 'aes-xcbc', keyBytes: 16, outputBytes: 16,
  },
  {
    type: 2, id: PRF.HMAC_SHA2_256, iana: 'PRF_HMAC_SHA2_256', name: 'PRF_HMAC_SHA2_256', rfc: 'RFC 4868',
    mac: 'hmac-sha256', keyBytes: 32, outputBytes: 32,
  },
  {
    type: 2, id: PRF.HMAC_SHA2_384, iana: 'PRF_HMAC_SHA2_384', name: 'PRF_HMAC_SHA2_384', rfc: 'RFC 4868',
    mac: 'hmac-sha384', keyBytes: 48, outputBytes: 48,
  },
  {
    type: 2, id: PRF.HMAC_SHA2_512, iana: 'PRF_HMAC_SHA2_512', name: 'PRF_HMAC_SHA2_512', rfc: 'RFC 4868',
    mac: 'hmac-sha512', keyBytes: 64, outputBytes: 64,
  },
  {
    type: 2, id: PRF.AES128_CMAC, iana: 'PRF_AES128_CMAC', name: 'PRF_AES128_CMAC', rfc: 'RFC 4615',
    mac: 'aes-cmac', keyBytes: 16, outputBytes: 16,
  },
];

const RFC5114_WEAK = 'RFC 8247 section 2.4: RFC 5114 groups are SHOULD NOT (unexplained generation, small subgroups)';

function modp(id: number, bits: number, rfc: string, weak?: string): KeTransform {
  const base = {
    type: 4 as const, id, iana: `${bits}-bit MODP Group`, name: `MODP_${bits}`, rfc, kind: 'modp' as const, bits,
    publicBytes: bits / 8,
  };
  return weak === undefined ? base : { ...base, weak };
}

function ecp(id: number, bits: number, kind: 'ecp' | 'ecp-bp', name: string, iana: string, rfc: string): KeTransform {
  // RFC 5903 section 7 (and RFC 6954 section 3 for brainpool): x | y, each ceil(bits/8) bytes.
  return { type: 4, id, iana, name, rfc, kind, bits, publicBytes: 2 * Math.ceil(bits / 8) };
}

const KE_TABLE: readonly KeTransform[] = [
  modp(KE.MODP_1024, 1024, 'RFC 2409', 'RFC 8247 section 2.4: group 2 (1024-bit MODP) is SHOULD NOT'),
  modp(KE.MODP_1536, 1536, 'RFC 3526', 'RFC 8247 section 2.4: group 5 (1536-bit MODP) is SHOULD NOT'),
  modp(KE.MODP_2048, 2048, 'RFC 3526'),
  modp(KE.MODP_3072, 3072, 'RFC 3526'),
  modp(KE.MODP_4096, 4096, 'RFC 3526'),
  modp(KE.MODP_6144, 6144, 'RFC 3526'),
  modp(KE.MODP_8192, 8192, 'RFC 3526'),
  ecp(KE.ECP_256, 256, 'ecp', 'ECP_256', '256-bit random ECP group', 'RFC 5903'),
  ecp(KE.ECP_384, 384, 'ecp', 'ECP_384', '384-bit random ECP group', 'RFC 5903'),
  ecp(KE.ECP_521, 521, 'ecp', 'ECP_521', '521-bit random ECP group', 'RFC 5903'),
  {
    ...modp(KE.MODP_1024_160, 1024, 'RFC 5114', RFC5114_WEAK),
    iana: '1024-bit MODP Group with 160-bit Prime Order Subgroup', name: 'MODP_1024_160',
  },
  {
    ...modp(KE.MODP_2048_224, 2048, 'RFC 5114', RFC5114_WEAK),
    iana: '2048-bit MODP Group with 224-bit Prime Order Subgroup', name: 'MODP_2048_224',
  },
  {
    ...modp(KE.MODP_2048_256, 2048, 'RFC 5114', RFC5114_WEAK),
    iana: '2048-bit MODP Group with 256-bit Prime Order Subgroup', name: 'MODP_2048_256',
  },
  ecp(KE.ECP_224_BP, 224, 'ecp-bp', 'ECP_224_BP', 'brainpoolP224r1', 'RFC 6954'),
  ecp(KE.ECP_256_BP, 256, 'ecp-bp', 'ECP_256_BP', 'brainpoolP256r1', 'RFC 6954'),
  ecp(KE.ECP_384_BP, 384, 'ecp-bp', 'ECP_384_BP', 'brainpoolP384r1', 'RFC 6954'),
  ecp(KE.ECP_512_BP, 512, 'ecp-bp', 'ECP_512_BP', 'brainpoolP512r1', 'RFC 6954'),
  {
    type: 4, id: KE.CURVE_25519, iana: 'Curve25519', name: 'CURVE_25519', rfc: 'RFC 8031', kind: 'montgomery',
    bits: 255, publicBytes: 32,
  },
  {
    type: 4, id: KE.CURVE_448, iana: 'Curve448', name: 'CURVE_448', rfc: 'RFC 8031', kind: 'montgomery', bits: 448,
    publicBytes: 56,
  },
  // FIPS 203 section 8 Table 3: ek = 384k + 32 bytes, c = 32(du*k + dv) bytes.
  {
    type: 4, id: KE.ML_KEM_512, iana: 'ML-KEM-512', name: 'ML_KEM_512', rfc: 'FIPS 203, draft-ietf-ipsecme-ikev2-mlkem',
    kind: 'kem', bits: 128, publicBytes: 800, responderBytes: 768,
  },
  {
    type: 4, id: KE.ML_KEM_768, iana: 'ML-KEM-768', name: 'ML_KEM_768', rfc: 'FIPS 203, draft-ietf-ipsecme-ikev2-mlkem',
    kind: 'kem', bits: 192, publicBytes: 1184, responderBytes: 1088,
  },
  {
    type: 4, id: KE.ML_KEM_1024, iana: 'ML-KEM-1024', name: 'ML_KEM_1024',
    rfc: 'FIPS 203, draft-ietf-ipsecme-ikev2-mlkem', kind: 'kem', bits: 256, publicBytes: 1568, responderBytes: 1568,
  },
];

const ESN_TABLE: readonly EsnTransform[] = [
  { type: 5, id: ESN.NONE, iana: 'No Extended Sequence Numbers', name: 'NO_EXT_SEQ' },
  { type: 5, id: ESN.ESN, iana: 'Extended Sequence Numbers', name: 'EXT_SEQ' },
];

function indexById<T extends { id: number }>(rows: readonly T[]): ReadonlyMap<number, T> {
  return new Map(rows.map((r) => [r.id, r]));
}

const ENCR_BY_ID = indexById(ENCR_TABLE);
const INTEG_BY_ID = indexById(INTEG_TABLE);
const PRF_BY_ID = indexById(PRF_TABLE);
const KE_BY_ID = indexById(KE_TABLE);
const ESN_BY_ID = indexById(ESN_TABLE);

/** All supported transforms of each type, in registry order. */
export const encrTransforms: readonly EncrTransform[] = ENCR_TABLE;
export const integTransforms: readonly IntegTransform[] = INTEG_TABLE;
export const prfTransforms: readonly PrfTransform[] = PRF_TABLE;
export const keTransforms: readonly KeTransform[] = KE_TABLE;
export const esnTransforms: readonly EsnTransform[] = ESN_TABLE;

/** Lookups by IANA id: undefined for an id cygnet does not know (the caller decides if that is an error). */
export function findEncr(id: number): EncrTransform | undefined { return ENCR_BY_ID.get(id); }
export function findInteg(id: number): IntegTransform | undefined { return INTEG_BY_ID.get(id); }
export function findPrf(id: number): PrfTransform | undefined { return PRF_BY_ID.get(id); }
export function findKe(id: number): KeTransform | undefined { return KE_BY_ID.get(id); }
export function findEsn(id: number): EsnTransform | undefined { return ESN_BY_ID.get(id); }

const TYPE_NAMES: Record<TransformTypeId, string> = { 1: 'ENCR', 2: 'PRF', 3: 'INTEG', 4: 'KE', 5: 'ESN' };

function unsupported(type: TransformTypeId, id: number): CryptoError {
  return new CryptoError('UNSUPPORTED_ALGORITHM', `${TYPE_NAMES[type]} transform ${id} is not supported by cygnet`);
}

/** Lookups that throw CryptoError('UNSUPPORTED_ALGORITHM') for an unknown id. */
export function encrTransform(id: number): EncrTransform {
  const t = ENCR_BY_ID.get(id);
  if (t === undefined) throw unsupported(1, id);
  return t;
}
export function integTransform(id: number): IntegTransform {
  const t = INTEG_BY_ID.get(id);
  if (t === undefined) throw unsupported(3, id);
  return t;
}
export function prfTransform(id: number): PrfTransform {
  const t = PRF_BY_ID.get(id);
  if (t === undefined) throw unsupported(2, id);
  return t;
}
export function keTransform(id: number): KeTransform {
  const t = KE_BY_ID.get(id);
  if (t === undefined) throw unsupported(4, id);
  return t;
}

/**
 * The key size in bits to use for `encrId`: `keyBits` when the transform carries a Key Length attribute (it must be
 * one of the allowed sizes), the fixed size otherwise (a given `keyBits` must then equal it).
 */
export function resolveEncrKeyBits(encrId: number, keyBits?: number): number {
  const t = encrTransform(encrId);
  if (t.keyLengthAttribute) {
    if (keyBits === undefined) {
      const allowed = t.keyBits.join('/');
      throw new CryptoError('INVALID_KEY_LENGTH', `${t.iana} needs a Key Length attribute (${allowed} bits)`);
    }
    if (!t.keyBits.includes(keyBits)) {
      const allowed = t.keyBits.join('/');
      throw new CryptoError('INVALID_KEY_LENGTH', `${t.iana}: key length ${keyBits} bits, expected ${allowed}`);
    }
    return keyBits;
  }
  const fixed = t.keyBits[0]!;
  if (keyBits !== undefined && keyBits !== fixed) {
    throw new CryptoError('INVALID_KEY_LENGTH', `${t.iana}: key length ${keyBits} bits, expected ${fixed}`);
  }
  return fixed;
}

/** The AeadSpec of an AEAD transform; CryptoError('UNSUPPORTED_ALGORITHM') for a non-AEAD one. */
export function aeadSpecFor(encrId: number, keyBits?: number): AeadSpec {
  const t = encrTransform(encrId);
  if (t.aead === undefined) throw new CryptoError('UNSUPPORTED_ALGORITHM', `${t.iana} is not an AEAD transform`);
  return { alg: t.aead, keyBytes: resolveEncrKeyBits(encrId, keyBits) / 8, tagBytes: t.icvBytes };
}

/** The CipherSpec of a non-AEAD cipher transform; CryptoError('UNSUPPORTED_ALGORITHM') otherwise. */
export function cipherSpecFor(encrId: number, keyBits?: number): CipherSpec {
  const t = encrTransform(encrId);
  if (t.cipher === undefined) {
    throw new CryptoError('UNSUPPORTED_ALGORITHM', `${t.iana} is not a plain cipher transform`);
  }
  return { alg: t.cipher, keyBytes: resolveEncrKeyBits(encrId, keyBits) / 8 };
}

export function isAeadEncr(encrId: number): boolean {
  return ENCR_BY_ID.get(encrId)?.kind === 'aead';
}

/**
 * Name of one transform as strongSwan logs it: `AES_GCM_16_128`, `AES_CBC_256`, `CHACHA20_POLY1305`,
 * `HMAC_SHA2_256_128`, `PRF_HMAC_SHA2_256`, `CURVE_25519`, `NO_EXT_SEQ`. Unknown ids print as `UNKNOWN_<type>_<id>`.
 */
export function transformName(type: TransformTypeId, id: number, keyBits?: number): string {
  let name: string | undefined;
  switch (type) {
    case 1: name = ENCR_BY_ID.get(id)?.name; break;
    case 2: name = PRF_BY_ID.get(id)?.name; break;
    case 3: name = INTEG_BY_ID.get(id)?.name; break;
    case 4: name = id === KE.NONE ? 'KE_NONE' : KE_BY_ID.get(id)?.name; break;
    case 5: name = ESN_BY_ID.get(id)?.name; break;
  }
  const base = name ?? `UNKNOWN_${type}_${id}`;
  return keyBits ? `${base}_${keyBits}` : base;
}

/** One negotiated transform of each type (what an IKE or CHILD SA runs with). */
export interface TransformSet {
  readonly encr: number;
  /** Key Length attribute in bits, for transforms that carry one. */
  readonly keyBits?: number;
  readonly integ?: number;
  readonly prf?: number;
  readonly ke?: number;
  readonly esn?: number;
  /**
   * RFC 9370 additional key exchanges chosen (ADDKE1-7, Transform Types 6-12), in type order; NONE choices are left
   * out, so an absent or empty list means the IKE SA has the IKE_SA_INIT key exchange only.
   */
  readonly addke?: readonly { readonly type: number; readonly id: number }[];
}

/**
 * A negotiated transform set the way `swanctl --list-sas` prints it: `AES_GCM_16-128/PRF_HMAC_SHA2_256/CURVE_25519`,
 * `AES_CBC-256/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_2048`, and for CHILD SAs `AES_CBC-128/HMAC_SHA2_256_128/ESN`.
 * Order: encryption-keysize, integrity, PRF, key exchange, ESN (only when on). NONE integrity and KE are left out.
 */
export function formatProposal(t: TransformSet): string {
  const parts: string[] = [];
  const encr = transformName(1, t.encr);
  parts.push(t.keyBits ? `${encr}-${t.keyBits}` : encr);
  if (t.integ !== undefined && t.integ !== INTEG.NONE) parts.push(transformName(3, t.integ));
  if (t.prf !== undefined) parts.push(transformName(2, t.prf));
  if (t.ke !== undefined && t.ke !== KE.NONE) parts.push(transformName(4, t.ke));
  if (t.esn === ESN.ESN) parts.push('ESN');
  // strongSwan 6 prints additional key exchanges as KE1_ML_KEM_768 (RFC 9370 ADDKEn, n = type - 5).
  for (const a of t.addke ?? []) parts.push(`KE${a.type - 5}_${transformName(4, a.id)}`);
  return parts.join('/');
}
