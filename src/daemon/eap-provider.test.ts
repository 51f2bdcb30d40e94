import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../crypto/random.js';
import { converse } from '../eap/testing.js';
import type { Credentials, IkeConnectionConfig } from '../ike/config.js';
import { generateKey, issueCertificate, publicKeyOf, TrustStore, type Certificate, type PrivateKey } from '../pki/index.js';
import { daemonEapProvider } from './eap-provider.js';

const NOW = Date.now();
type Cred = { cert: Certificate; key: PrivateKey };
const caKey = generateKey({ type: 'ecdsa', size: 256 });
const ca: Cred = { key: caKey, cert: issueCertificate({ subject: 'CN=Provider CA', publicKey: publicKeyOf(caKey), signingKey: caKey, serial: randomBytes(8), notBefore: NOW - 60_000, notAfter: NOW + 3_600_000, ca: true }) };
function leaf(san: string): Cred {
  const key = generateKey({ type: 'ecdsa', size: 256 });
  return { key, cert: issueCertificate({ subject: `CN=${san}`, publicKey: publicKeyOf(key), issuer: ca.cert, signingKey: ca.key, serial: randomBytes(8), notBefore: NOW - 60_000, notAfter: NOW + 3_600_000, san: [san] }) };
}
const gw = leaf('gw@example.org');
const carol = leaf('carol@example.org');

/** Only what daemonEapProvider reads of a connection: its name and local certificates. */
const conn = (name: string, own?: Cred): IkeConnectionConfig => ({ name, local: { certs: own ? [own.cert] : undefined } }) as unknown as IkeConnectionConfig;
const creds = (...owned: Cred[]): Credentials => ({
  sharedKey: () => undefined,
  privateKeyFor: (c) => owned.find((o) => o.cert === c)?.key,
  trust: new TrustStore([ca.cert]),
});

describe('daemonEapProvider: EAP-TLS with the connection certificate', () => {
  it("runs EAP-TLS with each side's local certificate and logs the negotiated version under the daemon's tls group", async () => {
    const lines: string[] = [];
    const log = (group: string, level: number, message: string): void => void lines.push(`${group} ${level} ${message}`);
    const gateway = daemonEapProvider({ random: seededRandom(1), secrets: () => undefined, connections: () => [conn('rw', gw)], credentials: () => creds(gw), log });
    const client = daemonEapProvider({ random: seededRandom(2), secrets: () => undefined, connections: () => [conn('home', carol)], credentials: () => creds(carol), log });
    const server = gateway.server({ connection: 'rw', methods: ['tls'], ikeIdentity: 'carol@example.org', ownIdentity: 'gw@example.org', peerAddress: '192.0.2.2[4500]', ownAddress: '192.0.2.1[4500]' });
    const peer = client.peer({ connection: 'home', methods: ['tls'], identity: 'carol@example.org', serverIdentity: 'gw@example.org' });
    const c = await converse(server, peer);
    expect(c.server.kind === 'failure' ? c.server.reason : c.server.kind).toBe('success');
    expect(c.peer?.kind).toBe('success');
    expect(lines).toContainEqual(expect.stringMatching(/^tls 1 EAP-TLS with 'carol@example.org': negotiated TLS 1\.3 using suite TLS_\w+$/));
    expect(lines).toContainEqual(expect.stringMatching(/^tls 1 EAP-TLS as 'carol@example.org' with 'gw@example.org': negotiated TLS 1\.3 using suite TLS_\w+$/));
  }, 20_000);
  it('auth = eap-tls without a certificate, or without its key, fails at once naming the connection and what is missing', async () => {
    const request = { connection: 'rw', methods: ['tls'], ikeIdentity: 'carol@example.org', ownIdentity: 'gw@example.org', peerAddress: '192.0.2.2[4500]', ownAddress: '192.0.2.1[4500]' };
    const cases = [
      [conn('rw'), creds(), "connection 'rw' uses EAP-TLS but has no local certificate (local { certs = ... })"],
      [conn('rw', gw), creds(), `connection 'rw' uses EAP-TLS but holds no private key for its certificate "CN=gw@example.org" (swanctl private/)`],
    ] as const;
    for (const [c, held, reason] of cases) {
      const provider = daemonEapProvider({ random: seededRandom(1), secrets: () => undefined, connections: () => [c], credentials: () => held });
      expect(await provider.server(request).start()).toEqual({ kind: 'failure', reason });
      const peer = provider.peer({ connection: 'rw', methods: ['tls'], identity: 'carol@example.org', serverIdentity: 'gw@example.org' });
      expect(await peer.process(Uint8Array.of(1, 1, 0, 6, 13, 0x20))).toEqual({ kind: 'failure', reason });
    }
    // with other methods configured too (eap-dynamic), the others still run: no early failure
    const dynamic = daemonEapProvider({ random: seededRandom(1), secrets: () => undefined, connections: () => [conn('rw')], credentials: () => creds() });
    expect((await dynamic.server({ ...request, methods: ['mschapv2', 'tls'] }).start()).kind).toBe('send');
  }, 20_000);
});
