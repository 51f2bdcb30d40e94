/**
 * `cygnet daemon --config FILE`: loads the swanctl.conf-syntax file (warnings printed with file:line; any error
 * prints the ConfigError and exits 2 before a socket is opened), then runs the driver until SIGTERM/SIGINT,
 * which terminate every IKE SA (Deletes sent, answers awaited up to 2 s) and exit 0. SIGUSR1 logs the status;
 * SIGHUP reloads the file (SAs of unchanged connections are left alone).
 */
import { openSync, writeSync } from 'node:fs';
import { diffConfigs, isConfigError } from '../config/index.js';
import { encapWarnings, loadDaemonConfig } from '../daemon/connections.js';
import { Daemon } from '../daemon/driver.js';
import { loadGlobalSettings, type GlobalSettings } from '../daemon/settings.js';
import { TunRoutes } from '../daemon/routes.js';
import { DEFAULT_VICI_SOCKET, IkeViciBackend, registerViciCommands, ViciServer } from '../vici/index.js';
import { CLI_VERSION } from './version.js';
import { Logger, LogSpecError, parseDebugSpec, type LogFormat } from '../daemon/logger.js';
import { ESP_HEADROOM } from '../esp/engine.js';
import type { TunDevice } from '../tun/types.js';
import { parseArgs, portOption, UsageError } from './args.js';

const SPEC = {
  config: {},
  settings: {},
  debug: {},
  'log-format': {},
  tun: {},
  port: {},
  'natt-port': {},
  bind: {},
  'status-file': {},
  'no-routes': { flag: true },
  socket: {},
  'no-vici': { flag: true },
  mtu: {},
  mss: {},
  'retransmit-timeout': {},
  'retransmit-base': {},
  'retransmit-tries': {},
  'key-log': {},
} as const;

/** Resolves with the exit code once the daemon has stopped (or at once for usage/config errors). */
export const DAEMON_USAGE = `usage: cygnet daemon --config FILE [options]
  --config FILE            swanctl.conf-syntax configuration (connections, secrets)
  --settings FILE          strongswan.conf-syntax daemon-wide knobs: charon.retransmit_*, make_before_break,
                           fragment_size, cookie_threshold, block_threshold, keep_alive, half_open_timeout
                           (other keys are logged at cfg level 2 and ignored; --retransmit-* override the file)
  --debug SPEC             log levels per group, charondebug style: "ike 2, net 1, esp 1, cfg 2" (default 1)
  --log-format text|json   readable lines (default) or JSON lines
  --tun NAME               carry tunnelled packets on a Linux TUN device (root or CAP_NET_ADMIN)
  --port N                 IKE port (default 500); connections with local_port 500 use it
  --natt-port N            NAT-T port (default 4500)
  --bind ADDR[,ADDR...]    local addresses to bind (default: local_addrs, else every interface address)
  --status-file PATH       JSON snapshot of the SAs, rewritten on every change
  --no-routes              with --tun: do not route the remote traffic selectors into the TUN
  --mtu N                  with --tun: a fixed TUN MTU (default 1400, lowered to fit 1500 after the negotiated
                           ESP + UDP overhead, e.g. 1390 for AES-CBC/HMAC-SHA2-512 over IPv6)
  --mss N|off              clamp TCP MSS on SYNs through the tunnel for inner MTU N (default: the TUN's MTU)
  --retransmit-timeout S   IKE retransmission as strongswan.conf's charon.retransmit_timeout (default 4 s),
  --retransmit-base X      ... retransmit_base (default 1.8) and
  --retransmit-tries N     ... retransmit_tries (default 5): a dead peer is declared after their sum (165 s)
  --key-log FILE           append IKE and ESP keys as JSON lines (mode 0600) to decrypt captures: secrets!
  --socket PATH            vici control socket (default /var/run/cygnet.vici; swanctl --uri unix://PATH)
  --no-vici                no control socket
signals: SIGTERM/SIGINT delete all SAs and exit 0; SIGUSR1 logs the status; SIGHUP reloads FILE (and the
  settings file: fragment_size applies at once, its other keys after a restart)`;

