/**
 * The three tunnel pairs bench/tunnel.ts compares, each brought up between the two namespaces of
 * test/interop/lib/topology.ts `twoHosts` (left 192.0.2.1 / inner 10.1.0.1, right 192.0.2.2 / inner 10.2.0.1):
 *
 *   cygnet      two `cygnet daemon --tun` (PSK, IKE aes128gcm16-prfsha256-x25519, ESP aes128gcm16 in UDP 4500);
 *               each daemon routes the peer's inner /32 into its TUN itself.
 *   wireguard   two wireguard-go (userspace WireGuard, ChaCha20-Poly1305), configured with `wg set`; we add the
 *               /32 route via the wg device with src = our inner address.
 *   strongswan  two charon with kernel-libipsec (userspace ESP over its `ipsec0` TUN, UDP-encapsulated),
 *               aes128gcm16 as the cygnet pair; charon routes the peer's /32 in table 220.
 *
 * Every pair resolves once a ping between the inner addresses has passed, and names the tunnel device on each
 * side (its packet counters give packets per second). `stop()` ends the processes; the caller deletes the lab.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CygnetPeer, type CygnetPeerOptions } from '../../test/interop/lib/cygnet.js';
import { run, waitFor } from '../../test/interop/lib/exec.js';
import type { Netns } from '../../test/interop/lib/netns.js';
import { spawnInNetns, type ProcessHandle } from '../../test/interop/lib/process.js';
import { StrongswanPeer } from '../../test/interop/lib/strongswan.js';
import { mirror, pskSwanctlConf, type PskConnection } from '../../test/interop/lib/swanctl-conf.js';
import type { Host, TwoHosts } from '../../test/interop/lib/topology.js';

/** `cygnet-no-offload`: cygnet with `--no-offload`, to compare the TUN offloads in one run. */
export type Impl = 'cygnet' | 'wireguard-go' | 'strongswan' | 'cygnet-no-offload' | 'cygnet-tcp';

export interface TunnelPair {
  impl: Impl;
  /** What protects the packets, for the table. */
  suite: string;
  /** The tunnel device on the left and right side. */
  dev: { left: string; right: string };
  /** The daemons' pids (left, right), e.g. for profiling signals. */
  pids: { left: number; right: number };
  /** Log files worth printing when something fails. */
  logs: string[];
  stop(): Promise<void>;
}

export interface PairOptions {
  /** Scratch directory for configs and logs. */
  dir: string;
  /** Extra environment for the daemons (cygnet: NODE_OPTIONS=--import the profiling hook). */
  env?: NodeJS.ProcessEnv;
  /** cygnet only: extra `cygnet daemon` arguments for both sides (e.g. --no-offload). */
  extraArgs?: readonly string[];
  /** cygnet only: `encap = tcp` on the initiator, both sides on TCP port 4500 (RFC 9329, the `cygnet-tcp` pair). */
  tcp?: boolean;
  log?: (msg: string) => void;
}

/** The connection as the left side sees it; the right side gets `mirror()` of it. */
export function benchConnection(h: TwoHosts, name: string): PskConnection {
  return {
    name,
    localAddrs: h.left.outer4,
    remoteAddrs: h.right.outer4,
    localId: 'left@bench.cygnet.test',
    remoteId: 'right@bench.cygnet.test',
    proposals: 'aes128gcm16-prfsha256-x25519',
    secret: 'bench-tunnel-psk',
    child: { name: 'net', localTs: `${h.left.inner4}/32`, remoteTs: `${h.right.inner4}/32`, espProposals: 'aes128gcm16' },
  };
}

/** Ping left inner -> right inner until one reply comes back (the tunnel carries traffic both ways). */
export async function waitTunnel(h: TwoHosts, timeoutMs = 20_000): Promise<void> {
  await waitFor(
    `a ping ${h.left.inner4} -> ${h.right.inner4} through the tunnel`,
    async () => ((await h.left.ns.ping(h.right.inner4, { count: 1, source: h.left.inner4, waitS: 1 })).received === 1 ? true : undefined),
    timeoutMs,
    200,
  );
}

// ------------------------------------------------------------------------------------------------ cygnet

