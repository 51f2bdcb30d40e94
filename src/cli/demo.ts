/**
 * `cygnet demo` (`npm start`, issue 7): no root, no arguments, no files. Two cygnet endpoints, "moon" and "sun",
 * run in this process, each a full daemon driver (src/daemon/driver.ts) over the gateway core (src/gateway, the
 * same core the daemon and library users drive) with real UDP sockets on 127.0.0.1 (free unprivileged ports) and
 * an in-memory TUN (src/tun/memory.ts) standing in for the kernel. Then:
 *
 *   1. both load a swanctl.conf (printed, so users see what they would write) through src/config;
 *   2. moon initiates (start_action = start): IKE_SA_INIT + IKE_AUTH bring up the IKE SA and the CHILD SA
 *      (RFC 7296 1.2), logged as strongSwan logs them (suite, SPIs, traffic selectors);
 *   3. UDP packets flow both ways through ESP-in-UDP (RFC 3948) for --seconds, with a live rate line;
 *   4. halfway through, moon rekeys the CHILD SA with CREATE_CHILD_SA (RFC 7296 1.3.3, make-before-break);
 *   5. moon deletes the IKE SA (RFC 7296 1.4.1) and a summary is printed. Exit 0, or 1 with the reason.
 *
 * Traffic is windowed per direction (a sequence number in each packet, at most WINDOW beyond the highest one
 * delivered) so the in-memory TUN queues and the loopback socket buffers are not overrun: what is counted as
 * lost was lost in the tunnel, not in the demo's own queues.
 */
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { parseSwanctlConfig, isConfigError } from '../config/index.js';
import { availableBackends, backendUnavailableReasons } from '../crypto/backends/index.js';
import { toDaemonConfig } from '../daemon/connections.js';
import { Daemon } from '../daemon/driver.js';
import { Logger } from '../daemon/logger.js';
import { ESP_HEADROOM } from '../esp/engine.js';
import { ipv4Packet } from '../esp/testing.js';
import type { ChildSaInfo } from '../ike/events.js';
import { createMemoryTun, type TunHost } from '../tun/memory.js';
import { parseArgs, UsageError } from './args.js';

export const DEMO_USAGE = `usage: cygnet demo [--seconds N] [--size BYTES] [--verbose]
  Two cygnet endpoints in this process on loopback UDP with in-memory TUNs: IKE SA + CHILD SA up, traffic both
  ways with a live rate line, one CHILD SA rekey halfway, then a summary. No root needed.
  --seconds N      how long traffic flows (default 5, 1..60; the rekey happens halfway)
  --size BYTES     inner IP packet size (default 1400, 64..1400)
  --verbose        every log line of both endpoints (default: the IKE and CHILD SA lines)`;

/** Where the demo writes. `isTTY` makes the rate line rewrite itself in place. */
export interface DemoIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly isTTY: boolean;
}

export interface DemoOptions {
  /** Seconds of traffic (the rekey happens halfway). */
  readonly seconds: number;
  /** Inner IPv4 packet size in bytes. */
  readonly size: number;
  readonly verbose: boolean;
}

export interface DirectionSummary {
  readonly sent: number;
  readonly received: number;
  readonly lost: number;
  readonly packetsPerSecond: number;
  readonly mbitPerSecond: number;
}

export interface DemoSummary {
  readonly moonToSun: DirectionSummary;
  readonly sunToMoon: DirectionSummary;
  readonly rekeys: number;
  /** Seconds traffic flowed, and the whole demo. */
  readonly trafficSeconds: number;
  readonly totalSeconds: number;
  readonly ikeSuite: string;
  readonly childSuite: string;
  /** `spiIn_i spiOut_o` of moon's CHILD SA before and after the rekey. */
  readonly spisBefore: string;
  readonly spisAfter: string;
  /** ESP packets either endpoint dropped (bad ICV, replay...), from the drivers' counters. */
  readonly espDrops: number;
}

/** Test seam: lets a test break one side's configuration to see the demo fail cleanly. */
export interface DemoHooks {
  readonly editConf?: (who: 'moon' | 'sun', text: string) => string;
}

/** A failure the demo explains in one line (exit 1). */
export class DemoError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DemoError';
  }
}

