/**
 * Property tests: every pair of available backends agrees byte for byte on random keys, nonces and inputs for each
 * AEAD, cipher, MAC, hash and key exchange they share, and each opens what the other sealed.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../random.js';
import type { AeadSpec, CipherSpec, CryptoBackend, HashAlgorithm, MacAlgorithm } from '../types.js';
import { availableBackends } from './index.js';

const backends = availableBackends();
const RUNS = 50;
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

const AEADS: AeadSpec[] = [];
for (const keyBytes of [16, 24, 32]) {
  for (const tagBytes of [8, 12, 16]) {
    AEADS.push({ alg: 'aes-gcm', keyBytes, tagBytes }, { alg: 'aes-ccm', keyBytes, tagBytes });
  }
}
AEADS.push({ alg: 'chacha20-poly1305', keyBytes: 32, tagBytes: 16 });

const CIPHERS: CipherSpec[] = [
  ...[16, 24, 32].flatMap((keyBytes) => [
    { alg: 'aes-cbc' as const, keyBytes },
    { alg: 'aes-ctr' as const, keyBytes },
  ]),
  { alg: '3des-cbc', keyBytes: 24 },
];
const MACS: MacAlgorithm[] = ['hmac-sha1', 'hmac-sha256', 'hmac-sha384', 'hmac-sha512', 'aes-xcbc', 'aes-cmac'];
const HASHES: HashAlgorithm[] = ['sha1', 'sha256', 'sha384', 'sha512'];

function sharing(has: (b: CryptoBackend) => boolean): CryptoBackend[] {
  return backends.filter(has);
}

const bytes = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max });

describe('backends agree', () => {
  it('there are at least two backends to compare', () => {
    expect(backends.length).toBeGreaterThanOrEqual(2);
  });

  for (const spec of AEADS) {
    const bs = sharing((b) => b.hasAead(spec));
    if (bs.length < 2) continue;
    const nonceBytes = spec.alg === 'aes-ccm' ? 11 : 12;
    it(`${spec.alg}-${spec.keyBytes * 8}/icv${spec.tagBytes} on ${bs.map((b) => b.name).join(', ')}`, () => {
      fc.assert(
        fc.property(bytes(spec.keyBytes, spec.keyBytes), bytes(nonceBytes, nonceBytes), bytes(0, 40), bytes(0, 300), (key, nonce, aad, pt) => {
          const ctxs = bs.map((b) => b.createAead(spec, key));
          const sealed = ctxs.map((c) => c.seal(nonce, aad, pt));
          for (const s of sealed) expect(hex(s)).toBe(hex(sealed[0]!));
          for (const c of ctxs) {
            const opened = c.open(nonce, aad, sealed[0]!);
            expect(opened && hex(opened)).toBe(hex(pt));
          }
          ctxs.forEach((c) => c.dispose());
        }),
        { numRuns: RUNS },
      );
    });
  }

  for (const spec of CIPHERS) {
    const bs = sharing((b) => b.hasCipher(spec));
    if (bs.length < 2) continue;
    const block = spec.alg === '3des-cbc' ? 8 : 16;
    const ivBytes = spec.alg === 'aes-ctr' ? 16 : block;
    it(`${spec.alg}-${spec.keyBytes * 8} on ${bs.map((b) => b.name).join(', ')}`, () => {
      fc.assert(
        fc.property(
          bytes(spec.keyBytes, spec.keyBytes),
          bytes(ivBytes, ivBytes),
          bytes(0, 300).map((d) => (spec.alg === 'aes-ctr' ? d : d.subarray(0, d.length - (d.length % block)))),
          (key, iv, data) => {
            const ctxs = bs.map((b) => b.createCipher(spec, key));
            const enc = ctxs.map((c) => c.encrypt(iv, data));
            for (const e of enc) expect(hex(e)).toBe(hex(enc[0]!));
            for (const c of ctxs) expect(hex(c.decrypt(iv, enc[0]!))).toBe(hex(data));
          },
        ),
        { numRuns: RUNS },
      );
    });
  }

  for (const alg of MACS) {
    const bs = sharing((b) => b.hasMac(alg));
    if (bs.length < 2) continue;
    const fixed = alg === 'aes-xcbc' || alg === 'aes-cmac';
    it(`${alg} on ${bs.map((b) => b.name).join(', ')}`, () => {
      fc.assert(
        fc.property(bytes(fixed ? 16 : 0, fixed ? 16 : 200), fc.array(bytes(0, 100), { maxLength: 4 }), (key, parts) => {
          const macs = bs.map((b) => hex(b.createMac(alg, key).compute(parts)));
          for (const m of macs) expect(m).toBe(macs[0]);
        }),
        { numRuns: RUNS },
      );
    });
  }

  for (const alg of HASHES) {
    const bs = sharing((b) => b.hasHash(alg));
    if (bs.length < 2) continue;
    it(`${alg} on ${bs.map((b) => b.name).join(', ')}`, () => {
      fc.assert(
        fc.property(fc.array(bytes(0, 200), { maxLength: 3 }), (parts) => {
          const hs = bs.map((b) => hex(b.hash(alg, parts)));
          for (const h of hs) expect(h).toBe(hs[0]);
        }),
        { numRuns: RUNS },
      );
    });
  }

  // Large MODP groups are slow in pure-JS BigInt (noble): fewer runs there.
  const GROUPS: [number, number][] = [
    [2, 10], [5, 5], [14, 5], [15, 3], [16, 2], [17, 1], [18, 1], [22, 5], [23, 5], [24, 5],
    [19, 20], [20, 10], [21, 5], [25, 10], [26, 10], [27, 10], [28, 10], [29, 5], [30, 5], [31, 30], [32, 20],
  ];
  for (const [group, runs] of GROUPS) {
    const bs = sharing((b) => b.hasKeyExchange(group));
    if (bs.length < 2) continue;
    it(`key exchange group ${group} on ${bs.map((b) => b.name).join(', ')}`, () => {
      fc.assert(
        fc.property(fc.integer(), fc.integer(), (seedA, seedB) => {
          // The same seed gives the same private value on every backend, so the same public value and g^ir.
          const as = bs.map((b) => b.createKeyExchange(group, seededRandom(seedA)));
          const bsx = bs.map((b) => b.createKeyExchange(group, seededRandom(seedB)));
          for (const a of as) expect(hex(a.publicValue)).toBe(hex(as[0]!.publicValue));
          for (const x of bsx) expect(hex(x.publicValue)).toBe(hex(bsx[0]!.publicValue));
          const s = as.map((a, i) => hex(a.computeSharedSecret(bsx[(i + 1) % bsx.length]!.publicValue)));
          for (const v of s) expect(v).toBe(s[0]);
          expect(hex(bsx[0]!.computeSharedSecret(as[0]!.publicValue))).toBe(s[0]);
        }),
        { numRuns: runs },
      );
    }, 120_000);
  }
});
