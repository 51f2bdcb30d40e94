/**
 * ViciServer + registerViciCommands + ViciClient over a real unix socket in a temp dir, with the fake backend.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chmod, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ViciServer } from '../../src/vici/server.js';
import { registerViciCommands } from '../../src/vici/commands.js';
import { ViciClient } from '../../src/vici/client.js';
import { encodePacket, FrameDecoder, decodePacket, type ViciPacket } from '../../src/vici/transport.js';
import { findStr, type ViciMessage } from '../../src/vici/message.js';
import { isViciError } from '../../src/vici/errors.js';
import { FakeBackend } from './fake-backend.js';

let dir: string;
let path: string;
let server: ViciServer;
let backend: FakeBackend;
let logs: string[];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cygnet-vici-'));
  path = join(dir, 'cygnet.vici');
  backend = new FakeBackend();
  logs = [];
  server = new ViciServer({ path, log: (_l, m) => logs.push(m) });
  registerViciCommands(server, backend, { startedAt: Date.UTC(2026, 0, 1), now: () => Date.UTC(2026, 0, 1) + 3 * 3600 * 1000 });
  await server.listen();
});

afterEach(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

/** A raw socket speaking packets, for malformed-input tests. */
async function raw(): Promise<{ sock: Socket; next: () => Promise<ViciPacket | 'closed'> }> {
  const sock = connect(path);
  await new Promise((r) => sock.once('connect', r));
  const dec = new FrameDecoder();
  const queue: (ViciPacket | 'closed')[] = [];
  let wake: (() => void) | undefined;
  sock.on('data', (c) => {
    for (const p of dec.push(c)) queue.push(decodePacket(p));
    wake?.();
  });
  sock.on('close', () => {
    queue.push('closed');
    wake?.();
  });
  sock.on('error', () => {});
  const next = async (): Promise<ViciPacket | 'closed'> => {
    while (queue.length === 0) await new Promise<void>((r) => (wake = r));
    return queue.shift()!;
  };
  return { sock, next };
}

