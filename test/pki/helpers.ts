/** Shared fixtures for the PKI tests: keys committed under test/fixtures/pki (RSA keygen is slow). */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadPrivateKey, type PrivateKey } from '../../src/pki/keys.js';
import { generateKey } from '../../src/pki/keygen.js';

export const FIXTURES = fileURLToPath(new URL('../fixtures/pki/', import.meta.url));

export function fixture(rel: string): Uint8Array {
  return new Uint8Array(readFileSync(FIXTURES + rel));
}

const cache = new Map<string, PrivateKey>();
/** rsa2048, rsa2048b, rsa3072, rsa4096 (from fixtures, made by strongSwan pki), ec256/ec384/ec521/ed25519 (generated once per run). */
export function key(name: 'rsa2048' | 'rsa2048b' | 'rsa3072' | 'rsa4096' | 'ec256' | 'ec384' | 'ec521' | 'ed25519' | 'ec256b'): PrivateKey {
  let k = cache.get(name);
  if (!k) {
    if (name.startsWith('rsa')) k = loadPrivateKey(fixture(`swan/${name}.key`));
    else if (name === 'ed25519') k = generateKey({ type: 'ed25519' });
    else k = generateKey({ type: 'ecdsa', size: Number(name.slice(2, 5)) });
    cache.set(name, k);
  }
  return k;
}
