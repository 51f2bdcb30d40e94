import { describe, expect, it } from 'vitest';
import { IdType } from './id-type.js';
import { ANY_IDENTITY, formatIdentity, identitiesEqual, identityMatch, IdMatch, parseIdentity } from './identity.js';
import { IdentityError } from './errors.js';

const id = parseIdentity;

describe('identityMatch: a configured identity against a received one (strongSwan id_match_t levels)', () => {
  it.each([
    ['%any', 'C=CH, CN=x', IdMatch.ANY],
    ['C=CH, O=example, CN=gw', 'C=CH, O=example, CN=gw', IdMatch.PERFECT],
    ['C=CH, O=example, CN=gw', 'c=ch, o=Example, cn=GW', IdMatch.PERFECT],
    ['C=CH, O=example, CN=*', 'C=CH, O=example, CN=gw', IdMatch.PERFECT - 1],
    ['C=*, O=*, CN=*', 'C=CH, O=example, CN=gw', IdMatch.PERFECT - 3],
    ['C=CH, O=example, CN=*', 'C=CH, O=example\\, CN=gw', IdMatch.NONE],
    ['C=CH, O=example, CN=gw', 'C=CH, O=example, CN=*', IdMatch.NONE],
    ['gw.example', 'GW.Example', IdMatch.PERFECT],
    ['*.example', 'gw.example', IdMatch.ONE_WILDCARD],
    ['*', 'gw.example', IdMatch.ANY],
    ['gw.example', '*.example', IdMatch.NONE],
    ['*.example', 'example', IdMatch.NONE],
    ['user@example', 'USER@example', IdMatch.PERFECT],
    ['192.0.2.1', '192.0.2.1', IdMatch.PERFECT],
    ['192.0.2.1', 'gw.example', IdMatch.NONE],
    ['@#0a0b', '@#0a0b', IdMatch.PERFECT],
  ])('%s vs %s', (configured, received, level) => {
    expect(identityMatch(id(configured), id(received))).toBe(level);
  });
  it('many wildcards never rank below strongSwan\'s floor', () => {
    const many = Array.from({ length: 20 }, () => `OU=*`).join(', ');
    const dn = Array.from({ length: 20 }, (_, i) => `OU=u${i}`).join(', ');
    expect(identityMatch(id(many), id(dn))).toBe(IdMatch.PERFECT - (IdMatch.ONE_WILDCARD - IdMatch.MAX_WILDCARDS));
  });
  it('ASCII case folding only touches letters', () => {
    expect(identityMatch(id('a@b'), id('a`b'))).toBe(IdMatch.NONE); // '@' | 0x20 === '`'
  });
});

describe('identitiesEqual: two concrete identities', () => {
  it('DNs structurally, with no wildcards', () => {
    expect(identitiesEqual(id('C=CH, CN=gw'), id('/C=CH/CN=GW'))).toBe(true);
    expect(identitiesEqual(id('C=CH, CN=*'), id('C=CH, CN=gw'))).toBe(false);
    expect(identitiesEqual(id('C=CH, O=a, CN=b'), id('C=CH, O=a+CN=b'))).toBe(false);
  });
  it('a malformed DER DN equals only the same bytes', () => {
    const bad = { type: IdType.ID_DER_ASN1_DN, data: Uint8Array.of(0x30, 0x05, 0x31) };
    expect(identitiesEqual(bad, { ...bad })).toBe(true);
    expect(identitiesEqual(bad, id('C=CH'))).toBe(false);
    expect(identityMatch(id('C=CH'), bad)).toBe(IdMatch.NONE);
    expect(formatIdentity(bad)).toBe('DN:300531');
  });
  it('%any equals only %any', () => {
    expect(identitiesEqual(ANY_IDENTITY, id('%any'))).toBe(true);
    expect(identitiesEqual(ANY_IDENTITY, id('gw'))).toBe(false);
  });
});

describe('parseIdentity / formatIdentity', () => {
  it('prints DNs with their escapes and parses them back to the same DER', () => {
    for (const t of ['C=CH, O=example\\, CN=gw', 'C=CH, CN=b+O=a', 'CN=\\#1\\ ', 'CN=a\\0Ab']) {
      const a = id(t);
      expect(formatIdentity(a)).toBe(t);
      expect(id(formatIdentity(a)).data).toEqual(a.data);
    }
  });
  it('bad DN text is a typed error naming it', () => {
    expect(() => id('C=CH, XX=1')).toThrow(IdentityError);
    expect(() => id('C=CH, XX=1')).toThrow(/unknown RDN type 'XX'/);
  });
});
