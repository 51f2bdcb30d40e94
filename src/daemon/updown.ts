/**
 * The child `updown` script (swanctl.conf `connections.<conn>.children.<child>.updown`), run as strongSwan's updown
 * plugin (src/libcharon/plugins/updown/updown_listener.c) runs it, so existing firewall scripts keep working:
 * - `up-*` when a CHILD SA is installed, `down-*` when it is removed; nothing on a CHILD SA rekey (charon raises
 *   child_rekey, not child_updown) and nothing on an IKE SA rekey (the CHILD SAs move over).
 * - once per local/remote traffic selector pair, with PATH and the PLUTO_* variables in the environment only,
 *   through `/bin/sh -c` (the value may carry arguments: `/usr/lib/ipsec/_updown iptables`).
 * - PLUTO_VERB is up|down, -host when the local TS is our IKE address alone else -client, -v6 for IPv6.
 * Where cygnet differs: scripts run asynchronously (never blocking the event loop) but one at a time, in event
 * order, with a timeout; PLUTO_INTERFACE is the TUN device (where decrypted traffic appears), else `unknown`;
 * PLUTO_UDP_ENC is always set since cygnet's ESP always rides UDP; PLUTO_XAUTH_ID (no EAP/XAuth), PLUTO_MARK_*, PLUTO_IF_ID_*, PLUTO_IPCOMP and PLUTO_HOST_ACCESS are never set
 * (those options are not implemented); PLUTO_PEER_SOURCEIP is not known to the driver.
 * A failing script is logged (exit code, first stderr line) and is never fatal.
 */
import { execFile } from 'node:child_process';
import type { ChildSaInfo, IkeEvent, IkeSaInfo } from '../ike/events.js';
import { compareAddr, prefixRange, TS_IPV6_ADDR_RANGE, type TrafficSelector } from '../ike/traffic-selector.js';
import { formatIp, parseIp } from '../net/ip-address.js';
import type { Logger } from './logger.js';

export interface UpdownOptions {
  readonly logger: Logger;
  /** The `updown` value of a child, or undefined for none (read at each event, so a reload applies). */
  readonly scriptOf: (conn: string, child: string) => string | undefined;
  /** The IKE SA of a CHILD SA being installed. */
  readonly ikeSa: (id: number) => IkeSaInfo | undefined;
  /** The reqid of an installed CHILD SA; undefined when its installation failed (then no script runs, as charon). */
  readonly reqidOf: (child: ChildSaInfo) => number | undefined;
  /** PLUTO_INTERFACE (default `unknown`, as charon when it finds no interface). */
  readonly interfaceName?: string;
  /** Milliseconds before a script is killed (SIGTERM); default 30 000. */
  readonly timeoutMs?: number;
}

/** What the down invocation needs from the time of the up one (the IKE SA may be gone by then). */
interface Installed {
  readonly script: string;
  readonly conn: string;
  readonly reqid: number;
  child: ChildSaInfo;
  sa: IkeSaInfo;
}

/** The smallest subnet covering `ts` (charon's to_subnet, which "approximates ... by next larger subnet"). */
export function tsSubnet(ts: TrafficSelector): string {
  const bits = ts.startAddr.length * 8;
  for (let p = bits; p >= 0; p--) {
    const r = prefixRange(ts.startAddr, p);
    if (compareAddr(r.start, ts.startAddr) <= 0 && compareAddr(r.end, ts.endAddr) >= 0) return `${formatIp(r.start)}/${p}`;
  }
  return `${formatIp(ts.startAddr)}/0`;
}

