/**
 * The real IKE core behind the vici server: two IkeEndpoints in this process joined by a tiny real-time pump (no
 * sockets: datagrams are handed across directly), IkeViciBackend over endpoint A. swanctl (when installed) and the
 * cygnet CLI bring a tunnel up, list it, and take it down: the same path the daemon will use, minus UDP.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IkeEndpoint } from '../../src/ike/endpoint.js';
import { child, connection, pskCredentials } from '../../src/ike/config-builder.js';
import type { IkeEvent } from '../../src/ike/events.js';
import { createProvider } from '../../src/crypto/provider.js';
import { seededRandom } from '../../src/crypto/random.js';
import { IkeViciBackend } from '../../src/vici/ike-backend.js';
import { ViciServer } from '../../src/vici/server.js';
import { registerViciCommands } from '../../src/vici/commands.js';
import { runViciCli } from '../../src/vici/cli.js';

const psk = pskCredentials([{ ids: ['moon.example', 'sun.example'], secret: 'v+NkxY9LLZvwj4qCC2o/gGrWDF2d21jL' }]);
const crypto = createProvider();
const SWANCTL = ['/usr/sbin/swanctl', '/usr/bin/swanctl'].find((p) => existsSync(p));

function site(localId: string, remoteId: string, remoteAddr: string | undefined, localTs: string, remoteTs: string) {
  return connection({
    name: 'gw',
    ...(remoteAddr ? { localAddrs: ['192.0.2.1'] } : {}),
    proposals: 'aes128gcm16-prfsha256-x25519',
    remoteAddrs: remoteAddr ? [remoteAddr] : ['%any'],
    local: { id: localId },
    remote: { id: remoteId },
    children: [child('net', { localTs: [localTs], remoteTs: [remoteTs], espProposals: 'aes128gcm16' })],
  });
}

/** Endpoint A (192.0.2.1, initiator) and B (192.0.2.2) pumped every few ms in wall-clock time. */
class Pair {
  readonly t0 = Date.now();
  readonly a = new IkeEndpoint({ connections: [site('moon.example', 'sun.example', '192.0.2.2', '10.1.0.0/16', '10.2.0.0/16')], credentials: psk, crypto, random: seededRandom(1) });
  readonly b = new IkeEndpoint({ connections: [site('sun.example', 'moon.example', undefined, '10.2.0.0/16', '10.1.0.0/16')], credentials: psk, crypto, random: seededRandom(2) });
  onA: (e: IkeEvent) => void = () => {};
  private timer: NodeJS.Timeout | undefined;
  now = (): number => Date.now() - this.t0;
  pump = (): void => {
    const now = this.now();
    for (let moved = true; moved; ) {
      moved = false;
      for (const [from, to] of [[this.a, this.b], [this.b, this.a]] as const) {
        for (let t = from.pollTransmit(); t; t = from.pollTransmit()) {
          to.receive(t.data, t.remote, t.local, now);
          moved = true;
        }
      }
      for (let e = this.a.pollEvent(); e; e = this.a.pollEvent()) this.onA(e);
      while (this.b.pollEvent());
    }
    for (const ep of [this.a, this.b]) {
      const d = ep.nextTimeout();
      if (d !== undefined && d <= now) ep.handleTimeout(now);
    }
  };
  start(): void {
    this.timer = setInterval(this.pump, 5);
  }
  stop(): void {
    clearInterval(this.timer);
  }
}

describe('vici over the real IKE endpoint', () => {
  let dir: string;
  let path: string;
  let server: ViciServer;
  let pair: Pair;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cygnet-vici-e2e-'));
    path = join(dir, 'cygnet.vici');
    pair = new Pair();
    const backend = new IkeViciBackend(
      {
        initiate: (conn, c) => {
          const id = pair.a.initiate(conn, pair.now(), c !== undefined ? { child: c } : {});
          pair.pump();
          return id;
        },
        terminateIke: (id) => {
          const ok = pair.a.terminateIke(id, pair.now());
          pair.pump();
          return ok;
        },
        terminateChild: (id) => {
          const ok = pair.a.terminateChild(id, pair.now());
          pair.pump();
          return ok;
        },
        listSas: () => pair.a.listSas(),
        connections: () => pair.a.connections(),
        reload: () => ({ success: true }),
        now: pair.now,
      },
      { version: '0.1.0', plugins: ['ike', 'vici'] },
    );
    pair.onA = (e) => backend.onEvent(e);
    pair.start();
    server = new ViciServer({ path });
    registerViciCommands(server, backend);
    await server.listen();
  });
  afterAll(async () => {
    pair?.stop();
    await server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function cygnet(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    let stdout = '';
    let stderr = '';
    const code = await runViciCli([...argv, '--socket', path], { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
    return { code, stdout, stderr };
  }

  function swanctl(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      execFile(SWANCTL!, [...args, '--uri', `unix://${path}`], { timeout: 20_000 }, (err, stdout, stderr) => {
        resolve({ code: err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0, stdout, stderr });
      });
    });
  }

  it('cygnet up / list-sas / down with the real IKE core', async () => {
    const up = await cygnet('up', 'net');
    expect(up.stderr).toBe('');
    expect(up.code).toBe(0);
    expect(up.stdout).toMatch(/initiate completed successfully\n$/);
    expect(up.stdout).toMatch(/^\[(IKE|CFG|NET|ENC|CHD)\] /m);
    const ls = await cygnet('list-sas');
    expect(ls.stdout).toMatch(/^gw: #\d+, ESTABLISHED, IKEv2, [0-9a-f]{16}_i\* [0-9a-f]{16}_r$/m);
    expect(ls.stdout).toContain("  local  'moon.example' @ 192.0.2.1[4500]");
    expect(ls.stdout).toContain('  AES_GCM_16-128/PRF_HMAC_SHA2_256/CURVE_25519');
    expect(ls.stdout).toMatch(/^ {2}net: #\d+, reqid \d+, INSTALLED, TUNNEL-in-UDP, ESP:AES_GCM_16-128$/m);
    expect(ls.stdout).toContain('    local  10.1.0.0/16');
    const down = await cygnet('down', '--ike', 'gw');
    expect(down.code).toBe(0);
    expect((await cygnet('list-sas')).stdout).toBe('');
  });

  it.skipIf(!SWANCTL)('swanctl --initiate --child net / --list-sas / --terminate --ike gw with the real IKE core', async () => {
    const up = await swanctl('--initiate', '--child', 'net');
    expect(up.code).toBe(0);
    expect(up.stdout).toMatch(/initiate completed successfully\n$/);
    const ls = await swanctl('--list-sas');
    expect(ls.stdout).toMatch(/^gw: #\d+, ESTABLISHED, IKEv2, [0-9a-f]{16}_i\* [0-9a-f]{16}_r$/m);
    expect(ls.stdout).toMatch(/^ {2}net: #\d+, reqid \d+, INSTALLED, TUNNEL-in-UDP, ESP:AES_GCM_16-128$/m);
    expect(ls.stdout).toContain('    remote 10.2.0.0/16');
    // Our CLI prints exactly what swanctl prints (times may tick by a second; compare with them blanked).
    const blank = (s: string): string => s.replace(/\d+s ago/g, 'Ns ago').replace(/in \d+s/g, 'in Ns');
    expect(blank((await cygnet('list-sas')).stdout)).toBe(blank(ls.stdout));
    const down = await swanctl('--terminate', '--ike', 'gw');
    expect(down.code).toBe(0);
    expect(down.stdout).toMatch(/terminate completed successfully\n$/);
    expect((await swanctl('--list-sas')).stdout).toBe('');
  });
});
