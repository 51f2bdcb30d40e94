/**
 * MOBIKE (RFC 4555) over TCP encapsulation (RFC 9329 section 7.1), cygnet <-> cygnet in 74's two-uplink topology
 * (test/interop/lib/mobike.ts; issues 18 and 15): both sides `mobike = yes`, the left (initiator, the mover)
 * `encap = tcp`, the right listens on TCP 4500; UDP 500/4500 dropped in both namespaces (as in 95), and the
 * mover's UDP output to those ports counted.
 *
 * During a 100 ms ping the left loses 192.0.2.1, the address its TCP stream runs from. What must happen and is
 * asserted: the left opens a NEW TCP connection from 198.51.100.1 and sends UPDATE_SA_ADDRESSES over it (the
 * responder never connects, RFC 9329 6.1); the right moves the IKE SA, and with it ESP, to that stream (the
 * SA's remote is the new stream's address and port), and both sides close the old stream; the ping resumes
 * within 5 s on the SAME IKE SA and CHILD SPIs (nothing rekeyed); both status files show transport tcp and the
 * new stream; the mover sent no UDP to 500/4500 at all.
 */
import assert from 'node:assert/strict';
import type { ScenarioContext } from '../lib/scenario.js';
import { mirror, pskSwanctlConf } from '../lib/swanctl-conf.js';
import type { TwoHosts } from '../lib/topology.js';
import { establishedCygnet, startCygnet } from './20-cygnet-psk-responder.js';
import { continuousPing, mobikeHosts, moverConnection, resumedAfter, spiSummary as spis } from '../lib/mobike.js';

export const name = 'cygnet-tcp-mobike';
export const timeoutMs = 90_000;

/** nftables: the mover's UDP output to 500/4500, counted (and dropped: UDP is "blocked" on this network). */
const UDP_OUT = 'table inet cygudpout {\n  chain output {\n    type filter hook output priority filter; policy accept;\n    udp dport { 500, 4500 } counter drop\n  }\n}\n';

