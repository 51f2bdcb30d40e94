import { describe, expect, it } from 'vitest';
import { certreqHash, certSignedBy, loadCertificate, parseCertificates, subjectKeyIdOf } from '../../src/pki/certificate.js';
import { hexColon } from '../../src/pki/der.js';
import { isPkiError } from '../../src/pki/errors.js';
import { describeKey, exportPrivateKey, loadPrivateKey, loadPublicKey, publicKeyOf, exportPublicKey } from '../../src/pki/keys.js';
import { generateKey } from '../../src/pki/keygen.js';
import { OID } from '../../src/pki/oids.js';
import { fixture, key } from './helpers.js';

describe('certificates made by strongSwan pki 5.9.8 (test/fixtures/pki/swan)', () => {
  const ca = loadCertificate(fixture('swan/ca.pem'), 'ca.pem');
  const host = loadCertificate(fixture('swan/host.pem'), 'host.pem');
  const laptop = loadCertificate(fixture('swan/laptop.pem'), 'laptop.pem');

  it('parses the CA as `pki --print` shows it', () => {
    expect(ca.subject.text).toBe('C=CH, O=strongSwan, CN=strongSwan Root CA');
    expect(ca.selfSigned).toBe(true);
    expect(ca.basicConstraints).toEqual({ ca: true, critical: true });
    expect([...ca.keyUsage!]).toEqual(['keyCertSign', 'cRLSign']);
    expect(hexColon(subjectKeyIdOf(ca))).toBe('15:06:0b:1c:97:2e:9d:32:a0:7b:31:45:b6:bf:a2:0b:c2:a7:c9:ce');
    // pki --print "keyid": SHA-1 of the SubjectPublicKeyInfo (the CERTREQ hash, RFC 7296 3.7)
    expect(hexColon(certreqHash(ca))).toBe('97:ba:ca:50:bc:c4:52:ce:6e:a8:2f:25:6b:5b:4a:0d:7e:59:a6:b4');
    expect(describeKey(ca.publicKey)).toBe('RSA 4096 bits');
    expect(ca.version).toBe(3);
  });

  it('parses the host certificate: SAN, EKU serverAuth + ikeIntermediate, CRL URI, key ids', () => {
    expect(host.subject.text).toBe('C=CH, O=strongSwan, CN=vpn.example.com');
    expect(host.issuer.text).toBe(ca.subject.text);
    expect(host.serialHex).toBe('2b:90:41:2c:73:df:a9:88');
    expect(host.subjectAltNames).toEqual([{ type: 'dns', value: 'vpn.example.com' }]);
    expect(host.extKeyUsage).toEqual([OID.serverAuth, OID.ikeIntermediate]);
    expect(host.crlDistributionPoints).toEqual(['http://crl.example.com/ca.crl']);
    expect(hexColon(host.authorityKeyId!)).toBe('15:06:0b:1c:97:2e:9d:32:a0:7b:31:45:b6:bf:a2:0b:c2:a7:c9:ce');
    expect(hexColon(subjectKeyIdOf(host))).toBe('09:27:55:a0:6c:e3:0e:d6:9c:67:9d:4e:30:2c:24:23:9a:30:db:98');
    expect(hexColon(certreqHash(host))).toBe('61:35:3b:da:e3:93:6d:0d:99:0d:b6:05:49:c3:23:01:80:c6:6b:72');
    expect(host.signatureScheme).toEqual({ kind: 'rsa-pkcs1', hash: 'sha384' });
    expect(certSignedBy(host, ca.publicKey)).toBe(true);
    expect(certSignedBy(host, host.publicKey)).toBe(false);
    expect(host.notAfter - host.notBefore).toBe(730 * 86400_000);
  });

  it('parses SAN of several types', () => {
    expect(laptop.subjectAltNames.map((g) => g.type)).toEqual(['dns', 'email', 'ip']);
    expect(laptop.subjectAltNames[2]).toMatchObject({ text: '192.0.2.7' });
    expect(describeKey(laptop.publicKey)).toBe('ECDSA 256 bits');
  });

  it('reads several certificates from one PEM', () => {
    const both = new Uint8Array([...fixture('swan/ca.pem'), ...fixture('swan/host.pem')]);
    expect(parseCertificates(both).map((c) => c.subject.text)).toEqual([ca.subject.text, host.subject.text]);
  });

  it('refuses garbage with BAD_CERT naming the input', () => {
    for (const bad of [new Uint8Array([1, 2, 3]), new TextEncoder().encode('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n'), fixture('swan/rsa2048.key')]) {
      try {
        loadCertificate(bad, 'x.pem');
        expect.unreachable();
      } catch (e) {
        expect(isPkiError(e)).toBe(true);
        expect((e as Error).message).toMatch(/^x\.pem/);
      }
    }
  });
});

