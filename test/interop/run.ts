/**
 * Interop suite runner: `npm run test:interop` (tsx test/interop/run.ts [FILTER...]).
 *
 * Not root: prints a skip line and exits 0, except under CI (CI=true) where skipping is a failure.
 * As root: installs strongSwan and tools if missing, removes namespaces left by crashed runs, then runs each
 * test/interop/scenarios/*.ts in file-name order and prints one line per scenario and a closing
 * `N passed, M failed` line. Exit code 1 when any scenario failed.
 *
 * Env: INTEROP_VERBOSE=1 prints scenario notes live; INTEROP_KEEP=1 keeps scratch dirs of passing scenarios.
 *
 * `--docker` runs test/interop/docker/*.ts instead: strongSwan and cygnet in containers (lib/docker.ts installs
 * docker.io, starts dockerd, builds the images; afterwards stops the dockerd it started and undoes its host
 * changes). `--docker-rmi` also removes the images at the end.
 */
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { prepareDocker, releaseDocker, type DockerHost } from './lib/docker.js';
import { ensureStrongswanInstalled } from './lib/install.js';
import { cleanupAllLabs, removeStaleNamespaces } from './lib/netns.js';
import { liveProcesses } from './lib/process.js';
import { ScenarioContext, ScenarioSkip, type ScenarioModule } from './lib/scenario.js';

const here = dirname(fileURLToPath(import.meta.url));
const ci = process.env.CI === 'true' || process.env.CI === '1';
const docker = process.argv.includes('--docker');
const dockerRmi = process.argv.includes('--docker-rmi');
// A scenario's timeout only guards against a hang; on a loaded machine (other builds, a busy 2-core CI box) the
// same steps take several times longer, so INTEROP_TIMEOUT_SCALE stretches every scenario's limit.
const timeoutScale = Math.max(1, Number(process.env.INTEROP_TIMEOUT_SCALE ?? '1') || 1);
let dockerHost: DockerHost | undefined;

async function emergencyCleanup(): Promise<void> {
  for (const p of liveProcesses()) await p.stop(500).catch(() => undefined);
  await cleanupAllLabs().catch(() => undefined);
  if (dockerHost) {
    const host = dockerHost;
    dockerHost = undefined;
    for (const e of await releaseDocker(host, { removeImages: dockerRmi })) console.log(`interop: docker cleanup: ${e}`);
  }
}

