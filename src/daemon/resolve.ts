/**
 * DNS names in remote_addrs (issue 15), the driver side of the gateway's GatewayResolver: names are resolved with
 * getaddrinfo (node:dns lookup), so /etc/hosts counts (and `ip netns exec`'s /etc/netns/NAME/hosts), as charon's
 * host_create_from_dns does; answers are cached for the record's TTL when the DNS gives one (dns.resolve4/6 with
 * ttl, asked beside the lookup), else for `defaultTtlMs`. The core reads the cache synchronously (`lookup`); an
 * expired entry is still returned while a fresh resolution runs, and `onResolved` tells the driver when a name got
 * a new or first answer, so initiations that waited for it go on (Gateway.namesResolved).
 */
import { promises as dns } from 'node:dns';
import { isIP } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { GatewayResolver } from '../gateway/gateway.js';

/** getaddrinfo and a TTL source, replaceable in tests. */
export interface ResolverBackend {
  lookup(name: string, family: 0 | 4 | 6): Promise<{ address: string; family: number }>;
  /** TTL (seconds) of `address` for `name` from the DNS, if it has one (names from /etc/hosts have none). */
  ttl?(name: string, address: string): Promise<number | undefined>;
}

export interface ResolverOptions {
  readonly backend?: ResolverBackend;
  /** How long an answer without a DNS TTL is kept, ms. Default 60 s. */
  readonly defaultTtlMs?: number;
  /** Bounds of the cache lifetime of an answer, ms (a TTL of 0 still caches for minTtlMs). */
  readonly minTtlMs?: number;
  readonly maxTtlMs?: number;
  /** Address family to ask for: 0 any (getaddrinfo's order), 4 or 6. */
  readonly family?: 0 | 4 | 6;
  readonly clock?: () => number;
  readonly log?: (level: number, message: string) => void;
  /** A name got an answer (first, or different from before). */
  readonly onResolved?: (name: string, address: string) => void;
  /**
   * A name that never resolved is asked again after this long (ms; 0 = never), so a start_action = start
   * initiation waiting for it goes on once the DNS knows it (strongSwan's charon.retry_initiate_interval does this
   * from the initiating side). Default 10 s.
   */
  readonly retryFailedMs?: number;
}

interface Entry {
  address?: string;
  expires: number;
  error?: string;
  inflight?: Promise<void>;
}

/** The TTL query must not hold an initiation up: one try, two seconds. */
let ttlResolver: dns.Resolver | undefined;

const nodeBackend: ResolverBackend = {
  lookup: (name, family) => dns.lookup(name, { family }),
  ttl: async (name, address) => {
    try {
      ttlResolver ??= new dns.Resolver({ timeout: 2000, tries: 1 });
      const recs = isIP(address) === 6 ? await ttlResolver.resolve6(name, { ttl: true }) : await ttlResolver.resolve4(name, { ttl: true });
      return recs.find((r) => r.address === address)?.ttl;
    } catch {
      // Not in the DNS (an /etc/hosts name) or no server: the default lifetime applies.
      return undefined;
    }
  },
};

export class RemoteResolver implements GatewayResolver {
  private readonly entries = new Map<string, Entry>();
  private readonly backend: ResolverBackend;
  private readonly clock: () => number;
  private readonly retries = new Map<string, NodeJS.Timeout>();
  private closed = false;

  constructor(private readonly opts: ResolverOptions = {}) {
    this.backend = opts.backend ?? nodeBackend;
    this.clock = opts.clock ?? (() => performance.now());
  }

  /** The cached address of `name` (stale ones too, refreshed in the background), or undefined. */
  lookup(name: string): string | undefined {
    const e = this.entries.get(name);
    if (!e || e.expires <= this.clock()) void this.resolve(name);
    return e?.address;
  }

  failure(name: string): string | undefined {
    return this.entries.get(name)?.error;
  }

