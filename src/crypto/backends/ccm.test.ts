import { describe, expect, it } from 'vitest';
import { seededRandom, randomBytes } from '../random.js';
import type { AeadSpec } from '../types.js';
import { nobleBackend } from './noble.js';
import { nodeBackend } from './node.js';

describe('AES-CCM built on noble AES (ccm.ts) matches OpenSSL CCM', () => {
  // RFC 3610 section 2.2: AAD shorter than 0xff00 has a 2-octet length, from 0xff00 up a 0xfffe + 4-octet one.
  for (const aadLen of [0, 1, 14, 15, 0xfeff, 0xff00, 70000]) {
    it(`aad of ${aadLen} bytes`, () => {
      const rnd = seededRandom(aadLen);
      const spec: AeadSpec = { alg: 'aes-ccm', keyBytes: 32, tagBytes: 12 };
      const key = randomBytes(rnd, 32);
      const nonce = randomBytes(rnd, 11);
      const aad = randomBytes(rnd, aadLen);
      const pt = randomBytes(rnd, 77);
      const a = nodeBackend.createAead(spec, key).seal(nonce, aad, pt);
      const b = nobleBackend.createAead(spec, key).seal(nonce, aad, pt);
      expect(Buffer.from(b).toString('hex')).toBe(Buffer.from(a).toString('hex'));
      expect(nobleBackend.createAead(spec, key).open(nonce, aad, a)).toEqual(pt);
    });
  }
});
