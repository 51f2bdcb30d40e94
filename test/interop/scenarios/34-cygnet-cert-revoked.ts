/**
 * A revoked certificate is refused by both sides (issue 6), with each side initiating:
 *
 *   A. strongSwan's certificate is listed in a CRL made by strongSwan's `pki --signcrl`, loaded by cygnet from
 *      x509crl/ (RFC 5280 6.3): cygnet logs REVOKED naming the certificate's subject and the CRL issuer, answers
 *      N(AUTHENTICATION_FAILED) as responder (RFC 7296 2.21.2) or ends the IKE SA as initiator.
 *   B. cygnet's certificate is listed in a CRL made by `cygnet pki --signcrl`, loaded by strongSwan from its
 *      x509crl/: strongSwan logs "certificate was revoked", and cygnet gets AUTHENTICATION_FAILED.
 * No side keeps an SA.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run as exec } from '../lib/exec.js';
import { cygIssue, cygMakeCa, cygSignCrl, setCygnetPkiMode } from '../lib/cygnet-pki.js';
import type { Credential } from '../lib/pki.js';
import type { ScenarioContext } from '../lib/scenario.js';
import { swanctlConf } from '../lib/swanctl-conf.js';
import { twoHosts, type TwoHosts } from '../lib/topology.js';
import { certConnection, credFiles, CYG_ID, startCertCygnet, swanPki, swanSide, SWAN_ID } from './30-cygnet-certs-swanpki.js';

export const name = 'cygnet-cert-revoked';
export const timeoutMs = 30_000;

/** strongSwan's `pki --signcrl` revoking `revoked` (key compromise). */
async function swanSignCrl(ca: Credential, revoked: Credential): Promise<string> {
  const r = await exec('pki', ['--signcrl', '--cacert', ca.certFile, '--cakey', ca.keyFile, '--reason', 'key-compromise', '--cert', revoked.certFile, '--lifetime', '15', '--outform', 'pem']);
  return r.stdout;
}

interface Pair {
  label: string;
  cygnetInitiates: boolean;
  cygFiles: Record<string, string>;
  swanFiles: Record<string, string>;
}

/** Starts both, lets the IKE_AUTH fail, checks that neither keeps an SA. Returns both peers for log checks. */
async function failingPair(ctx: ScenarioContext, h: TwoHosts, p: Pair) {
  const conn = certConnection(h, { startAction: p.cygnetInitiates ? 'start' : 'none' });
  const swan = await ctx.startStrongswan({ ns: h.right.ns, swanctlConf: swanctlConf(swanSide(conn)), files: p.swanFiles, label: `right-${p.label}` });
  await swan.loadAll();
  const cyg = await startCertCygnet(ctx, h, swanctlConf(conn), p.cygFiles, `cygnet-${p.label}`);
  if (!p.cygnetInitiates) {
    const res = await swan.initiate('net', { allowFail: true, timeoutS: 10 });
    assert.notEqual(res.code, 0, `${p.label}: strongSwan initiate fails`);
  }
  return { swan, cyg };
}

async function noSas(p: Awaited<ReturnType<typeof failingPair>>, label: string): Promise<void> {
  await p.cyg.waitFor(`${label}: no SA`, (s) => s.ikeSas.length === 0 || undefined, 5000);
  await p.swan.waitForSa((sas) => sas.every((s) => s.state !== 'ESTABLISHED') || undefined, 5000, `${label}: strongSwan has no established SA`);
  await Promise.all([p.swan.stop(), p.cyg.peer.stop()]);
}

