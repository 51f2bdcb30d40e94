/**
 * The HA store client (issue 20): Redis through ioredis. The rules are those of src/ha/store-model.ts, run as Lua
 * scripts so each is atomic in Redis (one script runs at a time, in arrival order) and uses the store's own clock
 * (TIME) for lease expiry, so the nodes' clocks do not decide who holds the lease.
 *
 * Keys, under `cygnet:<cluster>:`: `lease` (hash node, token, expires), `epoch` (last token), `data` (hash: store
 * key -> record JSON), `ver` (hash: store key -> "token:rev" of the last write, tombstones included).
 *
 * Failure semantics: no offline queue and one attempt per command, so a store outage fails writes at once; the
 * replicator keeps them (coalesced) and the driver retries when ioredis has reconnected.
 */
import { Redis } from 'ioredis';
import type { StoreWrite } from '../ha/store-model.js';

const NOW_MS = "local t = redis.call('TIME'); local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)";

/** KEYS: lease, epoch, ver, data. ARGV: node, ttl. -> {1, token, ttl} or {0, holder, token, remaining}. */
const ACQUIRE = `${NOW_MS}
local h = redis.call('HGET', KEYS[1], 'node')
local exp = tonumber(redis.call('HGET', KEYS[1], 'expires') or '0')
if h and exp > now then return {0, h, tonumber(redis.call('HGET', KEYS[1], 'token')), exp - now} end
local token = redis.call('INCR', KEYS[2])
redis.call('HSET', KEYS[1], 'node', ARGV[1], 'token', token, 'expires', now + tonumber(ARGV[2]))
local vers = redis.call('HGETALL', KEYS[3])
for i = 1, #vers, 2 do if redis.call('HEXISTS', KEYS[4], vers[i]) == 0 then redis.call('HDEL', KEYS[3], vers[i]) end end
return {1, token, tonumber(ARGV[2])}`;

/** KEYS: lease. ARGV: token, ttl. -> {1} or {0, holder, token}. */
const RENEW = `${NOW_MS}
local tok = tonumber(redis.call('HGET', KEYS[1], 'token') or '0')
if tok ~= tonumber(ARGV[1]) then return {0, redis.call('HGET', KEYS[1], 'node') or '', tok} end
redis.call('HSET', KEYS[1], 'expires', now + tonumber(ARGV[2]))
return {1}`;

/** KEYS: lease. ARGV: token. */
const RELEASE = `local tok = tonumber(redis.call('HGET', KEYS[1], 'token') or '0')
if tok ~= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'expires', 0)
return 1`;

/** KEYS: lease, ver, data. ARGV: node, token, then (key, rev, op, value) x n; op 1 = set, 0 = delete. */
const WRITE = `local tok = tonumber(redis.call('HGET', KEYS[1], 'token') or '0')
if tok ~= tonumber(ARGV[2]) or redis.call('HGET', KEYS[1], 'node') ~= ARGV[1] then return {0, redis.call('HGET', KEYS[1], 'node') or '', tok} end
local applied, skipped = 0, 0
for i = 3, #ARGV, 4 do
  local k, rev = ARGV[i], tonumber(ARGV[i + 1])
  local cur = redis.call('HGET', KEYS[2], k)
  local ct, cr = 0, 0
  if cur then local p = string.find(cur, ':'); ct = tonumber(string.sub(cur, 1, p - 1)); cr = tonumber(string.sub(cur, p + 1)) end
  if ct > tok or (ct == tok and cr >= rev) then skipped = skipped + 1 else
    redis.call('HSET', KEYS[2], k, tok .. ':' .. rev)
    if ARGV[i + 2] == '1' then redis.call('HSET', KEYS[3], k, ARGV[i + 3]) else redis.call('HDEL', KEYS[3], k) end
    applied = applied + 1
  end
end
return {1, applied, skipped}`;

