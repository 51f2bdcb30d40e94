/**
 * HA with a road warrior (issue 20): the cygnet pair leases a virtual IP from its pool to a strongSwan road
 * warrior (RFC 7296 3.15 CP, vips = 0.0.0.0). The active is killed during a continuous ping from the virtual IP:
 * the standby restores the IKE SA with the peer's virtual IP, re-takes the pool lease and the route into its TUN,
 * and the ping resumes within 3 s; the road warrior keeps its IKE SA and address, and an IKE rekey by it works on
 * the new active.
 */
import assert from 'node:assert/strict';
import type { ScenarioContext } from '../lib/scenario.js';
import { type PskConnection, pskSwanctlConf } from '../lib/swanctl-conf.js';
import { FLOATING, haLab, pingGap, startHaNode, startRedis, waitRedis, waitReplicated } from './77-cygnet-ha-failover.js';

export const name = 'cygnet-ha-roadwarrior';
export const timeoutMs = 90_000;

export async function run(ctx: ScenarioContext): Promise<void> {
  const lab = await haLab(ctx);
  const gw: PskConnection = {
    name: 'rw',
    localAddrs: FLOATING,
    remoteAddrs: '%any',
    localId: 'gw@cygnet.test',
    remoteId: 'rw@cygnet.test',
    proposals: 'aes128gcm16-prfsha256-x25519',
    secret: 'interop-ha-rw',
    extra: { pools: 'rwpool' },
    child: { name: 'net', localTs: '10.1.0.1/32', remoteTs: 'dynamic', espProposals: 'aes128gcm16', startAction: 'none' },
  };
  const gwConf = `${pskSwanctlConf(gw)}pools {\n  rwpool {\n    addrs = 10.3.0.0/28\n  }\n}\n`;
  const rw: PskConnection = {
    name: 'rw',
    localAddrs: '192.0.2.2',
    remoteAddrs: FLOATING,
    localId: 'rw@cygnet.test',
    remoteId: 'gw@cygnet.test',
    proposals: gw.proposals,
    secret: gw.secret ?? '',
    extra: { vips: '0.0.0.0' },
    child: { name: 'net', localTs: 'dynamic', remoteTs: '10.1.0.1/32', espProposals: 'aes128gcm16', startAction: 'none' },
  };
  startRedis(ctx, lab, await ctx.subdir('redis'));
  await waitRedis(lab);
  const a = await startHaNode(ctx, lab, 'a', [], 2000, gwConf);
  await a.peer.waitForLog(/ha: active with token 1/, 15_000);
  const b = await startHaNode(ctx, lab, 'b', [], 2000, gwConf);
  const swan = await ctx.startStrongswan({ ns: lab.swan, swanctlConf: pskSwanctlConf(rw) });
  await swan.loadAll();
  await swan.initiate('net', { ike: 'rw' });
  const before = await swan.waitEstablished('rw', 'net');
  const vip = (before.children[0]?.localTs[0] ?? '').replace(/\/32$/, '');
  assert.match(vip, /^10\.3\.0\.\d+$/, `the road warrior got a virtual IP from the pool (${vip})`);
  ctx.log(`road warrior ${vip}, IKE SA ${before.initiatorSpi}_i ${before.responderSpi}_r`);

  await waitReplicated(lab, 1);
  const ping = ctx.spawn(lab.swan, 'ping', ['-n', '-i', '0.1', '-c', '100', '-W', '1', '-I', vip, '10.1.0.1'], { label: 'ping' });
  await new Promise((r) => setTimeout(r, 2000));
  await a.peer.process.kill('SIGKILL');
  await b.peer.waitForLog(/ha: active with token 2: took over 1 IKE SA\(s\), 1 CHILD SA\(s\)/, 10_000);
  await b.peer.waitForLog(new RegExp(`installed route ${vip.replace(/\./g, '\\.')}/32 dev cyg0`), 5000);
  await ping.exited;
  const p = pingGap(await ping.output(), 0.1);
  ctx.log(`ping from ${vip}: ${p.replies} replies of 100, longest gap ${p.gapS.toFixed(1)} s`);
  assert.ok(p.gapS <= 3, `traffic resumed within 3 s (longest gap ${p.gapS.toFixed(1)} s)`);
  assert.ok(p.last >= 90, 'the ping ran to its end through the new active');

  const after = await swan.listSas();
  assert.equal(after.length, 1, 'one IKE SA on the road warrior');
  assert.equal(after[0]?.initiatorSpi, before.initiatorSpi, 'SPIi unchanged');
  assert.equal(after[0]?.children[0]?.localTs[0], `${vip}/32`, 'same virtual IP');
  await swan.rekey({ ike: 'rw' });
  await swan.waitForSa((s) => s.find((x) => x.state === 'ESTABLISHED' && x.initiatorSpi !== before.initiatorSpi), 10_000, 'IKE SA rekeyed on the new active');
  const r = await lab.swan.ping('10.1.0.1', { count: 3, source: vip });
  assert.equal(r.received, 3, 'ping after the IKE rekey');
}
