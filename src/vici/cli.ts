/**
 * The `cygnet` control commands, clients of the daemon's vici socket, with output shaped like swanctl's:
 *
 *   cygnet status                         version, uptime, connections and SAs
 *   cygnet list-sas [--ike NAME] [--ike-id N]
 *   cygnet list-conns [--ike NAME]
 *   cygnet up NAME [--ike CONN] [--timeout S] [--loglevel N]
 *       initiate CHILD_SA config NAME (under CONN); when no CHILD_SA config is called NAME, the IKE_SA config NAME
 *   cygnet down NAME [--ike CONN] [--force] [--timeout S]    cygnet down --ike CONN | --ike-id N | --child-id N
 *       terminate CHILD_SAs named NAME; when none match, IKE_SAs named NAME
 *   cygnet rekey NAME [--ike CONN] [--reauth]
 *   cygnet reload                          re-read the configuration file
 *   cygnet stats | version
 * Common option: --socket PATH (default /var/run/cygnet.vici; `--uri unix:///PATH` also accepted).
 *
 * Exit codes: 0 success, 1 failure (daemon unreachable, command failed), 2 usage error.
 */
import { ViciClient } from './client.js';
import { isViciError } from './errors.js';
import { findStr, str, type ViciInput, type ViciMessage } from './message.js';
import { DEFAULT_VICI_SOCKET } from './server.js';
import { formatControlLog, formatListConn, formatListSa, formatStats, formatVersion } from './format.js';

export interface ViciCliIo {
  /** Receives whole lines including the trailing newline. */
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

export const VICI_CLI_COMMANDS = ['status', 'list-sas', 'list-conns', 'up', 'down', 'rekey', 'reload', 'stats', 'version'] as const;
export type ViciCliCommand = (typeof VICI_CLI_COMMANDS)[number];

export const VICI_CLI_USAGE = `usage: cygnet <command> [--socket PATH] [options]
  status                                  daemon version, uptime, connections and SAs
  list-sas [--ike NAME] [--ike-id N]      active IKE_SAs and CHILD_SAs (as swanctl --list-sas)
  list-conns [--ike NAME]                 loaded connections (as swanctl --list-conns)
  up NAME [--ike CONN] [--timeout S] [--loglevel N]
                                          initiate CHILD_SA config NAME (or IKE_SA config NAME)
  down NAME [--ike CONN] [--force] [--timeout S] | down --ike CONN | --ike-id N | --child-id N
                                          terminate CHILD_SAs named NAME (or IKE_SAs named NAME)
  rekey NAME [--ike CONN] [--reauth]      rekey CHILD_SAs named NAME (or IKE_SAs named NAME)
  reload                                  re-read the configuration file
  stats                                   daemon statistics (as swanctl --stats)
  version                                 daemon version
default socket: ${DEFAULT_VICI_SOCKET}`;

const FLAGS = new Set(['force', 'reauth', 'raw']);
const VALUED = new Set(['socket', 'uri', 'ike', 'ike-id', 'child-id', 'timeout', 'loglevel', 'child']);

class UsageError extends Error {}

interface Parsed {
  readonly positional: string[];
  readonly opts: Map<string, string>;
}

function parse(args: readonly string[]): Parsed {
  const positional: string[] = [];
  const opts = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith('--')) {
      positional.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const key = eq >= 0 ? a.slice(2, eq) : a.slice(2);
    if (FLAGS.has(key)) {
      opts.set(key, 'yes');
    } else if (VALUED.has(key)) {
      const v = eq >= 0 ? a.slice(eq + 1) : args[++i];
      if (v === undefined) throw new UsageError(`option --${key} needs a value`);
      opts.set(key, v);
    } else {
      throw new UsageError(`unknown option '${a}'`);
    }
  }
  return { positional, opts };
}

function intOpt(p: Parsed, key: string): number | undefined {
  const v = p.opts.get(key);
  if (v === undefined) return undefined;
  if (!/^-?\d+$/.test(v)) throw new UsageError(`--${key} expects an integer, got '${v}'`);
  return Number.parseInt(v, 10);
}