export async function runDaemonCommand(argv: readonly string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(DAEMON_USAGE);
    return 0;
  }
  let logger: Logger;
  let configPath: string;
  let opts: Map<string, string>;
  try {
    opts = parseArgs(argv, SPEC);
    const c = opts.get('config');
    if (c === undefined) throw new UsageError('--config FILE is required');
    configPath = c;
    const format = opts.get('log-format') ?? 'text';
    if (format !== 'text' && format !== 'json') throw new UsageError(`--log-format: '${format}' is not text or json`);
    logger = new Logger({ levels: parseDebugSpec(opts.get('debug') ?? ''), format: format as LogFormat });
  } catch (e) {
    if (e instanceof UsageError || e instanceof LogSpecError) {
      console.error(`cygnet daemon: ${e.message}`);
      return 2;
    }
    throw e;
  }

  let loaded: ReturnType<typeof loadDaemonConfig>;
  try {
    loaded = loadDaemonConfig(configPath);
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
  logger.log('cfg', 1, `loaded ${loaded.daemon.connections.length} connection(s) and ${loaded.config.secrets.ike.length} IKE secret(s) from ${configPath}`);
  for (const p of loaded.daemon.credentialProblems) logger.log('cfg', 0, `credential not loaded: ${p}`);

  let port: number | undefined;
  let nattPort: number | undefined;
  try {
    port = portOption(opts, 'port');
    nattPort = portOption(opts, 'natt-port');
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

  let tun: TunDevice | undefined;
  const tunName = opts.get('tun');
  if (tunName !== undefined) {
    try {
      const { LinuxTun } = await import('../tun/linux.js');
      // Headroom lets the ESP engine write UDP + ESP headers in front of each packet without copying it.
      tun = await LinuxTun.open({ name: tunName, headroom: ESP_HEADROOM, ...(mtu !== undefined ? { mtu } : {}) });
    } catch (e) {
      logger.log('knl', 0, `cannot open TUN device '${tunName}' (root or CAP_NET_ADMIN needed): ${(e as Error).message}`);
      return 1;
    }
  }

  const bind = opts.get('bind')?.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const statusFile = opts.get('status-file');
  const keyLogPath = opts.get('key-log');
  let keyLog: ((line: string) => void) | undefined;
  if (keyLogPath !== undefined) {
    try {
      const fd = openSync(keyLogPath, 'a', 0o600);
      keyLog = (line) => writeSync(fd, line + '\n');
      logger.log('cfg', 0, `writing IKE and ESP keys to ${keyLogPath} (for decrypting captures; keep it secret)`);
    } catch (e) {
      logger.log('cfg', 0, `cannot open key log ${keyLogPath}: ${(e as Error).message}`);
      return 1;
    }
  }
  const routes = tun && !opts.has('no-routes') ? new TunRoutes(tun.name, logger) : undefined;
  const daemon = new Daemon({
    config: loaded.daemon,
    logger,
    ...(bind ? { bind } : {}),
    ...(port !== undefined ? { port } : {}),
    ...(nattPort !== undefined ? { nattPort } : {}),
    ...(tun ? { tun } : {}),
    ...(routes ? { routes } : {}),
    ...(mss !== undefined ? { mssClampMtu: mss } : {}),
    ...(mtu !== undefined ? { fixedMtu: true } : {}),
    ...(Object.keys(retransmit).length > 0 ? { retransmit } : {}),
    ...(keyLog ? { keyLog } : {}),
    ...(settings ? { settings } : {}),
    ...(statusFile !== undefined ? { statusFile } : {}),
  });
  try {
    await daemon.start();
  } catch (e) {
    logger.log('dmn', 0, `cannot start: ${(e as Error).message}`);
    await daemon.stop(0);
    return 1;
  }

  // Reloading the file (SIGHUP and vici's reload): a broken file is reported and the running configuration stays.
  let current = loaded.config;
  const reload = (): { success: boolean; errmsg?: string } => {
    try {
      const next = loadDaemonConfig(configPath);
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
      vici = await startVici(daemon, path, reload, logger);
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
  logger.log('dmn', 1, `cygnet daemon running (pid ${process.pid})`);

  return new Promise<number>((resolve) => {
    let stopping = false;
    const onStop = (sig: NodeJS.Signals): void => {
      if (stopping) return;
      stopping = true;
      logger.log('dmn', 1, `received ${sig}, shutting down`);
      daemon
        .stop(2000)
        .then(() => vici?.close())
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
    process.on('SIGUSR1', () => daemon.dumpStatus());
    process.on('SIGHUP', () => void reload());
  });
}

/** Loads --settings FILE (throws ConfigError with file:line) and logs what it set and what it ignores. */
function loadSettingsFile(path: string, logger: Logger): GlobalSettings {
  const s = loadGlobalSettings(path);
  for (const { key, loc } of s.ignored) logger.log('cfg', 2, `${loc.file}:${loc.line}: ${key} is not used by cygnet, ignored`);
  const set = Object.entries({ ...s.endpoint, ...(s.fragmentSize !== undefined ? { fragmentSize: s.fragmentSize } : {}) }).map(([k, v]) => `${k} ${JSON.stringify(v)}`);
  logger.log('cfg', 1, `loaded settings from ${path}${set.length > 0 ? `: ${set.join(', ')}` : ''}`);
  return s;
}

/** vici over the driver: IkeViciBackend turns the endpoint's commands into charon's blocking initiate/terminate. */
async function startVici(daemon: Daemon, path: string, reload: () => { success: boolean; errmsg?: string }, logger: Logger): Promise<ViciServer> {
  const backend = new IkeViciBackend(
    {
      initiate: (conn, child) => daemon.initiate(conn, child),
      terminateIke: (id) => daemon.terminateIke(id),
      terminateChild: (id) => daemon.terminateChild(id),
      rekeyIke: (id, reauth) => daemon.rekeyIke(id, reauth),
      rekeyChild: (id) => daemon.rekeyChild(id),
      listSas: () => daemon.endpoint.listSas(),
      connections: () => daemon.endpoint.connections(),
      halfOpenCount: () => daemon.endpoint.halfOpenCount(),
      reload,
      now: () => daemon.now(),
      childExtras: (c) => daemon.childExtras(c),
      scheduled: () => daemon.scheduled(),
    },
    { version: CLI_VERSION, plugins: ['ike', 'esp', 'vici'] },
  );
  daemon.onEvent((e) => backend.onEvent(e));
  const server = registerViciCommands(new ViciServer({ path, log: (level, message) => logger.log('cfg', level, message) }), backend);
  await server.listen();
  return server;
}
