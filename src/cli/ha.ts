/**
 * HA options of `cygnet daemon` and the `cygnet ha` command (issue 20; docs/HA.md).
 *   cygnet ha status [--status-file FILE] [--json]   this node's view: role, lease, replication lag, last sync
 */
import { readFileSync } from 'node:fs';
import { DEFAULT_HA, HaDriver, type HaSettings, type HaStatus } from '../daemon/ha-driver.js';
import { HaStore } from '../daemon/ha-store.js';
import type { Daemon } from '../daemon/driver.js';
import { registerHaMetrics } from '../daemon/ha-metrics.js';
import type { Logger } from '../daemon/logger.js';
import type { Registry } from 'prom-client';
import { parseSecretsKey } from '../ha/seal.js';
import { parseArgs, UsageError } from './args.js';

export const HA_SPEC = {
  'ha-store': {},
  'ha-node': {},
  'ha-key-file': {},
  'ha-cluster': {},
  'ha-floating': {},
  'ha-lease-ms': {},
  'ha-seq-every': {},
  'ha-seq-gap': {},
  'ha-status': {},
  'ha-force': { flag: true },
} as const;

export const DEFAULT_HA_STATUS = '/run/cygnet-ha.json';

export const HA_USAGE = `  --ha-store URL           high availability (docs/HA.md): replicate SAs to Redis at URL (redis://host:port) and
                           take over from the active node when its lease expires; needs --ha-node, --ha-key-file
  --ha-node NAME           this node's name in the lease (unique per node)
  --ha-key-file FILE       32-byte key (64 hex digits or base64) sealing SA keys in the store; same on both nodes
  --ha-cluster NAME        key prefix in the store (default: default)
  --ha-floating CIDR@DEV[,CIDR@DEV]  the floating address(es) this node adds when it becomes active (e.g.
                           192.0.2.1/24@eth0, and an inner gateway address such as 10.1.0.1/24@eth1)
  --ha-lease-ms N          lease time (default 3000): a dead active is replaced after about this long
  --ha-seq-every N         ESP sequence high-water mark every N packets (default 4096)
  --ha-seq-gap N           outbound sequence numbers skipped on takeover (default 1048576, > 2 x seq-every)
  --ha-status FILE         this node's HA view for \`cygnet ha status\` (default ${DEFAULT_HA_STATUS})
  --ha-force               take over even when the store was down after the active was last seen alive (its
                           replicated state may be stale: only when the old active surely forwarded nothing since)`;

function intOpt(opts: Map<string, string>, name: string, dflt: number): number {
  const v = opts.get(name);
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`--${name}: '${v}' is not a positive integer`);
  return n;
}

