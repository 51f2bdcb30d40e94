/**
 * The one peer-certificate path (src/ike/auth-pubkey.ts), with the cases that test/pki/peer-auth.test.ts proved on
 * the removed duplicate src/pki/peer-auth.ts (issue 12): chain + ID + AUTH accepted; each refusal names its cause;
 * send_cert policies with roots never sent; CERTREQ data round trip.
 */
import { describe, expect, it } from 'vitest';
import { certPayloads, verifyPeerCert } from '../../src/ike/auth-pubkey.js';
import { CertEncoding, PayloadType, type AuthPayload, type Payload } from '../../src/ike/codec/types.js';
import type { IkeConnectionConfig } from '../../src/ike/config.js';
import { parseIdentity } from '../../src/ike/identity.js';
import { signAuth } from '../../src/pki/auth.js';
import { issueCertificate, signCrl } from '../../src/pki/build.js';
import type { Certificate } from '../../src/pki/certificate.js';
import { publicKeyOf, type PrivateKey } from '../../src/pki/keys.js';
import { decodeCertreq, TrustStore } from '../../src/pki/validate.js';
import type { VerifyAuthOptions } from '../../src/pki/auth.js';
import { key } from '../pki/helpers.js';

const T0 = Date.UTC(2026, 5, 1);
const DAY = 86400_000;
let serial = 1;
const mk = (subject: string, k: PrivateKey, issuer?: { cert: Certificate; key: PrivateKey }, extra = {}) =>
  issueCertificate({ subject, publicKey: publicKeyOf(k), signingKey: issuer?.key ?? k, ...(issuer ? { issuer: issuer.cert } : {}), serial: Uint8Array.of(serial++), notBefore: T0, notAfter: T0 + 100 * DAY, ...extra });

function conn(o: { remoteCerts?: Certificate[]; keyword?: VerifyAuthOptions; localCerts?: Certificate[]; sendCert?: string } = {}): IkeConnectionConfig {
  return {
    name: 'c',
    sendCert: o.sendCert ?? 'always',
    local: { method: 'pubkey', id: parseIdentity('%any'), ...(o.localCerts ? { certs: o.localCerts } : {}) },
    remote: { method: 'pubkey', id: parseIdentity('%any'), keyword: o.keyword ?? {}, ...(o.remoteCerts ? { certs: o.remoteCerts } : {}) },
  } as unknown as IkeConnectionConfig;
}
const certPayload = (der: Uint8Array): Payload => ({ type: PayloadType.CERT, critical: false, encoding: CertEncoding.X509_CERT_SIGNATURE, data: der }) as Payload;

