/**
 * On-demand tunnel (issue 7, seeds 000/003): cygnet with start_action = trap and a real TUN installs a route and
 * a trap policy for the remote subnet but no SA. The first ping enters cyg0, hits the trap (ACQUIRE), cygnet
 * initiates to strongSwan and the queued echo request leaves as soon as the CHILD SA is up: no ping is lost.
 */
import assert from 'node:assert/strict';
import type { ScenarioContext } from '../lib/scenario.js';
import { mirror, pskSwanctlConf } from '../lib/swanctl-conf.js';
import { twoHosts } from '../lib/topology.js';
import { cygnetConnection, establishedCygnet, startCygnet } from './20-cygnet-psk-responder.js';

export const name = 'cygnet-trap';
export const timeoutMs = 30_000;

export async function run(ctx: ScenarioContext): Promise<void> {
  const h = await twoHosts(ctx.lab);
  const conn = cygnetConnection(h, { proposals: 'aes128gcm16-prfsha256-x25519', esp: 'aes128gcm16', startAction: 'trap' });
  const theirs = mirror(conn);
  const swan = await ctx.startStrongswan({ ns: h.right.ns, swanctlConf: pskSwanctlConf({ ...theirs, child: { ...theirs.child, startAction: 'none' } }) });
  await swan.loadAll();
  const cyg = await startCygnet(ctx, h, pskSwanctlConf(conn), ['--tun', 'cyg0']);
  await cyg.peer.waitForLog(/installed route 10\.2\.0\.1\/32 dev cyg0 src 10\.1\.0\.1/, 5000);
  assert.deepEqual(cyg.status()?.ikeSas ?? [], [], 'no SA before traffic');
  assert.deepEqual(await swan.listSas(), []);

  const ping = await h.left.ns.ping(h.right.inner4, { count: 3, source: h.left.inner4, waitS: 3 });
  assert.equal(ping.received, 3, `the first ping brings the tunnel up and is answered: ${ping.output}`);
  await cyg.peer.waitForLog(/acquire for 'cyg' child 'net' \(start_action = trap\): initiating/, 1000);
  const [ci, si] = await Promise.all([cyg.waitFor('SA established', establishedCygnet), swan.waitEstablished('cyg', 'net')]);
  assert.equal(ci.children[0]!.spiIn, si.children[0]!.spiOut);
  assert.equal(ci.initiator, true);
}
