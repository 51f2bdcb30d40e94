/**
 * The console in Debian's headless Chromium against a scripted vici server (issue 19 "Must show", in process):
 * a failed login, a login, an SA coming up live (vici events -> SSE), its traffic chart moving as the counters
 * grow, "Down" pressed and the SA gone, and every page. Screenshots go to /tmp/cygnet-console-shots/unit/.
 * The same flows run against a real cygnet and strongSwan in test/interop/scenarios/90-94.
 * Skips, saying why, when /usr/bin/chromium is absent (the interop suite installs it).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser } from 'puppeteer-core';
import { browserMissing, launch, login, navigate, openPage, SHOTS_DIR, type WatchedPage } from './browser.js';
import { PASSWORD, roadSa, startHarness, USER, type Harness } from './harness.js';
import type { PageDocument } from './page-dom.js';
// Runs inside the page (puppeteer callbacks); see page-dom.ts.
declare const document: PageDocument;


const missing = browserMissing();
if (missing) console.log(`console browser test skipped: ${missing}`);
const shotsDir = join(SHOTS_DIR, 'unit');

describe.skipIf(missing !== undefined)('console in Chromium (scripted daemon)', () => {
  let hx: Harness;
  let browser: Browser;
  let w: WatchedPage;
  const shots: string[] = [];

  beforeAll(async () => {
    hx = await startHarness({ args: { '--sample-interval': '300' }, onboarding: true });
    browser = await launch();
    w = await openPage(browser, hx.url, shotsDir);
  });
  afterAll(async () => {
    await browser?.close();
    await hx?.stop();
    console.log(`console screenshots in ${shotsDir}:\n  ${shots.join('\n  ')}`);
  });

  it('refuses a wrong password with a message, then logs in', async () => {
    const { page } = w;
    await page.waitForSelector('#login-user');
    shots.push(await w.shot('login'));
    expect(await login(page, USER, 'not the password')).toBe('wrong user name or password');
    shots.push(await w.shot('failed-login'));
    expect(await login(page, USER, PASSWORD)).toBeUndefined();
    await page.waitForSelector('[data-sa="gw"]');
    expect(await page.$eval('#user', (e) => e.textContent)).toBe(`Logged in as ${USER}`);
    expect(hx.logs.some((l) => /login failed for user 'admin'/.test(l))).toBe(true);
    expect(hx.logs.some((l) => /user 'admin' logged in from 127\.0\.0\.1/.test(l))).toBe(true);
  });

  it('shows an SA coming up live, and its chart moving with traffic', async () => {
    const { page } = w;
    hx.backend.bringUp(roadSa(9));
    await page.waitForSelector('[data-sa="road"][data-ike-id="9"]', { timeout: 20_000 });
    shots.push(await w.shot('sa-up-live'));
    const chart = '[data-chart="road/roadnet"] svg';
    const down = await page.$('button[aria-label="Down IKE SA road #9"]');
    // The chart plots rates between two samples: keep the counters moving until a sample pair sees traffic (a fixed
    // burst could end before the first sample of the new SA, and a rate is never seen).
    const attr = async (name: string): Promise<number> => Number(await page.$eval(chart, (e, n) => e.getAttribute(n) ?? 0, name).catch(() => 0));
    for (let i = 0; i < 100 && ((await attr('data-last-in')) <= 0 || (await attr('data-points')) < 3); i++) {
      hx.backend.addTraffic(9, 250_000);
      await new Promise((r) => setTimeout(r, 300));
    }
    await page.waitForFunction((sel) => Number(document.querySelector(sel)?.getAttribute('data-last-in') ?? 0) > 0, { timeout: 20_000 }, chart);
    const points = Number(await page.$eval(chart, (e) => e.getAttribute('data-points')));
    expect(points).toBeGreaterThanOrEqual(3);
    const label = await page.$eval(chart, (e) => e.getAttribute('aria-label') ?? '');
    expect(label).toMatch(/^Traffic of road\/roadnet: now [\d.]+ (KiB|MiB|B)\/s in/);
    shots.push(await w.shot('chart-moving'));
    // Samples update the card in place: the button found before the traffic is still the one on the page.
    expect(await down?.evaluate((b) => b.isConnected)).toBe(true);
  });

  it('terminates an SA with its Down button and sees it go; Rekey asks the daemon to rekey', async () => {
    const { page } = w;
    await page.click('button[aria-label="Rekey CHILD SA net {3}"]');
    await page.waitForFunction(() => /Rekey CHILD SA net \{3\}: done/.test(document.getElementById('status-line')?.textContent ?? ''), { timeout: 20_000 });
    expect(hx.backend.rekeyed).toContainEqual(expect.objectContaining({ childId: 3 }));
    await page.click('button[aria-label="Down IKE SA road #9"]');
    await page.waitForFunction(() => !document.querySelector('[data-sa="road"]'), { timeout: 20_000 });
    expect(hx.backend.terminated).toContainEqual(expect.objectContaining({ ikeId: 9 }));
    expect(hx.logs.some((l) => /user 'admin' \(127\.0\.0\.1\) terminate ike-id=9: success/.test(l))).toBe(true);
    shots.push(await w.shot('sa-down'));
  });

  it('shows the event timeline, the log with a level selector, connections, pools and certificates', async () => {
    const { page } = w;
    await navigate(page, 'Events');
    // ike-up and child-up from bringUp, ike-down and the console's own entry from pressing Down.
    await page.waitForFunction(
      () => {
        const kinds = [...document.querySelectorAll('.timeline li')].map((l) => l.getAttribute('data-kind'));
        return ['ike-up', 'child-up', 'ike-down', 'console'].every((k) => kinds.includes(k));
      },
      { timeout: 20_000 },
    );
    shots.push(await w.shot('events'));

    await navigate(page, 'Log');
    expect(await page.$$eval('.log li', (li) => li.map((l) => l.textContent ?? '').join('\n'))).toMatch(/IKE_SA road\[9\] established/);
    await page.select('#log-level', '-1');
    expect(await page.$$eval('.log li', (li) => li.length)).toBe(0);
    await page.select('#log-level', '1');
    shots.push(await w.shot('log'));

    await navigate(page, 'Connections');
    await page.waitForSelector('[data-conn="gw"]');
    shots.push(await w.shot('connections'));
    await page.click('button[aria-label="Up CHILD SA net of gw"]');
    await page.waitForFunction(() => /done/.test(document.getElementById('status-line')?.textContent ?? ''), { timeout: 20_000 });
    expect(hx.backend.initiated).toContainEqual(expect.objectContaining({ child: 'net', ike: 'gw' }));

    await navigate(page, 'Pools');
    await page.waitForSelector('[data-pool="rw-pool"]');
    expect(await page.$eval('[data-pool="rw-pool"]', (e) => e.textContent)).toMatch(/10\.3\.0\.1.*carol@cygnet\.test.*online/);
    shots.push(await w.shot('pools'));

    await navigate(page, 'Certificates');
    await page.waitForSelector('[data-cert-status]');
    const statuses = await page.$$eval('[data-cert-status]', (r) => r.map((x) => [x.getAttribute('data-cert-status'), x.textContent]));
    expect(statuses).toContainEqual(['expiring', expect.stringMatching(/CN=moon.*expires in (9|10) days/)]);
    expect(statuses).toContainEqual(['ok', expect.stringMatching(/cygnet test CA/)]);
    shots.push(await w.shot('certificates'));
  });

  it('creates a road-warrior user, shows its password once, downloads its profile, shows a QR code, revokes it', async () => {
    const { page } = w;
    await navigate(page, 'Onboarding');
    await page.waitForSelector('#ob-user');
    await page.select('#ob-conn', 'rw-eap');
    await page.type('#ob-user', 'dave');
    await page.click('form.login button[type=submit]');
    await page.waitForSelector('#ob-secret');
    const secret = await page.$eval('#ob-secret', (e) => e.textContent ?? '');
    expect(secret).toMatch(/^[A-Z2-7]{20}$/);
    // The profile download link works in the browser's session; the file is kept beside the screenshots.
    const href = await page.$eval('#ob-result a[data-download="mobileconfig"]', (e) => e.getAttribute('href') ?? '');
    const profile = await page.evaluate(async (u) => (await fetch(u)).text(), href);
    expect(profile).toContain('<string>vpn.example.org</string>');
    expect(profile).not.toContain(secret);
    await writeFile(join(shotsDir, 'rw-eap-dave.mobileconfig'), profile);
    await page.click('#ob-result button[data-key="qr-dave-sswan"]');
    await page.waitForSelector('#ob-result img[data-qr="sswan"]');
    shots.push(await w.shot('onboarding-created'));
    // dave connects, then is revoked: the secret goes, and so does the SA.
    hx.backend.bringUp({ ...roadSa(14), remoteId: 'dave' });
    await navigate(page, 'Onboarding');
    await page.waitForSelector('tr[data-user="dave"]');
    await page.click('button[aria-label="Revoke user dave"]');
    await page.waitForFunction(() => !document.querySelector('tr[data-user="dave"]'), { timeout: 20_000 });
    expect(hx.backend.terminated).toContainEqual(expect.objectContaining({ ikeId: 14 }));
    shots.push(await w.shot('onboarding-revoked'));
  });

  it('is usable from the keyboard and labels its controls', async () => {
    const { page } = w;
    await navigate(page, 'Live SAs');
    await page.waitForSelector('[data-sa="gw"]');
    // Every button has an accessible name, every form control a label.
    const unnamed = await page.$$eval('button', (bs) => bs.filter((b) => !(b.getAttribute('aria-label') || b.textContent?.trim())).length);
    expect(unnamed).toBe(0);
    // Tab from the top reaches the skip link, then the navigation.
    // A fresh load (the session cookie keeps us logged in) puts the keyboard at the top of the document.
    await page.reload({ waitUntil: 'domcontentloaded' });
    await page.waitForSelector('[data-sa="gw"]');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Live SAs');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.querySelector('main h1')?.textContent === 'Connections');
    expect(w.problems, 'no script errors or CSP violations in the page').toEqual([]);
  });
});
