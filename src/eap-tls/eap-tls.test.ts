import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../crypto/random.js';
import { EapPeer } from '../eap/peer.js';
import { EapServer } from '../eap/server.js';
import { converse } from '../eap/testing.js';
import { generateKey, issueCertificate, publicKeyOf, signCrl, TrustStore, type Certificate, type PrivateKey } from '../pki/index.js';
import { eapTlsPlugin, type EapTlsOptions, type TlsVersion } from './method.js';

const NOW = Date.now();
function ca(name: string): { cert: Certificate; key: PrivateKey } {
  const key = generateKey({ type: 'ecdsa', size: 256 });
  return { key, cert: issueCertificate({ subject: `CN=${name}`, publicKey: publicKeyOf(key), signingKey: key, serial: randomBytes(8), notBefore: NOW - 60_000, notAfter: NOW + 3_600_000, ca: true }) };
}
function leaf(issuer: { cert: Certificate; key: PrivateKey }, san: string, type: 'ecdsa' | 'rsa' = 'ecdsa'): { cert: Certificate; key: PrivateKey } {
  const key = type === 'rsa' ? generateKey({ type: 'rsa', size: 2048 }) : generateKey({ type: 'ecdsa', size: 256 });
  return { key, cert: issueCertificate({ subject: `CN=${san}`, publicKey: publicKeyOf(key), issuer: issuer.cert, signingKey: issuer.key, serial: randomBytes(8), notBefore: NOW - 60_000, notAfter: NOW + 3_600_000, san: [san] }) };
}
const root = ca('EAP Test CA');
const gateway = leaf(root, 'vpn.example.org', 'rsa');
const alice = leaf(root, 'alice@example.org');
const other = ca('Other CA');
const stranger = leaf(other, 'alice@example.org');

const opts = (who: { cert: Certificate; key: PrivateKey }, extra: Partial<EapTlsOptions> = {}): EapTlsOptions => ({ certs: [who.cert], key: who.key, cas: [root.cert], ...extra });

function pair(o: { version?: TlsVersion; client?: { cert: Certificate; key: PrivateKey }; clientIdentity?: string; serverIdentity?: string; fragmentSize?: number; clientCas?: Certificate[]; maxMessageCount?: number } = {}) {
  const v = { ...(o.version === undefined ? {} : { maxVersion: o.version }), ...(o.maxMessageCount === undefined ? {} : { maxMessageCount: o.maxMessageCount }) };
  const server = new EapServer({
    ikeIdentity: o.clientIdentity ?? 'alice@example.org',
    ownIdentity: 'vpn.example.org',
    methods: ['tls'],
    random: seededRandom(5),
    plugins: [eapTlsPlugin(opts(gateway, { ...v, ...(o.fragmentSize ? { fragmentSize: o.fragmentSize } : {}) }))],
  });
  const peer = new EapPeer({
    identity: o.clientIdentity ?? 'alice@example.org',
    serverIdentity: o.serverIdentity ?? 'vpn.example.org',
    methods: ['tls'],
    random: seededRandom(6),
    plugins: [eapTlsPlugin(opts(o.client ?? alice, { ...v, ...(o.clientCas ? { cas: o.clientCas } : {}), ...(o.fragmentSize ? { fragmentSize: o.fragmentSize } : {}) }))],
  });
  return { server, peer };
}

