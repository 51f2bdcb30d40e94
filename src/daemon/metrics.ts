/**
 * Prometheus metrics for the daemon (`--metrics 127.0.0.1:9786`, off by default).
 *
 * prom-client renders the text exposition format and gives the standard process/Node.js metrics (event-loop lag,
 * heap, CPU, open fds) under their usual names, so stock dashboards work. Each daemon gets its own Registry: no
 * global state (the library's default registry is never used).
 *
 * Values are read from the daemon when scraped (gauges, data-plane counters) or counted from its IkeEvents
 * (setups, failures, rekeys). Labels are bounded: connection and child names come from the configuration and
 * reasons from fixed sets, never SPIs, addresses or identities, so a flood of peers cannot grow the series count.
 * Byte/packet counters per CHILD SA are summed per (connection, child, direction): a rekeyed or deleted SA's
 * final figures are kept, so the counters never go backwards across rekeys (Prometheus counter semantics).
 */
import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { ChildSaInfo, IkeEvent, IkeSaInfo } from '../ike/events.js';

/** What the metrics need from the daemon (the Daemon class satisfies it; tests may fake it). */
export interface MetricsSource {
  listSas(): readonly { readonly sa: IkeSaInfo; readonly children: readonly ChildSaInfo[] }[];
  /** ESP counters of a live CHILD SA, when its SAs are still in the engine. */
  childCounters(c: ChildSaInfo): { bytesIn?: number; packetsIn?: number; bytesOut?: number; packetsOut?: number };
  /** The daemon's datagram counters (ikeIn, ikeOut, espIn, espOut, keepalives, invalid, ...). */
  counters(): Readonly<Record<string, number>>;
  /** ESP drops by reason name (no-sa, replay, icv, ...), totals since start. */
  drops(): Readonly<Record<string, number>>;
  onEvent(listener: (e: IkeEvent) => void): void;
  /** IKE messages as sent and received (without non-ESP marker), when the source can tell. */
  onIkeMessage?(listener: (dir: 'in' | 'out' | 'invalid', data: Uint8Array) => void): void;
}

/** RFC 7296 3.1 exchange types counted by name; others as "other" (bounded labels). */
const EXCHANGE_NAMES: Readonly<Record<number, string>> = { 34: 'IKE_SA_INIT', 35: 'IKE_AUTH', 36: 'CREATE_CHILD_SA', 37: 'INFORMATIONAL', 38: 'IKE_SESSION_RESUME', 43: 'IKE_INTERMEDIATE', 44: 'IKE_FOLLOWUP_KE' };

/** The `exchange` label of an IKE message (IANA IKEv2 Exchange Types: 38 RFC 5723, 43 RFC 9242, 44 RFC 9370). */
export function exchangeLabel(type: number): string {
  return EXCHANGE_NAMES[type] ?? 'other';
}

interface ChildTotals {
  bytesIn: number;
  packetsIn: number;
  bytesOut: number;
  packetsOut: number;
}

/** Reasons an IKE SA went down that count as failures (deleted, rekeyed, deleted-by-peer are normal ends). */
const FAILURE_REASONS = new Set(['timeout', 'auth-failed', 'no-proposal', 'invalid-syntax', 'half-open-timeout', 'error']);
/** The datagram counters exported, with their label values. */
const DATAGRAM_COUNTERS: ReadonlyArray<readonly [key: string, kind: string, direction: string]> = [
  ['ikeIn', 'ike', 'in'],
  ['ikeOut', 'ike', 'out'],
  ['espIn', 'esp', 'in'],
  ['espOut', 'esp', 'out'],
  ['keepalives', 'keepalive', 'in'],
  ['invalid', 'invalid', 'in'],
];

export class DaemonMetrics {
  readonly registry = new Registry();
  /** Final counters of CHILD SAs that are gone, per connection/child. */
  private readonly retired = new Map<string, ChildTotals>();
  /** Last counters seen per live CHILD SA id (a removed SA's outbound side may already be gone from the engine). */
  private readonly lastSeen = new Map<number, { key: string; totals: ChildTotals }>();
  /** IKE SA id -> connection name, for child events that carry only the IKE SA id. */
  private readonly ikeNames = new Map<number, string>();

