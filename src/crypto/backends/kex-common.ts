/**
 * Key-exchange pieces shared by every backend: the group tables, private values drawn from the injected
 * RandomSource, and validation of the peer's public value (RFC 7296 section 3.4, RFC 6989, RFC 5903, RFC 8031).
 * Keeping them here means node, noble and openssl refuse exactly the same inputs with the same error.
 */
import { CryptoError } from '../errors.js';
import { modpGroup, type ModpGroup } from '../modp.js';
import type { RandomSource } from '../random.js';

export interface EcpCurve {
  readonly group: number;
  readonly name: string;
  /** OpenSSL / node:crypto curve name. */
  readonly nodeName: string;
  /** Field element length: the KE payload is x | y, 2 * coordBytes (RFC 5903 section 7). */
  readonly coordBytes: number;
  /** Order of the base point: the private value d must satisfy 0 < d < n. */
  readonly n: bigint;
}

function curve(group: number, name: string, nodeName: string, coordBytes: number, n: string): [number, EcpCurve] {
  return [group, Object.freeze({ group, name, nodeName, coordBytes, n: BigInt('0x' + n) })];
}

/**
 * ECP groups (RFC 5903 for 19-21, RFC 5114 section 2.6/2.7 for 25/26, RFC 6954 for the Brainpool groups 27-30).
 * The orders are checked in kex.test.ts: (n-1)*G must have the same x as G.
 */
export const ECP_CURVES: ReadonlyMap<number, EcpCurve> = new Map<number, EcpCurve>([
  curve(19, 'ECP_256 (P-256)', 'prime256v1', 32, 'ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551'),
  curve(20, 'ECP_384 (P-384)', 'secp384r1', 48,
    'ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973'),
  curve(21, 'ECP_521 (P-521)', 'secp521r1', 66,
    '1fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409'),
  curve(25, 'ECP_192 (P-192)', 'prime192v1', 24, 'ffffffffffffffffffffffff99def836146bc9b1b4d22831'),
  curve(26, 'ECP_224 (P-224)', 'secp224r1', 28, 'ffffffffffffffffffffffffffff16a2e0b8f03e13dd29455c5c2a3d'),
  curve(27, 'ECP_224_BP (brainpoolP224r1)', 'brainpoolP224r1', 28, 'd7c134aa264366862a18302575d0fb98d116bc4b6ddebca3a5a7939f'),
  curve(28, 'ECP_256_BP (brainpoolP256r1)', 'brainpoolP256r1', 32,
    'a9fb57dba1eea9bc3e660a909d838d718c397aa3b561a6f7901e0e82974856a7'),
  curve(29, 'ECP_384_BP (brainpoolP384r1)', 'brainpoolP384r1', 48,
    '8cb91e82a3386d280f5d6f7e50e641df152f7109ed5456b31f166e6cac0425a7cf3ab6af6b7fc3103b883202e9046565'),
  curve(30, 'ECP_512_BP (brainpoolP512r1)', 'brainpoolP512r1', 64,
    'aadd9db8dbe9c48b3fd4e6ae33c9fc07cb308db3b3c9d20ed6639cca70330870553e5c414ca92619418661197fac10471db1d381085ddaddb58796829ca90069'),
]);

/** RFC 8031: Curve25519 (31) and Curve448 (32); public values and shared secrets are 32 / 56 bytes. */
export const MONTGOMERY_BYTES: ReadonlyMap<number, number> = new Map([
  [31, 32],
  [32, 56],
]);

export function groupLabel(group: number): string {
  const m = modpGroup(group);
  if (m) return `${m.name} (group ${group})`;
  const c = ECP_CURVES.get(group);
  if (c) return `${c.name} (group ${group})`;
  if (group === 31) return 'Curve25519 (group 31)';
  if (group === 32) return 'Curve448 (group 32)';
  return `group ${group}`;
}

export function invalidKe(group: number, what: string): CryptoError {
  return new CryptoError('INVALID_KE_VALUE', `${groupLabel(group)}: peer key exchange value ${what}`);
}

export function bytesToBigInt(b: Uint8Array): bigint {
  return b.length === 0 ? 0n : BigInt('0x' + Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex'));
}

export function bigIntToBytes(v: bigint, len: number): Uint8Array {
  const hex = v.toString(16).padStart(len * 2, '0');
  if (hex.length > len * 2) throw new RangeError(`value does not fit in ${len} bytes`);
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}

/** Left-pads a big-endian value to `len` bytes (RFC 7296 section 2.14: g^ir is padded to the modulus length). */
export function leftPad(b: Uint8Array, len: number): Uint8Array {
  if (b.length === len) return b;
  const r = new Uint8Array(len);
  r.set(b.subarray(Math.max(0, b.length - len)), Math.max(0, len - b.length));
  return r;
}

export function modPow(base: bigint, exp: bigint, mod: bigint): bigint {
  let result = 1n;
  let b = base % mod;
  let e = exp;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % mod;
    b = (b * b) % mod;
    e >>= 1n;
  }
  return result;
}

const MAX_DRAWS = 64;

