/**
 * `cygnet console`: the web console, a vici client of a running cygnet daemon (or strongSwan's charon).
 *
 *   cygnet console [--config FILE] [--listen HOST:PORT] [--socket PATH] [--tls-cert FILE --tls-key FILE]
 *                  [--insecure-bind] [--sample-interval MS]
 *   cygnet console --hash-password [--user NAME]     reads the password from stdin, prints the config line
 *
 * Exit codes: 0 stopped by a signal, 1 runtime failure (cannot listen), 2 usage or configuration error.
 */
import { readFile } from 'node:fs/promises';
import { DEFAULT_VICI_SOCKET } from '../vici/server.js';
import { ConsoleConfigError, DEFAULT_CONSOLE_CONFIG, parseConsoleConfig, type ConsoleConfig } from './config.js';
import { ConsoleHub } from './hub.js';
import { checkBind, DEFAULT_LISTEN, ListenError, parseListen } from './listen.js';
import { hashPassword } from './password.js';
import { ConsoleServer } from './server.js';
import { loadStatic } from './static.js';
import { ConsoleVici } from './vici-bridge.js';
import { Onboarding } from './onboarding.js';
import { dirname, join } from 'node:path';

export const CONSOLE_USAGE = `usage: cygnet console [options]
  a web console (live SAs, traffic, events, log, pools, certificates, up/down/rekey) over vici
  --config FILE          console configuration (default ${DEFAULT_CONSOLE_CONFIG}): listen, socket,
                         tls_cert, tls_key and one 'user NAME = HASH' line per user
  --listen HOST:PORT     where to listen (default ${DEFAULT_LISTEN}; loopback unless TLS or --insecure-bind)
  --socket PATH          the daemon's vici socket (default ${DEFAULT_VICI_SOCKET}; charon: /var/run/charon.vici)
  --tls-cert FILE        PEM certificate (chain) for HTTPS, with --tls-key FILE
  --tls-key FILE         PEM private key for HTTPS
  --insecure-bind        allow a non-loopback address without TLS (passwords would cross the network in clear)
  --sample-interval MS   how often traffic counters are read for the charts while a page is open (default 5000)
usage: cygnet console --hash-password [--user NAME]
  read a password from standard input (first line) and print the 'user NAME = scrypt$...' configuration line`;

interface Io {
  stdout(s: string): void;
  stderr(s: string): void;
  readStdin(): Promise<string>;
}

const defaultIo: Io = {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
  readStdin: async () => {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin as AsyncIterable<Buffer>) chunks.push(c);
    return Buffer.concat(chunks).toString('utf8');
  },
};

const VALUED = new Set(['--config', '--listen', '--socket', '--tls-cert', '--tls-key', '--sample-interval', '--user']);
const FLAGS = new Set(['--insecure-bind', '--hash-password', '--help', '-h']);

class UsageError extends Error {}

export function parseConsoleArgs(argv: readonly string[]): Map<string, string> {
  const opts = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    const eq = a.indexOf('=');
    const [k, inline] = a.startsWith('--') && eq > 0 ? [a.slice(0, eq), a.slice(eq + 1)] : [a, undefined];
    if (FLAGS.has(k)) {
      if (inline !== undefined) throw new UsageError(`${k} takes no value`);
      opts.set(k, '');
    } else if (VALUED.has(k)) {
      const v = inline ?? argv[++i];
      if (v === undefined || v === '') throw new UsageError(`${k} needs a value`);
      opts.set(k, v);
    } else throw new UsageError(`unknown option '${a}'`);
  }
  return opts;
}

export interface RunningConsole {
  readonly url: string;
  stop(): Promise<void>;
}

