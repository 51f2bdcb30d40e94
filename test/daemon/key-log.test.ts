import { afterAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { child, connection, pskCredentials } from '../../src/ike/config-builder.js';
import { makePair, crypto } from '../ike/pair.js';
import { KeyLog, KeyLogError, keyLogLines } from '../../src/daemon/key-log.js';
import { spawnDaemon } from './harness.js';
import { keysFromJsonLines } from '../interop/lib/keys.js';
import { decodeMessage, decryptSK } from '../../src/ike/codec/index.js';
import { createEncryption, createIntegrity } from '../../src/crypto/suite.js';

const psk = pskCredentials([{ ids: ['a.example', 'b.example'], secret: 'keys' }]);

describe('key log', () => {
  it.each(['aes128gcm16-prfsha256-x25519', 'aes256-sha256-modp2048'])('exports keys that decrypt the captured IKE_AUTH (%s)', (proposals) => {
    const mk = (l: string, r: string, addr?: string) => connection({ name: 'gw', proposals, remoteAddrs: addr ? [addr] : ['%any'], local: { id: l }, remote: { id: r }, children: [child('net', { localTs: ['10.1.0.0/16'], remoteTs: ['10.2.0.0/16'] })] });
    const mkr = (l: string, r: string) => connection({ name: 'gw', proposals, local: { id: l }, remote: { id: r }, children: [child('net', { localTs: ['10.2.0.0/16'], remoteTs: ['10.1.0.0/16'] })] });
    const { sim, net, a, b } = makePair({ connections: [mk('a.example', 'b.example', '192.0.2.2')], credentials: psk }, { connections: [mkr('b.example', 'a.example')], credentials: psk }, { settings: { exportKeys: true } });
    a.ep.initiate('gw', 0);
    sim.runUntil(() => b.events.some((e) => e.type === 'child-install') && a.events.some((e) => e.type === 'child-install'), { maxTime: 60_000 });
    const lines = a.events.flatMap(keyLogLines).join('\n');
    const { ike, esp, errors } = keysFromJsonLines(lines);
    expect(errors).toEqual([]);
    expect(ike).toHaveLength(1);
    expect(esp).toHaveLength(2);
    // The IKE_AUTH request (third datagram, on 4500 after the marker) decrypts with SK_ei/SK_ai from the log alone.
    const authReq = net.captured({ event: 'send' })[2]!.bytes.subarray(4);
    const m = decodeMessage(authReq);
    expect(m.ok).toBe(true);
    const k = ike[0]!;
    const set = a.ep.ikeSa(a.ep.listSas()[0]!.sa.id)!.set!;
    const encryption = createEncryption(set.encr, k.encrKeyBits, Buffer.from(k.skEi, 'hex'), crypto);
    const integrity = k.integ ? createIntegrity(set.integ!, Buffer.from(k.skAi!, 'hex'), crypto) : undefined;
    const opened = decryptSK(authReq, m.ok ? m.value : (undefined as never), integrity ? { encryption, integrity } : { encryption });
    expect(opened.ok && opened.value.map((p) => p.type)).toEqual([35, 41, 41, 36, 39, 33, 44, 45]); // IDi, N(INITIAL_CONTACT), N(MOBIKE_SUPPORTED), IDr, AUTH, SA, TSi, TSr
    // The ESP lines name both directions with the addresses a capture shows.
    expect(esp.map((e) => `${e.src}>${e.dst}`).sort()).toEqual(['192.0.2.1>192.0.2.2', '192.0.2.2>192.0.2.1']);
    expect(b.events.some((e) => e.type === 'ike-keys')).toBe(true);
  });

  it('exports nothing without settings.exportKeys', () => {
    const mk = (l: string, r: string, addr?: string) => connection({ name: 'gw', remoteAddrs: addr ? [addr] : ['%any'], local: { id: l }, remote: { id: r }, children: [child('net')] });
    const { sim, a } = makePair({ connections: [mk('a.example', 'b.example', '192.0.2.2')], credentials: psk }, { connections: [mk('b.example', 'a.example')], credentials: psk });
    a.ep.initiate('gw', 0);
    sim.runUntil(() => a.events.some((e) => e.type === 'ike-up'), { maxTime: 60_000 });
    expect(a.events.some((e) => e.type === 'ike-keys')).toBe(false);
  });
});

describe('--key-log FILE (KeyLog.open)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cygnet-keylog-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const umask = process.umask();

  it('creates the file 0600 and appends lines', () => {
    const path = join(dir, 'new.keys');
    process.umask(0); // the mode must not depend on a permissive umask
    let k: KeyLog;
    try {
      k = KeyLog.open(path);
    } finally {
      process.umask(umask);
    }
    k.write('{"type":"ike"}');
    k.close();
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const again = KeyLog.open(path);
    again.write('{"type":"esp"}');
    again.close();
    expect(readFileSync(path, 'utf8')).toBe('{"type":"ike"}\n{"type":"esp"}\n');
  });

  it.each([0o640, 0o604, 0o620, 0o644])('refuses an existing file of mode %o, naming the file and the fix', (mode) => {
    const path = join(dir, `open-${mode.toString(8)}.keys`);
    writeFileSync(path, '');
    chmodSync(path, mode);
    expect(() => KeyLog.open(path)).toThrow(KeyLogError);
    expect(() => KeyLog.open(path)).toThrow(`--key-log ${path}: group or others may access it (mode 0${mode.toString(8)}) and it will hold keys; run 'chmod 600 ${path}' or remove it`);
    expect(readFileSync(path, 'utf8')).toBe('');
  });

  it('refuses a symlink, even to a file it could write', () => {
    const target = join(dir, 'target.keys');
    writeFileSync(target, '', { mode: 0o600 });
    const link = join(dir, 'link.keys');
    symlinkSync(target, link);
    expect(() => KeyLog.open(link)).toThrow(/--key-log .*link\.keys: is a symbolic link; key logs are never written through links/);
    expect(readFileSync(target, 'utf8')).toBe('');
  });

  it('refuses a FIFO instead of blocking', () => {
    const fifo = join(dir, 'fifo.keys');
    execFileSync('mkfifo', ['-m', '600', fifo]);
    expect(() => KeyLog.open(fifo)).toThrow(/is a FIFO or socket, not a regular file/);
  });

  it('the daemon refuses to start before opening any socket, and says why', async () => {
    const path = join(dir, 'daemon.keys');
    writeFileSync(path, '', { mode: 0o644 });
    chmodSync(path, 0o644);
    const conf = join(dir, 'swanctl.conf');
    writeFileSync(conf, 'connections { }\n');
    // Port 1 needs privileges; refusing the key log must come first, so the error is about the key log.
    const d = spawnDaemon(['--config', conf, '--key-log', path, '--port', '1', '--natt-port', '2', '--bind', '127.0.0.1']);
    expect(await d.exited).toBe(2);
    expect(d.output()).toContain(`cygnet daemon: --key-log ${path}: group or others may access it (mode 0644)`);
    expect(d.output()).not.toMatch(/bind|EACCES|listening/i);
  }, 30_000);
});

