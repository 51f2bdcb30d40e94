/**
 * The Redis scripts against a real redis-server (Debian `redis-server`; skipped where it is not installed): the
 * same lease, fencing and ordering rules as src/ha/store-model.ts, and fast failure while the store is down.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HaStore } from './ha-store.js';

const hasRedis = (() => {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

async function startRedis(port: number, dir: string): Promise<ChildProcess> {
  const p = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  // Readiness: until a PING answers (up to 20 s on a loaded machine).
  const probe = new HaStore(`redis://127.0.0.1:${port}`, 'probe');
  for (let i = 0; i < 200 && !probe.ready; i++) await new Promise((r) => setTimeout(r, 100));
  await probe.close();
  return p;
}

describe.skipIf(!hasRedis)('HA store on redis-server', () => {
  let dir = '';
  let port = 0;
  let server: ChildProcess | undefined;
  let a: HaStore;
  let b: HaStore;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cygnet-ha-'));
    port = await freePort();
    server = await startRedis(port, dir);
    a = new HaStore(`redis://127.0.0.1:${port}`, 't1');
    b = new HaStore(`redis://127.0.0.1:${port}`, 't1');
    for (let i = 0; i < 200 && !(a.ready && b.ready); i++) await new Promise((r) => setTimeout(r, 100));
  }, 30_000);

  afterAll(async () => {
    await a?.close();
    await b?.close();
    server?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('leases, fences a deposed writer, keeps the newest version of each record', async () => {
    const la = await a.acquire('moon-a', 400);
    expect(la.ok).toBe(true);
    const ta = la.ok ? la.token : 0;
    expect(await b.acquire('moon-b', 400)).toMatchObject({ ok: false, holder: 'moon-a' });
    expect(await a.write('moon-a', ta, [{ key: 'ike/1', rev: 2, value: 'two' }, { key: 'seq/1/out', rev: 3, value: 'x' }])).toEqual({ ok: true, applied: 2, skipped: 0 });
    // An older revision arriving late is skipped; a delete is applied.
    expect(await a.write('moon-a', ta, [{ key: 'ike/1', rev: 1, value: 'one' }, { key: 'seq/1/out', rev: 4, value: null }])).toEqual({ ok: true, applied: 1, skipped: 1 });
    expect(await a.records()).toEqual(new Map([['ike/1', 'two']]));
    expect(await a.renew(ta, 400)).toEqual({ ok: true });
    const lease = await b.lease();
    expect(lease).toMatchObject({ node: 'moon-a', token: ta });
    expect(lease?.remainingMs).toBeGreaterThan(0);
    // moon-a stops renewing; after expiry moon-b takes the lease with the next token and moon-a is fenced.
    await new Promise((r) => setTimeout(r, 500));
    const lb = await b.acquire('moon-b', 400);
    expect(lb).toEqual({ ok: true, token: ta + 1 });
    expect(await a.write('moon-a', ta, [{ key: 'ike/1', rev: 9, value: 'zombie' }])).toEqual({ ok: false, holder: 'moon-b', token: ta + 1 });
    expect(await a.renew(ta, 400)).toMatchObject({ ok: false, holder: 'moon-b' });
    expect((await b.records()).get('ike/1')).toBe('two');
    // The new token's first write wins over the old token's higher revision.
    expect(await b.write('moon-b', ta + 1, [{ key: 'ike/1', rev: 1, value: 'b' }])).toEqual({ ok: true, applied: 1, skipped: 0 });
    // Fail-back: release, and the other node takes it at once.
    expect(await b.release(ta + 1)).toBe(true);
    expect(await a.lease()).toMatchObject({ node: 'moon-b', released: true });
    expect(await a.acquire('moon-a', 400)).toEqual({ ok: true, token: ta + 2 });
  });

  it('fails fast while the store is down and works again when it returns', async () => {
    server?.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 300));
    const t0 = Date.now();
    await expect(a.lease()).rejects.toThrow();
    expect(Date.now() - t0).toBeLessThan(2000);
    server = await startRedis(port, dir);
    for (let i = 0; i < 200 && !a.ready; i++) await new Promise((r) => setTimeout(r, 100));
    // A fresh store (no persistence here): the lease is free, tokens start again from the epoch key, which is gone.
    expect(await a.lease()).toBeUndefined();
    expect((await a.acquire('moon-a', 400)).ok).toBe(true);
  }, 30_000);
});
