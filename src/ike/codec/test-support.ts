/**
 * Test-only helpers for the codec: fast-check arbitraries for every payload and message, SK keys for every suite
 * the crypto layer has, and a RandomSource that replays fixed bytes. Not exported from the barrel.
 */
import fc from 'fast-check';
import { nodeBackend } from '../../crypto/backends/node.js';
import type { RandomSource } from '../../crypto/random.js';
import { seededRandom } from '../../crypto/random.js';
import { createEncryption, createIntegrity, encrKeymatBytes, integKeyBytes } from '../../crypto/suite.js';
import { ENCR, INTEG } from '../../crypto/transforms.js';
import type { CryptoBackend } from '../../crypto/types.js';
import { LAYOUTS } from './payloads.js';
import {
  PayloadType,
  TransformAttributeType,
  TsType,
  type IkeHeaderInit,
  type Payload,
  type Proposal,
  type SkKeys,
  type TrafficSelector,
  type Transform,
  type TransformAttribute,
} from './types.js';

export const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'));
export const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** A RandomSource that hands out `bytes` (repeating) - for byte-exact re-encryption with a known IV. */
export function fixedRandom(bytes: Uint8Array): RandomSource {
  return {
    fill(buf: Uint8Array): Uint8Array {
      for (let i = 0; i < buf.length; i++) buf[i] = bytes[i % bytes.length]!;
      return buf;
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Suites
// ---------------------------------------------------------------------------------------------------------------

export interface SuiteCase {
  readonly name: string;
  readonly encr: number;
  readonly keyBits?: number;
  readonly integ?: number;
}

/** Every IKE encryption suite of the crypto layer: AEADs, and ciphers with each integrity transform. */
export const SUITES: readonly SuiteCase[] = [
  { name: 'aes128gcm16', encr: ENCR.AES_GCM_16, keyBits: 128 },
  { name: 'aes256gcm16', encr: ENCR.AES_GCM_16, keyBits: 256 },
  { name: 'aes128gcm8', encr: ENCR.AES_GCM_8, keyBits: 128 },
  { name: 'aes192gcm12', encr: ENCR.AES_GCM_12, keyBits: 192 },
  { name: 'aes128ccm8', encr: ENCR.AES_CCM_8, keyBits: 128 },
  { name: 'aes256ccm16', encr: ENCR.AES_CCM_16, keyBits: 256 },
  { name: 'chacha20poly1305', encr: ENCR.CHACHA20_POLY1305 },
  { name: 'aes128-sha1', encr: ENCR.AES_CBC, keyBits: 128, integ: INTEG.HMAC_SHA1_96 },
  { name: 'aes256-sha256', encr: ENCR.AES_CBC, keyBits: 256, integ: INTEG.HMAC_SHA2_256_128 },
  { name: 'aes192-sha384', encr: ENCR.AES_CBC, keyBits: 192, integ: INTEG.HMAC_SHA2_384_192 },
  { name: 'aes256-sha512', encr: ENCR.AES_CBC, keyBits: 256, integ: INTEG.HMAC_SHA2_512_256 },
  { name: 'aes128-aesxcbc', encr: ENCR.AES_CBC, keyBits: 128, integ: INTEG.AES_XCBC_96 },
  { name: 'aes128-aescmac', encr: ENCR.AES_CBC, keyBits: 128, integ: INTEG.AES_CMAC_96 },
  { name: 'aes128ctr-sha256', encr: ENCR.AES_CTR, keyBits: 128, integ: INTEG.HMAC_SHA2_256_128 },
  { name: '3des-sha1', encr: ENCR.DES3, integ: INTEG.HMAC_SHA1_96 },
];

/** Keys one direction of a suite from seeded key material. Returns undefined when the backend lacks it. */
export function suiteKeys(s: SuiteCase, seed = 1, backend: CryptoBackend = nodeBackend): SkKeys | undefined {
  const rnd = seededRandom(seed);
  const ek = rnd.fill(new Uint8Array(encrKeymatBytes(s.encr, s.keyBits)));
  try {
    const encryption = createEncryption(s.encr, s.keyBits, ek, backend);
    if (s.integ === undefined) return { encryption };
    const ik = rnd.fill(new Uint8Array(integKeyBytes(s.integ)));
    return { encryption, integrity: createIntegrity(s.integ, ik, backend) };
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Arbitraries
// ---------------------------------------------------------------------------------------------------------------

const bytes = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max });
const u8 = fc.integer({ min: 0, max: 255 });
const u16 = fc.integer({ min: 0, max: 0xffff });
const crit = fc.boolean();

export const attributeArb: fc.Arbitrary<TransformAttribute> = fc.oneof(
  fc.record({
    type: fc.integer({ min: 0, max: 0x7fff }).filter((t) => t !== TransformAttributeType.KEY_LENGTH),
    tv: fc.constant(true),
    value: bytes(2, 2),
  }),
  fc.record({
    type: fc.integer({ min: 0, max: 0x7fff }).filter((t) => t !== TransformAttributeType.KEY_LENGTH),
    tv: fc.constant(false),
    value: bytes(0, 12),
  }),
);

export const transformArb: fc.Arbitrary<Transform> = fc.record(
  {
    type: u8,
    id: u16,
    keyLength: u16,
    attributes: fc.array(attributeArb, { minLength: 1, maxLength: 3 }),
  },
  { requiredKeys: ['type', 'id'] },
);

export const proposalArb: fc.Arbitrary<Proposal> = fc.record({
  num: u8,
  protocol: u8,
  spi: bytes(0, 16),
  transforms: fc.array(transformArb, { maxLength: 6 }),
});

const ipv4 = bytes(4, 4);
const ipv6 = bytes(16, 16);
export const selectorArb: fc.Arbitrary<TrafficSelector> = fc.oneof(
  fc.record({ tsType: fc.constant(TsType.TS_IPV4_ADDR_RANGE), ipProtocol: u8, startPort: u16, endPort: u16, startAddr: ipv4, endAddr: ipv4 }),
  fc.record({ tsType: fc.constant(TsType.TS_IPV6_ADDR_RANGE), ipProtocol: u8, startPort: u16, endPort: u16, startAddr: ipv6, endAddr: ipv6 }),
);

/** Payload types with no meaning to this codec, usable as UnknownPayload. */
const KNOWN_TYPES = new Set<number>([...LAYOUTS.keys(), PayloadType.SK, PayloadType.SKF]);
const unknownType = fc.integer({ min: 1, max: 255 }).filter((t) => !KNOWN_TYPES.has(t));

export const payloadArbs = {
  SA: fc.record({ type: fc.constant(PayloadType.SA), critical: crit, proposals: fc.array(proposalArb, { minLength: 1, maxLength: 4 }) }),
  KE: fc.record({ type: fc.constant(PayloadType.KE), critical: crit, group: u16, data: bytes(0, 133) }),
  ID: fc.record({ type: fc.constantFrom(PayloadType.IDi, PayloadType.IDr), critical: crit, idType: u8, data: bytes(0, 64) }),
  CERT: fc.record({ type: fc.constant(PayloadType.CERT), critical: crit, encoding: u8, data: bytes(0, 200) }),
  CERTREQ: fc.record({ type: fc.constant(PayloadType.CERTREQ), critical: crit, encoding: u8, data: bytes(0, 60) }),
  AUTH: fc.record({ type: fc.constant(PayloadType.AUTH), critical: crit, method: u8, data: bytes(0, 64) }),
  NONCE: fc.record({ type: fc.constant(PayloadType.NONCE), critical: crit, data: bytes(16, 256) }),
  N: fc.record({ type: fc.constant(PayloadType.NOTIFY), critical: crit, protocol: u8, spi: bytes(0, 8), notifyType: u16, data: bytes(0, 40) }),
  D: fc
    .record({ critical: crit, protocol: u8, spiSize: fc.integer({ min: 0, max: 8 }), n: fc.integer({ min: 0, max: 5 }), seed: bytes(40, 40) })
    .map(({ critical, protocol, spiSize, n, seed }) => ({
      type: PayloadType.DELETE,
      critical,
      protocol,
      spiSize,
      spis: spiSize === 0 ? [] : Array.from({ length: n }, (_, i) => seed.slice(i * spiSize, (i + 1) * spiSize)),
    })),
  V: fc.record({ type: fc.constant(PayloadType.VENDOR), critical: crit, data: bytes(0, 32) }),
  TS: fc.record({ type: fc.constantFrom(PayloadType.TSi, PayloadType.TSr), critical: crit, selectors: fc.array(selectorArb, { maxLength: 5 }) }),
  CP: fc.record({
    type: fc.constant(PayloadType.CP),
    critical: crit,
    cfgType: u8,
    attributes: fc.array(fc.record({ type: fc.integer({ min: 0, max: 0x7fff }), value: bytes(0, 20) }), { maxLength: 6 }),
  }),
  EAP: fc.record({ type: fc.constant(PayloadType.EAP), critical: crit, data: bytes(0, 40) }),
  unknown: fc.record({ type: fc.constant('unknown' as const), payloadType: unknownType, critical: fc.constant(false), body: bytes(0, 40) }),
} satisfies Record<string, fc.Arbitrary<Payload>>;

export const payloadArb: fc.Arbitrary<Payload> = fc.oneof(...Object.values(payloadArbs));

export const headerArb: fc.Arbitrary<IkeHeaderInit> = fc.record({
  spiI: bytes(8, 8),
  spiR: bytes(8, 8),
  exchangeType: u8,
  flags: fc.record({ initiator: fc.boolean(), response: fc.boolean(), version: fc.boolean() }),
  messageId: fc.integer({ min: 0, max: 0xffffffff }),
  minorVersion: fc.integer({ min: 0, max: 15 }),
});