/** PLUTO_MY_PORT / PLUTO_PEER_PORT as updown_listener.c get_port: ICMP type/code, a single port, or from:to. */
function portOf(me: TrafficSelector, other: TrafficSelector, local: boolean): string {
  const proto = Math.max(me.ipProtocol, other.ipProtocol);
  if (proto === 1 || proto === 58) {
    // RFC 7296 3.13.1: ICMP type in the high byte of the port, code in the low byte.
    const port = Math.max(me.startPort, other.startPort);
    return String(local ? port >> 8 : port & 0xff);
  }
  const ts = local ? me : other;
  return ts.startPort === ts.endPort || (ts.startPort === 0 && ts.endPort === 65535) ? String(ts.startPort) : `${ts.startPort}:${ts.endPort}`;
}

/** The PLUTO_* environment of one invocation (without PATH). */
export function plutoEnv(o: {
  up: boolean;
  child: ChildSaInfo;
  sa: IkeSaInfo;
  reqid: number;
  my: TrafficSelector;
  peer: TrafficSelector;
  iface: string;
  vips?: readonly string[];
  dns?: readonly string[];
}): Record<string, string> {
  const { child, sa, my, peer } = o;
  const me = parseIp(sa.local.address);
  const isHost = me !== undefined && compareAddr(my.startAddr, me) === 0 && compareAddr(my.endAddr, me) === 0;
  const v6 = isHost ? me.length === 16 : my.tsType === TS_IPV6_ADDR_RANGE;
  const env: Record<string, string> = {
    PLUTO_VERSION: '1.1',
    PLUTO_VERB: `${o.up ? 'up' : 'down'}${isHost ? '-host' : '-client'}${v6 ? '-v6' : ''}`,
    PLUTO_CONNECTION: child.name,
    PLUTO_INTERFACE: o.iface,
    PLUTO_REQID: String(o.reqid),
    PLUTO_PROTO: child.protocol,
    PLUTO_UNIQUEID: String(sa.id),
    PLUTO_ME: sa.local.address,
    PLUTO_MY_ID: sa.localId,
    PLUTO_MY_CLIENT: tsSubnet(my),
    PLUTO_MY_PORT: portOf(my, peer, true),
    PLUTO_MY_PROTOCOL: String(my.ipProtocol),
    PLUTO_PEER: sa.remote.address,
    PLUTO_PEER_ID: sa.remoteId,
    PLUTO_PEER_CLIENT: tsSubnet(peer),
    PLUTO_PEER_PORT: portOf(my, peer, false),
    PLUTO_PEER_PROTOCOL: String(peer.ipProtocol),
  };
  // push_vip_env: the first virtual IP also as the legacy PLUTO_MY_SOURCEIP, then numbered per family.
  let v4n = 0;
  let v6n = 0;
  for (const a of o.vips ?? []) {
    if (env.PLUTO_MY_SOURCEIP === undefined) env.PLUTO_MY_SOURCEIP = a;
    if (a.includes(':')) env[`PLUTO_MY_SOURCEIP6_${++v6n}`] = a;
    else env[`PLUTO_MY_SOURCEIP4_${++v4n}`] = a;
  }
  // charon: COND_NAT_ANY (a NAT, or encap = yes faking one): ESP rides UDP to the peer's port (RFC 3948).
  if (child.encapsulated || sa.natDetected.local || sa.natDetected.remote) env.PLUTO_UDP_ENC = String(sa.remote.port);
  v4n = v6n = 0;
  for (const a of o.dns ?? []) {
    if (a.includes(':')) env[`PLUTO_DNS6_${++v6n}`] = a;
    else env[`PLUTO_DNS4_${++v4n}`] = a;
  }
  return env;
}

export class UpdownRunner {
  private readonly installed = new Map<number, Installed>();
  /** Virtual IPs and DNS servers received per IKE SA (vip-assigned). */
  private readonly vips = new Map<number, { addresses: readonly string[]; dns: readonly string[] }>();
  /** Scripts run one after the other, in event order (charon runs them synchronously). */
  private queue: Promise<void> = Promise.resolve();
  private pending = 0;

  constructor(private readonly opts: UpdownOptions) {}

