/**
 * Certificates cygnet must refuse, each with a reason a user can act on (issue 6). First the one the issue names,
 * a certificate whose subjectAltName lacks the peer's IKE identity (RFC 4945 3.1: the ID must be bound to the
 * certificate, by subject DN or subjectAltName):
 *
 *   1. strongSwan initiates as `impostor@cygnet.test` with a certificate for `swan@cygnet.test` (strongSwan sends
 *      such an ID as configured): cygnet answers N(AUTHENTICATION_FAILED) and logs the ID, the certificate's
 *      subject and what it does contain, and how to fix it.
 *   2. cygnet initiates to `gw.cygnet.test` (FQDN); strongSwan's certificate only has `--san vpn.cygnet.test`:
 *      cygnet refuses the responder, sends INFORMATIONAL {N(AUTH_FAILED)} (RFC 7296 2.21.2), same kind of message.
 *   3. The other way round: cygnet claims `impostor@cygnet.test` with its certificate for `cygnet@cygnet.test`;
 *      strongSwan finds no trusted key for that ID and cygnet reports AUTHENTICATION_FAILED.
 * Then two more refusals with strongSwan initiating:
 *   4. strongSwan's certificate expired yesterday (`pki --issue --not-after`): cygnet says EXPIRED and when.
 *   5. strongSwan's certificate comes from a CA cygnet does not trust: cygnet names the unknown issuer.
 *   6. The CA is trusted but not the one the connection pins (`remote { cacerts = ca.crt }`).
 * No side keeps an SA.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFile, writeFile } from 'node:fs/promises';
import { run as exec } from '../lib/exec.js';
import { issue, makeCa } from '../lib/pki.js';
import type { ScenarioContext } from '../lib/scenario.js';
import { swanctlConf, type PskConnection } from '../lib/swanctl-conf.js';
import { twoHosts, type TwoHosts } from '../lib/topology.js';
import { certConnection, credFiles, startCertCygnet, swanPki, swanSide } from './30-cygnet-certs-swanpki.js';

export const name = 'cygnet-cert-refusals';
export const timeoutMs = 30_000;

async function pair(ctx: ScenarioContext, h: TwoHosts, label: string, cygConn: PskConnection, swanConn: PskConnection, cygFiles: Record<string, string>, swanFiles: Record<string, string>) {
  const swan = await ctx.startStrongswan({ ns: h.right.ns, swanctlConf: swanctlConf(swanConn), files: swanFiles, label: `right-${label}` });
  await swan.loadAll();
  const cyg = await startCertCygnet(ctx, h, swanctlConf(cygConn), cygFiles, `cygnet-${label}`);
  const down = async () => {
    await cyg.waitFor(`${label}: no SA`, (s) => s.ikeSas.length === 0 || undefined, 5000);
    await swan.waitForSa((sas) => sas.every((s) => s.state !== 'ESTABLISHED') || undefined, 5000, `${label}: strongSwan has no established SA`);
    await Promise.all([swan.stop(), cyg.peer.stop()]);
  };
  return { swan, cyg, down };
}

export async function run(ctx: ScenarioContext): Promise<void> {
  const h = await twoHosts(ctx.lab);
  const p = await swanPki(ctx, 'ecdsa256');
  const cygFiles = credFiles(p.cyg, 'cygnet', p.ca.certPem);
  const swanFiles = credFiles(p.swan, 'swan', p.ca.certPem);

  // 1. strongSwan (initiator) claims an ID its certificate does not contain.
  {
    const conn = certConnection(h, { remoteId: 'impostor@cygnet.test' });
    const t = await pair(ctx, h, 'impostor-swan', conn, swanSide(conn), cygFiles, swanFiles);
    const res = await t.swan.initiate('net', { allowFail: true, timeoutS: 10 });
    assert.notEqual(res.code, 0, 'strongSwan initiate fails');
    await t.swan.waitForLog(/received AUTHENTICATION_FAILED notify error/, 5000);
    const why = await t.cyg.peer.waitForLog(/not confirmed by certificate/, 3000);
    ctx.log(`1: cygnet: ${why.trim()}`);
    assert.match(why, /identity 'impostor@cygnet\.test' is not confirmed by certificate "C=CH, O=cygnet, CN=swan"/, 'names the ID and the certificate');
    assert.match(why, /subjectAltNames email:swan@cygnet\.test/, 'says what the certificate contains');
    assert.match(why, /--san impostor@cygnet\.test/, 'says how to fix it');
    await t.down();
  }

  // 2. cygnet (initiator) expects an FQDN the responder's certificate lacks.
  {
    const dir = await ctx.subdir('pki-fqdn');
    const gw = await issue(dir, 'gw', p.ca, { dn: 'C=CH, O=cygnet, CN=gw.cygnet.test', keyType: 'ecdsa256', san: ['vpn.cygnet.test'] });
    const conn = certConnection(h, { remoteId: 'gw.cygnet.test', startAction: 'start' });
    const t = await pair(ctx, h, 'fqdn-cyg', conn, swanSide(conn), cygFiles, credFiles(gw, 'swan', p.ca.certPem));
    const why = await t.cyg.peer.waitForLog(/not confirmed by certificate/, 8000);
    ctx.log(`2: cygnet: ${why.trim()}`);
    assert.match(why, /identity 'gw\.cygnet\.test' is not confirmed by certificate "C=CH, O=cygnet, CN=gw\.cygnet\.test"/, 'names the ID and the certificate');
    assert.match(why, /DNS:vpn\.cygnet\.test/i, 'says what the certificate contains');
    await t.swan.waitForLog(/parsed INFORMATIONAL request \d+ \[ N\(AUTH_FAILED\) \]/, 5000);
    await t.down();
  }

  // 3. cygnet claims an ID its own certificate does not contain: strongSwan refuses.
  {
    const conn: PskConnection = { ...certConnection(h, { startAction: 'start' }), localId: 'impostor@cygnet.test' };
    const theirs = swanSide(conn);
    const t = await pair(ctx, h, 'impostor-cyg', conn, theirs, cygFiles, swanFiles);
    const swanWhy = await t.swan.waitForLog(/no trusted .* public key found for 'impostor@cygnet\.test'|constraint check failed|not confirmed/, 8000);
    ctx.log(`3: strongSwan: ${swanWhy.trim()}`);
    const line = await t.cyg.peer.waitForLog(/AUTHENTICATION_FAILED/, 5000);
    ctx.log(`3: cygnet: ${line.trim()}`);
    await t.down();
  }

  // 4. Expired: strongSwan signs with a certificate that ran out yesterday (charon does not check its own).
  {
    const dir = await ctx.subdir('pki-expired');
    const fmt = (d: Date) => `${String(d.getUTCDate()).padStart(2, '0')}.${String(d.getUTCMonth() + 1).padStart(2, '0')}.${String(d.getUTCFullYear() % 100).padStart(2, '0')} 00:00:00`;
    const day = 86_400_000;
    const pub = (await exec('pki', ['--pub', '--in', p.swan.keyFile, '--outform', 'pem'])).stdout;
    await writeFile(join(dir, 'swan.pub'), pub);
    const expired = (
      await exec('pki', ['--issue', '--in', join(dir, 'swan.pub'), '--type', 'pub', '--cacert', p.ca.certFile, '--cakey', p.ca.keyFile, '--dn', 'C=CH, O=cygnet, CN=swan', '--san', 'swan@cygnet.test',
        '--not-before', fmt(new Date(Date.now() - 10 * day)), '--not-after', fmt(new Date(Date.now() - day)), '--outform', 'pem'])
    ).stdout;
    const conn = certConnection(h);
    const t = await pair(ctx, h, 'expired', conn, swanSide(conn), cygFiles, { ...swanFiles, 'x509/swan.crt': expired });
    const res = await t.swan.initiate('net', { allowFail: true, timeoutS: 10 });
    assert.notEqual(res.code, 0, 'strongSwan initiate fails');
    const why = await t.cyg.peer.waitForLog(/EXPIRED/, 3000);
    ctx.log(`4: cygnet: ${why.trim()}`);
    assert.match(why, /C=CH, O=cygnet, CN=swan/, 'names the certificate');
    assert.match(why, /expired/i, 'says it expired');
    await t.swan.waitForLog(/received AUTHENTICATION_FAILED notify error/, 5000);
    await t.down();
  }

  // 5. Untrusted: strongSwan's certificate comes from a CA that is not in cygnet's x509ca/.
  {
    const dir = await ctx.subdir('pki-other-ca');
    const other = await makeCa(dir, 'other', { keyType: 'ecdsa256', dn: 'C=XX, O=elsewhere, CN=Other CA' });
    const stranger = await issue(dir, 'swan', other, { dn: 'C=XX, O=elsewhere, CN=swan', keyType: 'ecdsa256', san: ['swan@cygnet.test'] });
    const conn = certConnection(h);
    const t = await pair(ctx, h, 'untrusted', conn, swanSide(conn), cygFiles, { ...credFiles(stranger, 'swan', other.certPem), 'x509ca/mine.crt': p.ca.certPem });
    const res = await t.swan.initiate('net', { allowFail: true, timeoutS: 10 });
    assert.notEqual(res.code, 0, 'strongSwan initiate fails');
    const why = await t.cyg.peer.waitForLog(/authentication of 'swan@cygnet\.test' failed/, 3000);
    ctx.log(`5: cygnet: ${why.trim()}`);
    assert.match(why, /C=XX, O=elsewhere, CN=Other CA/, 'names the unknown issuer');
    await t.swan.waitForLog(/received AUTHENTICATION_FAILED notify error/, 5000);
    await t.down();
  }

  // 6. Pinned CA: cygnet trusts both CAs but the connection's `remote { cacerts = ca.crt }` names only its own.
  {
    const dir = await ctx.subdir('pki-pinned');
    const other = await makeCa(dir, 'other', { keyType: 'ecdsa256', dn: 'C=XX, O=elsewhere, CN=Other CA' });
    const stranger = await issue(dir, 'swan', other, { dn: 'C=XX, O=elsewhere, CN=swan', keyType: 'ecdsa256', san: ['swan@cygnet.test'] });
    const conn = certConnection(h);
    const cygText = swanctlConf(conn).replace('    remote {\n', '    remote {\n      cacerts = ca.crt\n');
    const swan = await ctx.startStrongswan({ ns: h.right.ns, swanctlConf: swanctlConf(swanSide(conn)), files: { ...credFiles(stranger, 'swan', other.certPem), 'x509ca/mine.crt': p.ca.certPem }, label: 'right-pinned' });
    await swan.loadAll();
    const cyg = await startCertCygnet(ctx, h, cygText, { ...cygFiles, 'x509ca/other.crt': other.certPem }, 'cygnet-pinned');
    const res = await swan.initiate('net', { allowFail: true, timeoutS: 10 });
    assert.notEqual(res.code, 0, 'strongSwan initiate fails');
    const why = await cyg.peer.waitForLog(/not in the connection's cacerts/, 3000);
    ctx.log(`6: cygnet: ${why.trim()}`);
    assert.match(why, /chains to 'C=XX, O=elsewhere, CN=Other CA', which is not in the connection's cacerts \('C=CH, O=cygnet, CN=cygnet interop CA'\)/, 'names the CA it chains to and the pinned one');
    await swan.waitForLog(/received AUTHENTICATION_FAILED notify error/, 5000);
    await Promise.all([swan.stop(), cyg.peer.stop()]);
  }
}
