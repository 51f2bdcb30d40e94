import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeMessage, encodeMessage, findStr, type ViciInput } from './message.js';
import { ViciError } from './errors.js';

const ascii = (s: string): number[] => [...s].map((c) => c.charCodeAt(0));

/** strongSwan vici README, "Encoding example", byte for byte. */
const README_EXAMPLE = new Uint8Array([
  3, 4, ...ascii('key1'), 0, 6, ...ascii('value1'),
  1, 8, ...ascii('section1'),
  1, 11, ...ascii('sub-section'),
  3, 4, ...ascii('key2'), 0, 6, ...ascii('value2'),
  2,
  4, 5, ...ascii('list1'),
  5, 0, 5, ...ascii('item1'),
  5, 0, 5, ...ascii('item2'),
  6,
  2,
]);

describe('vici message codec', () => {
  it('encodes the README example byte-exact', () => {
    const tree = { key1: 'value1', section1: { 'sub-section': { key2: 'value2' }, list1: ['item1', 'item2'] } };
    expect(encodeMessage(tree)).toEqual(README_EXAMPLE);
  });

  it('decodes the README example', () => {
    const m = decodeMessage(README_EXAMPLE);
    expect(m).toEqual({ key1: 'value1', section1: { 'sub-section': { key2: 'value2' }, list1: ['item1', 'item2'] } });
    expect(findStr(m, 'section1.sub-section.key2')).toBe('value2');
  });

  it('encodes numbers, bigints and booleans as charon does (decimal text, yes/no), skips undefined', () => {
    const m = decodeMessage(encodeMessage({ a: 1, b: 2n ** 64n, c: true, d: false, e: undefined, l: [1, 'x'] }));
    expect(m).toEqual({ a: '1', b: '18446744073709551616', c: 'yes', d: 'no', l: ['1', 'x'] });
  });

  it('keeps non-UTF-8 values as bytes and round-trips them', () => {
    const raw = new Uint8Array([0xff, 0x00, 0xfe]);
    const m = decodeMessage(encodeMessage({ data: raw, ok: 'é' }));
    expect(m.data).toEqual(raw);
    expect(m.ok).toBe('é');
  });

  it('keeps a leading BOM so text re-encodes to the same bytes', () => {
    const bytes = encodeMessage({ k: '\ufeffx' });
    expect(encodeMessage(decodeMessage(bytes) as ViciInput)).toEqual(bytes);
  });

  it('treats __proto__ as an ordinary key', () => {
    const bytes = new Uint8Array([3, 9, ...ascii('__proto__'), 0, 1, ...ascii('x')]);
    const m = decodeMessage(bytes);
    expect(Object.keys(m)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });

  it('accepts empty messages, empty sections and empty lists', () => {
    expect(decodeMessage(new Uint8Array())).toEqual({});
    expect(decodeMessage(encodeMessage({ s: {}, l: [] }))).toEqual({ s: {}, l: [] });
  });

  const bad: [string, number[], string][] = [
    ['truncated name', [3, 4, ...ascii('ke')], 'TRUNCATED'],
    ['truncated value length', [3, 1, ...ascii('k'), 0], 'TRUNCATED'],
    ['truncated value', [3, 1, ...ascii('k'), 0, 5, ...ascii('ab')], 'TRUNCATED'],
    ['unknown element', [9], 'UNKNOWN_ELEMENT'],
    ['section end at root', [2], 'UNBALANCED_SECTION'],
    ['unclosed section', [1, 1, ...ascii('s')], 'UNBALANCED_SECTION'],
    ['unclosed list', [4, 1, ...ascii('l')], 'UNBALANCED_LIST'],
    ['list end outside list', [6], 'UNBALANCED_LIST'],
    ['nested list', [4, 1, ...ascii('l'), 4, 1, ...ascii('m'), 6, 6], 'UNBALANCED_LIST'],
    ['item outside list', [5, 0, 0], 'MISPLACED_ELEMENT'],
    ['key/value in list', [4, 1, ...ascii('l'), 3, 1, ...ascii('k'), 0, 0, 6], 'MISPLACED_ELEMENT'],
    ['section in list', [4, 1, ...ascii('l'), 1, 1, ...ascii('s'), 2, 6], 'MISPLACED_ELEMENT'],
    ['empty name', [3, 0, 0, 0], 'BAD_NAME'],
    ['non-UTF-8 name', [3, 1, 0xff, 0, 0], 'BAD_NAME'],
    ['duplicate key', [3, 1, ...ascii('k'), 0, 0, 3, 1, ...ascii('k'), 0, 0], 'DUPLICATE_KEY'],
    ['section named like a key', [3, 1, ...ascii('k'), 0, 0, 1, 1, ...ascii('k'), 2], 'DUPLICATE_KEY'],
  ];
  it.each(bad)('rejects %s with a typed error', (_name, bytes, code) => {
    try {
      decodeMessage(new Uint8Array(bytes));
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ViciError);
      expect((e as ViciError).code).toBe(code);
      expect((e as ViciError).offset).toBeGreaterThanOrEqual(0);
    }
  });

  it('refuses to encode names and values out of range', () => {
    expect(() => encodeMessage({ ['k'.repeat(256)]: 'v' })).toThrow(expect.objectContaining({ code: 'BAD_NAME' }));
    expect(() => encodeMessage({ '': 'v' })).toThrow(expect.objectContaining({ code: 'BAD_NAME' }));
    expect(() => encodeMessage({ k: 'v'.repeat(65536) })).toThrow(expect.objectContaining({ code: 'BAD_VALUE' }));
    expect(() => encodeMessage({ k: Number.NaN })).toThrow(expect.objectContaining({ code: 'BAD_VALUE' }));
    expect(encodeMessage({ k: 'v'.repeat(65535) }).length).toBe(1 + 1 + 1 + 2 + 65535);
  });

  // Trees with non-integer-like names, so object key order is insertion order and bytes round-trip exactly.
  const name = fc.string({ minLength: 1, maxLength: 12 }).filter((s) => !/^\d+$/.test(s) && new TextEncoder().encode(s).length <= 255);
  const value = fc.oneof(fc.string({ maxLength: 20 }), fc.uint8Array({ maxLength: 20 }));
  const tree: fc.Arbitrary<ViciInput> = fc.letrec((tie) => ({
    section: fc.dictionary(name, fc.oneof({ depthSize: 'small' }, value, fc.array(value, { maxLength: 4 }), tie('section')), { maxKeys: 5 }),
  })).section as fc.Arbitrary<ViciInput>;

  it('property: encode then decode gives the tree back, and re-encoding gives the same bytes', () => {
    fc.assert(
      fc.property(tree, (t) => {
        const bytes = encodeMessage(t);
        const back = decodeMessage(bytes);
        expect(encodeMessage(back as ViciInput)).toEqual(bytes);
      }),
      { numRuns: 300 },
    );
  });

  it('fuzz: random bytes give a message or a ViciError, nothing else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
        try {
          decodeMessage(b);
        } catch (e) {
          if (!(e instanceof ViciError)) throw e;
        }
      }),
      { numRuns: 5000 },
    );
  });

  it('fuzz: mutated valid messages give a message or a ViciError', () => {
    fc.assert(
      fc.property(tree, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), fc.nat(), (t, muts, cut) => {
        const b = encodeMessage(t);
        for (const [i, v] of muts) if (b.length) b[i % b.length] = v;
        const sliced = b.subarray(0, b.length ? cut % (b.length + 1) : 0);
        try {
          decodeMessage(sliced);
        } catch (e) {
          if (!(e instanceof ViciError)) throw e;
        }
      }),
      { numRuns: 2000 },
    );
  });
});