  constructor(private readonly source: MetricsSource, opts: { version?: string } = {}) {
    const r = this.registry;
    collectDefaultMetrics({ register: r });
    // prom-client's default gauges nodejs_active_{handles,requests,resources}_total break the exposition's naming
    // rule (`_total` is for counters; `promtool check metrics` fails on them). Their per-type siblings
    // (nodejs_active_handles{type=...}, ...) stay and sum to the same figure.
    for (const n of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) r.removeSingleMetric(n);
    const info = new Gauge({ name: 'cygnet_info', help: 'cygnet version', labelNames: ['version'], registers: [r] });
    info.set({ version: opts.version ?? 'unknown' }, 1);

    const self = this;
    new Gauge({
      name: 'cygnet_ike_sas',
      help: 'IKE SAs by state',
      labelNames: ['state'],
      registers: [r],
      collect() {
        this.reset();
        for (const s of ['CONNECTING', 'ESTABLISHED', 'REKEYING', 'DELETING'] as const) this.set({ state: s }, 0);
        for (const { sa } of self.source.listSas()) this.inc({ state: sa.state });
      },
    });
    new Gauge({
      name: 'cygnet_child_sas',
      help: 'Installed CHILD SAs by connection',
      labelNames: ['connection'],
      registers: [r],
      collect() {
        this.reset();
        for (const { sa, children } of self.source.listSas()) if (children.length > 0) this.inc({ connection: sa.name }, children.length);
      },
    });
    const childBytes: Counter<string> = new Counter({
      name: 'cygnet_child_sa_bytes_total',
      help: 'ESP payload bytes through CHILD SAs, per connection, child and direction (rekeyed SAs included)',
      labelNames: ['connection', 'child', 'direction'],
      registers: [r],
      collect: (): void => this.collectChildren(childBytes, childPackets),
    });
    const childPackets = new Counter({
      name: 'cygnet_child_sa_packets_total',
      help: 'ESP packets through CHILD SAs, per connection, child and direction (rekeyed SAs included)',
      labelNames: ['connection', 'child', 'direction'],
      registers: [r],
    });
    new Counter({
      name: 'cygnet_esp_drops_total',
      help: 'ESP packets dropped, by reason',
      labelNames: ['reason'],
      registers: [r],
      collect() {
        this.reset();
        for (const [reason, n] of Object.entries(self.source.drops())) this.inc({ reason }, n);
      },
    });
    new Counter({
      name: 'cygnet_datagrams_total',
      help: 'UDP datagrams by kind and direction',
      labelNames: ['kind', 'direction'],
      registers: [r],
      collect() {
        this.reset();
        const c = self.source.counters();
        for (const [key, kind, direction] of DATAGRAM_COUNTERS) this.inc({ kind, direction }, c[key] ?? 0);
      },
    });

    const setups = new Counter({ name: 'cygnet_ike_sa_setups_total', help: 'IKE SAs established (IKE_AUTH completed)', labelNames: ['connection'], registers: [r] });
    const failures = new Counter({ name: 'cygnet_ike_sa_failures_total', help: 'IKE SAs that failed or died, by reason', labelNames: ['reason'], registers: [r] });
    const childFailures = new Counter({ name: 'cygnet_child_sa_failures_total', help: 'CHILD SAs refused, by notify', labelNames: ['notify'], registers: [r] });
    const authFailures = new Counter({ name: 'cygnet_auth_failures_total', help: 'Authentication failures', registers: [r] });
    const ikeRekeys = new Counter({ name: 'cygnet_ike_sa_rekeys_total', help: 'IKE SA rekeys and reauthentications completed', registers: [r] });
    const childRekeys = new Counter({ name: 'cygnet_child_sa_rekeys_total', help: 'CHILD SA rekeys completed', labelNames: ['connection'], registers: [r] });
    const childInstalls = new Counter({ name: 'cygnet_child_sa_installs_total', help: 'CHILD SAs installed (new and rekeyed)', labelNames: ['connection'], registers: [r] });
    const deadPeers = new Counter({ name: 'cygnet_dpd_dead_peers_total', help: 'IKE SAs closed because the peer stopped answering (DPD or retransmission timeout)', registers: [r] });
    // IKE messages by exchange, direction and request/response, from the header (RFC 7296 3.1): INFORMATIONAL
    // requests are DPD checks, Deletes and address updates; their responses show the peer alive.
    const messages = new Counter({ name: 'cygnet_ike_messages_total', help: 'IKE messages by exchange, direction and request/response', labelNames: ['exchange', 'direction', 'type'], registers: [r] });
    const invalidMessages = new Counter({ name: 'cygnet_ike_invalid_datagrams_total', help: 'Datagrams on the IKE ports that were not IKE, ESP or keepalives', registers: [r] });
    invalidMessages.inc(0);
    source.onIkeMessage?.((dir, data) => {
      if (dir === 'invalid') return void invalidMessages.inc();
      if (data.length < 28) return;
      const exchange = exchangeLabel(data[18]!);
      messages.inc({ exchange, direction: dir, type: (data[19]! & 0x20) !== 0 ? 'response' : 'request' });
    });
    // Pre-create zero series so rates work from the first scrape.
    failures.inc({ reason: 'timeout' }, 0);
    authFailures.inc(0);
    ikeRekeys.inc(0);
    deadPeers.inc(0);
    // SAs that came up before these metrics were attached (a library user attaching late, a start_action SA that
    // beat the listener) are setups too: counted once here, then every ike-up event after.
    for (const { sa } of source.listSas()) {
      if (sa.state !== 'ESTABLISHED' && sa.state !== 'REKEYING') continue;
      this.ikeNames.set(sa.id, sa.name);
      setups.inc({ connection: sa.name });
    }

    source.onEvent((e) => {
      switch (e.type) {
        case 'ike-up':
          this.ikeNames.set(e.sa.id, e.sa.name);
          setups.inc({ connection: e.sa.name });
          break;
        case 'ike-rekeyed':
          this.ikeNames.set(e.sa.id, e.sa.name);
          ikeRekeys.inc();
          break;
        case 'ike-down':
          if (FAILURE_REASONS.has(e.reason)) failures.inc({ reason: e.reason });
          if (e.reason === 'timeout') deadPeers.inc();
          // Keep the name a little: child-remove events for this SA may follow.
          queueMicrotask(() => this.ikeNames.delete(e.sa.id));
          break;
        case 'auth-failed':
          authFailures.inc();
          break;
        case 'child-failed':
          childFailures.inc({ notify: e.notify });
          break;
        case 'child-install': {
          const conn = this.connectionOf(e.child);
          childInstalls.inc({ connection: conn });
          if (e.replaces) childRekeys.inc({ connection: conn });
          this.observe(e.child);
          break;
        }
        case 'child-remove':
          this.retire(e.child);
          break;
        default:
          break;
      }
    });
  }

