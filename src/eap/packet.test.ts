import { describe, expect, it } from 'vitest';
import { EapError } from './errors.js';
import { decodeEap, decodeIdentity, decodeNak, encodeEap, encodeEapResult, encodeNak } from './packet.js';

const bad = (bytes: number[], code: string, text: RegExp): void => {
  let err: unknown;
  try {
    decodeEap(Uint8Array.from(bytes));
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(EapError);
  expect((err as EapError).code).toBe(code);
  expect((err as EapError).message).toMatch(text);
};

describe('EAP packet codec (RFC 3748 4)', () => {
  it('round-trips a Request with data and ignores padding past Length', () => {
    const p = encodeEap(1, 7, 1, new TextEncoder().encode('hi'));
    expect([...p]).toEqual([1, 7, 0, 7, 1, 0x68, 0x69]);
    expect(decodeEap(Uint8Array.from([...p, 0, 0]))).toEqual({ code: 1, identifier: 7, type: 1, data: Uint8Array.from([0x68, 0x69]) });
  });
  it('Success and Failure are four bytes', () => {
    expect([...encodeEapResult(3, 9)]).toEqual([3, 9, 0, 4]);
    expect(decodeEap(encodeEapResult(4, 9))).toEqual({ code: 4, identifier: 9 });
  });
  it('a Nak lists the wanted types, 0 when none', () => {
    expect([...encodeNak(3, [26, 13])]).toEqual([2, 3, 0, 7, 3, 26, 13]);
    expect([...encodeNak(3, [])]).toEqual([2, 3, 0, 6, 3, 0]);
    expect(decodeNak(Uint8Array.of(0))).toEqual([]);
  });
  it('an identity drops trailing NULs', () => {
    expect(decodeIdentity(Uint8Array.of(0x61, 0x62, 0))).toBe('ab');
  });
  it('rejects a packet shorter than the header', () => bad([1, 2, 0], 'truncated', /3 bytes is shorter than its 4-byte header/));
  it('rejects a Length beyond the bytes received', () => bad([1, 2, 0, 9, 1], 'bad-length', /Length 9 \(offset 2\) exceeds the 5 bytes/));
  it('rejects a Length below the header', () => bad([1, 2, 0, 3, 1], 'bad-length', /Length 3 .* below the 4-byte header/));
  it('rejects an unknown Code', () => bad([5, 2, 0, 4], 'bad-code', /Code 5 \(offset 0\)/));
  it('rejects a Request without a Type', () => bad([1, 2, 0, 4], 'truncated', /no Type octet \(offset 4\)/));
  it('rejects a Success with data', () => bad([3, 2, 0, 5, 0], 'bad-length', /Success has Length 5/));
  it('rejects Expanded types', () => bad([1, 2, 0, 5, 254], 'bad-type', /Expanded Type/));
  it('rejects Type 0', () => bad([2, 2, 0, 5, 0], 'bad-type', /Type 0/));
  it('rejects a Nak in a Request', () => bad([1, 2, 0, 6, 3, 26], 'bad-type', /Nak .* only valid in a Response/));
  it('rejects an empty Nak', () => {
    expect(() => decodeNak(new Uint8Array(0))).toThrow(/Nak carries no desired Type/);
  });
});
