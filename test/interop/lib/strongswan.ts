/**
 * A real strongSwan (charon 5.9.8) running inside a network namespace, driven through swanctl.
 *
 * Recipe (../../../shared/DESIGN.md section 6): charon gets its own mount namespace so that its /run (pid file,
 * vici socket) and /etc/swanctl are private to it; two charons, or charon next to cygnet, then never see each
 * other. The kernel here has no ESP transform, so kernel-libipsec does ESP in userspace over its own TUN
 * (`ipsec0`), always UDP-encapsulated on port 4500, and installs routes to the remote selectors in table 220.
 */
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { run, waitFor, type RunOptions, type RunResult } from './exec.js';
import { CHARON } from './install.js';
import type { Netns } from './netns.js';
import { spawnInNetns, type ProcessHandle } from './process.js';
import { parseListSas, type IkeSaInfo } from './swanctl-output.js';

/**
 * `openssl` provides ECP and MODP groups (and is the AES/SHA fallback); `curve25519` x25519; `kdf` the
 * PRF-based key derivation 5.9.8 requires; `gmp` is not needed. `attr` serves configuration payloads.
 */
export const DEFAULT_PLUGINS = [
  'random', 'nonce', 'aes', 'sha1', 'sha2', 'hmac', 'gcm', 'chapoly', 'pem', 'pkcs1', 'pkcs8', 'x509', 'pubkey',
  'openssl', 'curve25519', 'kdf', 'constraints', 'revocation', 'kernel-libipsec', 'kernel-netlink',
  'socket-default', 'vici', 'updown', 'attr',
];

/** Log levels per subsystem for charon's stderr log (0..4). `enc = 1` prints the payload list of each message. */
export const DEFAULT_LOG_LEVELS: Record<string, number> = { default: 1, ike: 2, cfg: 2, enc: 1, net: 1, knl: 1 };

const SWANCTL_SUBDIRS = ['x509', 'x509ca', 'x509ocsp', 'x509aa', 'x509ac', 'x509crl', 'pubkey', 'private', 'rsa', 'ecdsa', 'bliss', 'pkcs8', 'pkcs12'];

export interface StrongswanPeerOptions {
  ns: Netns;
  /** Label used in file names and messages (default: the namespace role). */
  label?: string;
  /** Working directory for conf, swanctl dir and log (default: a fresh temp dir). */
  dir?: string;
  /** swanctl.conf content. */
  swanctlConf: string;
  /** Extra files below the swanctl dir, e.g. `{ 'x509ca/ca.pem': pem }`. */
  files?: Record<string, string | Uint8Array>;
  /** Raw lines inside `charon { }`, e.g. `fragment_size = 576`, `cookie_threshold = 0`, `retransmit_tries = 2`. */
  charonOptions?: string;
  plugins?: readonly string[];
  logLevels?: Record<string, number>;
  /** Replace the generated strongswan.conf entirely. */
  strongswanConf?: string;
  /** How long to wait for the vici socket (default 10 s). */
  startTimeoutMs?: number;
}

export function strongswanConf(opts: Pick<StrongswanPeerOptions, 'charonOptions' | 'plugins' | 'logLevels'>): string {
  const levels = Object.entries(opts.logLevels ?? DEFAULT_LOG_LEVELS)
    .map(([k, v]) => `${k} = ${v}`)
    .join('\n        ');
  return `charon {
  load = ${(opts.plugins ?? DEFAULT_PLUGINS).join(' ')}
  filelog {
    stderr {
        time_format = %H:%M:%S
        ike_name = yes
        ${levels}
    }
  }
  ${opts.charonOptions ?? ''}
}
`;
}

export interface SwanctlOptions extends RunOptions {}

export class StrongswanPeer {
  private constructor(
    readonly ns: Netns,
    readonly label: string,
    readonly dir: string,
    readonly process: ProcessHandle,
  ) {}

  get pid(): number {
    return this.process.pid;
  }
  get logFile(): string {
    return this.process.logFile;
  }

