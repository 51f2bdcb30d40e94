/**
 * `send_cert = never` (RFC 7296 3.6: CERT payloads are optional when the peer can get the certificate
 * otherwise) with the peer's certificate configured as swanctl's `remote { certs = peer.crt }`:
 *
 *   a. strongSwan sends no CERT; cygnet takes strongSwan's certificate from its `remote { certs = swan.crt }`
 *      (under x509/), still validates it to the CA, and verifies the AUTH with it.
 *   b. cygnet sends no CERT; strongSwan has `remote { certs = cygnet.crt }`.
 * Each with both sides initiating; the IKE_AUTH message of the silent side carries no CERT (checked in the
 * peer's log), and the SPIs match.
 */
import assert from 'node:assert/strict';
import type { ScenarioContext } from '../lib/scenario.js';
import { swanctlConf, type PskConnection } from '../lib/swanctl-conf.js';
import { twoHosts } from '../lib/topology.js';
import { establishedCygnet } from './20-cygnet-psk-responder.js';
import { certConnection, CYG_ID, GCM, startCertCygnet, swanPki, swanSide, SWAN_ID } from './30-cygnet-certs-swanpki.js';

export const name = 'cygnet-cert-send-never';
export const timeoutMs = 30_000;

/** swanctl.conf text with `certs = FILE` in the remote section. */
function withRemoteCerts(conf: string, file: string): string {
  return conf.replace('    remote {\n', `    remote {\n      certs = ${file}\n`);
}

export async function run(ctx: ScenarioContext): Promise<void> {
  const h = await twoHosts(ctx.lab);
  const p = await swanPki(ctx, 'ecdsa256');
  for (const silent of ['strongswan', 'cygnet'] as const) {
    for (const cygnetInitiates of [true, false]) {
      const label = `${silent}-silent-${cygnetInitiates ? 'cyg' : 'swan'}-init`;
      const base = certConnection(h, { startAction: cygnetInitiates ? 'start' : 'none' });
      const cygConn: PskConnection = silent === 'cygnet' ? { ...base, extra: { send_cert: 'never' } } : base;
      const swanConn: PskConnection = silent === 'strongswan' ? { ...swanSide(base), extra: { send_cert: 'never' } } : swanSide(base);
      const cygConf = silent === 'strongswan' ? withRemoteCerts(swanctlConf(cygConn), 'swan.crt') : swanctlConf(cygConn);
      const swanConf = silent === 'cygnet' ? withRemoteCerts(swanctlConf(swanConn), 'cygnet.crt') : swanctlConf(swanConn);
      const swanFiles: Record<string, string> = { 'x509/swan.crt': p.swan.certPem, 'private/swan.key': p.swan.keyPem, 'x509ca/ca.crt': p.ca.certPem };
      const cygFiles: Record<string, string> = { 'x509/cygnet.crt': p.cyg.certPem, 'private/cygnet.key': p.cyg.keyPem, 'x509ca/ca.crt': p.ca.certPem };
      if (silent === 'strongswan') cygFiles['x509/swan.crt'] = p.swan.certPem;
      else swanFiles['x509/cygnet.crt'] = p.cyg.certPem;

      const swan = await ctx.startStrongswan({ ns: h.right.ns, swanctlConf: swanConf, files: swanFiles, label: `right-${label}` });
      await swan.loadAll();
      const cyg = await startCertCygnet(ctx, h, cygConf, cygFiles, `cygnet-${label}`);
      if (!cygnetInitiates) await swan.initiate('net');
      const [ci, si] = await Promise.all([cyg.waitFor(`${label} established`, establishedCygnet), swan.waitEstablished('cyg', 'net')]);
      assert.equal(ci.spiI, si.initiatorSpi);
      assert.equal(ci.spiR, si.responderSpi);
      assert.equal(si.suite, GCM.suite);
      const sc = si.children.find((c) => c.name === 'net')!;
      assert.equal(ci.children[0]!.spiIn, sc.spiOut);
      assert.equal(ci.children[0]!.spiOut, sc.spiIn);
      // The silent side's IKE_AUTH has no CERT; the other's does.
      const cygAuthMsg = await cyg.peer.waitForLog(/(sending|received) IKE_AUTH (request|response) 1 \[.*AUTH/, 2000);
      const swanSent = await swan.grep(/generating IKE_AUTH (request|response) 1 \[/);
      ctx.log(`${label}: cygnet: ${cygAuthMsg.trim()} | strongSwan: ${swanSent.join(' ').trim()}`);
      if (silent === 'strongswan') {
        assert.ok(swanSent.every((l) => !/ CERT /.test(l)), 'strongSwan sent no CERT');
        assert.deepEqual(await swan.grep(/sending end entity cert/), []);
      } else {
        const cygSent = await cyg.peer.grep(/sending IKE_AUTH (request|response) 1 \[/);
        assert.ok(cygSent.length > 0 && cygSent.every((l) => !/ CERT /.test(l)), `cygnet sent no CERT: ${cygSent.join(' ')}`);
        assert.deepEqual(await swan.grep(/received end entity cert/), []);
      }
      await cyg.peer.waitForLog(new RegExp(`authentication of '${SWAN_ID}' with .* successful`), 2000);
      assert.ok((await swan.grep(new RegExp(`authentication of '${CYG_ID}' with .* successful`))).length > 0);
      assert.equal(await cyg.peer.stop(5000), 0);
      await swan.waitNoSas('cyg', 5000);
      await swan.stop();
    }
  }
}
