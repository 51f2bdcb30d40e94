/**
 * Known answers for the AEAD transforms (vectors/aead.json): AES-GCM ICV 8/12/16 (RFC 4106 layout), AES-CCM
 * (RFC 4309 layout) and ChaCha20-Poly1305 (RFC 7634), on every backend that has the algorithm.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { AeadAlgorithm, AeadSpec } from '../../src/crypto/types.js';
import { eachBackend, hex, loadVectors, num, str, Tally, toHex, type Entry } from './helpers.js';

const file = loadVectors('aead.json');
const tally = new Tally('aead');

function specOf(e: Entry): AeadSpec {
  const a = str(e, 'algorithm');
  const alg: AeadAlgorithm = a.includes('GCM') ? 'aes-gcm' : a.includes('CCM') ? 'aes-ccm' : 'chacha20-poly1305';
  if (!a.includes('GCM') && !a.includes('CCM') && !a.includes('CHACHA20')) throw new Error(`${e.id}: unknown algorithm ${a}`);
  return { alg, keyBytes: hex(e.key).length, tagBytes: num(e, 'icv_length') };
}

describe('vectors: aead.json', () => {
  for (const e of file.entries) {
    const spec = specOf(e);
    const key = hex(e.key);
    const nonce = hex(e.nonce);
    const aad = hex(e.aad);
    const pt = hex(e.plaintext);
    const expected = str(e, 'ciphertext') + str(e, 'tag');
    it(`${e.id}: layout keymat = key | salt, nonce = salt | iv`, () => {
      expect(str(e, 'keymat')).toBe(str(e, 'key') + str(e, 'salt'));
      expect(str(e, 'nonce')).toBe(str(e, 'salt') + str(e, 'iv'));
    });
    eachBackend(
      it,
      tally,
      e,
      (b) => (b.hasAead(spec) ? null : `${b.name} lacks ${spec.alg}`),
      (b) => {
        const ctx = b.createAead(spec, key);
        expect(toHex(ctx.seal(nonce, aad, pt)), 'seal').toBe(expected);
        const opened = ctx.open(nonce, aad, hex(expected));
        expect(opened && toHex(opened), 'open').toBe(str(e, 'plaintext'));
        // In place: plaintext at the start of a buffer with room for the ICV, sealed and opened in that buffer.
        const buf = new Uint8Array(pt.length + spec.tagBytes);
        buf.set(pt);
        ctx.seal(nonce, aad, buf.subarray(0, pt.length), buf);
        expect(toHex(buf), 'in-place seal').toBe(expected);
        const back = ctx.open(nonce, aad, buf, buf);
        expect(back && toHex(back), 'in-place open').toBe(str(e, 'plaintext'));
        // A flipped ICV bit is refused.
        const forged = hex(expected);
        forged[forged.length - 1]! ^= 0x01;
        expect(ctx.open(nonce, aad, forged), 'forged ICV').toBeNull();
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
