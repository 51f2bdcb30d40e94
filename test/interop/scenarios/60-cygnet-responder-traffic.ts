/**
 * Traffic with cygnet as the responder: strongSwan initiates (swanctl --initiate), cygnet answers with a real Linux
 * TUN. Pings cross the tunnel both ways, then bulk TCP (iperf3) both ways; both sides' SPIs agree. Together with
 * 22-cygnet-tun-ping and 25-cygnet-iperf (cygnet initiating) this covers both roles.
 */
import assert from 'node:assert/strict';
import { iperf3 } from '../lib/iperf.js';
import type { ScenarioContext } from '../lib/scenario.js';
import { mirror, pskSwanctlConf } from '../lib/swanctl-conf.js';
import { twoHosts } from '../lib/topology.js';
import { cygnetConnection, establishedCygnet, startCygnet } from './20-cygnet-psk-responder.js';

export const name = 'cygnet-responder-traffic';
export const timeoutMs = 45_000;

export async function run(ctx: ScenarioContext): Promise<void> {
  const h = await twoHosts(ctx.lab);
  const conn = cygnetConnection(h, { proposals: 'aes128gcm16-prfsha256-x25519', esp: 'aes128gcm16' });
  const cyg = await startCygnet(ctx, h, pskSwanctlConf(conn), ['--tun', 'cyg0']);
  await cyg.peer.waitForLog(/TUN device cyg0/, 5000);
  const swan = await ctx.startStrongswan({ ns: h.right.ns, swanctlConf: pskSwanctlConf(mirror(conn)) });
  await swan.loadAll();
  await swan.initiate('net');
  const [si, ci] = await Promise.all([swan.waitEstablished('cyg', 'net'), cyg.waitFor('SA established as responder', establishedCygnet)]);
  assert.equal(ci.initiator, false, 'cygnet is the responder');
  const sc = si.children.find((c) => c.state === 'INSTALLED')!;
  assert.equal(sc.spiIn, ci.children[0]!.spiOut, 'strongSwan inbound = cygnet outbound');
  assert.equal(sc.spiOut, ci.children[0]!.spiIn, 'strongSwan outbound = cygnet inbound');

  // cygnet's route into its TUN is installed by an `ip` process after the SA is up: wait for it before pinging.
  await cyg.peer.waitForLog(/installed route 10\.2\.0\.1\/32 dev cyg0/, 5000);
  const toRight = await h.left.ns.ping(h.right.inner4, { count: 3, source: h.left.inner4, intervalS: 0.1 });
  assert.equal(toRight.received, 3, `ping cygnet side -> strongSwan side:\n${toRight.output}`);
  const toLeft = await h.right.ns.ping(h.left.inner4, { count: 3, source: h.right.inner4, intervalS: 0.1 });
  assert.equal(toLeft.received, 3, `ping strongSwan side -> cygnet side:\n${toLeft.output}`);

  const up = await iperf3(h.right.ns, h.left.ns, h.right.inner4, { seconds: 3, logDir: ctx.dir });
  const down = await iperf3(h.right.ns, h.left.ns, h.right.inner4, { seconds: 3, reverse: true, logDir: ctx.dir });
  const msg = `iperf3 with cygnet responding: ${up.mbps.toFixed(1)} Mbit/s cygnet->strongSwan, ${down.mbps.toFixed(1)} Mbit/s strongSwan->cygnet`;
  ctx.log(msg);
  console.log(`    ${msg}`);
  assert.ok(up.mbps > 1 && down.mbps > 1, 'bulk TCP flows through the tunnel both ways');
}
