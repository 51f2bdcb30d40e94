/**
 * Onboarding (issue 19) end to end with real IKE: the console on a strongSwan gateway's vici (charon, road
 * warriors with EAP-MD5 and a pool) creates the user 'dave' in Chromium, hands out its .sswan profile, and a
 * strongSwan road warrior logs in with the password the page showed; the console shows dave's SA live. Revoking
 * dave unloads the secret and terminates the SA; dave cannot log in again.
 * (charon as the gateway: cygnet's own EAP server is issue 14's; the console only speaks vici, so it is the
 * same code either way. EAP-MD5 because Debian's charon here has no eap-mschapv2 plugin.)
 * Screenshots: /tmp/cygnet-console-shots/92-onboarding/.
 */
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { issue, makeCa } from '../lib/pki.js';
import type { ScenarioContext } from '../lib/scenario.js';
import { DEFAULT_PLUGINS } from '../lib/strongswan.js';
import { twoHosts } from '../lib/topology.js';
import { login, navigate, openPage, SHOTS_DIR } from '../../console/browser.js';
import { CONSOLE_PASSWORD, CONSOLE_USER, scenarioBrowser, startConsoleProcess } from '../../console/interop.js';
import type { PageDocument } from '../../console/page-dom.js';

// Runs inside the page (puppeteer callbacks); see page-dom.ts.
declare const document: PageDocument;

export const name = 'console-onboarding-charon';
export const timeoutMs = 90_000;

const PLUGINS = [...DEFAULT_PLUGINS, 'eap-identity', 'eap-md5', 'md5'];

function gatewayConf(addr: string): string {
  return `connections {
  rw-eap {
    local_addrs = ${addr}
    pools = rw-pool
    send_cert = always
    local {
      auth = pubkey
      certs = gateway.crt
      id = vpn.cygnet.test
    }
    remote {
      auth = eap-md5
      eap_id = %any
    }
    children {
      rw {
        local_ts = 10.2.0.0/16
      }
    }
  }
}
pools {
  rw-pool {
    addrs = 10.3.0.0/24
  }
}
`;
}

function clientConf(server: string, user: string, secret: string): string {
  return `connections {
  home {
    remote_addrs = ${server}
    vips = 0.0.0.0
    local {
      auth = eap-md5
      eap_id = ${user}
    }
    remote {
      auth = pubkey
      id = vpn.cygnet.test
    }
    children {
      home {
        remote_ts = 10.2.0.0/16
      }
    }
  }
}
secrets {
  eap-${user} {
    id = ${user}
    secret = "${secret}"
  }
}
`;
}

export async function run(ctx: ScenarioContext): Promise<void> {
  const browser = await scenarioBrowser(ctx);
  const h = await twoHosts(ctx.lab);
  const pkiDir = await ctx.subdir('pki');
  const ca = await makeCa(pkiDir, 'ca');
  const gw = await issue(pkiDir, 'gateway', ca, { dn: 'C=CH, O=cygnet, CN=vpn.cygnet.test', san: ['vpn.cygnet.test'], flags: ['serverAuth'] });
  const conf = gatewayConf(h.right.outer4);
  const swan = await ctx.startStrongswan({
    ns: h.right.ns,
    label: 'gateway',
    swanctlConf: conf,
    plugins: PLUGINS,
    files: { 'x509/gateway.crt': gw.certPem, 'private/gateway.key': gw.keyPem, 'x509ca/ca.crt': ca.certPem },
  });
  await swan.loadAll();

  // The console reads the gateway's swanctl.conf (and its CA beside it) for profiles.
  const profileDir = await ctx.subdir('profile-config');
  await mkdir(join(profileDir, 'x509ca'), { recursive: true });
  await mkdir(join(profileDir, 'x509'), { recursive: true });
  await writeFile(join(profileDir, 'swanctl.conf'), conf);
  await writeFile(join(profileDir, 'x509ca', 'ca.crt'), ca.certPem);
  await writeFile(join(profileDir, 'x509', 'gateway.crt'), gw.certPem);
  const con = await startConsoleProcess(ctx, swan.process.pid, '/var/run/charon.vici', {
    config: `profile_config = ${join(profileDir, 'swanctl.conf')}\nprofile_server = ${h.right.outer4}\nusers_file = ${join(profileDir, 'console-users.conf')}\n`,
  });
  const shotsDir = join(SHOTS_DIR, '92-onboarding');
  const w = await openPage(browser, con.url, shotsDir);
  const { page } = w;
  assert.equal(await login(page, CONSOLE_USER, CONSOLE_PASSWORD), undefined);

  await navigate(page, 'Onboarding');
  await page.waitForSelector('#ob-user');
  await page.select('#ob-conn', 'rw-eap');
  await page.type('#ob-user', 'dave');
  await page.click('form.login button[type=submit]');
  await page.waitForSelector('#ob-secret', { timeout: 10_000 });
  const secret = (await page.$eval('#ob-secret', (e) => e.textContent)) ?? '';
  assert.match(secret, /^[A-Z2-7]{20}$/);
  const href = await page.$eval('#ob-result a[data-download="sswan"]', (e) => e.getAttribute('href') ?? '');
  const sswan = JSON.parse(await page.evaluate(async (u) => (await fetch(u)).text(), href)) as { remote: { addr: string }; local: { eap_id?: string } };
  assert.equal(sswan.remote.addr, h.right.outer4);
  await writeFile(join(shotsDir, 'rw-eap-dave.sswan'), JSON.stringify(sswan, null, 2));
  await page.click('#ob-result button[data-key="qr-dave-mobileconfig"]');
  await page.waitForSelector('#ob-result img[data-qr="mobileconfig"]');
  await w.shot('user-created');

  // dave's device: a strongSwan road warrior with the password from the page.
  const client = await ctx.startStrongswan({ ns: h.left.ns, label: 'dave', swanctlConf: clientConf(h.right.outer4, 'dave', secret), plugins: PLUGINS, files: { 'x509ca/ca.crt': ca.certPem } });
  await client.loadAll();
  await client.initiate('home');
  await navigate(page, 'Live SAs');
  await page.waitForSelector('[data-sa="rw-eap"] tr[data-child="rw"]', { timeout: 10_000 });
  assert.match((await page.$eval('[data-sa="rw-eap"] header', (e) => e.textContent)) ?? '', /EAP dave/);
  await w.shot('dave-connected');
  await navigate(page, 'Pools');
  await page.waitForSelector('[data-pool="rw-pool"]');
  assert.match((await page.$eval('[data-pool="rw-pool"]', (e) => e.textContent)) ?? '', /10\.3\.0\.1\s*dave\s*online/);
  await w.shot('pool-lease');

  await navigate(page, 'Onboarding');
  await page.waitForSelector('tr[data-user="dave"]');
  await page.click('button[aria-label="Revoke user dave"]');
  await page.waitForFunction(() => !document.querySelector('tr[data-user="dave"]'), { timeout: 15_000 });
  await client.waitNoSas(undefined, 15_000);
  await swan.waitNoSas(undefined, 15_000);
  await w.shot('dave-revoked');
  const again = await client.initiate('home', { allowFail: true, timeoutS: 10 });
  assert.notEqual(again.code, 0, `dave cannot log in after the revocation: ${again.stdout}`);
  const log = await con.log();
  assert.match(log, /user 'admin' created EAP user 'dave' for connection 'rw-eap'/);
  assert.match(log, /user 'admin' revoked EAP user 'dave' \(1 IKE SA terminated\)/);
  assert.deepEqual(w.problems, [], 'no script errors or CSP violations in the page');
}