describe('keys', () => {
  it('loads PKCS#1, SEC1 and PKCS#8 PEM written by strongSwan', () => {
    expect(key('rsa2048')).toMatchObject({ type: 'rsa', bits: 2048 });
    expect(loadPrivateKey(fixture('swan/ec256.key'))).toMatchObject({ type: 'ecdsa', curve: 'P-256', bits: 256 });
    expect(loadPrivateKey(fixture('swan/ec384.key'))).toMatchObject({ type: 'ecdsa', curve: 'P-384' });
    expect(loadPrivateKey(fixture('swan/ed25519.key'))).toMatchObject({ type: 'ed25519' });
  });

  for (const t of ['rsa2048', 'ec256', 'ec384', 'ed25519'] as const) {
    it(`${t}: DER and PEM, native and PKCS#8, encrypted PKCS#8`, () => {
      const k = key(t);
      const spki = publicKeyOf(k).spki;
      for (const form of ['pem', 'der'] as const)
        for (const fmt of ['native', 'pkcs8'] as const) {
          const again = loadPrivateKey(exportPrivateKey(k, form, fmt));
          expect(publicKeyOf(again).spki).toEqual(spki);
        }
      const enc = k.keyObject.export({ format: 'der', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase: 'secret' });
      expect(publicKeyOf(loadPrivateKey(new Uint8Array(enc), { passphrase: 'secret' })).spki).toEqual(spki);
      const encPem = k.keyObject.export({ format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase: 'secret' }) as string;
      expect(publicKeyOf(loadPrivateKey(new TextEncoder().encode(encPem), { passphrase: 'secret' })).spki).toEqual(spki);
      for (const data of [new Uint8Array(enc), new TextEncoder().encode(encPem)]) {
        expect(() => loadPrivateKey(data, { name: 'k.pem' })).toThrow(/k\.pem: the key is encrypted/);
        try {
          loadPrivateKey(data, { passphrase: 'wrong', name: 'k.pem' });
          expect.unreachable();
        } catch (e) {
          expect(isPkiError(e, 'NEED_PASSPHRASE')).toBe(true);
        }
      }
      // Any wrong passphrase is reported as one, also the ~1 in 256 that decrypts to garbage with valid CBC padding
      // (OpenSSL then names an ASN.1 error, not "bad decrypt"): 600 tries meet such a one with probability ~0.9.
      if (t === 'ec384') {
        const wrongKinds = new Set<string>();
        for (let i = 0; i < 600; i++) {
          try {
            loadPrivateKey(new Uint8Array(enc), { passphrase: `wrong-${i}`, name: 'k.der' });
            expect.unreachable();
          } catch (e) {
            wrongKinds.add(isPkiError(e, 'NEED_PASSPHRASE') ? 'NEED_PASSPHRASE' : String(e));
          }
        }
        expect([...wrongKinds]).toEqual(['NEED_PASSPHRASE']);
      }
      // public keys: SPKI PEM/DER, and a private key file gives its public half
      expect(loadPublicKey(exportPublicKey(publicKeyOf(k), 'pem')).spki).toEqual(spki);
      expect(loadPublicKey(spki).spki).toEqual(spki);
      expect(loadPublicKey(exportPrivateKey(k, 'pem')).spki).toEqual(spki);
    });
  }

  it('legacy encrypted PKCS#1 PEM (Proc-Type: 4,ENCRYPTED)', () => {
    const pem = key('rsa2048').keyObject.export({ format: 'pem', type: 'pkcs1', cipher: 'aes-128-cbc', passphrase: 'pw' }) as string;
    expect(pem).toContain('Proc-Type');
    expect(loadPrivateKey(new TextEncoder().encode(pem), { passphrase: 'pw' }).bits).toBe(2048);
    expect(() => loadPrivateKey(new TextEncoder().encode(pem))).toThrow(/encrypted/);
  });

  it('refuses garbage and unsupported curves with typed errors', () => {
    expect(() => loadPrivateKey(new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x00]), { name: 'a.der' })).toThrow(/a\.der/);
    expect(() => loadPrivateKey(new TextEncoder().encode('hello'))).toThrow();
    expect(() => generateKey({ type: 'ecdsa', size: 224 })).toThrow(/224/);
    expect(() => generateKey({ type: 'rsa', size: 1000 })).toThrow(/1000/);
  });
});
