/**
 * HA failover under load (issue 20): as 77-cygnet-ha-failover, but with a host behind the gateway pair (10.1.0.10,
 * its default gateway the inner floating address 10.1.0.1) and iperf3 TCP from the strongSwan side to it. The
 * active is killed 3 s into a 12 s run: the standby takes both floating addresses and the SAs, the TCP stream
 * stalls for the takeover plus TCP's retransmission backoff, then continues to the end of the run.
 */
import assert from 'node:assert/strict';
import { iperf3 } from '../lib/iperf.js';
import type { ScenarioContext } from '../lib/scenario.js';
import { haLab, startHaNode, startRedis, startSwan, waitRedis, waitReplicated } from './77-cygnet-ha-failover.js';

export const name = 'cygnet-ha-iperf';
export const timeoutMs = 90_000;

interface Interval {
  sum: { start: number; end: number; bits_per_second: number };
}

export async function run(ctx: ScenarioContext): Promise<void> {
  const lab = await haLab(ctx, { lan: true });
  const lan = lab.lan;
  assert.ok(lan);
  startRedis(ctx, lab, await ctx.subdir('redis'));
  await waitRedis(lab);
  const a = await startHaNode(ctx, lab, 'a');
  await a.peer.waitForLog(/ha: active with token 1/, 15_000);
  const b = await startHaNode(ctx, lab, 'b');
  const swan = await startSwan(ctx, lab);
  await swan.initiate('net', { ike: 'ha' });
  const before = await swan.waitEstablished('ha', 'net');
  await waitReplicated(lab, 1);
  const warm = await lab.swan.ping('10.1.0.10', { count: 3, source: '10.2.0.1' });
  assert.equal(warm.received, 3, 'the LAN host answers through the tunnel and the active gateway');

  const logDir = await ctx.subdir('iperf');
  const killer = (async () => {
    await new Promise((r) => setTimeout(r, 3000));
    await a.peer.process.kill('SIGKILL');
  })();
  const res = await iperf3(lan, lab.swan, '10.1.0.10', { seconds: 12, logDir });
  await killer;
  await b.peer.waitForLog(/ha: active with token 2: took over 1 IKE SA\(s\), 1 CHILD SA\(s\)/, 1000);
  const intervals = ((res.json as { intervals?: Interval[] }).intervals ?? []).map((i) => i.sum);
  const rates = intervals.map((i) => `${(i.bits_per_second / 1e6).toFixed(0)}`).join(' ');
  ctx.log(`iperf3 TCP 10.2.0.1 -> 10.1.0.10: ${res.mbps.toFixed(1)} Mbit/s overall; per second: ${rates}`);
  const peak = Math.max(...intervals.map((i) => i.bits_per_second));
  let stall = 0;
  let run = 0;
  for (const i of intervals) {
    run = i.bits_per_second < peak / 100 ? run + (i.end - i.start) : 0;
    stall = Math.max(stall, run);
  }
  ctx.log(`longest stall: ${stall.toFixed(1)} s`);
  const tail = intervals.slice(-3);
  assert.ok(tail.length === 3 && tail.every((i) => i.bits_per_second > peak / 100), `traffic flows again through the new active at the end of the run (${rates})`);
  assert.ok(stall <= 5, `the TCP stream stalled ${stall.toFixed(1)} s at most (takeover + TCP backoff)`);
  const after = await swan.listSas();
  assert.equal(after.length, 1, 'one IKE SA on strongSwan');
  assert.equal(after[0]?.initiatorSpi, before.initiatorSpi, 'same IKE SA');
}
