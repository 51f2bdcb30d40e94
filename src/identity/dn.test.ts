import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { attributeName, attributeOid, OID, Tag } from './attributes.js';
import { derTlv } from './der.js';
import { avaFromValueDer, decodeDn, encodeDn, formatDn, parseDn, stringAva, type Ava, type Dn } from './dn.js';
import { dnEquals, dnMatch } from './dn-match.js';
import { IdentityError } from './errors.js';

const enc = new TextEncoder();

/** A value of a chosen string type (what a CA may put in a certificate). */
function typed(oid: string, tag: number, text: string): Ava {
  let bytes: Uint8Array;
  if (tag === Tag.BMPString) {
    bytes = new Uint8Array(text.length * 2);
    for (let i = 0; i < text.length; i++) {
      bytes[2 * i] = text.charCodeAt(i) >> 8;
      bytes[2 * i + 1] = text.charCodeAt(i) & 0xff;
    }
  } else if (tag === Tag.UniversalString) {
    const cps = Array.from(text, (c) => c.codePointAt(0)!);
    bytes = new Uint8Array(cps.length * 4);
    cps.forEach((cp, i) => new DataView(bytes.buffer).setUint32(4 * i, cp));
  } else bytes = tag === Tag.T61String ? Uint8Array.from(text, (c) => c.charCodeAt(0)) : enc.encode(text);
  return avaFromValueDer(oid, derTlv(tag, bytes));
}
const s = (oid: string, text: string): Ava => stringAva(oid, text);

/** How names were printed before issue 11: values as they are, every AVA joined by ", ". */
function naivePrint(dn: Dn): string {
  return dn
    .flat()
    .map((a) => `${attributeName(a.oid)}=${a.text ?? '?'}`)
    .join(', ');
}

const GW: Dn = [[s(OID.C, 'CH')], [s(OID.O, 'example')], [s(OID.CN, 'gw.example')]];

