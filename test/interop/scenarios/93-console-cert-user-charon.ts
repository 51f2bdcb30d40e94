/**
 * Certificate users from the console (issue 19), end to end on a strongSwan gateway: the console (on charon's
 * vici, with the users CA's key) issues erin@cygnet.test a PKCS#12 in Chromium; a strongSwan road warrior loads
 * that .p12 with the password the page showed and logs in; revoking erin signs a CRL, loads it into charon over
 * vici and terminates the SA; charon then refuses erin's certificate as revoked.
 * Screenshots: /tmp/cygnet-console-shots/93-cert-user/.
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

export const name = 'console-cert-user-charon';
export const timeoutMs = 90_000;

const USER = 'erin@cygnet.test';
const PLUGINS = [...DEFAULT_PLUGINS, 'pkcs12'];

function gatewayConf(addr: string): string {
  return `connections {
  rw-cert {
    local_addrs = ${addr}
    pools = rw-pool
    send_cert = always
    local {
      auth = pubkey
      certs = gateway.crt
      id = vpn.cygnet.test
    }
    remote {
      auth = pubkey
      cacerts = ca.crt
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

function clientConf(server: string, password: string): string {
  return `connections {
  home {
    remote_addrs = ${server}
    vips = 0.0.0.0
    local {
      auth = pubkey
      id = ${USER}
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
  pkcs12-erin {
    file = erin.p12
    secret = "${password}"
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

  const profileDir = await ctx.subdir('profile-config');
  await mkdir(join(profileDir, 'x509ca'), { recursive: true });
  await writeFile(join(profileDir, 'swanctl.conf'), conf);
  await writeFile(join(profileDir, 'x509ca', 'ca.crt'), ca.certPem);
  const con = await startConsoleProcess(ctx, swan.process.pid, '/var/run/charon.vici', {
    config: [
      `profile_config = ${join(profileDir, 'swanctl.conf')}`,
      `profile_server = ${h.right.outer4}`,
      `users_file = ${join(profileDir, 'console-users.conf')}`,
      `ca_cert = ${ca.certFile}`,
      `ca_key = ${ca.keyFile}`,
      '',
    ].join('\n'),
  });
  const shotsDir = join(SHOTS_DIR, '93-cert-user');
  const w = await openPage(browser, con.url, shotsDir);
  const { page } = w;
  assert.equal(await login(page, CONSOLE_USER, CONSOLE_PASSWORD), undefined);

  await navigate(page, 'Onboarding');
  await page.waitForSelector('#ob-kind');
  await page.select('#ob-kind', 'cert');
  await page.select('#ob-conn', 'rw-cert');
  await page.type('#ob-user', USER);
  await page.click('form.login button[type=submit]');
  await page.waitForSelector('#ob-secret', { timeout: 10_000 });
  const password = (await page.$eval('#ob-secret', (e) => e.textContent)) ?? '';
  const href = await page.$eval('#ob-result a[data-download="p12"]', (e) => e.getAttribute('href') ?? '');
  const p12 = await page.evaluate(async (u) => Array.from(new Uint8Array(await (await fetch(u)).arrayBuffer())), href);
  assert.ok(p12.length > 500, `a PKCS#12 of ${p12.length} bytes`);
  await w.shot('cert-user-created');

  // erin's device: strongSwan with the downloaded .p12 and the password from the page.
  const client = await ctx.startStrongswan({
    ns: h.left.ns,
    label: 'erin',
    swanctlConf: clientConf(h.right.outer4, password),
    plugins: PLUGINS,
    files: { 'pkcs12/erin.p12': Uint8Array.from(p12), 'x509ca/ca.crt': ca.certPem },
  });
  await client.loadAll();
  await client.initiate('home');
  await navigate(page, 'Live SAs');
  await page.waitForSelector('[data-sa="rw-cert"] tr[data-child="rw"]', { timeout: 10_000 });
  assert.match((await page.$eval('[data-sa="rw-cert"] header', (e) => e.textContent)) ?? '', /erin@cygnet\.test/);
  await w.shot('erin-connected');

  await navigate(page, 'Onboarding');
  await page.waitForSelector(`tr[data-user="${USER}"]`);
  await page.click(`button[aria-label="Revoke user ${USER}"]`);
  await page.waitForFunction((u) => !document.querySelector(`tr[data-user="${u}"]`), { timeout: 15_000 }, USER);
  await client.waitNoSas(undefined, 15_000);
  await w.shot('erin-revoked');
  const again = await client.initiate('home', { allowFail: true, timeoutS: 10 });
  assert.notEqual(again.code, 0, `erin cannot log in after the revocation: ${again.stdout}`);
  await swan.waitForLog(/certificate was revoked/, 10_000);
  const log = await con.log();
  assert.match(log, /issued a certificate for 'erin@cygnet\.test'/);
  assert.match(log, /revoked certificate user 'erin@cygnet\.test' \(serial [0-9a-f]{16} in the CRL\) \(1 IKE SA terminated\)/);
  assert.deepEqual(w.problems, [], 'no script errors or CSP violations in the page');
}