let interrupted = false;
let currentCtx: ScenarioContext | undefined;
let scratchRoot: string | undefined;
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(sig, () => {
    if (interrupted) return;
    interrupted = true;
    console.log(`interop: ${sig} received, cleaning up namespaces and processes`);
    // Wait for the running scenario's teardown (shared with the main loop), then anything else still alive.
    void (currentCtx?.teardown() ?? Promise.resolve())
      .then(emergencyCleanup)
      .finally(() => {
        console.log(`interop: interrupted${scratchRoot ? `; logs kept in ${scratchRoot}` : ''}`);
        process.exit(130);
      });
  });
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${(ms / 1000).toFixed(0)} s`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

function oneLine(err: unknown): string {
  if (err instanceof Error) {
    const msg = err.message.split('\n').map((l) => l.trim()).filter(Boolean).join(' | ');
    return msg.length > 400 ? `${msg.slice(0, 400)}...` : msg;
  }
  return String(err);
}

async function printFailureDetails(ctx: ScenarioContext, err: unknown): Promise<void> {
  if (err instanceof Error && err.stack) console.log(err.stack.split('\n').map((l) => `    ${l}`).join('\n'));
  for (const note of ctx.transcript) console.log(`    note: ${note}`);
  for (const { label, path } of ctx.logFiles) {
    const text = await readFile(path, 'utf8').catch(() => '(no log)');
    const lines = text.trimEnd().split('\n');
    console.log(`    --- ${label} (${path}), last ${Math.min(40, lines.length)} of ${lines.length} lines ---`);
    for (const l of lines.slice(-40)) console.log(`    | ${l}`);
  }
}

async function main(): Promise<number> {
  if (process.getuid?.() !== 0) {
    if (ci) {
      console.log('interop: FAILED: not root under CI=true (the interop suite needs ip netns and strongSwan; CI must never skip it)');
      console.log('0 passed, 1 failed');
      return 1;
    }
    console.log('interop: skipped: not root (needs ip netns and strongSwan)');
    return 0;
  }
  if (docker) {
    const t0 = Date.now();
    dockerHost = await prepareDocker((m) => console.log(`interop: docker: ${m}`));
    const t = dockerHost.timings;
    console.log(`interop: docker ready in ${((Date.now() - t0) / 1000).toFixed(1)} s (install ${t.install} s, dockerd ${t.dockerd} s, images ${t.build} s)`);
  }
  const installed = docker ? [] : await ensureStrongswanInstalled((m) => console.log(`interop: ${m}`));
  if (installed.length) console.log(`interop: installed ${installed.join(', ')}`);
  const stale = await removeStaleNamespaces();
  if (stale.length) console.log(`interop: removed ${stale.length} stale namespace(s) from earlier runs`);

  const filters = process.argv.slice(2).filter((a) => !a.startsWith('--docker'));
  const scenarioDir = join(here, docker ? 'docker' : 'scenarios');
  const files = (await readdir(scenarioDir))
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
    .sort()
    .filter((f) => filters.length === 0 || filters.some((flt) => f.includes(flt)));

  const root = await mkdtemp(join(tmpdir(), 'cyg-interop-'));
  scratchRoot = root;
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  const suiteStart = Date.now();
  for (const file of files) {
    if (interrupted) break;
    let mod: ScenarioModule;
    try {
      mod = (await import(pathToFileURL(join(scenarioDir, file)).href)) as ScenarioModule;
      if (typeof mod.run !== 'function' || typeof mod.name !== 'string') throw new Error('must export name and run(ctx)');
    } catch (err) {
      failed++;
      console.log(`FAIL ${basename(file, '.ts')}: cannot load: ${oneLine(err)}`);
      continue;
    }
    const dir = join(root, basename(file, '.ts'));
    await mkdir(dir, { recursive: true });
    const ctx = new ScenarioContext(mod.name, dir);
    currentCtx = ctx;
    const start = Date.now();
    let error: unknown;
    try {
      await withTimeout(mod.run(ctx), (mod.timeoutMs ?? 30_000) * timeoutScale, `scenario ${mod.name}`);
    } catch (err) {
      error = err;
    }
    const secs = ((Date.now() - start) / 1000).toFixed(1);
    if (interrupted) break; // the signal handler tears down and exits
    if (error instanceof ScenarioSkip) {
      skipped++;
      console.log(`SKIP ${mod.name}: ${error.message}`);
    } else if (error !== undefined) {
      failed++;
      console.log(`FAIL ${mod.name}: ${oneLine(error)} (${secs} s)`);
      await printFailureDetails(ctx, error);
    } else {
      passed++;
      console.log(`PASS ${mod.name} (${secs} s)`);
    }
    const teardownErrors = await ctx.teardown();
    for (const e of teardownErrors) console.log(`    teardown: ${e}`);
    if (error === undefined && !process.env.INTEROP_KEEP) await rm(dir, { recursive: true, force: true });
  }
  if (interrupted) return 130; // the signal handler owns cleanup and exit
  await emergencyCleanup();
  if (failed === 0 && !process.env.INTEROP_KEEP) await rm(root, { recursive: true, force: true });
  else console.log(`interop: logs kept in ${root}`);
  if (skipped) console.log(`${skipped} skipped`);
  console.log(`interop: ${((Date.now() - suiteStart) / 1000).toFixed(1)} s`);
  console.log(`${passed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

main().then(
  (code) => {
    if (!interrupted) process.exit(code);
  },
  async (err) => {
    console.log(`interop: harness error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    await emergencyCleanup();
    console.log('0 passed, 1 failed');
    process.exit(1);
  },
);
