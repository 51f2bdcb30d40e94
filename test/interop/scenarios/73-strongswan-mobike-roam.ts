/**
 * MOBIKE (RFC 4555) against strongSwan 5.9.8, charon the moving initiator, cygnet the responder that follows
 * (issue 15). The topology of 72 mirrored:
 *
 *   left (cygnet, TUN cyg0)  eth0 192.0.2.1/24     <-veth->  eth0 192.0.2.2/24      right (charon, kernel-libipsec)
 *   IKE endpoint 203.0.113.1 on lo                  eth1 198.51.100.1/24  <-veth->  eth1 198.51.100.2/24
 *
 * right reaches 203.0.113.1 over eth0 (metric 100) or eth1 (metric 200). With a ping running from cygnet's side
 * through the tunnel (10.1.0.1 -> 10.2.0.1, every 100 ms), 192.0.2.2 is deleted from right's eth0: charon's
 * kernel-netlink sees it, charon sends UPDATE_SA_ADDRESSES from 198.51.100.2 (3.5) and cygnet follows (3.6): its
 * IKE SA and ESP SAs now go to 198.51.100.2, logged 'moved from ... to ...', without cygnet rekeying anything.
 * Asserted: the ping resumes within 2 s, the IKE SA SPIs are the same on both sides (charon's swanctl, cygnet's
 * vici and status file), both show the new address. As in 72, charon 5.9.8 with kernel-libipsec cannot update an
 * ESP SA (update_sa is NOT_SUPPORTED) and rekeys its CHILD SA after the move: cygnet answers that rekey.
 */
import assert from 'node:assert/strict';
import type { ScenarioContext } from '../lib/scenario.js';
import { mirror, pskSwanctlConf, type PskConnection } from '../lib/swanctl-conf.js';
import { establishedCygnet, startCygnet } from './20-cygnet-psk-responder.js';
import { continuousPing, mobikeHosts, resumedAfter } from '../lib/mobike.js';

export const name = 'strongswan-mobike-roam';
export const timeoutMs = 60_000;

export async function run(ctx: ScenarioContext): Promise<void> {
  const h = await mobikeHosts(ctx.lab, 'right');
  // The connection as cygnet (left, fixed) sees it.
  const conn: PskConnection = {
    name: 'cyg',
    localAddrs: h.fixed.outer4,
    remoteAddrs: '%any',
    localId: 'cygnet@cygnet.test',
    remoteId: 'swan@cygnet.test',
    proposals: 'aes128gcm16-prfsha256-x25519',
    secret: 'mobike-psk',
    child: { name: 'net', localTs: `${h.left.inner4}/32`, remoteTs: `${h.right.inner4}/32`, espProposals: 'aes128gcm16', startAction: 'none' },
    extra: { mobike: 'yes' },
  };
  const cyg = await startCygnet(ctx, h, pskSwanctlConf(conn), ['--tun', 'cyg0', '--debug', 'ike 2, net 2, esp 2, dmn 2, knl 2']);
  const theirs = mirror(conn);
  const swan = await ctx.startStrongswan({
    ns: h.right.ns,
    swanctlConf: pskSwanctlConf({ ...theirs, localAddrs: '%any', remoteAddrs: h.fixed.outer4, extra: { mobike: 'yes' } }),
    logLevels: { default: 1, ike: 2, cfg: 1, enc: 1, net: 1, knl: 2 },
  });
  await swan.loadAll();
  await swan.initiate('net');
  const [si, ci] = await Promise.all([swan.waitEstablished('cyg', 'net'), cyg.waitFor('SA established', establishedCygnet)]);
  assert.equal(si.localHost, '192.0.2.2', 'charon starts on eth0');
  assert.equal(ci.remote, '192.0.2.2[4500]');
  assert.equal(ci.spiI, si.initiatorSpi);
  assert.equal(ci.spiR, si.responderSpi);
  const ike = `${si.initiatorSpi}_i ${si.responderSpi}_r`;
  await cyg.peer.waitForLog(/installed route 10\.2\.0\.1\/32 dev cyg0/, 3000);
  ctx.log(`established: IKE ${ike}`);

  const ping = await continuousPing(ctx, h.left.ns, h.left.inner4, h.right.inner4, 'ping-left');
  try {
    await resumedAfter(ping, Date.now(), 3000);
    const t1 = Date.now();
    await h.right.ns.ip(['addr', 'del', '192.0.2.2/24', 'dev', 'eth0']);
    const r1 = await resumedAfter(ping, t1, 2000);
    ctx.log(`charon's address deleted: ping resumed ${r1.afterMs} ms later (gap between replies ${r1.gapMs} ms)`);
    assert.ok(r1.afterMs < 2000, `traffic resumed within 2 s (${r1.afterMs} ms)`);
    // charon lists the CHILD SA its rekey replaced as DELETED for a moment: the installed one is the current one.
    const s1 = await swan.waitForSa((sas) => sas.find((s) => s.name === 'cyg' && s.localHost === '198.51.100.2' && s.children.some((c) => c.state === 'INSTALLED')), 5000, 'charon on 198.51.100.2');
    assert.equal(`${s1.initiatorSpi}_i ${s1.responderSpi}_r`, ike, 'charon: the same IKE SA');
    await cyg.peer.waitForLog(/IKE_SA cyg\[\d+\] moved from 203\.0\.113\.1\[4500\]-192\.0\.2\.2\[4500\] to 203\.0\.113\.1\[4500\]-198\.51\.100\.2\[4500\]/, 2000);
    const s1c = s1.children.find((c) => c.state === 'INSTALLED');
    const c1 = await cyg.waitFor('status: 198.51.100.2 and the CHILD SPIs charon has', (s) => {
      const e = establishedCygnet(s);
      return e?.remote === '198.51.100.2[4500]' && e.children.length === 1 && e.children[0]?.spiIn === s1c?.spiOut && e;
    });
    assert.equal(c1.spiI, si.initiatorSpi, 'cygnet status: the same IKE SA');
    const v1 = (await cyg.peer.listSas())[0];
    assert.equal(v1 && `${v1.initiatorSpi}_i ${v1.responderSpi}_r`, ike, "cygnet's vici: the same IKE SA");
    assert.equal(v1?.remoteHost, '198.51.100.2', "cygnet's vici shows the peer's new address");
    assert.equal((await cyg.peer.grep(/sending CREATE_CHILD_SA request/)).length, 0, 'cygnet rekeyed nothing itself');
    // Traffic the other way too, over the new path.
    const back = await h.right.ns.ping(h.left.inner4, { count: 3, source: h.right.inner4 });
    assert.equal(back.received, 3, `ping right -> left after the move:\n${back.output}`);
    assert.equal((await swan.listSas()).length, 1, 'charon has one IKE SA');
  } finally {
    await ping.stop();
  }
}
