/**
 * Addresses as they change (issue 15): `cygnet daemon` hears rtnetlink (RTM_NEWADDR/RTM_DELADDR, RTM_NEWLINK
 * through `ip -o monitor address link`, src/sys/netlink-monitor.ts) instead of only polling every 5 s.
 *  - local_addrs = %any: an address added to eth0 after start is bound within a second (the poll would take up
 *    to 5 s), and strongSwan can reach cygnet on it;
 *  - the local address of an established IKE SA is deleted: cygnet logs it gone, naming that IKE SA (the signal
 *    MOBIKE will act on: Gateway.localAddressGone / the 'local-address' event);
 *  - the link goes down: its addresses are reported gone too.
 */
import assert from 'node:assert/strict';
import type { ScenarioContext } from '../lib/scenario.js';
import { mirror, pskSwanctlConf } from '../lib/swanctl-conf.js';
import { twoHosts } from '../lib/topology.js';
import { cygnetConnection, establishedCygnet, startCygnet } from './20-cygnet-psk-responder.js';

export const name = 'cygnet-address-events';
export const timeoutMs = 40_000;

const esc = (s: string): string => s.replaceAll('.', '\\.');

export async function run(ctx: ScenarioContext): Promise<void> {
  const h = await twoHosts(ctx.lab);
  const late = '192.0.2.11';
  const base = cygnetConnection(h, { proposals: 'aes128gcm16-prfsha256-x25519', esp: 'aes128gcm16' });
  const cyg = await startCygnet(ctx, h, pskSwanctlConf({ ...base, localAddrs: '%any' }), ['--debug', 'knl 2, net 2, ike 2, dmn 2']);
  await cyg.peer.waitForLog(/watching addresses and links \(ip monitor/, 3000);

  // A new address: bound at once (the 5 s poll alone could not do this within a second).
  const addedAt = Date.now();
  await h.left.ns.addAddress('eth0', `${late}/24`);
  await cyg.peer.waitForLog(`local address ${late} appeared, bound it`, 1500);
  ctx.log(`bound ${late} ${Date.now() - addedAt} ms after it was added`);

  // strongSwan reaches cygnet on it.
  const theirs = mirror({ ...base, localAddrs: late });
  const swan = await ctx.startStrongswan({ ns: h.right.ns, swanctlConf: pskSwanctlConf(theirs) });
  await swan.loadAll();
  await swan.initiate('net');
  const si = await swan.waitEstablished('cyg', 'net');
  assert.equal(si.remoteHost, late, 'strongSwan reached cygnet on the new address');
  const ci = await cyg.waitFor('SA established', establishedCygnet);
  assert.match(ci.local, new RegExp(`^${esc(late)}\\[`));

  // The SA's local address goes: reported with the IKE SA that uses it.
  await h.left.ns.ip(['addr', 'del', `${late}/24`, 'dev', 'eth0']);
  await cyg.peer.waitForLog(new RegExp(`local address ${esc(late)} gone \\(RTM_DELADDR on eth0\\): used by IKE_SA cyg\\[${ci.id}\\]`), 1500);

  // The link goes down: its remaining address is reported gone as well.
  await h.left.ns.ip(['link', 'set', 'eth0', 'down']);
  await cyg.peer.waitForLog(new RegExp(`local address ${esc(h.left.outer4)} gone \\(link eth0 down\\)`), 1500);
}
