/**
 * Bulk TCP through cygnet (real TUN) <-> strongSwan (kernel-libipsec), both directions: sanity that the data
 * path carries real flows, and the honest number (printed; strongSwan <-> strongSwan does ~50-70 Mbit/s here).
 */
import assert from 'node:assert/strict';
import { iperf3 } from '../lib/iperf.js';
import type { ScenarioContext } from '../lib/scenario.js';
import { mirror, pskSwanctlConf } from '../lib/swanctl-conf.js';
import { twoHosts } from '../lib/topology.js';
import { cygnetConnection, establishedCygnet, startCygnet } from './20-cygnet-psk-responder.js';

export const name = 'cygnet-iperf';
export const timeoutMs = 40_000;

export async function run(ctx: ScenarioContext): Promise<void> {
  const h = await twoHosts(ctx.lab);
  const conn = cygnetConnection(h, { proposals: 'aes128gcm16-prfsha256-x25519', esp: 'aes128gcm16', startAction: 'start' });
  const theirs = mirror(conn);
  const swan = await ctx.startStrongswan({ ns: h.right.ns, swanctlConf: pskSwanctlConf({ ...theirs, child: { ...theirs.child, startAction: 'none' } }) });
  await swan.loadAll();
  const cyg = await startCygnet(ctx, h, pskSwanctlConf(conn), ['--tun', 'cyg0', '--debug', 'any 1']);
  await cyg.peer.waitForLog(/TUN device cyg0/, 5000);
  await Promise.all([cyg.waitFor('SA established', establishedCygnet), swan.waitEstablished('cyg', 'net')]);

  const up = await iperf3(h.right.ns, h.left.ns, h.right.inner4, { seconds: 3, logDir: ctx.dir });
  const down = await iperf3(h.right.ns, h.left.ns, h.right.inner4, { seconds: 3, reverse: true, logDir: ctx.dir });
  const msg = `iperf3 cygnet <-> strongSwan: ${up.mbps.toFixed(1)} Mbit/s cygnet->strongSwan (${up.retransmits} retransmits), ${down.mbps.toFixed(1)} Mbit/s strongSwan->cygnet (${down.retransmits} retransmits)`;
  ctx.log(msg);
  console.log(`    ${msg}`);
  assert.ok(up.mbps > 1 && down.mbps > 1, 'bulk TCP flows through the tunnel both ways');
}
