/**
 * Containers for the `--docker` interop scenarios (test/interop/docker/): strongSwan and cygnet each in their own
 * container, wired by docker/compose.yml (a site-to-site pair and a road-warrior pair with hosts behind the
 * gateways). The images come from docker/build.sh (Debian packages only: this machine has no registry).
 *
 * `prepareDocker()` installs docker.io, debootstrap and docker-compose when missing, starts dockerd when it is not
 * running (docker/dockerd.sh) and builds the images; `releaseDocker()` stops a dockerd it started, which also
 * removes the nft tables dockerd created and restores net.ipv4.ip_forward (dockerd's FORWARD policy DROP and
 * forwarding must not leak into the netns suite), and removes the images only when asked.
 * `ComposeStack.up(ctx, services)` brings services up for one scenario and tears them down with it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { access, constants, open } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run, waitFor, type RunResult } from './exec.js';
import type { ScenarioContext } from './scenario.js';
import { parseListSas, type IkeSaInfo } from './swanctl-output.js';

const here = dirname(fileURLToPath(import.meta.url));
export const DOCKER_DIR = resolve(here, '../../../docker');
export const COMPOSE_FILE = join(DOCKER_DIR, 'compose.yml');
/** One project name for every run: the compose file pins subnets, so two stacks cannot coexist anyway. */
export const PROJECT = 'cygnet-interop';
/** What docker/build.sh makes, top layer first (the order `docker rmi` needs). */
export const IMAGES = ['local/cygnet', 'local/cygnet-runtime', 'local/cygnet-strongswan', 'local/debian:bookworm'] as const;

/** A container step that failed: names the step and carries the command's own words. */
export class DockerError extends Error {
  constructor(step: string, cause: string) {
    super(`docker: ${step}: ${cause}`);
    this.name = 'DockerError';
  }
}

/** Binaries proving a Debian package is installed. */
const REQUIRED: ReadonlyArray<readonly [path: string, pkg: string]> = [
  ['/usr/sbin/dockerd', 'docker.io'],
  ['/usr/sbin/debootstrap', 'debootstrap'],
  ['/usr/bin/docker-compose', 'docker-compose'],
];

async function exists(path: string): Promise<boolean> {
  return access(path, constants.X_OK).then(() => true, () => false);
}

export interface DockerHost {
  /** Debian packages this run installed. */
  installed: string[];
  /** True when this run started dockerd (and so must stop it and undo its host changes). */
  startedDockerd: boolean;
  /** Seconds spent: install, dockerd start, image build. */
  timings: { install: number; dockerd: number; build: number };
}

function secondsSince(t0: number): number {
  return Math.round((Date.now() - t0) / 100) / 10;
}

/** As root: packages, dockerd, images. Idempotent; a few seconds when everything is there. */
export async function prepareDocker(log: (msg: string) => void): Promise<DockerHost> {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  let t0 = Date.now();
  const missing: string[] = [];
  for (const [path, pkg] of REQUIRED) if (!(await exists(path))) missing.push(pkg);
  if (missing.length) {
    log(`installing ${missing.join(' ')} ...`);
    const args = ['install', '-y', '-qq', '--no-install-recommends', ...missing];
    const first = await run('apt-get', args, { env, timeoutMs: 600_000, allowFail: true });
    if (first.code !== 0) {
      // A stale package index is the usual cause on a fresh machine.
      await run('apt-get', ['update', '-qq'], { env, timeoutMs: 300_000 });
      await run('apt-get', args, { env, timeoutMs: 600_000 });
    }
    for (const [path, pkg] of REQUIRED) if (!(await exists(path))) throw new DockerError('install', `${pkg} did not provide ${path}`);
  }
  const install = secondsSince(t0);
  t0 = Date.now();
  const started = await script('dockerd.sh', ['start'], 60_000);
  const startedDockerd = /started/.test(started.stdout);
  const dockerd = secondsSince(t0);
  log(started.stdout.trim());
  const host = { installed: missing, startedDockerd, timings: { install, dockerd, build: 0 } };
  try {
    t0 = Date.now();
    const built = await script('build.sh', [], 900_000);
    for (const line of built.stdout.trim().split('\n')) if (line && !line.startsWith('dockerd:')) log(line);
    host.timings.build = secondsSince(t0);
    // Containers and networks of a run that was killed before its teardown.
    await compose(['down', '--remove-orphans', '-t', '2'], 60_000, true);
  } catch (err) {
    // The caller never gets a handle to release: stop what we started here.
    if (startedDockerd) await script('dockerd.sh', ['stop'], 60_000).catch(() => undefined);
    throw err;
  }
  return host;
}

