/**
 * IKE fragmentation (RFC 7383) both ways between cygnet and strongSwan: RSA 3072 certificates make IKE_AUTH
 * ~2 KB each way, and both sides send at most 500-byte datagrams (cygnet: `--settings` with charon.fragment_size
 * = 500; strongSwan: charon.fragment_size = 500; `fragmentation = yes` on both connections):
 *
 *   cygnet      HDR, SKF {IDi, CERT, CERTREQ, AUTH, SAi2, TSi, TSr} (fragment 1 of N) ... (N of N)  -->
 *   strongSwan  <--  HDR, SKF {IDr, CERT, AUTH, SAr2, TSi, TSr} (fragment 1 of M) ... (M of M)
 *
 * Asserted: the capture shows several HDR, SKF datagrams from each side, none larger than 500 bytes; cygnet logs
 * the reassembly of strongSwan's fragments, strongSwan logs splitting its own and receiving cygnet's; the SA is
 * established with the same SPIs on both sides and a ping crosses it.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run as exec } from '../lib/exec.js';
import type { ScenarioContext } from '../lib/scenario.js';
import { swanctlConf } from '../lib/swanctl-conf.js';
import { twoHosts } from '../lib/topology.js';
import { startCapture } from '../lib/tshark.js';
import { waitFor } from '../lib/exec.js';
import type { TwoHosts } from '../lib/topology.js';
import { assertSameSa, establishedCygnet, type CygnetSide } from './20-cygnet-psk-responder.js';
import { certConnection, credFiles, GCM, startCertCygnet as startCygnetWithCerts, swanPki, swanSide } from './30-cygnet-certs-swanpki.js';

export const name = 'cygnet-fragments';
export const timeoutMs = 45_000;

const FRAGMENT_SIZE = 500;

/** 30's startCertCygnet with extra daemon arguments (--settings, --tun) and enc logging for the fragments. */
function startCertCygnet(ctx: ScenarioContext, h: TwoHosts, conf: string, files: Record<string, string>, args: readonly string[]): Promise<CygnetSide> {
  return startCygnetWithCerts(ctx, h, conf, files, 'cygnet-left', { extraArgs: args, debug: 'ike 2, net 2, enc 2, cfg 2' });
}

export async function run(ctx: ScenarioContext): Promise<void> {
  const h = await twoHosts(ctx.lab);
  const p = await swanPki(ctx, 'rsa3072', 'ecdsa256');
  const base = certConnection(h, { startAction: 'none' });
  const conn = { ...base, extra: { fragmentation: 'yes' } };
  const swan = await ctx.startStrongswan({
    ns: h.right.ns,
    swanctlConf: swanctlConf({ ...swanSide(base), extra: { fragmentation: 'yes' } }),
    files: credFiles(p.swan, 'swan', p.ca.certPem),
    charonOptions: `fragment_size = ${FRAGMENT_SIZE}`,
  });
  await swan.loadAll();
  const settings = join(await ctx.subdir('settings'), 'strongswan.conf');
  await writeFile(settings, `charon {\n  fragment_size = ${FRAGMENT_SIZE}\n}\n`);
  const cyg = await startCertCygnet(ctx, h, swanctlConf(conn), credFiles(p.cyg, 'cygnet', p.ca.certPem), ['--settings', settings, '--tun', 'cyg0']);
  await cyg.peer.waitForLog(`loaded settings from ${settings}: fragmentSize ${FRAGMENT_SIZE}`, 1000);
  const cap = await startCapture(h.left.ns, 'eth0', join(await ctx.subdir('capture'), 'frag.pcap'), { captureFilter: 'udp' });

  await cyg.peer.initiate('net');
  const [ci, si] = await Promise.all([cyg.waitFor('established', establishedCygnet), swan.waitEstablished('cyg', 'net')]);
  assertSameSa(ci, si, { suite: GCM.suite, espSuite: GCM.espSuite, cygnetInitiated: true, h });
  const ping = await h.left.ns.ping(h.right.inner4, { count: 2, source: h.left.inner4 });
  assert.equal(ping.received, 2, `ping through the tunnel: ${ping.output}`);
  await cap.stop();

  // The wire: every IKE_AUTH datagram is HDR + SKF (payload type 53) and fits the fragment size.
  const r = await exec('tshark', ['-r', cap.file, '-n', '-Y', 'isakmp.exchangetype == 35', '-T', 'fields', '-e', 'ip.src', '-e', 'ip.len', '-e', 'isakmp.nextpayload', '-e', 'isakmp.flag_r', '-E', 'occurrence=f']);
  const auth = r.stdout.trim().split('\n').filter((l) => l).map((l) => {
    const [src, len, next, resp] = l.split('\t');
    return { src: src!, len: Number(len), next: Number(next), response: resp === '1' || resp === 'True' };
  });
  ctx.log(`IKE_AUTH datagrams: ${auth.map((a) => `${a.src} ${a.len}B np=${a.next}`).join(', ')}`);
  const fromCyg = auth.filter((a) => a.src === h.left.outer4 && !a.response);
  const fromSwan = auth.filter((a) => a.src === h.right.outer4 && a.response);
  assert.ok(fromCyg.length >= 3, `cygnet sent its IKE_AUTH request in fragments (${fromCyg.length} datagrams)`);
  assert.ok(fromSwan.length >= 3, `strongSwan sent its IKE_AUTH response in fragments (${fromSwan.length} datagrams)`);
  for (const a of [...fromCyg, ...fromSwan]) {
    assert.equal(a.next, 53, `IKE_AUTH from ${a.src} is HDR, SKF (next payload ${a.next})`);
    assert.ok(a.len <= FRAGMENT_SIZE, `IKE_AUTH datagram from ${a.src} of ${a.len} bytes fits fragment_size ${FRAGMENT_SIZE}`);
  }

  // Both logs: cygnet reassembled strongSwan's fragments; strongSwan split its own and reassembled cygnet's.
  const cygLine = await cyg.peer.waitForLog(/IKE message 1 reassembled from \d+ fragments/, 2000);
  assert.match(cygLine, new RegExp(`reassembled from ${fromSwan.length} fragments`), `cygnet counted strongSwan's fragments: ${cygLine}`);
  const split = await swan.waitForLog(/splitting IKE message \(\d+ bytes\) into \d+ fragments/, 2000);
  assert.match(split, new RegExp(`into ${fromSwan.length} fragments`), split);
  await swan.waitForLog(new RegExp(`received fragment #1 of ${fromCyg.length}`), 2000);
  await swan.waitForLog(/reassembled fragmented IKE message/, 2000);
}