  /** The text exposition (what GET /metrics returns). */
  async text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  private connectionOf(c: ChildSaInfo): string {
    const known = this.ikeNames.get(c.ikeSaId);
    if (known) return known;
    for (const { sa } of this.source.listSas()) if (sa.id === c.ikeSaId) return sa.name;
    return 'unknown';
  }

  private keyOf(c: ChildSaInfo): string {
    return `${this.connectionOf(c)}\u0000${c.name}`;
  }

  /** Reads a live CHILD SA's counters, remembering them (never lower than last time); with its metric key. */
  private observe(c: ChildSaInfo): { key: string; totals: ChildTotals } {
    const prev = this.lastSeen.get(c.id);
    const now = this.source.childCounters(c);
    const t: ChildTotals = {
      bytesIn: Math.max(now.bytesIn ?? 0, prev?.totals.bytesIn ?? 0),
      packetsIn: Math.max(now.packetsIn ?? 0, prev?.totals.packetsIn ?? 0),
      bytesOut: Math.max(now.bytesOut ?? 0, prev?.totals.bytesOut ?? 0),
      packetsOut: Math.max(now.packetsOut ?? 0, prev?.totals.packetsOut ?? 0),
    };
    const seen = { key: prev?.key ?? this.keyOf(c), totals: t };
    this.lastSeen.set(c.id, seen);
    return seen;
  }

  private retire(c: ChildSaInfo): void {
    const { key, totals } = this.observe(c);
    this.lastSeen.delete(c.id);
    addTotals(this.retired, key, totals);
  }

  private collectChildren(bytes: Counter<string>, packets: Counter<string>): void {
    const sums = new Map<string, ChildTotals>();
    for (const [k, v] of this.retired) sums.set(k, { ...v });
    for (const { children } of this.source.listSas())
      for (const c of children) {
        const { key, totals } = this.observe(c);
        addTotals(sums, key, totals);
      }
    bytes.reset();
    packets.reset();
    for (const [key, t] of sums) {
      const [connection = '', child = ''] = key.split('\u0000');
      bytes.inc({ connection, child, direction: 'in' }, t.bytesIn);
      bytes.inc({ connection, child, direction: 'out' }, t.bytesOut);
      packets.inc({ connection, child, direction: 'in' }, t.packetsIn);
      packets.inc({ connection, child, direction: 'out' }, t.packetsOut);
    }
  }
}

function addTotals(into: Map<string, ChildTotals>, key: string, t: ChildTotals): void {
  const acc = into.get(key);
  if (!acc) {
    into.set(key, { ...t });
    return;
  }
  acc.bytesIn += t.bytesIn;
  acc.packetsIn += t.packetsIn;
  acc.bytesOut += t.bytesOut;
  acc.packetsOut += t.packetsOut;
}

/** Parses `--metrics ADDR:PORT` (`[::1]:9786`, `127.0.0.1:9786`, or a bare port meaning 127.0.0.1). */
export function parseMetricsListen(spec: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(spec.trim()) ?? /^()()(\d{1,5})$/.exec(spec.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || !Number.isInteger(port) || port < 1 || port > 65535)
    throw new Error(`--metrics '${spec}' is not ADDRESS:PORT (e.g. 127.0.0.1:9786 or [::1]:9786)`);
  return { host: m[1] || m[2] || '127.0.0.1', port };
}

/** Serves GET /metrics (and / for a pointer) on node:http; resolves once listening. */
export async function serveMetrics(metrics: DaemonMetrics, listen: { host: string; port: number }): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/metrics') {
      metrics.text().then(
        (body) => res.writeHead(200, { 'content-type': metrics.contentType }).end(req.method === 'HEAD' ? undefined : body),
        (e: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics collection failed: ${(e as Error).message}\n`),
      );
      return;
    }
    res.writeHead(path === '/' ? 200 : 404, { 'content-type': 'text/plain' }).end(path === '/' ? 'cygnet: metrics at /metrics\n' : 'not found\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}
