/**
 * A concrete local_addrs entry that is not on any interface when cygnet starts (issue 13, "late-appearing local
 * addresses"): cygnet starts anyway, logs that the address is not there yet, and binds it when it appears (its
 * interface poll, every 5 s); strongSwan then initiates to it and the SA comes up on that address.
 */
import assert from 'node:assert/strict';
import type { ScenarioContext } from '../lib/scenario.js';
import { mirror, pskSwanctlConf } from '../lib/swanctl-conf.js';
import { twoHosts } from '../lib/topology.js';
import { cygnetConnection, establishedCygnet, startCygnet } from './20-cygnet-psk-responder.js';

export const name = 'cygnet-late-local-addr';
export const timeoutMs = 40_000;

export async function run(ctx: ScenarioContext): Promise<void> {
  const h = await twoHosts(ctx.lab);
  // The outer address goes away before cygnet starts; the link stays up (the DHCP-lease / late-link case).
  await h.left.ns.ip(['addr', 'del', `${h.left.outer4}/24`, 'dev', 'eth0']);
  const conn = cygnetConnection(h, { proposals: 'aes128gcm16-prfsha256-x25519', esp: 'aes128gcm16' });
  const cyg = await startCygnet(ctx, h, pskSwanctlConf(conn));
  await cyg.peer.waitForLog(`local address ${h.left.outer4} is not present yet, binding it when it appears`, 3000);
  const listening = await cyg.peer.waitForLog(/listening on/, 1000);
  assert.doesNotMatch(listening, new RegExp(h.left.outer4.replaceAll('.', '\\.')), 'not bound before it exists');
  await h.left.ns.addAddress('eth0', `${h.left.outer4}/24`);
  await cyg.peer.waitForLog(`local address ${h.left.outer4} appeared, bound it`, 8000);
  const swan = await ctx.startStrongswan({ ns: h.right.ns, swanctlConf: pskSwanctlConf(mirror(conn)) });
  await swan.loadAll();
  await swan.initiate('net');
  const si = await swan.waitEstablished('cyg', 'net');
  assert.equal(si.remoteHost, h.left.outer4, 'strongSwan reached cygnet on the late address');
  const ci = await cyg.waitFor('SA established', establishedCygnet);
  assert.match(ci.local, new RegExp(`^${h.left.outer4.replaceAll('.', '\\.')}\\[`));
  ctx.log(`bound ${h.left.outer4} after start; SA ${si.localHost} <-> ${si.remoteHost}`);
}
