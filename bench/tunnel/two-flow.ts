/**
 * `npm run bench -- tunnel --two-flow` (issue 17, docs/PERFORMANCE.md section 7): do two cores carry two flows?
 * For --workers 1 and then --workers 2 (both in this run, each in fresh namespaces): two cygnets with two CHILD SAs
 * in one IKE SA (10.1.0.1 <-> 10.2.0.1 and 10.1.0.2 <-> 10.2.0.2: the TUN's flow steering follows the queue that
 * wrote a flow, so a CHILD SA pair lives on one worker and two flows need two CHILD SAs), two iperf3 TCP flows at
 * once, one per CHILD SA, left -> right and then right -> left. Prints the summed Mbit/s, both daemons' CPU (all
 * their threads, % of one core) and the ratio two workers / one worker per direction, plus one JSON line each.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { waitFor } from '../../test/interop/lib/exec.js';
import { iperf3 } from '../../test/interop/lib/iperf.js';
import { CygnetPeer } from '../../test/interop/lib/cygnet.js';
import { NetnsLab } from '../../test/interop/lib/netns.js';
import { mirror, pskSwanctlConf, type PskConnection } from '../../test/interop/lib/swanctl-conf.js';
import { twoHosts, type TwoHosts } from '../../test/interop/lib/topology.js';
import { benchConnection } from './pairs.js';
import { cpuSeconds } from './proc-cpu.js';

const SECOND = { left: '10.1.0.2', right: '10.2.0.2' };

export interface TwoFlowResult {
  workers: number;
  direction: 'up' | 'down';
  /** The two flows' receiver-side Mbit/s. */
  flows: [number, number];
  mbps: number;
  /** Both daemons, all threads, % of one core. */
  cpu: number;
}

/** The connection with a second child `net2` for the second address pair (start_action on the left only). */
function twoChildConf(c: PskConnection, second: { localTs: string; remoteTs: string }, start: boolean): string {
  const text = pskSwanctlConf({ ...c, child: { ...c.child, name: 'net1', startAction: start ? 'start' : 'none' } });
  const child2 = `      net2 {\n        local_ts = ${second.localTs}\n        remote_ts = ${second.remoteTs}\n        esp_proposals = ${c.child.espProposals}\n        start_action = ${start ? 'start' : 'none'}\n      }\n`;
  return text.replace(/( {6}\}\n)( {4}\}\n {2}\}\n\}\n)/, `$1${child2}$2`);
}

async function ping(h: TwoHosts, from: string, to: string): Promise<void> {
  await waitFor(`a ping ${from} -> ${to} through the tunnel`, async () => ((await h.left.ns.ping(to, { count: 1, source: from, waitS: 1 })).received === 1 ? true : undefined), 30_000, 200);
}

