/**
 * The daemon's credentials feeding the connection mapping: a `local { auth = pubkey, id = ... }` without `certs`
 * finds its certificate by id among x509/ and pkcs12/ (as charon does), only one whose private key is loaded.
 */
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadDaemonConfig } from './connections.js';
import { buildPkcs12, certificateToPem, exportPrivateKey, generateKey, issueCertificate, publicKeyOf } from '../pki/index.js';
import { formatIdentity } from '../ike/identity.js';

const NOW = Date.now();
const ca = generateKey({ type: 'ecdsa', size: 256 });
const caCert = issueCertificate({ subject: 'C=CH, O=cygnet, CN=test CA', publicKey: publicKeyOf(ca), signingKey: ca, serial: Uint8Array.of(1), notBefore: NOW - 60_000, notAfter: NOW + 86_400_000, ca: true });
function leaf(cn: string, san: string) {
  const key = generateKey({ type: 'ecdsa', size: 256 });
  const cert = issueCertificate({ subject: `C=CH, O=cygnet, CN=${cn}`, publicKey: publicKeyOf(key), issuer: caCert, signingKey: ca, serial: randomBytes(8), notBefore: NOW - 60_000, notAfter: NOW + 86_400_000, san: [san] });
  return { key, cert };
}

function confDir(files: Record<string, string | Uint8Array>, localId: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'cygnet-creds-'));
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(join(dir, rel, '..'), { recursive: true });
    writeFileSync(join(dir, rel), content);
  }
  writeFileSync(
    join(dir, 'swanctl.conf'),
    `connections {\n c {\n  remote_addrs = 192.0.2.2\n  local {\n   auth = pubkey\n   id = ${localId}\n  }\n  remote {\n   auth = pubkey\n  }\n  children { net { remote_ts = 10.2.0.0/16 } }\n }\n}\n` +
      `secrets {\n pkcs12-a {\n  file = client.p12\n  secret = "pw"\n }\n}\n`,
  );
  return join(dir, 'swanctl.conf');
}

describe('local certificate found by id when no certs = ... is configured', () => {
  it('takes the PKCS#12 bundle certificate that contains the id (seed 001 client)', () => {
    const c = leaf('client', 'client@cygnet.test');
    const p12 = buildPkcs12({ key: c.key, cert: c.cert, chain: [caCert], password: 'pw', random: (n) => new Uint8Array(randomBytes(n)) });
    const path = confDir({ 'pkcs12/client.p12': p12 }, 'client@cygnet.test');
    const { daemon } = loadDaemonConfig(path);
    const conn = daemon.connections[0]!;
    expect(daemon.credentialProblems).toEqual([]);
    expect(conn.local.certs?.map((x) => x.subject.text)).toEqual(['C=CH, O=cygnet, CN=client']);
    expect(formatIdentity(conn.local.id)).toBe('client@cygnet.test');
    expect(daemon.credentials.privateKeyFor?.(conn.local.certs![0]!)).toBeDefined();
  });

  it('takes the x509/ certificate matching the id, not another one, and none without its private key', () => {
    const a = leaf('a', 'a@cygnet.test');
    const b = leaf('b', 'b@cygnet.test');
    const files = {
      'x509/a.crt': certificateToPem(a.cert),
      'x509/b.crt': certificateToPem(b.cert),
      'private/a.key': exportPrivateKey(a.key, 'pem'),
      'x509ca/ca.crt': certificateToPem(caCert),
    };
    expect(loadDaemonConfig(confDir(files, 'a@cygnet.test')).daemon.connections[0]!.local.certs?.map((x) => x.subject.text)).toEqual(['C=CH, O=cygnet, CN=a']);
    // b's key is not loaded: no certificate, and signing later says how to fix it.
    expect(loadDaemonConfig(confDir(files, 'b@cygnet.test')).daemon.connections[0]!.local.certs).toEqual([]);
    expect(loadDaemonConfig(confDir(files, 'nobody@cygnet.test')).daemon.connections[0]!.local.certs).toEqual([]);
  });
});

describe('intermediates under x509ca/', () => {
  it('complete the peer chain when the peer sends only its end-entity certificate', async () => {
    const { validateChain } = await import('../pki/index.js');
    const { loadDaemonCredentials } = await import('./credentials.js');
    const ik = generateKey({ type: 'ecdsa', size: 256 });
    const inter = issueCertificate({ subject: 'C=CH, O=cygnet, CN=inter', publicKey: publicKeyOf(ik), issuer: caCert, signingKey: ca, serial: Uint8Array.of(2), notBefore: NOW - 60_000, notAfter: NOW + 86_400_000, ca: true });
    const pk = generateKey({ type: 'ecdsa', size: 256 });
    const peer = issueCertificate({ subject: 'C=CH, O=cygnet, CN=peer', publicKey: publicKeyOf(pk), issuer: inter, signingKey: ik, serial: Uint8Array.of(3), notBefore: NOW - 60_000, notAfter: NOW + 86_400_000, san: ['peer@cygnet.test'] });
    const path = confDir({ 'x509ca/ca.crt': certificateToPem(caCert), 'x509ca/inter.crt': certificateToPem(inter) }, 'x@cygnet.test');
    const { pki } = loadDaemonCredentials(path);
    const v = validateChain(peer, [], pki.trust, NOW);
    expect(v.ok).toBe(true);
  });
});