if (process.getuid?.() !== 0) console.log('[skip] vici socket group access test: needs root to run a client as another uid');
describe('ViciServer socket', () => {
  it('creates the socket with mode 0770', async () => {
    expect((await stat(path)).mode & 0o777).toBe(0o770);
    expect((await stat(path)).isSocket()).toBe(true);
  });

  it.skipIf(process.getuid?.() !== 0)('only root and the socket group may connect, also under umask 0', async () => {
    await server.close();
    const old = process.umask(0);
    try {
      server = new ViciServer({ path });
      registerViciCommands(server, backend);
      await server.listen();
    } finally {
      process.umask(old);
    }
    expect((await stat(path)).mode & 0o777).toBe(0o770);
    // Let others traverse the directory, so only the socket's own mode decides.
    await chmod(dir, 0o755);
    const attempt = (uid: number, gid: number): Promise<string> =>
      new Promise((resolve) => {
        const code = `require('node:net').connect(${JSON.stringify(path)}).on('connect', () => { console.log('connected'); process.exit(0); }).on('error', (e) => { console.log(e.code); process.exit(0); });`;
        const p = spawn(process.execPath, ['-e', code], { uid, gid, stdio: ['ignore', 'pipe', 'ignore'] });
        let out = '';
        p.stdout.on('data', (d) => (out += d));
        p.on('close', () => resolve(out.trim()));
      });
    const st = await stat(path);
    expect(await attempt(65534, 65534)).toBe('EACCES');
    expect(await attempt(65534, st.gid)).toBe('connected');
  });

  it("logs clients as charon's dispatcher does (connected, requests, registered for, invalid request)", async () => {
    const c = await ViciClient.connect(path);
    await c.register('log');
    await c.request('version');
    await expect(c.request('no-such-command')).rejects.toThrow();
    c.close();
    await new Promise((r) => setTimeout(r, 50));
    const id = /vici client (\d+) connected/.exec(logs.join('\n'))?.[1];
    expect(id).toBeDefined();
    expect(logs).toEqual(
      expect.arrayContaining([
        `vici client ${id} registered for: log`,
        `vici client ${id} requests: version`,
        `vici client ${id} invalid request: no-such-command`,
        `vici client ${id} disconnected`,
      ]),
    );
  });

  it('refuses a path a live daemon answers on', async () => {
    await expect(new ViciServer({ path }).listen()).rejects.toThrow(/in use/);
  });

  it('replaces a stale socket left by a killed daemon', async () => {
    const p = join(dir, 'stale.vici');
    // A process that binds the socket and dies without cleaning up (SIGKILL), as after a crash.
    const child = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(p)}, () => console.log('up'))`]);
    await new Promise<void>((r) => child.stdout.once('data', () => r()));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect((await stat(p)).isSocket()).toBe(true);
    const s = new ViciServer({ path: p });
    registerViciCommands(s, backend);
    await s.listen();
    const c = await ViciClient.connect(p);
    expect((await c.request('version')).daemon).toBe('cygnet');
    c.close();
    await s.close();
  });

  it("closing never removes another daemon's socket at the same path (issue 13), and removes its own", async () => {
    const p = join(dir, 'shared.vici');
    const first = new ViciServer({ path: p });
    registerViciCommands(first, backend);
    await first.listen();
    // An operator (or a second daemon's start script) removes the path and a second daemon binds it.
    await rm(p);
    const second = new ViciServer({ path: p });
    registerViciCommands(second, backend);
    await second.listen();
    await first.close();
    expect((await stat(p)).isSocket()).toBe(true);
    const c = await ViciClient.connect(p);
    expect((await c.request('version')).daemon).toBe('cygnet');
    c.close();
    await second.close();
    await expect(stat(p)).rejects.toMatchObject({ code: 'ENOENT' });
    // No private bind names are left behind in the directory.
    expect((await readdir(dir)).filter((f) => f.startsWith('shared.vici'))).toEqual([]);
  });

  it('refuses to remove a non-socket file at the path', async () => {
    const p = join(dir, 'file.vici');
    await writeFile(p, 'not a socket');
    await expect(new ViciServer({ path: p }).listen()).rejects.toThrow(/not a socket/);
  });
});

describe('vici commands over a socket', () => {
  it('version', async () => {
    const c = await ViciClient.connect(path);
    const r = await c.request('version');
    expect(r.daemon).toBe('cygnet');
    expect(r.version).toBe('0.1.0');
    expect(r.sysname).toBe('Linux');
    expect(typeof r.release).toBe('string');
    expect(typeof r.machine).toBe('string');
    c.close();
  });

  it('stats in charon layout', async () => {
    const c = await ViciClient.connect(`unix://${path}`);
    const r = await c.request('stats');
    expect(findStr(r, 'uptime.running')).toBe('3 hours');
    expect(findStr(r, 'uptime.since')).toMatch(/^[A-Z][a-z]{2} \d\d \d\d:\d\d:\d\d 20\d\d$/);
    expect(findStr(r, 'workers.total')).toBe('1');
    expect(findStr(r, 'workers.active.critical')).toBe('0');
    expect(findStr(r, 'queues.low')).toBe('0');
    expect(findStr(r, 'scheduled')).toBe('2');
    expect(findStr(r, 'ikesas.total')).toBe('1');
    expect(findStr(r, 'ikesas.half-open')).toBe('0');
    expect(r.plugins).toEqual(['cygnet-ike', 'cygnet-esp', 'vici']);
    c.close();
  });

  it('list-sas streams list-sa events in charon layout, then an empty response', async () => {
    const c = await ViciClient.connect(path);
    const events: ViciMessage[] = [];
    const r = await c.streamedRequest('list-sas', {}, 'list-sa', (m) => events.push(m));
    expect(r).toEqual({});
    expect(events).toHaveLength(1);
    const gw = events[0]!.gw as ViciMessage;
    expect(Object.keys(gw)).toEqual([
      'uniqueid', 'version', 'state', 'local-host', 'local-port', 'local-id', 'remote-host', 'remote-port', 'remote-id',
      'initiator', 'initiator-spi', 'responder-spi', 'nat-fake', 'nat-any', 'encr-alg', 'encr-keysize', 'prf-alg',
      'dh-group', 'established', 'rekey-time', 'child-sas',
    ]);
    expect(gw['initiator-spi']).toBe('1d9da4e95529aa65');
    const child = (gw['child-sas'] as ViciMessage)['net-3'] as ViciMessage;
    expect(child).toMatchObject({
      name: 'net', uniqueid: '3', reqid: '1', state: 'INSTALLED', mode: 'TUNNEL', protocol: 'ESP', encap: 'yes',
      'spi-in': 'c1a2b3c4', 'spi-out': '0badf00d', 'encr-alg': 'AES_CBC', 'encr-keysize': '128',
      'integ-alg': 'HMAC_SHA2_256_128', 'bytes-in': '8400', 'packets-out': '200', 'install-time': '40',
      'local-ts': ['10.1.0.0/16'], 'remote-ts': ['10.2.0.0/16', '10.3.0.0/24[tcp/80]'],
    });
    // Filters: by name and by unique id.
    const none: ViciMessage[] = [];
    await c.streamedRequest('list-sas', { ike: 'other' }, 'list-sa', (m) => none.push(m));
    await c.streamedRequest('list-sas', { 'ike-id': 2 }, 'list-sa', (m) => none.push(m));
    expect(none).toHaveLength(0);
    c.close();
  });

  it('list-sas without registering sends no events (charon raises them only to registered clients)', async () => {
    const c = await ViciClient.connect(path);
    const seen: ViciMessage[] = [];
    c.on('list-sa', (m) => seen.push(m));
    expect(await c.request('list-sas')).toEqual({});
    expect(seen).toHaveLength(0);
    c.close();
  });

  it('list-conns streams list-conn events; get-conns lists names', async () => {
    const c = await ViciClient.connect(path);
    const events: ViciMessage[] = [];
    await c.streamedRequest('list-conns', {}, 'list-conn', (m) => events.push(m));
    expect(events).toHaveLength(1);
    const gw = events[0]!.gw as ViciMessage;
    expect(gw).toMatchObject({ local_addrs: ['192.0.2.1'], remote_addrs: ['192.0.2.2'], version: 'IKEv2', rekey_time: '14400', dpd_delay: '30' });
    expect(gw['local-1']).toMatchObject({ class: 'pre-shared key', id: 'moon' });
    expect((gw.children as ViciMessage).net).toMatchObject({ mode: 'TUNNEL', rekey_time: '3600', dpd_action: 'clear', 'local-ts': ['10.1.0.0/16'] });
    // get-conns lists vici-loaded connections only (charon): none yet.
    expect(await c.request('get-conns')).toEqual({ conns: [] });
    c.close();
  });

  it('initiate streams control-log up to the requested loglevel, then success', async () => {
    const c = await ViciClient.connect(path);
    const logs: ViciMessage[] = [];
    const r = await c.streamedRequest('initiate', { child: 'net', timeout: 0, loglevel: 1 }, 'control-log', (m) => logs.push(m));
    expect(r).toEqual({ success: 'yes' });
    expect(logs.map((l) => l.msg)).toEqual(['initiating IKE_SA gw[7] to 192.0.2.2', 'CHILD_SA net{4} established']);
    expect(logs[0]).toMatchObject({ group: 'IKE', level: '1', 'ikesa-name': 'gw', 'ikesa-uniqueid': '7' });
    expect(backend.initiated).toEqual([{ child: 'net', timeoutMs: 0, logLevel: 1 }]);
    const more: ViciMessage[] = [];
    await c.streamedRequest('initiate', { child: 'net', loglevel: 2 }, 'control-log', (m) => more.push(m));
    expect(more).toHaveLength(3);
    c.close();
  });

  it('initiate failure and missing name give success=no with errmsg', async () => {
    const c = await ViciClient.connect(path);
    expect(await c.request('initiate', { child: 'nope' })).toEqual({ success: 'no', errmsg: "CHILD_SA config 'nope' not found" });
    expect(await c.request('initiate', {})).toMatchObject({ success: 'no' });
    c.close();
  });

  it('initiate honours timeout (ms) and -1 (do not wait)', async () => {
    backend.initiateDelayMs = 300;
    const c = await ViciClient.connect(path);
    const t0 = Date.now();
    const r = await c.request('initiate', { child: 'net', timeout: 50 });
    expect(r).toEqual({ success: 'no', errmsg: "CHILD_SA 'net' not established after 50ms" });
    expect(Date.now() - t0).toBeLessThan(250);
    expect(await c.request('initiate', { child: 'net', timeout: -1 })).toEqual({ success: 'yes' });
    // Once replied, the backend is told nobody waits any more.
    expect(backend.signals.map((s) => s.aborted)).toEqual([true, true]);
    c.close();
  });

  it('terminate by ike name, ike-id, force; no match is success=no', async () => {
    const c = await ViciClient.connect(path);
    const logs: ViciMessage[] = [];
    expect(await c.streamedRequest('terminate', { ike: 'gw' }, 'control-log', (m) => logs.push(m))).toEqual({ success: 'yes', matches: '1' });
    expect(logs.map((l) => l.msg)).toEqual(['deleting IKE_SA gw[1]']);
    await c.request('terminate', { 'ike-id': 1, force: 'yes', timeout: 1000 });
    expect(backend.terminated).toEqual([
      { ike: 'gw', force: false, timeoutMs: 0, logLevel: 1 },
      { ikeId: 1, force: true, timeoutMs: 1000, logLevel: 1 },
    ]);
    expect(await c.request('terminate', { ike: 'nope' })).toEqual({ success: 'no', matches: '0', errmsg: 'no matching SAs to terminate found' });
    expect(await c.request('terminate', {})).toMatchObject({ success: 'no' });
    c.close();
  });

  it('rekey, reload and reload-settings', async () => {
    const c = await ViciClient.connect(path);
    expect(await c.request('rekey', { child: 'net', reauth: 'yes' })).toEqual({ success: 'yes', matches: '1' });
    expect(backend.rekeyed).toEqual([{ child: 'net', reauth: true }]);
    expect(await c.request('reload')).toEqual({ success: 'yes' });
    backend.reloadResult = { success: false, errmsg: 'cygnet.conf:3: bad value' };
    expect(await c.request('reload-settings')).toEqual({ success: 'no', errmsg: 'cygnet.conf:3: bad value' });
    expect(backend.reloads).toBe(2);
    c.close();
  });

  it('unknown command gets CMD_UNKNOWN; unknown event gets EVENT_UNKNOWN; the connection stays usable', async () => {
    const c = await ViciClient.connect(path);
    await expect(c.request('no-such-command')).rejects.toSatisfy((e) => isViciError(e, 'UNKNOWN_COMMAND'));
    await expect(c.register('no-such-event')).rejects.toSatisfy((e) => isViciError(e, 'UNKNOWN_EVENT'));
    await c.register('ike-updown');
    await c.unregister('ike-updown');
    expect((await c.request('version')).daemon).toBe('cygnet');
    c.close();
  });

  it('server.emit reaches only registered clients', async () => {
    const a = await ViciClient.connect(path);
    const b = await ViciClient.connect(path);
    const got: string[] = [];
    a.on('ike-updown', (m) => got.push(`a:${String(m.up)}`));
    b.on('ike-updown', (m) => got.push(`b:${String(m.up)}`));
    await a.register('ike-updown');
    expect(server.emit('ike-updown', { up: 'yes' })).toBe(1);
    await a.request('version'); // a round trip, so the event has arrived
    await b.request('version');
    await a.unregister('ike-updown');
    expect(server.emit('ike-updown', { up: 'no' })).toBe(0);
    await a.request('version');
    expect(got).toEqual(['a:yes']);
    a.close();
    b.close();
  });

  it('load-conn / unload-conn reach the backend; get-conns lists what was loaded over vici', async () => {
    const c = await ViciClient.connect(path);
    const conn = { remote_addrs: ['192.0.2.9'], local: { auth: 'psk' }, children: { net: { remote_ts: ['10.9.0.0/16'] } } };
    expect(await c.request('load-conn', { road: conn })).toEqual({ success: 'yes' });
    expect(backend.loaded.get('road')).toEqual(conn);
    expect(await c.request('get-conns')).toEqual({ conns: ['road'] });
    expect(await c.request('load-conn', { broken: { dpd_delay: 'x' } })).toEqual({ success: 'no', errmsg: "connections.broken.dpd_delay: invalid duration 'x'" });
    expect(await c.request('load-conn', { a: {}, b: {} })).toMatchObject({ success: 'no' });
    expect(await c.request('unload-conn', { name: 'road' })).toEqual({ success: 'yes' });
    expect(await c.request('get-conns')).toEqual({ conns: [] });
    expect(await c.request('unload-conn', { name: 'road' })).toEqual({ success: 'no', errmsg: "connection 'road' not found" });
    c.close();
  });

  it('a handler that throws gives success=no, not a hung client', async () => {
    server.command('boom', () => {
      throw new Error('kaput');
    });
    const c = await ViciClient.connect(path);
    expect(await c.request('boom')).toEqual({ success: 'no', errmsg: 'kaput' });
    c.close();
  });

  it('queued requests on one connection are answered in order', async () => {
    backend.initiateDelayMs = 50;
    const c = await ViciClient.connect(path);
    const [x, y, z] = await Promise.all([c.request('initiate', { child: 'net' }), c.request('version'), c.request('stats')]);
    expect(x.success).toBe('yes');
    expect(y.daemon).toBe('cygnet');
    expect(z.ikesas).toBeDefined();
    c.close();
  });
});

