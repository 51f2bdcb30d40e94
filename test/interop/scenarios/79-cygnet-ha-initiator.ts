/**
 * HA pair as initiator (issue 20): the gateways' connection has start_action = start. Only the active node
 * initiates (a standby that did would set up a duplicate SA as soon as it holds the floating address); after a
 * SIGKILL of the active the new one restores the SA and initiates nothing, so strongSwan has one IKE SA throughout.
 */
import assert from 'node:assert/strict';
import { waitFor } from '../lib/exec.js';
import type { ScenarioContext } from '../lib/scenario.js';
import { mirror, pskSwanctlConf } from '../lib/swanctl-conf.js';
import { haLab, startHaNode, startRedis, waitRedis, waitReplicated } from './77-cygnet-ha-failover.js';

export const name = 'cygnet-ha-initiator';
export const timeoutMs = 90_000;

export async function run(ctx: ScenarioContext): Promise<void> {
  const lab = await haLab(ctx);
  const conn = { ...lab.conn, child: { ...lab.conn.child, startAction: 'start' } };
  const theirs = mirror(lab.conn);
  const swan = await ctx.startStrongswan({ ns: lab.swan, swanctlConf: pskSwanctlConf({ ...theirs, remoteAddrs: '%any', child: { ...theirs.child, startAction: 'none' } }) });
  await swan.loadAll();
  startRedis(ctx, lab, await ctx.subdir('redis'));
  await waitRedis(lab);
  const a = await startHaNode(ctx, lab, 'a', [], 2000, pskSwanctlConf(conn));
  await a.peer.waitForLog(/ha: initiating 'ha' child 'net' \(start_action = start, now that this node is active\)/, 15_000);
  const before = await swan.waitEstablished('ha', 'net', 15_000);
  const b = await startHaNode(ctx, lab, 'b', [], 2000, pskSwanctlConf(conn));
  await waitFor('standby view', async () => (b.ha()?.role === 'standby' ? true : undefined), 5000);
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal((await b.peer.grep(/initiating/)).length, 0, 'the standby initiates nothing');
  assert.equal((await swan.listSas()).length, 1, 'one IKE SA on strongSwan');

  await waitReplicated(lab, 1);
  await a.peer.process.kill('SIGKILL');
  await b.peer.waitForLog(/ha: active with token 2: took over 1 IKE SA\(s\), 1 CHILD SA\(s\)/, 10_000);
  await new Promise((r) => setTimeout(r, 2000));
  assert.equal((await b.peer.grep(/ha: initiating/)).length, 0, 'the new active initiates nothing: the restored SA carries the child');
  const after = await swan.listSas();
  assert.equal(after.length, 1, 'still one IKE SA on strongSwan');
  assert.equal(after[0]?.initiatorSpi, before.initiatorSpi, 'the same one');
  const p = await lab.swan.ping('10.1.0.1', { count: 3, source: '10.2.0.1' });
  assert.equal(p.received, 3, 'traffic through the new active');
}
