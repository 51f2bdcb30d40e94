/**
 * No local_addrs on either side (issue 13), strongSwan initiating: cygnet binds every address (loopback, inner,
 * outer) and answers from the socket the request came in on (the outer address), so strongSwan's IKE SA and
 * list-sas show the outer addresses; ping through cygnet's TUN both ways. The cygnet-initiator half is 62.
 */
import assert from 'node:assert/strict';
import type { ScenarioContext } from '../lib/scenario.js';
import { twoHosts } from '../lib/topology.js';
import { startCygnet } from './20-cygnet-psk-responder.js';
import { assertOuterAndPing, noLocalAddrs } from './62-no-local-addrs.js';

export const name = 'cygnet-no-local-addrs-responder';
export const timeoutMs = 40_000;

export async function run(ctx: ScenarioContext): Promise<void> {
  const h = await twoHosts(ctx.lab);
  const conf = noLocalAddrs(h, false);
  const cyg = await startCygnet(ctx, h, conf.cygnet, ['--tun', 'cyg0']);
  await cyg.peer.waitForLog(/listening on .*127\.0\.0\.1\[500\]/, 3000);
  // strongSwan's start_action = start initiates as soon as the config is loaded.
  const swan = await ctx.startStrongswan({ ns: h.right.ns, swanctlConf: conf.strongswan });
  await swan.loadAll();
  const si = await swan.waitEstablished('cyg', 'net');
  assert.equal(si.initiator, true, 'strongSwan initiated');
  await assertOuterAndPing(h, cyg, si, false);
  ctx.log(`cygnet responded on ${h.left.outer4} without local_addrs; strongSwan ${si.localHost} <-> ${si.remoteHost}`);
}