/**
 * Undo `prepareDocker`: leftover containers of this project, the images when `removeImages`, and dockerd with its
 * host changes when this run started it. Never throws; returns what went wrong.
 */
export async function releaseDocker(host: DockerHost, opts: { removeImages?: boolean } = {}): Promise<string[]> {
  const errors: string[] = [];
  const attempt = async (what: string, fn: () => Promise<unknown>) => {
    try {
      await fn();
    } catch (err) {
      errors.push(`${what}: ${(err as Error).message}`);
    }
  };
  await attempt('compose down', () => compose(['down', '--remove-orphans', '-t', '2'], 60_000, true));
  if (opts.removeImages) {
    await attempt('rmi', () => run('docker', ['rmi', '-f', ...IMAGES], { timeoutMs: 120_000 }));
    await attempt('prune', () => run('docker', ['image', 'prune', '-f', '--filter', 'label=cygnet.build=docker/build.sh'], { timeoutMs: 120_000 }));
  }
  if (host.startedDockerd) await attempt('dockerd stop', () => script('dockerd.sh', ['stop'], 60_000));
  return errors;
}

async function script(name: string, args: string[], timeoutMs: number): Promise<RunResult> {
  try {
    return await run(join(DOCKER_DIR, name), args, { timeoutMs });
  } catch (err) {
    throw new DockerError(`docker/${name} ${args.join(' ')}`.trim(), (err as Error).message);
  }
}

function compose(args: string[], timeoutMs = 120_000, allowFail = false): Promise<RunResult> {
  return run('docker-compose', ['-p', PROJECT, '-f', COMPOSE_FILE, ...args], { timeoutMs, allowFail });
}

export interface PingResult {
  sent: number;
  received: number;
  /** TTLs of the replies: 64 minus the routers on the way back (each gateway forwarding counts one). */
  ttls: number[];
  output: string;
}

export function parsePing(output: string): PingResult {
  const m = /(\d+) packets transmitted, (\d+) (?:packets )?received/.exec(output);
  const ttls = [...output.matchAll(/ttl=(\d+)/g)].map((x) => Number(x[1]));
  return { sent: Number(m?.[1] ?? 0), received: Number(m?.[2] ?? 0), ttls, output };
}

/** CHILD SA byte/packet counters from `swanctl --list-sas` / `cygnet list-sas` text (`in  SPI,  N bytes,  M packets`). */
export function childCounters(listSas: string): { spiIn: string; spiOut: string; packetsIn: number; packetsOut: number } {
  const dir = (d: 'in' | 'out') => new RegExp(`^\\s+${d}\\s+([0-9a-f]{8}),\\s+(\\d+) bytes,\\s+(\\d+) packets`, 'm').exec(listSas);
  const i = dir('in');
  const o = dir('out');
  if (!i || !o) throw new Error(`no CHILD SA counters in list-sas output:\n${listSas}`);
  return { spiIn: i[1]!, spiOut: o[1]!, packetsIn: Number(i[3]), packetsOut: Number(o[3]) };
}

/** IKE SPIs from the first `NAME: #N, STATE, IKEv2, SPI_i[*] SPI_r[*]` line of list-sas text. */
export function ikeSpis(listSas: string): { state: string; spiI: string; spiR: string } {
  const m = /^\S+: #\d+, (\w+), IKEv2, ([0-9a-f]{16})_i\*? ([0-9a-f]{16})_r/m.exec(listSas);
  if (!m) throw new Error(`no IKE SA in list-sas output:\n${listSas}`);
  return { state: m[1]!, spiI: m[2]!, spiR: m[3]! };
}

/** Services of docker/compose.yml running for one scenario; torn down (and their logs kept) with it. */
export class ComposeStack {
  private readonly ids = new Map<string, string>();
  private readonly followers: ChildProcess[] = [];

  private constructor(
    private readonly ctx: ScenarioContext,
    readonly services: readonly string[],
  ) {}