describe('EAP-TLS server <-> peer in process', () => {
  for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
    it(`${version}: mutual certificates, fragments of at most 1024 bytes, the same 64-byte MSK on both sides`, async () => {
      const { server, peer } = pair({ version });
      const c = await converse(server, peer);
      expect(c.server.kind === 'failure' ? c.server.reason : 'success').toBe('success');
      expect(c.peer).toMatchObject({ kind: 'success' });
      if (c.server.kind !== 'success' || c.peer?.kind !== 'success') throw new Error('unreachable');
      expect(c.server.msk?.length).toBe(64);
      expect(c.server.msk).toEqual(c.peer.msk);
      expect(server.method).toBe('tls');
      // the RSA server's certificate flight does not fit one packet: fragments with L on the first, M on all but the last
      const sizes = c.packets.map(([, p]) => p.length);
      expect(Math.max(...sizes)).toBeLessThanOrEqual(1024);
      const firstFragments = c.packets.filter(([w, p]) => w === 'server' && p.length > 9 && ((p[5] ?? 0) & 0xc0) === 0xc0);
      expect(firstFragments.length).toBeGreaterThan(0);
      // TLS data of a first fragment: 1024 - 10 header bytes
      expect(firstFragments[0]?.[1].length).toBe(1024);
    }, 20_000);
  }
  for (const [version, text] of [
    ['TLSv1.2', 'TLS 1.2'],
    ['TLSv1.3', 'TLS 1.3'],
  ] as const) {
    it(`${version}: both sides log the negotiated version and suite in charon's wording, naming the identities`, async () => {
      const lines: string[] = [];
      const log = (level: number, m: string): void => void lines.push(`${level} ${m}`);
      const server = new EapServer({ ikeIdentity: 'alice@example.org', ownIdentity: 'vpn.example.org', methods: ['tls'], random: seededRandom(5), plugins: [eapTlsPlugin(opts(gateway, { maxVersion: version, log }))] });
      const peer = new EapPeer({ identity: 'alice@example.org', serverIdentity: 'vpn.example.org', methods: ['tls'], random: seededRandom(6), plugins: [eapTlsPlugin(opts(alice, { log }))] });
      const c = await converse(server, peer);
      expect(c.server.kind).toBe('success');
      expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^1 EAP-TLS with 'alice@example.org': negotiated ${text} using suite TLS_\\w+$`)));
      expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^1 EAP-TLS as 'alice@example.org' with 'vpn.example.org': negotiated ${text} using suite TLS_\\w+$`)));
    }, 20_000);
  }
  it('smaller fragments still reassemble (both directions fragmented)', async () => {
    const { server, peer } = pair({ fragmentSize: 100, maxMessageCount: 0 });
    const c = await converse(server, peer, 400);
    expect(c.server.kind).toBe('success');
    const acks = c.packets.filter(([, p]) => p.length === 6);
    expect(acks.length).toBeGreaterThan(10);
  }, 20_000);
  it('max_message_count (strongSwan default 32) ends a conversation that needs more packets', async () => {
    const { server, peer } = pair({ fragmentSize: 100 });
    const c = await converse(server, peer, 400);
    const reasons = [c.server, c.peer].map((s) => (s?.kind === 'failure' ? s.reason : ''));
    expect(reasons.join(' ')).toMatch(/EAP-TLS packet count exceeded \(33 > max_message_count 32\)/);
  }, 20_000);
  it('a Start flag from the client is refused', async () => {
    const { server } = pair();
    const start = await server.start();
    const r = await server.process(Uint8Array.of(2, start.eap?.[1] ?? 0, 0, 6, 13, 0x20));
    expect(r).toMatchObject({ kind: 'failure', reason: "EAP-TLS authentication of 'alice@example.org' failed: EAP-TLS Start flag (offset 5) from the client" });
  }, 20_000);
  it('a client certificate under an intermediate CA is accepted when the client sends the intermediate', async () => {
    const subKey = generateKey({ type: 'ecdsa', size: 256 });
    const sub = { key: subKey, cert: issueCertificate({ subject: 'CN=Users Sub CA', publicKey: publicKeyOf(subKey), issuer: root.cert, signingKey: root.key, serial: randomBytes(8), notBefore: NOW - 60_000, notAfter: NOW + 3_600_000, ca: true }) };
    const user = leaf(sub, 'carol@example.org', 'rsa');
    const server = new EapServer({ ikeIdentity: 'carol@example.org', ownIdentity: 'vpn.example.org', methods: ['tls'], random: seededRandom(5), plugins: [eapTlsPlugin(opts(gateway, { maxVersion: 'TLSv1.2' }))] });
    const peer = new EapPeer({ identity: 'carol@example.org', serverIdentity: 'vpn.example.org', methods: ['tls'], random: seededRandom(6), plugins: [eapTlsPlugin({ certs: [user.cert, sub.cert], key: user.key, cas: [root.cert] })] });
    const c = await converse(server, peer);
    expect(c.server.kind === 'failure' ? c.server.reason : c.server.kind).toBe('success');
    expect(c.peer?.kind).toBe('success');
  }, 20_000);
  it('with a TrustStore, a revoked client certificate is refused by the PKI check (CRL)', async () => {
    const crl = signCrl({ issuer: root.cert, signingKey: root.key, thisUpdate: NOW - 60_000, nextUpdate: NOW + 3_600_000, revoked: [{ serial: alice.cert.serial, date: NOW - 30_000 }], crlNumber: Uint8Array.of(1) });
    const trust = new TrustStore([root.cert], [crl]);
    const server = new EapServer({ ikeIdentity: 'alice@example.org', ownIdentity: 'vpn.example.org', methods: ['tls'], random: seededRandom(5), plugins: [eapTlsPlugin(opts(gateway, { trust }))] });
    const peer = new EapPeer({ identity: 'alice@example.org', serverIdentity: 'vpn.example.org', methods: ['tls'], random: seededRandom(6), plugins: [eapTlsPlugin(opts(alice))] });
    const c = await converse(server, peer);
    expect(c.server.kind).toBe('failure');
    if (c.server.kind === 'failure') expect(c.server.reason).toMatch(/^EAP-TLS authentication of 'alice@example.org' failed: the client certificate is not acceptable: .*revoked/i);
    // and the same store without the CRL accepts it
    const ok = await converse(
      new EapServer({ ikeIdentity: 'alice@example.org', ownIdentity: 'vpn.example.org', methods: ['tls'], random: seededRandom(5), plugins: [eapTlsPlugin(opts(gateway, { trust: new TrustStore([root.cert]) }))] }),
      new EapPeer({ identity: 'alice@example.org', serverIdentity: 'vpn.example.org', methods: ['tls'], random: seededRandom(6), plugins: [eapTlsPlugin(opts(alice))] }),
    );
    expect(ok.server.kind === 'failure' ? ok.server.reason : ok.server.kind).toBe('success');
  }, 20_000);
  it('a client certificate from an untrusted CA fails on the server with the TLS reason', async () => {
    const { server, peer } = pair({ client: stranger });
    const c = await converse(server, peer);
    expect(c.server.kind).toBe('failure');
    if (c.server.kind === 'failure') {
      // which certificate and which issuer, in words, then OpenSSL's code
      expect(c.server.reason).toMatch(/^EAP-TLS authentication of 'alice@example.org' failed: the client certificate is not trusted: certificate "CN=alice@example.org" was issued by "CN=Other CA", .* \(OpenSSL: \w+\)$/);
    }
  }, 20_000);
  it('a client certificate for another identity is an identity mismatch', async () => {
    const { server, peer } = pair({ clientIdentity: 'bob@example.org' });
    const c = await converse(server, peer);
    expect(c.server.kind).toBe('failure');
    if (c.server.kind === 'failure') expect(c.server.reason).toMatch(/^EAP-TLS authentication of 'bob@example.org' failed: the client certificate does not contain the identity 'bob@example.org'/);
  }, 20_000);
  it('the peer refuses a server certificate without the expected gateway identity', async () => {
    const { server, peer } = pair({ serverIdentity: 'other.example.org' });
    const c = await converse(server, peer);
    expect(c.peer?.kind).toBe('failure');
    if (c.peer?.kind === 'failure') expect(c.peer.reason).toMatch(/the server certificate does not contain the identity 'other.example.org'/);
  }, 20_000);
  it('TLS 1.3: the peer refuses a server certificate from a CA it does not trust after the handshake and withholds its flight for an alert, so the server fails at once', async () => {
    const { server, peer } = pair({ clientCas: [other.cert] });
    const c = await converse(server, peer);
    expect(c.peer?.kind).toBe('failure');
    if (c.peer?.kind !== 'failure') throw new Error('unreachable');
    expect(c.peer.reason).toMatch(/^EAP-TLS authentication of 'alice@example.org' failed: the server certificate is not trusted: .* \(sending fatal TLS alert 48\)$/);
    expect([...(c.peer.eap ?? new Uint8Array(0)).subarray(-7)]).toEqual([21, 3, 3, 0, 2, 2, 48]);
    expect(c.server.kind).toBe('failure');
  }, 20_000);
  it('TLS 1.2: the peer refuses a server certificate from an untrusted CA before sending its own, with a fatal unknown_ca alert the server reads (RFC 5216 2.1.3)', async () => {
    const { server, peer } = pair({ version: 'TLSv1.2', clientCas: [other.cert] });
    const c = await converse(server, peer);
    expect(c.peer?.kind).toBe('failure');
    if (c.peer?.kind !== 'failure') throw new Error('unreachable');
    expect(c.peer.reason).toMatch(/^EAP-TLS authentication of 'alice@example.org' failed: the server certificate is not trusted: .* \(sending fatal TLS alert 48\)$/);
    // the last Response carries the plaintext alert record: type 21, TLS 1.2, length 2, fatal (2), unknown_ca (48)
    expect([...(c.peer.eap ?? new Uint8Array(0)).subarray(-7)]).toEqual([21, 3, 3, 0, 2, 2, 48]);
    // the client never sent a Certificate: its ClientHello, ACKs of the server's fragments (6 bytes), the alert
    const sent = c.packets.filter(([w]) => w === 'peer').map(([, p]) => p.length);
    expect(sent.slice(1, -1).every((n) => n === 6)).toBe(true);
    expect(sent.at(-1)).toBe(6 + 7);
    expect(c.server.kind).toBe('failure');
    if (c.server.kind === 'failure') expect(c.server.reason).toMatch(/^EAP-TLS authentication of 'alice@example.org' failed: .*unknown ca/i);
  }, 20_000);
  it('TLS 1.2: a server certificate without the gateway identity gets a bad_certificate alert at once', async () => {
    const { server, peer } = pair({ version: 'TLSv1.2', serverIdentity: 'other.example.org' });
    const c = await converse(server, peer);
    if (c.peer?.kind !== 'failure') throw new Error(`peer: ${c.peer?.kind}`);
    expect(c.peer.reason).toMatch(/the server certificate does not contain the identity 'other.example.org'.* \(sending fatal TLS alert 42\)$/);
    expect([...(c.peer.eap ?? new Uint8Array(0)).subarray(-7)]).toEqual([21, 3, 3, 0, 2, 2, 42]);
    expect(c.server.kind === 'failure' ? c.server.reason : c.server.kind).toMatch(/bad certificate/i);
  }, 20_000);
  it('a peer without EAP-TLS Naks it and the server with one method fails', async () => {
    const { server } = pair();
    const peer = new EapPeer({ identity: 'alice@example.org', serverIdentity: 'vpn.example.org', methods: ['mschapv2'], random: seededRandom(1) });
    const c = await converse(server, peer);
    expect(c.server).toMatchObject({ kind: 'failure', reason: "'alice@example.org' refused EAP-TLS and asked for MSCHAPv2" });
  }, 20_000);
  it('garbage TLS records fail with the TLS error', async () => {
    const { server } = pair();
    const start = await server.start();
    const id = start.eap?.[1] ?? 0;
    const r = await server.process(Uint8Array.of(2, id, 0, 11, 13, 0, 0x16, 3, 3, 0, 0));
    expect(r.kind).toBe('failure');
    if (r.kind === 'failure') expect(r.reason).toMatch(/^EAP-TLS authentication of 'alice@example.org' failed: /);
  }, 20_000);
});
