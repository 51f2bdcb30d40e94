/**
 * Driving a vici daemon with Debian's swanctl, from inside the daemon's own mount and network namespaces
 * (`nsenter -t PID -m -n`). Works for charon (default socket) and, once its vici socket lands, for
 * `cygnet daemon` (uri `unix:///var/run/cygnet.vici`, issue 7), so scenarios assert on both sides the same way.
 */
import { readFile } from 'node:fs/promises';
import { run, waitFor, type RunOptions, type RunResult } from './exec.js';
import type { Netns } from './netns.js';
import type { ProcessHandle } from './process.js';
import { parseListSas, type IkeSaInfo } from './swanctl-output.js';

export interface SwanctlOptions extends RunOptions {}

export class SwanctlClient {
  constructor(
    /** A process inside the daemon's mount + network namespaces (normally the daemon itself). */
    readonly pid: number,
    readonly label: string,
    /** vici URI; default: swanctl's own default (unix:///var/run/charon.vici). */
    readonly uri?: string,
  ) {}

  /** Run swanctl inside the daemon's namespaces. Rejects on non-zero exit unless allowFail. */
  swanctl(args: readonly string[], opts: SwanctlOptions = {}): Promise<RunResult> {
    const uri = this.uri ? ['--uri', this.uri] : [];
    // swanctl wants the command option first, then --uri.
    const [command, ...rest] = args;
    const argv = command === undefined ? [] : [command, ...uri, ...rest];
    return run('nsenter', ['-t', String(this.pid), '-m', '-n', 'swanctl', ...argv], opts);
  }

  /**
   * Wait until `proc` has exec'd into `comm` and answers `swanctl --stats`. Only then is nsenter -m safe:
   * before the exec, the pid is still `ip`/`unshare` in another mount namespace, whose vici socket (if any)
   * belongs to someone else.
   */
  async waitReady(proc: ProcessHandle, comm: string, timeoutMs: number): Promise<void> {
    await waitFor(
      `${comm} (${this.label}) to answer on vici`,
      async () => {
        if (!proc.isRunning()) {
          const out = (await proc.output()).split('\n').slice(-15).join('\n');
          throw new Error(`${comm} exited: ${await proc.exited}\n${out}`);
        }
        const c = (await readFile(`/proc/${proc.pid}/comm`, 'utf8').catch(() => '')).trim();
        if (c !== comm) return undefined;
        const r = await this.swanctl(['--stats'], { allowFail: true, timeoutMs: 5000 });
        return r.code === 0 ? true : undefined;
      },
      timeoutMs,
      50,
    );
  }

  async loadAll(): Promise<void> {
    await this.swanctl(['--load-all', '--noprompt']);
  }

  /**
   * `swanctl --initiate --child CHILD` (waits for completion). Rejects on failure unless allowFail, in which
   * case the result's code says whether it worked (non-zero for NO_PROPOSAL_CHOSEN, AUTHENTICATION_FAILED...).
   */
  initiate(child: string, opts: SwanctlOptions & { ike?: string; timeoutS?: number } = {}): Promise<RunResult> {
    const args = ['--initiate', '--child', child, '--timeout', String(opts.timeoutS ?? 20)];
    if (opts.ike) args.push('--ike', opts.ike);
    return this.swanctl(args, { timeoutMs: (opts.timeoutS ?? 20) * 1000 + 5000, ...opts });
  }

  /** `swanctl --terminate --ike NAME`: sends a Delete for the IKE SA (and with it its CHILD SAs). */
  terminate(ike: string, opts: SwanctlOptions & { timeoutS?: number; force?: boolean } = {}): Promise<RunResult> {
    const args = ['--terminate', '--ike', ike, '--timeout', String(opts.timeoutS ?? 10)];
    if (opts.force) args.push('--force');
    return this.swanctl(args, { timeoutMs: (opts.timeoutS ?? 10) * 1000 + 5000, ...opts });
  }

