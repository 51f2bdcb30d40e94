/**
 * IPv6 on both layers, strongSwan <-> strongSwan: IKE and ESP-in-UDP over 2001:db8:1::/64, a tunnel carrying
 * both IPv4 and IPv6 inner traffic (two selectors per side, RFC 7296 2.9), so cygnet's IPv6 paths have a known-good
 * reference.
 */
import assert from 'node:assert/strict';
import type { ScenarioContext } from '../lib/scenario.js';
import { mirror, pskSwanctlConf, type PskConnection } from '../lib/swanctl-conf.js';
import { twoHosts } from '../lib/topology.js';

export const name = 'strongswan-ipv6';
export const timeoutMs = 30_000;

export async function run(ctx: ScenarioContext): Promise<void> {
  const { left, right } = await twoHosts(ctx.lab);
  const conn: PskConnection = {
    name: 'v6',
    localAddrs: left.outer6,
    remoteAddrs: right.outer6,
    localId: 'left@cygnet.test',
    remoteId: 'right@cygnet.test',
    proposals: 'aes256gcm16-prfsha384-ecp384',
    secret: 'v6-psk',
    child: {
      name: 'net',
      localTs: `${left.inner4}/32,${left.inner6}/128`,
      remoteTs: `${right.inner4}/32,${right.inner6}/128`,
      espProposals: 'aes256gcm16',
    },
  };
  const [l, r] = await Promise.all([
    ctx.startStrongswan({ ns: left.ns, swanctlConf: pskSwanctlConf(conn) }),
    ctx.startStrongswan({ ns: right.ns, swanctlConf: pskSwanctlConf(mirror(conn)) }),
  ]);
  await Promise.all([l.loadAll(), r.loadAll()]);
  await l.initiate('net');
  const [li, ri] = await Promise.all([l.waitEstablished('v6', 'net'), r.waitEstablished('v6', 'net')]);
  assert.equal(li.remoteHost, right.outer6);
  assert.equal(ri.remoteHost, left.outer6);
  assert.equal(li.remotePort, 4500);
  const lc = li.children[0];
  assert.ok(lc);
  assert.deepEqual([...lc.localTs].sort(), [`${left.inner4}/32`, `${left.inner6}/128`].sort());
  assert.equal(lc.spiIn, ri.children[0]?.spiOut);
  const p4 = await left.ns.ping(right.inner4, { count: 2 });
  assert.equal(p4.received, 2, `IPv4 inner over IPv6 outer: ${p4.output}`);
  const p6 = await left.ns.ping(right.inner6, { count: 2 });
  assert.equal(p6.received, 2, `IPv6 inner over IPv6 outer: ${p6.output}`);
  await r.terminate('v6');
  await Promise.all([l.waitNoSas(), r.waitNoSas()]);
}
