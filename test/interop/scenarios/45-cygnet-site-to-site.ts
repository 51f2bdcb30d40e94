/**
 * Site-to-site with two subnets on each side (issue 7): cygnet (real TUN) 10.1.0.0/24 + 10.1.1.0/24 <->
 * strongSwan 10.2.0.0/24 + 10.2.1.0/24, one CHILD SA covering TSi x TSr (RFC 7296 2.9). cygnet routes both remote
 * subnets into its TUN; pings between every pair of subnets cross the tunnel in both directions.
 */
import assert from 'node:assert/strict';
import type { ScenarioContext } from '../lib/scenario.js';
import { mirror, pskSwanctlConf, type PskConnection } from '../lib/swanctl-conf.js';
import { twoHosts } from '../lib/topology.js';
import { establishedCygnet, startCygnet } from './20-cygnet-psk-responder.js';

export const name = 'cygnet-site-to-site';
export const timeoutMs = 40_000;

export async function run(ctx: ScenarioContext): Promise<void> {
  const h = await twoHosts(ctx.lab);
  const { left, right } = h;
  await left.ns.addAddress('lo', '10.1.1.1/32');
  await right.ns.addAddress('lo', '10.2.1.1/32');
  const conn: PskConnection = {
    name: 'cyg',
    localAddrs: left.outer4,
    remoteAddrs: right.outer4,
    localId: 'cygnet@cygnet.test',
    remoteId: 'swan@cygnet.test',
    proposals: 'aes256gcm16-prfsha384-ecp384',
    secret: 's2s-psk',
    child: { name: 'nets', localTs: '10.1.0.0/24,10.1.1.0/24', remoteTs: '10.2.0.0/24,10.2.1.0/24', espProposals: 'aes256gcm16', startAction: 'start' },
  };
  const theirs = mirror(conn);
  const swan = await ctx.startStrongswan({ ns: right.ns, swanctlConf: pskSwanctlConf({ ...theirs, child: { ...theirs.child, startAction: 'none' } }) });
  await swan.loadAll();
  const cyg = await startCygnet(ctx, h, pskSwanctlConf(conn), ['--tun', 'cyg0']);
  const [ci, si] = await Promise.all([cyg.waitFor('SA established', establishedCygnet), swan.waitEstablished('cyg', 'nets')]);
  assert.deepEqual([...ci.children[0]!.localTs].sort(), ['10.1.0.0/24', '10.1.1.0/24']);
  assert.deepEqual([...ci.children[0]!.remoteTs].sort(), ['10.2.0.0/24', '10.2.1.0/24']);
  assert.deepEqual([...si.children[0]!.localTs].sort(), ['10.2.0.0/24', '10.2.1.0/24']);
  await cyg.peer.waitForLog(/installed route 10\.2\.1\.0\/24 dev cyg0/, 3000);

  for (const src of ['10.1.0.1', '10.1.1.1'])
    for (const dst of ['10.2.0.1', '10.2.1.1']) {
      const p = await left.ns.ping(dst, { count: 1, source: src });
      assert.equal(p.received, 1, `${src} -> ${dst}: ${p.output}`);
      const b = await right.ns.ping(src, { count: 1, source: dst });
      assert.equal(b.received, 1, `${dst} -> ${src}: ${b.output}`);
    }
}
