/**
 * Seed 001's road-warrior client, as an administrator would set it up: the server (strongSwan) has a host
 * certificate with `--san vpn.cygnet.test --flag serverAuth --flag ikeIntermediate`; the client (cygnet) only has
 * `Client.p12` made by seed 001's `openssl pkcs12 -export ... -certfile ca -caname ...` under pkcs12/, its
 * passphrase in `secrets { pkcs12-client { file = Client.p12, secret = ... } }`, and a connection with
 * `local { auth = pubkey, id = myself@cygnet.test }` and no `certs` line: as with swanctl, the certificate is the
 * one from the loaded credentials that confirms the local id (and has its private key), and the bundle's CA is
 * what the server's certificate is checked against. cygnet initiates (a client), IDr = vpn.cygnet.test (FQDN).
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run as exec } from '../lib/exec.js';
import { issue, makeCa } from '../lib/pki.js';
import type { ScenarioContext } from '../lib/scenario.js';
import { swanctlConf, type PskConnection } from '../lib/swanctl-conf.js';
import { twoHosts } from '../lib/topology.js';
import { establishedCygnet } from './20-cygnet-psk-responder.js';
import { certConnection, GCM, startCertCygnet, swanSide } from './30-cygnet-certs-swanpki.js';

export const name = 'cygnet-cert-pkcs12';
export const timeoutMs = 30_000;

export async function run(ctx: ScenarioContext): Promise<void> {
  const h = await twoHosts(ctx.lab);
  const dir = await ctx.subdir('pki-seed001');
  const ca = await makeCa(dir, 'strongswan', { keyType: 'rsa2048', dn: 'C=CH, O=strongSwan, CN=strongSwan Root CA' });
  const [host, client] = await Promise.all([
    issue(dir, 'vpnHost', ca, { dn: 'C=CH, O=strongSwan, CN=vpn.cygnet.test', keyType: 'rsa2048', san: ['vpn.cygnet.test'], flags: ['serverAuth', 'ikeIntermediate'] }),
    issue(dir, 'Client', ca, { dn: 'C=CH, O=strongSwan, CN=myself@cygnet.test', keyType: 'rsa2048', san: ['myself@cygnet.test'] }),
  ]);
  const p12 = join(dir, 'Client.p12');
  await exec('openssl', ['pkcs12', '-export', '-inkey', client.keyFile, '-in', client.certFile, '-name', 'My own VPN client certificate', '-certfile', ca.certFile, '-caname', 'strongSwan Root CA', '-out', p12, '-passout', 'pass:p12-secret']);

  const base = certConnection(h, { remoteId: 'vpn.cygnet.test', startAction: 'start' });
  const conn: PskConnection = { ...base, localId: 'myself@cygnet.test', certs: undefined, localAuth: 'pubkey', remoteAuth: 'pubkey' };
  const cygConf = swanctlConf(conn) + 'secrets {\n  pkcs12-client {\n    file = Client.p12\n    secret = "p12-secret"\n  }\n}\n';
  const server = { ...swanSide(conn), certs: { local: 'vpnHost.crt', peer: 'unused' } };
  const swan = await ctx.startStrongswan({
    ns: h.right.ns,
    swanctlConf: swanctlConf(server),
    files: { 'x509/vpnHost.crt': host.certPem, 'private/vpnHost.key': host.keyPem, 'x509ca/strongswanCert.pem': ca.certPem },
  });
  await swan.loadAll();
  const cyg = await startCertCygnet(ctx, h, cygConf, { 'pkcs12/Client.p12': await readFile(p12) });

  const [ci, si] = await Promise.all([cyg.waitFor('established', establishedCygnet), swan.waitEstablished('cyg', 'net')]);
  assert.equal(ci.spiI, si.initiatorSpi, 'IKE SPIi');
  assert.equal(ci.spiR, si.responderSpi, 'IKE SPIr');
  assert.equal(si.suite, GCM.suite);
  assert.equal(ci.localId, 'myself@cygnet.test');
  assert.equal(ci.remoteId, 'vpn.cygnet.test');
  assert.equal(si.remoteId, 'myself@cygnet.test');
  const sc = si.children.find((c) => c.name === 'net');
  assert.ok(sc, 'strongSwan has the CHILD SA');
  assert.equal(ci.children[0]!.spiIn, sc.spiOut);
  assert.equal(ci.children[0]!.spiOut, sc.spiIn);
  assert.ok((await swan.grep(/received end entity cert "C=CH, O=strongSwan, CN=myself@cygnet\.test"/)).length > 0, 'cygnet sent the bundle certificate');
  assert.ok((await swan.grep(/authentication of 'myself@cygnet\.test' with RSA_EMSA_PKCS1_SHA2_256 successful/)).length > 0, 'strongSwan verified cygnet');
  const line = await cyg.peer.waitForLog(/authentication of 'vpn\.cygnet\.test' with .* successful/, 2000);
  ctx.log(`cygnet: ${line.trim()}`);
  assert.equal(await cyg.peer.stop(5000), 0);
  await swan.waitNoSas('cyg', 5000);
}
