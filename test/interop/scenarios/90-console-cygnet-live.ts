/**
 * The web console (issue 19) on a real cygnet daemon, in Debian's Chromium, while strongSwan talks to it:
 *
 * - a wrong password is refused on the page, the right one logs in;
 * - strongSwan initiates: the IKE SA and its CHILD SA appear on the open page live (vici ike-updown/child-updown
 *   -> SSE), no reload;
 * - iperf3 through the tunnel (cygnet's TUN): the CHILD SA's traffic chart moves (bytes/s in the SVG);
 * - every page (connections, events, log, pools, certificates) renders from cygnet's vici;
 * - "Down" on the IKE SA: cygnet deletes it, strongSwan drops it too, the card disappears, the console's log
 *   names the user and the action.
 * Screenshots: /tmp/cygnet-console-shots/90-cygnet-live/.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { iperf3 } from '../lib/iperf.js';
import type { ScenarioContext } from '../lib/scenario.js';
import { mirror, pskSwanctlConf } from '../lib/swanctl-conf.js';
import { twoHosts } from '../lib/topology.js';
import { CYGNET_VICI_URI } from '../lib/cygnet.js';
import { cygnetConnection } from './20-cygnet-psk-responder.js';
import { login, navigate, openPage, SHOTS_DIR } from '../../console/browser.js';
import { CONSOLE_PASSWORD, CONSOLE_USER, scenarioBrowser, startConsoleProcess } from '../../console/interop.js';
import type { PageDocument } from '../../console/page-dom.js';
// Runs inside the page (puppeteer callbacks); see page-dom.ts.
declare const document: PageDocument;


export const name = 'console-cygnet-live';
export const timeoutMs = 90_000;

export async function run(ctx: ScenarioContext): Promise<void> {
  const browser = await scenarioBrowser(ctx);
  const h = await twoHosts(ctx.lab);
  const conn = cygnetConnection(h, { proposals: 'aes128gcm16-prfsha256-x25519', esp: 'aes128gcm16' });
  const swan = await ctx.startStrongswan({ ns: h.right.ns, swanctlConf: pskSwanctlConf(mirror(conn)) });
  await swan.loadAll();
  const cyg = await ctx.startCygnet({ ns: h.left.ns, config: pskSwanctlConf(conn), args: ['--tun', 'cyg0', '--debug', 'ike 1, cfg 1, net 1, esp 1, dmn 1'], ready: 'vici' });
  const con = await startConsoleProcess(ctx, cyg.process.pid, CYGNET_VICI_URI.slice('unix://'.length));
  const shotsDir = join(SHOTS_DIR, '90-cygnet-live');
  const w = await openPage(browser, con.url, shotsDir);
  const { page } = w;
  const shots: string[] = [];

  assert.equal(await login(page, CONSOLE_USER, 'guess'), 'wrong user name or password');
  shots.push(await w.shot('failed-login'));
  assert.equal(await login(page, CONSOLE_USER, CONSOLE_PASSWORD), undefined);
  await page.waitForSelector('#no-sas:not([hidden])');
  shots.push(await w.shot('no-sas'));

  // strongSwan brings the tunnel up; the open page shows it without a reload.
  await swan.initiate('net');
  await page.waitForSelector('[data-sa="cyg"] tr[data-child="net"]', { timeout: 10_000 });
  const state = await page.$eval('[data-sa="cyg"] .state', (e) => e.textContent);
  assert.equal(state, 'ESTABLISHED');
  const ikeId = await page.$eval('[data-sa="cyg"]', (e) => e.getAttribute('data-ike-id'));
  shots.push(await w.shot('sa-up-live'));

  // iperf3 through cygnet's TUN: the chart's last rate climbs above 100 kB/s.
  const chart = '[data-chart="cyg/net"] svg';
  const traffic = iperf3(h.right.ns, h.left.ns, h.right.inner4, { seconds: 5, logDir: ctx.dir });
  // Several samples during the transfer, the latest over 100 kB/s (in + out).
  await page.waitForFunction(
    (sel) => {
      const e = document.querySelector(sel);
      return Number(e?.getAttribute('data-points') ?? 0) >= 4 && Number(e?.getAttribute('data-last-in') ?? 0) + Number(e?.getAttribute('data-last-out') ?? 0) > 100_000;
    },
    { timeout: 15_000 },
    chart,
  );
  shots.push(await w.shot('chart-iperf'));
  const result = await traffic;
  const label = await page.$eval(chart, (e) => e.getAttribute('aria-label'));
  ctx.log(`iperf3 ${result.mbps.toFixed(1)} Mbit/s; chart: ${label}`);

  for (const [label, sel] of [
    ['Connections', '[data-conn="cyg"]'],
    ['Events', '.timeline li[data-kind="ike-up"]'],
    ['Log', '.log li'],
    ['Pools', '#status-line'],
    ['Certificates', '#status-line'],
  ] as const) {
    await navigate(page, label);
    await page.waitForSelector(sel, { timeout: 10_000 });
    assert.equal(await page.$('main [role=alert]'), null, `${label}: ${await page.$eval('main', (m) => m.textContent)}`);
    shots.push(await w.shot(label.toLowerCase()));
  }

  await navigate(page, 'Live SAs');
  await page.waitForSelector('[data-sa="cyg"]');
  await page.click(`button[aria-label="Down IKE SA cyg #${ikeId}"]`);
  await page.waitForFunction(() => !document.querySelector('[data-sa="cyg"]'), { timeout: 15_000 });
  await swan.waitNoSas();
  shots.push(await w.shot('sa-down'));
  const log = await con.log();
  assert.match(log, new RegExp(`user 'admin' \\(127\\.0\\.0\\.1\\) terminate ike-id=${ikeId}: success`));
  assert.match(log, /login failed for user 'admin' from 127\.0\.0\.1: wrong password/);
  assert.deepEqual(w.problems, [], 'no script errors or CSP violations in the page');
  console.log(`    console screenshots (${shots.length}) in ${shotsDir}`);
}
