/**
 * Network namespaces for interop scenarios. Every namespace is named `cyg-<pid>-<seq>-<role>` so that
 * (a) two runs never collide, and (b) a later run can recognise and remove what a crashed run left behind
 * (its pid no longer exists). Links are created directly inside their namespaces, so interface names never
 * touch the host's namespace and can be short and fixed (`eth0`, `dum0`).
 */
import { readFileSync } from 'node:fs';
import { run, type RunOptions, type RunResult } from './exec.js';

const PREFIX = `cyg-${process.pid}-`;
let seq = 0;
let blockSeq = 0;
const labs = new Set<NetnsLab>();

export class Netns {
  constructor(
    /** The full `ip netns` name. */
    readonly name: string,
    /** The role given at creation ("left", "right", "nat"). */
    readonly role: string,
  ) {}

  /** Run a command inside this namespace (network namespace only). */
  exec(cmd: string, args: readonly string[], opts?: RunOptions): Promise<RunResult> {
    return run('ip', ['netns', 'exec', this.name, cmd, ...args], opts);
  }

  /** `ip -n NAME args...` */
  ip(args: readonly string[], opts?: RunOptions): Promise<RunResult> {
    return run('ip', ['-n', this.name, ...args], opts);
  }

  async sysctl(key: string, value: string | number): Promise<void> {
    await this.exec('sysctl', ['-q', '-w', `${key}=${value}`]);
  }

  /** Add an address (CIDR; IPv6 addresses skip duplicate address detection so they are usable at once). */
  async addAddress(ifname: string, cidr: string): Promise<void> {
    const extra = cidr.includes(':') ? ['nodad'] : [];
    await this.ip(['addr', 'add', cidr, 'dev', ifname, ...extra]);
  }

  async up(ifname: string): Promise<void> {
    await this.ip(['link', 'set', ifname, 'up']);
  }

  /** A dummy interface holding addresses (the "inner" hosts that a tunnel's traffic selectors cover). */
  async addDummy(ifname: string, cidrs: readonly string[]): Promise<void> {
    await this.ip(['link', 'add', ifname, 'type', 'dummy']);
    for (const c of cidrs) await this.addAddress(ifname, c);
    await this.up(ifname);
  }

  /** `ip route add DST ...rest` (e.g. `route('default', ['via', '192.0.2.254'])`); IPv6 picked from DST/args. */
  async addRoute(dst: string, rest: readonly string[]): Promise<void> {
    const v6 = dst.includes(':') || rest.some((r) => r.includes(':'));
    await this.ip([...(v6 ? ['-6'] : []), 'route', 'add', dst, ...rest]);
  }

  /** Load an nftables ruleset (text, `nft -f -` syntax) into this namespace. */
  async nft(ruleset: string): Promise<void> {
    await this.exec('nft', ['-f', '-'], { input: ruleset });
  }

  /**
   * Drop incoming packets matching an nftables expression (e.g. `ip saddr 192.0.2.3 udp dport 4500`) until the
   * returned function is called. Each call gets its own table, so blocks nest.
   */
  async block(match: string): Promise<() => Promise<void>> {
    const table = `cygblock${++blockSeq}`;
    await this.nft(`table inet ${table} {\n  chain input {\n    type filter hook input priority filter; policy accept;\n    ${match} drop\n  }\n}\n`);
    return async () => {
      await this.exec('nft', ['delete', 'table', 'inet', table], { allowFail: true });
    };
  }

  /** Pids of processes whose network namespace is this one. */
  async pids(): Promise<number[]> {
    const r = await run('ip', ['netns', 'pids', this.name], { allowFail: true });
    return r.stdout
      .split(/\s+/)
      .filter(Boolean)
      .map(Number)
      .filter((n) => Number.isInteger(n) && n > 0);
  }

