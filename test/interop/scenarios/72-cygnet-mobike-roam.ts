/**
 * MOBIKE (RFC 4555) against strongSwan 5.9.8, cygnet the moving initiator (issue 15):
 *
 *   left (cygnet, TUN cyg0)  eth0 192.0.2.1/24     <-veth->  eth0 192.0.2.2/24      right (charon, kernel-libipsec)
 *                            eth1 198.51.100.1/24  <-veth->  eth1 198.51.100.2/24   IKE endpoint 203.0.113.2 on lo
 *
 * left reaches 203.0.113.2 through eth0 (metric 100) or, when that path is gone, through eth1 (metric 200): two
 * uplinks of a laptop. With a ping running through the tunnel (10.1.0.1 -> 10.2.0.1, every 100 ms), 192.0.2.1 is
 * deleted from eth0: cygnet hears RTM_DELADDR, the kernel now picks 198.51.100.1 for the peer, cygnet sends
 * UPDATE_SA_ADDRESSES from there (3.5) and charon follows (3.6). Asserted: the ping resumes within 2 s, the IKE SA
 * SPIs are the same before and after on both sides (swanctl --list-sas against charon and against cygnet's vici,
 * and cygnet's status file), both show the new addresses, and cygnet itself rekeys nothing: its ESP SAs follow.
 * Then eth1's link goes down after 192.0.2.1 is back on eth0: the SA moves back (a link-down event this time).
 * Then charon rekeys the IKE SA (so charon is the new SA's IKE initiator) and 192.0.2.1 goes again: cygnet, still
 * the MOBIKE initiator (RFC 4555 1.1: who started the first IKE SA), moves the rekeyed SA.
 *
 * The CHILD SPIs: charon 5.9.8 with kernel-libipsec cannot move an ESP SA (kernel_libipsec_ipsec.c update_sa
 * returns NOT_SUPPORTED, so ike_sa.c update_hosts rekeys every CHILD SA after any address change, log line
 * 'queueing CHILD_REKEY task'). So charon's CHILD SPIs change by ITS rekey, which cygnet answers (asserted: one
 * REKEY_SA exchange per move, initiated by charon, same reqid); 74 shows the same SPIs across a move cygnet-cygnet.
 *
 * The topology and the continuous ping live in ../lib/mobike.ts (shared with 70, 71, 73, 74).
 */
import assert from 'node:assert/strict';
import { sleep } from '../lib/exec.js';
import { continuousPing, resumedAfter, roamingCygnet } from '../lib/mobike.js';
import type { ScenarioContext } from '../lib/scenario.js';
import type { IkeSaInfo } from '../lib/swanctl-output.js';
import type { StrongswanPeer } from '../lib/strongswan.js';
import { establishedCygnet } from './20-cygnet-psk-responder.js';

export const name = 'cygnet-mobike-roam';
export const timeoutMs = 90_000;

const ikeSpis = (s: { initiatorSpi: string; responderSpi: string }) => `${s.initiatorSpi}_i ${s.responderSpi}_r`;
const childSpis = (s: IkeSaInfo) => s.children.map((c) => `${c.spiIn}_i ${c.spiOut}_o`).join(', ');

async function countLog(p: { grep(re: RegExp): Promise<string[]> }, re: RegExp): Promise<number> {
  return (await p.grep(re)).length;
}

/** charon (kernel-libipsec) rekeyed the CHILD SA after the address change, as it must (see the top comment). */
async function charonRekeyedChild(swan: { grep(re: RegExp): Promise<string[]>; waitForSa: StrongswanPeer['waitForSa'] }, n: number): Promise<void> {
  // charon lists the replaced CHILD SA as DELETED for a moment: wait until only the new one is left.
  await swan.waitForSa((sas) => sas[0]?.children.length === 1 && sas[0].children[0]?.state === 'INSTALLED', 10_000, 'charon to finish its CHILD rekey');
  const queued = await countLog(swan, /queueing CHILD_REKEY task/);
  assert.equal(queued, n, `charon rekeyed its CHILD SA after each of ${n} address change(s) (kernel-libipsec cannot update SAs)`);
}

