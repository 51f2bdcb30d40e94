/**
 * `npm run bench -- tunnel`: iperf3 TCP throughput through three userspace tunnels, in the same run, each pair
 * in fresh namespaces (test/interop/lib/topology.ts twoHosts, two hosts over a veth, inner addresses on lo):
 *
 *   1. cygnet <-> cygnet           two `cygnet daemon --tun`, PSK, ESP aes128gcm16 in UDP 4500
 *   2. wireguard-go <-> wireguard-go
 *   3. strongSwan <-> strongSwan   charon with kernel-libipsec, ESP aes128gcm16 in UDP 4500
 *
 * For each: iperf3 -c 10.2.0.1 from 10.1.0.1 for --seconds (default 10) left -> right, then (unless --one-way)
 * the reverse (-R). Prints a table (Mbit/s, tunnel-device packets/s, daemons' CPU, ratios of cygnet against
 * wireguard-go and strongSwan), summary lines, and one JSON line per measurement:
 *   {"bench":"tunnel","impl":"cygnet","mbps":...,"ratio_vs_wireguard":...,"ratio_vs_strongswan":...,...}
 *
 * `--profile`: afterwards, a fourth cygnet pair runs with `node --cpu-prof` and the self time of both daemons
 * under a --seconds iperf3 load is summarised by function and by data-path stage (bench/tunnel/profile.ts).
 * `--experiment` adds a fourth pair, `cygnet-no-offload`: cygnet with `--no-offload` (plain packets on the TUN, no
 * TSO/GRO; docs/PERFORMANCE.md), to measure the offloads end to end in the same run.
 * `--tcp` adds `cygnet-tcp`: cygnet with `encap = tcp` (RFC 9329: IKE and ESP on one TCP stream to port 4500), and a
 * summary line with its ratio to cygnet over UDP in the same run.
 * `--two-flow` runs only the multi-core measurement (bench/tunnel/two-flow.ts, issue 17): two iperf3 flows over two
 * CHILD SAs, `cygnet daemon --workers 1` against `--workers 2`, in one run, printed as a ratio (`--rounds=N`: N
 * alternations of the two, for a machine whose other load drifts).
 * `--only=cygnet,wireguard-go,strongswan,cygnet-no-offload,cygnet-tcp` picks pairs. `--keep` keeps the scratch directory (logs, profiles).
 *
 * Needs root (namespaces, TUN devices); otherwise it prints why it skipped and returns. Installs what is missing
 * with apt-get (iperf3, wireguard-go, wireguard-tools, strongSwan). Namespaces and processes are removed at the
 * end, on failure, and on SIGINT/SIGTERM.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run as runCommand } from '../test/interop/lib/exec.js';
import { ensureStrongswanInstalled } from '../test/interop/lib/install.js';
import { iperf3 } from '../test/interop/lib/iperf.js';
import { cleanupAllLabs, NetnsLab, removeStaleNamespaces } from '../test/interop/lib/netns.js';
import { liveProcesses } from '../test/interop/lib/process.js';
import { twoHosts, type TwoHosts } from '../test/interop/lib/topology.js';
import { Reporter } from './lib.js';
import { devPackets, startCygnetPair, startStrongswanPair, startWireguardPair, type Impl, type PairOptions, type TunnelPair } from './tunnel/pairs.js';
import { formatSummary, summarizeProfile, type CpuProfile } from './tunnel/profile.js';
import { summaryLines, toRows, type Measurement } from './tunnel/results.js';
import { twoFlowBench } from './tunnel/two-flow.js';
import { cpuSeconds } from './tunnel/proc-cpu.js';

const IMPLS: readonly Impl[] = ['cygnet', 'wireguard-go', 'strongswan', 'cygnet-no-offload', 'cygnet-tcp'];
const START: Record<Impl, (h: TwoHosts, o: PairOptions) => Promise<TunnelPair>> = {
  cygnet: startCygnetPair,
  'wireguard-go': startWireguardPair,
  strongswan: startStrongswanPair,
  'cygnet-no-offload': (h, o) => startCygnetPair(h, { ...o, extraArgs: ['--no-offload'] }),
  'cygnet-tcp': (h, o) => startCygnetPair(h, { ...o, tcp: true }),
};

function flag(name: string): string | undefined {
  const a = process.argv.find((x) => x === `--${name}` || x.startsWith(`--${name}=`));
  if (a === undefined) return undefined;
  return a.includes('=') ? a.slice(a.indexOf('=') + 1) : '';
}

function say(msg: string): void {
  process.stderr.write(`tunnel: ${msg}\n`);
}

/** Packages the bench needs beyond the interop toolchain, by a file each provides. */
const EXTRA: ReadonlyArray<readonly [string, string]> = [
  ['/usr/bin/wireguard-go', 'wireguard-go'],
  ['/usr/bin/wg', 'wireguard-tools'],
  ['/usr/bin/iperf3', 'iperf3'],
];

