/**
 * Every backend refuses bad input with the same typed error (CryptoError code), never a crash: key, nonce and IV
 * sizes, CBC data that is not whole blocks, short output buffers, tag mismatch, use after dispose, and invalid peer
 * key exchange values for each group family.
 */
import { describe, expect, it } from 'vitest';
import { CryptoError, type CryptoErrorCode } from '../errors.js';
import { modpGroup } from '../modp.js';
import { openOrThrow } from '../provider.js';
import { seededRandom } from '../random.js';
import type { AeadSpec, CipherSpec, CryptoBackend } from '../types.js';
import { availableBackends } from './index.js';

const backends = availableBackends();

function expectCode(fn: () => unknown, code: CryptoErrorCode, message?: RegExp): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err, `expected CryptoError ${code}`).toBeInstanceOf(CryptoError);
  expect((err as CryptoError).code).toBe(code);
  if (message) expect((err as CryptoError).message).toMatch(message);
}

const GCM: AeadSpec = { alg: 'aes-gcm', keyBytes: 16, tagBytes: 16 };
const CHACHA: AeadSpec = { alg: 'chacha20-poly1305', keyBytes: 32, tagBytes: 16 };
const CBC: CipherSpec = { alg: 'aes-cbc', keyBytes: 16 };
const CTR: CipherSpec = { alg: 'aes-ctr', keyBytes: 32 };