/** KEYS: lease. -> {node, token, remaining, released} or {}; a released lease has expires = 0. */
const READ_LEASE = `${NOW_MS}
local h = redis.call('HGET', KEYS[1], 'node')
if not h then return {} end
local exp = tonumber(redis.call('HGET', KEYS[1], 'expires'))
return {h, tonumber(redis.call('HGET', KEYS[1], 'token')), exp - now, exp == 0 and 1 or 0}`;

export interface StoreLease {
  readonly node: string;
  readonly token: number;
  readonly remainingMs: number;
  readonly released: boolean;
}

export type WriteOutcome = { readonly ok: true; readonly applied: number; readonly skipped: number } | { readonly ok: false; readonly holder: string; readonly token: number };

export class HaStore {
  private readonly redis: Redis;
  private readonly k: { lease: string; epoch: string; data: string; ver: string };

  constructor(url: string, cluster: string, opts: { commandTimeoutMs?: number; onError?: (e: Error) => void } = {}) {
    this.redis = new Redis(url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: opts.commandTimeoutMs ?? 1000,
      connectTimeout: 1000,
      // Reconnect every 500 ms for ever: the driver learns of the outage from failed commands meanwhile.
      retryStrategy: () => 500,
      lazyConnect: false,
    });
    // ioredis emits 'error' on every failed reconnect; unhandled, Node would end the process.
    this.redis.on('error', (e: Error) => opts.onError?.(e));
    const p = `cygnet:${cluster}:`;
    this.k = { lease: `${p}lease`, epoch: `${p}epoch`, data: `${p}data`, ver: `${p}ver` };
  }

  get ready(): boolean {
    return this.redis.status === 'ready';
  }

  /** Fails at once, naming the connection state, while ioredis is not connected (no offline queue). */
  private connected(): void {
    if (!this.ready) throw new Error(`not connected (${this.redis.status})`);
  }

  async acquire(node: string, ttlMs: number): Promise<{ ok: true; token: number } | { ok: false; holder: string; token: number; remainingMs: number }> {
    this.connected();
    const r = (await this.redis.eval(ACQUIRE, 4, this.k.lease, this.k.epoch, this.k.ver, this.k.data, node, String(ttlMs))) as (string | number)[];
    return r[0] === 1 ? { ok: true, token: Number(r[1]) } : { ok: false, holder: String(r[1]), token: Number(r[2]), remainingMs: Number(r[3]) };
  }

  async renew(token: number, ttlMs: number): Promise<{ ok: true } | { ok: false; holder: string; token: number }> {
    this.connected();
    const r = (await this.redis.eval(RENEW, 1, this.k.lease, String(token), String(ttlMs))) as (string | number)[];
    return r[0] === 1 ? { ok: true } : { ok: false, holder: String(r[1]), token: Number(r[2]) };
  }

  async release(token: number): Promise<boolean> {
    this.connected();
    return (await this.redis.eval(RELEASE, 1, this.k.lease, String(token))) === 1;
  }

  async write(node: string, token: number, writes: readonly StoreWrite[]): Promise<WriteOutcome> {
    this.connected();
    const args: string[] = [node, String(token)];
    for (const w of writes) args.push(w.key, String(w.rev), w.value === null ? '0' : '1', w.value ?? '');
    const r = (await this.redis.eval(WRITE, 3, this.k.lease, this.k.ver, this.k.data, ...args)) as (string | number)[];
    return r[0] === 1 ? { ok: true, applied: Number(r[1]), skipped: Number(r[2]) } : { ok: false, holder: String(r[1]), token: Number(r[2]) };
  }

  async lease(): Promise<StoreLease | undefined> {
    this.connected();
    const r = (await this.redis.eval(READ_LEASE, 1, this.k.lease)) as (string | number)[];
    return r.length === 4 ? { node: String(r[0]), token: Number(r[1]), remainingMs: Number(r[2]), released: r[3] === 1 } : undefined;
  }

  async records(): Promise<Map<string, string>> {
    this.connected();
    return new Map(Object.entries(await this.redis.hgetall(this.k.data)));
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }
}
