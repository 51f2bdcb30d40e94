import { describe, expect, it } from 'vitest';
import { issueCertificate, signCrl, type CertificateRequest } from '../../src/pki/build.js';
import { loadCertificate, type Certificate } from '../../src/pki/certificate.js';
import { loadCrl } from '../../src/pki/crl.js';
import { publicKeyOf, keyIdSha1, spkiSha1, type PrivateKey } from '../../src/pki/keys.js';
import { OID } from '../../src/pki/oids.js';
import { certMatchesId, TrustStore, validateChain, type ValidationResult } from '../../src/pki/validate.js';
import { IdType, parseIdentity } from '../../src/ike/identity.js';
import { signAuth, verifyAuth } from '../../src/pki/auth.js';
import { fixture, key } from './helpers.js';

const DAY = 86400_000;
const T0 = Date.UTC(2026, 0, 1);
let serialCounter = 1;

function cert(subject: string, k: PrivateKey, issuer: { cert: Certificate; key: PrivateKey } | undefined, extra: Partial<CertificateRequest> = {}): Certificate {
  return issueCertificate({
    subject,
    publicKey: publicKeyOf(k),
    signingKey: issuer?.key ?? k,
    ...(issuer ? { issuer: issuer.cert } : {}),
    serial: Uint8Array.of(serialCounter++),
    notBefore: T0,
    notAfter: T0 + 365 * DAY,
    ...extra,
  });
}

function pki(rootKey: PrivateKey, interKey: PrivateKey, leafKey: PrivateKey) {
  const root = cert('C=CH, O=cygnet, CN=Root CA', rootKey, undefined, { ca: true, notAfter: T0 + 3650 * DAY });
  const inter = cert('C=CH, O=cygnet, CN=Intermediate CA', interKey, { cert: root, key: rootKey }, { ca: true, pathLen: 0 });
  const leaf = cert('C=CH, O=cygnet, CN=moon.example.com', leafKey, { cert: inter, key: interKey }, {
    san: ['moon.example.com', 'moon@example.com', '192.0.2.1', '2001:db8::1'],
    flags: ['serverAuth', 'ikeIntermediate'],
  });
  return { root, inter, leaf };
}

const now = T0 + 10 * DAY;
function expectFail(r: ValidationResult, code: string, msg: RegExp): void {
  expect(r.ok).toBe(false);
  if (!r.ok) {
    expect(r.code).toBe(code);
    expect(r.message).toMatch(msg);
  }
}

describe('chains of three: root -> intermediate -> leaf', () => {
  const combos: Array<[string, Parameters<typeof key>[0], Parameters<typeof key>[0], Parameters<typeof key>[0]]> = [
    ['RSA 4096 / 3072 / 2048', 'rsa4096', 'rsa3072', 'rsa2048'],
    ['ECDSA P-384 / P-256 / P-256', 'ec384', 'ec256', 'ec256b'],
    ['Ed25519 everywhere', 'ed25519', 'ed25519', 'ed25519'],
    ['RSA root, ECDSA intermediate, Ed25519 leaf', 'rsa2048', 'ec384', 'ed25519'],
  ];
  for (const [name, r, i, l] of combos) {
    it(name, () => {
      const { root, inter, leaf } = pki(key(r), key(i), key(l));
      const store = new TrustStore([root]);
      const v = validateChain(leaf, [inter], store, now);
      expect(v.ok).toBe(true);
      if (v.ok) expect(v.chain.map((c) => c.subject.text)).toEqual([leaf.subject.text, inter.subject.text, root.subject.text]);
      // AUTH with the leaf key verifies against the validated certificate
      const octets = Uint8Array.of(1, 2, 3);
      const a = signAuth(key(l), octets, { peerHashes: [2, 3, 4, 5] });
      expect(verifyAuth(leaf, a.method, a.data, octets).ok).toBe(true);
      // intermediate given as a trust anchor works too (strongSwan trusts whatever is in x509ca/)
      expect(validateChain(leaf, [], new TrustStore([inter]), now).ok).toBe(true);
    });
  }
});

