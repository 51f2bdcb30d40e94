import { describe, expect, it } from 'vitest';
import { authenticatePeer, certPayloadsToSend, decodeCertreq } from '../../src/pki/peer-auth.js';
import { issueCertificate, signCrl } from '../../src/pki/build.js';
import { publicKeyOf, type PrivateKey } from '../../src/pki/keys.js';
import { signAuth } from '../../src/pki/auth.js';
import { TrustStore } from '../../src/pki/validate.js';
import { parseIdentity } from '../../src/ike/identity.js';
import { key } from './helpers.js';

const T0 = Date.UTC(2026, 5, 1);
const DAY = 86400_000;
let serial = 1;
const mk = (subject: string, k: PrivateKey, issuer?: { cert: ReturnType<typeof issueCertificate>; key: PrivateKey }, extra = {}) =>
  issueCertificate({ subject, publicKey: publicKeyOf(k), signingKey: issuer?.key ?? k, ...(issuer ? { issuer: issuer.cert } : {}), serial: Uint8Array.of(serial++), notBefore: T0, notAfter: T0 + 100 * DAY, ...extra });

describe('authenticatePeer', () => {
  const root = mk('CN=Root', key('rsa2048'), undefined, { ca: true });
  const inter = mk('CN=Inter', key('ec384'), { cert: root, key: key('rsa2048') }, { ca: true });
  const leaf = mk('C=CH, CN=sun', key('ec256'), { cert: inter, key: key('ec384') }, { san: ['sun.example.org'] });
  const store = new TrustStore([root]);
  const octets = Uint8Array.of(9, 8, 7);
  const auth = signAuth(key('ec256'), octets, { peerHashes: [2, 3, 4] });
  const base = { certPayloads: [leaf.der, inter.der], store, now: T0 + DAY, peerId: parseIdentity('sun.example.org'), method: auth.method, authData: auth.data, signedOctets: octets };

  it('accepts a valid chain, ID and signature', () => {
    const r = authenticatePeer(base);
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.cert.subject.text).toBe('C=CH, CN=sun');
      expect(r.chain).toHaveLength(3);
      expect(r.scheme).toEqual({ kind: 'ecdsa', hash: 'sha256' });
    }
    expect(authenticatePeer({ ...base, peerId: parseIdentity('C=CH, CN=sun') }).ok).toBe(true);
  });
  it('uses a configured certificate when the peer sends none', () => {
    expect(authenticatePeer({ ...base, certPayloads: [], knownCerts: [leaf], store: new TrustStore([inter]) }).ok).toBe(true);
    expect(authenticatePeer({ ...base, certPayloads: [] })).toMatchObject({ ok: false, code: 'NO_CERT' });
  });
  it('refuses with the right code at each step', () => {
    expect(authenticatePeer({ ...base, certPayloads: [Uint8Array.of(1, 2)] })).toMatchObject({ ok: false, code: 'BAD_CERT', message: expect.stringMatching(/CERT payload 1/) });
    expect(authenticatePeer({ ...base, peerId: parseIdentity('moon.example.org') })).toMatchObject({ ok: false, code: 'ID_NOT_IN_CERT', message: expect.stringMatching(/DNS:sun.example.org/) });
    expect(authenticatePeer({ ...base, certPayloads: [leaf.der] })).toMatchObject({ ok: false, code: 'UNTRUSTED_ISSUER' });
    expect(authenticatePeer({ ...base, now: T0 + 200 * DAY })).toMatchObject({ ok: false, code: 'EXPIRED' });
    const crl = signCrl({ issuer: inter, signingKey: key('ec384'), thisUpdate: T0, nextUpdate: T0 + 10 * DAY, revoked: [{ serial: leaf.serial, date: T0 }], crlNumber: Uint8Array.of(1) });
    expect(authenticatePeer({ ...base, store: new TrustStore([root], [crl]) })).toMatchObject({ ok: false, code: 'REVOKED' });
    expect(authenticatePeer({ ...base, signedOctets: Uint8Array.of(0) })).toMatchObject({ ok: false, code: 'BAD_AUTH', message: expect.stringMatching(/does not verify/) });
    expect(authenticatePeer({ ...base, constraints: { keyType: 'rsa' } })).toMatchObject({ ok: false, code: 'BAD_AUTH' });
  });
});

describe('CERT / CERTREQ helpers', () => {
  const root = mk('CN=Root', key('rsa2048'), undefined, { ca: true });
  const inter = mk('CN=Inter', key('ec384'), { cert: root, key: key('rsa2048') }, { ca: true });
  const leaf = mk('CN=leaf', key('ec256'), { cert: inter, key: key('ec384') });
  it('send_cert policies; roots are never sent', () => {
    expect(certPayloadsToSend(leaf, [inter, root], 'always', false)).toEqual([leaf.der, inter.der]);
    expect(certPayloadsToSend(leaf, [inter], 'ifasked', false)).toEqual([]);
    expect(certPayloadsToSend(leaf, [inter], 'ifasked', true)).toEqual([leaf.der, inter.der]);
    expect(certPayloadsToSend(leaf, [inter], 'never', true)).toEqual([]);
  });
  it('CERTREQ data round trip through the store', () => {
    const store = new TrustStore([root, inter]);
    const hashes = decodeCertreq(store.certreqData());
    expect(hashes).toHaveLength(2);
    expect(store.caForCertreqHash(hashes[1]!)).toBe(inter);
    expect(() => decodeCertreq(new Uint8Array(21))).toThrow(/21 octets/);
  });
});
