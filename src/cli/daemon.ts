/**
 * `cygnet daemon --config FILE`: loads the swanctl.conf-syntax file (warnings printed with file:line; any error
 * prints the ConfigError and exits 2 before a socket is opened), then runs the driver until SIGTERM/SIGINT,
 * which terminate every IKE SA (Deletes sent, answers awaited up to 2 s) and exit 0. SIGUSR1 logs the status;
 * SIGHUP reloads the file (SAs of unchanged connections are left alone).
 */
import { diffConfigs, isConfigError } from '../config/index.js';
import { encapWarnings, loadDaemonConfig } from '../daemon/connections.js';
import { Daemon } from '../daemon/driver.js';
import { loadGlobalSettings, type GlobalSettings } from '../daemon/settings.js';
import { TunRoutes } from '../daemon/routes.js';
import { credentialProblemAt, defaultConfigPath } from './check.js';
import { materializeIpsecConf, type MaterializedIpsecConf } from './import.js';
import { DaemonMetrics, parseMetricsListen, serveMetrics } from '../daemon/metrics.js';
import { daemonMetricsSource } from '../daemon/metrics-source.js';
import type { Server as HttpServer } from 'node:http';
import { DEFAULT_VICI_SOCKET, type ViciServer } from '../vici/index.js';
import { startVici, ViciConfigSource } from '../daemon/vici.js';
import { CLI_VERSION } from './version.js';
import { HA_SPEC, HA_USAGE, haSettingsFrom, startHa } from './ha.js';
import type { HaSettings } from '../daemon/ha-driver.js';
import { LogFile, Logger, LogSpecError, parseDebugSpec, type LogEntry, type LogFormat } from '../daemon/logger.js';
import { KeyLog, KeyLogError } from '../daemon/key-log.js';
import { NotifySocketError, startActionsSettled, statusText, SystemdNotifier } from '../daemon/notify.js';
import { parseFacility, syslogSink } from '../daemon/syslog.js';
import { journalSink } from '../daemon/journal.js';
import { ESP_HEADROOM } from '../esp/engine.js';
import type { TunDevice } from '../tun/types.js';
import { availableParallelism } from 'node:os';
import { wantsTcp } from '../daemon/tcp-glue.js';
import { applyDaemonGcSettings } from '../daemon/gc.js';
import { parseArgs, portOption, UsageError } from './args.js';

/** --workers N|auto: 1..255, auto = the cores available (os.availableParallelism). */
export function workersOption(v: string | undefined): number {
  if (v === undefined) return 1;
  if (v === 'auto') return Math.min(255, availableParallelism());
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < 1 || n > 255) throw new UsageError(`--workers: '${v}' is not a thread count (1-255) or auto`);
  return n;
}

/** The TUN a root daemon opens when neither --tun nor --no-tun is given: the kernel picks cyg0, cyg1, ... */
export const DEFAULT_TUN_NAME = 'cyg%d';

const SPEC = {
  config: {},
  settings: {},
  debug: {},
  'log-format': {},
  tun: {},
  port: {},
  'natt-port': {},
  'tcp-port': {},
  bind: {},
  'status-file': {},
  'no-routes': { flag: true },
  'no-offload': { flag: true },
  'no-tun': { flag: true },
  socket: {},
  'no-vici': { flag: true },
  mtu: {},
  mss: {},
  'retransmit-timeout': {},
  'retransmit-base': {},
  'retransmit-tries': {},
  'key-log': {},
  'log-target': {},
  'log-file': {},
  'log-facility': {},
  'log-socket': {},
  swanctl: { flag: true },
  'ipsec-conf': {},
  'ipsec-secrets': {},
  metrics: {},
  workers: {},
  ...HA_SPEC,
} as const;