const SUBNET = { moon: '10.1.0.0/24', sun: '10.2.0.0/24' } as const;
const HOST = { moon: '10.1.0.10', sun: '10.2.0.20' } as const;
/** Packets per direction in flight beyond the highest delivered sequence number. */
const WINDOW = 128;
/** Packets injected per direction per event-loop turn (the memory TUN hands the driver batches of 64). */
const BURST = 64;
const ESTABLISH_TIMEOUT_MS = 5000;
const REKEY_TIMEOUT_MS = 5000;
const DRAIN_MS = 500;

/**
 * One endpoint's swanctl.conf: a site-to-site tunnel with a PSK, exactly what `cygnet daemon --config` reads.
 * `local_port`/`remote_port` are the picked loopback ports; real deployments leave them at 500.
 */
export function demoSwanctlConf(o: {
  readonly me: 'moon' | 'sun';
  readonly localPort: number;
  readonly remotePort: number;
  readonly secret: string;
}): string {
  const peer = o.me === 'moon' ? 'sun' : 'moon';
  return `connections {
  demo {
    version = 2
    local_addrs = 127.0.0.1
    remote_addrs = 127.0.0.1
    local_port = ${o.localPort}
    remote_port = ${o.remotePort}
    proposals = aes256gcm16-prfsha256-x25519
    local {
      auth = psk
      id = ${o.me}.example
    }
    remote {
      auth = psk
      id = ${peer}.example
    }
    children {
      net {
        local_ts = ${SUBNET[o.me]}
        remote_ts = ${SUBNET[peer]}
        esp_proposals = aes256gcm16
        start_action = ${o.me === 'moon' ? 'start' : 'none'}
      }
    }
  }
}
secrets {
  ike-demo {
    id-moon = moon.example
    id-sun = sun.example
    secret = ${o.secret}
  }
}
`;
}

/** `n` distinct UDP ports free on 127.0.0.1 a moment ago (bound to port 0, read, released). */
async function freePorts(n: number): Promise<number[]> {
  const socks: dgram.Socket[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const s = dgram.createSocket('udp4');
      socks.push(s);
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.bind(0, '127.0.0.1', () => resolve());
      });
    }
    return socks.map((s) => s.address().port);
  } finally {
    for (const s of socks) s.close();
  }
}

export function parseDemoArgs(argv: readonly string[]): DemoOptions {
  const opts = parseArgs(argv, { seconds: {}, size: {}, verbose: { flag: true } });
  const num = (name: string, def: number, min: number, max: number, integer: boolean): number => {
    const v = opts.get(name);
    if (v === undefined) return def;
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n)))
      throw new UsageError(`--${name}: '${v}' is not ${integer ? 'an integer' : 'a number'} in ${min}..${max}`);
    return n;
  };
  return { seconds: num('seconds', 5, 1, 60, false), size: num('size', 1400, 64, 1400, true), verbose: opts.has('verbose') };
}

/** `cygnet demo [options]`: 0 when the tunnel came up, carried traffic both ways and rekeyed; 1 otherwise; 2 usage. */
export async function runDemo(argv: readonly string[], io: DemoIo = processIo()): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.out(DEMO_USAGE + '\n');
    return 0;
  }
  let options: DemoOptions;
  try {
    options = parseDemoArgs(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`cygnet demo: ${e.message}\n${DEMO_USAGE}\n`);
      return 2;
    }
    throw e;
  }
  try {
    await runDemoScenario(options, io);
    return 0;
  } catch (e) {
    const why = e instanceof DemoError || isConfigError(e) ? e.message : e instanceof Error ? (e.stack ?? e.message) : String(e);
    io.err(`\ncygnet demo failed: ${why}\n`);
    return 1;
  }
}

function processIo(): DemoIo {
  return { out: (t) => void process.stdout.write(t), err: (t) => void process.stderr.write(t), isTTY: process.stdout.isTTY === true };
}

/** Per-direction traffic: sequence numbers out, deliveries counted on the far TUN. */
class Flow {
  sent = 0;
  received = 0;
  /** Highest sequence number delivered + 1: the window slides on it, so a lost packet does not stall the flow. */
  highest = 0;
  duplicates = 0;
  private readonly template: Uint8Array;

  constructor(
    readonly label: string,
    readonly tag: number,
    src: string,
    dst: string,
    readonly size: number,
  ) {
    this.template = ipv4Packet(src, dst, { proto: 17, sport: 40000 + tag, dport: 9, size });
  }

