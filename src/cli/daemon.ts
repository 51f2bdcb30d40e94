/**
 * `cygnet daemon --config FILE`: loads the swanctl.conf-syntax file (warnings printed with file:line; any error
 * prints the ConfigError and exits 2 before a socket is opened), then runs the driver until SIGTERM/SIGINT,
 * which terminate every IKE SA (Deletes sent, answers awaited up to 2 s) and exit 0. SIGUSR1 logs the status;
 * SIGHUP reloads the file (SAs of unchanged connections are left alone).
 */
import { diffConfigs, isConfigError } from '../config/index.js';
import { encapWarnings, loadDaemonConfig } from '../daemon/connections.js';
import { Daemon } from '../daemon/driver.js';
import { TunRoutes } from '../daemon/routes.js';
import { Logger, LogSpecError, parseDebugSpec, type LogFormat } from '../daemon/logger.js';
import { ESP_HEADROOM } from '../esp/engine.js';
import type { TunDevice } from '../tun/types.js';
import { parseArgs, portOption, UsageError } from './args.js';

const SPEC = {
  config: {},
  debug: {},
  'log-format': {},
  tun: {},
  port: {},
  'natt-port': {},
  bind: {},
  'status-file': {},
  'no-routes': { flag: true },
} as const;

/** Resolves with the exit code once the daemon has stopped (or at once for usage/config errors). */
export const DAEMON_USAGE = `usage: cygnet daemon --config FILE [options]
  --config FILE            swanctl.conf-syntax configuration (connections, secrets)
  --debug SPEC             log levels per group, charondebug style: "ike 2, net 1, esp 1, cfg 2" (default 1)
  --log-format text|json   readable lines (default) or JSON lines
  --tun NAME               carry tunnelled packets on a Linux TUN device (root or CAP_NET_ADMIN)
  --port N                 IKE port (default 500); connections with local_port 500 use it
  --natt-port N            NAT-T port (default 4500)
  --bind ADDR[,ADDR...]    local addresses to bind (default: local_addrs, else every interface address)
  --status-file PATH       JSON snapshot of the SAs, rewritten on every change
  --no-routes              with --tun: do not route the remote traffic selectors into the TUN
signals: SIGTERM/SIGINT delete all SAs and exit 0; SIGUSR1 logs the status; SIGHUP reloads FILE`;

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

  let tun: TunDevice | undefined;
  const tunName = opts.get('tun');
  if (tunName !== undefined) {
    try {
      const { LinuxTun } = await import('../tun/linux.js');
      // Headroom lets the ESP engine write UDP + ESP headers in front of each packet without copying it.
      tun = await LinuxTun.open({ name: tunName, headroom: ESP_HEADROOM });
    } catch (e) {
      logger.log('knl', 0, `cannot open TUN device '${tunName}' (root or CAP_NET_ADMIN needed): ${(e as Error).message}`);
      return 1;
    }
  }

  const bind = opts.get('bind')?.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const statusFile = opts.get('status-file');
  const routes = tun && !opts.has('no-routes') ? new TunRoutes(tun.name, logger) : undefined;
  const daemon = new Daemon({
    config: loaded.daemon,
    logger,
    ...(bind ? { bind } : {}),
    ...(port !== undefined ? { port } : {}),
    ...(nattPort !== undefined ? { nattPort } : {}),
    ...(tun ? { tun } : {}),
    ...(routes ? { routes } : {}),
    ...(statusFile !== undefined ? { statusFile } : {}),
  });
  try {
    await daemon.start();
  } catch (e) {
    logger.log('dmn', 0, `cannot start: ${(e as Error).message}`);
    await daemon.stop(0);
    return 1;
  }
  logger.log('dmn', 1, `cygnet daemon running (pid ${process.pid})`);

  return new Promise<number>((resolve) => {
    let stopping = false;
    const onStop = (sig: NodeJS.Signals): void => {
      if (stopping) return;
      stopping = true;
      logger.log('dmn', 1, `received ${sig}, shutting down`);
      daemon.stop(2000).then(
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
    // SIGHUP: reload the configuration file (as `swanctl --load-all` does for charon). A broken file is
    // reported and the running configuration stays.
    let current = loaded.config;
    process.on('SIGHUP', () => {
      try {
        const next = loadDaemonConfig(configPath);
        for (const w of next.warnings) logger.log('cfg', 0, `warning: ${w.message}`);
        for (const w of encapWarnings(next.config)) logger.log('cfg', 0, `warning: ${w}`);
        daemon.reload(next.daemon, diffConfigs(current, next.config));
        current = next.config;
      } catch (e) {
        logger.log('cfg', 0, `reload of ${configPath} failed, keeping the running configuration: ${e instanceof Error ? e.message : String(e)}`);
      }
    });
  });
}
