/**
 * cygnet <-> cygnet across two namespaces with real TUNs (no strongSwan): IKE SA + CHILD SA with matching SPIs in
 * both status files, pings both ways, iperf3 both ways (cygnet's own data-path throughput, printed), and a
 * SIGTERM Delete honoured by the other side.
 */
import assert from 'node:assert/strict';
import { iperf3 } from '../lib/iperf.js';
import type { ScenarioContext } from '../lib/scenario.js';
import { mirror, pskSwanctlConf } from '../lib/swanctl-conf.js';
import { twoHosts, type TwoHosts } from '../lib/topology.js';
import { cygnetConnection, establishedCygnet, startCygnet } from './20-cygnet-psk-responder.js';

export const name = 'cygnet-cygnet';
export const timeoutMs = 45_000;

export async function run(ctx: ScenarioContext): Promise<void> {
  const h = await twoHosts(ctx.lab);
  const conn = cygnetConnection(h, { proposals: 'aes128gcm16-prfsha256-x25519', esp: 'aes128gcm16', startAction: 'start' });
  const theirs = mirror(conn);
  const r = await startCygnet(ctx, { left: h.right, right: h.left } as TwoHosts, pskSwanctlConf({ ...theirs, child: { ...theirs.child, startAction: 'none' } }), ['--tun', 'cyg1', '--debug', 'any 1']);
  const l = await startCygnet(ctx, h, pskSwanctlConf(conn), ['--tun', 'cyg0', '--debug', 'any 1']);
  const [li, ri] = await Promise.all([l.waitFor('left established', establishedCygnet), r.waitFor('right established', establishedCygnet)]);
  assert.equal(li.spiI, ri.spiI);
  assert.equal(li.spiR, ri.spiR);
  assert.equal(li.children[0]!.spiIn, ri.children[0]!.spiOut);
  assert.equal(li.children[0]!.spiOut, ri.children[0]!.spiIn);

  // The routes into the TUNs are installed by `ip` processes after the SA is up: wait for them before pinging.
  await Promise.all([l.peer.waitForLog(/installed route 10\.2\.0\.1\/32 dev cyg0/, 5000), r.peer.waitForLog(/installed route 10\.1\.0\.1\/32 dev cyg1/, 5000)]);
  const p = await h.left.ns.ping(h.right.inner4, { count: 3, source: h.left.inner4 });
  assert.equal(p.received, 3, `ping left -> right: ${p.output}`);
  const b = await h.right.ns.ping(h.left.inner4, { count: 3, source: h.right.inner4 });
  assert.equal(b.received, 3, `ping right -> left: ${b.output}`);

  const up = await iperf3(h.right.ns, h.left.ns, h.right.inner4, { seconds: 3, logDir: ctx.dir });
  const down = await iperf3(h.right.ns, h.left.ns, h.right.inner4, { seconds: 3, reverse: true, logDir: ctx.dir });
  const msg = `iperf3 cygnet <-> cygnet: ${up.mbps.toFixed(1)} Mbit/s left->right (${up.retransmits} retransmits), ${down.mbps.toFixed(1)} Mbit/s right->left (${down.retransmits} retransmits)`;
  ctx.log(msg);
  console.log(`    ${msg}`);
  assert.ok(up.mbps > 1 && down.mbps > 1, 'bulk TCP both ways');
  for (const [side, c] of [['left', l], ['right', r]] as const) {
    process.kill(c.peer.process.pid, 'SIGUSR1');
    await new Promise((res) => setTimeout(res, 200));
    ctx.log(`${side} counters: ${JSON.stringify(c.status()?.counters)}`);
  }

  assert.equal(await l.peer.stop(5000), 0, 'left exits 0 on SIGTERM');
  await r.waitFor('right without SA after the Delete', (s) => s.ikeSas.length === 0 || undefined, 5000);
}