describe('no key material in logs at any --debug level (only --key-log writes keys)', () => {
  it.each(['aes128gcm16-prfsha256-x25519', 'aes256-sha256-modp2048'])('%s: every log event of both endpoints (what --debug "any 4" shows)', (proposals) => {
    const secret = 'Pre-Shared-Key-Sentinel-0123456789';
    const creds = pskCredentials([{ ids: ['a.example', 'b.example'], secret }]);
    const mk = (l: string, r: string, addr: string, ts: [string, string]) => connection({ name: 'gw', proposals, remoteAddrs: [addr], local: { id: l }, remote: { id: r }, children: [child('net', { localTs: [ts[0]], remoteTs: [ts[1]] })] });
    const { sim, a, b } = makePair(
      { connections: [mk('a.example', 'b.example', '192.0.2.2', ['10.1.0.0/16', '10.2.0.0/16'])], credentials: creds },
      { connections: [mk('b.example', 'a.example', '%any', ['10.2.0.0/16', '10.1.0.0/16'])], credentials: creds },
      { settings: { exportKeys: true } },
    );
    a.ep.initiate('gw', 0);
    sim.runUntil(() => b.events.some((e) => e.type === 'child-install') && a.events.some((e) => e.type === 'child-install'), { maxTime: 60_000 });
    a.ep.rekeyChild(a.ep.listSas()[0]!.children[0]!.id, sim.now);
    sim.runUntil(() => a.events.filter((e) => e.type === 'child-install').length >= 2, { maxTime: 60_000 });
    // Every key we know of, as the hex a careless dump would print (and base64, and the PSK as text).
    const keys: Uint8Array[] = [];
    for (const e of [...a.events, ...b.events]) {
      if (e.type === 'ike-keys') keys.push(e.SK_ei, e.SK_er, e.SK_ai, e.SK_ar);
      if (e.type === 'child-install') keys.push(e.inbound.encrKey, e.outbound.encrKey, e.inbound.integKey, e.outbound.integKey);
    }
    const needles = keys.filter((k) => k.length >= 8).flatMap((k) => [Buffer.from(k).toString('hex').slice(0, 16), Buffer.from(k).toString('base64').slice(0, 12)]);
    expect(needles.length).toBeGreaterThanOrEqual(16);
    needles.push(secret, Buffer.from(secret).toString('hex').slice(0, 16));
    // The pair keeps every log event's message whatever its level: all that --debug "any 4" would print.
    const logs = [...a.logs, ...b.logs];
    expect(logs.length).toBeGreaterThan(10);
    for (const line of logs) for (const n of needles) expect(line.toLowerCase()).not.toContain(n.toLowerCase());
  });
});