/** The HA settings from the daemon's options, or undefined without --ha-store. UsageError names what is wrong. */
export function haSettingsFrom(opts: Map<string, string>): HaSettings | undefined {
  const store = opts.get('ha-store');
  if (store === undefined) {
    const stray = Object.keys(HA_SPEC).find((k) => opts.has(k));
    if (stray) throw new UsageError(`--${stray} needs --ha-store`);
    return undefined;
  }
  if (!/^rediss?:\/\//.test(store)) throw new UsageError(`--ha-store: '${store}' is not a redis:// URL`);
  const node = opts.get('ha-node');
  if (!node) throw new UsageError('--ha-store needs --ha-node NAME');
  const keyFile = opts.get('ha-key-file');
  if (!keyFile) throw new UsageError('--ha-store needs --ha-key-file FILE (the key sealing SA keys in the store)');
  let key: Uint8Array;
  try {
    key = parseSecretsKey(readFileSync(keyFile, 'utf8'));
  } catch (e) {
    throw new UsageError(`--ha-key-file ${keyFile}: ${(e as Error).message}`);
  }
  const floating: { cidr: string; dev: string }[] = [];
  for (const f of (opts.get('ha-floating') ?? '').split(',').map((x) => x.trim()).filter((x) => x !== '')) {
    const m = /^([0-9a-fA-F.:]+\/\d{1,3})@([\w.-]+)$/.exec(f);
    if (!m?.[1] || !m[2]) throw new UsageError(`--ha-floating: '${f}' is not CIDR@DEV (e.g. 192.0.2.1/24@eth0)`);
    floating.push({ cidr: m[1], dev: m[2] });
  }
  const leaseMs = intOpt(opts, 'ha-lease-ms', DEFAULT_HA.leaseMs);
  return {
    node,
    store,
    cluster: opts.get('ha-cluster') ?? DEFAULT_HA.cluster,
    key,
    leaseMs,
    tickMs: Math.max(20, Math.min(DEFAULT_HA.tickMs, Math.floor(leaseMs / 6))),
    seq: { every: intOpt(opts, 'ha-seq-every', DEFAULT_HA.seq.every), gap: intOpt(opts, 'ha-seq-gap', DEFAULT_HA.seq.gap) },
    ...(floating.length ? { floating } : {}),
    statusFile: opts.get('ha-status') ?? DEFAULT_HA_STATUS,
    ...(opts.has('ha-force') ? { force: true } : {}),
  };
}

export function startHa(daemon: Daemon, s: HaSettings, logger: Logger, registry?: Registry): HaDriver {
  const ha = new HaDriver(daemon, s, (level, msg) => logger.log('dmn', level, msg), () => {
    // Deposed: the successor owns the SAs. Stop without Deletes (they would tear the peers' SAs down): sockets,
    // TUN and the address watcher's `ip monitor` close (a bare exit left that child holding our stdout), then exit.
    logger.log('dmn', 0, 'ha: exiting (deposed)');
    void daemon.stop(0, { keepSas: true }).finally(() => process.exit(75));
  });
  ha.start();
  if (registry) registerHaMetrics(registry, () => ha.status());
  return ha;
}

export function formatHaStatus(s: HaStatus, now = Date.now()): string {
  const r = s.replication;
  const lines = [
    `node ${s.node}: ${s.role}`,
    `  store:       ${s.store.url} ${s.store.reachable ? 'reachable' : `UNREACHABLE${s.store.lastError ? ` (${s.store.lastError})` : ''}`}`,
    `  lease:       ${s.lease}${s.token !== undefined ? ` (token ${s.token})` : ''}`,
    `  replication: ${r.pending} pending, ${r.inFlight} in flight, lag ${r.lagMs} ms, last sync ${r.lastSyncAgoMs !== undefined ? `${r.lastSyncAgoMs} ms ago` : 'never'}, ${r.written} written, ${r.failures} failed batches`,
  ];
  if (s.takeover) lines.push(`  takeover:    ${s.takeover}`);
  if (s.lastTakeover) lines.push(`  took over:   ${s.lastTakeover.ikeSas} IKE SAs, ${s.lastTakeover.childSas} CHILD SAs in ${s.lastTakeover.tookMs} ms${s.lastTakeover.failed ? `, ${s.lastTakeover.failed} not restored` : ''}`);
  const age = now - s.writtenAt;
  if (age > 5000) lines.push(`  (this view is ${Math.round(age / 1000)} s old: is the daemon running?)`);
  return lines.join('\n');
}

export async function runHa(argv: readonly string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const usage = `usage: cygnet ha status [--status-file FILE] [--json]   this node's view (the daemon's --ha-status file)
       cygnet ha status --store redis://HOST:PORT [--cluster NAME] [--json]   the store's view: lease, records`;
  // `cygnet ha --help` and `cygnet help ha` print the usage and succeed, as every other command does.
  if (sub === '--help' || sub === '-h' || (sub === 'status' && (rest.includes('--help') || rest.includes('-h')))) {
    console.log(usage);
    return 0;
  }
  if (sub !== 'status') {
    console.error(usage);
    return 2;
  }
  let opts: Map<string, string>;
  try {
    opts = parseArgs(rest, { 'status-file': {}, json: { flag: true }, store: {}, cluster: {} });
  } catch (e) {
    console.error(`cygnet ha: ${(e as Error).message}`);
    return 2;
  }
  const store = opts.get('store');
  if (store !== undefined) return storeStatus(store, opts.get('cluster') ?? DEFAULT_HA.cluster, opts.has('json'));
  const file = opts.get('status-file') ?? DEFAULT_HA_STATUS;
  let s: HaStatus;
  try {
    s = JSON.parse(readFileSync(file, 'utf8')) as HaStatus;
  } catch (e) {
    console.error(`cygnet ha status: cannot read ${file}: ${(e as Error).message} (is the daemon running with --ha-store?)`);
    return 1;
  }
  console.log(opts.has('json') ? JSON.stringify(s, null, 1) : formatHaStatus(s));
  return 0;
}

/** The store's side: who holds the lease and what is replicated (no secrets: they stay sealed). */
async function storeStatus(url: string, cluster: string, json: boolean): Promise<number> {
  const st = new HaStore(url, cluster);
  try {
    for (let i = 0; i < 30 && !st.ready; i++) await new Promise((r) => setTimeout(r, 100));
    if (!st.ready) throw new Error('no connection within 3 s');
    const [lease, records] = await Promise.all([st.lease(), st.records()]);
    const keys = [...records.keys()];
    const ike = keys.filter((k) => k.startsWith('ike/'));
    const seq = keys.filter((k) => k.startsWith('seq/'));
    const children = ike.reduce((n, k) => n + ((JSON.parse(records.get(k) ?? '{}') as { children?: unknown[] }).children?.length ?? 0), 0);
    if (json) console.log(JSON.stringify({ store: url, cluster, lease: lease ?? null, ikeSas: ike.length, childSas: children, seqMarks: seq.length }, null, 1));
    else {
      const l = lease === undefined ? 'none (no node has been active)' : lease.released ? `released by ${lease.node} (token ${lease.token})` : `${lease.node}, token ${lease.token}, ${lease.remainingMs > 0 ? `${lease.remainingMs} ms left` : `expired ${-lease.remainingMs} ms ago`}`;
      console.log(`store ${url} (cluster ${cluster})\n  lease:   ${l}\n  records: ${ike.length} IKE SAs with ${children} CHILD SAs, ${seq.length} ESP sequence marks`);
    }
    return 0;
  } catch (e) {
    console.error(`cygnet ha status: store ${url}: ${(e as Error).message}`);
    return 1;
  } finally {
    await st.close();
  }
}
