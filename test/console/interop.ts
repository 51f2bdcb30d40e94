/**
 * The console as the interop scenarios (test/interop/scenarios/90-94) run it: `cygnet console` as its own process
 * (node + tsx, the working tree's code) entered into a daemon's private mount namespace only (`nsenter -t PID -m`),
 * so it reaches that daemon's /var/run/*.vici while listening on the host's loopback, where Chromium is.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CYGNET_MAIN, REPO_ROOT } from '../interop/lib/cygnet.js';
import { waitFor } from '../interop/lib/exec.js';
import { spawnLogged, type ProcessHandle } from '../interop/lib/process.js';
import type { ScenarioContext } from '../interop/lib/scenario.js';
import { hashPassword } from '../../src/console/password.js';
import type { Browser } from 'puppeteer-core';
import { browserMissing, launch } from './browser.js';

export const CONSOLE_USER = 'admin';
export const CONSOLE_PASSWORD = 'interop console password';

export interface ConsoleProcess {
  readonly url: string;
  readonly proc: ProcessHandle;
  /** The console's log lines so far. */
  log(): Promise<string>;
}

export async function startConsoleProcess(ctx: ScenarioContext, daemonPid: number, socket: string, opts: { sampleMs?: number; config?: string } = {}): Promise<ConsoleProcess> {
  const dir = await ctx.subdir('console');
  const conf = join(dir, 'console.conf');
  await writeFile(conf, `# interop console\nuser ${CONSOLE_USER} = ${await hashPassword(CONSOLE_PASSWORD, { N: 1 << 14, r: 8, p: 1 })}\n${opts.config ?? ''}`);
  const logFile = join(dir, 'console.log');
  ctx.logFiles.push({ label: 'console', path: logFile });
  // --wd: nsenter -m would otherwise start in / , where `--import tsx` resolves nothing.
  const args = ['-t', String(daemonPid), '-m', `--wd=${REPO_ROOT}`, process.execPath, '--import', 'tsx', CYGNET_MAIN, 'console', '--config', conf, '--listen', '127.0.0.1:0', '--socket', socket, '--sample-interval', String(opts.sampleMs ?? 1000)];
  const proc = spawnLogged('nsenter', args, { logFile, cwd: REPO_ROOT });
  ctx.defer(() => proc.stop());
  const url = await waitFor(
    'console to listen',
    async () => {
      const out = await proc.output();
      if (!proc.isRunning()) throw new Error(`cygnet console exited: ${out}`);
      return /console: listening on (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out)?.[1];
    },
    30_000,
    100,
  );
  await waitFor('console to reach vici', async () => /console: connected to vici/.test(await proc.output()) || undefined, 10_000, 100);
  return { url, proc, log: () => proc.output() };
}

/** Chromium for a scenario (closed at teardown); skips the scenario, saying why, when there is none. */
export async function scenarioBrowser(ctx: ScenarioContext): Promise<Browser> {
  const missing = browserMissing();
  if (missing) ctx.skip(missing);
  const browser = await launch();
  ctx.defer(() => browser.close());
  return browser;
}
