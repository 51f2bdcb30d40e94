/**
 * Long-running processes inside a network namespace (charon now, `cygnet daemon` later), with output captured to a
 * log file and a stop() that escalates SIGTERM -> SIGKILL. Processes are tracked so the runner can kill whatever a
 * failed or interrupted scenario left behind, by pid only.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { sleep } from './exec.js';

export interface SpawnOptions {
  /** stdout and stderr are appended to this file. */
  logFile: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export interface ProcessHandle {
  readonly pid: number;
  readonly logFile: string;
  /** Resolves with the exit code (or the signal name) once the process is gone. */
  readonly exited: Promise<number | string>;
  isRunning(): boolean;
  /** The captured output so far. */
  output(): Promise<string>;
  /** SIGTERM, then SIGKILL after `graceMs` (default 3 s). Safe to call twice. */
  stop(graceMs?: number): Promise<number | string>;
  /** Send one signal now (e.g. SIGKILL to simulate a crash: no Deletes sent) and wait for the exit. */
  kill(signal?: NodeJS.Signals): Promise<number | string>;
}

const live = new Set<ProcessHandle>();

/** Every process spawned by this module and not yet exited (the runner kills these on failure/SIGINT). */
export function liveProcesses(): ProcessHandle[] {
  return [...live];
}

/** Spawn `cmd args` with argv passed straight through (no shell), its output going to `logFile`. */
export function spawnLogged(cmd: string, args: readonly string[], opts: SpawnOptions): ProcessHandle {
  const fd = openSync(opts.logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(cmd, [...args], { stdio: ['ignore', fd, fd], env: opts.env ?? process.env, cwd: opts.cwd });
  } finally {
    closeSync(fd);
  }
  if (child.pid === undefined) throw new Error(`could not spawn ${cmd}`);
  const pid = child.pid;
  let running = true;
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => {
      running = false;
      live.delete(handle);
      resolve(code ?? signal ?? 'unknown');
    });
    child.once('error', () => {
      running = false;
      live.delete(handle);
      resolve('spawn-error');
    });
  });
  const handle: ProcessHandle = {
    pid,
    logFile: opts.logFile,
    exited,
    isRunning: () => running,
    output: () => readFile(opts.logFile, 'utf8').catch(() => ''),
    async stop(graceMs = 3000) {
      if (running) {
        try {
          process.kill(pid, 'SIGTERM');
        } catch {
          /* already gone */
        }
        const timedOut = await Promise.race([exited.then(() => false), sleep(graceMs).then(() => true)]);
        if (timedOut && running) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            /* already gone */
          }
        }
      }
      return exited;
    },
    async kill(signal = 'SIGKILL') {
      if (running) {
        try {
          process.kill(pid, signal);
        } catch {
          /* already gone */
        }
      }
      return exited;
    },
  };
  live.add(handle);
  return handle;
}

/**
 * Run `cmd args` inside network namespace `ns` (`ip netns exec` execs in place, so the handle's pid is the
 * command's own pid: nsenter -t PID reaches its namespaces).
 */
export function spawnInNetns(ns: string | { name: string }, cmd: string, args: readonly string[], opts: SpawnOptions): ProcessHandle {
  const name = typeof ns === 'string' ? ns : ns.name;
  return spawnLogged('ip', ['netns', 'exec', name, cmd, ...args], opts);
}

export interface IsolatedSpawnOptions extends SpawnOptions {
  /** Bind mounts applied in the private mount namespace, e.g. `[[dir + '/swanctl', '/etc/swanctl']]`. */
  binds?: ReadonlyArray<readonly [source: string, target: string]>;
}

/**
 * Run `cmd args` in network namespace `ns` AND a private mount namespace with its own empty /run (tmpfs) and
 * the given bind mounts: two daemons that both want /run/charon.vici, /var/run/cygnet.vici or a pid file then
 * never see each other. `ip netns exec`, `unshare` (no --fork) and `sh -c 'exec'` all exec in place, so the
 * handle's pid is the daemon's own pid, and `nsenter -t PID -m -n` reaches exactly its view.
 */
export function spawnIsolated(ns: string | { name: string }, cmd: string, args: readonly string[], opts: IsolatedSpawnOptions): ProcessHandle {
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const mounts = ['mount -t tmpfs none /run', ...(opts.binds ?? []).map(([s, t]) => `mount --bind ${q(s)} ${q(t)}`)];
  // argv goes through "$0" "$@" untouched by the shell.
  const script = `${mounts.join(' && ')} && exec "$0" "$@"`;
  return spawnInNetns(ns, 'unshare', ['-m', '--propagation', 'private', 'sh', '-c', script, cmd, ...args], opts);
}
