/**
 * The host's addresses and links as they change (issue 15): the kernel's rtnetlink notifications RTM_NEWADDR /
 * RTM_DELADDR and RTM_NEWLINK / RTM_DELLINK (rtnetlink(7), groups RTMGRP_IPV4_IFADDR, RTMGRP_IPV6_IFADDR,
 * RTMGRP_LINK), what charon's kernel-netlink plugin listens to.
 *
 * How: `ip -o monitor address link` (iproute2) as a child process, one line per notification. Why not a
 * NETLINK_ROUTE socket through koffi: Node can only wait on sockets libuv knows; a raw netlink fd would need a
 * thread blocked in poll/recv (as src/tun/readiness.ts does for the TUN, in a worker with its own koffi), plus a
 * parser of nlmsghdr/ifaddrmsg/rtattr, all for a few events a day. iproute2 is already required (routes.ts uses
 * `ip`), its output for these messages is stable, and a crashed monitor is restarted. Where `ip` is missing the
 * daemon keeps polling the interface list (late-bind.ts).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';

/**
 * The monitor runs under a small shell that kills it when our end of its stdin closes: when the daemon exits,
 * even by SIGKILL, `ip monitor` would otherwise live on (it only notices a closed stdout at its next event, and
 * Node has no PR_SET_PDEATHSIG). The shell exits with the monitor's status when the monitor ends by itself.
 */
// (An asynchronous list's stdin is /dev/null in a non-interactive shell: the watcher reads ours through fd 3.)
const GUARD = 'exec 3<&0; "$@" </dev/null & m=$!; (cat <&3 >/dev/null; kill $m 2>/dev/null) & exec 3<&-; wait $m';

export type NetlinkEvent =
  | {
      /** RTM_NEWADDR: an address appeared (or changed flags: a tentative IPv6 address passed DAD). */
      readonly type: 'address-added';
      readonly index: number;
      readonly ifname: string;
      readonly address: string;
      readonly prefixLength: number;
      readonly family: 4 | 6;
      /** IPv6 duplicate address detection still running: not usable as a source yet (RFC 4862 5.4). */
      readonly tentative: boolean;
      readonly scope: string;
    }
  | { readonly type: 'address-removed'; readonly index: number; readonly ifname: string; readonly address: string; readonly prefixLength: number; readonly family: 4 | 6; readonly scope: string }
  /** RTM_NEWLINK with the link's state: up means administratively UP and LOWER_UP (carrier). */
  | { readonly type: 'link'; readonly index: number; readonly ifname: string; readonly up: boolean; readonly flags: readonly string[] }
  /** RTM_DELLINK. */
  | { readonly type: 'link-removed'; readonly index: number; readonly ifname: string };

const ADDR = /^(Deleted )?(\d+):\s+(\S+)\s+(inet6?)\s+([0-9a-fA-F:.]+)(?:\/(\d+))?(.*)$/;
const LINK = /^(Deleted )?(\d+):\s+([^:@\s]+)(?:@\S+)?:\s+<([^>]*)>/;

/** One line of `ip -o monitor address link` as an event; undefined for lines it does not describe. */
export function parseIpMonitorLine(line: string): NetlinkEvent | undefined {
  const text = line.replace(/^\[(ADDR|LINK)\]\s*/, '').trim();
  const a = ADDR.exec(text);
  if (a) {
    const [, deleted, index, ifname, fam, address, prefix, rest] = a;
    if (index === undefined || ifname === undefined || address === undefined) return undefined;
    const family = fam === 'inet6' ? 6 : 4;
    const scope = /\bscope (\S+)/.exec(rest ?? '')?.[1] ?? 'global';
    const prefixLength = prefix !== undefined ? Number(prefix) : family === 4 ? 32 : 128;
    const base = { index: Number(index), ifname, address, prefixLength, family, scope } as const;
    if (deleted) return { type: 'address-removed', ...base };
    return { type: 'address-added', ...base, tentative: /\btentative\b/.test(rest ?? '') };
  }
  const l = LINK.exec(text);
  if (l) {
    const [, deleted, index, ifname, flagText] = l;
    if (index === undefined || ifname === undefined) return undefined;
    if (deleted) return { type: 'link-removed', index: Number(index), ifname };
    const flags = (flagText ?? '').split(',').filter((f) => f !== '');
    return { type: 'link', index: Number(index), ifname, up: flags.includes('UP') && flags.includes('LOWER_UP'), flags };
  }
  return undefined;
}