  /** Feed every IkeEvent (after the core handled it). */
  onEvent(e: IkeEvent): void {
    switch (e.type) {
      case 'vip-assigned':
        this.vips.set(e.ikeSaId, { addresses: e.addresses, dns: e.dns });
        return;
      case 'ike-rekeyed':
        // The CHILD SAs live on under the new IKE SA (its unique id goes into their down invocation).
        for (const i of this.installed.values()) if (i.sa.id === e.old.id) i.sa = e.sa;
        {
          const v = this.vips.get(e.old.id);
          if (v) this.vips.set(e.sa.id, v);
          this.vips.delete(e.old.id);
        }
        return;
      case 'ike-down':
        if (e.reason !== 'rekeyed') this.vips.delete(e.sa.id);
        return;
      case 'child-install': {
        if (e.replaces) {
          // A rekey: no script, the new SA takes over the old one's up state.
          const old = this.installed.get(e.replaces.id);
          if (old) {
            this.installed.delete(e.replaces.id);
            this.installed.set(e.child.id, { ...old, child: e.child });
          }
          return;
        }
        const sa = this.opts.ikeSa(e.child.ikeSaId);
        if (!sa) return;
        const script = this.opts.scriptOf(sa.name, e.child.name);
        if (!script) return;
        const reqid = this.opts.reqidOf(e.child);
        if (reqid === undefined) return;
        const inst: Installed = { script, conn: sa.name, reqid, child: e.child, sa };
        this.installed.set(e.child.id, inst);
        this.invoke(inst, true);
        return;
      }
      case 'child-remove': {
        const inst = this.installed.get(e.child.id);
        if (!inst) return;
        this.installed.delete(e.child.id);
        this.invoke(inst, false);
        return;
      }
      default:
        return;
    }
  }

  /** Resolves when every script queued so far has finished. */
  idle(): Promise<void> {
    return this.queue;
  }

  /** Scripts queued or running. */
  get running(): number {
    return this.pending;
  }

  private invoke(inst: Installed, up: boolean): void {
    const vip = this.vips.get(inst.sa.id);
    for (const my of inst.child.localTs)
      for (const peer of inst.child.remoteTs) {
        const env = plutoEnv({ up, child: inst.child, sa: inst.sa, reqid: inst.reqid, my, peer, iface: this.opts.interfaceName ?? 'unknown', ...(vip ? { vips: vip.addresses, dns: vip.dns } : {}) });
        this.pending++;
        this.queue = this.queue.then(() => this.run(inst.script, env)).finally(() => void this.pending--);
      }
  }

  private run(script: string, pluto: Record<string, string>): Promise<void> {
    const log = this.opts.logger;
    const what = `updown script '${script}' (${pluto.PLUTO_VERB} ${pluto.PLUTO_CONNECTION}{${pluto.PLUTO_REQID}})`;
    log.log('chd', 2, `running ${what}`);
    const env = { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', ...pluto };
    return new Promise<void>((resolve) => {
      execFile('/bin/sh', ['-c', script], { env, timeout: this.opts.timeoutMs ?? 30_000, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
        // charon logs each output line as "updown: ..." (it merges stderr into stdout).
        for (const line of stdout.split('\n')) if (line) log.log('chd', 1, `updown: ${line}`);
        if (err) {
          const first = stderr.split('\n').find((l) => l.trim() !== '') ?? '';
          const e = err as NodeJS.ErrnoException & { code?: number | string; killed?: boolean; signal?: string | null };
          const how = e.killed && e.signal ? `killed by ${e.signal} after ${this.opts.timeoutMs ?? 30_000} ms` : typeof e.code === 'number' ? `exit code ${e.code}` : `${e.code ?? e.message}`;
          log.log('chd', 0, `${what} failed (${how})${first ? `: ${first}` : ''}`);
        } else for (const line of stderr.split('\n')) if (line) log.log('chd', 1, `updown: ${line}`);
        resolve();
      });
    });
  }
}