function socketPath(p: Parsed): string {
  const uri = p.opts.get('uri');
  if (uri !== undefined) {
    if (!uri.startsWith('unix://')) throw new UsageError(`--uri supports unix:// only, got '${uri}'`);
    return uri.slice('unix://'.length);
  }
  return p.opts.get('socket') ?? DEFAULT_VICI_SOCKET;
}

function failed(r: ViciMessage): boolean {
  return findStr(r, 'success') !== 'yes';
}

function noMatch(r: ViciMessage): boolean {
  const errmsg = findStr(r, 'errmsg') ?? '';
  return findStr(r, 'matches') === '0' || /no matching|not found/i.test(errmsg);
}

/** Run one control command. `argv` starts with the command name, e.g. `['up', 'net', '--socket', '/tmp/x.vici']`. */
export async function runViciCli(argv: readonly string[], io: ViciCliIo = defaultIo()): Promise<number> {
  const out = (lines: string | readonly string[]): void => {
    for (const l of typeof lines === 'string' ? [lines] : lines) io.stdout(`${l}\n`);
  };
  if (argv.some((a) => a === '--help' || a === '-h' || a === 'help')) {
    io.stdout(`${VICI_CLI_USAGE}\n`);
    return 0;
  }
  let parsed: Parsed;
  let cmd: string | undefined;
  try {
    // Options may come before or after the command: `cygnet --socket X status` and `cygnet status --socket X`.
    const all = parse(argv);
    cmd = all.positional[0];
    if (cmd === undefined || !(VICI_CLI_COMMANDS as readonly string[]).includes(cmd)) {
      throw new UsageError(cmd === undefined ? 'missing command' : `unknown command '${cmd}'`);
    }
    parsed = { positional: all.positional.slice(1), opts: all.opts };
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr(`cygnet: ${e.message}\n${VICI_CLI_USAGE}\n`);
      return 2;
    }
    throw e;
  }
  const path = (() => {
    try {
      return socketPath(parsed);
    } catch (e) {
      return e as UsageError;
    }
  })();
  if (path instanceof UsageError) {
    io.stderr(`cygnet: ${path.message}\n`);
    return 2;
  }

  let client: ViciClient;
  try {
    client = await ViciClient.connect(path);
  } catch (e) {
    io.stderr(`cygnet ${cmd}: cannot reach the daemon's vici socket ${path}: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
  try {
    return await dispatch(cmd as ViciCliCommand, parsed, client, out, (l) => io.stderr(`${l}\n`));
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr(`cygnet: ${e.message}\n${VICI_CLI_USAGE}\n`);
      return 2;
    }
    io.stderr(`cygnet ${cmd}: ${isViciError(e) ? e.message : e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  } finally {
    client.close();
  }
}

async function listSas(client: ViciClient, msg: ViciInput, out: (l: readonly string[]) => void): Promise<number> {
  let n = 0;
  await client.streamedRequest('list-sas', msg, 'list-sa', (ev) => {
    n++;
    out(formatListSa(ev));
  });
  return n;
}

async function dispatch(
  cmd: ViciCliCommand,
  p: Parsed,
  client: ViciClient,
  out: (lines: string | readonly string[]) => void,
  err: (line: string) => void,
): Promise<number> {
  const name = p.positional[0];
  if (p.positional.length > 1) throw new UsageError(`unexpected argument '${p.positional[1]}'`);
  const ike = p.opts.get('ike');
  const log = (m: ViciMessage): void => out(formatControlLog(m));
  switch (cmd) {
    case 'version':
      out(formatVersion(await client.request('version')));
      return 0;
    case 'stats':
      out(formatStats(await client.request('stats')));
      return 0;
    case 'list-sas': {
      const ikeId = intOpt(p, 'ike-id');
      await listSas(client, { ike: ike ?? name, 'ike-id': ikeId }, out);
      return 0;
    }
    case 'list-conns':
      await client.streamedRequest('list-conns', { ike: ike ?? name }, 'list-conn', (ev) => out(formatListConn(ev)));
      return 0;
    case 'status': {
      const v = await client.request('version');
      const s = await client.request('stats');
      out(`${formatVersion(v)}, up ${findStr(s, 'uptime.running') ?? '?'} since ${findStr(s, 'uptime.since') ?? '?'}`);
      const conns: string[] = [];
      const connLines: string[] = [];
      await client.streamedRequest('list-conns', {}, 'list-conn', (ev) => {
        conns.push(...Object.keys(ev));
        connLines.push(...formatListConn(ev));
      });
      out(`Connections (${conns.length}):`);
      out(connLines.map((l) => `  ${l}`));
      out(`Security Associations (${findStr(s, 'ikesas.total') ?? '?'} IKE_SAs, ${findStr(s, 'ikesas.half-open') ?? '?'} half-open):`);
      const saLines: string[] = [];
      await listSas(client, {}, (l) => saLines.push(...l));
      out(saLines.length ? saLines.map((l) => `  ${l}`) : ['  none']);
      return 0;
    }
    case 'up': {
      if (name === undefined && ike === undefined) throw new UsageError('up needs a NAME (or --ike CONN)');
      const base = { timeout: secondsToMs(intOpt(p, 'timeout')), loglevel: intOpt(p, 'loglevel') ?? 1 };
      let r = await client.streamedRequest('initiate', { ...base, child: name, ike }, 'control-log', log);
      if (failed(r) && name !== undefined && ike === undefined && noMatch(r)) {
        r = await client.streamedRequest('initiate', { ...base, ike: name }, 'control-log', log);
      }
      if (failed(r)) {
        err(`initiate failed: ${findStr(r, 'errmsg') ?? ''}`);
        return 1;
      }
      out('initiate completed successfully');
      return 0;
    }
    case 'down': {
      const childId = intOpt(p, 'child-id');
      const ikeId = intOpt(p, 'ike-id');
      if (name === undefined && ike === undefined && childId === undefined && ikeId === undefined) {
        throw new UsageError('down needs a NAME, --ike CONN, --ike-id N or --child-id N');
      }
      const base = {
        timeout: secondsToMs(intOpt(p, 'timeout')),
        loglevel: intOpt(p, 'loglevel') ?? 1,
        force: p.opts.has('force') ? 'yes' : undefined,
        'child-id': childId,
        'ike-id': ikeId,
      };
      let r = await client.streamedRequest('terminate', { ...base, child: name, ike }, 'control-log', log);
      if (failed(r) && name !== undefined && ike === undefined && noMatch(r)) {
        r = await client.streamedRequest('terminate', { ...base, ike: name }, 'control-log', log);
      }
      if (failed(r)) {
        err(`terminate failed: ${findStr(r, 'errmsg') ?? ''}`);
        return 1;
      }
      out('terminate completed successfully');
      return 0;
    }
    case 'rekey': {
      const childId = intOpt(p, 'child-id');
      const ikeId = intOpt(p, 'ike-id');
      if (name === undefined && ike === undefined && childId === undefined && ikeId === undefined) {
        throw new UsageError('rekey needs a NAME, --ike CONN, --ike-id N or --child-id N');
      }
      const base = { reauth: p.opts.has('reauth') ? 'yes' : undefined, 'child-id': childId, 'ike-id': ikeId };
      let r = await client.request('rekey', { ...base, child: name, ike });
      if (failed(r) && name !== undefined && ike === undefined && noMatch(r)) r = await client.request('rekey', { ...base, ike: name });
      if (failed(r)) {
        err(`rekey failed: ${findStr(r, 'errmsg') ?? ''}`);
        return 1;
      }
      out('rekey completed successfully');
      return 0;
    }
    case 'reload': {
      let r: ViciMessage;
      try {
        r = await client.request('reload');
      } catch (e) {
        // charon has no `reload`: its nearest is reload-settings.
        if (!isViciError(e, 'UNKNOWN_COMMAND')) throw e;
        r = await client.request('reload-settings');
      }
      if (failed(r)) {
        err(`reload failed: ${str(r.errmsg) ?? ''}`);
        return 1;
      }
      out('reload completed successfully');
      return 0;
    }
  }
}

function secondsToMs(s: number | undefined): number | undefined {
  return s === undefined ? undefined : s * 1000;
}

function defaultIo(): ViciCliIo {
  return { stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t) };
}