/** Start the console from parsed options; throws ListenError, ConsoleConfigError or UsageError on bad input. */
export async function startConsole(opts: Map<string, string>, log: (line: string) => void): Promise<RunningConsole> {
  const configPath = opts.get('--config') ?? DEFAULT_CONSOLE_CONFIG;
  let cfg: ConsoleConfig;
  try {
    cfg = parseConsoleConfig(await readFile(configPath, 'utf8'), configPath);
  } catch (e) {
    if (e instanceof ConsoleConfigError) throw e;
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    throw new UsageError(`cannot read the console configuration '${configPath}': ${code} (make one with a 'user NAME = HASH' line from cygnet console --hash-password)`);
  }
  if (cfg.users.size === 0) throw new ConsoleConfigError(configPath, 0, "no 'user NAME = HASH' line: nobody could log in (cygnet console --hash-password makes one)");
  const listenText = opts.get('--listen');
  const listen = listenText !== undefined ? parseListen(listenText) : cfg.listen ?? parseListen(DEFAULT_LISTEN);
  const certPath = opts.get('--tls-cert') ?? cfg.tlsCert;
  const keyPath = opts.get('--tls-key') ?? cfg.tlsKey;
  if ((certPath === undefined) !== (keyPath === undefined)) throw new UsageError('--tls-cert and --tls-key go together');
  const warning = checkBind(listen, { tls: certPath !== undefined, insecureBind: opts.has('--insecure-bind') });
  if (warning) log(`console: warning: ${warning}`);
  const sampleText = opts.get('--sample-interval');
  const sampleMs = sampleText === undefined ? 5000 : Number(sampleText);
  if (!Number.isInteger(sampleMs) || sampleMs < 250 || sampleMs > 3600_000) throw new UsageError(`--sample-interval '${sampleText}' must be milliseconds between 250 and 3600000`);

  let tls: { cert: Buffer; key: Buffer } | undefined;
  if (certPath !== undefined && keyPath !== undefined) {
    try {
      tls = { cert: await readFile(certPath), key: await readFile(keyPath) };
    } catch (e) {
      throw new UsageError(`cannot read TLS files: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  const socket = opts.get('--socket') ?? cfg.socket ?? DEFAULT_VICI_SOCKET;
  let hub: ConsoleHub | undefined;
  let onboarding: Onboarding | undefined;
  const vici = new ConsoleVici(
    socket,
    (name, msg) => hub?.onEvent(name, msg),
    (connected, why) => {
      hub?.setViciState(connected, why);
      log(connected ? `console: connected to vici at ${socket}` : `console: vici at ${socket} unavailable: ${why ?? ''}`);
      // The daemon may have restarted without the users created here: load them again.
      if (connected) void onboarding?.pushAll().catch((e: unknown) => log(`console: loading EAP users failed: ${e instanceof Error ? e.message : String(e)}`));
    },
  );
  if (cfg.profileConfig !== undefined) {
    onboarding = new Onboarding(
      {
        profileConfig: cfg.profileConfig,
        usersFile: cfg.usersFile ?? join(dirname(configPath), 'console-users.conf'),
        ...(cfg.profileCa !== undefined ? { profileCa: cfg.profileCa } : {}),
        ...(cfg.profileServer !== undefined ? { profileServer: cfg.profileServer } : {}),
        ...(cfg.caCert !== undefined ? { caCert: cfg.caCert } : {}),
        ...(cfg.caKey !== undefined ? { caKey: cfg.caKey } : {}),
        ...(cfg.crlFile !== undefined ? { crlFile: cfg.crlFile } : {}),
      },
      vici,
      log,
    );
    await onboarding.load();
  }
  hub = new ConsoleHub(vici, { sampleMs });
  const files = await loadStatic();
  const server = new ConsoleServer({ users: cfg.users, backend: vici, hub, files, ...(tls ? { tls } : {}), log, ...(onboarding ? { onboarding } : {}) });
  let addr: import('node:net').AddressInfo;
  try {
    addr = await server.listen(listen.host, listen.port);
  } catch (e) {
    throw new Error(`cannot listen on ${listen.host}:${listen.port}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  await vici.start();
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  const url = `${tls ? 'https' : 'http'}://${host}:${addr.port}/`;
  log(`console: listening on ${url} (vici ${socket}, ${cfg.users.size} user${cfg.users.size === 1 ? '' : 's'})`);
  return {
    url,
    stop: async () => {
      hub?.stop();
      vici.stop();
      await server.close();
    },
  };
}

export async function runConsole(argv: readonly string[], io: Io = defaultIo): Promise<number> {
  let opts: Map<string, string>;
  try {
    opts = parseConsoleArgs(argv);
  } catch (e) {
    io.stderr(`cygnet console: ${e instanceof Error ? e.message : String(e)}\n${CONSOLE_USAGE}\n`);
    return 2;
  }
  if (opts.has('--help') || opts.has('-h')) {
    io.stdout(`${CONSOLE_USAGE}\n`);
    return 0;
  }
  if (opts.has('--hash-password')) {
    const user = opts.get('--user') ?? 'admin';
    if (!/^[A-Za-z0-9._@-]{1,64}$/.test(user)) {
      io.stderr(`cygnet console: user name '${user}' may only have letters, digits and . _ @ - (at most 64)\n`);
      return 2;
    }
    const password = (await io.readStdin()).split(/\r?\n/)[0] ?? '';
    if (password === '') {
      io.stderr('cygnet console: --hash-password read an empty password from standard input\n');
      return 2;
    }
    io.stdout(`user ${user} = ${await hashPassword(password)}\n`);
    return 0;
  }
  const log = (line: string) => io.stdout(`${new Date().toISOString()} ${line}\n`);
  let running: RunningConsole;
  try {
    running = await startConsole(opts, log);
  } catch (e) {
    const usage = e instanceof UsageError || e instanceof ListenError || e instanceof ConsoleConfigError;
    io.stderr(`cygnet console: ${e instanceof Error ? e.message : String(e)}\n`);
    return usage ? 2 : 1;
  }
  await new Promise<void>((resolve) => {
    const stop = (sig: string) => {
      log(`console: ${sig} received, stopping`);
      void running.stop().then(resolve);
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
  return 0;
}