  /** `docker-compose up -d` the services (images must exist: prepareDocker), follow their logs into ctx.dir. */
  static async up(ctx: ScenarioContext, services: readonly string[]): Promise<ComposeStack> {
    const stack = new ComposeStack(ctx, services);
    ctx.defer(() => stack.down());
    const r = await compose(['up', '-d', '--no-build', '--no-color', ...services], 120_000, true);
    if (r.code !== 0) throw new DockerError(`compose up ${services.join(' ')}`, (r.stderr || r.stdout).trim().split('\n').slice(-6).join(' | '));
    // One `docker ps` instead of a `docker-compose ps` (a Python start-up each) per service.
    const ps = await run('docker', ['ps', '-a', '--filter', `label=com.docker.compose.project=${PROJECT}`, '--format', '{{.ID}} {{.Label "com.docker.compose.service"}}']);
    for (const line of ps.stdout.trim().split('\n')) {
      const [id, service] = line.split(' ');
      if (id && service && services.includes(service)) stack.ids.set(service, id);
    }
    for (const s of services) {
      const id = stack.ids.get(s);
      if (!id) throw new DockerError(`compose up ${s}`, `no container after up (docker ps: ${ps.stdout.trim() || 'none'})`);
      await stack.follow(s, id);
    }
    return stack;
  }

  /** `docker logs -f` into a file the runner prints when the scenario fails. */
  private async follow(service: string, id: string): Promise<void> {
    const path = join(this.ctx.dir, `${service}.log`);
    const fh = await open(path, 'w');
    const child = spawn('docker', ['logs', '-f', '-t', id], { stdio: ['ignore', fh.fd, fh.fd] });
    child.on('exit', () => void fh.close().catch(() => undefined));
    this.followers.push(child);
    this.ctx.logFiles.push({ label: service, path });
  }

  id(service: string): string {
    const id = this.ids.get(service);
    if (!id) throw new Error(`service ${service} is not part of this stack (${this.services.join(', ')})`);
    return id;
  }

  exec(service: string, args: readonly string[], opts: { timeoutMs?: number; allowFail?: boolean } = {}): Promise<RunResult> {
    return run('docker', ['exec', this.id(service), ...args], { timeoutMs: opts.timeoutMs ?? 30_000, allowFail: opts.allowFail });
  }

  async logs(service: string): Promise<string> {
    const r = await run('docker', ['logs', this.id(service)], { timeoutMs: 30_000 });
    return r.stdout + r.stderr;
  }

  async waitForLog(service: string, re: RegExp, timeoutMs = 5000): Promise<string> {
    return waitFor(`${service} to log ${re}`, async () => re.exec(await this.logs(service))?.[0], timeoutMs, 200);
  }

  /** Wait until docker reports every service healthy (their health checks ping through the tunnel). */
  async waitHealthy(timeoutMs: number): Promise<void> {
    let last = '';
    await waitFor(
      'healthy containers',
      async () => {
        const states = await Promise.all(
          this.services.map(async (s) => {
            const st = (await run('docker', ['inspect', '-f', '{{.State.Status}}/{{if .State.Health}}{{.State.Health.Status}}{{end}}', this.id(s)])).stdout.trim();
            return `${s}=${st}`;
          }),
        );
        last = states.join(' ');
        const dead = states.find((x) => !/=running\//.test(x));
        if (dead) throw new DockerError('container exited', dead);
        return states.every((x) => /=running\/(healthy)?$/.test(x)) ? true : undefined;
      },
      timeoutMs,
      500,
    ).catch((err: Error) => {
      throw new DockerError('health', `${err.message} (${last})`);
    });
  }

  async ping(service: string, dst: string, opts: { count?: number; source?: string } = {}): Promise<PingResult> {
    const args = ['ping', '-c', String(opts.count ?? 3), '-i', '0.2', '-W', '1', ...(opts.source ? ['-I', opts.source] : []), dst];
    return parsePing((await this.exec(service, args, { allowFail: true })).stdout);
  }

  /** strongSwan's view, `swanctl --list-sas --pretty` parsed. */
  async swanSas(service: string): Promise<IkeSaInfo[]> {
    return parseListSas((await this.exec(service, ['swanctl', '--list-sas', '--pretty'])).stdout);
  }

  async listSasText(service: string, kind: 'strongswan' | 'cygnet'): Promise<string> {
    const args = kind === 'strongswan' ? ['swanctl', '--list-sas'] : ['cygnet', 'list-sas'];
    return (await this.exec(service, args)).stdout;
  }

  /** `docker stop` (SIGTERM, then SIGKILL after `graceSeconds`). */
  async stop(service: string, graceSeconds = 5): Promise<void> {
    await run('docker', ['stop', '-t', String(graceSeconds), this.id(service)], { timeoutMs: (graceSeconds + 20) * 1000 });
  }

  /** Remove the containers and networks (docker-compose down); the log followers end with their containers. */
  async down(): Promise<void> {
    await compose(['down', '--remove-orphans', '-t', '2'], 120_000, true);
    for (const f of this.followers) if (f.exitCode === null) f.kill();
  }
}