/** Resolves with the exit code once the daemon has stopped (or at once for usage/config errors). */
export const DAEMON_USAGE = `usage: cygnet daemon [--config FILE | --swanctl | --ipsec-conf FILE] [options]
  --config FILE            swanctl.conf-syntax configuration (connections, secrets; default /etc/cygnet/swanctl.conf)
  --swanctl                strongSwan's /etc/swanctl/swanctl.conf instead (taking over from charon)
  --ipsec-conf FILE        a legacy ipsec.conf, converted as \`cygnet import\` does (re-read on SIGHUP); certificates
                           from ipsec.d/ beside it; --ipsec-secrets FILE (default: ipsec.secrets beside it)
  --settings FILE          strongswan.conf-syntax daemon-wide knobs: charon.retransmit_*, make_before_break,
                           fragment_size, keep_alive, half_open_timeout, and the DoS limits cookie_threshold,
                           cookie_threshold_ip, block_threshold, init_limit_half_open, ikesa_limit, dos_protection,
                           max_packet (0 = off, as in strongSwan)
                           (other keys are logged at cfg level 2 and ignored; --retransmit-* override the file)
  --debug SPEC             log levels per group, charondebug style: "ike 2, net 1, esp 1, cfg 2" (default 1)
  --log-format text|json   readable lines (default) or JSON lines (stderr and file targets)
  --log-target T           stderr (default), file (with --log-file), syslog (/dev/log, ident cygnet) or journal
                           (journald's native protocol: PRIORITY, SYSLOG_IDENTIFIER, CYGNET_GROUP fields)
  --log-file PATH          with --log-target file (implies it): append there; reopened on SIGHUP and SIGUSR1
  --log-facility NAME      syslog facility (default daemon; local0..local7, auth, authpriv, user, ...)
  --log-socket PATH        the syslog or journal socket (default /dev/log, /run/systemd/journal/socket)
  --tun NAME               carry tunnelled packets on a Linux TUN device (root or CAP_NET_ADMIN); as root the
                           default is a TUN named by the kernel from cyg%d (cyg0, cyg1, ...)
  --no-tun                 no TUN device (IKE only, or a library/test setup that carries packets itself)
  --port N                 IKE port (default 500); connections with local_port 500 use it
  --natt-port N            NAT-T port (default 4500)
  --tcp-port N             RFC 9329 TCP encapsulation port: listened on, and connected to for encap = tcp or
                           tcp-fallback (default the NAT-T port; listening only when a connection uses TCP or
                           this flag is given)
  --bind ADDR[,ADDR...]    local addresses to bind (default: local_addrs, else every interface address)
  --status-file PATH       JSON snapshot of the SAs, rewritten on every change
  --no-routes              with --tun: do not route the remote traffic selectors into the TUN
  --no-offload             with --tun: no TCP segmentation offload on the TUN (default: 64 KB TCP super-packets
                           are read and written, split and coalesced by cygnet, where the kernel allows)
  --mtu N                  with --tun: a fixed TUN MTU (default 1400, lowered to fit 1500 after the negotiated
                           ESP + UDP overhead, e.g. 1390 for AES-CBC/HMAC-SHA2-512 over IPv6)
  --workers N|auto         data-plane worker threads (default 1: ESP on the main thread; auto = one per core):
                           each has a queue of a multi-queue TUN and an SO_REUSEPORT socket on the NAT-T port
                           that gets the ESP of its inbound SPIs; IKE stays on the main thread. Falls back to 1
                           (logged) where multi-queue TUN or SO_REUSEPORT steering is refused
  --mss N|off              clamp TCP MSS on SYNs through the tunnel for inner MTU N (default: the TUN's MTU)
  --retransmit-timeout S   IKE retransmission as strongswan.conf's charon.retransmit_timeout (default 4 s),
  --retransmit-base X      ... retransmit_base (default 1.8) and
  --retransmit-tries N     ... retransmit_tries (default 5): a dead peer is declared after their sum (165 s)
  --key-log FILE           append IKE and ESP keys as JSON lines to decrypt captures: secrets! Created 0600;
                           an existing file must be ours, mode 0600, not a symlink
  --socket PATH            vici control socket (default /var/run/cygnet.vici; swanctl --uri unix://PATH)
  --no-vici                no control socket
  --metrics ADDR:PORT      serve Prometheus metrics on http://ADDR:PORT/metrics (off by default; e.g.
                           127.0.0.1:9786: the endpoint has no authentication, keep it on loopback)
${HA_USAGE}
signals: SIGTERM/SIGINT delete all SAs (with --ha-store: hand the SAs over to the other node instead) and exit 0; SIGUSR1 logs the status; SIGHUP reloads FILE (and the
  settings file: fragment_size applies at once, its other keys after a restart)`;

