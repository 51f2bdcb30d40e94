/**
 * Reauthentication with certificates (RFC 7296 2.8.3: a new IKE SA with a full IKE_AUTH, CERT and AUTH again),
 * each side's `reauth_time` triggering it in turn:
 *   a. cygnet reauthenticates (its reauth_time; over_time set, as 10% of 4 s rounds to 0 in swanctl's seconds);
 *   b. strongSwan reauthenticates (charon.make_before_break = yes), its new IKE_SA_INIT from port 4500.
 * After each, exactly one ESTABLISHED IKE SA with a new SPI pair on both sides, the CHILD SA re-created with
 * matching SPIs, and the signature verified again in both logs.
 */
import assert from 'node:assert/strict';
import type { ScenarioContext } from '../lib/scenario.js';
import { swanctlConf } from '../lib/swanctl-conf.js';
import { twoHosts } from '../lib/topology.js';
import { startCapture } from '../lib/tshark.js';
import { join } from 'node:path';
import { establishedCygnet } from './20-cygnet-psk-responder.js';
import { certConnection, credFiles, CYG_ID, startCertCygnet, swanPki, swanSide, SWAN_ID } from './30-cygnet-certs-swanpki.js';

export const name = 'cygnet-cert-reauth';
export const timeoutMs = 30_000;

export async function run(ctx: ScenarioContext): Promise<void> {
  const h = await twoHosts(ctx.lab);
  const p = await swanPki(ctx, 'ecdsa256');
  // Kept in the scratch directory when the scenario fails: `tshark -r reauth.pcap` shows what went out.
  const cap = await startCapture(h.left.ns, 'eth0', join(ctx.dir, 'reauth.pcap'), { captureFilter: 'udp' });
  ctx.defer(() => cap.stop());
  for (const who of ['cygnet', 'strongswan'] as const) {
    // strongSwan reauthenticates from its floated port: its IKE_SA_INIT arrives on 4500 and every answer of that
    // SA must carry the non-ESP marker (RFC 3948 2.2); this once failed and is checked here.
    const base = certConnection(h);
    const cygConn = who === 'cygnet' ? { ...base, extra: { reauth_time: '4s', rekey_time: '0', over_time: '5s', rand_time: '0' } } : base;
    const swanConn = who === 'strongswan' ? { ...swanSide(base), extra: { reauth_time: '4s', rekey_time: '0', over_time: '5s', rand_time: '0' } } : swanSide(base);
    const swan = await ctx.startStrongswan({ ns: h.right.ns, swanctlConf: swanctlConf(swanConn), files: credFiles(p.swan, 'swan', p.ca.certPem), label: `right-${who}`, charonOptions: 'make_before_break = yes' });
    await swan.loadAll();
    const cyg = await startCertCygnet(ctx, h, swanctlConf(cygConn), credFiles(p.cyg, 'cygnet', p.ca.certPem), `cygnet-${who}`);
    await (who === 'cygnet' ? cyg.peer : swan).initiate('net');
    const first = await swan.waitEstablished('cyg', 'net');
    await cyg.waitFor('established', establishedCygnet);
    // The reauthentication: a new IKE SA (other SPIs), the old one gone on both sides.
    const second = await swan.waitForSa(
      (sas) => {
        const est = sas.filter((s) => s.name === 'cyg' && s.state === 'ESTABLISHED');
        return est.length === 1 && est[0]!.initiatorSpi !== first.initiatorSpi && est[0]!.children.some((c) => c.state === 'INSTALLED') ? est[0] : undefined;
      },
      12_000,
      `${who}: reauthenticated IKE SA`,
    );
    const ci = await cyg.waitFor(`${who}: cygnet follows the reauthentication`, (s) => {
      const est = s.ikeSas.filter((x) => x.state === 'ESTABLISHED');
      return s.ikeSas.length === 1 && est.length === 1 && est[0]!.spiI === second.initiatorSpi && est[0]!.children.length > 0 ? est[0] : undefined;
    }, 8000);
    assert.equal(ci.spiR, second.responderSpi);
    const sc = second.children.find((c) => c.name === 'net')!;
    assert.equal(ci.children[0]!.spiIn, sc.spiOut);
    assert.equal(ci.children[0]!.spiOut, sc.spiIn);
    assert.ok((await cyg.peer.grep(new RegExp(`authentication of '${SWAN_ID}' with .* successful`))).length >= 2, 'cygnet verified strongSwan twice');
    assert.ok((await swan.grep(new RegExp(`authentication of '${CYG_ID}' with .* successful`))).length >= 2, 'strongSwan verified cygnet twice');
    ctx.log(`${who}: ${first.initiatorSpi} -> ${second.initiatorSpi}`);
    assert.equal(await cyg.peer.stop(5000), 0);
    await swan.waitNoSas('cyg', 5000);
    await swan.stop();
  }
}
