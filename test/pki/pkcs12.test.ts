import { describe, expect, it } from 'vitest';
import { buildPkcs12, certificateForKey, parsePkcs12, pkcs12Kdf } from '../../src/pki/pkcs12.js';
import { publicKeyOf } from '../../src/pki/keys.js';
import { isPkiError } from '../../src/pki/errors.js';
import { seededRandom, randomBytes } from '../../src/crypto/random.js';
import { fixture } from './helpers.js';

describe('PKCS#12', () => {
  it('reads OpenSSL 3 default bundles (PBES2/AES-256, HMAC-SHA256) as in seed 001 (key, cert, CA, names)', () => {
    const p = parsePkcs12(fixture('swan/laptop-aes.p12'), 'secret', 'Client.p12');
    expect(p.keys).toHaveLength(1);
    expect(p.keys[0]!.value).toMatchObject({ type: 'ecdsa', curve: 'P-256' });
    expect(p.keys[0]!.friendlyName).toBe('My own VPN client certificate');
    expect(p.certs.map((c) => c.value.subject.text)).toEqual(['C=DE, O=heap.ovh, CN=Laptop', 'C=CH, O=strongSwan, CN=strongSwan Root CA']);
    expect(p.certs[1]!.friendlyName).toBe('strongSwan Root CA');
    expect(certificateForKey(p.keys[0]!.value, p.certs.map((c) => c.value))?.subject.text).toBe('C=DE, O=heap.ovh, CN=Laptop');
  });
  it('reads 3DES/SHA-1 bundles (PKCS#12 PBE, appendix B KDF)', () => {
    const p = parsePkcs12(fixture('swan/laptop-3des.p12'), 'secret');
    expect(p.keys).toHaveLength(1);
    expect(p.certs).toHaveLength(2);
  });
  it('refuses a wrong password, RC2-40 and garbage with typed errors naming the file', () => {
    const cases: Array<[Uint8Array, string, string, RegExp]> = [
      [fixture('swan/laptop-aes.p12'), 'wrong', 'NEED_PASSPHRASE', /^c\.p12: integrity check failed: wrong password/],
      [fixture('swan/laptop-rc2.p12'), 'secret', 'UNSUPPORTED', /RC2-40/],
      [Uint8Array.of(0x30, 0x03, 0x02, 0x01, 0x03), 'x', 'BAD_PKCS12', /^c\.p12/],
      [Uint8Array.of(1, 2, 3), 'x', 'BAD_PKCS12', /^c\.p12/],
    ];
    for (const [data, pw, code, msg] of cases) {
      try {
        parsePkcs12(data, pw, 'c.p12');
        expect.unreachable();
      } catch (e) {
        expect(isPkiError(e), String(e)).toBe(true);
        expect((e as { code: string }).code).toBe(code);
        expect((e as Error).message).toMatch(msg);
      }
    }
  });
  it('writes bundles that read back (and that openssl/strongSwan read: see cli tests)', () => {
    const src = parsePkcs12(fixture('swan/laptop-aes.p12'), 'secret');
    const rnd = seededRandom(7);
    const der = buildPkcs12({ key: src.keys[0]!.value, cert: src.certs[0]!.value, chain: [src.certs[1]!.value], password: 'pässword', friendlyName: 'me', random: (n) => randomBytes(rnd, n) });
    const back = parsePkcs12(der, 'pässword');
    expect(publicKeyOf(back.keys[0]!.value).spki).toEqual(publicKeyOf(src.keys[0]!.value).spki);
    expect(back.keys[0]!.friendlyName).toBe('me');
    expect(back.certs.map((c) => c.value.der)).toEqual([src.certs[0]!.value.der, src.certs[1]!.value.der]);
    expect(() => parsePkcs12(der, 'password')).toThrow(/wrong password/);
  });
  it('KDF: RFC 7292 appendix B with SHA-1 matches a known OpenSSL value', () => {
    // PKCS12_key_gen_uni("smeg", salt 0A58CF64530D823F, iter 1, id 1, 24 bytes) from OpenSSL's test vectors.
    const k = pkcs12Kdf('sha1', 'smeg', Uint8Array.from(Buffer.from('0a58cf64530d823f', 'hex')), 1, 1, 24);
    expect(Buffer.from(k).toString('hex')).toBe('8aaae6297b6cb04642ab5b077851284eb7128f1a2a7fbca3');
  });
});
