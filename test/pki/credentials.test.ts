import { describe, expect, it } from 'vitest';
import { findKeyForCert, loadCertFile, loadCredentialDir, resolveCredentialPath, type CredentialFs } from '../../src/pki/credentials.js';
import { nodeCredentialFs } from '../../src/pki/node-fs.js';
import { exportPrivateKey, publicKeyOf } from '../../src/pki/keys.js';
import { TrustStore, validateChain } from '../../src/pki/validate.js';
import { fixture, FIXTURES, key } from './helpers.js';

/** An in-memory CredentialFs: path -> bytes. */
function memFs(files: Record<string, Uint8Array>): CredentialFs {
  return {
    readFile: (p) => {
      const f = files[p];
      if (!f) throw Object.assign(new Error(`ENOENT: ${p}`), { code: 'ENOENT' });
      return f;
    },
    readdir: (d) => {
      const names = Object.keys(files)
        .filter((p) => p.startsWith(`${d}/`) && !p.slice(d.length + 1).includes('/'))
        .map((p) => p.slice(d.length + 1));
      return names.length ? names : undefined;
    },
  };
}

const enc = (s: string) => new TextEncoder().encode(s);

describe('loadCredentialDir (swanctl layout)', () => {
  const encrypted = enc(key('ec384').keyObject.export({ format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase: 'pw' }) as string);
  const files: Record<string, Uint8Array> = {
    '/etc/swanctl/x509/host.pem': fixture('swan/host.pem'),
    '/etc/swanctl/x509/laptop.pem': fixture('swan/laptop.pem'),
    '/etc/swanctl/x509ca/ca.pem': fixture('swan/ca.pem'),
    '/etc/swanctl/x509crl/ca.crl': fixture('swan/ca.crl'),
    '/etc/swanctl/private/host.key': fixture('swan/rsa2048.key'),
    '/etc/swanctl/ecdsa/laptop.der': exportPrivateKey(key('ec256'), 'der'),
    '/etc/swanctl/ecdsa/ec256.pem': fixture('swan/ec256.key'),
    '/etc/swanctl/pkcs8/enc.pem': encrypted,
    '/etc/swanctl/pkcs12/laptop.p12': fixture('swan/laptop-aes.p12'),
    '/etc/swanctl/private/broken.pem': enc('-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n'),
    '/etc/swanctl/x509/.hidden': enc('ignored'),
    '/etc/swanctl/pubkey/peer.pub': new Uint8Array(publicKeyOf(key('ed25519')).spki),
  };

  it('loads every credential, pairs keys with certificates, and validates with the loaded CA and CRL', () => {
    const c = loadCredentialDir('/etc/swanctl', memFs(files), { secrets: { 'enc.pem': 'pw', 'laptop.p12': 'secret' } });
    expect(c.certs.map((x) => x.value.subject.text)).toEqual(['C=CH, O=strongSwan, CN=vpn.example.com', 'C=DE, O=heap.ovh, CN=Laptop', 'C=DE, O=heap.ovh, CN=Laptop']);
    expect(c.cas.map((x) => x.file)).toEqual(['/etc/swanctl/x509ca/ca.pem', '/etc/swanctl/pkcs12/laptop.p12']);
    expect(c.crls).toHaveLength(1);
    expect(c.keys.map((k) => k.file)).toEqual([
      '/etc/swanctl/private/host.key',
      '/etc/swanctl/ecdsa/ec256.pem',
      '/etc/swanctl/ecdsa/laptop.der',
      '/etc/swanctl/pkcs8/enc.pem',
      '/etc/swanctl/pkcs12/laptop.p12',
    ]);
    expect(c.pubkeys.map((p) => p.value.type)).toEqual(['ed25519']);
    expect(c.errors).toHaveLength(1);
    expect(c.errors[0]!.file).toBe('/etc/swanctl/private/broken.pem');
    expect(c.errors[0]!.message).toMatch(/^\/etc\/swanctl\/private\/broken.pem: /);
    const host = c.certs[0]!.value;
    expect(findKeyForCert(c, host)).toBe(c.keys[0]!.value);
    const laptop = c.certs[1]!.value;
    expect(publicKeyOf(findKeyForCert(c, laptop)!).spki).toEqual(laptop.publicKey.spki);
    const store = new TrustStore(c.cas.map((x) => x.value), c.crls.map((x) => x.value));
    const t = host.notBefore + 1000;
    expect(validateChain(host, [], store, t).ok).toBe(true);
    expect(validateChain(laptop, [], store, t)).toMatchObject({ ok: false, code: 'REVOKED' });
  });

  it('reports a missing passphrase and a wrong PKCS#12 password per file, without stopping', () => {
    const c = loadCredentialDir('/etc/swanctl', memFs(files), { secrets: { 'pkcs12/laptop.p12': 'nope' } });
    const byFile = Object.fromEntries(c.errors.map((e) => [e.file, e]));
    expect(byFile['/etc/swanctl/pkcs8/enc.pem']).toMatchObject({ code: 'NEED_PASSPHRASE', message: expect.stringMatching(/enc.pem: the key is encrypted/) });
    expect(byFile['/etc/swanctl/pkcs12/laptop.p12']).toMatchObject({ code: 'NEED_PASSPHRASE', message: expect.stringMatching(/laptop.p12: integrity check failed/) });
    expect(c.certs.length).toBe(2);
  });

  it('missing folders are fine; relative names resolve under the folder', () => {
    const c = loadCredentialDir('/nowhere', memFs({}));
    expect(c).toEqual({ certs: [], cas: [], crls: [], keys: [], pubkeys: [], errors: [] });
    expect(resolveCredentialPath('/etc/swanctl', 'x509', 'moonCert.pem')).toBe('/etc/swanctl/x509/moonCert.pem');
    expect(resolveCredentialPath('/etc/swanctl', 'x509', '/abs/moon.pem')).toBe('/abs/moon.pem');
    expect(loadCertFile('/etc/swanctl', 'x509ca', 'ca.pem', memFs(files)).subject.text).toBe('C=CH, O=strongSwan, CN=strongSwan Root CA');
    expect(() => loadCertFile('/etc/swanctl', 'x509', 'nope.pem', memFs(files))).toThrow(/\/etc\/swanctl\/x509\/nope.pem: cannot read/);
  });

  it('the node:fs binding reads the fixture folder', () => {
    const names = nodeCredentialFs.readdir(`${FIXTURES}swan`);
    expect(names).toContain('ca.pem');
    expect(nodeCredentialFs.readdir('/definitely/not/here')).toBeUndefined();
  });
});
