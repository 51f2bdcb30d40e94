/**
 * IPv6 outer addresses between cygnet (real TUN) and strongSwan, with IPv4 and IPv6 inner selectors: IKE and
 * ESP-in-UDP over udp6 sockets, routes for both families into the TUN, pings of both families through the
 * tunnel both ways; strongSwan initiates, then deletes.
 */
import assert from 'node:assert/strict';
import type { ScenarioContext } from '../lib/scenario.js';
import { mirror, pskSwanctlConf, type PskConnection } from '../lib/swanctl-conf.js';
import { twoHosts } from '../lib/topology.js';
import { establishedCygnet, startCygnet } from './20-cygnet-psk-responder.js';

export const name = 'cygnet-ipv6';
export const timeoutMs = 30_000;

export async function run(ctx: ScenarioContext): Promise<void> {
  const h = await twoHosts(ctx.lab);
  const { left, right } = h;
  const conn: PskConnection = {
    name: 'cyg',
    localAddrs: left.outer6,
    remoteAddrs: right.outer6,
    localId: 'cygnet@cygnet.test',
    remoteId: 'swan@cygnet.test',
    proposals: 'aes256gcm16-prfsha384-ecp384',
    secret: 'v6-psk',
    child: { name: 'net', localTs: `${left.inner4}/32,${left.inner6}/128`, remoteTs: `${right.inner4}/32,${right.inner6}/128`, espProposals: 'aes256gcm16' },
  };
  const cyg = await startCygnet(ctx, h, pskSwanctlConf(conn), ['--tun', 'cyg0']);
  const swan = await ctx.startStrongswan({ ns: right.ns, swanctlConf: pskSwanctlConf(mirror(conn)) });
  await swan.loadAll();
  await swan.initiate('net');
  const [si, ci] = await Promise.all([swan.waitEstablished('cyg', 'net'), cyg.waitFor('SA established', establishedCygnet)]);
  assert.equal(si.remoteHost, left.outer6);
  assert.equal(si.remotePort, 4500);
  assert.equal(ci.remote, `${right.outer6}[4500]`);
  assert.equal(ci.spiI, si.initiatorSpi);
  const cc = ci.children[0]!;
  const sc = si.children[0]!;
  assert.equal(cc.spiIn, sc.spiOut);
  assert.equal(cc.spiOut, sc.spiIn);
  assert.deepEqual([...cc.localTs].sort(), [`${left.inner4}/32`, `${left.inner6}/128`].sort());

  await cyg.peer.waitForLog(/installed route fd00:2::1\/128 dev cyg0 src fd00:1::1/, 3000);
  const p4 = await left.ns.ping(right.inner4, { count: 2, source: left.inner4 });
  assert.equal(p4.received, 2, `IPv4 inner over IPv6 outer, cygnet -> strongSwan: ${p4.output}`);
  const p6 = await left.ns.ping(right.inner6, { count: 2, source: left.inner6 });
  assert.equal(p6.received, 2, `IPv6 inner over IPv6 outer, cygnet -> strongSwan: ${p6.output}`);
  const b6 = await right.ns.ping(left.inner6, { count: 2, source: right.inner6 });
  assert.equal(b6.received, 2, `IPv6 inner, strongSwan -> cygnet: ${b6.output}`);

  await swan.terminate('cyg');
  await swan.waitNoSas();
  await cyg.waitFor('no SA after the Delete', (s) => s.ikeSas.length === 0 || undefined, 5000);
}
