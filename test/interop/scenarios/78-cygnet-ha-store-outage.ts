/**
 * HA store outage (issue 20), same topology as 77: Redis (with an append-only file, as a production store would
 * run) is killed while gwa is active and gwb standing by.
 *  - The active keeps forwarding (ping through the tunnel answers throughout), and a CHILD rekey by strongSwan
 *    during the outage is queued; `cygnet ha status` shows the store unreachable and the changes pending.
 *  - The standby refuses to take over while the store is unreachable.
 *  - Redis returns: the active catches up (the store's record carries the rekeyed CHILD SA) and renews its lease.
 *  - Second outage, and the active dies during it: the standby refuses to take over, also after the store is back
 *    (the active may have forwarded and rekeyed without replicating: the store's state may be stale), so no stale
 *    keys or sequence numbers are used.
 */
import assert from 'node:assert/strict';
import { run as exec, waitFor } from '../lib/exec.js';
import type { ScenarioContext } from '../lib/scenario.js';
import { FLOATING, haLab, startHaNode, startSwan, type HaLab, waitRedis, waitReplicated } from './77-cygnet-ha-failover.js';

export const name = 'cygnet-ha-store-outage';
export const timeoutMs = 90_000;

const STORE = '192.0.2.100';

function startAofRedis(ctx: ScenarioContext, lab: HaLab, dir: string) {
  return ctx.spawn(lab.sw, 'redis-server', ['--bind', STORE, '--port', '6379', '--protected-mode', 'no', '--save', '', '--appendonly', 'yes', '--appendfsync', 'always', '--dir', dir], { label: 'redis' });
}

async function haStatusText(file: string): Promise<string> {
  const r = await exec(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'ha', 'status', '--status-file', file], { allowFail: true, timeoutMs: 20_000 });
  return r.stdout + r.stderr;
}

export async function run(ctx: ScenarioContext): Promise<void> {
  const lab = await haLab(ctx);
  const redisDir = await ctx.subdir('redis');
  let redis = startAofRedis(ctx, lab, redisDir);
  await waitRedis(lab);
  const a = await startHaNode(ctx, lab, 'a');
  await a.peer.waitForLog(/ha: active with token 1/, 15_000);
  const b = await startHaNode(ctx, lab, 'b');
  const swan = await startSwan(ctx, lab);
  await swan.initiate('net', { ike: 'ha' });
  const before = await swan.waitEstablished('ha', 'net');
  await waitFor('standby view', async () => (b.ha()?.role === 'standby' ? true : undefined), 5000);

  await waitReplicated(lab, 1);
  // Outage 1: the active keeps forwarding.
  await redis.kill('SIGKILL');
  await a.peer.waitForLog(/ha: store unreachable .*still forwarding/, 5000);
  const p1 = await lab.swan.ping('10.1.0.1', { count: 20, source: '10.2.0.1', intervalS: 0.1 });
  assert.equal(p1.received, 20, `the active forwards during the store outage (${p1.received}/20)`);
  // A change during the outage: strongSwan rekeys the CHILD SA.
  await swan.rekey({ child: 'net' });
  const rekeyed = await swan.waitForSa((s) => s[0]?.children.find((c) => c.state === 'INSTALLED' && c.spiIn !== before.children[0]?.spiIn), 10_000, 'CHILD SA rekeyed');
  await new Promise((r) => setTimeout(r, 1500));
  const statusA = await haStatusText(a.haFile);
  ctx.log(`cygnet ha status (gwa, store down):\n${statusA}`);
  assert.match(statusA, /node gwa: active/);
  assert.match(statusA, /UNREACHABLE/);
  assert.match(statusA, /in doubt/);
  assert.match(statusA, /replication: [1-9]\d* pending/, 'the rekey waits in the replicator');
  // The standby refuses: the store is unreachable.
  await b.peer.waitForLog(/ha: takeover refused: the store is unreachable/, 5000);
  const statusB = await haStatusText(b.haFile);
  ctx.log(`cygnet ha status (gwb, store down):\n${statusB}`);
  assert.match(statusB, /node gwb: standby/);

  // The store returns: the active catches up and renews.
  redis = startAofRedis(ctx, lab, redisDir);
  await waitRedis(lab);
  await a.peer.waitForLog(/ha: store reachable again; backlog written, lease 1 renewed/, 10_000);
  const rec = await waitFor('the rekeyed CHILD SA in the store', async () => {
    const r = await lab.sw.exec('redis-cli', ['-h', STORE, 'hgetall', 'cygnet:default:data'], { allowFail: true });
    const spi = Number.parseInt(rekeyed.spiOut, 16);
    return r.stdout.split('\n').find((l) => l.startsWith('{') && l.includes(`"spiIn":${spi},`));
  }, 10_000);
  assert.ok(rec.includes('"secrets":"'), 'the record carries its sealed secrets');
  assert.doesNotMatch(rec, /SK_d/, 'no key names (or keys) in the clear');
  await waitFor('gwa caught up', async () => ((a.ha()?.replication as { pending?: number } | undefined)?.pending === 0 ? true : undefined), 5000);
  // The store's own view, as an operator asks for it.
  // (From the switch's namespace, where the store's address is reachable.)
  const storeView = await lab.sw.exec(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'ha', 'status', '--store', `redis://${STORE}:6379`], { allowFail: true, timeoutMs: 20_000 });
  ctx.log(`cygnet ha status --store:\n${storeView.stdout}${storeView.stderr}`);
  assert.match(storeView.stdout, /lease: +gwa, token 1, \d+ ms left/);
  assert.match(storeView.stdout, /records: 1 IKE SAs with 1 CHILD SAs, \d+ ESP sequence marks/);
  const p2 = await lab.swan.ping('10.1.0.1', { count: 3, source: '10.2.0.1' });
  assert.equal(p2.received, 3, 'traffic after the store returned');

  // Outage 2, and the active dies during it: no takeover, then or after the store returns.
  await new Promise((r) => setTimeout(r, 1000));
  await redis.kill('SIGKILL');
  await a.peer.process.kill('SIGKILL');
  await new Promise((r) => setTimeout(r, 3000));
  assert.equal(b.ha()?.role, 'standby', 'no takeover while the store is down');
  redis = startAofRedis(ctx, lab, redisDir);
  await waitRedis(lab);
  await b.peer.waitForLog(/ha: takeover refused: the store was unreachable after the active node was last seen alive/, 10_000);
  await new Promise((r) => setTimeout(r, 2000));
  assert.equal(b.ha()?.role, 'standby', 'still no takeover once the store is back: its state may be stale');
  assert.equal((await b.peer.grep(/ha: active with token/)).length, 0, 'gwb never became active');
  const addrs = await lab.gw.b.ip(['-4', 'addr', 'show', 'dev', 'eth0']);
  assert.doesNotMatch(addrs.stdout, new RegExp(FLOATING.replace(/\./g, '\\.') + '/'), 'gwb did not take the floating address');
  ctx.log(`gwb: ${String(b.ha()?.takeover ?? '')}`);
}