export async function startCygnetPair(h: TwoHosts, o: PairOptions): Promise<TunnelPair> {
  const base = benchConnection(h, 'bench');
  const conn: PskConnection = o.tcp ? { ...base, extra: { encap: 'tcp' } } : base;
  const extra = [...(o.extraArgs ?? []), ...(o.tcp ? ['--tcp-port', '4500'] : [])];
  const start = (po: CygnetPeerOptions & { label: string }) => CygnetPeer.start({ ...po, args: [...(po.args ?? []), ...extra] });
  const theirs = mirror(conn);
  const env = { ...process.env, ...o.env };
  const started: CygnetPeer[] = [];
  const stop = async (): Promise<void> => {
    // SIGTERM: Deletes, routes removed, exit 0 (and with --cpu-prof the profile is written at exit).
    for (const p of started.splice(0).reverse()) await p.stop(8000);
  };
  try {
    const right = await start({
      ns: h.right.ns,
      label: 'cygnet-right',
      dir: join(o.dir, 'right'),
      config: pskSwanctlConf({ ...theirs, extra: {} }),
      args: ['--tun', 'cyg1'],
      env,
      ready: /daemon running/,
    });
    started.push(right);
    const left = await start({
      ns: h.left.ns,
      label: 'cygnet-left',
      dir: join(o.dir, 'left'),
      config: pskSwanctlConf({ ...conn, child: { ...conn.child, startAction: 'start' } }),
      args: ['--tun', 'cyg0'],
      env,
      ready: /daemon running/,
    });
    started.push(left);
    await left.waitForLog(/installed route 10\.2\.0\.1\/32 dev cyg0/, 15_000);
    await right.waitForLog(/installed route 10\.1\.0\.1\/32 dev cyg1/, 5_000);
    await waitTunnel(h);
    return {
      impl: o.tcp ? 'cygnet-tcp' : extra.includes('--no-offload') ? 'cygnet-no-offload' : 'cygnet',
      suite: o.tcp ? 'ESP AES_GCM_16-128 in TCP (RFC 9329)' : extra.includes('--no-offload') ? 'ESP AES_GCM_16-128 in UDP, TUN without offloads' : 'ESP AES_GCM_16-128 in UDP (RFC 3948)',
      dev: { left: 'cyg0', right: 'cyg1' },
      pids: { left: left.process.pid, right: right.process.pid },
      logs: [left.logFile, right.logFile],
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}

// ------------------------------------------------------------------------------------------------ wireguard-go

/** Interface names are global to the UAPI socket directory (/var/run/wireguard/NAME.sock): make them ours. */
function wgName(side: 'l' | 'r'): string {
  return `wgb${process.pid % 100000}${side}`;
}

async function wgKeys(): Promise<{ priv: string; pub: string }> {
  const priv = (await run('wg', ['genkey'])).stdout.trim();
  const pub = (await run('wg', ['pubkey'], { input: `${priv}\n` })).stdout.trim();
  return { priv, pub };
}

export async function startWireguardPair(h: TwoHosts, o: PairOptions): Promise<TunnelPair> {
  const port = 51820;
  const procs: ProcessHandle[] = [];
  const stop = async (): Promise<void> => {
    for (const p of procs.splice(0).reverse()) await p.stop(2000);
  };
  try {
    const sides: Array<{ host: Host; peer: Host; ifname: string; keys: { priv: string; pub: string }; proc?: ProcessHandle }> = [
      { host: h.left, peer: h.right, ifname: wgName('l'), keys: await wgKeys() },
      { host: h.right, peer: h.left, ifname: wgName('r'), keys: await wgKeys() },
    ];
    // One at a time, each retried once: two wireguard-go starting together have been seen to fail creating their
    // UAPI socket in the shared /var/run/wireguard ("Failed to listen on uapi socket: no such file or directory").
    await mkdir('/var/run/wireguard', { recursive: true, mode: 0o700 });
    for (const s of sides) {
      for (let attempt = 1; ; attempt++) {
        // Foreground, so the handle is the daemon itself and stop() ends it.
        const proc = spawnInNetns(s.host.ns, 'wireguard-go', ['-f', s.ifname], {
          logFile: join(o.dir, `wireguard-go-${s.host.ns.role}.log`),
          env: { ...process.env, ...o.env, WG_PROCESS_FOREGROUND: '1', LOG_LEVEL: 'error' },
        });
        procs.push(proc);
        s.proc = proc;
        const ns = s.host.ns;
        try {
          await waitFor(
            `wireguard-go ${s.ifname} UAPI socket`,
            async () => {
              if (!proc.isRunning()) throw new Error(`wireguard-go exited: ${(await proc.output()).trim()}`);
              return (await ns.exec('wg', ['show', s.ifname], { allowFail: true })).code === 0 ? true : undefined;
            },
            10_000,
            100,
          );
          break;
        } catch (e) {
          await proc.stop(1000);
          await ns.ip(['link', 'del', s.ifname], { allowFail: true });
          if (attempt >= 2) throw e;
          o.log?.(`wireguard-go ${s.ifname} did not come up (${(e as Error).message}), retrying`);
        }
      }
    }
    for (const [i, s] of sides.entries()) {
      const other = sides[1 - i]!;
      const ns = s.host.ns;
      const keyFile = join(o.dir, `${s.ifname}.key`);
      await writeFile(keyFile, `${s.keys.priv}\n`, { mode: 0o600 });
      await ns.exec('wg', ['set', s.ifname, 'listen-port', String(port), 'private-key', keyFile, 'peer', other.keys.pub, 'endpoint', `${s.peer.outer4}:${port}`, 'allowed-ips', `${s.peer.inner4}/32`]);
      await ns.up(s.ifname);
      await ns.addRoute(`${s.peer.inner4}/32`, ['dev', s.ifname, 'src', s.host.inner4]);
    }
    await waitTunnel(h);
    return {
      impl: 'wireguard-go',
      suite: 'WireGuard ChaCha20-Poly1305 in UDP',
      dev: { left: sides[0]!.ifname, right: sides[1]!.ifname },
      pids: { left: sides[0]!.proc!.pid, right: sides[1]!.proc!.pid },
      logs: procs.map((p) => p.logFile),
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}

// ------------------------------------------------------------------------------------------------ strongSwan

export async function startStrongswanPair(h: TwoHosts, o: PairOptions): Promise<TunnelPair> {
  const conn = benchConnection(h, 'bench');
  const started: StrongswanPeer[] = [];
  const stop = async (): Promise<void> => {
    for (const p of started.splice(0).reverse()) await p.stop(3000);
  };
  try {
    // Debug logs at 1 would write a line per rekey only; 0 keeps charon quiet under load.
    const levels = { default: 0, ike: 1, cfg: 0, knl: 0, net: 0, enc: 0 };
    const [l, r] = await Promise.all([
      StrongswanPeer.start({ ns: h.left.ns, label: 'swan-left', dir: join(o.dir, 'left'), swanctlConf: pskSwanctlConf(conn), logLevels: levels }),
      StrongswanPeer.start({ ns: h.right.ns, label: 'swan-right', dir: join(o.dir, 'right'), swanctlConf: pskSwanctlConf(mirror(conn)), logLevels: levels }),
    ]);
    started.push(l, r);
    await Promise.all([l.loadAll(), r.loadAll()]);
    await l.initiate('net');
    await Promise.all([l.waitEstablished('bench', 'net'), r.waitEstablished('bench', 'net')]);
    await waitTunnel(h);
    return {
      impl: 'strongswan',
      suite: 'ESP AES_GCM_16-128 in UDP, kernel-libipsec',
      dev: { left: 'ipsec0', right: 'ipsec0' },
      pids: { left: l.process.pid, right: r.process.pid },
      logs: [l.logFile, r.logFile],
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** Packets sent and received on `dev` inside `ns` so far (sysfs counters, as `ip -s link` shows them). */
export async function devPackets(ns: Netns, dev: string): Promise<{ tx: number; rx: number }> {
  const r = await ns.exec('cat', [`/sys/class/net/${dev}/statistics/tx_packets`, `/sys/class/net/${dev}/statistics/rx_packets`], { allowFail: true });
  const [tx, rx] = r.stdout.trim().split(/\s+/).map(Number);
  return { tx: Number.isFinite(tx) ? tx! : 0, rx: Number.isFinite(rx) ? rx! : 0 };
}
