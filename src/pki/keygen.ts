/**
 * Key generation (`pki --gen`). The only non-deterministic part of src/pki: node:crypto draws from the OS CSPRNG,
 * as it must for long-term keys (a RandomSource cannot be fed into OpenSSL's key generators).
 */
import { generateKeyPairSync } from 'node:crypto';
import { PkiError } from './errors.js';
import { privateKeyFromKeyObject, type KeyType, type PrivateKey } from './keys.js';

export interface GenerateKeyOptions {
  readonly type: KeyType;
  /** RSA: 2048 (default, as strongSwan), 3072, 4096...; ECDSA: 256, 384 (default, as strongSwan), 521. */
  readonly size?: number;
}

export function generateKey(opts: GenerateKeyOptions): PrivateKey {
  switch (opts.type) {
    case 'rsa': {
      const size = opts.size ?? 2048;
      if (!Number.isInteger(size) || size < 1024 || size > 16384 || size % 8 !== 0)
        throw new PkiError('BAD_ARGUMENT', `RSA key size ${size} is not supported (use 2048, 3072 or 4096)`);
      return privateKeyFromKeyObject(generateKeyPairSync('rsa', { modulusLength: size, publicExponent: 65537 }).privateKey);
    }
    case 'ecdsa': {
      const size = opts.size ?? 384;
      const namedCurve = size === 256 ? 'prime256v1' : size === 384 ? 'secp384r1' : size === 521 ? 'secp521r1' : undefined;
      if (!namedCurve) throw new PkiError('BAD_ARGUMENT', `ECDSA key size ${size} is not supported (use 256, 384 or 521)`);
      return privateKeyFromKeyObject(generateKeyPairSync('ec', { namedCurve }).privateKey);
    }
    case 'ed25519':
      return privateKeyFromKeyObject(generateKeyPairSync('ed25519').privateKey);
    default:
      throw new PkiError('BAD_ARGUMENT', `key type '${String(opts.type)}' is not supported (rsa, ecdsa, ed25519)`);
  }
}
