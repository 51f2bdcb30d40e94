/**
 * Onboarding over real HTTP against the scripted vici server (issue 19): create an EAP user for a road-warrior
 * connection (secret loaded over vici, kept in the users file 0600, shown once), download its profiles, a
 * one-time QR link, revoke (secret unloaded, the user's SA terminated), and the refusals.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseUsersFile } from '../../src/console/onboarding.js';
import { Agent, roadSa, startHarness, type Harness } from './harness.js';

let hx: Harness;
let a: Agent;
beforeEach(async () => {
  hx = await startHarness({ onboarding: true });
  a = new Agent(hx.url);
  await a.login();
});
afterEach(async () => {
  await hx.stop();
});

async function json<T>(r: Response): Promise<T> {
  return (await r.json()) as T;
}

describe('console onboarding', () => {
  it('lists the EAP road-warrior connections of the profile configuration', async () => {
    const o = await json<{ enabled: boolean; connections: { name: string; auth: string; eap: boolean }[] }>(await a.fetch('/api/onboarding'));
    expect(o.enabled).toBe(true);
    expect(o.connections).toEqual([{ name: 'rw-eap', auth: 'eap-mschapv2', eap: true, cert: false }]);
  });

  it('creates a user: secret over vici, file 0600, shown once; profiles download; revoking terminates its SA', async () => {
    const r = await a.fetch('/api/onboarding/create', { json: { connection: 'rw-eap', user: 'dave' } });
    expect(r.status).toBe(200);
    const { secret } = await json<{ user: string; secret: string }>(r);
    expect(secret).toMatch(/^[A-Z2-7]{20}$/);
    const file = join(hx.dir, 'users.conf');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const text = await readFile(file, 'utf8');
    expect(text).toMatch(/secrets \{\n {2}# user dave connection=rw-eap created=\S+\n {2}console-eap-dave \{\n {4}id = dave\n {4}secret = "[A-Z2-7]{20}"/);
    expect(parseUsersFile(text)).toEqual([expect.objectContaining({ name: 'dave', connection: 'rw-eap', secret })]);
    // No later answer carries the secret.
    const listing = await (await a.fetch('/api/onboarding')).text();
    expect(listing).toContain('"dave"');
    expect(listing).not.toContain(secret);

    const mc = await a.fetch('/api/onboarding/profile?connection=rw-eap&user=dave&format=mobileconfig');
    expect(mc.status).toBe(200);
    expect(mc.headers.get('content-disposition')).toBe('attachment; filename="rw-eap-dave.mobileconfig"');
    const plist = await mc.text();
    expect(plist).toContain('<string>vpn.example.org</string>');
    expect(plist).toContain('<string>dave</string>');
    expect(plist).not.toContain(secret);
    for (const f of ['windows', 'sswan']) expect((await a.fetch(`/api/onboarding/profile?connection=rw-eap&user=dave&format=${f}`)).status, f).toBe(200);

    const link = await json<{ url: string; qr: string }>(await a.fetch('/api/onboarding/link', { json: { connection: 'rw-eap', user: 'dave', format: 'sswan' } }));
    expect(link.url).toMatch(new RegExp(`^${hx.url}p/[A-Za-z0-9_-]{43}$`));
    expect(Buffer.from(link.qr.replace(/^data:image\/svg\+xml;base64,/, ''), 'base64').toString()).toMatch(/^<svg/);
    // The link works once, without a login, and then never again.
    const phone = new Agent(hx.url);
    const first = await phone.fetch(new URL(link.url).pathname);
    expect(first.status).toBe(200);
    expect(JSON.parse(await first.text())).toMatchObject({ remote: { addr: 'vpn.example.org' } });
    expect((await phone.fetch(new URL(link.url).pathname)).status).toBe(404);

    // dave is connected; revoking unloads the secret and terminates the SA.
    hx.backend.bringUp({ ...roadSa(12), remoteId: 'dave' });
    const rv = await a.fetch('/api/onboarding/revoke', { json: { user: 'dave' } });
    expect(rv.status).toBe(200);
    expect((await json<{ terminated: number }>(rv)).terminated).toBe(1);
    expect(hx.backend.terminated).toContainEqual(expect.objectContaining({ ikeId: 12 }));
    expect(parseUsersFile(await readFile(file, 'utf8'))).toEqual([]);
    expect(hx.logs.join('\n')).toMatch(/user 'admin' created EAP user 'dave' for connection 'rw-eap'[\s\S]*user 'admin' revoked EAP user 'dave' \(1 IKE SA terminated\)/);
  });

  it('refuses bad names, unknown connections, duplicates, unknown users and formats with reasons', async () => {
    const cases: Array<[string, unknown, number, RegExp]> = [
      ['/api/onboarding/create', { connection: 'rw-eap', user: 'a b' }, 400, /may only have letters/],
      ['/api/onboarding/create', { connection: 'nope', user: 'erin' }, 400, /no road-warrior connection 'nope'/],
      ['/api/onboarding/create', { connection: 'rw-eap' }, 400, /'user' must be a non-empty string/],
      ['/api/onboarding/revoke', { user: 'nobody' }, 404, /no user 'nobody'/],
      ['/api/onboarding/link', { connection: 'rw-eap', user: 'nobody', format: 'sswan' }, 404, /no user 'nobody'/],
    ];
    for (const [p, body, status, re] of cases) {
      const r = await a.fetch(p, { json: body });
      expect(r.status, JSON.stringify(body)).toBe(status);
      expect((await json<{ error: string }>(r)).error).toMatch(re);
    }
    expect((await a.fetch('/api/onboarding/create', { json: { connection: 'rw-eap', user: 'erin' } })).status).toBe(200);
    const dup = await a.fetch('/api/onboarding/create', { json: { connection: 'rw-eap', user: 'erin' } });
    expect(dup.status).toBe(409);
    const fmt = await a.fetch('/api/onboarding/profile?connection=rw-eap&user=erin&format=pdf');
    expect(fmt.status).toBe(400);
    expect((await json<{ error: string }>(fmt)).error).toMatch(/format 'pdf' is not one of mobileconfig, windows, sswan/);
    expect((await new Agent(hx.url).fetch(`/p/${'x'.repeat(43)}`)).status).toBe(404);
    // CSRF applies here too.
    expect((await a.fetch('/api/onboarding/create', { json: { connection: 'rw-eap', user: 'frank' }, csrf: null })).status).toBe(403);
  });

  it('is off, saying why, without profile_config', async () => {
    const plain = await startHarness();
    try {
      const b = new Agent(plain.url);
      await b.login();
      expect(await json<{ enabled: boolean; reason: string }>(await b.fetch('/api/onboarding'))).toEqual({ enabled: false, reason: 'no profile_config in the console configuration' });
      expect((await b.fetch('/api/onboarding/create', { json: { connection: 'x', user: 'y' } })).status).toBe(404);
    } finally {
      await plain.stop();
    }
  });
});

describe('console onboarding of certificate users', () => {
  it('issues a PKCS#12 from the configured CA, serves it and its profile, and revokes into a CRL loaded over vici', async () => {
    const { mkdir, writeFile, copyFile } = await import('node:fs/promises');
    const { generateKey } = await import('../../src/pki/keygen.js');
    const { publicKeyOf } = await import('../../src/pki/keys.js');
    const { issueCertificate } = await import('../../src/pki/build.js');
    const { parsePkcs12 } = await import('../../src/pki/pkcs12.js');
    const { parseCrl } = await import('../../src/pki/crl.js');
    const { PROFILE_FIXTURE } = await import('./harness.js');
    const pem = (der: Uint8Array) => `-----BEGIN CERTIFICATE-----\n${Buffer.from(der).toString('base64').replace(/(.{64})/g, '$1\n')}\n-----END CERTIFICATE-----\n`;
    // A CA of our own (the fixture's CA key was not kept) beside a copy of the certificate road-warrior config.
    const base = await startHarness();
    const dir = join(base.dir, 'gw');
    await base.stop();
    await mkdir(join(dir, 'x509ca'), { recursive: true });
    const caKey = generateKey({ type: 'ecdsa', size: 256 });
    const now = Date.now();
    const ca = issueCertificate({ subject: 'C=CH, O=cygnet, CN=console users CA', publicKey: publicKeyOf(caKey), signingKey: caKey, serial: Uint8Array.of(1), notBefore: now - 60_000, notAfter: now + 86_400_000 * 365, ca: true });
    await writeFile(join(dir, 'x509ca', 'ca.pem'), pem(ca.der));
    await writeFile(join(dir, 'ca.key'), caKey.keyObject.export({ type: 'pkcs8', format: 'pem' }));
    await copyFile(join(PROFILE_FIXTURE, '..', 'cert.conf'), join(dir, 'swanctl.conf'));
    const hc = await startHarness({
      config: `profile_config = ${join(dir, 'swanctl.conf')}\nusers_file = ${join(dir, 'users.conf')}\nca_cert = ${join(dir, 'x509ca', 'ca.pem')}\nca_key = ${join(dir, 'ca.key')}\n`,
    });
    try {
      const b = new Agent(hc.url);
      await b.login();
      const o = await json<{ connections: { name: string; cert: boolean }[]; certificates: boolean }>(await b.fetch('/api/onboarding'));
      expect(o.certificates).toBe(true);
      expect(o.connections).toEqual([expect.objectContaining({ name: 'rw-cert', cert: true })]);
      const eapRefused = await b.fetch('/api/onboarding/create', { json: { connection: 'rw-cert', user: 'erin' } });
      expect(eapRefused.status).toBe(400);
      expect((await json<{ error: string }>(eapRefused)).error).toMatch(/authenticates users with pubkey, not an EAP password/);

      const created = await b.fetch('/api/onboarding/create', { json: { connection: 'rw-cert', user: 'erin', kind: 'cert' } });
      expect(created.status).toBe(200);
      const { secret } = await json<{ secret: string }>(created);
      const p12 = new Uint8Array(await (await b.fetch('/api/onboarding/profile?connection=rw-cert&user=erin&format=p12')).arrayBuffer());
      const contents = parsePkcs12(p12, secret);
      const own = contents.certs.find((e) => e.value.subject.text === 'CN=erin');
      expect(own?.value.issuer.text).toBe('C=CH, O=cygnet, CN=console users CA');
      expect(contents.certs.map((e) => e.value.subject.text)).toContain('C=CH, O=cygnet, CN=console users CA');
      expect(contents.keys).toHaveLength(1);
      expect(() => parsePkcs12(p12, 'wrong')).toThrow();
      const mc = await (await b.fetch('/api/onboarding/profile?connection=rw-cert&user=erin&format=mobileconfig')).text();
      expect(mc).toContain('com.apple.security.pkcs12');
      expect(mc).not.toContain(secret);
      expect((await stat(join(dir, 'users.conf.d', 'erin.p12'))).mode & 0o777).toBe(0o600);

      hc.backend.bringUp({ ...roadSa(21), remoteId: 'CN=erin' });
      const rv = await b.fetch('/api/onboarding/revoke', { json: { user: 'erin' } });
      expect(rv.status).toBe(200);
      expect((await json<{ terminated: number }>(rv)).terminated).toBe(1);
      const crl = parseCrl(new Uint8Array(await readFile(join(dir, 'console-users.crl'))));
      expect(crl.revoked).toHaveLength(1);
      expect(Buffer.from(crl.revoked[0]?.serial ?? []).toString('hex')).toMatch(/^[0-9a-f]+$/);
      expect(await readFile(join(dir, 'users.conf'), 'utf8')).toMatch(/^# revoked serial=[0-9a-f]{16} date=\S+$/m);
      expect(hc.logs.join('\n')).toMatch(/revoked certificate user 'erin' \(serial [0-9a-f]{16} in the CRL\) \(1 IKE SA terminated\)/);
      // The daemon got the CRL over vici (load-cert X509_CRL): list-certs of type X509_CRL shows it.
      const { ViciClient } = await import('../../src/vici/client.js');
      const c = await ViciClient.connect(hc.vici.path);
      const crls: unknown[] = [];
      await c.streamedRequest('list-certs', { type: 'X509_CRL' }, 'list-cert', (m) => crls.push(m));
      c.close();
      expect(crls).toHaveLength(1);
    } finally {
      await hc.stop();
    }
  });
});