describe('malformed input closes that client only', () => {
  const bad: [string, Uint8Array][] = [
    ['an oversized length', new Uint8Array([0x00, 0x08, 0x00, 0x01])],
    ['a zero length', new Uint8Array([0, 0, 0, 0])],
    ['an unknown packet type', new Uint8Array([0, 0, 0, 1, 42])],
    ['an undecodable message', new Uint8Array([0, 0, 0, 5, 0, 1, 120, 1, 0])],
    ['a server-side packet type', new Uint8Array([0, 0, 0, 1, 5])],
  ];
  it.each(bad)('%s', async (_name, bytes) => {
    const good = await ViciClient.connect(path);
    const { sock, next } = await raw();
    sock.write(bytes);
    expect(await next()).toBe('closed');
    expect(logs.some((l) => /client #\d+/.test(l))).toBe(true);
    // The server and the other client are unaffected.
    expect((await good.request('version')).daemon).toBe('cygnet');
    const fresh = await ViciClient.connect(path);
    expect((await fresh.request('version')).daemon).toBe('cygnet');
    fresh.close();
    good.close();
  });

  it('a client that disconnects mid-request does not disturb the server', async () => {
    backend.initiateDelayMs = 100;
    const { sock } = await raw();
    sock.write(encodePacket({ type: 'CMD_REQUEST', name: 'initiate', message: { child: 'net' } }));
    sock.destroy();
    await new Promise((r) => setTimeout(r, 150));
    const c = await ViciClient.connect(path);
    expect((await c.request('version')).daemon).toBe('cygnet');
    c.close();
  });

  it('packets split across writes and several in one write are handled', async () => {
    const { sock, next } = await raw();
    const a = encodePacket({ type: 'CMD_REQUEST', name: 'version' });
    const b = encodePacket({ type: 'EVENT_REGISTER', name: 'log' });
    const both = new Uint8Array([...a, ...b]);
    sock.write(both.subarray(0, 3));
    await new Promise((r) => setTimeout(r, 20));
    sock.write(both.subarray(3));
    const p1 = await next();
    const p2 = await next();
    expect(p1).toMatchObject({ type: 'CMD_RESPONSE' });
    expect(p2).toEqual({ type: 'EVENT_CONFIRM' });
    sock.destroy();
  });

  it('the client rejects pending requests when the server goes away', async () => {
    backend.initiateDelayMs = 200;
    const c = await ViciClient.connect(path);
    const pending = c.request('initiate', { child: 'net' });
    await new Promise((r) => setTimeout(r, 30));
    await server.close();
    await expect(pending).rejects.toSatisfy((e) => isViciError(e, 'CONNECTION'));
    await expect(c.request('version')).rejects.toSatisfy((e) => isViciError(e, 'CONNECTION'));
  });

  it('connecting to a missing socket is a typed CONNECTION error', async () => {
    await expect(ViciClient.connect(join(dir, 'missing.vici'))).rejects.toSatisfy((e) => isViciError(e, 'CONNECTION'));
  });
});

describe('resource limits', () => {
  it('a client flooding requests without reading is dropped; others keep working', async () => {
    backend.initiateDelayMs = 200;
    const { sock, next } = await raw();
    const one = encodePacket({ type: 'CMD_REQUEST', name: 'initiate', message: { child: 'net' } });
    const many = new Uint8Array(one.length * 300);
    for (let i = 0; i < 300; i++) many.set(one, i * one.length);
    sock.write(many);
    let p: Awaited<ReturnType<typeof next>>;
    do p = await next();
    while (p !== 'closed');
    expect(logs.some((l) => /queued more than/.test(l))).toBe(true);
    const c = await ViciClient.connect(path);
    expect((await c.request('version')).daemon).toBe('cygnet');
    c.close();
  });
});

describe('socket fuzz', () => {
  it('random bytes from clients never take the server down', async () => {
    const { default: fc } = await import('fast-check');
    const samples = fc.sample(
      fc.oneof(
        fc.uint8Array({ minLength: 1, maxLength: 64 }),
        // Well-framed packets with random bodies reach the packet and message decoders.
        fc.uint8Array({ minLength: 1, maxLength: 60 }).map((b) => {
          const out = new Uint8Array(4 + b.length);
          new DataView(out.buffer).setUint32(0, b.length);
          out.set(b, 4);
          return out;
        }),
      ),
      { numRuns: 60, seed: 7 },
    );
    const good = await ViciClient.connect(path);
    for (const bytes of samples) {
      const { sock } = await raw();
      sock.write(bytes);
      await new Promise((r) => setTimeout(r, 2));
      sock.destroy();
    }
    expect((await good.request('version')).daemon).toBe('cygnet');
    good.close();
  });
});