export interface NetlinkMonitorOptions {
  /** The command to run; default `ip -o monitor address link`. */
  readonly command?: readonly string[];
  readonly log?: (level: number, message: string) => void;
  /** Restart delay after the monitor exited unexpectedly, ms (default 1000). */
  readonly restartMs?: number;
}

/**
 * A running `ip monitor`: events to the listeners, in order. Link events are reported on changes of `up` only
 * (the kernel repeats RTM_NEWLINK for every flag change).
 */
export class NetlinkMonitor {
  private child: ChildProcess | undefined;
  private stopped = false;
  private buffer = '';
  private readonly listeners: ((e: NetlinkEvent) => void)[] = [];
  private readonly linkUp = new Map<number, boolean>();
  private restartTimer: NodeJS.Timeout | undefined;
  /** Why the monitor is not running, when it failed to start. */
  failure: string | undefined;

  constructor(private readonly opts: NetlinkMonitorOptions = {}) {}

  onEvent(listener: (e: NetlinkEvent) => void): void {
    this.listeners.push(listener);
  }

  /** Starts the monitor; resolves true once it runs, false (with `failure`) when it cannot (no `ip`). */
  start(): Promise<boolean> {
    this.stopped = false;
    const command = this.opts.command ?? ['ip', '-o', 'monitor', 'address', 'link'];
    const cmd = command[0] ?? 'ip';
    // The guard shell starts anything; whether the monitor itself can run is asked first.
    const probe = spawnSync('sh', ['-c', 'command -v "$0" >/dev/null', cmd]);
    if (probe.error || probe.status !== 0) {
      this.failure = `cannot run ${cmd}: ${probe.error ? probe.error.message : 'not found (ENOENT)'}`;
      return Promise.resolve(false);
    }
    return new Promise((resolve) => {
      let settled = false;
      const child = spawn('sh', ['-c', GUARD, 'netlink-monitor', ...command], { stdio: ['pipe', 'pipe', 'pipe'] });
      this.child = child;
      child.stdout?.setEncoding('utf8');
      child.stdout?.on('data', (chunk: string) => this.feed(chunk));
      child.stderr?.setEncoding('utf8');
      child.stderr?.on('data', (chunk: string) => this.opts.log?.(1, `address monitor: ${chunk.trim()}`));
      child.once('spawn', () => {
        settled = true;
        this.failure = undefined;
        resolve(true);
      });
      child.once('error', (e) => {
        this.failure = `cannot run ${cmd}: ${e.message}`;
        if (!settled) {
          settled = true;
          resolve(false);
        }
      });
      child.once('exit', (code, signal) => {
        this.child = undefined;
        // Ends the guard's `cat` (its subshell outlives a monitor that exited by itself).
        child.stdin?.destroy();
        if (this.stopped || !settled) return;
        this.opts.log?.(1, `address monitor exited (${signal ?? `code ${code}`}), restarting`);
        this.restartTimer = setTimeout(() => void this.start(), this.opts.restartMs ?? 1000);
        this.restartTimer.unref();
      });
    });
  }

  stop(): void {
    this.stopped = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    // Closing its stdin makes the guard kill the monitor; the signal is for the guard shell itself.
    this.child?.stdin?.end();
    this.child?.kill();
    this.child = undefined;
  }

  /** Output of the monitor (exposed for tests): complete lines become events. */
  feed(chunk: string): void {
    this.buffer += chunk;
    for (let nl = this.buffer.indexOf('\n'); nl >= 0; nl = this.buffer.indexOf('\n')) {
      const line = this.buffer.slice(0, nl);
      this.buffer = this.buffer.slice(nl + 1);
      const e = parseIpMonitorLine(line);
      if (!e) continue;
      if (e.type === 'link') {
        if (this.linkUp.get(e.index) === e.up) continue;
        this.linkUp.set(e.index, e.up);
      } else if (e.type === 'link-removed') this.linkUp.delete(e.index);
      for (const l of this.listeners) {
        try {
          l(e);
        } catch (err) {
          this.opts.log?.(0, `address monitor listener failed: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
    }
  }
}
