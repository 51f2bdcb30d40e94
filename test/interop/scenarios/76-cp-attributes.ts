/**
 * What road-warrior clients get from the gateway's configuration payload (RFC 7296 3.15; issue 14), both ways:
 *
 * A. strongSwan road warrior (vips = 0.0.0.0, remote_ts = 0.0.0.0/0) against a cygnet gateway whose pool has dns,
 *    nbns, netmask and subnet, and whose local_ts is 10.1.0.0/16:
 *
 *      strongSwan  HDR, SK {IDi, AUTH, CP(CFG_REQUEST), SAi2, TSi = 0.0.0.0/0, TSr = 0.0.0.0/0}  -->
 *      cygnet      <--  HDR, SK {IDr, AUTH, CP(CFG_REPLY: ADDR DNS NBNS MASK SUBNET SUBNET), SAr2, TSi = VIP/32, TSr = 10.1.0.0/16}
 *
 *    Asserted in charon's log (ike 2, enc 1): the parsed reply lists CPRP(ADDR DNS NBNS MASK SUBNET SUBNET) and
 *    charon processed INTERNAL_IP4_NBNS, _NETMASK and _SUBNET; its CHILD SA's remote selector is cygnet's local_ts
 *    (narrowed from 0.0.0.0/0), and a ping from the virtual IP crosses.
 *
 * B. cygnet as the road warrior against a strongSwan gateway with `pools { p { addrs, dns, nbns, subnet } }`:
 *    charon builds INTERNAL_IP4_NBNS and INTERNAL_IP4_SUBNET (ike 2), cygnet asks for INTERNAL_IP4_SUBNET
 *    (CPRQ(ADDR DNS SUBNET) in charon's parsed request), gets its virtual IP and DNS, and a ping crosses.
 */
import assert from 'node:assert/strict';
import type { ScenarioContext } from '../lib/scenario.js';
import { pskSwanctlConf, type PskConnection } from '../lib/swanctl-conf.js';
import { twoHosts } from '../lib/topology.js';
import { establishedCygnet, startCygnet } from './20-cygnet-psk-responder.js';

export const name = 'cp-attributes';
export const timeoutMs = 60_000;

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