describe('DN comparison is structural (issue 11)', () => {
  // [what, configured (text or structure), received, verdict, prints alike the naive way]
  const rows: [string, string | Dn, string | Dn, boolean, boolean][] = [
    ['escaped comma inside a value (the reported attack)', GW, [[s(OID.C, 'CH')], [s(OID.O, 'example, CN=gw.example')]], false, true],
    ['the same attack written as text', 'C=CH, O=example, CN=gw.example', 'C=CH, O=example\\, CN=gw.example', false, true],
    ["strongSwan's slash form keeps the comma in the value", 'C=CH, O=example, CN=gw.example', '/C=CH/O=example, CN=gw.example', false, true],
    ['+ multi-valued RDN vs two RDNs', GW, [[s(OID.C, 'CH')], [s(OID.O, 'example'), s(OID.CN, 'gw.example')]], false, true],
    ['+ multi-valued RDN written as text', 'C=CH, O=example, CN=gw.example', 'C=CH, O=example+CN=gw.example', false, true],
    ['an escaped + is part of the value', 'C=CH, O=example+CN=gw.example', 'C=CH, O=example\\+CN=gw.example', false, false],
    ['multi-valued RDNs are sets: AVA order inside does not matter', 'C=CH, O=example+CN=gw.example', 'C=CH, CN=gw.example+O=example', true, false],
    ['different RDN order', 'C=CH, O=example, CN=gw.example', 'CN=gw.example, O=example, C=CH', false, false],
    ['one RDN more', 'C=CH, O=example, CN=gw.example', 'C=CH, O=example, OU=x, CN=gw.example', false, false],
    ['one RDN less', 'C=CH, O=example, CN=gw.example', 'C=CH, CN=gw.example', false, false],
    ['leading and trailing spaces are insignificant (RFC 4518 2.6.1)', GW, [[s(OID.C, 'CH')], [s(OID.O, ' example')], [s(OID.CN, 'gw.example  ')]], true, false],
    ['escaped spaces in text are kept, and still insignificant at the ends', 'C=CH, O=example, CN=gw.example', 'C=CH, O=\\ example, CN=gw.example\\20', true, false],
    ['inner runs of spaces compare as one', 'C=CH, O=exa  mple, CN=gw', 'C=CH, O=exa mple, CN=gw', true, false],
    ['a space where there was none differs', 'C=CH, O=example, CN=gw', 'C=CH, O=exa mple, CN=gw', false, false],
    ['embedded = belongs to the value', [[s(OID.CN, 'a=b')]], 'CN=a=b', true, true],
    ['embedded = does not start an RDN', 'CN=a, O=b', [[s(OID.CN, 'a, O=b')]], false, true],
    ['PrintableString vs UTF8String of the same value', GW, [[typed(OID.C, Tag.PrintableString, 'CH')], [typed(OID.O, Tag.UTF8String, 'example')], [typed(OID.CN, Tag.UTF8String, 'gw.example')]], true, true],
    ['BMPString of the same value', GW, [[s(OID.C, 'CH')], [typed(OID.O, Tag.BMPString, 'example')], [typed(OID.CN, Tag.BMPString, 'gw.example')]], true, true],
    ['T61String and UniversalString of the same value', GW, [[typed(OID.C, Tag.T61String, 'CH')], [typed(OID.O, Tag.UniversalString, 'example')], [typed(OID.CN, Tag.T61String, 'gw.example')]], true, true],
    ['IA5String e-mail vs UTF8String', [[s(OID.E, 'gw@example.org')]], [[typed(OID.E, Tag.UTF8String, 'gw@example.org')]], true, true],
    ['case differs in caseIgnoreMatch attributes (C, O, CN)', 'C=CH, O=example, CN=gw.example', 'c=ch, o=EXAMPLE, cn=Gw.Example', true, false],
    ['case differs across string types', GW, [[s(OID.C, 'ch')], [typed(OID.O, Tag.BMPString, 'EXAMPLE')], [typed(OID.CN, Tag.UTF8String, 'GW.example')]], true, false],
    ['case differs in an attribute of unknown matching rule (case-exact)', '1.2.3.4=Abc', '1.2.3.4=abc', false, false],
    ['non-ASCII case folding (caseIgnoreMatch)', 'CN=Zürich', 'CN=ZÜRICH', true, false],
    ['NFKC: a compatibility character equals its normal form (RFC 4518 2.3)', 'CN=ﬁle', 'CN=file', true, false],
    ['a zero-width space is not folded away (strict)', 'CN=gw.example', [[s(OID.CN, 'gw\u200b.example')]], false, false],
    ['a NUL is not folded away (strict)', 'CN=gw.example', [[s(OID.CN, 'gw.example\u0000')]], false, false],
    ['the same odd value equals itself', [[s(OID.CN, 'gw\u200b')]], [[typed(OID.CN, Tag.UTF8String, 'gw\u200b')]], true, true],
    ['non-string values compare by DER', '1.2.3.4=#0403010203', '1.2.3.4=#0403010203', true, true],
    ['non-string values that differ', '1.2.3.4=#0403010203', '1.2.3.4=#0403010204', false, true],
    ['a string never equals a non-string value', '1.2.3.4=#0c03616263', '1.2.3.4=#0403616263', false, false],
  ];
  const dn = (x: string | Dn): Dn => (typeof x === 'string' ? parseDn(x) : x);
  it.each(rows)('%s', (_what, a, b, verdict, alike) => {
    expect(dnEquals(dn(a), dn(b))).toBe(verdict);
    expect(dnEquals(dn(b), dn(a))).toBe(verdict);
    expect(dnMatch(dn(a), dn(b)) !== undefined).toBe(verdict);
    // The premise of the attack rows: the old printer (values raw, non-strings as '?') could not tell them
    // apart; ours always can.
    expect(naivePrint(dn(a)) === naivePrint(dn(b))).toBe(alike);
    if (!verdict) expect(formatDn(dn(a))).not.toBe(formatDn(dn(b)));
    // And it survives the round trip through DER.
    expect(dnEquals(decodeDn(encodeDn(dn(a))), decodeDn(encodeDn(dn(b))))).toBe(verdict);
  });

  it("wildcards: a configured '*' matches any value of that attribute, and only in the configured DN", () => {
    const pattern = parseDn('C=CH, O=example, CN=*');
    expect(dnMatch(pattern, GW)).toBe(1);
    expect(dnMatch(parseDn('C=*, O=*, CN=*'), GW)).toBe(3);
    expect(dnMatch(pattern, parseDn('C=CH, O=example\\, CN=gw.example'))).toBeUndefined();
    expect(dnMatch(pattern, parseDn('C=CH, O=example, OU=x, CN=gw'))).toBeUndefined();
    expect(dnMatch(pattern, parseDn('C=CH, O=example, OU=gw'))).toBeUndefined();
    expect(dnMatch(parseDn('C=CH, O=example+CN=*'), parseDn('C=CH, CN=gw+O=example'))).toBe(1);
    // The received side's '*' is a literal.
    expect(dnEquals(GW, pattern)).toBe(false);
    expect(dnMatch(GW, pattern)).toBeUndefined();
  });
});

