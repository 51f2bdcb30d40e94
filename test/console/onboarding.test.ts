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
    expect(o.connections).toEqual([{ name: 'rw-eap', auth: 'eap-mschapv2', eap: true }]);
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