/** One pair with `workers` data-plane threads per side; both directions measured. */
async function onePair(workers: number, root: string, seconds: number, say: (m: string) => void): Promise<TwoFlowResult[]> {
  const lab = new NetnsLab();
  const dir = join(root, `two-flow-w${workers}`);
  await mkdir(dir, { recursive: true });
  const started: CygnetPeer[] = [];
  try {
    const h = await twoHosts(lab);
    await h.left.ns.addAddress('lo', `${SECOND.left}/32`);
    await h.right.ns.addAddress('lo', `${SECOND.right}/32`);
    const conn = benchConnection(h, 'bench');
    const theirs = mirror(conn);
    const args = ['--workers', String(workers)];
    // From source each worker thread transpiles the daemon through tsx: slow to start on a loaded machine.
    const startTimeoutMs = 90_000;
    const right = await CygnetPeer.start({ ns: h.right.ns, label: 'cygnet-right', dir: join(dir, 'right'), config: twoChildConf(theirs, { localTs: `${SECOND.right}/32`, remoteTs: `${SECOND.left}/32` }, false), args: ['--tun', 'cyg1', ...args], ready: /daemon running/, startTimeoutMs });
    started.push(right);
    const left = await CygnetPeer.start({ ns: h.left.ns, label: 'cygnet-left', dir: join(dir, 'left'), config: twoChildConf(conn, { localTs: `${SECOND.left}/32`, remoteTs: `${SECOND.right}/32` }, true), args: ['--tun', 'cyg0', ...args], ready: /daemon running/, startTimeoutMs });
    started.push(left);
    await left.waitForLog(/installed route 10\.2\.0\.2\/32 dev cyg0/, 20_000);
    await ping(h, h.left.inner4, h.right.inner4);
    await ping(h, SECOND.left, SECOND.right);
    const out: TwoFlowResult[] = [];
    let port = 5301;
    for (const direction of ['up', 'down'] as const) {
      const cpu0 = (await cpuSeconds(left.process.pid)) + (await cpuSeconds(right.process.pid));
      const t0 = performance.now();
      const [a, b] = await Promise.all([
        iperf3(h.right.ns, h.left.ns, h.right.inner4, { seconds, reverse: direction === 'down', port: port++, logDir: dir }),
        iperf3(h.right.ns, h.left.ns, SECOND.right, { seconds, reverse: direction === 'down', port: port++, logDir: dir }),
      ]);
      const wall = (performance.now() - t0) / 1000;
      const cpu1 = (await cpuSeconds(left.process.pid)) + (await cpuSeconds(right.process.pid));
      const r: TwoFlowResult = { workers, direction, flows: [a.mbps, b.mbps], mbps: a.mbps + b.mbps, cpu: Math.round(((cpu1 - cpu0) / wall) * 100) };
      say(`two flows, --workers ${workers}, ${direction === 'up' ? 'left->right' : 'right->left'}: ${a.mbps.toFixed(0)} + ${b.mbps.toFixed(0)} = ${r.mbps.toFixed(0)} Mbit/s, daemons ${r.cpu}% CPU`);
      out.push(r);
    }
    return out;
  } finally {
    for (const p of started.reverse()) await p.stop(8000).catch(() => undefined);
    await lab.cleanup();
  }
}

/**
 * Runs --workers 1 then 2, `rounds` times alternating (the machine's other load drifts: alternating spreads it over
 * both), and returns the printed lines (each measurement, the ratio of the summed throughput per direction, JSON).
 */
export async function twoFlowBench(root: string, seconds: number, say: (m: string) => void, rounds = 1): Promise<string[]> {
  const results: (TwoFlowResult & { round: number })[] = [];
  for (let round = 1; round <= rounds; round++) for (const w of [1, 2]) results.push(...(await onePair(w, join(root, `round${round}`), seconds, say)).map((r) => ({ ...r, round })));
  const lines = [`two iperf3 TCP flows at once over two CHILD SAs (one IKE SA), ${seconds} s per direction, ${rounds} round(s) of --workers 1 then 2; cpu% = both daemons, all threads, % of one core`];
  for (const r of results) lines.push(`  round ${r.round} --workers ${r.workers} ${r.direction === 'up' ? 'left->right' : 'right->left'}: ${r.flows.map((x) => x.toFixed(0)).join(' + ')} = ${r.mbps.toFixed(0)} Mbit/s, cpu ${r.cpu}%`);
  const total = (w: number, d: 'up' | 'down', k: 'mbps' | 'cpu'): number => results.filter((r) => r.workers === w && r.direction === d).reduce((n, r) => n + r[k], 0);
  for (const d of ['up', 'down'] as const) {
    const one = total(1, d, 'mbps');
    const two = total(2, d, 'mbps');
    if (one > 0 && two > 0) lines.push(`  ${d === 'up' ? 'left->right' : 'right->left'}: 2 workers / 1 worker = ${(two / one).toFixed(2)} (throughput, summed over rounds), ${(total(2, d, 'cpu') / Math.max(1, total(1, d, 'cpu'))).toFixed(2)} (CPU)`);
  }
  for (const r of results) lines.push(JSON.stringify({ bench: 'tunnel-two-flow', ...r }));
  return lines;
}