async function ensureInstalled(): Promise<void> {
  await ensureStrongswanInstalled(say);
  const missing = EXTRA.filter(([p]) => !existsSync(p)).map(([, pkg]) => pkg);
  if (missing.length === 0) return;
  say(`installing ${missing.join(' ')} ...`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  await runCommand('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { env, timeoutMs: 600_000, allowFail: true });
  if (EXTRA.some(([p]) => !existsSync(p))) {
    await runCommand('apt-get', ['update', '-qq'], { env, timeoutMs: 300_000 });
    await runCommand('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { env, timeoutMs: 600_000 });
  }
}

/** Host-wide CPU jiffies (all cores): busy and total, from the first line of /proc/stat. */
async function hostCpu(): Promise<{ busy: number; total: number }> {
  const line = (await readFile('/proc/stat', 'utf8')).split('\n')[0] ?? '';
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const total = v.reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0);
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  return { busy: total - idle, total };
}

async function mtuOf(h: TwoHosts, dev: string): Promise<number> {
  const r = await h.left.ns.exec('cat', [`/sys/class/net/${dev}/mtu`], { allowFail: true });
  const n = Number(r.stdout.trim());
  return Number.isFinite(n) ? n : 0;
}

async function measure(pair: TunnelPair, h: TwoHosts, direction: 'up' | 'down', seconds: number, dir: string, port: number): Promise<Measurement & { cpu: number; host: number; mtu: number }> {
  // The sending side's tunnel device: its tx counter is the packets the tunnel had to protect.
  const sender = direction === 'up' ? { ns: h.left.ns, dev: pair.dev.left } : { ns: h.right.ns, dev: pair.dev.right };
  const before = await devPackets(sender.ns, sender.dev);
  const cpu0 = (await cpuSeconds(pair.pids.left)) + (await cpuSeconds(pair.pids.right));
  const host0 = await hostCpu();
  const t0 = performance.now();
  const r = await iperf3(h.right.ns, h.left.ns, h.right.inner4, { seconds, reverse: direction === 'down', logDir: dir, port });
  const wall = (performance.now() - t0) / 1000;
  const cpu1 = (await cpuSeconds(pair.pids.left)) + (await cpuSeconds(pair.pids.right));
  const host1 = await hostCpu();
  const after = await devPackets(sender.ns, sender.dev);
  // Packets the sender's stack routed into the tunnel device (rx on a TUN = what the daemon wrote, tx = what it read).
  const pkts = after.tx - before.tx;
  return {
    impl: pair.impl,
    direction,
    suite: pair.suite,
    mbps: r.mbps,
    pps: pkts / wall,
    ...(r.retransmits !== undefined ? { retransmits: r.retransmits } : {}),
    seconds,
    cpu: Math.round(((cpu1 - cpu0) / wall) * 100),
    // Everything on the machine (iperf3, kernel, and whatever else runs): 100% = all cores busy.
    host: Math.round((100 * (host1.busy - host0.busy)) / Math.max(1, host1.total - host0.total)),
    mtu: await mtuOf(h, pair.dev.left),
  };
}

async function withPair<T>(impl: Impl, root: string, o: Omit<PairOptions, 'dir'>, f: (pair: TunnelPair, h: TwoHosts, dir: string) => Promise<T>): Promise<T> {
  const lab = new NetnsLab();
  const dir = join(root, impl);
  await mkdir(dir, { recursive: true });
  let pair: TunnelPair | undefined;
  try {
    const h = await twoHosts(lab);
    pair = await START[impl](h, { ...o, dir });
    return await f(pair, h, dir);
  } catch (e) {
    say(`${impl} failed: ${e instanceof Error ? e.message : String(e)} (logs in ${dir})`);
    throw e;
  } finally {
    await pair?.stop().catch(() => undefined);
    await lab.cleanup();
  }
}

async function profileCygnet(root: string, seconds: number, impl: 'cygnet' | 'cygnet-no-offload' | 'cygnet-tcp'): Promise<string[]> {
  const profDir = join(root, `cpuprofile-${impl}`);
  await mkdir(profDir, { recursive: true });
  // NODE_OPTIONS reaches the daemon's node (spawned by CygnetPeer with fixed flags; node 20 refuses --cpu-prof in
  // NODE_OPTIONS, so a preloaded hook drives the inspector's profiler); the profile is written at exit (SIGTERM).
  const hook = fileURLToPath(new URL('./tunnel/cpu-prof-hook.mjs', import.meta.url));
  const env = {
    NODE_OPTIONS: `${process.env['NODE_OPTIONS'] ?? ''} --import ${hook}`.trim(),
    CYGNET_CPU_PROF_DIR: profDir,
    CYGNET_CPU_PROF_INTERVAL_US: '200',
    CYGNET_CPU_PROF_START: 'signal',
  };
  let mbps = 0;
  const pids: Record<number, string> = {};
  await withPair(impl, join(root, 'profile'), { env }, async (pair, h, dir) => {
    pids[pair.pids.left] = 'left (iperf3 sender side: TUN read -> ESP seal -> UDP send)';
    pids[pair.pids.right] = 'right (receiver side: UDP receive -> ESP open -> TUN write)';
    // Profile the load only: the hook starts the profiler on SIGUSR2.
    for (const pid of [pair.pids.left, pair.pids.right]) process.kill(pid, 'SIGUSR2');
    mbps = (await iperf3(h.right.ns, h.left.ns, h.right.inner4, { seconds, logDir: dir, port: 5299 })).mbps;
  });
  const lines = [`${impl} under the CPU profiler: ${mbps.toFixed(1)} Mbit/s left->right for ${seconds} s (profiling slows it a little)`];
  const files = (await readdir(profDir)).filter((f) => f.endsWith('.cpuprofile'));
  if (files.length === 0) lines.push(`  no .cpuprofile written in ${profDir} (did the daemons exit cleanly?)`);
  for (const f of files) {
    const pid = Number(/^CPU\.(\d+)\.cpuprofile$/.exec(f)?.[1]);
    const p = JSON.parse(await readFile(join(profDir, f), 'utf8')) as CpuProfile;
    lines.push(...formatSummary(`daemon ${pids[pid] ?? `pid ${pid}`} [${join(profDir, f)}]`, summarizeProfile(p), 25));
  }
  return lines;
}

export async function run(): Promise<void> {
  if (process.getuid?.() !== 0) {
    process.stdout.write('tunnel: skipped: not root (needs network namespaces, TUN devices and apt-get for iperf3/wireguard-go/strongSwan)\n');
    return;
  }
  const seconds = Number(flag('seconds') ?? 10);
  if (!(seconds >= 1)) throw new Error(`--seconds=${flag('seconds')}: expected a number of seconds >= 1`);
  const oneWay = flag('one-way') !== undefined;
  const only = flag('only')?.split(',').map((s) => s.trim()).filter(Boolean);
  // The no-offload comparison runs with --experiment (or when named in --only).
  const experiment = flag('experiment') !== undefined;
  // cygnet over RFC 9329 TCP runs with --tcp (or when named in --only).
  const tcp = flag('tcp') !== undefined;
  const impls = IMPLS.filter((i) => (only ? only.includes(i) : (i !== 'cygnet-no-offload' || experiment) && (i !== 'cygnet-tcp' || tcp)));
  if (only && impls.length === 0) throw new Error(`--only=${only.join(',')}: expected some of ${IMPLS.join(', ')}`);

  await ensureInstalled();
  await removeStaleNamespaces();
  const root = await mkdtemp(join(tmpdir(), 'cygnet-bench-tunnel-'));
  let interrupted = false;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (interrupted) return;
    interrupted = true;
    say(`${sig}: cleaning up namespaces and processes`);
    void (async () => {
      for (const p of liveProcesses()) await p.stop(500).catch(() => undefined);
      await cleanupAllLabs().catch(() => undefined);
      process.exit(130);
    })();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  if (flag('two-flow') !== undefined) {
    const rounds = Number(flag('rounds') ?? 1);
    if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds=${flag('rounds')}: expected a whole number of rounds >= 1`);
    try {
      for (const line of await twoFlowBench(root, seconds, say, rounds)) process.stdout.write(`${line}\n`);
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      for (const p of liveProcesses()) await p.stop(500).catch(() => undefined);
      await cleanupAllLabs().catch(() => undefined);
      say(`scratch in ${root}`);
    }
    return;
  }

  const measurements: Array<Measurement & { cpu: number; host: number; mtu: number }> = [];
  const failures: string[] = [];
  let port = 5201;
  try {
    for (const impl of impls) {
      say(`${impl}: bringing the pair up`);
      try {
        await withPair(impl, root, {}, async (pair, h, dir) => {
          for (const direction of oneWay ? (['up'] as const) : (['up', 'down'] as const)) {
            say(`${impl}: iperf3 ${direction === 'up' ? 'left->right' : 'right->left'} for ${seconds} s`);
            const m = await measure(pair, h, direction, seconds, dir, port++);
            say(`${impl} ${direction}: ${m.mbps.toFixed(1)} Mbit/s, ${Math.round(m.pps)} pkt/s, daemons ${m.cpu}% CPU, host ${m.host}% busy`);
            measurements.push(m);
          }
        });
      } catch (e) {
        failures.push(`${impl}: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
      }
    }

    const rows = toRows(measurements);
    const reporter = new Reporter(['mbps', 'retransmits', 'cpu%', 'host%', 'ratio_vs_wireguard', 'ratio_vs_strongswan']);
    for (const [i, r] of rows.entries()) reporter.add({ ...r, size: measurements[i]!.mtu, 'cpu%': measurements[i]!.cpu, 'host%': measurements[i]!.host });
    const summary = [
      `iperf3 TCP, ${seconds} s per direction, 10.1.0.1 <-> 10.2.0.1 through each tunnel; pps = packets/s into the sender's tunnel device; size = tunnel MTU; cpu% = both daemons together, % of one core; host% = all cores of the machine busy (other load included)`,
      ...summaryLines(rows),
      ...failures.map((f) => `FAILED ${f}`),
    ];
    for (const impl of ['cygnet', 'cygnet-no-offload', 'cygnet-tcp'] as const) {
      if (flag('profile') === undefined || !impls.includes(impl)) continue;
      say(`profiling ${impl} (V8 CPU profiler in both daemons)`);
      try {
        summary.push('', ...(await profileCygnet(root, seconds, impl)));
      } catch (e) {
        summary.push(`profile of ${impl} FAILED: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
      }
    }
    reporter.print(summary);
    if (failures.length > 0) process.exitCode = 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    for (const p of liveProcesses()) await p.stop(500).catch(() => undefined);
    await cleanupAllLabs().catch(() => undefined);
    if (flag('keep') !== undefined || flag('profile') !== undefined || failures.length > 0) say(`scratch kept in ${root}`);
    else await rm(root, { recursive: true, force: true }).catch(() => undefined);
  }
}