export async function run(ctx: ScenarioContext): Promise<void> {
  const { h, swan, cyg, si } = await roamingCygnet(ctx, { mobike: 'yes', localAddrs: '%any' });
  const before = { ike: ikeSpis(si), child: childSpis(si) };
  const viciBefore = (await cyg.peer.listSas())[0];
  assert.ok(viciBefore, "cygnet's vici lists the SA");
  assert.equal(ikeSpis(viciBefore), before.ike, "cygnet's vici: the same IKE SPIs as charon's");
  ctx.log(`established: IKE ${before.ike}, CHILD (charon) ${before.child}`);

  const ping = await continuousPing(ctx, h.left.ns, h.left.inner4, h.right.inner4, 'ping-left');
  try {
    await resumedAfter(ping, Date.now(), 3000);

    // 1. The address goes from eth0: cygnet moves to eth1's.
    const t1 = Date.now();
    await h.left.ns.ip(['addr', 'del', '192.0.2.1/24', 'dev', 'eth0']);
    const r1 = await resumedAfter(ping, t1, 2000);
    ctx.log(`address deleted: ping resumed ${r1.afterMs} ms later (gap between replies ${r1.gapMs} ms)`);
    const s1 = await swan.waitForSa((sas) => sas.find((s) => s.name === 'cyg' && s.remoteHost === '198.51.100.1'), 5000, 'charon to see cygnet at 198.51.100.1');
    await cyg.peer.waitForLog(/moving to 198\.51\.100\.1 \(MOBIKE\)/, 2000);
    await cyg.peer.waitForLog(/IKE_SA cyg\[\d+\] moved from 192\.0\.2\.1\[4500\]-203\.0\.113\.2\[4500\] to 198\.51\.100\.1\[4500\]-203\.0\.113\.2\[4500\]/, 2000);
    assert.equal(ikeSpis(s1), before.ike, 'charon: the same IKE SA');
    await charonRekeyedChild(swan, 1);
    const s1c = (await swan.listSas())[0]?.children[0];
    const c1 = await cyg.waitFor('status: 198.51.100.1 and the CHILD SPIs charon has', (s) => {
      const e = establishedCygnet(s);
      return e?.local === '198.51.100.1[4500]' && e.children.length === 1 && e.children[0]?.spiIn === s1c?.spiOut && e;
    });
    assert.equal(c1.spiI, si.initiatorSpi, 'cygnet status: the same IKE SA');
    assert.equal(c1.children[0]?.spiOut, s1c?.spiIn, 'cygnet status: the CHILD SPIs charon has');
    const v1 = (await cyg.peer.listSas())[0];
    assert.equal(v1 && ikeSpis(v1), before.ike, "cygnet's vici: the same IKE SA");
    assert.equal(v1?.localHost, '198.51.100.1', "cygnet's vici shows the new local address");
    assert.equal(v1?.children.length, 1);

    // 2. eth0 gets its address back, eth1's link goes down: back to eth0.
    await h.left.ns.addAddress('eth0', '192.0.2.1/24');
    await h.left.ns.addRoute('203.0.113.2/32', ['via', '192.0.2.2', 'dev', 'eth0', 'metric', '100']);
    await sleep(300);
    const t2 = Date.now();
    await h.left.ns.ip(['link', 'set', 'eth1', 'down']);
    const r2 = await resumedAfter(ping, t2, 2000);
    ctx.log(`eth1 down: ping resumed ${r2.afterMs} ms later (gap between replies ${r2.gapMs} ms)`);
    const s2 = await swan.waitForSa((sas) => sas.find((s) => s.name === 'cyg' && s.remoteHost === '192.0.2.1'), 5000, 'charon to see cygnet at 192.0.2.1 again');
    assert.equal(ikeSpis(s2), before.ike, 'charon: still the same IKE SA');
    await charonRekeyedChild(swan, 2);
    const s2c = (await swan.listSas())[0]?.children[0];
    await cyg.waitFor('status: 192.0.2.1 again and the CHILD SPIs charon has', (s) => {
      const e = establishedCygnet(s);
      return e?.local === '192.0.2.1[4500]' && e.children.length === 1 && e.children[0]?.spiIn === s2c?.spiOut && e;
    });
    // 3. charon (the MOBIKE responder) rekeys the IKE SA: charon is now the IKE header's initiator of the new SA
    //    (RFC 7296 2.18), yet cygnet stays the MOBIKE initiator (RFC 4555 1.1) and still moves it.
    await h.left.ns.ip(['link', 'set', 'eth1', 'up']);
    await h.left.ns.addRoute('203.0.113.2/32', ['via', '198.51.100.2', 'dev', 'eth1', 'metric', '200']);
    await swan.rekey({ ike: 'cyg' });
    const s3 = await swan.waitForSa((sas) => sas.length === 1 && sas[0]?.state === 'ESTABLISHED' && ikeSpis(sas[0]) !== before.ike && sas[0], 10_000, 'charon to rekey the IKE SA');
    const rekeyed = ikeSpis(s3);
    await cyg.waitFor('status: the IKE SA charon rekeyed', (s) => {
      const e = establishedCygnet(s);
      return e?.spiI === s3.initiatorSpi && e;
    });
    await sleep(300);
    const t3 = Date.now();
    await h.left.ns.ip(['addr', 'del', '192.0.2.1/24', 'dev', 'eth0']);
    const r3 = await resumedAfter(ping, t3, 2000);
    ctx.log(`after charon's IKE rekey (${before.ike} -> ${rekeyed}), address deleted: ping resumed ${r3.afterMs} ms later (gap ${r3.gapMs} ms)`);
    const s4 = await swan.waitForSa((sas) => sas.find((s) => s.name === 'cyg' && s.remoteHost === '198.51.100.1'), 5000, 'charon to see the rekeyed SA at 198.51.100.1');
    assert.equal(ikeSpis(s4), rekeyed, 'charon: the rekeyed IKE SA moved, not a new one');
    await charonRekeyedChild(swan, 3);

    assert.equal(await countLog(cyg.peer, /sending CREATE_CHILD_SA request/), 0, 'cygnet rekeyed nothing itself');
    assert.ok(r1.afterMs < 2000 && r2.afterMs < 2000 && r3.afterMs < 2000, 'traffic resumed within 2 s every time');
    const sas = await swan.listSas();
    assert.equal(sas.length, 1, 'charon has one IKE SA');
  } finally {
    await ping.stop();
  }
}
