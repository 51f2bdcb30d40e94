/**
 * Reloading the configuration (SIGHUP): unchanged connections keep their SAs, a changed one is re-established
 * with its new settings, a removed one is deleted (INFORMATIONAL Delete, RFC 7296 1.4.1); a broken file leaves the
 * running daemon as it was.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Daemon } from '../../src/daemon/driver.js';
import { toDaemonConfig } from '../../src/daemon/connections.js';
import { Logger } from '../../src/daemon/logger.js';
import { diffConfigs, parseSwanctlConfig, type SwanctlConfig } from '../../src/config/index.js';
import { freePorts, siteConf, spawnDaemon, waitFor } from './harness.js';

const daemons: Daemon[] = [];
afterEach(async () => {
  for (const d of daemons.splice(0)) await d.stop(200);
});

const up = (d: Daemon) => d.status().ikeSas.filter((s) => s.state === 'ESTABLISHED' && s.children.length > 0);

async function setup() {
  const [pa, pna, pb, pnb] = await freePorts(4);
  const confA = (esp: string) => siteConf({ localPort: pa!, remotePort: pb!, localId: 'moon.example', remoteId: 'sun.example', localTs: '10.1.0.0/16', remoteTs: '10.2.0.0/16', startAction: 'start', esp });
  const confB = siteConf({ localPort: pb!, remotePort: pa!, localId: 'sun.example', remoteId: 'moon.example', localTs: '10.2.0.0/16', remoteTs: '10.1.0.0/16', startAction: 'none', esp: 'aes128gcm16,aes256gcm16' });
  const lines: string[] = [];
  const mk = (text: string, port: number, natt: number) => {
    const { config } = parseSwanctlConfig(text, 'test.conf');
    const d = new Daemon({ config: toDaemonConfig(config), logger: new Logger({ write: (l) => lines.push(l) }), bind: ['127.0.0.1'], port, nattPort: natt });
    daemons.push(d);
    return { d, config };
  };
  const b = mk(confB, pb!, pnb!);
  const a = mk(confA('aes128gcm16'), pa!, pna!);
  await b.d.start();
  await a.d.start();
  await waitFor(() => up(a.d).length === 1 && up(b.d).length === 1, 10_000, () => lines.join('\n'));
  let current: SwanctlConfig = a.config;
  const reloadA = (text: string) => {
    const { config } = parseSwanctlConfig(text, 'test.conf');
    a.d.reload(toDaemonConfig(config), diffConfigs(current, config));
    current = config;
  };
  return { a: a.d, b: b.d, confA, reloadA, lines };
}

describe('daemon reload', () => {
  it('leaves SAs of unchanged connections alone', async () => {
    const { a, confA, reloadA } = await setup();
    const before = up(a)[0]!;
    reloadA(confA('aes128gcm16'));
    await new Promise((r) => setTimeout(r, 200));
    expect(up(a).map((s) => s.spiI)).toEqual([before.spiI]);
  });

  it('re-establishes a changed connection with its new settings', async () => {
    const { a, b, confA, reloadA, lines } = await setup();
    const before = up(a)[0]!;
    expect(before.children[0]!.suite).toBe('AES_GCM_16-128');
    reloadA(confA('aes256gcm16'));
    await waitFor(() => up(a).some((s) => s.spiI !== before.spiI) && up(b).some((s) => s.spiI !== before.spiI), 10_000, () => lines.join('\n'));
    await waitFor(() => up(a).length === 1 && up(b).length === 1, 5_000, () => lines.join('\n'));
    expect(up(a)[0]!.children[0]!.suite).toBe('AES_GCM_16-256');
    expect(lines.join('\n')).toContain("connection 'gw' changed: deleting IKE_SA gw[1]");
  });

  it('deletes the SAs of a removed connection, and the peer honours it', async () => {
    const { a, b, reloadA } = await setup();
    reloadA('connections {}\n');
    await waitFor(() => a.status().ikeSas.length === 0 && b.status().ikeSas.length === 0, 5_000);
  });
});

describe('SIGHUP', () => {
  it('a broken file is reported and the daemon keeps running', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cygnet-hup-'));
    const f = join(dir, 'c.conf');
    const [port, natt] = await freePorts(2);
    writeFileSync(f, 'connections {\n  gw {\n    remote_addrs = 127.0.0.1\n  }\n}\n');
    const p = spawnDaemon(['--config', f, '--bind', '127.0.0.1', '--port', String(port), '--natt-port', String(natt)]);
    await waitFor(() => p.output().includes('daemon running'), 10_000, () => p.output());
    writeFileSync(f, 'connections {\n  gw {\n    remote_port = nope\n  }\n}\n');
    p.signal('SIGHUP');
    await waitFor(() => p.output().includes('reload of'), 5_000, () => p.output());
    expect(p.output()).toMatch(/reload of .*c\.conf failed, keeping the running configuration: .*c\.conf:3: /);
    writeFileSync(f, 'connections {\n  gw {\n    remote_addrs = 127.0.0.2\n  }\n}\n');
    p.signal('SIGHUP');
    await waitFor(() => p.output().includes('reloaded: 0 added, 0 removed, 1 changed'), 5_000, () => p.output());
    p.signal('SIGTERM');
    expect(await p.exited, p.output()).toBe(0);
  });
});