/**
 * Draws a value in [lo, hi) of `bytes` bytes by rejection sampling, the top byte masked to the bit length of hi so a
 * uniform source is rejected rarely. A source that keeps giving out-of-range values (a broken or constant source)
 * gets an error instead of an endless loop.
 */
function drawInRange(random: RandomSource, bytes: number, hi: bigint, lo: bigint, what: string): Uint8Array {
  const topBits = hi.toString(2).length - (bytes - 1) * 8;
  const topMask = topBits >= 8 ? 0xff : (1 << topBits) - 1;
  const buf = new Uint8Array(bytes);
  for (let i = 0; i < MAX_DRAWS; i++) {
    random.fill(buf);
    buf[0]! &= topMask;
    const v = bytesToBigInt(buf);
    if (v >= lo && v < hi) return buf;
  }
  throw new CryptoError('INVALID_KE_VALUE', `${what}: the random source gave no usable private value in ${MAX_DRAWS} draws`);
}

/** ECDH private value: 0 < d < n (SEC 1 section 3.2.1), big-endian, coordBytes long (node and noble take that). */
export function drawEcpScalar(c: EcpCurve, random: RandomSource): Uint8Array {
  return drawInRange(random, c.coordBytes, c.n, 1n, groupLabel(c.group));
}

/**
 * MODP private exponent: 1 < x of `privateBytes` bytes (safe-prime groups; RFC 3526 section 8 sizes), or
 * 1 < x < q for the RFC 5114 groups whose generator has prime order q.
 */
export function drawModpExponent(g: ModpGroup, random: RandomSource): Uint8Array {
  if (g.q !== undefined) return drawInRange(random, g.q.length / 2, BigInt('0x' + g.q), 2n, groupLabel(g.id));
  return drawInRange(random, g.privateBytes, 1n << BigInt(g.privateBytes * 8), 2n, groupLabel(g.id));
}

/**
 * RFC 7296 section 3.4: the KE data is exactly the length of the prime. RFC 6989 section 2.1: 1 < y < p-1 (which
 * refuses 0, 1 and p-1, the values that force a known shared secret). RFC 6989 section 2.2: for groups with a
 * small-order-free subgroup of prime order q (RFC 5114), also y^q = 1 mod p.
 */
export function validateModpPeer(g: ModpGroup, peer: Uint8Array): bigint {
  if (!(peer instanceof Uint8Array)) throw invalidKe(g.id, 'is not a Uint8Array');
  if (peer.length !== g.primeBytes) {
    throw invalidKe(g.id, `is ${peer.length} bytes, must be the ${g.primeBytes}-byte length of the prime`);
  }
  const p = BigInt('0x' + g.prime);
  const y = bytesToBigInt(peer);
  if (y <= 1n) throw invalidKe(g.id, `is ${y}, must be greater than 1`);
  if (y >= p - 1n) throw invalidKe(g.id, y === p - 1n ? 'is p-1, must be less than p-1' : 'is not less than p-1');
  if (g.q !== undefined && modPow(y, BigInt('0x' + g.q), p) !== 1n) {
    throw invalidKe(g.id, 'is not in the prime-order subgroup (y^q != 1 mod p)');
  }
  return y;
}

/** RFC 5903 section 7: x | y, each exactly the field length; no point-format octet. */
export function checkEcpPeerLength(c: EcpCurve, peer: Uint8Array): void {
  if (!(peer instanceof Uint8Array)) throw invalidKe(c.group, 'is not a Uint8Array');
  if (peer.length !== 2 * c.coordBytes) {
    throw invalidKe(c.group, `is ${peer.length} bytes, must be x | y = ${2 * c.coordBytes} bytes (RFC 5903 section 7)`);
  }
  // x = y = 0 is how some encodings spell the point at infinity; it is never a valid public value.
  if (peer.every((b) => b === 0)) throw invalidKe(c.group, 'is the point at infinity (all zero)');
}

export function checkMontgomeryPeer(group: number, peer: Uint8Array): void {
  const n = MONTGOMERY_BYTES.get(group)!;
  if (!(peer instanceof Uint8Array)) throw invalidKe(group, 'is not a Uint8Array');
  if (peer.length !== n) throw invalidKe(group, `is ${peer.length} bytes, must be ${n} (RFC 8031 section 2)`);
}

/** RFC 7748 section 6.1 / RFC 8031 section 2.3: an all-zero X25519/X448 result means a low-order point; refuse it. */
export function checkNotAllZero(group: number, shared: Uint8Array): void {
  let acc = 0;
  for (const b of shared) acc |= b;
  if (acc === 0) throw invalidKe(group, 'gives an all-zero shared secret (low-order point, RFC 8031 section 2.3)');
}

/** The key of a live exchange; after dispose() the same DISPOSED error as checks.ts checkNotDisposed. */
export function liveKey<T>(what: string, key: T | undefined): T {
  if (key === undefined) throw new CryptoError('DISPOSED', `${what}: context used after dispose()`);
  return key;
}

export function isKnownGroup(group: number): boolean {
  return modpGroup(group) !== undefined || ECP_CURVES.has(group) || MONTGOMERY_BYTES.has(group);
}
