/**
 * The in-place AEAD entry (aead-in-place.ts) on every backend: the same bytes as the view-taking seal/open, AAD
 * from the buffer or the scratch, tag failures zero the data, and every bad range is a CryptoError before any
 * byte is written (on openssl only addresses cross the FFI, so this check is all that keeps C in bounds).
 */
import { describe, expect, it } from 'vitest';
import { seededRandom, randomBytes } from '../random.js';
import type { AeadSpec, CryptoBackend } from '../types.js';
import { AEAD_AAD_SCRATCH_BYTES, aeadInPlace } from './aead-in-place.js';
import { availableBackends } from './index.js';

const SPECS: AeadSpec[] = [
  { alg: 'aes-gcm', keyBytes: 16, tagBytes: 16 },
  { alg: 'aes-gcm', keyBytes: 32, tagBytes: 8 },
  { alg: 'aes-ccm', keyBytes: 16, tagBytes: 12 },
  { alg: 'chacha20-poly1305', keyBytes: 32, tagBytes: 16 },
];

const code = (f: () => unknown): string | undefined => {
  try {
    f();
  } catch (e) {
    return (e as { code?: string }).code;
  }
  return undefined;
};

describe.each(availableBackends().map((b) => [b.name, b] as const))('in-place AEAD on %s', (_n, b: CryptoBackend) => {
  const rnd = seededRandom(41);
  const specs = SPECS.filter((s) => b.hasAead(s));

  it.each(specs.map((s) => [`${s.alg}-${s.keyBytes * 8}/${s.tagBytes}`, s] as const))('%s: same bytes as seal/open, both AAD sources', (_s, spec) => {
    const key = randomBytes(rnd, spec.keyBytes);
    const ctx = b.createAead(spec, key);
    const ip = aeadInPlace(ctx);
    expect(ip.tagBytes).toBe(spec.tagBytes);
    expect(ip.aad.length).toBe(AEAD_AAD_SCRATCH_BYTES);
    for (const len of [0, 1, 15, 16, 100, 1400]) {
      const nonce = randomBytes(rnd, ip.nonce.length);
      const aad = randomBytes(rnd, 12);
      const pt = randomBytes(rnd, len);
      const expected = ctx.seal(nonce, aad, pt);
      // AAD in the buffer, right before the data (the ESP layout), in a view with a byte offset.
      const backing = new Uint8Array(40 + len + spec.tagBytes + 40);
      const buf = backing.subarray(7);
      buf.set(aad, 10);
      buf.set(pt, 30);
      ip.nonce.set(nonce);
      ip.seal(buf, 30, len, 10, 12);
      expect(buf.subarray(30, 30 + len + spec.tagBytes)).toEqual(expected);
      expect(backing.subarray(0, 7).every((x) => x === 0)).toBe(true);
      expect(buf.subarray(30 + len + spec.tagBytes).every((x) => x === 0)).toBe(true);
      expect(ip.open(buf, 30, len, 10, 12)).toBe(true);
      expect(buf.subarray(30, 30 + len)).toEqual(pt);
      // AAD from the scratch.
      ip.aad.set(aad);
      ip.seal(buf, 30, len, -1, 12);
      expect(buf.subarray(30, 30 + len + spec.tagBytes)).toEqual(expected);
      expect(ip.open(buf, 30, len, -1, 12)).toBe(true);
      expect(buf.subarray(30, 30 + len)).toEqual(pt);
    }
    ctx.dispose();
  });

  it.each(specs.map((s) => [`${s.alg}-${s.keyBytes * 8}/${s.tagBytes}`, s] as const))('%s: a forged tag or AAD fails and zeroes the data', (_s, spec) => {
    const ctx = b.createAead(spec, randomBytes(rnd, spec.keyBytes));
    const ip = aeadInPlace(ctx);
    seededRandom(3).fill(ip.nonce);
    const buf = randomBytes(rnd, 8 + 64 + spec.tagBytes);
    ip.seal(buf, 8, 64, 0, 8);
    const sealed = buf.slice();
    buf[8 + 64 + 1]! ^= 0x40;
    expect(ip.open(buf, 8, 64, 0, 8)).toBe(false);
    expect(buf.subarray(8, 72).every((x) => x === 0)).toBe(true);
    buf.set(sealed);
    buf[3]! ^= 1;
    expect(ip.open(buf, 8, 64, 0, 8)).toBe(false);
    buf.set(sealed);
    expect(ip.open(buf, 8, 64, 0, 8)).toBe(true);
    ctx.dispose();
  });

  it('ranges outside the buffer are refused before anything is written', () => {
    const ctx = b.createAead({ alg: 'aes-gcm', keyBytes: 16, tagBytes: 16 }, randomBytes(rnd, 16));
    const ip = aeadInPlace(ctx);
    const buf = new Uint8Array(100);
    const bad: [number, number, number, number][] = [
      [0, 85, 0, 0], // tag runs past the end
      [-1, 10, 0, 0],
      [10, -1, 0, 0],
      [1.5, 10, 0, 0],
      [0, 10, 95, 8], // aad runs past the end
      [0, 10, -1, AEAD_AAD_SCRATCH_BYTES + 1], // more aad than the scratch holds
      [0, 10, 0, -1],
      [Number.NaN, 10, 0, 0],
    ];
    for (const [off, len, aadOff, aadLen] of bad) {
      expect(code(() => ip.seal(buf, off, len, aadOff, aadLen)), `seal ${off} ${len} ${aadOff} ${aadLen}`).toBe('INVALID_DATA_LENGTH');
      expect(code(() => ip.open(buf, off, len, aadOff, aadLen)), `open ${off} ${len} ${aadOff} ${aadLen}`).toBe('INVALID_DATA_LENGTH');
    }
    expect(buf.every((x) => x === 0)).toBe(true);
    expect(code(() => ip.seal('x' as unknown as Uint8Array, 0, 1, 0, 0))).toBe('INVALID_DATA_LENGTH');
    ctx.dispose();
  });

  it('small (on-heap) arrays, Buffers from the shared pool and many distinct buffers all seal in place', () => {
    const spec: AeadSpec = { alg: 'aes-gcm', keyBytes: 16, tagBytes: 16 };
    const ctx = b.createAead(spec, randomBytes(rnd, 16));
    const ip = aeadInPlace(ctx);
    seededRandom(9).fill(ip.nonce);
    const bufs: Uint8Array[] = [new Uint8Array(24 + 16), Buffer.alloc(24 + 16), Buffer.allocUnsafe(24 + 16).fill(0)];
    for (let i = 0; i < 300; i++) bufs.push(new Uint8Array(24 + 16 + (i % 7)));
    const expected = ctx.seal(ip.nonce.slice(), new Uint8Array(0), new Uint8Array(24));
    for (const buf of bufs) {
      ip.seal(buf, 0, 24, 0, 0);
      expect(Uint8Array.from(buf.subarray(0, 40))).toEqual(expected);
      expect(ip.open(buf, 0, 24, 0, 0)).toBe(true);
      expect(buf.subarray(0, 24).every((x) => x === 0)).toBe(true);
    }
    ctx.dispose();
  });

  it('packets as views into one arena (the TUN and UDP receivers\' layout), interleaved with other buffers, seal at their own offsets', () => {
    const spec: AeadSpec = { alg: 'aes-gcm', keyBytes: 16, tagBytes: 16 };
    const ctx = b.createAead(spec, randomBytes(rnd, 16));
    const ip = aeadInPlace(ctx);
    seededRandom(12).fill(ip.nonce);
    const SLOT = 2048;
    const arenas = [new ArrayBuffer(SLOT * 8), new ArrayBuffer(SLOT * 8)];
    const plain = Array.from({ length: 8 }, (_, i) => randomBytes(rnd, 100 + i * 37));
    const expected = plain.map((p) => ctx.seal(ip.nonce.slice(), new Uint8Array(0), p));
    // A fresh view per packet: a batch of one arena's slots in a row (the cached case), then the other arena's, a
    // lone buffer between batches, and the opens in reverse order.
    const at = (i: number): number => 64 + (i % 3);
    for (let round = 0; round < 3; round++) {
      for (const arena of arenas) {
        for (let i = 0; i < 8; i++) {
          const p = plain[i]!;
          const view = new Uint8Array(arena, i * SLOT, SLOT);
          view.fill(0);
          view.set(p, at(i));
          ip.seal(view, at(i), p.length, 0, 0);
        }
        const lone = new Uint8Array(plain[round]!.length + 16);
        lone.set(plain[round]!);
        ip.seal(lone, 0, plain[round]!.length, 0, 0);
        expect(lone).toEqual(expected[round]);
        for (let i = 0; i < 8; i++) expect(new Uint8Array(arena, i * SLOT + at(i), plain[i]!.length + 16)).toEqual(expected[i]);
      }
      for (const arena of [...arenas].reverse()) {
        for (let i = 7; i >= 0; i--) {
          expect(ip.open(new Uint8Array(arena, i * SLOT, SLOT), at(i), plain[i]!.length, 0, 0)).toBe(true);
          expect(new Uint8Array(arena, i * SLOT + at(i), plain[i]!.length)).toEqual(plain[i]);
        }
      }
    }
    // Nothing outside the sealed ranges was touched: the slots' tails are still zero.
    for (const arena of arenas) for (let i = 0; i < 8; i++) expect(new Uint8Array(arena, i * SLOT + at(i) + plain[i]!.length + 16, 512).every((x) => x === 0)).toBe(true);
    ctx.dispose();
  });

  it('a disposed context refuses in-place calls', () => {
    const ctx = b.createAead({ alg: 'aes-gcm', keyBytes: 16, tagBytes: 16 }, randomBytes(rnd, 16));
    const ip = aeadInPlace(ctx);
    ctx.dispose();
    expect(code(() => ip.seal(new Uint8Array(40), 0, 8, 0, 0))).toBe('DISPOSED');
    expect(code(() => ip.open(new Uint8Array(40), 0, 8, 0, 0))).toBe('DISPOSED');
  });
});
