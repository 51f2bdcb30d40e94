import { describe, expect, it } from 'vitest';
import { IdType, IdentityError, formatIdentity, identityEquals, identityMatches, parseIdentity } from './identity.js';

describe('parseIdentity follows strongSwan identity parsing', () => {
  it.each([
    ['moon.strongswan.org', IdType.ID_FQDN, 'moon.strongswan.org'],
    ['@moon.strongswan.org', IdType.ID_FQDN, 'moon.strongswan.org'],
    ['carol@strongswan.org', IdType.ID_RFC822_ADDR, 'carol@strongswan.org'],
    ['@@carol', IdType.ID_RFC822_ADDR, 'carol'],
    ['192.0.2.1', IdType.ID_IPV4_ADDR, '192.0.2.1'],
    ['2001:db8::1', IdType.ID_IPV6_ADDR, '2001:db8::1'],
    ['@#0a0b', IdType.ID_KEY_ID, '@#0a0b'],
  ])('%s', (text, type, printed) => {
    const id = parseIdentity(text);
    expect(id.type).toBe(type);
    expect(formatIdentity(id)).toBe(printed);
  });
  it('encodes DNs in both syntaxes to the same DER', () => {
    const a = parseIdentity('C=CH, O=strongSwan, CN=moon.strongswan.org');
    const b = parseIdentity('/C=CH/O=strongSwan/CN=moon.strongswan.org');
    expect(a.type).toBe(IdType.ID_DER_ASN1_DN);
    expect(a.data).toEqual(b.data);
    expect(formatIdentity(a)).toBe('C=CH, O=strongSwan, CN=moon.strongswan.org');
  });
  it('rejects bad DNs and KEY_IDs with a message naming the part', () => {
    expect(() => parseIdentity('C=CH, XX=foo')).toThrow(/unknown RDN type 'XX'/);
    expect(() => parseIdentity('@#zz')).toThrow(IdentityError);
  });
  it('matches %any, wildcards and case-insensitive FQDNs', () => {
    const peer = parseIdentity('sun.strongswan.org');
    expect(identityMatches(parseIdentity('%any'), peer)).toBe(true);
    expect(identityMatches(parseIdentity('SUN.strongswan.org'), peer)).toBe(true);
    expect(identityMatches(parseIdentity('*.strongswan.org'), peer)).toBe(true);
    expect(identityMatches(parseIdentity('moon.strongswan.org'), peer)).toBe(false);
    expect(identityMatches(parseIdentity('192.0.2.1'), peer)).toBe(false);
  });
  it('matches DNs by structure, not by printed text (issue 11)', () => {
    const configured = parseIdentity('C=CH, O=example, CN=gw.example');
    const forged = parseIdentity('C=CH, O=example\\, CN=gw.example'); // two RDNs, the O value holds ", CN=gw.example"
    expect(formatIdentity(forged)).toBe('C=CH, O=example\\, CN=gw.example');
    expect(identityMatches(configured, forged)).toBe(false);
    expect(identityMatches(configured, parseIdentity('/C=CH/O=example, CN=gw.example'))).toBe(false);
    expect(identityMatches(configured, parseIdentity('C=CH, O=example+CN=gw.example'))).toBe(false);
    expect(identityMatches(configured, parseIdentity('c=ch,o=EXAMPLE,cn=GW.example'))).toBe(true);
    expect(identityMatches(parseIdentity('C=CH, O=example, CN=*'), forged)).toBe(false);
    expect(identityMatches(parseIdentity('C=CH, O=example, CN=*'), configured)).toBe(true);
    expect(identityEquals(configured, parseIdentity('/C=CH/O=example/CN=gw.example'))).toBe(true);
    expect(identityEquals(configured, forged)).toBe(false);
  });
});
