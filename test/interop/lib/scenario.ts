/**
 * What a scenario file exports and what the runner hands it.
 *
 * A scenario file in test/interop/scenarios/ exports:
 *   export const name = 'strongswan-baseline';
 *   export const timeoutMs = 30_000;            // optional, default 30 s
 *   export async function run(ctx: ScenarioContext): Promise<void> { ... node:assert ... }
 * Everything started through ctx (namespaces, strongSwan peers, processes) is torn down by the runner,
 * also when the scenario throws or times out, and its logs are printed when it fails.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { NetnsLab, type Netns } from './netns.js';
import { spawnInNetns, type ProcessHandle, type SpawnOptions } from './process.js';
import { CygnetPeer, type CygnetPeerOptions } from './cygnet.js';
import { StrongswanPeer, type StrongswanPeerOptions } from './strongswan.js';

export class ScenarioSkip extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'ScenarioSkip';
  }
}

export interface ScenarioModule {
  name: string;
  timeoutMs?: number;
  run(ctx: ScenarioContext): Promise<void>;
}

export class ScenarioContext {
  readonly lab = new NetnsLab();
  /** Log files to print (tail) when the scenario fails. */
  readonly logFiles: Array<{ label: string; path: string }> = [];
  private readonly cleanups: Array<() => Promise<unknown> | unknown> = [];
  private readonly notes: string[] = [];
  private seq = 0;

  constructor(
    readonly name: string,
    /** Scratch directory for this scenario (configs, logs, captures). */
    readonly dir: string,
  ) {}

  /** A note kept with the scenario (printed on failure, or always with INTEROP_VERBOSE=1). */
  log(msg: string): void {
    this.notes.push(msg);
    if (process.env.INTEROP_VERBOSE) console.log(`    [${this.name}] ${msg}`);
  }

  get transcript(): readonly string[] {
    return this.notes;
  }

  /** Register a cleanup; run last-in first-out after the scenario. */
  defer(fn: () => Promise<unknown> | unknown): void {
    this.cleanups.push(fn);
  }

  /** End the scenario as skipped (only for genuinely missing prerequisites, e.g. cygnet daemon not built yet). */
  skip(reason: string): never {
    throw new ScenarioSkip(reason);
  }

  /** A new scratch subdirectory. */
  async subdir(label: string): Promise<string> {
    const d = join(this.dir, `${++this.seq}-${label}`);
    await mkdir(d, { recursive: true });
    return d;
  }

  /** Throws once teardown has begun: a timed-out scenario still running must not start new processes. */
  private assertOpen(what: string): void {
    if (this.tearingDown) throw new Error(`scenario ${this.name} is already torn down (${what})`);
  }

  /** Start a strongSwan peer whose lifetime and log the runner manages. */
  async startStrongswan(opts: Omit<StrongswanPeerOptions, 'dir'> & { dir?: string }): Promise<StrongswanPeer> {
    this.assertOpen('startStrongswan');
    const label = opts.label ?? opts.ns.role;
    const dir = opts.dir ?? (await this.subdir(`swan-${label}`));
    const logPath = join(dir, `charon-${label}.log`);
    this.logFiles.push({ label: `charon ${label}`, path: logPath });
    const peer = await StrongswanPeer.start({ ...opts, label, dir });
    if (this.tearingDown) {
      await peer.stop(500);
      throw new Error(`scenario ${this.name} was torn down while strongSwan started`);
    }
    this.defer(() => peer.stop());
    return peer;
  }

  /** Start a `cygnet daemon` peer (see cygnet.ts) whose lifetime and log the runner manages. */
  async startCygnet(opts: Omit<CygnetPeerOptions, 'dir'> & { dir?: string }): Promise<CygnetPeer> {
    this.assertOpen('startCygnet');
    const label = opts.label ?? `cygnet-${opts.ns.role}`;
    const dir = opts.dir ?? (await this.subdir(label));
    this.logFiles.push({ label, path: join(dir, `${label}.log`) });
    const peer = await CygnetPeer.start({ ...opts, label, dir });
    if (this.tearingDown) {
      await peer.stop(500);
      throw new Error(`scenario ${this.name} was torn down while cygnet started`);
    }
    this.defer(() => peer.stop());
    return peer;
  }

  /** Start any process (e.g. `cygnet daemon`) in a namespace, logged and stopped after the scenario. */
  spawn(ns: Netns, cmd: string, args: readonly string[], opts: Partial<SpawnOptions> & { label?: string } = {}): ProcessHandle {
    this.assertOpen(`spawn ${cmd}`);
    const label = opts.label ?? `${cmd.split('/').pop()}-${ns.role}`;
    const logFile = opts.logFile ?? join(this.dir, `${++this.seq}-${label}.log`);
    this.logFiles.push({ label, path: logFile });
    const handle = spawnInNetns(ns, cmd, args, { ...opts, logFile });
    this.defer(() => handle.stop());
    return handle;
  }

  private tearingDown: Promise<string[]> | undefined;

  /**
   * Run all cleanups (LIFO), then delete the namespaces. Never throws; returns the errors it swallowed.
   * Idempotent: a second caller (SIGINT path) waits for the same teardown.
   */
  teardown(): Promise<string[]> {
    this.tearingDown ??= this.runTeardown();
    return this.tearingDown;
  }

  private async runTeardown(): Promise<string[]> {
    const errors: string[] = [];
    for (const fn of this.cleanups.splice(0).reverse()) {
      try {
        await fn();
      } catch (err) {
        errors.push((err as Error).message);
      }
    }
    await this.lab.cleanup();
    return errors;
  }
}
