/**
 * Distinguished-name identities and an encrypted private key, each side initiating:
 *
 *   - cygnet configures no local id: like charon it uses its certificate's subject DN as IDi/IDr (ID_DER_ASN1_DN,
 *     RFC 7296 3.5), which strongSwan expects as `remote { id = "C=CH, O=cygnet, CN=cygnet" }`; cygnet expects
 *     strongSwan's DN, matched against the certificate's subject (RFC 4945 3.1.5).
 *   - cygnet pins strongSwan's CA with `remote { cacerts = ca.crt }`.
 *   - Both private keys are encrypted PKCS#8 (openssl pkcs8 -topk8 -v2 aes256) under private/, their passphrases
 *     in `secrets { private-x { file = ..., secret = ... } }`, the same file syntax on both sides.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run as exec } from '../lib/exec.js';
import type { ScenarioContext } from '../lib/scenario.js';
import { swanctlConf, type PskConnection } from '../lib/swanctl-conf.js';
import { twoHosts } from '../lib/topology.js';
import { establishedCygnet } from './20-cygnet-psk-responder.js';
import { certConnection, GCM, startCertCygnet, swanPki, swanSide } from './30-cygnet-certs-swanpki.js';

export const name = 'cygnet-cert-dn-ids';
export const timeoutMs = 30_000;

const CYG_DN = 'C=CH, O=cygnet, CN=cygnet';
const SWAN_DN = 'C=CH, O=cygnet, CN=swan';

function keySecret(file: string, secret: string): string {
  return `secrets {\n  private-key {\n    file = ${file}\n    secret = "${secret}"\n  }\n}\n`;
}

export async function run(ctx: ScenarioContext): Promise<void> {
  const h = await twoHosts(ctx.lab);
  const p = await swanPki(ctx, 'ecdsa256');
  const dir = await ctx.subdir('enc-keys');
  const encrypt = async (src: string, out: string, pw: string) => {
    await exec('openssl', ['pkcs8', '-topk8', '-v2', 'aes256', '-in', src, '-passout', `pass:${pw}`, '-out', join(dir, out)]);
    return readFile(join(dir, out), 'utf8');
  };
  const [cygKey, swanKey] = await Promise.all([encrypt(p.cyg.keyFile, 'cygnet.pem', 'cyg-pass'), encrypt(p.swan.keyFile, 'swan.pem', 'swan-pass')]);
  assert.match(cygKey, /BEGIN ENCRYPTED PRIVATE KEY/);

  for (const cygnetInitiates of [true, false]) {
    const label = cygnetInitiates ? 'cyg-init' : 'swan-init';
    const base = certConnection(h, { startAction: cygnetInitiates ? 'start' : 'none' });
    // cygnet: no local id (-> its certificate's DN); the peer's DN quoted, as swanctl.conf examples write it.
    const cygConn = { ...base, localId: undefined as unknown as string, remoteId: `"${SWAN_DN}"` };
    // ... and pins the peer's CA (swanctl `remote { cacerts = ca.crt }`, resolved under x509ca/).
    const cygText = swanctlConf(cygConn).replace('    remote {\n', '    remote {\n      cacerts = ca.crt\n');
    const swanConn: PskConnection = { ...swanSide(base), localId: `"${SWAN_DN}"`, remoteId: `"${CYG_DN}"` };
    const swan = await ctx.startStrongswan({
      ns: h.right.ns,
      swanctlConf: swanctlConf(swanConn) + keySecret('swan.pem', 'swan-pass'),
      files: { 'x509/swan.crt': p.swan.certPem, 'private/swan.pem': swanKey, 'x509ca/ca.crt': p.ca.certPem },
      label: `right-${label}`,
    });
    await swan.loadAll();
    const cyg = await startCertCygnet(ctx, h, cygText + keySecret('cygnet.pem', 'cyg-pass'), { 'x509/cygnet.crt': p.cyg.certPem, 'private/cygnet.pem': cygKey, 'x509ca/ca.crt': p.ca.certPem }, `cygnet-${label}`);
    if (!cygnetInitiates) await swan.initiate('net');
    const [ci, si] = await Promise.all([cyg.waitFor('established', establishedCygnet), swan.waitEstablished('cyg', 'net')]);
    assert.equal(ci.spiI, si.initiatorSpi);
    assert.equal(ci.spiR, si.responderSpi);
    assert.equal(si.suite, GCM.suite);
    assert.equal(si.remoteId, CYG_DN, 'strongSwan sees our DN');
    assert.equal(si.localId, SWAN_DN);
    assert.equal(ci.localId, CYG_DN, 'cygnet defaults to its certificate DN');
    assert.equal(ci.remoteId, SWAN_DN);
    const sc = si.children.find((c) => c.name === 'net')!;
    assert.equal(ci.children[0]!.spiIn, sc.spiOut);
    assert.equal(ci.children[0]!.spiOut, sc.spiIn);
    assert.ok((await swan.grep(new RegExp(`authentication of '${CYG_DN}' with ECDSA_WITH_SHA256_DER successful`))).length > 0, 'strongSwan verified our DN identity');
    const line = await cyg.peer.waitForLog(new RegExp(`authentication of '${SWAN_DN}' with .* successful`), 2000);
    ctx.log(`${label}: ${line.trim()}`);
    assert.equal(await cyg.peer.stop(5000), 0);
    await swan.waitNoSas('cyg', 5000);
    await swan.stop();
  }
}
