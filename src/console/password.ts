/**
 * Console password hashes: scrypt (RFC 7914) through node:crypto, stored as
 * `scrypt$N$r$p$<salt base64>$<key base64>` in the console's configuration file (`user NAME = ...`).
 *
 * Why scrypt and not argon2: node:crypto has scrypt built in (no native addon to install); N = 2^15, r = 8, p = 1
 * is the RFC 7914 section 2 interactive-login cost scaled to today's machines (32 MiB of memory per guess).
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

export const SCRYPT_DEFAULTS = { N: 1 << 15, r: 8, p: 1 } as const;
const KEY_LEN = 32;
const SALT_LEN = 16;

export class PasswordHashError extends Error {
  override readonly name = 'PasswordHashError';
}

export interface ScryptParams {
  readonly N: number;
  readonly r: number;
  readonly p: number;
}

interface ParsedHash extends ScryptParams {
  readonly salt: Buffer;
  readonly key: Buffer;
}

function derive(password: string, salt: Buffer, params: ScryptParams, keyLen: number): Promise<Buffer> {
  // maxmem: 128 * N * r * p bytes plus headroom (node's default 32 MiB is exactly N = 2^15, r = 8).
  const maxmem = 256 * params.N * params.r * params.p;
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, keyLen, { N: params.N, r: params.r, p: params.p, maxmem }, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

/** Hash a password for the configuration file. */
export async function hashPassword(password: string, params: ScryptParams = SCRYPT_DEFAULTS): Promise<string> {
  if (password.length === 0) throw new PasswordHashError('the password is empty');
  const salt = randomBytes(SALT_LEN);
  const key = await derive(password, salt, params, KEY_LEN);
  return `scrypt$${params.N}$${params.r}$${params.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

const B64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Parse an encoded hash; throws PasswordHashError saying what is wrong with it. */
export function parsePasswordHash(encoded: string): ParsedHash {
  const parts = encoded.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') throw new PasswordHashError(`not a scrypt hash (expected scrypt$N$r$p$salt$key, as made by cygnet console --hash-password)`);
  const [, n, r, p, salt, key] = parts as [string, string, string, string, string, string];
  const num = (s: string, what: string): number => {
    if (!/^[1-9][0-9]{0,9}$/.test(s)) throw new PasswordHashError(`scrypt ${what} '${s}' is not a positive integer`);
    return Number(s);
  };
  const N = num(n, 'N');
  if ((N & (N - 1)) !== 0 || N < 2 || N > 1 << 22) throw new PasswordHashError(`scrypt N ${N} is not a power of two between 2 and 2^22`);
  const rr = num(r, 'r');
  const pp = num(p, 'p');
  if (rr > 32 || pp > 16) throw new PasswordHashError(`scrypt r ${rr} / p ${pp} out of range (r <= 32, p <= 16)`);
  if (!B64.test(salt) || !B64.test(key)) throw new PasswordHashError('scrypt salt or key is not base64');
  const saltB = Buffer.from(salt, 'base64');
  const keyB = Buffer.from(key, 'base64');
  if (saltB.length < 8) throw new PasswordHashError(`scrypt salt of ${saltB.length} bytes is too short (at least 8)`);
  if (keyB.length < 16) throw new PasswordHashError(`scrypt key of ${keyB.length} bytes is too short (at least 16)`);
  return { N, r: rr, p: pp, salt: saltB, key: keyB };
}

/** True when `password` matches; the comparison takes the same time whatever bytes differ. */
export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const h = parsePasswordHash(encoded);
  const key = await derive(password, h.salt, h, h.key.length);
  return timingSafeEqual(key, h.key);
}