describe('refusals', () => {
  const { root, inter, leaf } = pki(key('ec256'), key('ec384'), key('ec256b'));
  const store = new TrustStore([root]);
  const rootRef = { cert: root, key: key('ec256') };
  const interRef = { cert: inter, key: key('ec384') };

  it('EXPIRED and NOT_YET_VALID, for the leaf and for a CA', () => {
    expectFail(validateChain(leaf, [inter], store, T0 + 400 * DAY), 'EXPIRED', /"C=CH, O=cygnet, CN=moon.example.com" expired on 2027-01-01 00:00:00 UTC/);
    expectFail(validateChain(leaf, [inter], store, T0 - DAY), 'NOT_YET_VALID', /moon.example.com.*not valid before 2026-01-01/);
    const oldInter = cert('C=CH, O=cygnet, CN=Intermediate CA', key('ec384'), rootRef, { ca: true, notAfter: T0 + 5 * DAY });
    expectFail(validateChain(leaf, [oldInter], store, now), 'EXPIRED', /intermediate CA certificate "C=CH, O=cygnet, CN=Intermediate CA" expired/);
  });

  it('intermediates known locally fill in for ones the peer did not send', () => {
    expect(validateChain(leaf, [], new TrustStore([root], [], [inter]), now).ok).toBe(true);
    expectFail(validateChain(leaf, [], new TrustStore([], [], [inter]), now), 'UNTRUSTED_ISSUER', /Root CA/);
  });

  it('UNTRUSTED_ISSUER: missing intermediate, unknown root, self-signed leaf', () => {
    expectFail(validateChain(leaf, [], store, now), 'UNTRUSTED_ISSUER', /issued by "C=CH, O=cygnet, CN=Intermediate CA".*sent no intermediate/);
    expectFail(validateChain(leaf, [inter], new TrustStore([]), now), 'UNTRUSTED_ISSUER', /"C=CH, O=cygnet, CN=Root CA".*x509ca/);
    const self = cert('CN=self', key('ec256'), undefined);
    expectFail(validateChain(self, [], store, now), 'UNTRUSTED_ISSUER', /self-signed/);
  });

  it('BAD_SIGNATURE: same CA name, other key; tampered certificate', () => {
    const fakeRoot = cert('C=CH, O=cygnet, CN=Root CA', key('ec384'), undefined, { ca: true });
    // an intermediate signed by the fake root's key but presented under the real root
    const evilInter = cert('C=CH, O=cygnet, CN=Intermediate CA', key('ec384'), { cert: fakeRoot, key: key('ec384') }, { ca: true });
    const leaf2 = cert('CN=x', key('ec256b'), { cert: evilInter, key: key('ec384') });
    const fakeStore = new TrustStore([{ ...root, subjectKeyId: undefined }]);
    expectFail(validateChain(leaf2, [evilInter], fakeStore, now), 'BAD_SIGNATURE', /Intermediate CA.*does not verify with the key of "C=CH, O=cygnet, CN=Root CA"/);
    const tampered = { ...leaf, tbs: leaf.tbs.slice() };
    tampered.tbs[tampered.tbs.length - 40]! ^= 1;
    expectFail(validateChain(tampered, [inter], store, now), 'BAD_SIGNATURE', /moon.example.com/);
  });

  it('NOT_A_CA: an end-entity certificate used as issuer', () => {
    const notCa = cert('CN=not a ca', key('ec384'), rootRef);
    const l = cert('CN=leaf', key('ec256b'), { cert: notCa, key: key('ec384') });
    expectFail(validateChain(l, [notCa], store, now), 'NOT_A_CA', /"CN=not a ca" issued "CN=leaf" but is not a CA.*--ca/);
  });

  it('PATH_LENGTH: pathlen 0 intermediate with another CA below it', () => {
    const sub = cert('CN=Sub CA', key('ed25519'), interRef, { ca: true });
    const l = cert('CN=leaf', key('ec256b'), { cert: sub, key: key('ed25519') });
    expectFail(validateChain(l, [inter, sub], store, now), 'PATH_LENGTH', /Intermediate CA" allows 0 intermediate CA\(s\) below it.*has 1/);
    // without the constraint it passes
    const inter2 = cert('C=CH, O=cygnet, CN=Intermediate CA 2', key('ec384'), rootRef, { ca: true });
    const sub2 = cert('CN=Sub CA 2', key('ed25519'), { cert: inter2, key: key('ec384') }, { ca: true });
    const l2 = cert('CN=leaf2', key('ec256b'), { cert: sub2, key: key('ed25519') });
    expect(validateChain(l2, [sub2, inter2], store, now).ok).toBe(true);
  });

  it('WRONG_KEY_USAGE: leaf without digitalSignature; issuer without keyCertSign', () => {
    const crlOnly = cert('CN=crl signer', key('ec256b'), interRef, { flags: ['crlSign'] });
    expect(validateChain(crlOnly, [inter], store, now).ok).toBe(true); // digitalSignature + cRLSign
    const l = { ...leaf, keyUsage: new Set(['keyEncipherment'] as const) };
    expectFail(validateChain(l, [inter], store, now), 'WRONG_KEY_USAGE', /moon.example.com" has keyUsage keyEncipherment without digitalSignature/);
    const badInter = { ...inter, keyUsage: new Set(['digitalSignature'] as const) };
    expectFail(validateChain(leaf, [badInter], store, now), 'WRONG_KEY_USAGE', /Intermediate CA".*without keyCertSign/);
  });

  it('WRONG_EKU: required serverAuth missing; policy ike', () => {
    const client = cert('CN=client', key('ec256b'), interRef, { flags: ['clientAuth'] });
    expectFail(validateChain(client, [inter], store, now, { requiredEku: [OID.serverAuth] }), 'WRONG_EKU', /lacks the extended key usage serverAuth \(it has: clientAuth\).*--flag serverAuth/);
    expect(validateChain(leaf, [inter], store, now, { requiredEku: [OID.serverAuth] }).ok).toBe(true);
    const mail = { ...client, extKeyUsage: ['1.3.6.1.5.5.7.3.4'] };
    expectFail(validateChain(mail, [inter], store, now, { ekuPolicy: 'ike' }), 'WRONG_EKU', /none of which allows IKE/);
    expect(validateChain(mail, [inter], store, now).ok).toBe(true); // strongSwan's default: EKU not checked
  });

  it('REVOKED by a CRL; a CRL with a bad signature is ignored; an outdated CRL still revokes', () => {
    const crl = signCrl({ issuer: inter, signingKey: key('ec384'), thisUpdate: now - DAY, nextUpdate: now + 15 * DAY, revoked: [{ serial: leaf.serial, date: now - DAY, reason: 'key-compromise' }], crlNumber: Uint8Array.of(1) });
    expectFail(validateChain(leaf, [inter], new TrustStore([root], [crl]), now), 'REVOKED', /moon.example.com" \(serial [0-9a-f:]+\) was revoked on .* \(key compromise\)/);
    // a CRL that does not verify with the CA key (signature altered)
    const sig = crl.signature.slice();
    sig[sig.length - 5]! ^= 0x11;
    const forged = { ...crl, signature: sig };
    expect(() => signCrl({ issuer: inter, signingKey: key('ec256'), thisUpdate: now, nextUpdate: now + DAY, revoked: [], crlNumber: Uint8Array.of(2) })).toThrow(/does not belong/);
    const r = validateChain(leaf, [inter], new TrustStore([root], [forged]), now);
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.warnings.join()).toMatch(/not signed/);
    const stale = validateChain(leaf, [inter], new TrustStore([root], [crl]), now + 20 * DAY);
    expectFail(stale, 'REVOKED', /revoked/);
    // a CRL revoking another serial does not matter
    const other = signCrl({ issuer: inter, signingKey: key('ec384'), thisUpdate: now, nextUpdate: now + DAY, revoked: [{ serial: Uint8Array.of(0x7f, 0x7f), date: now }], crlNumber: Uint8Array.of(3) });
    expect(validateChain(leaf, [inter], new TrustStore([root], [other]), now).ok).toBe(true);
  });

  it('remote cacerts: the chain must pass through one of them (and they count as anchors)', () => {
    expect(validateChain(leaf, [inter], new TrustStore([]), now, { requiredCas: [root] }).ok).toBe(true);
    expect(validateChain(leaf, [inter], store, now, { requiredCas: [inter] }).ok).toBe(true);
    const otherRoot = cert('CN=Other Root', key('ed25519'), undefined, { ca: true });
    expectFail(validateChain(leaf, [inter], store, now, { requiredCas: [otherRoot] }), 'UNTRUSTED_ISSUER', /chains to "C=CH, O=cygnet, CN=Root CA".*"CN=Other Root" \(remote cacerts\)/);
    expectFail(validateChain(leaf, [inter], store, T0 + 400 * DAY, { requiredCas: [root] }), 'EXPIRED', /expired/);
  });

  it('UNSUPPORTED_CRITICAL_EXTENSION', () => {
    const l = { ...leaf, unhandledCritical: ['1.2.3.4'] };
    expectFail(validateChain(l, [inter], store, now), 'UNSUPPORTED_CRITICAL_EXTENSION', /1\.2\.3\.4/);
  });
});

describe('strongSwan-made PKI (pki 5.9.8 fixtures)', () => {
  const ca = loadCertificate(fixture('swan/ca.pem'));
  const host = loadCertificate(fixture('swan/host.pem'));
  const laptop = loadCertificate(fixture('swan/laptop.pem'));
  const crl = loadCrl(fixture('swan/ca.crl'));
  const t = host.notBefore + DAY;
  it('validates host and laptop; the CRL revokes the laptop', () => {
    expect(validateChain(host, [], new TrustStore([ca]), t).ok).toBe(true);
    expect(validateChain(laptop, [], new TrustStore([ca]), t).ok).toBe(true);
    expectFail(validateChain(laptop, [], new TrustStore([ca], [crl]), t), 'REVOKED', /CN=Laptop/);
    expect(validateChain(host, [], new TrustStore([ca], [crl]), t).ok).toBe(true);
  });
  it('CERTREQ data is the SHA-1 of the CA SubjectPublicKeyInfo', () => {
    const store = new TrustStore([ca]);
    expect(Buffer.from(store.certreqData()).toString('hex')).toBe('97baca50bcc452ce6ea82f256b5b4a0d7e59a6b4');
    expect(store.caForCertreqHash(store.certreqData())).toBe(ca);
  });
});

describe('certMatchesId', () => {
  const { leaf } = pki(key('ec256'), key('ec384'), key('ec256b'));
  const dnCert = cert('C=CH, O=cygnet, CN=carol', key('ec256b'), undefined, { san: ['C=CH, CN=alt name'] });
  it('matches FQDN, RFC822, IPv4, IPv6, DN (subject and directoryName SAN), KEY_ID and %any', () => {
    for (const id of ['moon.example.com', 'MOON.example.com', '@moon.example.com', 'moon@example.com', '192.0.2.1', '2001:db8::1', 'C=CH, O=cygnet, CN=moon.example.com', '%any'])
      expect(certMatchesId(leaf, parseIdentity(id))).toEqual({ ok: true });
    expect(certMatchesId(dnCert, parseIdentity('C=CH, O=cygnet, CN=carol')).ok).toBe(true);
    expect(certMatchesId(dnCert, parseIdentity('c=ch,  o=CYGNET, cn=Carol')).ok).toBe(true);
    expect(certMatchesId(dnCert, parseIdentity('C=CH, CN=alt name')).ok).toBe(true);
    expect(certMatchesId(leaf, { type: IdType.ID_KEY_ID, data: keyIdSha1(leaf.publicKey) }).ok).toBe(true);
    expect(certMatchesId(leaf, { type: IdType.ID_KEY_ID, data: spkiSha1(leaf.publicKey) }).ok).toBe(true);
  });
  it('ID_NOT_IN_CERT lists what the certificate contains', () => {
    for (const id of ['sun.example.com', 'sun@example.com', '192.0.2.2', '2001:db8::2', 'C=CH, O=cygnet, CN=sun', '@#0102']) {
      const r = certMatchesId(leaf, parseIdentity(id));
      expect(r.ok).toBe(false);
      if (!r.ok) {
        expect(r.code).toBe('ID_NOT_IN_CERT');
        expect(r.message).toContain('subject "C=CH, O=cygnet, CN=moon.example.com"');
        expect(r.message).toContain('DNS:moon.example.com, email:moon@example.com, IP:192.0.2.1, IP:2001:db8::1');
      }
    }
    // the CN is not an FQDN SAN (strongSwan does not match FQDN IDs against the CN)
    expect(certMatchesId(dnCert, parseIdentity('carol')).ok).toBe(false);
  });
});