  /** Injects up to BURST packets into `host` (the sending side's OS), within the window. */
  pump(host: TunHost): void {
    const room = Math.min(BURST, WINDOW - (this.sent - this.highest));
    if (room <= 0) return;
    const batch: Uint8Array[] = [];
    for (let i = 0; i < room; i++) {
      const p = this.template;
      // Payload after the 8-byte UDP header: direction tag, then the sequence number (inject() copies).
      p[28] = this.tag;
      new DataView(p.buffer, p.byteOffset).setUint32(29, this.sent++);
      batch.push(p.slice());
    }
    host.inject(batch);
  }

  /** Counts packets the far endpoint wrote to its TUN. */
  deliver(packets: readonly Uint8Array[]): void {
    for (const p of packets) {
      if (p.length !== this.size || p[28] !== this.tag) continue;
      const seq = new DataView(p.buffer, p.byteOffset).getUint32(29);
      this.received++;
      if (seq + 1 > this.highest) this.highest = seq + 1;
    }
  }
}

const fmtInt = (n: number): string => Math.round(n).toLocaleString('en-US');
const mbit = (packets: number, size: number, seconds: number): number => (seconds > 0 ? (packets * size * 8) / 1e6 / seconds : 0);
const spis = (c: ChildSaInfo): string => `${hex(c.spiIn)}_i ${hex(c.spiOut)}_o`;
const hex = (spi: number): string => (spi >>> 0).toString(16).padStart(8, '0');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Runs the whole scenario, printing as it goes; throws DemoError (or ConfigError) on failure. */
export async function runDemoScenario(options: DemoOptions, io: DemoIo, hooks: DemoHooks = {}): Promise<DemoSummary> {
  const t0 = performance.now();
  const elapsed = (): string => ((performance.now() - t0) / 1000).toFixed(3).padStart(7);
  let liveLine = false;
  const print = (line: string): void => {
    // A log line while the live rate line is shown: clear it first, the next tick redraws it.
    if (liveLine) {
      io.out('\r\x1b[K');
      liveLine = false;
    }
    io.out(line + '\n');
  };

  const secret = `0s${randomBytes(24).toString('base64')}`;
  const [moonPort, moonNatt, sunPort, sunNatt] = await freePorts(4);
  if (moonPort === undefined || moonNatt === undefined || sunPort === undefined || sunNatt === undefined)
    throw new DemoError('could not pick four free UDP ports on 127.0.0.1');
  const moonConf = demoSwanctlConf({ me: 'moon', localPort: moonPort, remotePort: sunPort, secret });
  const sunConf = demoSwanctlConf({ me: 'sun', localPort: sunPort, remotePort: moonPort, secret });

  const reasons = backendUnavailableReasons();
  const backends = availableBackends().map((b) => b.name);
  print('cygnet demo: two IKEv2/ESP endpoints in this process, UDP on 127.0.0.1, in-memory TUNs (no root needed)');
  print(`  moon  127.0.0.1[${moonPort}]  subnet ${SUBNET.moon}  initiator`);
  print(`  sun   127.0.0.1[${sunPort}]  subnet ${SUBNET.sun}  responder`);
  print(`  crypto backends: ${backends.join(', ')}${reasons['openssl'] ? ` (openssl unavailable: ${reasons['openssl']})` : ''}`);
  print('');
  print("moon's swanctl.conf (sun's mirrors it; `cygnet daemon --config FILE` reads the same):");
  for (const l of moonConf.trimEnd().split('\n')) print(`  | ${l}`);
  print('');

  const moonTun = createMemoryTun({ name: 'moon0', mtu: 1400, headroom: ESP_HEADROOM });
  const sunTun = createMemoryTun({ name: 'sun0', mtu: 1400, headroom: ESP_HEADROOM });
  const logLines: string[] = [];
  const mkLogger = (who: string): Logger =>
    new Logger({
      format: 'json',
      levels: new Map([['any', options.verbose ? 2 : 1]]),
      write: (json) => {
        const e = JSON.parse(json) as { group: string; level: number; message: string };
        const line = `${elapsed()}s ${who.padEnd(4)} ${String(e.level).padStart(2, '0')}[${e.group.toUpperCase()}] ${e.message}`;
        logLines.push(line);
        // By default the strongSwan-worded IKE and CHILD SA lines tell the story; --verbose shows everything.
        if (options.verbose || e.group === 'ike' || e.group === 'chd') print(line);
      },
    });
  const build = (name: 'moon' | 'sun', text: string, port: number, natt: number, tun: ReturnType<typeof createMemoryTun>['tun']): Daemon => {
    const { config } = parseSwanctlConfig(hooks.editConf ? hooks.editConf(name, text) : text, `${name}.conf`);
    return new Daemon({ config: toDaemonConfig(config), logger: mkLogger(name), bind: ['127.0.0.1'], port, nattPort: natt, tun });
  };
  const moon = build('moon', moonConf, moonPort, moonNatt, moonTun.tun);
  const sun = build('sun', sunConf, sunPort, sunNatt, sunTun.tun);

  const m2s = new Flow('moon -> sun', 1, HOST.moon, HOST.sun, options.size);
  const s2m = new Flow('sun -> moon', 2, HOST.sun, HOST.moon, options.size);
  sunTun.host.onWrite((p) => m2s.deliver(p));
  moonTun.host.onWrite((p) => s2m.deliver(p));

  let pumping = false;
  let ticker: NodeJS.Timeout | undefined;
  try {
    // The responder first, so moon's IKE_SA_INIT finds an open port.
    await sun.start();
    await moon.start();

    const child = (d: Daemon): { ikeSuite: string; child: ChildSaInfo } | undefined => {
      for (const { sa, children } of d.endpoint.listSas())
        if (sa.state === 'ESTABLISHED' && children.length > 0) return { ikeSuite: sa.suite, child: children[0]! };
      return undefined;
    };
    const deadline = performance.now() + ESTABLISH_TIMEOUT_MS;
    while (!(child(moon) && child(sun))) {
      // The initiator's IKE SA is gone before it was established (AUTHENTICATION_FAILED, NO_PROPOSAL_CHOSEN...):
      // no point waiting out the timeout (keyingtries = 1, strongSwan's default, so there is no retry).
      if (moon.endpoint.listSas().length === 0)
        throw new DemoError(`the IKE SA failed to come up; last log lines:\n${logLines.slice(-12).join('\n')}`);
      if (performance.now() > deadline)
        throw new DemoError(`the IKE SA and CHILD SA did not come up within ${ESTABLISH_TIMEOUT_MS / 1000} s; last log lines:\n${logLines.slice(-12).join('\n')}`);
      await sleep(10);
    }
    const first = child(moon)!;
    print('');
    print(`tunnel up: IKE ${first.ikeSuite}, ESP ${first.child.suite}, moon's CHILD_SA ${first.child.name}{${first.child.id}} SPIs ${spis(first.child)}`);
    print(`pushing ${options.size}-byte UDP packets ${HOST.moon} <-> ${HOST.sun} both ways for ${options.seconds} s; CHILD SA rekey at ${(options.seconds / 2).toFixed(1)} s`);
    print('');

    // 3. Traffic: each event-loop turn tops both windows up; I/O and timers run between turns.
    pumping = true;
    const pump = (): void => {
      if (!pumping) return;
      m2s.pump(moonTun.host);
      s2m.pump(sunTun.host);
      setImmediate(pump);
    };
    const tStart = performance.now();
    let last = { t: tStart, a: 0, b: 0 };
    const rateLine = (): string => {
      const now = performance.now();
      const dt = (now - last.t) / 1000;
      const a = m2s.received - last.a;
      const b = s2m.received - last.b;
      last = { t: now, a: m2s.received, b: s2m.received };
      const at = ((now - tStart) / 1000).toFixed(1).padStart(4);
      return `  ${at}s  moon -> sun ${fmtInt(a / dt).padStart(7)} pkt/s ${mbit(a, options.size, dt).toFixed(1).padStart(7)} Mbit/s  |  sun -> moon ${fmtInt(b / dt).padStart(7)} pkt/s ${mbit(b, options.size, dt).toFixed(1).padStart(7)} Mbit/s`;
    };
    ticker = setInterval(() => {
      const line = rateLine();
      if (io.isTTY) {
        io.out(`\r\x1b[K${line}`);
        liveLine = true;
      } else io.out(line + '\n');
    }, 1000);
    setImmediate(pump);

    // 4. The rekey, halfway: moon starts CREATE_CHILD_SA now, through the driver's control API (as `cygnet rekey`
    // and vici do), so the request leaves at once.
    await sleep((options.seconds * 1000) / 2);
    const before = child(moon)!.child;
    if (!moon.rekeyChild(before.id)) throw new DemoError(`moon could not start a rekey of CHILD_SA {${before.id}}`);
    const rekeyDeadline = performance.now() + REKEY_TIMEOUT_MS;
    let after: ChildSaInfo | undefined;
    for (;;) {
      const now = child(moon)?.child;
      const still = moon.endpoint.listSas().some(({ children }) => children.some((c) => c.id === before.id));
      if (now && now.id !== before.id && !still) {
        after = now;
        break;
      }
      if (performance.now() > rekeyDeadline) throw new DemoError(`the CHILD SA rekey did not complete within ${REKEY_TIMEOUT_MS / 1000} s`);
      await sleep(10);
    }
    print(`  rekeyed CHILD_SA ${before.name}{${before.id}} -> {${after.id}}: SPIs ${spis(before)} -> ${spis(after)}`);

    // setTimeout may fire a fraction of a millisecond early by performance.now(): loop until the time is up.
    for (let left = tStart + options.seconds * 1000 - performance.now(); left > 0; left = tStart + options.seconds * 1000 - performance.now())
      await sleep(Math.max(1, left));
    pumping = false;
    const trafficSeconds = (performance.now() - tStart) / 1000;
    clearInterval(ticker);
    ticker = undefined;
    // Packets still in flight arrive (or are lost) within a few milliseconds on loopback.
    const drainEnd = performance.now() + DRAIN_MS;
    while ((m2s.received < m2s.sent || s2m.received < s2m.sent) && performance.now() < drainEnd) await sleep(10);
    if (liveLine) {
      io.out('\n');
      liveLine = false;
    }

    const espDrops = (d: Daemon): number => d.counters.espDrops;
    const drops = espDrops(moon) + espDrops(sun);
    print('');
    // 5. moon deletes the IKE SA (INFORMATIONAL Delete); sun answers and removes its side.
    await moon.stop(1000);
    await sun.stop(200);

    const dir = (f: Flow): DirectionSummary => ({
      sent: f.sent,
      received: f.received,
      lost: Math.max(0, f.sent - f.received),
      packetsPerSecond: f.received / trafficSeconds,
      mbitPerSecond: mbit(f.received, options.size, trafficSeconds),
    });
    const summary: DemoSummary = {
      moonToSun: dir(m2s),
      sunToMoon: dir(s2m),
      rekeys: 1,
      trafficSeconds,
      totalSeconds: (performance.now() - t0) / 1000,
      ikeSuite: first.ikeSuite,
      childSuite: first.child.suite,
      spisBefore: spis(before),
      spisAfter: spis(after),
      espDrops: drops,
    };
    printSummary(summary, options.size, print);
    if (m2s.received === 0 || s2m.received === 0)
      throw new DemoError(`no packets arrived ${m2s.received === 0 ? 'moon -> sun' : 'sun -> moon'} through the tunnel`);
    return summary;
  } finally {
    pumping = false;
    if (ticker) clearInterval(ticker);
    // Idempotent: after a failure the sockets still close, so the process can exit.
    await moon.stop(200);
    await sun.stop(200);
  }
}

function printSummary(s: DemoSummary, size: number, print: (l: string) => void): void {
  const row = (label: string, d: DirectionSummary): string =>
    `  ${label}  sent ${fmtInt(d.sent).padStart(9)}  received ${fmtInt(d.received).padStart(9)}  lost ${fmtInt(d.lost).padStart(5)}   ${fmtInt(d.packetsPerSecond).padStart(7)} pkt/s ${d.mbitPerSecond.toFixed(1).padStart(7)} Mbit/s`;
  print(`summary (${size}-byte packets over ${s.trafficSeconds.toFixed(1)} s of traffic; ${s.totalSeconds.toFixed(1)} s in all):`);
  print(row('moon -> sun', s.moonToSun));
  print(row('sun -> moon', s.sunToMoon));
  print(`  suite       IKE ${s.ikeSuite}, ESP ${s.childSuite} in UDP (RFC 3948)`);
  print(`  rekeys      ${s.rekeys} CHILD SA (SPIs ${s.spisBefore} -> ${s.spisAfter})`);
  print(`  ESP drops   ${s.espDrops}`);
}