export async function run(ctx: ScenarioContext): Promise<void> {
  // runPki in this process: the same code as the `cygnet pki` command (31 runs the command itself), minus the
  // node startup per step that would eat this scenario's time budget.
  setCygnetPkiMode('inproc');
  ctx.defer(() => setCygnetPkiMode('cli'));
  const h = await twoHosts(ctx.lab);

  // A. strongSwan-pki PKI; cygnet's CRL revokes strongSwan's certificate.
  const a = await swanPki(ctx, 'ecdsa256');
  const crlA = await swanSignCrl(a.ca, a.swan);
  for (const cygnetInitiates of [false, true]) {
    const label = `A-${cygnetInitiates ? 'cyg' : 'swan'}-init`;
    const p = await failingPair(ctx, h, {
      label,
      cygnetInitiates,
      cygFiles: credFiles(a.cyg, 'cygnet', a.ca.certPem, { 'x509crl/ca.crl': crlA }),
      swanFiles: credFiles(a.swan, 'swan', a.ca.certPem),
    });
    const why = await p.cyg.peer.waitForLog(/REVOKED/, 8000);
    ctx.log(`${label}: cygnet: ${why.trim()}`);
    assert.match(why, /C=CH, O=cygnet, CN=swan/, 'cygnet names the revoked certificate subject');
    assert.match(why, new RegExp(`authentication of '${SWAN_ID}' failed`), 'cygnet names the peer');
    assert.match(why, /key ?compromise/i, 'cygnet gives the CRL reason');
    // Responder: IKE_AUTH response N(AUTH_FAILED). Initiator: INFORMATIONAL {N(AUTH_FAILED)} (RFC 7296 2.21.2),
    // which strongSwan treats as the end of the IKE SA.
    if (cygnetInitiates) await p.swan.waitForLog(/parsed INFORMATIONAL request \d+ \[ N\(AUTH_FAILED\) \]/, 5000);
    else await p.swan.waitForLog(/received AUTHENTICATION_FAILED notify error/, 5000);
    await noSas(p, label);
  }

  // B. cygnet-pki PKI; strongSwan's CRL (made by cygnet pki --signcrl) revokes cygnet's certificate.
  const dir = await ctx.subdir('cygpki-revoked');
  const ca = await cygMakeCa(dir, 'ca', { keyType: 'ecdsa256' });
  const [cyg, swan] = await Promise.all([
    cygIssue(dir, 'cygnet', ca, { dn: 'C=CH, O=cygnet, CN=cygnet', san: [CYG_ID] }),
    cygIssue(dir, 'swan', ca, { dn: 'C=CH, O=cygnet, CN=swan', san: [SWAN_ID] }),
  ]);
  const crlB = await cygSignCrl(ca, [cyg]);
  await writeFile(join(dir, 'ca.crl'), crlB);
  // strongSwan's pki reads the CRL cygnet wrote.
  const printed = (await exec('pki', ['--print', '--type', 'crl', '--in', join(dir, 'ca.crl')])).stdout;
  ctx.log(printed.replace(/\n/g, ' | '));
  assert.match(printed, /key compromise/i, 'strongSwan pki --print lists the revocation');
  for (const cygnetInitiates of [true, false]) {
    const label = `B-${cygnetInitiates ? 'cyg' : 'swan'}-init`;
    const p = await failingPair(ctx, h, {
      label,
      cygnetInitiates,
      cygFiles: credFiles(cyg, 'cygnet', ca.certPem),
      swanFiles: credFiles(swan, 'swan', ca.certPem, { 'x509crl/ca.crl': crlB }),
    });
    const swanWhy = await p.swan.waitForLog(/certificate was revoked/, 8000);
    ctx.log(`${label}: strongSwan: ${swanWhy.trim()}`);
    if (cygnetInitiates) {
      const line = await p.cyg.peer.waitForLog(/AUTHENTICATION_FAILED/, 5000);
      ctx.log(`${label}: cygnet: ${line.trim()}`);
    } else {
      // strongSwan, as initiator, refuses cygnet's AUTH and tells it (RFC 7296 2.21.2: INFORMATIONAL with N(AUTH_FAILED)).
      const line = await p.cyg.peer.waitForLog(/AUTHENTICATION_FAILED|deleted|DELETE/, 5000);
      ctx.log(`${label}: cygnet: ${line.trim()}`);
    }
    await noSas(p, label);
  }
}