export async function run(ctx: ScenarioContext): Promise<void> {
  const h = await twoHosts(ctx.lab);
  const { left, right } = h;

  // --- A: strongSwan client, cygnet gateway --------------------------------------------------------------------
  const gateway: PskConnection = {
    name: 'rw',
    localAddrs: left.outer4,
    remoteAddrs: '%any',
    localId: 'cygnet@cygnet.test',
    remoteId: 'swan@cygnet.test',
    proposals: 'aes128gcm16-prfsha256-x25519',
    secret: 'cp-psk',
    child: { name: 'net', localTs: '10.1.0.0/16', remoteTs: 'dynamic', espProposals: 'aes128gcm16', startAction: 'none' },
    extra: { pools: 'cygpool' },
  };
  const client: PskConnection = {
    ...gateway,
    localAddrs: right.outer4,
    remoteAddrs: left.outer4,
    localId: gateway.remoteId,
    remoteId: gateway.localId,
    child: { name: 'net', localTs: 'dynamic', remoteTs: '0.0.0.0/0', espProposals: 'aes128gcm16', startAction: 'none' },
    extra: { vips: '0.0.0.0' },
  };
  const cygPool = 'pools {\n  cygpool {\n    addrs = 10.3.0.0/24\n    dns = 10.1.0.53\n    nbns = 10.1.0.54\n    netmask = 255.255.255.0\n    subnet = 10.1.0.0/16, 10.11.0.0/16\n  }\n}\n';
  const cyg = await startCygnet(ctx, h, pskSwanctlConf(gateway) + cygPool, ['--tun', 'cyg0']);
  const swan = await ctx.startStrongswan({ ns: right.ns, swanctlConf: pskSwanctlConf(client) });
  await swan.loadAll();
  await swan.initiate('net');
  const [si] = await Promise.all([swan.waitEstablished('rw', 'net'), cyg.waitFor('SA established', establishedCygnet)]);
  const sc = si.children[0]!;
  const vip = (sc.localTs[0] ?? '').replace(/\/32$/, '');
  assert.match(vip, /^10\.3\.0\.\d+$/, `strongSwan's local selector is a virtual IP from cygnet's pool (${sc.localTs.join(' ')})`);
  assert.deepEqual(sc.remoteTs, ['10.1.0.0/16'], "strongSwan's 0.0.0.0/0 was narrowed to cygnet's local_ts");
  await swan.waitForLog(/parsed IKE_AUTH response 1 \[.*CPRP\(ADDR DNS NBNS MASK SUBNET SUBNET\)/, 3000);
  for (const attr of ['INTERNAL_IP4_ADDRESS', 'INTERNAL_IP4_DNS', 'INTERNAL_IP4_NBNS', 'INTERNAL_IP4_NETMASK', 'INTERNAL_IP4_SUBNET'])
    await swan.waitForLog(new RegExp(`processing ${attr} attribute`), 2000);
  await swan.waitForLog(new RegExp(`installing new virtual IP ${esc(vip)}`), 2000);
  ctx.log(`A: strongSwan got ${vip} with DNS, NBNS, netmask and two subnets from cygnet`);
  await cyg.peer.waitForLog(new RegExp(`assigning virtual IP ${esc(vip)} to peer 'swan@cygnet\\.test'`), 2000);
  await cyg.peer.waitForLog(new RegExp(`installed route ${esc(vip)}/32 dev cyg0`), 3000);
  const pingA = await right.ns.ping(left.inner4, { count: 2 });
  assert.equal(pingA.received, 2, `A: ping from strongSwan's virtual IP to cygnet's side: ${pingA.output}`);
  await swan.terminate('rw');
  await cyg.waitFor('no SA after the Delete', (s) => s.ikeSas.length === 0 || undefined, 5000);
  assert.equal(await cyg.peer.stop(5000), 0, 'A: cygnet exits 0');
  await swan.stop(3000);

  // --- B: cygnet client, strongSwan gateway --------------------------------------------------------------------
  const rw: PskConnection = {
    name: 'rw',
    localAddrs: left.outer4,
    remoteAddrs: right.outer4,
    localId: 'cygnet@cygnet.test',
    remoteId: 'swan@cygnet.test',
    proposals: 'aes128gcm16-prfsha256-x25519',
    secret: 'cp-psk-b',
    child: { name: 'net', localTs: 'dynamic', remoteTs: `${right.inner4}/32`, espProposals: 'aes128gcm16', startAction: 'start' },
    extra: { vips: '0.0.0.0' },
  };
  const gw: PskConnection = {
    ...rw,
    localAddrs: right.outer4,
    remoteAddrs: '%any',
    localId: rw.remoteId,
    remoteId: rw.localId,
    child: { name: 'net', localTs: `${right.inner4}/32`, remoteTs: 'dynamic', espProposals: 'aes128gcm16', startAction: 'none' },
    extra: { pools: 'p' },
  };
  const swanPool = 'pools {\n  p {\n    addrs = 10.4.0.0/28\n    dns = 10.2.0.53\n    nbns = 10.2.0.54\n    subnet = 10.2.0.0/16\n  }\n}\n';
  const swanGw = await ctx.startStrongswan({ ns: right.ns, label: 'right-gw', swanctlConf: pskSwanctlConf(gw) + swanPool });
  await swanGw.loadAll();
  const cygRw = await startCygnet(ctx, h, pskSwanctlConf(rw), ['--tun', 'cyg0']);
  const [ci] = await Promise.all([cygRw.waitFor('SA established', establishedCygnet), swanGw.waitEstablished('rw', 'net')]);
  const vipB = (ci.children[0]?.localTs[0] ?? '').replace(/\/32$/, '');
  assert.match(vipB, /^10\.4\.0\.\d+$/, `cygnet's selector is its virtual IP from strongSwan's pool (${vipB})`);
  await swanGw.waitForLog(/parsed IKE_AUTH request 1 \[.*CPRQ\(ADDR DNS SUBNET\)/, 2000);
  await swanGw.waitForLog(/building INTERNAL_IP4_NBNS attribute/, 2000);
  await swanGw.waitForLog(/building INTERNAL_IP4_SUBNET attribute/, 2000);
  await swanGw.waitForLog(/generating IKE_AUTH response 1 \[.*CPRP\(ADDR DNS NBNS SUBNET\)/, 2000);
  await cygRw.peer.waitForLog(new RegExp(`installing new virtual IP ${esc(vipB)}, DNS 10\\.2\\.0\\.53`), 3000);
  ctx.log(`B: cygnet got ${vipB} from strongSwan's pool with DNS, NBNS and subnet 10.2.0.0/16`);
  const pingB = await left.ns.ping(right.inner4, { count: 2 });
  assert.equal(pingB.received, 2, `B: ping from cygnet's virtual IP through the tunnel: ${pingB.output}`);
  assert.equal(await cygRw.peer.stop(5000), 0, 'B: cygnet exits 0');
  await swanGw.waitNoSas('rw', 5000);
}
