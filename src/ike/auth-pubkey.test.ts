/**
 * verifyPeerCert with swanctl `remote { certs = ... }`: the peer's certificate taken from the configuration when
 * it sends no CERT payload (send_cert = never), and a sent certificate refused when it is not one of them.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CertEncoding, PayloadType, type AuthPayload, type Payload } from './codec/types.js';
import type { IkeConnectionConfig } from './config.js';
import { parseIdentity } from './identity.js';
import { verifyPeerCert } from './auth-pubkey.js';
import { generateKey, issueCertificate, publicKeyOf, signAuth, TrustStore, type Certificate } from '../pki/index.js';

const NOW = Date.now();
const caKey = generateKey({ type: 'ecdsa', size: 256 });
const ca = issueCertificate({ subject: 'CN=CA', publicKey: publicKeyOf(caKey), signingKey: caKey, serial: Uint8Array.of(1), notBefore: NOW - 60_000, notAfter: NOW + 3_600_000, ca: true });
function peer(san: string) {
  const key = generateKey({ type: 'ecdsa', size: 256 });
  const cert = issueCertificate({ subject: `CN=${san}`, publicKey: publicKeyOf(key), issuer: ca, signingKey: caKey, serial: randomBytes(8), notBefore: NOW - 60_000, notAfter: NOW + 3_600_000, san: [san] });
  return { key, cert };
}
const alice = peer('alice@test');
const mallory = peer('mallory@test');
const octets = randomBytes(64);
const creds = { sharedKey: () => undefined, trust: new TrustStore([ca]) };

function conn(remoteCerts?: Certificate[]): IkeConnectionConfig {
  return { name: 'c', remote: { method: 'pubkey', id: parseIdentity('%any'), keyword: {}, ...(remoteCerts ? { certs: remoteCerts } : {}) } } as unknown as IkeConnectionConfig;
}
function auth(key = alice.key): AuthPayload {
  const s = signAuth(key, octets, { peerHashes: [2] });
  return { type: PayloadType.AUTH, critical: false, method: s.method, data: s.data };
}
const certPayload = (c: Certificate): Payload => ({ type: PayloadType.CERT, critical: false, encoding: CertEncoding.X509_CERT_SIGNATURE, data: c.der }) as Payload;

describe('verifyPeerCert and remote certs', () => {
  it('uses the configured certificate when the peer sends no CERT', () => {
    const r = verifyPeerCert(creds, conn([mallory.cert, alice.cert]), [], auth(), octets, parseIdentity('alice@test'), NOW);
    expect(r).toMatchObject({ ok: true, subject: 'CN=alice@test' });
  });
  it('still validates the configured certificate and the signature', () => {
    const r = verifyPeerCert(creds, conn([alice.cert]), [], auth(mallory.key), octets, parseIdentity('alice@test'), NOW);
    expect(r.ok).toBe(false);
    const untrusted = verifyPeerCert({ ...creds, trust: new TrustStore([]) }, conn([alice.cert]), [], auth(), octets, parseIdentity('alice@test'), NOW);
    expect(untrusted).toMatchObject({ ok: false, message: expect.stringContaining('CN=alice@test') });
  });
  it('says which configured certificates did not match the identity', () => {
    const r = verifyPeerCert(creds, conn([mallory.cert]), [], auth(), octets, parseIdentity('alice@test'), NOW);
    expect(r).toMatchObject({ ok: false, message: expect.stringMatching(/none of the connection's remote certs \("CN=mallory@test"\) contains its identity/) });
    const none = verifyPeerCert(creds, conn(), [], auth(), octets, parseIdentity('alice@test'), NOW);
    expect(none).toMatchObject({ ok: false, message: expect.stringContaining('send_cert') });
  });
  it('refuses a sent certificate that is not one of the remote certs', () => {
    const r = verifyPeerCert(creds, conn([mallory.cert]), [certPayload(alice.cert)], auth(), octets, parseIdentity('alice@test'), NOW);
    expect(r).toMatchObject({ ok: false, message: expect.stringContaining(`is not one of the connection's remote certs`) });
    expect(verifyPeerCert(creds, conn([alice.cert]), [certPayload(alice.cert)], auth(), octets, parseIdentity('alice@test'), NOW).ok).toBe(true);
  });
});