export async function runDaemonCommand(argv: readonly string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(DAEMON_USAGE);
    return 0;
  }
  // Before any state is allocated: V8 gives heap back after bursts of setups (src/daemon/gc.ts, issue 17).
  applyDaemonGcSettings();
  let logger: Logger;
  let logTarget: LogTarget;
  let keyLog: KeyLog | undefined;
  let notifier: SystemdNotifier | undefined;
  let configPath: string;
  let opts: Map<string, string>;
  try {
    opts = parseArgs(argv, SPEC);
    if (opts.has('ipsec-conf') && (opts.has('config') || opts.has('swanctl'))) throw new UsageError('--ipsec-conf replaces --config and --swanctl: give one');
    if (opts.has('config') && opts.has('swanctl')) throw new UsageError('--config FILE or --swanctl: give one');
    configPath = opts.get('config') ?? defaultConfigPath(opts.has('swanctl'));
    const format = opts.get('log-format') ?? 'text';
    if (format !== 'text' && format !== 'json') throw new UsageError(`--log-format: '${format}' is not text or json`);
    const levels = parseDebugSpec(opts.get('debug') ?? '');
    logTarget = openLogTarget(opts);
    logger = new Logger({ levels, format: format as LogFormat, ...logTarget.options });
    // The key log is opened before the daemon uses its privileges for anything else (sockets, TUN, key files).
    const keyLogPath = opts.get('key-log');
    if (keyLogPath !== undefined) keyLog = KeyLog.open(keyLogPath);
    // Taken from the environment now, so children (ip, updown) never inherit NOTIFY_SOCKET.
    notifier = SystemdNotifier.fromEnv();
  } catch (e) {
    if (e instanceof UsageError || e instanceof LogSpecError || e instanceof KeyLogError || e instanceof NotifySocketError) {
      console.error(`cygnet daemon: ${e.message}`);
      return 2;
    }
    throw e;
  }

  let loaded: ReturnType<typeof loadDaemonConfig>;
  let imported: MaterializedIpsecConf | undefined;
  try {
    const ipsecConf = opts.get('ipsec-conf');
    if (ipsecConf !== undefined) {
      configPath = ipsecConf;
      imported = materializeIpsecConf(ipsecConf, opts.get('ipsec-secrets'));
      for (const n of imported.result().notes) logger.log('cfg', 0, `warning: ${n.loc.file}:${n.loc.line}: ${n.what}: not carried: ${n.why}`);
    }
    loaded = loadDaemonConfig(imported?.path ?? configPath);
  } catch (e) {
    if (isConfigError(e)) {
      console.error(`cygnet daemon: configuration error in ${configPath}:\n${e.message}`);
      return 2;
    }
    throw e;
  }
  const settingsPath = opts.get('settings');
  let settings: GlobalSettings | undefined;
  if (settingsPath !== undefined) {
    try {
      settings = loadSettingsFile(settingsPath, logger);
    } catch (e) {
      if (isConfigError(e)) {
        console.error(`cygnet daemon: settings error in ${settingsPath}:\n${e.message}`);
        return 2;
      }
      throw e;
    }
  }
  for (const w of loaded.warnings) logger.log('cfg', 0, `warning: ${w.message}`);
  for (const w of encapWarnings(loaded.config)) logger.log('cfg', 0, `warning: ${w}`);
  logger.log('cfg', 1, `loaded ${loaded.daemon.connections.length} connection(s) and ${loaded.config.secrets.ike.length} IKE secret(s)${loaded.config.secrets.ppk.length > 0 ? ` and ${loaded.config.secrets.ppk.length} PPK(s) (RFC 8784)` : ''} from ${configPath}`);
  for (const p of loaded.daemon.credentialProblems) logger.log('cfg', 0, `credential not loaded: ${credentialProblemAt(loaded.config, p)}`);

  let port: number | undefined;
  let nattPort: number | undefined;
  let tcpPort: number | undefined;
  try {
    port = portOption(opts, 'port');
    nattPort = portOption(opts, 'natt-port');
    tcpPort = portOption(opts, 'tcp-port');
  } catch (e) {
    console.error(`cygnet daemon: ${(e as Error).message}`);
    return 2;
  }

  const retransmit: { timeoutMs?: number; base?: number; tries?: number } = {};
  let mtu: number | undefined;
  let mss: number | false | undefined;
  try {
    const m = opts.get('mtu');
    if (m !== undefined) {
      mtu = Number(m);
      if (!/^\d+$/.test(m) || mtu < 576 || mtu > 65535) throw new UsageError(`--mtu: '${m}' is not an MTU (576-65535)`);
    }
    const c = opts.get('mss');
    if (c === 'off') mss = false;
    else if (c !== undefined) {
      mss = Number(c);
      if (!/^\d+$/.test(c) || mss < 576 || mss > 65535) throw new UsageError(`--mss: '${c}' is not an inner MTU (576-65535) or off`);
    }
    const rt = opts.get('retransmit-timeout');
    if (rt !== undefined) {
      const v = Number(rt);
      if (!(v > 0 && v <= 3600)) throw new UsageError(`--retransmit-timeout: '${rt}' is not a number of seconds (0-3600)`);
      retransmit.timeoutMs = Math.round(v * 1000);
    }
    const rb = opts.get('retransmit-base');
    if (rb !== undefined) {
      const v = Number(rb);
      if (!(v >= 1 && v <= 10)) throw new UsageError(`--retransmit-base: '${rb}' is not a number in 1..10`);
      retransmit.base = v;
    }
    const rn = opts.get('retransmit-tries');
    if (rn !== undefined) {
      const v = Number(rn);
      if (!/^\d+$/.test(rn) || v > 100) throw new UsageError(`--retransmit-tries: '${rn}' is not a count (0-100)`);
      retransmit.tries = v;
    }
  } catch (e) {
    console.error(`cygnet daemon: ${(e as Error).message}`);
    return 2;
  }

  let workers: number;
  try {
    workers = workersOption(opts.get('workers'));
  } catch (e) {
    console.error(`cygnet daemon: ${(e as Error).message}`);
    return 2;
  }

  // RFC 9329 TCP streams live on the main thread (tcp-encap-net.ts): the workers' ESP goes out on UDP only.
  if (workers > 1 && wantsTcp(tcpPort, loaded.daemon)) {
    logger.log('dmn', 0, `--workers ${workers}: TCP encapsulation (RFC 9329) is configured and runs on the main thread only; running 1 data-plane thread`);
    workers = 1;
  }

  let tun: TunDevice | undefined;
  let linuxTun: import('../tun/linux.js').LinuxTun | undefined;
  if (opts.has('tun') && opts.has('no-tun')) {
    console.error('cygnet daemon: --tun NAME and --no-tun contradict each other: give one');
    return 2;
  }
  // As root a daemon without a TUN would negotiate SAs that carry nothing: the TUN is on by default there (issue 13),
  // named by the kernel from cyg%d; without root it stays off (it could not be opened).
  const implicitTun = !opts.has('tun') && !opts.has('no-tun') && process.getuid?.() === 0;
  const tunName = opts.get('tun') ?? (implicitTun ? DEFAULT_TUN_NAME : undefined);
  if (tunName !== undefined) {
    try {
      const { LinuxTun } = await import('../tun/linux.js');
      // Headroom lets the ESP engine write UDP + ESP headers in front of each packet without copying it.
      // TCP offloads (src/net/gso.ts): the kernel's TCP works in 64 KB super-packets, one read/write per super-packet.
      const tunOpts = { name: tunName, headroom: ESP_HEADROOM, offload: !opts.has('no-offload'), ...(mtu !== undefined ? { mtu } : {}) };
      let linux: import('../tun/linux.js').LinuxTun;
      if (workers > 1) {
        // One queue per worker thread (IFF_MULTI_QUEUE); a kernel that refuses it runs one data-plane thread.
        try {
          linux = await LinuxTun.open({ ...tunOpts, multiQueue: true });
        } catch (e) {
          logger.log('knl', 0, `--workers ${workers}: multi-queue TUN refused (${(e as Error).message}); running 1 data-plane thread`);
          workers = 1;
          linux = await LinuxTun.open(tunOpts);
        }
      } else linux = await LinuxTun.open(tunOpts);
      linuxTun = linux;
      if (linux.offloadError) logger.log('knl', 1, `TUN ${linux.name}: TCP offloads refused by the kernel (${linux.offloadError}), using plain packets`);
      else logger.log('knl', 2, `TUN ${linux.name}: TCP offloads ${linux.offload ? 'on (TSO4/TSO6, checksum)' : 'off (--no-offload)'}`);
      tun = linux;
    } catch (e) {
      logger.log('knl', 0, `cannot open TUN device '${tunName}' (root or CAP_NET_ADMIN needed): ${(e as Error).message}${implicitTun ? ' (the TUN is on by default as root; --no-tun runs without one)' : ''}`);
      return 1;
    }
  }

  const bind = opts.get('bind')?.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const statusFile = opts.get('status-file');
  if (keyLog) logger.log('cfg', 0, `writing IKE and ESP keys to ${keyLog.path} (for decrypting captures; keep it secret)`);
  const routes = tun && !opts.has('no-routes') ? new TunRoutes(tun.name, logger) : undefined;
  let haSettings: HaSettings | undefined;
  try {
    haSettings = haSettingsFrom(opts);
  } catch (e) {
    console.error(`cygnet daemon: ${(e as Error).message}`);
    return 2;
  }
  let pool: import('../daemon/workers/pool.js').WorkerPool | undefined;
  if (workers > 1) {
    const { WorkerPool } = await import('../daemon/workers/pool.js');
    try {
      pool = await WorkerPool.start({
        count: workers,
        log: logger,
        nattPort: nattPort ?? 4500,
        tun: linuxTun && { name: linuxTun.name, get mtu() { return linuxTun?.mtu ?? 1400; }, offload: linuxTun.offload, headroom: linuxTun.headroom },
        mssMtu: mss === false ? undefined : (mss ?? (linuxTun ? 'tun' : undefined)),
      });
      // The workers' queues carry the packets now; the main thread's fd keeps the device (TUNSETQUEUE detach).
      linuxTun?.setQueueEnabled(false);
    } catch (e) {
      logger.log('dmn', 0, `--workers ${workers}: ${(e as Error).message}; running 1 data-plane thread`);
      pool = undefined;
    }
  }
  const daemon = new Daemon({
    ...(pool ? { workers: pool } : {}),
    // HA: start_action = start belongs to the active node only (the HA driver runs it when it becomes active).
    config: haSettings ? { ...loaded.daemon, startChildren: [] } : loaded.daemon,
    logger,
    ...(bind ? { bind } : {}),
    ...(port !== undefined ? { port } : {}),
    ...(nattPort !== undefined ? { nattPort } : {}),
    ...(tcpPort !== undefined ? { tcpPort } : {}),
    ...(tun ? { tun } : {}),
    ...(routes ? { routes } : {}),
    ...(mss !== undefined ? { mssClampMtu: mss } : {}),
    ...(mtu !== undefined ? { fixedMtu: true } : {}),
    ...(Object.keys(retransmit).length > 0 ? { retransmit } : {}),
    ...(keyLog ? { keyLog: keyLog.write } : {}),
    ...(settings ? { settings } : {}),
    ...(statusFile !== undefined ? { statusFile } : {}),
    // rtnetlink address/link changes (issue 15): new addresses bound at once, vanished ones reported to the core.
    watchAddresses: process.platform === 'linux',
    ...(haSettings ? { exportKeys: true } : {}),
  });
  // systemd: READY=1 once the sockets are bound and the start_action = start CHILD SAs are up (or failed once).
  const ready = notifier
    ? startActionsSettled(loaded.daemon.startChildren, (l) => daemon.onEvent(l), (id) => daemon.endpoint.listSas().find((s) => s.sa.id === id)?.sa.name, START_ACTION_WAIT_MS)
    : undefined;
  // Metrics subscribe to the daemon's events before it starts: a start_action = start SA can come up before the
  // HTTP listener is bound, and its setup must still be counted (the listener itself is bound further down).
  const metricsSpec = opts.get('metrics');
  let metrics: { listen: { host: string; port: number }; metrics: DaemonMetrics } | undefined;
  if (metricsSpec !== undefined) {
    try {
      metrics = { listen: parseMetricsListen(metricsSpec), metrics: new DaemonMetrics(daemonMetricsSource(daemon), { version: CLI_VERSION }) };
    } catch (e) {
      logger.log('cfg', 0, `cannot serve metrics on ${metricsSpec}: ${(e as Error).message}`);
      return 1;
    }
  }
  try {
    await daemon.start();
  } catch (e) {
    logger.log('dmn', 0, `cannot start: ${(e as Error).message}`);
    await daemon.stop(0);
    return 1;
  }

  // High availability (docs/HA.md): replication and takeover beside the daemon.
  const ha = haSettings ? startHa(daemon, { ...haSettings, startChildren: loaded.daemon.startChildren }, logger, metrics?.metrics.registry) : undefined;
  // Reloading the file (SIGHUP and vici's reload): a broken file is reported and the running configuration stays.
  let current = loaded.config;
  const status = (): string => {
    const sas = daemon.endpoint.listSas();
    const up = sas.filter((s) => s.sa.state === 'ESTABLISHED' || s.sa.state === 'REKEYING');
    return statusText({ ikeSas: up.length, childSas: up.reduce((n, s) => n + s.children.length, 0), halfOpen: daemon.endpoint.halfOpenCount() });
  };
  // A reload as systemd sees it (ExecReload sends SIGHUP): RELOADING=1, then READY=1 when the new file applies.
  const reloadNotified = (): { success: boolean; errmsg?: string } => {
    notifier?.notify({ RELOADING: 1, MONOTONIC_USEC: String(process.hrtime.bigint() / 1000n) });
    const r = reload();
    notifier?.notify({ READY: 1, STATUS: status() });
    return r;
  };
  // What swanctl --load-all loaded over vici is part of every rebuild (src/daemon/vici.ts).
  const viciConfig = new ViciConfigSource();
  const reload = (): { success: boolean; errmsg?: string } => {
    try {
      imported?.refresh();
      const next = loadDaemonConfig(imported?.path ?? configPath, viciConfig.extra());
      const nextSettings = settingsPath !== undefined ? loadSettingsFile(settingsPath, logger) : undefined;
      for (const w of next.warnings) logger.log('cfg', 0, `warning: ${w.message}`);
      for (const w of encapWarnings(next.config)) logger.log('cfg', 0, `warning: ${w}`);
      daemon.reload(next.daemon, diffConfigs(current, next.config), nextSettings);
      current = next.config;
      return { success: true };
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      logger.log('cfg', 0, `reload of ${configPath} failed, keeping the running configuration: ${msg}`);
      return { success: false, errmsg: msg };
    }
  };

  // The vici control socket (strongSwan's protocol): swanctl --uri unix://PATH and `cygnet status|up|down|...`.
  let vici: ViciServer | undefined;
  if (!opts.has('no-vici')) {
    const path = opts.get('socket') ?? DEFAULT_VICI_SOCKET;
    try {
      vici = await startVici(daemon, { path, reload: reloadNotified, logger, source: viciConfig, version: CLI_VERSION });
      logger.log('cfg', 1, `vici control socket at ${path}`);
    } catch (e) {
      // An explicit --socket that cannot be served is an error; the default path (root's /var/run) is not.
      logger.log('cfg', 0, `cannot serve vici on ${path}: ${(e as Error).message}`);
      if (opts.has('socket')) {
        await daemon.stop(2000);
        return 1;
      }
    }
  }
  // Prometheus metrics (--metrics ADDR:PORT): an explicit request that cannot be served is an error.
  let metricsServer: HttpServer | undefined;
  if (metrics !== undefined) {
    try {
      const { listen } = metrics;
      metricsServer = await serveMetrics(metrics.metrics, listen);
      logger.log('cfg', 1, `metrics at http://${listen.host.includes(':') ? `[${listen.host}]` : listen.host}:${listen.port}/metrics`);
    } catch (e) {
      logger.log('cfg', 0, `cannot serve metrics on ${metricsSpec}: ${(e as Error).message}`);
      await daemon.stop(2000);
      await vici?.close();
      return 1;
    }
  }
  // Signal handlers before "daemon running": a SIGTERM right after it (or while systemd's READY waits) stops
  // the daemon cleanly instead of killing it.
  let watchdog: NodeJS.Timeout | undefined;
  let resolve: (code: number) => void = () => undefined;
  const exited = new Promise<number>((r) => (resolve = r));
  let stopping = false;
  const onStop = (sig: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    logger.log('dmn', 1, `received ${sig}, shutting down`);
    notifier?.notify({ STOPPING: 1, STATUS: 'deleting SAs' });
    clearInterval(watchdog);
    (ha ? ha.handover().then(() => daemon.stop(0, { keepSas: true })) : daemon.stop(2000))
      .then(() => vici?.close())
      .then(() => new Promise<void>((r) => (metricsServer ? metricsServer.close(() => r()) : r())))
      .then(
        () => resolve(0),
        (e: unknown) => {
          logger.log('dmn', 0, `shutdown failed: ${(e as Error).message}`);
          resolve(1);
        },
      );
  };
  process.on('SIGTERM', onStop);
  process.on('SIGINT', onStop);
  // Both reopen a --log-file (logrotate's postrotate sends either). Installed before "daemon running" as well: a
  // SIGHUP sent as soon as that line shows (or during systemd's READY wait) must reload, not kill (the default action).
  const reopen = (): void => {
    const err = logTarget.file?.reopen();
    if (err) logger.log('dmn', 0, err);
  };
  process.on('SIGUSR1', () => {
    reopen();
    daemon.dumpStatus();
  });
  process.on('SIGHUP', () => {
    reopen();
    void reloadNotified();
  });
  logger.log('dmn', 1, `cygnet daemon running (pid ${process.pid})`);
  if (notifier) {
    const n = notifier;
    const settled = await ready!;
    n.notify({ READY: 1, STATUS: status(), MAINPID: process.pid });
    logger.log('dmn', 1, `told systemd READY=1 (${settled.up} of ${settled.total} start-action CHILD_SAs up)`);
    daemon.onEvent((e) => {
      if (e.type === 'ike-up' || e.type === 'ike-down' || e.type === 'child-install' || e.type === 'child-remove') n.notify({ STATUS: status() });
    });
    // WATCHDOG=1 from a timer on the event loop: a loop that stops turning stops the keep-alives.
    if (n.watchdogIntervalMs !== undefined && !stopping) watchdog = setInterval(() => n.notify({ WATCHDOG: 1 }), n.watchdogIntervalMs);
  }
  return exited;
}

