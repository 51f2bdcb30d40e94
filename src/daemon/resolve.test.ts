import { describe, expect, it } from 'vitest';
import { isDnsName } from '../gateway/gateway.js';
import { RemoteResolver, remoteNames, type ResolverBackend } from './resolve.js';

/** A DNS in a Map: name -> [address, ttl seconds or undefined] or an error message. */
function fakeDns(table: Map<string, [string, number | undefined] | string>, calls: string[] = []): ResolverBackend {
  return {
    lookup: async (name) => {
      calls.push(name);
      const r = table.get(name);
      if (r === undefined || typeof r === 'string') throw new Error(r ?? `getaddrinfo ENOTFOUND ${name}`);
      return { address: r[0], family: r[0].includes(':') ? 6 : 4 };
    },
    ttl: async (name) => {
      const r = table.get(name);
      return Array.isArray(r) ? r[1] : undefined;
    },
  };
}

describe('RemoteResolver (remote_addrs DNS names)', () => {
  it('caches an answer for its DNS TTL, returns the stale one while re-resolving, and reports changes', async () => {
    let now = 0;
    const table = new Map<string, [string, number | undefined] | string>([['vpn.example', ['192.0.2.10', 30]]]);
    const calls: string[] = [];
    const resolved: string[] = [];
    const r = new RemoteResolver({ backend: fakeDns(table, calls), clock: () => now, onResolved: (n, a) => resolved.push(`${n}=${a}`) });
    expect(r.lookup('vpn.example')).toBeUndefined();
    await r.resolve('vpn.example');
    expect(r.lookup('vpn.example')).toBe('192.0.2.10');
    expect(resolved).toEqual(['vpn.example=192.0.2.10']);
    now = 29_000;
    expect(r.lookup('vpn.example')).toBe('192.0.2.10');
    expect(calls).toHaveLength(1);
    // Past the TTL: the old address still answers while the new resolution runs; then the new one.
    table.set('vpn.example', ['192.0.2.11', 30]);
    now = 31_000;
    expect(r.lookup('vpn.example')).toBe('192.0.2.10');
    await r.resolve('vpn.example');
    expect(r.lookup('vpn.example')).toBe('192.0.2.11');
    expect(resolved).toEqual(['vpn.example=192.0.2.10', 'vpn.example=192.0.2.11']);
  });

  it('without a DNS TTL (an /etc/hosts name) keeps the answer for defaultTtlMs', async () => {
    let now = 0;
    const calls: string[] = [];
    const r = new RemoteResolver({ backend: fakeDns(new Map([['hosts.example', ['198.51.100.1', undefined]]]), calls), clock: () => now, defaultTtlMs: 5000 });
    await r.resolveAll(['hosts.example', 'hosts.example']);
    expect(calls).toEqual(['hosts.example']);
    now = 4999;
    r.refresh('hosts.example');
    expect(calls).toHaveLength(1);
    now = 5001;
    r.refresh('hosts.example');
    expect(calls).toHaveLength(2);
  });

  it('a forced refresh (a restart after DPD or a keyingtries retry) resolves within the cached lifetime too', async () => {
    let now = 0;
    const calls: string[] = [];
    const table = new Map<string, [string, number | undefined] | string>([['hosts.example', ['198.51.100.1', undefined]]]);
    const resolved: string[] = [];
    const r = new RemoteResolver({ backend: fakeDns(table, calls), clock: () => now, defaultTtlMs: 60_000, onResolved: (n, a) => resolved.push(`${n}=${a}`) });
    await r.resolve('hosts.example');
    // The peer restarted elsewhere and /etc/hosts was edited: a plain refresh trusts the cache for 60 s...
    table.set('hosts.example', ['198.51.100.2', undefined]);
    now = 1000;
    r.refresh('hosts.example');
    expect(calls).toHaveLength(1);
    // ...a forced one asks getaddrinfo again, as charon does on each attempt, once while one is under way.
    r.refresh('hosts.example', { force: true });
    r.refresh('hosts.example', { force: true });
    expect(calls).toHaveLength(2);
    await r.resolve('hosts.example');
    expect(r.lookup('hosts.example')).toBe('198.51.100.2');
    expect(resolved).toEqual(['hosts.example=198.51.100.1', 'hosts.example=198.51.100.2']);
  });

  it('a name that does not resolve: the error is kept for the log, an old address survives a failure', async () => {
    let now = 0;
    const table = new Map<string, [string, number | undefined] | string>();
    const logs: string[] = [];
    const r = new RemoteResolver({ backend: fakeDns(table), clock: () => now, log: (l, m) => logs.push(`${l} ${m}`) });
    await r.resolve('nowhere.example');
    expect(r.lookup('nowhere.example')).toBeUndefined();
    expect(r.failure('nowhere.example')).toBe('getaddrinfo ENOTFOUND nowhere.example');
    expect(logs).toContain('0 cannot resolve nowhere.example: getaddrinfo ENOTFOUND nowhere.example');
    table.set('nowhere.example', ['192.0.2.7', 1]);
    now = 2000;
    await r.resolve('nowhere.example');
    expect(r.failure('nowhere.example')).toBeUndefined();
    table.set('nowhere.example', 'getaddrinfo EAI_AGAIN nowhere.example');
    now = 5000;
    await r.resolve('nowhere.example');
    expect(r.lookup('nowhere.example')).toBe('192.0.2.7');
    expect(logs.at(-1)).toBe('1 cannot resolve nowhere.example: getaddrinfo EAI_AGAIN nowhere.example (keeping 192.0.2.7)');
  });

  it('asks again for a name that never resolved, until it does (retryFailedMs), and stops on close', async () => {
    const table = new Map<string, [string, number | undefined] | string>();
    const calls: string[] = [];
    const resolved: string[] = [];
    const r = new RemoteResolver({ backend: fakeDns(table, calls), retryFailedMs: 20, onResolved: (n, a) => resolved.push(`${n}=${a}`) });
    await r.resolve('late.example');
    expect(calls).toHaveLength(1);
    await new Promise((res) => setTimeout(res, 60));
    expect(calls.length).toBeGreaterThanOrEqual(2);
    table.set('late.example', ['192.0.2.9', 60]);
    await new Promise((res) => setTimeout(res, 60));
    expect(resolved).toEqual(['late.example=192.0.2.9']);
    const n = calls.length;
    await new Promise((res) => setTimeout(res, 60));
    expect(calls).toHaveLength(n);
    table.delete('late.example');
    const r2 = new RemoteResolver({ backend: fakeDns(table, calls), retryFailedMs: 20 });
    await r2.resolve('gone.example');
    r2.close();
    const m = calls.length;
    await new Promise((res) => setTimeout(res, 60));
    expect(calls).toHaveLength(m);
  });

  it('uses getaddrinfo by default, so names in /etc/hosts resolve (localhost)', async () => {
    const r = new RemoteResolver({ family: 4 });
    await r.resolve('localhost');
    expect(r.lookup('localhost')).toBe('127.0.0.1');
  });

  it('picks the DNS names out of remote_addrs (not %any, addresses, subnets or ranges)', () => {
    const conns = [{ remoteAddrs: ['%any', 'vpn.example.org', '192.0.2.1', '10.0.0.0/8', '10.1.0.1-10.1.0.9', '2001:db8::1'] }, { remoteAddrs: ['vpn.example.org', 'moon'] }];
    expect(remoteNames(conns, isDnsName)).toEqual(['vpn.example.org', 'moon']);
  });
});
