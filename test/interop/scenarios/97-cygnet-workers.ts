/**
 * Data-plane worker threads (issue 17, `cygnet daemon --workers 2`), cygnet <-> cygnet in two namespaces with
 * multi-queue TUNs: two CHILD SAs (10.1.0.1 <-> 10.2.0.1 and 10.1.0.2 <-> 10.2.0.2) in one IKE SA.
 *
 * 1. Both daemons start 2 workers ("2 data-plane workers started") and make an SO_REUSEPORT group on 4500; the left
 *    starts net1 (start_action = start) and traps net2 (start_action = trap): a ping into net2 reaches a worker,
 *    which has no policy for it and hands it to the main thread, whose trap policy ACQUIREs the CHILD SA and sends
 *    the queued packet once it is up. Each CHILD SA is acknowledged by both workers ("installed on all 2 workers").
 * 2. The two inbound SPIs of each side have successive low bytes (src/ike/spi.ts), so the BPF program steers them
 *    to different workers (docs/PERFORMANCE.md section 7).
 * 3. Pings through both CHILD SAs both ways: every ESP packet one side counts out the other counts in, nothing
 *    dropped (no replay drops although both workers seal on every outbound SA with one shared counter,
 *    RFC 4303 3.3.3).
 * 4. Two iperf3 flows at once, one per CHILD SA, then the other way: both workers of both sides carried ESP,
 *    still no replay drops, and the per-worker counters sum to the totals the status file shows.
 * 5. Both CHILD SAs rekeyed (swanctl --rekey --child through cygnet's vici) while two flows run: the new SAs are
 *    acknowledged by both workers, the flows go on, and no ESP packet is dropped on either side over the whole run
 *    (make-before-break with the outbound switch ordered after the install in every worker, RFC 7296 2.8).
 */
import assert from 'node:assert/strict';
import type { DaemonStatus } from '../../../src/daemon/status.js';
import { iperf3, type IperfResult } from '../lib/iperf.js';
import type { ScenarioContext } from '../lib/scenario.js';
import { mirror, pskSwanctlConf, type PskConnection } from '../lib/swanctl-conf.js';
import { twoHosts, type TwoHosts } from '../lib/topology.js';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from '../lib/exec.js';
import { cygnetConnection, type CygnetSide } from './20-cygnet-psk-responder.js';

export const name = 'cygnet-workers';
export const timeoutMs = 150_000;

const SECOND = { left: '10.1.0.2', right: '10.2.0.2' };

/** pskSwanctlConf with a second child `net2` for the second address pair. */
function twoChildConf(c: PskConnection, second: { localTs: string; remoteTs: string; startAction: string }): string {
  const text = pskSwanctlConf(c);
  const child2 = `      net2 {\n        local_ts = ${second.localTs}\n        remote_ts = ${second.remoteTs}\n        esp_proposals = ${c.child.espProposals}\n        start_action = ${second.startAction}\n      }\n`;
  return text.replace(/( {6}\}\n)( {4}\}\n {2}\}\n\}\n)/, `$1${child2}$2`);
}

/**
 * As scenario 20's startCygnet, with a longer start: each worker thread loads the daemon's modules through tsx
 * (several seconds per thread on a loaded 2-core machine; a built daemon does not transpile).
 */
async function startCygnet(ctx: ScenarioContext, h: TwoHosts, conf: string, extraArgs: readonly string[]): Promise<CygnetSide> {
  const dir = await ctx.subdir(`cygnet-${h.left.ns.role}`);
  const statusFile = join(dir, 'status.json');
  const peer = await ctx.startCygnet({ ns: h.left.ns, dir, config: conf, args: ['--status-file', statusFile, '--debug', 'ike 1, net 2, esp 2, dmn 2', ...extraArgs], ready: /daemon running/, startTimeoutMs: 90_000 });
  const status = (): DaemonStatus | undefined => {
    if (!existsSync(statusFile)) return undefined;
    try {
      return JSON.parse(readFileSync(statusFile, 'utf8')) as DaemonStatus;
    } catch {
      return undefined; // mid-rename: try again
    }
  };
  const wait: CygnetSide['waitFor'] = (what, pred, ms = 10_000) =>
    waitFor(
      `cygnet: ${what}`,
      async () => {
        const st = status();
        const v = st ? pred(st) : undefined;
        return v === false || v === undefined ? undefined : v;
      },
      ms,
      100,
    );
  return { peer, statusFile, status, waitFor: wait };
}

type Child = DaemonStatus['ikeSas'][number]['children'][number];

function children(s: DaemonStatus | undefined): Child[] | undefined {
  const ike = s?.ikeSas.find((x) => x.state === 'ESTABLISHED');
  const list = ike?.children ?? [];
  return list.length >= 2 ? list : undefined;
}

const byName = (list: readonly Child[], n: string): Child => {
  const c = list.find((x) => x.name === n);
  assert.ok(c, `CHILD SA ${n}`);
  return c;
};

