/**
 * Promisified child-process helpers for the interop harness.
 *
 * Every external command the harness runs (ip, nsenter, swanctl, apt-get, tshark) goes through `run`, so a failure
 * always carries the command line, exit code and both output streams: interop failures are otherwise hard to read.
 */
import { execFile } from 'node:child_process';

export interface RunOptions {
  /** Kill the command after this long (default 30 s). */
  timeoutMs?: number;
  /** Resolve instead of rejecting when the exit code is non-zero. */
  allowFail?: boolean;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Written to the command's stdin (which is closed afterwards). */
  input?: string;
}

export interface RunResult {
  stdout: string;
  stderr: string;
  /** Exit code; null when killed by a signal. */
  code: number | null;
}

export class CommandError extends Error {
  constructor(
    readonly command: string,
    readonly code: number | null,
    readonly stdout: string,
    readonly stderr: string,
    readonly signal?: string | null,
  ) {
    // The output first: the one-line FAIL summary is truncated, and the cause matters more than the argv.
    const detail = (stderr.trim() || stdout.trim())
      .split('\n')
      .filter((l) => !/^Running as user "root"/.test(l))
      .slice(-6)
      .join('\n    ');
    super(`${shortName(command)} failed (${signal ? `signal ${signal}` : `exit ${code}`}): ${detail || '(no output)'}\n    command: ${command}`);
    this.name = 'CommandError';
  }
}

/** The program that matters in a wrapped command line (`nsenter -t 1 -m -n swanctl ...` -> swanctl). */
function shortName(command: string): string {
  const w = command.split(' ');
  if (w[0] === 'nsenter') return w.find((x, i) => i > 0 && !x.startsWith('-') && !/^\d+$/.test(x)) ?? 'nsenter';
  if (w[0] === 'ip' && w[1] === 'netns' && w[2] === 'exec') return w[4] ?? 'ip';
  return w[0] ?? command;
}

/** Quote argv for messages only (never passed to a shell). */
export function formatCommand(cmd: string, args: readonly string[]): string {
  return [cmd, ...args].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      cmd,
      [...args],
      {
        timeout: opts.timeoutMs ?? 30_000,
        maxBuffer: 64 * 1024 * 1024,
        env: opts.env ?? process.env,
        cwd: opts.cwd,
        encoding: 'utf8',
      },
      (err, stdout, stderr) => {
        if (!err) {
          resolve({ stdout, stderr, code: 0 });
          return;
        }
        const e = err as NodeJS.ErrnoException & { code?: number | string; signal?: string | null; killed?: boolean };
        if (typeof e.code === 'string') {
          // Spawn failure (ENOENT and friends): the command never ran.
          reject(new CommandError(formatCommand(cmd, args), null, stdout, `${e.code}: ${e.message}`));
          return;
        }
        const code = typeof e.code === 'number' ? e.code : null;
        if (opts.allowFail && code !== null) {
          resolve({ stdout, stderr, code });
          return;
        }
        reject(new CommandError(formatCommand(cmd, args), code, stdout, stderr, e.signal ?? (e.killed ? 'timeout' : null)));
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
    else child.stdin?.end();
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Poll `probe` until it returns a non-undefined value or the deadline passes. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs: number,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const why = lastError instanceof Error ? `: last error: ${lastError.message}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}`);
    }
    await sleep(intervalMs);
  }
}
