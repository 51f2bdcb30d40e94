/**
 * MOBIKE path probing (RFC 4555 3.5) against strongSwan 5.9.8, cygnet the initiator with two uplinks (issue 15):
 * the uplink in use dies but keeps its address (a Wi-Fi that still has its lease and carries nothing).
 *
 *   left (cygnet, TUN cyg0)  eth0 192.0.2.1/24     <-veth->  eth0 192.0.2.2/24      right (charon, kernel-libipsec)
 *                            eth1 198.51.100.1/24  <-veth->  eth1 198.51.100.2/24   IKE endpoint 203.0.113.2 on lo
 *
 * Topology and ping from ../lib/mobike.ts (as 72). cygnet runs with dpd_delay = 1s and short retransmissions
 * (--settings charon.retransmit_*). With a ping through the tunnel, an nftables table in cygnet's namespace drops
 * everything in and out of eth0; no address or route changes, so the daemon sees no address event. The ping stops,
 * cygnet's DPD goes unanswered, and from its second retransmission it also goes as copies over cygnet's other
 * paths ('checking paths' at ike 1): its other address 198.51.100.1 x charon's addresses (203.0.113.2 and the
 * ADDITIONAL_IP4_ADDRESSes charon announced). 203.0.113.2 is still routed over eth0 (metric 100), so the path that
 * works is 198.51.100.1 -> 198.51.100.2 (charon's eth1 address, announced in IKE_AUTH). Its answer moves the SA
 * there with UPDATE_SA_ADDRESSES. Asserted: the ping resumes, charon ends with one IKE SA, the same SPIs as
 * before, at 198.51.100.1; cygnet logs the probing and the move; no IKE SA was destroyed or re-created.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { continuousPing, resumedAfter, roamingCygnet } from '../lib/mobike.js';
import type { ScenarioContext } from '../lib/scenario.js';

export const name = 'cygnet-mobike-deadpath';
export const timeoutMs = 60_000;

const ikeSpis = (s: { initiatorSpi: string; responderSpi: string }) => `${s.initiatorSpi}_i ${s.responderSpi}_r`;

export async function run(ctx: ScenarioContext): Promise<void> {
  const settings = join(await ctx.subdir('settings'), 'strongswan.conf');
  await writeFile(settings, 'charon {\n  retransmit_timeout = 0.5\n  retransmit_base = 1.4\n  retransmit_tries = 5\n}\n');
  const { h, swan, cyg, si } = await roamingCygnet(ctx, { mobike: 'yes', localAddrs: '%any', extra: { dpd_delay: '1s' }, cygnetArgs: ['--settings', settings] });
  const before = ikeSpis(si);
  // charon told cygnet its other addresses in IKE_AUTH (RFC 4555 3.4): the paths cygnet can probe.
  await cyg.peer.waitForLog(/peer's additional addresses: .*198\.51\.100\.2/, 3000);
  ctx.log(`established: IKE ${before}`);

  const ping = await continuousPing(ctx, h.left.ns, h.left.inner4, h.right.inner4, 'ping-left');
  try {
    await resumedAfter(ping, Date.now(), 3000);
    // eth0 carries nothing any more, both ways; its address and routes stay.
    const t = Date.now();
    await h.left.ns.nft('table inet deadpath {\n  chain in { type filter hook input priority 0; iifname "eth0" drop; }\n  chain out { type filter hook output priority 0; oifname "eth0" drop; }\n}\n');
    const r = await resumedAfter(ping, t + 500, 15_000);
    ctx.log(`eth0 dead (address kept): ping resumed ${r.afterMs + 500} ms later (gap between replies ${r.gapMs} ms)`);
    const probes = await cyg.peer.grep(/checking paths .*198\.51\.100\.1\[4500\] - 198\.51\.100\.2\[4500\]/);
    assert.ok(probes.length >= 1, 'cygnet probed its other paths, 198.51.100.1 -> 198.51.100.2 among them');
    await cyg.peer.waitForLog(/response from 198\.51\.100\.2\[4500\] to 198\.51\.100\.1\[4500\], not over 192\.0\.2\.1\[4500\] - 203\.0\.113\.2\[4500\]/, 3000);
    await cyg.peer.waitForLog(/IKE_SA cyg\[\d+\] moved from 192\.0\.2\.1\[4500\]-203\.0\.113\.2\[4500\] to 198\.51\.100\.1\[4500\]-198\.51\.100\.2\[4500\]/, 3000);
    const s1 = await swan.waitForSa((sas) => sas.find((s) => s.name === 'cyg' && s.remoteHost === '198.51.100.1'), 5000, 'charon to see cygnet at 198.51.100.1');
    assert.equal(ikeSpis(s1), before, 'charon: the same IKE SA');
    const sas = await swan.listSas();
    assert.equal(sas.length, 1, 'charon has one IKE SA');
    assert.equal((await cyg.peer.grep(/did not answer DPD/)).length, 0, 'cygnet destroyed no SA');
    assert.equal((await cyg.peer.grep(/initiating IKE_SA/)).length, 1, 'cygnet initiated only the first IKE SA');
    const v = (await cyg.peer.listSas())[0];
    assert.equal(v && ikeSpis(v), before, "cygnet's vici: the same IKE SA");
    assert.equal(v?.localHost, '198.51.100.1', "cygnet's vici shows the new local address");
  } finally {
    await ping.stop();
  }
}