describe('verifyPeerCert: chain, identity and AUTH of the peer (RFC 7296 2.15, 3.6; RFC 4945 3.1)', () => {
  const root = mk('CN=Root', key('rsa2048'), undefined, { ca: true });
  const inter = mk('CN=Inter', key('ec384'), { cert: root, key: key('rsa2048') }, { ca: true });
  const leaf = mk('C=CH, CN=sun', key('ec256'), { cert: inter, key: key('ec384') }, { san: ['sun.example.org'] });
  const creds = { sharedKey: () => undefined, trust: new TrustStore([root]) };
  const octets = Uint8Array.of(9, 8, 7);
  const s = signAuth(key('ec256'), octets, { peerHashes: [2, 3, 4] });
  const auth: AuthPayload = { type: PayloadType.AUTH, critical: false, method: s.method, data: s.data };
  const sent = [certPayload(leaf.der), certPayload(inter.der)];
  const sun = parseIdentity('sun.example.org');
  const verify = (o: { c?: IkeConnectionConfig; payloads?: Payload[]; id?: ReturnType<typeof parseIdentity>; now?: number; trust?: TrustStore; octets?: Uint8Array } = {}) =>
    verifyPeerCert({ ...creds, ...(o.trust ? { trust: o.trust } : {}) }, o.c ?? conn(), o.payloads ?? sent, auth, o.octets ?? octets, o.id ?? sun, o.now ?? T0 + DAY);

  it('accepts a valid chain, ID (SAN or subject DN) and signature', () => {
    expect(verify()).toEqual({ ok: true, label: expect.stringMatching(/ECDSA/i), subject: 'C=CH, CN=sun' });
    expect(verify({ id: parseIdentity('C=CH, CN=sun') }).ok).toBe(true);
  });

  it('uses a configured certificate when the peer sends none, and says so when there is none', () => {
    expect(verify({ payloads: [], c: conn({ remoteCerts: [leaf] }), trust: new TrustStore([inter]) }).ok).toBe(true);
    expect(verify({ payloads: [] })).toMatchObject({ ok: false, message: expect.stringMatching(/peer sent no certificate/) });
  });

  it('refuses with the cause at each step', () => {
    expect(verify({ payloads: [certPayload(Uint8Array.of(1, 2))] })).toMatchObject({ ok: false, message: expect.stringMatching(/unreadable certificate.*CERT payload/) });
    expect(verify({ id: parseIdentity('moon.example.org') })).toMatchObject({ ok: false, message: expect.stringMatching(/DNS:sun.example.org/) });
    expect(verify({ payloads: [certPayload(leaf.der)] })).toMatchObject({ ok: false, message: expect.stringMatching(/\(UNTRUSTED_ISSUER\)/) });
    expect(verify({ now: T0 + 200 * DAY })).toMatchObject({ ok: false, message: expect.stringMatching(/\(EXPIRED\)/) });
    const crl = signCrl({ issuer: inter, signingKey: key('ec384'), thisUpdate: T0, nextUpdate: T0 + 10 * DAY, revoked: [{ serial: leaf.serial, date: T0 }], crlNumber: Uint8Array.of(1) });
    expect(verify({ trust: new TrustStore([root], [crl]) })).toMatchObject({ ok: false, message: expect.stringMatching(/\(REVOKED\)/) });
    expect(verify({ octets: Uint8Array.of(0) })).toMatchObject({ ok: false, message: expect.stringMatching(/does not verify/) });
    expect(verify({ c: conn({ keyword: { keyType: 'rsa' } }) }).ok).toBe(false);
  });
});

describe('CERT / CERTREQ (RFC 7296 3.6, 3.7)', () => {
  const root = mk('CN=Root', key('rsa2048'), undefined, { ca: true });
  const inter = mk('CN=Inter', key('ec384'), { cert: root, key: key('rsa2048') }, { ca: true });
  const leaf = mk('CN=leaf', key('ec256'), { cert: inter, key: key('ec384') });
  const ders = (p: { data: Uint8Array }[]) => p.map((x) => x.data);

  it('send_cert policies; roots are never sent', () => {
    expect(ders(certPayloads(conn({ localCerts: [leaf, inter, root], sendCert: 'always' }), false))).toEqual([leaf.der, inter.der]);
    expect(certPayloads(conn({ localCerts: [leaf, inter], sendCert: 'ifasked' }), false)).toEqual([]);
    expect(ders(certPayloads(conn({ localCerts: [leaf, inter], sendCert: 'ifasked' }), true))).toEqual([leaf.der, inter.der]);
    expect(certPayloads(conn({ localCerts: [leaf, inter], sendCert: 'never' }), true)).toEqual([]);
    // A self-signed end entity is still our certificate, and is sent.
    expect(ders(certPayloads(conn({ localCerts: [root], sendCert: 'always' }), false))).toEqual([root.der]);
  });

  it('CERTREQ data round trip through the store', () => {
    const store = new TrustStore([root, inter]);
    const hashes = decodeCertreq(store.certreqData());
    expect(hashes).toHaveLength(2);
    expect(store.caForCertreqHash(hashes[1]!)).toBe(inter);
    expect(() => decodeCertreq(new Uint8Array(21))).toThrow(/21 octets/);
  });
});