/** How long READY=1 waits for start_action = start CHILD SAs before telling systemd anyway. */
const START_ACTION_WAIT_MS = 10_000;

interface LogTarget {
  readonly options: { write?: (line: string) => void; sink?: (entry: LogEntry) => void };
  readonly file?: LogFile;
}

/** --log-target stderr|file|syslog|journal (+ --log-file, --log-facility): where the Logger's lines go. */
function openLogTarget(opts: Map<string, string>): LogTarget {
  const file = opts.get('log-file');
  const target = opts.get('log-target') ?? (file !== undefined ? 'file' : 'stderr');
  const facilityName = opts.get('log-facility') ?? 'daemon';
  const facility = parseFacility(facilityName);
  if (facility === undefined) throw new UsageError(`--log-facility: '${facilityName}' is not a syslog facility (daemon, user, auth, authpriv, local0..local7, ...)`);
  if (opts.has('log-facility') && target !== 'syslog' && target !== 'journal') throw new UsageError('--log-facility applies to --log-target syslog or journal');
  if (file !== undefined && target !== 'file') throw new UsageError(`--log-file applies to --log-target file, not ${target}`);
  const socket = opts.get('log-socket');
  if (socket !== undefined && target !== 'syslog' && target !== 'journal') throw new UsageError('--log-socket applies to --log-target syslog or journal');
  // A target that stops working says so once on stderr, where systemd's journal still catches it.
  const onError = (m: string): void => void process.stderr.write(`cygnet daemon: ${m}\n`);
  switch (target) {
    case 'stderr':
      return { options: {} };
    case 'file': {
      if (file === undefined) throw new UsageError('--log-target file needs --log-file PATH');
      let f: LogFile;
      try {
        f = new LogFile(file);
      } catch (e) {
        throw new UsageError(`--log-file ${file}: cannot open: ${(e as Error).message}`);
      }
      return { options: { write: f.write }, file: f };
    }
    case 'syslog':
    case 'journal':
      try {
        return { options: { sink: (target === 'syslog' ? syslogSink : journalSink)({ facility, onError, ...(socket !== undefined ? { path: socket } : {}) }).sink } };
      } catch (e) {
        throw new UsageError(`--log-target ${target}: ${(e as Error).message}`);
      }
    default:
      throw new UsageError(`--log-target: '${target}' is not stderr, file, syslog or journal`);
  }
}

/** Loads --settings FILE (throws ConfigError with file:line) and logs what it set and what it ignores. */
function loadSettingsFile(path: string, logger: Logger): GlobalSettings {
  const s = loadGlobalSettings(path);
  for (const { key, loc } of s.ignored) logger.log('cfg', 2, `${loc.file}:${loc.line}: ${key} is not used by cygnet, ignored`);
  const set = Object.entries({ ...s.endpoint, ...(s.fragmentSize !== undefined ? { fragmentSize: s.fragmentSize } : {}) }).map(([k, v]) => `${k} ${JSON.stringify(v)}`);
  logger.log('cfg', 1, `loaded settings from ${path}${set.length > 0 ? `: ${set.join(', ')}` : ''}`);
  return s;
}
