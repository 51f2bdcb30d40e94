/**
 * Certificates made by `cygnet pki` accepted by strongSwan, with each side initiating (issue 6: "those made by
 * cygnet pki by strongSwan"). The PKI follows seed 001 step by step: an RSA 4096 root CA (`--self --ca
 * --lifetime 3650`), then `--pub | --issue` host certificates (RSA 2048) with `--san` and `--flag serverAuth
 * --flag ikeIntermediate`, all PEM. Both peers' certificates come from cygnet pki, so strongSwan checks cygnet's
 * certificate *and* its own chain loads from cygnet-made files; `pki --print` (strongSwan's) reads the flags.
 */
import assert from 'node:assert/strict';
import { run as exec } from '../lib/exec.js';
import { cygIssue, cygMakeCa } from '../lib/cygnet-pki.js';
import type { ScenarioContext } from '../lib/scenario.js';
import { twoHosts } from '../lib/topology.js';
import { certBothWays, certConnection, credFiles, CYG_ID, swanSide, SWAN_ID } from './30-cygnet-certs-swanpki.js';

export const name = 'cygnet-certs-cygpki';
export const timeoutMs = 30_000;


export async function run(ctx: ScenarioContext): Promise<void> {
  const h = await twoHosts(ctx.lab);
  const dir = await ctx.subdir('cygpki');
  // Host keys are generated while the CA is made (each step is its own `cygnet pki` process).
  const pendingCa = cygMakeCa(dir, 'ca', { keyType: 'rsa4096', dn: 'C=CH, O=cygnet, CN=cygnet Root CA' });
  const flags = ['serverAuth', 'ikeIntermediate'];
  const [ca, cyg, swan] = await Promise.all([
    pendingCa,
    cygIssue(dir, 'cygnet', pendingCa, { dn: 'C=CH, O=cygnet, CN=cygnet.test', keyType: 'rsa2048', san: [CYG_ID], flags }),
    cygIssue(dir, 'swan', pendingCa, { dn: 'C=CH, O=cygnet, CN=swan.test', keyType: 'rsa2048', san: [SWAN_ID], flags }),
  ]);
  // strongSwan's own pki reads what cygnet pki wrote: the SAN and both flags.
  const printed = (await exec('pki', ['--print', '--in', cyg.certFile])).stdout;
  ctx.log(printed.replace(/\n/g, ' | '));
  assert.match(printed, new RegExp(`altNames:\\s+${CYG_ID}`), 'strongSwan pki --print shows the SAN');
  assert.match(printed, /flags:\s+serverAuth ikeIntermediate/i, 'strongSwan pki --print shows serverAuth and ikeIntermediate');

  const cygFiles = credFiles(cyg, 'cygnet', ca.certPem);
  const swanFiles = credFiles(swan, 'swan', ca.certPem);
  const conn = certConnection(h);
  await certBothWays(ctx, h, {
    label: 'cygpki-rsa',
    cygConn: conn,
    swanConn: swanSide(conn),
    cygFiles,
    swanFiles,
    cygAuth: /RFC 7427 signature \(SHA256 with RSA\)/,
    swanAuth: /RSA_EMSA_PKCS1_SHA2_256/,
    each: async ({ swan }) => {
      assert.ok((await swan.grep(/received end entity cert "C=CH, O=cygnet, CN=cygnet\.test"/)).length > 0, 'strongSwan got cygnet certificate');
      assert.ok((await swan.grep(/using trusted ca certificate "C=CH, O=cygnet, CN=cygnet Root CA"/)).length > 0, 'strongSwan chained it to the cygnet-made CA');
    },
  });
}
