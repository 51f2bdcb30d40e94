/**
 * TUN throughput of LinuxTun (DESIGN.md section 4 reports 0.8-1.0M pps read, ~0.7M pps write for this design).
 * Needs root; runs in a private network namespace (it re-executes itself under `unshare -n`), so the host's
 * interfaces, routes and sysctls are untouched.
 *
 * Setup: two TUNs, a (198.18.1.1/24) and b (198.18.2.1/24), forwarding on. Packets written into a from
 * 198.18.1.2 to 198.18.2.2 are forwarded by the kernel and come out of b.
 *   write/read: writeBatch() of 64 packets into a, then readBatch() on b until drained, timed apart (the
 *          write syscall includes the kernel's forwarding work);
 *   push:  a writer on setImmediate feeding a, b read by its onPackets() loop: both on one event loop;
 *   wake:  one packet at a time, each read waiting in the idle wait: 'thread' and 'pool' waiters
 *          (src/tun/readiness.ts), with the libuv pool idle and busy.
 *
 *   npx tsx bench/tun.ts            (or through bench/run.ts)
 */
import { spawnSync } from 'node:child_process';
import { pbkdf2 } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { LinuxTun, linuxTunUnavailableReason } from '../src/tun/linux.js';
import { LinuxNetConfig } from '../src/tun/linux-net.js';
import { buildIpv4, udpDatagram } from '../test/helpers/packets.js';
import { Reporter } from './lib.js';

export interface TunBenchResult {
  skipped?: string;
  packetBytes?: number;
  writePps?: number;
  readPps?: number;
  readBatchAvg?: number;
  /** a.writeBatch + b.onPackets on one event loop: packets through per second. */
  pushPps?: number;
  wakeRoundTripUs?: number;
  /** Wake round trip (us) per waiter, pool idle and pool busy. */
  wakeUs?: Record<string, number>;
  /** Packets written but not read back during the pull measurement (kernel drops). */
  lost?: number;
}

const CHILD_FLAG = '--tun-bench-child';

function skipReason(): string | undefined {
  if (process.platform !== 'linux') return `not Linux (${process.platform})`;
  if (process.getuid?.() !== 0) return 'not root: a TUN needs CAP_NET_ADMIN';
  if (!existsSync('/dev/net/tun')) return '/dev/net/tun does not exist';
  return linuxTunUnavailableReason();
}

/** Entry for bench/run.ts: runs the measurement in a private netns and prints the table and JSON lines. */
export async function run(): Promise<void> {
  await measureTun();
}

