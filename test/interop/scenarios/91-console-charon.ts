/**
 * The same console (issue 19) on strongSwan's charon, over charon's own vici socket (/var/run/charon.vici):
 * it lists charon's connections and SAs in Chromium, and its "Down" button makes charon terminate one of two
 * IKE SAs (strongSwan sends the Delete; cygnet, the peer, drops it too) while the other stays.
 * Screenshots: /tmp/cygnet-console-shots/91-charon/.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { ScenarioContext } from '../lib/scenario.js';
import { mirror, pskSwanctlConf } from '../lib/swanctl-conf.js';
import { twoHosts } from '../lib/topology.js';
import { cygnetConnection } from './20-cygnet-psk-responder.js';
import { login, navigate, openPage, SHOTS_DIR } from '../../console/browser.js';
import { CONSOLE_PASSWORD, CONSOLE_USER, scenarioBrowser, startConsoleProcess } from '../../console/interop.js';
import type { PageDocument } from '../../console/page-dom.js';
// Runs inside the page (puppeteer callbacks); see page-dom.ts.
declare const document: PageDocument;


export const name = 'console-charon';
export const timeoutMs = 90_000;

export async function run(ctx: ScenarioContext): Promise<void> {
  const browser = await scenarioBrowser(ctx);
  const h = await twoHosts(ctx.lab);
  // The second connection's inner addresses (charon installs a route with the local one as source).
  await h.left.ns.addAddress('lo', '10.1.0.2/32');
  await h.right.ns.addAddress('lo', '10.2.0.2/32');
  // Two connections between the same peers (different IKE proposals), so charon holds two IKE SAs.
  const a = cygnetConnection(h, { proposals: 'aes128gcm16-prfsha256-x25519', esp: 'aes128gcm16' });
  const b = { ...cygnetConnection(h, { proposals: 'aes256gcm16-prfsha384-ecp384', esp: 'aes256gcm16' }), name: 'cyg2', localId: 'cygnet2@cygnet.test', remoteId: 'swan2@cygnet.test' };
  // Selectors of its own, so neither side sees two CHILD SAs for the same policy.
  b.child = { ...b.child, name: 'net2', localTs: '10.1.0.2/32', remoteTs: '10.2.0.2/32' };
  // Repeated top-level sections merge (strongSwan's settings syntax; cygnet's parser does the same).
  const swanConf = pskSwanctlConf(mirror(a)) + pskSwanctlConf(mirror(b));
  const swan = await ctx.startStrongswan({ ns: h.right.ns, swanctlConf: swanConf });
  await swan.loadAll();
  const cyg = await ctx.startCygnet({ ns: h.left.ns, config: pskSwanctlConf(a) + pskSwanctlConf(b), ready: 'vici' });
  void cyg;
  await swan.initiate('net');
  await swan.initiate('net2');
  const sas = await swan.waitForSa((s) => (s.filter((x) => x.state === 'ESTABLISHED').length === 2 ? s : undefined), 10_000, 'two IKE SAs on charon');

  const con = await startConsoleProcess(ctx, swan.process.pid, '/var/run/charon.vici');
  const shotsDir = join(SHOTS_DIR, '91-charon');
  const w = await openPage(browser, con.url, shotsDir);
  const { page } = w;
  assert.equal(await login(page, CONSOLE_USER, CONSOLE_PASSWORD), undefined);
  await page.waitForSelector('[data-sa="cyg"] tr[data-child="net"]', { timeout: 10_000 });
  await page.waitForSelector('[data-sa="cyg2"] tr[data-child="net2"]', { timeout: 10_000 });
  const shown = await page.$$eval('[data-sa]', (cards) => cards.map((c) => [c.getAttribute('data-sa'), c.getAttribute('data-ike-id'), c.querySelector('.state')?.textContent]));
  ctx.log(`charon's SAs on the page: ${JSON.stringify(shown)}`);
  assert.deepEqual(shown.map((s) => s[2]), ['ESTABLISHED', 'ESTABLISHED']);
  await w.shot('charon-sas');

  await navigate(page, 'Connections');
  await page.waitForSelector('[data-conn="cyg"]');
  await page.waitForSelector('[data-conn="cyg2"]');
  await w.shot('charon-connections');

  await navigate(page, 'Live SAs');
  await page.waitForSelector('[data-sa="cyg2"]');
  const id = shown.find((s) => s[0] === 'cyg2')?.[1];
  await page.click(`button[aria-label="Down IKE SA cyg2 #${id}"]`);
  await page.waitForFunction(() => !document.querySelector('[data-sa="cyg2"]'), { timeout: 15_000 });
  await swan.waitForSa((s) => (s.length === 1 && s[0]?.name === 'cyg' ? s : undefined), 10_000, 'charon keeps only cyg');
  assert.ok(await page.$('[data-sa="cyg"]'), 'the other SA stays on the page');
  await w.shot('charon-one-terminated');
  await navigate(page, 'Events');
  await page.waitForSelector('.timeline li[data-kind="ike-down"]', { timeout: 10_000 });
  await w.shot('charon-events');
  const log = await con.log();
  assert.match(log, new RegExp(`user 'admin' \\(127\\.0\\.0\\.1\\) terminate ike-id=${id}: success`));
  assert.deepEqual(w.problems, [], 'no script errors or CSP violations in the page');
  ctx.log(`before: ${sas.map((s) => s.name).join(', ')}`);
}