describe.each(backends.map((b) => [b.name, b] as const))('typed errors on %s', (_name, b: CryptoBackend) => {
  describe('AEAD', () => {
    for (const spec of [GCM, CHACHA, { alg: 'aes-ccm', keyBytes: 24, tagBytes: 8 } as AeadSpec]) {
      if (!b.hasAead(spec)) continue;
      const nonceBytes = spec.alg === 'aes-ccm' ? 11 : 12;
      const key = new Uint8Array(spec.keyBytes).fill(7);
      const nonce = new Uint8Array(nonceBytes).fill(1);
      const aad = new Uint8Array(8);
      const pt = new Uint8Array(40).fill(0x55);

      it(`${spec.alg}: wrong key size`, () => {
        expectCode(() => b.createAead(spec, new Uint8Array(spec.keyBytes - 1)), 'INVALID_KEY_LENGTH', /key is/);
      });
      it(`${spec.alg}: wrong nonce size`, () => {
        const ctx = b.createAead(spec, key);
        expectCode(() => ctx.seal(new Uint8Array(nonceBytes + 1), aad, pt), 'INVALID_NONCE_LENGTH');
        expectCode(() => ctx.open(new Uint8Array(8), aad, new Uint8Array(32)), 'INVALID_NONCE_LENGTH');
      });
      it(`${spec.alg}: out buffer too short`, () => {
        const ctx = b.createAead(spec, key);
        expectCode(() => ctx.seal(nonce, aad, pt, new Uint8Array(pt.length + spec.tagBytes - 1)), 'INVALID_OUTPUT_LENGTH');
        const sealed = ctx.seal(nonce, aad, pt);
        expectCode(() => ctx.open(nonce, aad, sealed, new Uint8Array(pt.length - 1)), 'INVALID_OUTPUT_LENGTH');
      });
      it(`${spec.alg}: sealed input shorter than the ICV`, () => {
        const ctx = b.createAead(spec, key);
        expectCode(() => ctx.open(nonce, aad, new Uint8Array(spec.tagBytes - 1)), 'INVALID_DATA_LENGTH');
      });
      it(`${spec.alg}: tag mismatch gives null, openOrThrow gives TAG_MISMATCH`, () => {
        const ctx = b.createAead(spec, key);
        const sealed = ctx.seal(nonce, aad, pt);
        const badAad = aad.slice();
        badAad[0]! ^= 1;
        expect(ctx.open(nonce, badAad, sealed)).toBeNull();
        const badCt = sealed.slice();
        badCt[3]! ^= 0x80;
        const out = new Uint8Array(pt.length).fill(0xee);
        expect(ctx.open(nonce, aad, badCt, out)).toBeNull();
        // node and noble verify before they write: a forged packet leaves `out` as it was. (The contract does not
        // demand this, and a backend decrypting in place cannot offer it.)
        if (b.name === 'node' || b.name === 'noble') expect(out.every((x) => x === 0xee)).toBe(true);
        expectCode(() => openOrThrow(ctx, nonce, aad, badCt), 'TAG_MISMATCH');
        expect(openOrThrow(ctx, nonce, aad, sealed)).toEqual(pt);
      });
      it(`${spec.alg}: use after dispose`, () => {
        const ctx = b.createAead(spec, key);
        ctx.dispose();
        expectCode(() => ctx.seal(nonce, aad, pt), 'DISPOSED');
      });
    }
    it('unsupported shapes', () => {
      expect(b.hasAead({ alg: 'aes-gcm', keyBytes: 16, tagBytes: 10 })).toBe(false);
      expectCode(() => b.createAead({ alg: 'aes-gcm', keyBytes: 16, tagBytes: 10 }, new Uint8Array(16)), 'UNSUPPORTED_ALGORITHM');
      expectCode(() => b.createAead({ alg: 'chacha20-poly1305', keyBytes: 32, tagBytes: 8 }, new Uint8Array(32)), 'UNSUPPORTED_ALGORITHM');
      expectCode(() => b.createAead({ alg: 'aes-ocb' as 'aes-gcm', keyBytes: 16, tagBytes: 16 }, new Uint8Array(16)), 'UNSUPPORTED_ALGORITHM');
    });
  });

  describe('ciphers', () => {
    it('aes-cbc: wrong key, wrong IV, data not whole blocks, short out', () => {
      expectCode(() => b.createCipher(CBC, new Uint8Array(24)), 'INVALID_KEY_LENGTH');
      const ctx = b.createCipher(CBC, new Uint8Array(16));
      expectCode(() => ctx.encrypt(new Uint8Array(8), new Uint8Array(16)), 'INVALID_IV_LENGTH');
      expectCode(() => ctx.encrypt(new Uint8Array(16), new Uint8Array(17)), 'INVALID_DATA_LENGTH', /multiple of the 16-byte block/);
      expectCode(() => ctx.decrypt(new Uint8Array(16), new Uint8Array(15)), 'INVALID_DATA_LENGTH');
      expectCode(() => ctx.encrypt(new Uint8Array(16), new Uint8Array(32), new Uint8Array(31)), 'INVALID_OUTPUT_LENGTH');
      expect(ctx.encrypt(new Uint8Array(16), new Uint8Array(0))).toHaveLength(0);
    });
    it('aes-ctr: the IV is the whole 16-byte counter block; any data length', () => {
      const ctx = b.createCipher(CTR, new Uint8Array(32));
      expectCode(() => ctx.encrypt(new Uint8Array(8), new Uint8Array(5)), 'INVALID_IV_LENGTH');
      expect(ctx.encrypt(new Uint8Array(16), new Uint8Array(5))).toHaveLength(5);
    });
    it('3des-cbc: 8-byte blocks, when present', () => {
      const spec: CipherSpec = { alg: '3des-cbc', keyBytes: 24 };
      if (!b.hasCipher(spec)) {
        expectCode(() => b.createCipher(spec, new Uint8Array(24)), 'UNSUPPORTED_ALGORITHM');
        return;
      }
      const ctx = b.createCipher(spec, new Uint8Array(24).fill(3));
      expectCode(() => ctx.encrypt(new Uint8Array(16), new Uint8Array(8)), 'INVALID_IV_LENGTH');
      expectCode(() => ctx.encrypt(new Uint8Array(8), new Uint8Array(12)), 'INVALID_DATA_LENGTH', /8-byte block/);
    });
    it('unsupported key sizes', () => {
      expect(b.hasCipher({ alg: 'aes-cbc', keyBytes: 20 })).toBe(false);
      expectCode(() => b.createCipher({ alg: 'aes-cbc', keyBytes: 20 }, new Uint8Array(20)), 'UNSUPPORTED_ALGORITHM');
    });
  });

  describe('MACs', () => {
    it('aes-xcbc and aes-cmac take exactly 16 key bytes', () => {
      expectCode(() => b.createMac('aes-xcbc', new Uint8Array(15)), 'INVALID_KEY_LENGTH');
      expectCode(() => b.createMac('aes-cmac', new Uint8Array(32)), 'INVALID_KEY_LENGTH');
    });
    it('short out buffer', () => {
      const m = b.createMac('hmac-sha256', new Uint8Array(32));
      expectCode(() => m.compute(new Uint8Array(3), new Uint8Array(31)), 'INVALID_OUTPUT_LENGTH');
    });
    it('unknown MAC', () => {
      expect(b.hasMac('hmac-md5' as 'hmac-sha1')).toBe(false);
      expectCode(() => b.createMac('hmac-md5' as 'hmac-sha1', new Uint8Array(16)), 'UNSUPPORTED_ALGORITHM');
    });
  });

  describe('invalid peer key exchange values', () => {
    const rnd = seededRandom(42);
    it('unknown group', () => {
      expect(b.hasKeyExchange(99)).toBe(false);
      expectCode(() => b.createKeyExchange(99, rnd), 'UNSUPPORTED_ALGORITHM');
    });

    for (const id of [2, 14, 24]) {
      it(`MODP group ${id}: 0, 1, p-1, p, too long, too short, and outside the subgroup`, () => {
        if (!b.hasKeyExchange(id)) return;
        const g = modpGroup(id)!;
        const kx = b.createKeyExchange(id, rnd);
        const p = BigInt('0x' + g.prime);
        const enc = (v: bigint, len = g.primeBytes) => Uint8Array.from(Buffer.from(v.toString(16).padStart(len * 2, '0'), 'hex'));
        const label = new RegExp(`group ${id}`);
        expectCode(() => kx.computeSharedSecret(enc(0n)), 'INVALID_KE_VALUE', label);
        expectCode(() => kx.computeSharedSecret(enc(1n)), 'INVALID_KE_VALUE', /greater than 1/);
        expectCode(() => kx.computeSharedSecret(enc(p - 1n)), 'INVALID_KE_VALUE', /p-1/);
        expectCode(() => kx.computeSharedSecret(enc(p)), 'INVALID_KE_VALUE', /not less than p-1/);
        expectCode(() => kx.computeSharedSecret(enc(2n, g.primeBytes + 1)), 'INVALID_KE_VALUE', /length of the prime/);
        expectCode(() => kx.computeSharedSecret(kx.publicValue.subarray(1)), 'INVALID_KE_VALUE', /bytes/);
        if (g.q !== undefined) {
          // 2 generates (almost surely) more than the order-q subgroup: RFC 6989 section 2.2 refuses it.
          expectCode(() => kx.computeSharedSecret(enc(2n)), 'INVALID_KE_VALUE', /subgroup/);
        }
        // A valid value still works afterwards.
        const peer = b.createKeyExchange(id, seededRandom(7));
        expect(kx.computeSharedSecret(peer.publicValue)).toEqual(peer.computeSharedSecret(kx.publicValue));
      });
    }

    for (const id of [19, 20, 21, 28]) {
      it(`ECP group ${id}: off-curve point, wrong length, point at infinity`, () => {
        if (!b.hasKeyExchange(id)) return;
        const kx = b.createKeyExchange(id, rnd);
        const good = b.createKeyExchange(id, seededRandom(9)).publicValue;
        const off = good.slice();
        off[off.length - 1]! ^= 1; // y + small change: not on the curve
        expectCode(() => kx.computeSharedSecret(off), 'INVALID_KE_VALUE', /not a point on the curve/);
        expectCode(() => kx.computeSharedSecret(good.subarray(1)), 'INVALID_KE_VALUE', /x \| y/);
        const with04 = new Uint8Array(good.length + 1);
        with04[0] = 4;
        with04.set(good, 1);
        expectCode(() => kx.computeSharedSecret(with04), 'INVALID_KE_VALUE', new RegExp(`group ${id}`));
        expectCode(() => kx.computeSharedSecret(new Uint8Array(good.length)), 'INVALID_KE_VALUE', /infinity/);
        expect(kx.computeSharedSecret(good)).toHaveLength(good.length / 2);
      });
    }

    it('X25519: low-order points give an all-zero secret and are refused; wrong length', () => {
      if (!b.hasKeyExchange(31)) return;
      const kx = b.createKeyExchange(31, rnd);
      // u = 0 and u = 1 are of small order (RFC 7748 section 6.1); so is this order-8 point.
      const order8 = Uint8Array.from(Buffer.from('e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800', 'hex'));
      const one = new Uint8Array(32);
      one[0] = 1;
      for (const u of [new Uint8Array(32), one, order8]) {
        expectCode(() => kx.computeSharedSecret(u), 'INVALID_KE_VALUE', /all-zero shared secret/);
      }
      expectCode(() => kx.computeSharedSecret(new Uint8Array(31).fill(9)), 'INVALID_KE_VALUE', /must be 32/);
    });

    it('X448: u = 0 refused; wrong length', () => {
      if (!b.hasKeyExchange(32)) return;
      const kx = b.createKeyExchange(32, rnd);
      expectCode(() => kx.computeSharedSecret(new Uint8Array(56)), 'INVALID_KE_VALUE', /all-zero/);
      expectCode(() => kx.computeSharedSecret(new Uint8Array(32)), 'INVALID_KE_VALUE', /must be 56/);
    });

    it('a random source that never yields a usable private value is an error, not a hang', () => {
      if (!b.hasKeyExchange(19)) return;
      const stuck = { fill: (buf: Uint8Array) => buf.fill(0xff) };
      expectCode(() => b.createKeyExchange(19, stuck), 'INVALID_KE_VALUE', /random source/);
    });
  });
});