  /**
   * A fresh answer is wanted (an initiation to the name is coming): resolve unless one is under way or, without
   * `force`, the cached one is still fresh. `force` (a restart after the peer went silent) ignores the cache's
   * lifetime: an /etc/hosts name has no TTL and would otherwise be kept for defaultTtlMs. Returns the resolution
   * under way (started or joined), undefined when the cached answer is fresh.
   */
  refresh(name: string, o: { force?: boolean } = {}): Promise<void> | undefined {
    const e = this.entries.get(name);
    if (e?.inflight) return e.inflight;
    if (!o.force && e && e.address !== undefined && e.expires > this.clock()) return undefined;
    return this.resolve(name);
  }

  /** Resolves every name now (the daemon's start and reloads), waiting for all answers or failures. */
  async resolveAll(names: Iterable<string>): Promise<void> {
    await Promise.all([...new Set(names)].map((n) => this.resolve(n)));
  }

  /** Stops the retries of failed names (the daemon stops). */
  close(): void {
    this.closed = true;
    for (const t of this.retries.values()) clearTimeout(t);
    this.retries.clear();
  }

  /** Names cached, with their address or error (status displays, tests). */
  snapshot(): { name: string; address?: string; error?: string; expiresInMs: number }[] {
    const now = this.clock();
    return [...this.entries].map(([name, e]) => ({ name, ...(e.address !== undefined ? { address: e.address } : {}), ...(e.error !== undefined ? { error: e.error } : {}), expiresInMs: Math.max(0, e.expires - now) }));
  }

  /** One resolution of `name` (joins one under way). Never rejects: a failure is kept as the entry's error. */
  resolve(name: string): Promise<void> {
    const e = this.entries.get(name) ?? { expires: 0 };
    this.entries.set(name, e);
    if (e.inflight) return e.inflight;
    const run = async (): Promise<void> => {
      const o = this.opts;
      try {
        const r = await this.backend.lookup(name, o.family ?? 0);
        const ttl = await this.backend.ttl?.(name, r.address).catch(() => undefined);
        const life = ttl !== undefined ? ttl * 1000 : (o.defaultTtlMs ?? 60_000);
        e.expires = this.clock() + Math.min(o.maxTtlMs ?? 3_600_000, Math.max(o.minTtlMs ?? 1000, life));
        const changed = e.address !== r.address;
        const before = e.address;
        e.address = r.address;
        delete e.error;
        if (changed) {
          o.log?.(1, before === undefined ? `resolved ${name} to ${r.address}${ttl !== undefined ? ` (TTL ${ttl} s)` : ''}` : `${name} now resolves to ${r.address} (was ${before})`);
          o.onResolved?.(name, r.address);
        }
      } catch (err) {
        // Kept: the old address (if any) stays usable; the next lookup asks again after a short back-off.
        e.error = err instanceof Error ? err.message : String(err);
        e.expires = this.clock() + (o.minTtlMs ?? 1000);
        o.log?.(e.address === undefined ? 0 : 1, `cannot resolve ${name}: ${e.error}${e.address !== undefined ? ` (keeping ${e.address})` : ''}`);
        const retry = o.retryFailedMs ?? 10_000;
        if (e.address === undefined && retry > 0 && !this.closed && !this.retries.has(name)) {
          const t = setTimeout(() => {
            this.retries.delete(name);
            if (!this.closed) void this.resolve(name);
          }, retry);
          t.unref();
          this.retries.set(name, t);
        }
      } finally {
        delete e.inflight;
      }
    };
    e.inflight = run();
    return e.inflight;
  }
}

/** The remote_addrs DNS names of a set of connections (what the daemon resolves at start and reload). */
export function remoteNames(connections: readonly { readonly remoteAddrs: readonly string[] }[], isName: (a: string) => boolean): string[] {
  return [...new Set(connections.flatMap((c) => c.remoteAddrs.filter(isName)))];
}
