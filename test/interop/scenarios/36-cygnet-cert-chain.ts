/**
 * Chains of three made by `cygnet pki`, intermediates carried in CERT payloads (RFC 7296 3.6: "the first
 * certificate provided MUST contain the public key used to verify the AUTH field"; the others follow), each
 * side initiating:
 *
 *   root (ECDSA P-384, --self --ca) -+- inter-cyg  (ECDSA P-256, --issue --ca) -- cygnet's cert (Ed25519)
 *                                    +- inter-swan (ECDSA P-256, --issue --ca) -- strongSwan's cert (RSA 2048)
 *
 * Each side holds the root and only its *own* intermediate under x509ca/, so the peer's intermediate must come
 * in its IKE_AUTH message: cygnet sends x509ca/'s non-self-signed certificate after its own, strongSwan sends
 * its "issuer cert". AUTH is Ed25519 (RFC 8420) from cygnet and RSA PKCS#1 from strongSwan (RFC 7427).
 * `openssl verify` accepts the same chain files (the flag output of `openssl x509 -text` is covered by
 * test/pki/cli.test.ts and not repeated here).
 */
import assert from 'node:assert/strict';
import { run as exec } from '../lib/exec.js';
import { cygIssue, cygMakeCa, setCygnetPkiMode } from '../lib/cygnet-pki.js';
import type { ScenarioContext } from '../lib/scenario.js';
import { twoHosts } from '../lib/topology.js';
import { certBothWays, certConnection, CYG_ID, swanSide, SWAN_ID } from './30-cygnet-certs-swanpki.js';

export const name = 'cygnet-cert-chain';
export const timeoutMs = 30_000;

export async function run(ctx: ScenarioContext): Promise<void> {
  // runPki in this process: the same code as the `cygnet pki` command (31 runs the command itself), minus the
  // node startup per step that would eat this scenario's time budget.
  setCygnetPkiMode('inproc');
  ctx.defer(() => setCygnetPkiMode('cli'));
  const h = await twoHosts(ctx.lab);
  const dir = await ctx.subdir('cygpki-chain');
  const root = await cygMakeCa(dir, 'root', { keyType: 'ecdsa384', dn: 'C=CH, O=cygnet, CN=cygnet Root CA' });
  const [interCyg, interSwan] = await Promise.all([
    cygIssue(dir, 'inter-cyg', root, { dn: 'C=CH, O=cygnet, CN=cygnet Intermediate A', keyType: 'ecdsa256', ca: true }),
    cygIssue(dir, 'inter-swan', root, { dn: 'C=CH, O=cygnet, CN=cygnet Intermediate B', keyType: 'ecdsa256', ca: true }),
  ]);
  const flags = ['serverAuth', 'clientAuth', 'ikeIntermediate'];
  const [cyg, swan] = await Promise.all([
    cygIssue(dir, 'cygnet', interCyg, { dn: 'C=CH, O=cygnet, CN=cygnet', keyType: 'ed25519', san: [CYG_ID], flags }),
    cygIssue(dir, 'swan', interSwan, { dn: 'C=CH, O=cygnet, CN=swan', keyType: 'rsa2048', san: [SWAN_ID], flags }),
  ]);
  for (const [leaf, inter] of [[cyg, interCyg], [swan, interSwan]] as const) {
    const v = await exec('openssl', ['verify', '-CAfile', root.certFile, '-untrusted', inter.certFile, leaf.certFile]);
    assert.match(v.stdout, /: OK/, `openssl verify ${leaf.certFile}`);
  }

  const cygFiles = { 'x509/cygnet.crt': cyg.certPem, 'private/cygnet.key': cyg.keyPem, 'x509ca/root.crt': root.certPem, 'x509ca/inter.crt': interCyg.certPem };
  const swanFiles = { 'x509/swan.crt': swan.certPem, 'private/swan.key': swan.keyPem, 'x509ca/root.crt': root.certPem, 'x509ca/inter.crt': interSwan.certPem };
  const conn = certConnection(h);
  await certBothWays(ctx, h, {
    label: 'chain',
    cygConn: conn,
    swanConn: swanSide(conn),
    cygFiles,
    swanFiles,
    cygAuth: /RFC 7427 signature \(SHA256 with RSA\)/,
    swanAuth: /with ED25519 successful/,
    each: async ({ swan }) => {
      // strongSwan got cygnet's intermediate from the CERT payloads, not from its own store.
      assert.ok((await swan.grep(/received issuer cert "C=CH, O=cygnet, CN=cygnet Intermediate A"/)).length > 0, 'cygnet sent its intermediate');
      assert.ok((await swan.grep(/using untrusted intermediate certificate "C=CH, O=cygnet, CN=cygnet Intermediate A"/)).length > 0, 'strongSwan chained through it');
      assert.ok((await swan.grep(/sending issuer cert "C=CH, O=cygnet, CN=cygnet Intermediate B"/)).length > 0, 'strongSwan sent its intermediate');
    },
  });
}