  /** `swanctl --terminate --child NAME`: sends a Delete for that CHILD SA only. */
  terminateChild(child: string, opts: SwanctlOptions & { timeoutS?: number } = {}): Promise<RunResult> {
    const args = ['--terminate', '--child', child, '--timeout', String(opts.timeoutS ?? 10)];
    return this.swanctl(args, { timeoutMs: (opts.timeoutS ?? 10) * 1000 + 5000, ...opts });
  }

  /** `swanctl --rekey --child NAME` or `--rekey --ike NAME` (returns at once; wait on listSas). */
  rekey(which: { child: string } | { ike: string }, opts: SwanctlOptions = {}): Promise<RunResult> {
    const args = 'child' in which ? ['--rekey', '--child', which.child] : ['--rekey', '--ike', which.ike];
    return this.swanctl(args, opts);
  }

  async listSas(): Promise<IkeSaInfo[]> {
    const r = await this.swanctl(['--list-sas', '--pretty']);
    return parseListSas(r.stdout);
  }

  /**
   * Poll --list-sas until `predicate` returns something other than undefined/false (returned), or time out
   * with a summary of the last listing in the error.
   */
  async waitForSa<T>(predicate: (sas: IkeSaInfo[]) => T | undefined | false, timeoutMs = 10_000, what = 'SA condition'): Promise<T> {
    let last: IkeSaInfo[] = [];
    try {
      return await waitFor(
        what,
        async () => {
          last = await this.listSas();
          const v = predicate(last);
          return v === false || v === undefined ? undefined : v;
        },
        timeoutMs,
        150,
      );
    } catch (err) {
      const summary = last.map((s) => `${s.name} ${s.state} [${s.children.map((c) => `${c.name} ${c.state}`).join(', ')}]`).join('; ');
      throw new Error(`${(err as Error).message} on ${this.label}; SAs: ${summary || 'none'}`);
    }
  }

  /** The first IKE SA named `ike` that is ESTABLISHED with an INSTALLED child named `child`. */
  waitEstablished(ike: string, child: string, timeoutMs = 10_000): Promise<IkeSaInfo> {
    return this.waitForSa(
      (sas) => sas.find((s) => s.name === ike && s.state === 'ESTABLISHED' && s.children.some((c) => c.name === child && c.state === 'INSTALLED')),
      timeoutMs,
      `${ike}/${child} ESTABLISHED/INSTALLED`,
    );
  }

  /** Wait until no IKE SA is listed (or none named `ike`). */
  waitNoSas(ike?: string, timeoutMs = 10_000): Promise<true> {
    return this.waitForSa((sas) => !sas.some((s) => ike === undefined || s.name === ike) || undefined, timeoutMs, `no IKE SA${ike ? ` ${ike}` : ''}`);
  }
}

/** A daemon process in its own namespaces, controlled through vici, with its log captured to a file. */
export class DaemonPeer extends SwanctlClient {
  constructor(
    readonly ns: Netns,
    label: string,
    /** Working directory (configs, log). */
    readonly dir: string,
    readonly process: ProcessHandle,
    uri?: string,
  ) {
    super(process.pid, label, uri);
  }

  get logFile(): string {
    return this.process.logFile;
  }

  /** The daemon's log so far. */
  log(): Promise<string> {
    return this.process.output();
  }

  /** Log lines matching `pattern` (a string matches literally). */
  async grep(pattern: RegExp | string): Promise<string[]> {
    const re = typeof pattern === 'string' ? new RegExp(pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) : pattern;
    return (await this.log()).split('\n').filter((l) => re.test(l));
  }

  /** Wait until a log line matches; resolves with that line. */
  waitForLog(pattern: RegExp | string, timeoutMs = 10_000): Promise<string> {
    return waitFor(`${this.label} log to match ${pattern}`, async () => (await this.grep(pattern))[0], timeoutMs, 100);
  }

  /** SIGKILL: a crash, no Deletes sent (for DPD scenarios). */
  crash(): Promise<number | string> {
    return this.process.kill('SIGKILL');
  }

  /** SIGTERM (charon then sends Deletes for its SAs), then SIGKILL after graceMs. */
  stop(graceMs = 3000): Promise<number | string> {
    return this.process.stop(graceMs);
  }
}