export async function run(ctx: ScenarioContext): Promise<void> {
  const h = await mobikeHosts(ctx.lab, 'left');
  for (const host of [h.left, h.right]) await host.ns.block('udp dport { 500, 4500 }');
  await h.left.ns.nft(UDP_OUT);
  const conn = moverConnection(h, { mobike: 'yes', encap: 'tcp' });
  const theirs = mirror(conn);
  const debug = ['--debug', 'ike 2, net 2, esp 1, dmn 1, knl 1'];
  // The responder needs no `encap` of its own: it accepts TCP streams on its listener (--tcp-port).
  const r = await startCygnet(ctx, { left: h.right, right: h.left } as TwoHosts, pskSwanctlConf({ ...theirs, localAddrs: h.fixed.outer4, remoteAddrs: '%any', extra: { mobike: 'yes' }, child: { ...theirs.child, startAction: 'none' } }), ['--tun', 'cyg1', '--tcp-port', '4500', ...debug]);
  const l = await startCygnet(ctx, h, pskSwanctlConf(conn), ['--tun', 'cyg0', ...debug]);
  const [li, ri] = await Promise.all([l.waitFor('left established', establishedCygnet, 15_000), r.waitFor('right established', establishedCygnet, 15_000)]);
  assert.equal(li.local, '192.0.2.1[4500]');
  assert.equal(li.transport, 'tcp', 'left: transport tcp');
  assert.equal(ri.transport, 'tcp', 'right: transport tcp');
  assert.match(li.tcp ?? '', /^192\.0\.2\.1\[\d+\]-203\.0\.113\.2\[4500\]$/, 'left: the stream runs from 192.0.2.1');
  assert.match(ri.remote, /^192\.0\.2\.1\[\d+\]$/, "right: the SA's remote is the stream's TCP address and port");
  const before = { l: spis(li), r: spis(ri) };
  ctx.log(`established over TCP ${li.tcp}: left ${before.l}; right ${before.r}`);
  await Promise.all([l.peer.waitForLog(/installed route 10\.2\.0\.1\/32 dev cyg0/, 5000), r.peer.waitForLog(/installed route 10\.1\.0\.1\/32 dev cyg1/, 5000)]);

  const ping = await continuousPing(ctx, h.left.ns, h.left.inner4, h.right.inner4, 'ping-left');
  try {
    await resumedAfter(ping, Date.now(), 3000);
    const t = Date.now();
    await h.left.ns.ip(['addr', 'del', '192.0.2.1/24', 'dev', 'eth0']);
    // The initiator's new stream from the new address, the update over it, the responder's move to it.
    await l.peer.waitForLog(/TCP connection 198\.51\.100\.1\[\d+\]-203\.0\.113\.2\[4500\] established/, 5000);
    await r.peer.waitForLog(/TCP connection from 198\.51\.100\.1\[\d+\] to 203\.0\.113\.2\[4500\] accepted/, 5000);
    await r.peer.waitForLog(/IKE_SA cyg\[\d+\] moved from 203\.0\.113\.2\[4500\]-192\.0\.2\.1\[\d+\] to 203\.0\.113\.2\[4500\]-198\.51\.100\.1\[\d+\]/, 5000);
    const res = await resumedAfter(ping, t, 5000);
    ctx.log(`address deleted: ping resumed ${res.afterMs} ms later (gap between replies ${res.gapMs} ms)`);
    assert.ok(res.afterMs < 5000, `traffic resumed within 5 s (${res.afterMs} ms)`);
    // Both close the old stream (RFC 9329 7.1: IKE and ESP now ride the new one).
    await l.peer.waitForLog(/TCP connection 192\.0\.2\.1\[\d+\]-203\.0\.113\.2\[4500\] closed: IKE SA moved/, 5000);
    await r.peer.waitForLog(/TCP connection 203\.0\.113\.2\[4500\]-192\.0\.2\.1\[\d+\] closed: IKE SA moved/, 5000);
    const [l2, r2] = await Promise.all([
      l.waitFor('left on 198.51.100.1', (s) => establishedCygnet(s)?.local === '198.51.100.1[4500]' && establishedCygnet(s)),
      r.waitFor('right sees 198.51.100.1', (s) => /^198\.51\.100\.1\[\d+\]$/.test(establishedCygnet(s)?.remote ?? '') && establishedCygnet(s)),
    ]);
    assert.equal(spis(l2), before.l, 'left: the same IKE SA and CHILD SPIs');
    assert.equal(spis(r2), before.r, 'right: the same IKE SA and CHILD SPIs');
    assert.equal(l2.transport, 'tcp', 'left: still over TCP');
    assert.equal(r2.transport, 'tcp', 'right: still over TCP');
    assert.match(l2.tcp ?? '', /^198\.51\.100\.1\[\d+\]-203\.0\.113\.2\[4500\]$/, "left's status: the new stream");
    const port = /\[(\d+)\]$/.exec(r2.remote)?.[1];
    assert.equal(l2.tcp, `198.51.100.1[${port}]-203.0.113.2[4500]`, "right's SA remote is the left's new stream");
    ctx.log(`moved: left over TCP ${l2.tcp}; right ${r2.tcp} (remote ${r2.remote})`);
    for (const p of [l.peer, r.peer]) assert.equal((await p.grep(/CREATE_CHILD_SA/)).length, 0, 'nothing rekeyed');
    const back = await h.right.ns.ping(h.left.inner4, { count: 3, source: h.right.inner4 });
    assert.equal(back.received, 3, `ping right -> left after the move:\n${back.output}`);
  } finally {
    await ping.stop();
  }
  const nft = await h.left.ns.exec('nft', ['list', 'table', 'inet', 'cygudpout']);
  const packets = Number(/counter packets (\d+)/.exec(nft.stdout)?.[1] ?? 'NaN');
  ctx.log(`the mover's UDP output to 500/4500: ${packets} packets`);
  assert.equal(packets, 0, `no UDP to 500/4500 from the mover:\n${nft.stdout}`);
}