describe('DN text', () => {
  it("parses strongSwan's forms to the same DER", () => {
    const want = encodeDn(GW);
    for (const t of ['C=CH, O=example, CN=gw.example', 'C=CH,O=example,CN=gw.example', '  C = CH ,  O = example , CN = gw.example ', '/C=CH/O=example/CN=gw.example', 'c=CH, o=example, cn=gw.example', 'C="CH", O="example", CN="gw.example"', '2.5.4.6=CH, OID.2.5.4.10=example, CN=gw.example'])
      expect(Buffer.from(encodeDn(parseDn(t))).toString('hex'), t).toBe(Buffer.from(want).toString('hex'));
  });
  it('encodes values as strongSwan does: PrintableString when possible, UTF8String otherwise, IA5String for E', () => {
    const [[c], [cn], [e]] = parseDn('C=CH, CN=Zürich, E=a@b.example') as [[Ava], [Ava], [Ava]];
    expect([c.tag, cn.tag, e.tag]).toEqual([Tag.PrintableString, Tag.UTF8String, Tag.IA5String]);
  });
  it('prints with RFC 4514 escapes so that different names never print alike', () => {
    expect(formatDn([[s(OID.O, 'example, CN=gw')]])).toBe('O=example\\, CN=gw');
    expect(formatDn([[s(OID.O, 'a'), s(OID.CN, 'b')]])).toBe('O=a+CN=b');
    expect(formatDn([[s(OID.CN, '#1 "q" <x>;\\+ ')]])).toBe('CN=\\#1 \\"q\\" \\<x\\>\\;\\\\\\+\\ ');
    expect(formatDn([[s(OID.CN, ' lead')]])).toBe('CN=\\ lead');
    expect(formatDn([[s(OID.CN, 'a\nb\u0000')]])).toBe('CN=a\\0Ab\\00');
    expect(formatDn([[s(OID.CN, 'gw\u200b.example\u202e')]])).toBe('CN=gw\\E2\\80\\8B.example\\E2\\80\\AE');
    expect(formatDn([[avaFromValueDer('1.2.3.4', Uint8Array.of(4, 1, 0xff))]])).toBe('1.2.3.4=#0401ff');
    expect(formatDn(GW)).toBe('C=CH, O=example, CN=gw.example');
  });
  it('reads \\XX escapes as UTF-8', () => {
    expect(parseDn('CN=Z\\C3\\BCrich')[0]![0]!.text).toBe('Zürich');
    expect(() => parseDn('CN=\\C3')).toThrow(/not UTF-8/);
  });
  it('every keyword prints as a name that parses back to its OID', () => {
    for (const oid of Object.values(OID)) expect(attributeOid(attributeName(oid)), oid).toBe(oid);
    expect(attributeOid('SN')).toBe(OID.SN); // surname, as in strongSwan; serialNumber is spelled out
  });
  it.each([
    ['C=CH, XX=foo', /unknown RDN type 'XX' at character 7/],
    ['C=CH,', /empty RDN after a separator/],
    ['C=CH,, O=x', /expected an attribute type before ',' at character 6/],
    ['CN', /RDN 'CN' is not of the form NAME=value/],
    ['O=AT&T+Co', /RDN 'Co' is not of the form NAME=value; escape a '\+' inside a value as \\\+/],
    ['O=Acme, Inc., CN=x', /RDN 'Inc\.' is not of the form NAME=value; escape a ',' inside a value as \\,/],
    ['CN="open', /unterminated quoted value/],
    ['CN=a"b', /unescaped '"'/],
    ['CN=x\\', /lone backslash/],
    ['CN=#zz', /'#' starts the hex of a DER value/],
    ['CN=#0401', /truncated|run past the end/],
    ['CN="a" b', /unexpected 'b' after the value of CN/],
  ])('refuses %s with a typed error naming the place', (text, why) => {
    let err: unknown;
    try {
      parseDn(text);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(IdentityError);
    expect((err as IdentityError).code).toBe('BAD_DN_TEXT');
    expect((err as IdentityError).message).toMatch(why);
    expect((err as IdentityError).message).toContain(text);
  });
});

describe('DN DER', () => {
  it('sorts the AVAs of a multi-valued RDN as DER SET OF requires (X.690 11.6)', () => {
    const a = encodeDn(parseDn('O=example+CN=gw'));
    const b = encodeDn(parseDn('CN=gw+O=example'));
    expect(a).toEqual(b);
    expect(formatDn(decodeDn(a))).toBe('CN=gw+O=example');
  });
  it.each([
    ['not a SEQUENCE', '3100', /not a SEQUENCE/],
    ['an RDN that is not a SET', '30053003060155', /RDN 1 is not a SET at byte 2/],
    ['an empty RDN', '30023100', /RDN 1 is an empty SET at byte 2/],
    ['a truncated value', '300d310b300906035504030c0461', /run past the end|truncated/],
    ['indefinite length', '3080', /indefinite length/],
    ['trailing bytes', '300000', /1 octets after the Name/],
    ['a bad OID', '300b3109300706000c03616263', /malformed attribute type/],
  ])('refuses %s with a typed error and offset', (_what, hex, why) => {
    expect(() => decodeDn(Uint8Array.from(Buffer.from(hex, 'hex')))).toThrow(why);
    try {
      decodeDn(Uint8Array.from(Buffer.from(hex, 'hex')));
    } catch (e) {
      expect(e).toBeInstanceOf(IdentityError);
      expect((e as IdentityError).code).toBe('BAD_DN_DER');
      expect(typeof (e as IdentityError).offset).toBe('number');
    }
  });
});

describe('RFC 4514 round trip (property)', () => {
  // Characters every escape rule is about, plus controls, non-ASCII, astral, wildcard and slash.
  const nasty = fc.constantFrom(',', '+', '"', '\\', '<', '>', ';', '#', '=', ' ', '/', '*', '\u0000', '\n', '\t', '\u0085', '\u00ad', '\u200b', '\u202e', 'é', 'Ü', '€', '𝔘', 'a', 'Z', '0', '.', '-', '@');
  const value = fc.string({ unit: fc.oneof({ weight: 3, arbitrary: nasty }, { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) }), maxLength: 12 }).filter((v) => !/\p{Cs}/u.test(v));
  const oid = fc.oneof(fc.constantFrom(...Object.values(OID)), fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 39 }), fc.array(fc.nat(), { maxLength: 3 })).map(([a, b, c]) => [a, b, ...c].join('.')));
  const ava = fc.oneof(
    { weight: 5, arbitrary: fc.tuple(oid, value).map(([o, v]) => stringAva(o, v)) },
    { weight: 1, arbitrary: fc.tuple(oid, fc.uint8Array({ maxLength: 6 })).map(([o, b]) => avaFromValueDer(o, derTlv(0x04, b))) },
  );
  const dn = fc.array(fc.array(ava, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 6 });

  it('parse(print(dn)) equals dn structurally and byte-wise in DER', () => {
    fc.assert(
      fc.property(dn, (d) => {
        const text = formatDn(d);
        const back = parseDn(text);
        expect(dnEquals(back, d)).toBe(true);
        expect(Buffer.from(encodeDn(back)).toString('hex')).toBe(Buffer.from(encodeDn(d)).toString('hex'));
        // The printed form is one line whatever the values hold.
        expect(text).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
      }),
      { numRuns: 2000 },
    );
  });
  it('decode(encode(dn)) prints the same text as dn', () => {
    fc.assert(
      fc.property(dn, (d) => {
        const back = decodeDn(encodeDn(d));
        expect(dnEquals(back, d)).toBe(true);
        expect(parseDn(formatDn(back))).toSatisfy((p: Dn) => dnEquals(p, d));
      }),
      { numRuns: 500 },
    );
  });
});

describe('bad input is a typed error, never a crash (property)', () => {
  const onlyIdentityErrors = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      expect(e).toBeInstanceOf(IdentityError);
    }
  };
  it('decodeDn on random bytes and on mutated valid names', () => {
    const valid = encodeDn(parseDn('C=CH, O=example+CN=gw, 1.2.3.4=#0401ff, E=a@b'));
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }), (random, edits) => {
        onlyIdentityErrors(() => decodeDn(random));
        const m = valid.slice();
        for (const [at, v] of edits) m[at % m.length] = v;
        onlyIdentityErrors(() => formatDn(decodeDn(m)));
      }),
      { numRuns: 3000 },
    );
  });
  it('parseDn on random text', () => {
    const ch = fc.constantFrom('C', 'N', 'O', '=', ',', '+', '/', '\\', '"', '#', ' ', '0', 'a', 'F', '.', '1', '\u00e9');
    fc.assert(
      fc.property(fc.string({ unit: ch, maxLength: 24 }), (t) => onlyIdentityErrors(() => encodeDn(parseDn(t)))),
      { numRuns: 3000 },
    );
  });
});
