/**
 * Known answers for the non-AEAD ciphers (vectors/cipher.json): AES-CBC (RFC 3602), AES-CTR (RFC 3686), 3DES-CBC.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { CipherAlgorithm, CipherSpec } from '../../src/crypto/types.js';
import { eachBackend, hex, loadVectors, str, Tally, toHex, type Entry } from './helpers.js';

const file = loadVectors('cipher.json');
const tally = new Tally('cipher');

function specOf(e: Entry): CipherSpec {
  const a = str(e, 'algorithm');
  const alg: CipherAlgorithm | undefined = a.startsWith('ENCR_AES_CBC')
    ? 'aes-cbc'
    : a.startsWith('ENCR_AES_CTR')
      ? 'aes-ctr'
      : a.startsWith('ENCR_3DES')
        ? '3des-cbc'
        : undefined;
  if (!alg) throw new Error(`${e.id}: unknown algorithm ${a}`);
  return { alg, keyBytes: hex(e.key).length };
}

describe('vectors: cipher.json', () => {
  for (const e of file.entries) {
    const spec = specOf(e);
    const key = hex(e.key);
    const iv = spec.alg === 'aes-ctr' ? hex(e.initial_counter_block) : hex(e.iv);
    const pt = str(e, 'plaintext');
    const ct = str(e, 'ciphertext');
    if (spec.alg === 'aes-ctr') {
      it(`${e.id}: RFC 3686 section 4 counter block = nonce | iv | 00000001`, () => {
        expect(str(e, 'keymat')).toBe(str(e, 'key') + str(e, 'nonce'));
        expect(str(e, 'initial_counter_block')).toBe(str(e, 'nonce') + str(e, 'iv') + '00000001');
      });
    }
    eachBackend(
      it,
      tally,
      e,
      (b) => (b.hasCipher(spec) ? null : `${b.name} lacks ${spec.alg}`),
      (b) => {
        const ctx = b.createCipher(spec, key);
        expect(toHex(ctx.encrypt(iv, hex(pt))), 'encrypt').toBe(ct);
        expect(toHex(ctx.decrypt(iv, hex(ct))), 'decrypt').toBe(pt);
        const buf = hex(pt);
        ctx.encrypt(iv, buf, buf);
        expect(toHex(buf), 'in-place encrypt').toBe(ct);
        ctx.decrypt(iv, buf, buf);
        expect(toHex(buf), 'in-place decrypt').toBe(pt);
        ctx.dispose();
      },
    );
  }

  it('every entry ran on at least one backend', () => {
    expect(tally.uncovered(file.entries)).toEqual([]);
  });

  afterAll(() => {
    console.log(tally.line(file.entries.length));
  });
});