/** The measurement, returned for callers that want the figures. */
export async function measureTun(): Promise<TunBenchResult> {
  const why = skipReason();
  if (why) {
    process.stderr.write(`tun: skipped: ${why}\n`);
    return { skipped: why };
  }
  const self = fileURLToPath(import.meta.url);
  const r = spawnSync('unshare', ['-n', process.execPath, '--import', 'tsx', self, CHILD_FLAG], { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`tun bench failed (${r.status}): ${r.stderr}`);
  const res = JSON.parse(r.stdout.trim().split('\n').pop()!) as TunBenchResult;
  const rep = new Reporter(['note']);
  const row = (op: string, pps: number | undefined, note: string) =>
    rep.add({ bench: 'tun', backend: 'linux-koffi', algorithm: 'ipv4-udp', size: res.packetBytes ?? 0, op, pps: pps ?? 0, note });
  row('write', res.writePps, 'writeBatch(64) into TUN a, kernel forwards to b');
  row('read', res.readPps, `readBatch on b, avg batch ${res.readBatchAvg?.toFixed(1)}, lost ${res.lost}`);
  row('write+read', res.pushPps, 'setImmediate writer + onPackets reader, one event loop');
  for (const [k, us] of Object.entries(res.wakeUs ?? {})) {
    rep.add({ bench: 'tun', backend: 'linux-koffi', algorithm: 'ipv4-udp', size: res.packetBytes ?? 0, op: `wake/${k}`, pps: 1e6 / us, note: `one packet at a time through the idle wait: ${us.toFixed(1)} us` });
  }
  rep.print();
  return res;
}

async function child(): Promise<TunBenchResult> {
  const a = await LinuxTun.open({ name: 'bencha', mtu: 1500 });
  const b = await LinuxTun.open({ name: 'benchb', mtu: 1500 });
  const na = new LinuxNetConfig(a.name);
  const nb = new LinuxNetConfig(b.name);
  await na.addAddress('198.18.1.1/24');
  await nb.addAddress('198.18.2.1/24');
  writeFileSync('/proc/sys/net/ipv4/ip_forward', '1');
  const packetBytes = 1400;
  const pkt = buildIpv4('198.18.1.2', '198.18.2.2', 17, udpDatagram(1000, 2000, new Uint8Array(packetBytes - 28)));
  const batch = Array.from({ length: 64 }, () => pkt);

  // Steady state with a short queue on b: write a batch of 64 into a, then pull b until it is drained.
  // The write syscall includes the kernel's forwarding to b, so write and read are timed apart. (Filling b's
  // queue first and draining it later measures skb memory pressure, not the TUN path: tried, ~150k pps.)
  const measure = (rounds: number) => {
    let wNs = 0;
    let rNs = 0;
    let written = 0;
    let got = 0;
    let reads = 0;
    for (let i = 0; i < rounds; i++) {
      let t = process.hrtime.bigint();
      written += a.writeBatch(batch);
      const t1 = process.hrtime.bigint();
      wNs += Number(t1 - t);
      t = t1;
      for (let k = 0; k < 4; k++) {
        const n = b.readBatch().length;
        if (n === 0) break;
        got += n;
        reads++;
      }
      rNs += Number(process.hrtime.bigint() - t);
    }
    return { wNs, rNs, written, got, reads };
  };
  measure(500); // warm-up
  const m = measure(4000);
  const writePps = (m.written / m.wNs) * 1e9;
  const readPps = (m.got / m.rNs) * 1e9;
  const readBatchAvg = m.got / Math.max(1, m.reads);

  // Push mode end to end: a writer feeding a on every turn, b's onPackets loop reading (write + read pps).
  const pushN = 200_000;
  let pushed = 0;
  const pushNs = await new Promise<number>((resolve) => {
    const start = process.hrtime.bigint();
    let got = 0;
    b.onPackets((p) => {
      got += p.length;
      if (got >= pushN * 0.95 && pushed >= pushN) resolve(Number(process.hrtime.bigint() - start));
    });
    const feed = () => {
      if (pushed >= pushN) return;
      pushed += a.writeBatch(batch);
      setImmediate(feed);
    };
    feed();
  });
  const pushPps = (pushN / pushNs) * 1e9;

  await b.close();

  // Wake latency: one packet in flight at a time, each read arriving through the idle wait, for both waiters,
  // with the libuv pool idle and with four pbkdf2 jobs keeping it busy (as fs, dns or WebCrypto work would).
  const wake: Record<string, number> = {};
  for (const waiter of ['thread', 'pool'] as const) {
    const w = await LinuxTun.open({ name: `benchw${waiter}`, mtu: 1500, waiter });
    await new LinuxNetConfig(w.name).addAddress(waiter === 'thread' ? '198.18.3.1/24' : '198.18.4.1/24');
    const wp = buildIpv4('198.18.1.2', waiter === 'thread' ? '198.18.3.2' : '198.18.4.2', 17, udpDatagram(1000, 2000, new Uint8Array(packetBytes - 28)));
    for (const busy of [false, true]) {
      let stop = false;
      if (busy) {
        const spin = () => {
          if (!stop) pbkdf2('x', 's', 20000, 32, 'sha256', spin);
        };
        for (let i = 0; i < 4; i++) spin();
      }
      const rounds = busy && waiter === 'pool' ? 100 : 2000;
      let n = 0;
      const ns = await new Promise<number>((resolve) => {
        const start = process.hrtime.bigint();
        w.onPackets(() => {
          if (++n === rounds) resolve(Number(process.hrtime.bigint() - start));
          else setImmediate(() => a.writeBatch([wp]));
        });
        a.writeBatch([wp]);
      });
      stop = true;
      wake[`${waiter}${busy ? '-busy-pool' : ''}`] = ns / rounds / 1000;
    }
    await w.close();
  }

  await a.close();
  return {
    packetBytes,
    writePps,
    readPps,
    readBatchAvg,
    pushPps,
    wakeRoundTripUs: wake['thread'],
    wakeUs: wake,
    lost: m.written - m.got,
  };
}

if (process.argv.includes(CHILD_FLAG)) {
  child().then(
    (r) => process.stdout.write(JSON.stringify(r) + '\n'),
    (e) => {
      process.stderr.write(`${(e as Error).stack}\n`);
      process.exit(1);
    },
  );
} else if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  void run();
}