  /** Write the configuration, start charon in `ns` with private /run and /etc/swanctl, wait for vici. */
  static async start(opts: StrongswanPeerOptions): Promise<StrongswanPeer> {
    const label = opts.label ?? opts.ns.role;
    const dir = opts.dir ?? (await mkdtemp(join(tmpdir(), `cyg-swan-${label}-`)));
    const swanctlDir = join(dir, 'swanctl');
    for (const sub of SWANCTL_SUBDIRS) await mkdir(join(swanctlDir, sub), { recursive: true });
    await writeFile(join(swanctlDir, 'swanctl.conf'), opts.swanctlConf);
    for (const [rel, content] of Object.entries(opts.files ?? {})) {
      await mkdir(dirname(join(swanctlDir, rel)), { recursive: true });
      await writeFile(join(swanctlDir, rel), content);
    }
    const confPath = join(dir, 'strongswan.conf');
    await writeFile(confPath, opts.strongswanConf ?? strongswanConf(opts));
    const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
    // `ip netns exec`, `unshare` (no --fork) and `sh -c exec` all exec in place, so the pid we get is charon's.
    const script =
      `mount -t tmpfs none /run && mount --bind ${q(swanctlDir)} /etc/swanctl && ` +
      `STRONGSWAN_CONF=${q(confPath)} exec ${CHARON}`;
    const proc = spawnInNetns(opts.ns, 'unshare', ['-m', '--propagation', 'private', 'sh', '-c', script], {
      logFile: join(dir, `charon-${label}.log`),
    });
    const peer = new StrongswanPeer(opts.ns, label, dir, proc);
    try {
      // Only talk to vici once the pid really is charon: before that, nsenter -m would enter the host's (or
      // ip-netns-exec's) mount namespace and could reach some other charon's socket.
      await waitFor(
        `charon (${label}) to answer on vici`,
        async () => {
          if (!proc.isRunning()) throw new Error(`charon exited: ${await proc.exited}\n${tail(await proc.output(), 15)}`);
          const comm = (await readFile(`/proc/${proc.pid}/comm`, 'utf8').catch(() => '')).trim();
          if (comm !== 'charon') return undefined;
          const r = await peer.swanctl(['--stats'], { allowFail: true, timeoutMs: 5000 });
          return r.code === 0 ? true : undefined;
        },
        opts.startTimeoutMs ?? 10_000,
        50,
      );
    } catch (err) {
      await proc.stop(500);
      throw err;
    }
    return peer;
  }

  /** Run swanctl inside charon's mount and network namespaces. Rejects on non-zero exit unless allowFail. */
  swanctl(args: readonly string[], opts: SwanctlOptions = {}): Promise<RunResult> {
    return run('nsenter', ['-t', String(this.pid), '-m', '-n', 'swanctl', ...args], opts);
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

  async listSas(): Promise<IkeSaInfo[]> {
    const r = await this.swanctl(['--list-sas', '--pretty']);
    return parseListSas(r.stdout);
  }

  /**
   * Poll --list-sas until `predicate` returns something other than undefined/false (returned), or time out
   * with the last listing in the error.
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

  /** charon's log so far. */
  log(): Promise<string> {
    return this.process.output();
  }

  /** Log lines matching `pattern`. */
  async grep(pattern: RegExp | string): Promise<string[]> {
    const re = typeof pattern === 'string' ? new RegExp(escapeRe(pattern)) : pattern;
    return (await this.log()).split('\n').filter((l) => re.test(l));
  }

  /** Wait until a log line matches; resolves with that line. */
  async waitForLog(pattern: RegExp | string, timeoutMs = 10_000): Promise<string> {
    return waitFor(`${this.label} log to match ${pattern}`, async () => (await this.grep(pattern))[0], timeoutMs, 100);
  }

  /**
   * Notify names charon logged as received or sent, from lines like
   * `received AUTHENTICATION_FAILED notify error`, `received NO_PROPOSAL_CHOSEN notify error`,
   * and the payload lists `[ N(AUTH_FAILED) ]` (abbreviated names, see strongSwan's notify_payload.c).
   */
  async notifies(): Promise<{ received: string[]; inMessages: string[] }> {
    const text = await this.log();
    const received = [...text.matchAll(/received (\w+) notify(?: error)?/g)].map((m) => m[1] ?? '');
    const inMessages = [...text.matchAll(/N\((\w+)\)/g)].map((m) => m[1] ?? '');
    return { received, inMessages };
  }

  /** SIGTERM, then SIGKILL. */
  stop(graceMs = 3000): Promise<number | string> {
    return this.process.stop(graceMs);
  }
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export function tail(text: string, lines: number): string {
  return text.split('\n').slice(-lines - 1).join('\n');
}