  /** Ping `dst` from this namespace; resolves with counts (never rejects on loss). */
  async ping(dst: string, opts: { count?: number; source?: string; intervalS?: number; waitS?: number } = {}): Promise<PingResult> {
    const count = opts.count ?? 3;
    const args = ['-n', '-c', String(count), '-i', String(opts.intervalS ?? 0.2), '-W', String(opts.waitS ?? 1)];
    if (opts.source) args.push('-I', opts.source);
    if (dst.includes(':')) args.unshift('-6');
    args.push(dst);
    const r = await this.exec('ping', args, { allowFail: true, timeoutMs: (count * (opts.waitS ?? 1) + 5) * 1000 });
    const m = /(\d+) packets transmitted, (\d+) (?:packets )?received/.exec(r.stdout);
    return { transmitted: m ? Number(m[1]) : 0, received: m ? Number(m[2]) : 0, output: r.stdout + r.stderr };
  }
}

export interface PingResult {
  transmitted: number;
  received: number;
  output: string;
}

export interface VethEnd {
  ns: Netns;
  ifname: string;
  /** CIDRs, IPv4 and/or IPv6. */
  addrs: readonly string[];
}

/** Owns a set of namespaces; cleanup() deletes them all (and kills any process still inside them). */
export class NetnsLab {
  readonly namespaces: Netns[] = [];
  private cleaning: Promise<void> | undefined;

  constructor() {
    labs.add(this);
  }

  /** Create a namespace with lo up, IPv6 DAD off and reverse-path filtering off (tunnels route asymmetrically). */
  async add(role: string): Promise<Netns> {
    // A scenario that outlived its timeout must not create namespaces nobody will delete.
    if (this.cleaning) throw new Error(`namespace lab already cleaned up (adding ${role})`);
    const ns = new Netns(`${PREFIX}${++seq}-${role}`, role);
    await run('ip', ['netns', 'add', ns.name]);
    this.namespaces.push(ns);
    await ns.up('lo');
    for (const [k, v] of [
      ['net.ipv4.conf.all.rp_filter', 0],
      ['net.ipv4.conf.default.rp_filter', 0],
      ['net.ipv6.conf.all.accept_dad', 0],
      ['net.ipv6.conf.default.accept_dad', 0],
    ] as const)
      await ns.sysctl(k, v);
    return ns;
  }

  /** A veth pair between two namespaces, addressed and up. */
  async veth(a: VethEnd, b: VethEnd): Promise<void> {
    await a.ns.ip(['link', 'add', a.ifname, 'type', 'veth', 'peer', 'name', b.ifname, 'netns', b.ns.name]);
    for (const end of [a, b]) {
      for (const c of end.addrs) await end.ns.addAddress(end.ifname, c);
      await end.ns.up(end.ifname);
    }
  }

  /**
   * Kill what still runs inside our namespaces (by pid), then delete them. Never throws. Concurrent callers
   * (the scenario teardown and the SIGINT path) share one run, so neither returns before the work is done.
   */
  cleanup(): Promise<void> {
    this.cleaning ??= (async () => {
      for (const ns of this.namespaces.splice(0).reverse()) await removeNamespace(ns.name);
      labs.delete(this);
    })();
    return this.cleaning;
  }
}

async function removeNamespace(name: string): Promise<void> {
  const ns = new Netns(name, '');
  for (const pid of await ns.pids()) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  await run('ip', ['netns', 'del', name], { allowFail: true }).catch(() => undefined);
}

/** Clean up every lab of this process (SIGINT path). */
export async function cleanupAllLabs(): Promise<void> {
  for (const lab of [...labs]) await lab.cleanup();
}

/** Alive and not a zombie (orphans may stay zombies for a while: this container's pid 1 reaps lazily). */
function pidAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 3 (state) follows the parenthesised command name, which may itself contain spaces or ')'.
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Remove `cyg-<pid>-*` namespaces left by harness runs whose process is gone. Returns the names removed. */
export async function removeStaleNamespaces(): Promise<string[]> {
  const r = await run('ip', ['netns', 'list'], { allowFail: true });
  const removed: string[] = [];
  for (const line of r.stdout.split('\n')) {
    const name = line.split(/\s+/)[0] ?? '';
    const m = /^cyg-(\d+)-\d+-/.exec(name);
    if (!m || Number(m[1]) === process.pid || pidAlive(Number(m[1]))) continue;
    await removeNamespace(name);
    removed.push(name);
  }
  return removed;
}
