/**
 * HA split-brain safety (issue 20): the active is frozen (SIGSTOP: a hung process, a long GC pause, a VM
 * suspended), so it stops renewing its lease while still holding the floating address. The standby takes the
 * lease (fencing token 2), the SAs and the address. When the old active wakes up (SIGCONT), its next write or
 * renewal meets the new token: it is deposed, drops the floating address and exits (75) without sending Deletes,
 * so only one node ever sends with the SAs. Traffic goes on through the new active.
 */
import assert from 'node:assert/strict';
import { waitFor } from '../lib/exec.js';
import type { ScenarioContext } from '../lib/scenario.js';
import { FLOATING, haLab, startHaNode, startRedis, startSwan, waitRedis, waitReplicated } from './77-cygnet-ha-failover.js';

export const name = 'cygnet-ha-fencing';
export const timeoutMs = 90_000;

export async function run(ctx: ScenarioContext): Promise<void> {
  const lab = await haLab(ctx);
  startRedis(ctx, lab, await ctx.subdir('redis'));
  await waitRedis(lab);
  const a = await startHaNode(ctx, lab, 'a');
  await a.peer.waitForLog(/ha: active with token 1/, 15_000);
  const b = await startHaNode(ctx, lab, 'b');
  const swan = await startSwan(ctx, lab);
  await swan.initiate('net', { ike: 'ha' });
  const before = await swan.waitEstablished('ha', 'net');
  await waitFor('standby view', async () => (b.ha()?.role === 'standby' ? true : undefined), 5000);

  await waitReplicated(lab, 1);
  // Freeze the active: it keeps its address and its sockets, but renews nothing.
  process.kill(a.peer.process.pid, 'SIGSTOP');
  await b.peer.waitForLog(/ha: active with token 2: took over 1 IKE SA\(s\), 1 CHILD SA\(s\)/, 10_000);
  const p1 = await lab.swan.ping('10.1.0.1', { count: 5, source: '10.2.0.1', intervalS: 0.2 });
  assert.ok(p1.received >= 4, `traffic through the new active while the old one is frozen (${p1.received}/5)`);

  // Wake it: fenced by the store, it steps down on its own.
  process.kill(a.peer.process.pid, 'SIGCONT');
  await a.peer.waitForLog(/ha: deposed: node gwb holds the lease now/, 10_000);
  const code = await a.peer.process.exited;
  assert.equal(code, 75, 'the deposed node exits 75');
  const addrs = await lab.gw.a.ip(['-4', 'addr', 'show', 'dev', 'eth0']);
  assert.doesNotMatch(addrs.stdout, new RegExp(`${FLOATING.replace(/\./g, '\\.')}/`), 'the deposed node dropped the floating address');
  const p2 = await lab.swan.ping('10.1.0.1', { count: 5, source: '10.2.0.1', intervalS: 0.2 });
  assert.equal(p2.received, 5, 'traffic through the new active after the old one stepped down');
  const after = await swan.listSas();
  assert.equal(after.length, 1, 'one IKE SA on strongSwan');
  assert.equal(after[0]?.initiatorSpi, before.initiatorSpi, 'same IKE SA');
  assert.equal((await swan.grep(/received DELETE|deleting IKE_SA/)).length, 0, 'no Delete reached strongSwan');
  // The store was never written with the old token after the takeover (fenced), and says who is active.
  const lease = await lab.sw.exec('redis-cli', ['-h', '192.0.2.100', 'hgetall', 'cygnet:default:lease']);
  assert.match(lease.stdout, /gwb/);
}
