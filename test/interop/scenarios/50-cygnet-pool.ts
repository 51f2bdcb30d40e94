/**
 * Road warrior the other way round from 41: strongSwan asks for a virtual IP (`vips = 0.0.0.0`, RFC 7296 3.15
 * CP(CFG_REQUEST)) and cygnet, the gateway, leases one from its own pool (`pools { cygpool { addrs = 10.3.0.0/24
 * dns = 10.1.0.53 } }`) with a DNS server:
 *
 *   strongSwan  HDR, SK {IDi, AUTH, CP(CFG_REQUEST), SAi2, TSi = 0.0.0.0/0, TSr}  -->
 *   cygnet      <--  HDR, SK {IDr, AUTH, CP(CFG_REPLY: INTERNAL_IP4_ADDRESS, INTERNAL_IP4_DNS), SAr2, TSi = VIP/32, TSr}
 *
 * Asserted: strongSwan installs the address (its log, and --list-sas shows it as the local selector) and the DNS
 * server (its resolve plugin, pointed at a scratch file instead of /etc/resolv.conf); cygnet logs the lease and narrows the remote selector to it (status file); a plain ping from
 * strongSwan's namespace (source = the virtual IP, kernel-libipsec's route) reaches cygnet's side and back through
 * cygnet's TUN, and cygnet's side reaches the virtual IP.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DEFAULT_PLUGINS } from '../lib/strongswan.js';
import type { ScenarioContext } from '../lib/scenario.js';
import { pskSwanctlConf, type PskConnection } from '../lib/swanctl-conf.js';
import { twoHosts } from '../lib/topology.js';
import { establishedCygnet, startCygnet } from './20-cygnet-psk-responder.js';

export const name = 'cygnet-pool';
export const timeoutMs = 30_000;

export async function run(ctx: ScenarioContext): Promise<void> {
  const h = await twoHosts(ctx.lab);
  const { left, right } = h;
  const gateway: PskConnection = {
    name: 'rw',
    localAddrs: left.outer4,
    remoteAddrs: '%any',
    localId: 'cygnet@cygnet.test',
    remoteId: 'swan@cygnet.test',
    proposals: 'aes128gcm16-prfsha256-x25519',
    secret: 'pool-psk',
    child: { name: 'net', localTs: `${left.inner4}/32`, remoteTs: 'dynamic', espProposals: 'aes128gcm16', startAction: 'none' },
    extra: { pools: 'cygpool' },
  };
  const client: PskConnection = {
    ...gateway,
    localAddrs: right.outer4,
    remoteAddrs: left.outer4,
    localId: gateway.remoteId,
    remoteId: gateway.localId,
    child: { name: 'net', localTs: 'dynamic', remoteTs: `${left.inner4}/32`, espProposals: 'aes128gcm16', startAction: 'none' },
    extra: { vips: '0.0.0.0' },
  };
  const cyg = await startCygnet(ctx, h, pskSwanctlConf(gateway) + 'pools {\n  cygpool {\n    addrs = 10.3.0.0/24\n    dns = 10.1.0.53\n  }\n}\n', ['--tun', 'cyg0']);
  // strongSwan's resolve plugin writes the DNS servers it receives to a file of ours (not the host's resolv.conf).
  const resolvConf = join(await ctx.subdir('resolve'), 'resolv.conf');
  const swan = await ctx.startStrongswan({
    ns: right.ns,
    swanctlConf: pskSwanctlConf(client),
    plugins: [...DEFAULT_PLUGINS, 'resolve'],
    charonOptions: `plugins {\n    resolve {\n      file = ${resolvConf}\n    }\n  }`,
  });
  await swan.loadAll();

  await swan.initiate('net');
  const [si, ci] = await Promise.all([swan.waitEstablished('rw', 'net'), cyg.waitFor('SA established', establishedCygnet)]);
  const sc = si.children[0]!;
  const vipTs = sc.localTs[0]!;
  assert.match(vipTs, /^10\.3\.0\.\d+\/32$/, `strongSwan's local selector is a virtual IP from cygnet's pool (${sc.localTs.join(' ')})`);
  const vip = vipTs.replace(/\/32$/, '');
  const esc = vip.replace(/\./g, '\\.');
  assert.deepEqual(sc.remoteTs, [`${left.inner4}/32`]);
  assert.equal(ci.spiI, si.initiatorSpi, 'same IKE SPIs');
  assert.deepEqual(ci.children[0]!.remoteTs, [vipTs], "cygnet narrowed the peer's selector to the lease");
  assert.deepEqual(ci.children[0]!.localTs, [`${left.inner4}/32`]);
  assert.equal(ci.children[0]!.spiIn, sc.spiOut);
  // strongSwan's side: the address was installed, the reply carried address and DNS.
  await swan.waitForLog(new RegExp(`installing new virtual IP ${esc}`), 3000);
  await swan.waitForLog(/parsed IKE_AUTH response 1 \[.*CPRP\(ADDR DNS\)/, 3000);
  await swan.waitForLog(/installing DNS server 10\.1\.0\.53/, 2000);
  assert.match(await readFile(resolvConf, 'utf8'), /nameserver 10\.1\.0\.53/, "strongSwan's resolve plugin wrote cygnet's DNS server");
  ctx.log(`strongSwan got ${vip} from cygnet's pool`);
  // cygnet's side: the lease, and the route to it into the TUN.
  await cyg.peer.waitForLog(new RegExp(`assigning virtual IP ${esc} to peer 'swan@cygnet\\.test'`), 2000);
  await cyg.peer.waitForLog(new RegExp(`installed route ${esc}/32 dev cyg0`), 3000);

  const fromVip = await right.ns.ping(left.inner4, { count: 3 });
  assert.equal(fromVip.received, 3, `ping from strongSwan's virtual IP to cygnet's side: ${fromVip.output}`);
  const toVip = await left.ns.ping(vip, { count: 2, source: left.inner4 });
  assert.equal(toVip.received, 2, `ping from cygnet's side to the virtual IP: ${toVip.output}`);
  const after = (await swan.listSas())[0]!.children[0]!;
  assert.ok(after.packetsIn >= 3 && after.packetsOut >= 3, `the pings crossed strongSwan's CHILD SA (${after.packetsIn} in, ${after.packetsOut} out)`);

  // strongSwan deletes: cygnet releases the SA.
  await swan.terminate('rw');
  await cyg.waitFor('no SA after the Delete', (s) => s.ikeSas.length === 0 || undefined, 5000);
}
