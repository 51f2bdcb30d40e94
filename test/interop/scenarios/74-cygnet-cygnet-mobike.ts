/**
 * MOBIKE (RFC 4555) cygnet <-> cygnet with real TUNs, in 72's topology (issue 15): the left cygnet (initiator,
 * two uplinks) loses 192.0.2.1 during a 100 ms ping and moves to 198.51.100.1; the right cygnet (responder at
 * 203.0.113.2) follows. Unlike charon with kernel-libipsec (72/73: it cannot update an ESP SA and rekeys), both
 * sides keep the SAME IKE SA and the SAME CHILD SPIs: the ESP SAs move, nothing is rekeyed. Asserted from both
 * status files and both vici sockets (swanctl --list-sas --uri), and the ping resumes within 2 s.
 */
import assert from 'node:assert/strict';
import type { ScenarioContext } from '../lib/scenario.js';
import { mirror, pskSwanctlConf, type PskConnection } from '../lib/swanctl-conf.js';
import type { TwoHosts } from '../lib/topology.js';
import { establishedCygnet, startCygnet } from './20-cygnet-psk-responder.js';
import { continuousPing, mobikeHosts, moverConnection, resumedAfter, spiSummary as spis } from '../lib/mobike.js';

export const name = 'cygnet-cygnet-mobike';
export const timeoutMs = 60_000;

export async function run(ctx: ScenarioContext): Promise<void> {
  const h = await mobikeHosts(ctx.lab, 'left');
  const conn: PskConnection = moverConnection(h, { mobike: 'yes' });
  const theirs = mirror(conn);
  const debug = ['--debug', 'ike 2, net 1, esp 1, dmn 1, knl 1'];
  const r = await startCygnet(ctx, { left: h.right, right: h.left } as TwoHosts, pskSwanctlConf({ ...theirs, localAddrs: h.fixed.outer4, remoteAddrs: '%any', child: { ...theirs.child, startAction: 'none' } }), ['--tun', 'cyg1', ...debug]);
  const l = await startCygnet(ctx, h, pskSwanctlConf(conn), ['--tun', 'cyg0', ...debug]);
  const [li, ri] = await Promise.all([l.waitFor('left established', establishedCygnet), r.waitFor('right established', establishedCygnet)]);
  assert.equal(li.local, '192.0.2.1[4500]');
  assert.equal(ri.remote, '192.0.2.1[4500]');
  assert.equal(li.children[0]?.spiIn, ri.children[0]?.spiOut);
  const before = { l: spis(li), r: spis(ri) };
  ctx.log(`established: left ${before.l}; right ${before.r}`);
  await Promise.all([l.peer.waitForLog(/installed route 10\.2\.0\.1\/32 dev cyg0/, 5000), r.peer.waitForLog(/installed route 10\.1\.0\.1\/32 dev cyg1/, 5000)]);

  const ping = await continuousPing(ctx, h.left.ns, h.left.inner4, h.right.inner4, 'ping-left');
  try {
    await resumedAfter(ping, Date.now(), 3000);
    const t = Date.now();
    await h.left.ns.ip(['addr', 'del', '192.0.2.1/24', 'dev', 'eth0']);
    const res = await resumedAfter(ping, t, 2000);
    ctx.log(`address deleted: ping resumed ${res.afterMs} ms later (gap between replies ${res.gapMs} ms)`);
    assert.ok(res.afterMs < 2000, `traffic resumed within 2 s (${res.afterMs} ms)`);
    await r.peer.waitForLog(/IKE_SA cyg\[\d+\] moved from 203\.0\.113\.2\[4500\]-192\.0\.2\.1\[4500\] to 203\.0\.113\.2\[4500\]-198\.51\.100\.1\[4500\]/, 3000);
    const [l2, r2] = await Promise.all([
      l.waitFor('left on 198.51.100.1', (s) => establishedCygnet(s)?.local === '198.51.100.1[4500]' && establishedCygnet(s)),
      r.waitFor('right sees 198.51.100.1', (s) => establishedCygnet(s)?.remote === '198.51.100.1[4500]' && establishedCygnet(s)),
    ]);
    assert.equal(spis(l2), before.l, 'left: the same IKE SA and CHILD SPIs');
    assert.equal(spis(r2), before.r, 'right: the same IKE SA and CHILD SPIs');
    const [lv, rv] = await Promise.all([l.peer.listSas(), r.peer.listSas()]);
    assert.equal(lv[0]?.localHost, '198.51.100.1', "left's vici shows its new address");
    assert.equal(rv[0]?.remoteHost, '198.51.100.1', "right's vici shows the peer's new address");
    assert.equal(lv[0]?.children[0]?.spiIn, li.children[0]?.spiIn, "left's vici: the same CHILD SPI");
    assert.equal(rv[0]?.children[0]?.spiIn, ri.children[0]?.spiIn, "right's vici: the same CHILD SPI");
    for (const p of [l.peer, r.peer]) assert.equal((await p.grep(/CREATE_CHILD_SA/)).length, 0, 'nothing rekeyed');
    const back = await h.right.ns.ping(h.left.inner4, { count: 3, source: h.right.inner4 });
    assert.equal(back.received, 3, `ping right -> left after the move:\n${back.output}`);
  } finally {
    await ping.stop();
  }
}
