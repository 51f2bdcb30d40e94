/**
 * Road warrior: cygnet (real TUN) asks strongSwan for a virtual IP (vips = 0.0.0.0, RFC 7296 3.15 CP(CFG_REQUEST))
 * and DNS from its pool. cygnet puts the address on its TUN, routes the remote subnet with it as source, and a
 * plain ping (no source given) crosses the tunnel; strongSwan lists the lease. On SIGTERM the address and route go.
 */
import assert from 'node:assert/strict';
import type { ScenarioContext } from '../lib/scenario.js';
import { pskSwanctlConf, type PskConnection } from '../lib/swanctl-conf.js';
import { twoHosts } from '../lib/topology.js';
import { establishedCygnet, startCygnet } from './20-cygnet-psk-responder.js';

export const name = 'cygnet-roadwarrior';
export const timeoutMs = 30_000;

export async function run(ctx: ScenarioContext): Promise<void> {
  const h = await twoHosts(ctx.lab);
  const { left, right } = h;
  const client: PskConnection = {
    name: 'rw',
    localAddrs: left.outer4,
    remoteAddrs: right.outer4,
    localId: 'cygnet@cygnet.test',
    remoteId: 'swan@cygnet.test',
    proposals: 'aes128gcm16-prfsha256-x25519',
    secret: 'rw-psk',
    child: { name: 'net', localTs: 'dynamic', remoteTs: `${right.inner4}/32`, espProposals: 'aes128gcm16', startAction: 'start' },
    extra: { vips: '0.0.0.0' },
  };
  const server: PskConnection = {
    ...client,
    localAddrs: right.outer4,
    remoteAddrs: '%any',
    localId: client.remoteId,
    remoteId: client.localId,
    child: { name: 'net', localTs: `${right.inner4}/32`, remoteTs: 'dynamic', espProposals: 'aes128gcm16', startAction: 'none' },
    extra: { pools: 'rwpool' },
  };
  const swan = await ctx.startStrongswan({
    ns: right.ns,
    swanctlConf: pskSwanctlConf(server) + 'pools {\n  rwpool {\n    addrs = 10.3.0.0/28\n    dns = 10.2.0.53\n  }\n}\n',
  });
  await swan.loadAll();
  const cyg = await startCygnet(ctx, h, pskSwanctlConf(client), ['--tun', 'cyg0']);

  const [ci, si] = await Promise.all([cyg.waitFor('SA established', establishedCygnet), swan.waitEstablished('rw', 'net')]);
  const vip = ci.children[0]!.localTs[0]!.replace(/\/32$/, '');
  assert.match(vip, /^10\.3\.0\.\d+$/, `cygnet's selector is its virtual IP (${vip})`);
  assert.deepEqual(si.children[0]!.remoteTs, [`${vip}/32`], 'strongSwan narrowed to the leased address');
  await cyg.peer.waitForLog(new RegExp(`virtual IP\\(s\\) ${vip.replace(/\./g, '\\.')} assigned, DNS 10\\.2\\.0\\.53`), 3000);
  await cyg.peer.waitForLog(new RegExp(`installed route 10\\.2\\.0\\.1/32 dev cyg0 src ${vip.replace(/\./g, '\\.')}`), 3000);
  const addrs = await left.ns.ip(['-4', 'addr', 'show', 'dev', 'cyg0']);
  assert.match(addrs.stdout, new RegExp(`inet ${vip.replace(/\./g, '\\.')}/32`), `address on cyg0:\n${addrs.stdout}`);

  const ping = await left.ns.ping(right.inner4, { count: 3 });
  assert.equal(ping.received, 3, `ping from the virtual IP through the tunnel: ${ping.output}`);
  const leases = await swan.swanctl(['--list-pools', '--leases']);
  assert.match(leases.stdout, new RegExp(`${vip.replace(/\./g, '\\.')}\\s+online\\s+'cygnet@cygnet\\.test'`), leases.stdout);

  assert.equal(await cyg.peer.stop(5000), 0, 'cygnet exits 0');
  assert.ok((await cyg.peer.grep(/removed virtual IP 10\.3\.0\.\d+\/32 from cyg0/)).length > 0, 'virtual IP removed on exit');
  await swan.waitNoSas('rw', 5000);
}