/** Counters of a side, after its workers' next stats (posted every 500 ms; the status file follows them). */
async function settled(side: CygnetSide): Promise<DaemonStatus> {
  await new Promise((r) => setTimeout(r, 1500));
  const s = side.status();
  assert.ok(s, 'status file');
  return s;
}

function noReplayDrops(s: DaemonStatus, who: string): void {
  for (const c of children(s) ?? []) {
    assert.equal(c.dropsIn?.replay ?? 0, 0, `${who} ${c.name}: no replay drops in (${JSON.stringify(c.dropsIn)})`);
    assert.equal(c.dropsIn?.['replay-window'] ?? 0, 0, `${who} ${c.name}: no replay-window drops`);
  }
}

export async function run(ctx: ScenarioContext): Promise<void> {
  const h: TwoHosts = await twoHosts(ctx.lab);
  await h.left.ns.addAddress('lo', `${SECOND.left}/32`);
  await h.right.ns.addAddress('lo', `${SECOND.right}/32`);
  const conn = cygnetConnection(h, { proposals: 'aes128gcm16-prfsha256-x25519', esp: 'aes128gcm16', startAction: 'start' });
  conn.child.name = 'net1';
  const theirs = mirror(conn);
  const r = await startCygnet(ctx, { left: h.right, right: h.left } as TwoHosts, twoChildConf({ ...theirs, child: { ...theirs.child, startAction: 'none' } }, { localTs: `${SECOND.right}/32`, remoteTs: `${SECOND.left}/32`, startAction: 'none' }), ['--tun', 'cyg1', '--workers', '2']);
  const l = await startCygnet(ctx, h, twoChildConf(conn, { localTs: `${SECOND.left}/32`, remoteTs: `${SECOND.right}/32`, startAction: 'trap' }), ['--tun', 'cyg0', '--workers', '2']);

  // 1. Workers, groups, both CHILD SAs on both workers.
  for (const side of [l, r]) {
    await side.peer.waitForLog(/2 data-plane workers started on TUN cyg\d \(one queue each\)/, 5000);
    await side.peer.waitForLog(/SO_REUSEPORT group of 3 sockets \(main \+ 2 workers\)/, 5000);
  }
  await l.waitFor('net1 up', (s) => s.ikeSas.some((x) => x.children.some((c) => c.name === 'net1')), 20_000);
  await l.peer.waitForLog(/installed trap policy for 'cyg' child 'net2'/, 5000);
  const trapped = await h.left.ns.ping(SECOND.right, { count: 5, source: SECOND.left, waitS: 3 });
  ctx.log(`ping into the trapped net2: ${trapped.received}/5 replies`);
  assert.ok(trapped.received >= 1, `the trapped packet or its followers got through: ${trapped.output}`);
  await l.peer.waitForLog(/acquire for 'cyg' child 'net2' \(start_action = trap\): initiating/, 2000);
  const [lc, rc] = await Promise.all([l.waitFor('two CHILD SAs', children, 20_000), r.waitFor('two CHILD SAs', children, 20_000)]);
  for (const side of [l, r]) {
    await side.peer.waitForLog(/CHILD_SA net1\{\d+\} installed on all 2 workers/, 5000);
    await side.peer.waitForLog(/CHILD_SA net2\{\d+\} installed on all 2 workers/, 5000);
  }
  await l.peer.waitForLog(/installed route 10\.2\.0\.2\/32 dev cyg0/, 5000);
  await r.peer.waitForLog(/installed route 10\.1\.0\.2\/32 dev cyg1/, 5000);

  // 2. Steering: the two inbound SPIs of a side go to different workers (1 + low byte mod 2).
  for (const [who, list] of [['left', lc], ['right', rc]] as const) {
    const w = list.map((c) => 1 + (Number.parseInt(c.spiIn, 16) & 0xff) % 2);
    ctx.log(`${who}: inbound SPIs ${list.map((c) => `${c.name} ${c.spiIn}`).join(', ')} -> workers ${w.join(', ')}`);
    assert.notEqual(w[0], w[1], `${who}: the two inbound SAs are steered to different workers`);
  }

  // 3. Pings through both CHILD SAs both ways; counters add up exactly.
  const pairs = [
    [h.left.inner4, h.right.inner4],
    [SECOND.left, SECOND.right],
  ] as const;
  for (const [a, b] of pairs) {
    const p = await h.left.ns.ping(b, { count: 5, source: a });
    assert.equal(p.received, 5, `ping ${a} -> ${b}: ${p.output}`);
    const q = await h.right.ns.ping(a, { count: 5, source: b });
    assert.equal(q.received, 5, `ping ${b} -> ${a}: ${q.output}`);
  }
  const [ls, rs] = [await settled(l), await settled(r)];
  for (const n of ['net1', 'net2']) {
    const a = byName(children(ls)!, n);
    const b = byName(children(rs)!, n);
    ctx.log(`${n}: left out ${a.packetsOut} in ${a.packetsIn}; right out ${b.packetsOut} in ${b.packetsIn}`);
    assert.ok((a.packetsOut ?? 0) >= 10, `left ${n} sent ESP (${a.packetsOut})`);
    // net2's first packet went out through the main thread's engine (the trap's queue): the status sums both.
    assert.equal(b.packetsIn, a.packetsOut, `${n}: right received what left sent`);
    assert.equal(a.packetsIn, b.packetsOut, `${n}: left received what right sent`);
  }
  noReplayDrops(ls, 'left');
  noReplayDrops(rs, 'right');

  // 4. Two flows at once, one per CHILD SA, each way.
  const flows = async (reverse: boolean): Promise<IperfResult[]> =>
    Promise.all([
      iperf3(h.right.ns, h.left.ns, h.right.inner4, { seconds: 3, reverse, port: 5201, logDir: ctx.dir }),
      iperf3(h.right.ns, h.left.ns, SECOND.right, { seconds: 3, reverse, port: 5202, logDir: ctx.dir }),
    ]);
  const fwd = await flows(false);
  const rev = await flows(true);
  const msg = `two flows over two CHILD SAs with 2 workers per side: left->right ${fwd.map((x) => x.mbps.toFixed(0)).join(' + ')} Mbit/s, right->left ${rev.map((x) => x.mbps.toFixed(0)).join(' + ')} Mbit/s`;
  ctx.log(msg);
  console.log(`    ${msg}`);
  for (const x of [...fwd, ...rev]) assert.ok(x.mbps > 1, 'each flow moved data');
  const [la, ra] = [await settled(l), await settled(r)];
  for (const [who, s] of [['left', la], ['right', ra]] as const) {
    noReplayDrops(s, who);
    const c = s.counters;
    ctx.log(`${who} counters: ${JSON.stringify(c)}`);
    assert.equal(c.workers, 2, `${who}: 2 workers in the status`);
    for (const w of [1, 2]) assert.ok((c[`worker${w}.espIn`] ?? 0) > 100, `${who}: worker ${w} received ESP (${c[`worker${w}.espIn`]})`);
    for (const k of ['espIn', 'espOut', 'delivered']) {
      const parts = (c[`worker1.${k}`] ?? 0) + (c[`worker2.${k}`] ?? 0);
      assert.ok((c[k] ?? 0) >= parts && (c[k] ?? 0) - parts < 20, `${who}: ${k} ${c[k]} is the workers' ${parts} plus the main thread's few`);
    }
    const list = children(s)!;
    // swanctl --list-sas through cygnet's vici shows the workers' counters too (Daemon.childExtras).
    const vici = (await (who === 'left' ? l : r).peer.listSas()).flatMap((x) => x.children);
    for (const c of list) {
      const v = vici.find((x) => x.spiIn === c.spiIn);
      assert.ok(v && v.packetsIn > 0 && Math.abs(v.packetsIn - (c.packetsIn ?? 0)) <= (c.packetsIn ?? 0) / 10, `${who} ${c.name}: swanctl --list-sas packets-in ${v?.packetsIn} near the status file's ${c.packetsIn}`);
    }
    const espIn = list.reduce((n, x) => n + (x.packetsIn ?? 0), 0);
    assert.ok(espIn > 1000, `${who}: the CHILD SAs' inbound packets (${espIn}) come from the workers' replicas`);
  }

  // 5. Rekeys of both CHILD SAs under load.
  const oldSpis = new Set(children(la)!.map((c) => c.spiIn));
  const load = flows(false);
  await new Promise((res) => setTimeout(res, 1000));
  await l.peer.rekey({ child: 'net1' });
  await l.peer.rekey({ child: 'net2' });
  const during = await load;
  const rekeyed = await l.waitFor('both CHILD SAs rekeyed', (s) => {
    const list = children(s);
    return list && list.length === 2 && list.every((c) => !oldSpis.has(c.spiIn)) ? list : undefined;
  });
  ctx.log(`rekeyed under load: ${rekeyed.map((c) => `${c.name} ${c.spiIn}`).join(', ')}; flows ${during.map((x) => x.mbps.toFixed(0)).join(' + ')} Mbit/s`);
  for (const x of during) assert.ok(x.mbps > 1, 'each flow went on through the rekey');
  for (const side of [l, r]) {
    const acked = (await side.peer.grep(/installed on all 2 workers/)).length;
    assert.ok(acked >= 4, `both workers acknowledged the rekeyed SAs too (${acked} lines)`);
  }
  const [lz, rz] = [await settled(l), await settled(r)];
  for (const [who, s] of [['left', lz], ['right', rz]] as const) {
    noReplayDrops(s, who);
    ctx.log(`${who} after the rekeys: espDrops ${s.counters.espDrops}, faults ${s.counters.faults}`);
    assert.equal(s.counters.faults, 0, `${who}: no faults`);
    assert.equal(s.counters.espDrops, 0, `${who}: no ESP dropped over the whole run`);
  }
  assert.equal(await l.peer.stop(5000), 0, 'left exits 0 on SIGTERM');
  assert.equal(await r.peer.stop(5000), 0, 'right exits 0 on SIGTERM');
}
