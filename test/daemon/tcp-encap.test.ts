/**
 * RFC 9329 TCP encapsulation between two Daemon drivers in one process: moon on 127.0.0.1, sun on 127.0.0.2 (same
 * ports, different addresses), in-memory TUNs. `encap = tcp` brings the tunnel up with IKE and ESP on one TCP
 * stream; a reset stream is reopened by the initiator and traffic resumes; `encap = tcp-fallback` tries UDP first
 * and moves to TCP when UDP gets no answer.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Daemon } from '../../src/daemon/driver.js';
import { toDaemonConfig } from '../../src/daemon/connections.js';
import { Logger } from '../../src/daemon/logger.js';
import { parseSwanctlConfig } from '../../src/config/index.js';
import { diffConfigs } from '../../src/config/diff.js';
import { buildIpv4, createMemoryTun, icmpEcho, type TunHost } from '../helpers/index.js';
import { freePorts, runCli, siteConf, spawnDaemon, waitFor, type DaemonProcess } from './harness.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const daemons: Daemon[] = [];
const processes: DaemonProcess[] = [];
afterEach(async () => {
  for (const d of daemons.splice(0)) await d.stop(200);
  for (const p of processes.splice(0)) p.kill();
});

const established = (d: Daemon) => d.status().ikeSas.some((s) => s.state === 'ESTABLISHED' && s.children.length > 0);

function collect(host: TunHost): Uint8Array[] {
  const got: Uint8Array[] = [];
  host.onWrite((p) => got.push(...p));
  return got;
}

async function pair(moonEncap: string, opts: { sunRemotePort?: number; retransmitMs?: number } = {}) {
  const [port, natt, tcp, dead] = await freePorts(4);
  const mk = (host: string, peer: string, ids: [string, string], ts: [string, string], encap: string, startAction: string, remotePort: number, lines: string[]) => {
    const text = siteConf({ localPort: port!, remotePort, localId: ids[0], remoteId: ids[1], localTs: ts[0], remoteTs: ts[1], startAction, connExtra: encap })
      .replace(/local_addrs = \S+/, `local_addrs = ${host}`)
      .replace(/remote_addrs = \S+/, `remote_addrs = ${peer}`);
    const { tun, host: tunHost } = createMemoryTun({ headroom: 64 });
    const d = new Daemon({
      config: toDaemonConfig(parseSwanctlConfig(text, 'test.conf').config),
      logger: new Logger({ write: (l) => lines.push(l), levels: new Map([['any', 2]]) }),
      bind: [host],
      port: port!,
      nattPort: natt!,
      tcpPort: tcp!,
      tun,
      ...(opts.retransmitMs ? { retransmit: { timeoutMs: opts.retransmitMs, tries: 3 } } : {}),
    });
    daemons.push(d);
    return { d, host: tunHost };
  };
  const lm: string[] = [];
  const ls: string[] = [];
  const sun = mk('127.0.0.2', '127.0.0.1', ['sun.example', 'moon.example'], ['10.2.0.0/16', '10.1.0.0/16'], '', 'none', port!, ls);
  // tcp-fallback test: moon's UDP goes to a port nobody listens on (UDP "blocked"), TCP reaches sun.
  const moon = mk('127.0.0.1', '127.0.0.2', ['moon.example', 'sun.example'], ['10.1.0.0/16', '10.2.0.0/16'], moonEncap, 'start', opts.sunRemotePort === undefined ? port! : dead!, lm);
  await sun.d.start();
  await moon.d.start();
  return { moon, sun, lm, ls };
}

async function ping(from: TunHost, to: Uint8Array[], n: number, src: string, dst: string): Promise<void> {
  const before = to.length;
  from.inject(buildIpv4(src, dst, 1, icmpEcho(7, n)));
  await waitFor(() => to.length > before, 3_000);
}

describe('RFC 9329 TCP encapsulation between two daemons', () => {
  it('encap = tcp: IKE and ESP on one TCP stream, named in logs and status; a reset stream is reopened', async () => {
    const { moon, sun, lm, ls } = await pair('encap = tcp');
    await waitFor(() => established(moon.d) && established(sun.d), 10_000, () => lm.concat(ls).join('\n'));
    const atSun = collect(sun.host);
    const atMoon = collect(moon.host);
    await ping(moon.host, atSun, 1, '10.1.0.5', '10.2.0.7');
    await ping(sun.host, atMoon, 2, '10.2.0.7', '10.1.0.5');
    expect(lm.join('\n')).toMatch(/IKE_SA gw\[\d+\] established between 127\.0\.0\.1\[moon\.example\]\.\.\.127\.0\.0\.2\[sun\.example\] over TCP 127\.0\.0\.1\[\d+\]-127\.0\.0\.2\[\d+\]/);
    expect(ls.join('\n')).toMatch(/established between .* over TCP 127\.0\.0\.2\[\d+\]-127\.0\.0\.1\[\d+\]/);
    expect(ls.join('\n')).toMatch(/TCP connection from 127\.0\.0\.1\[\d+\] to 127\.0\.0\.2\[\d+\] accepted/);
    const ms = moon.d.status();
    expect(ms.ikeSas[0]?.transport).toBe('tcp');
    expect(sun.d.status().ikeSas[0]?.transport).toBe('tcp');
    // Nothing went over UDP: sun's IKE and NAT-T sockets saw no datagram (the core counts everything it got).
    expect(ms.counters['tcpStreamsOpened']).toBe(1);
    expect(sun.d.status().counters['tcpStreamsAccepted']).toBe(1);

    // A reset mid-flight (RFC 9329 6.1): moon reconnects at once, sun answers on the new stream.
    const s = moon.d.tcp.streamOf({ address: '127.0.0.2', port: 0 });
    expect(s?.role).toBe('originator');
    s?.close('reset by the test', true);
    await waitFor(() => moon.d.status().counters['tcpReconnects'] === 1 && sun.d.status().counters['tcpStreamsAccepted'] === 2, 3_000, () => lm.concat(ls).join('\n'));
    await ping(moon.host, atSun, 3, '10.1.0.5', '10.2.0.7');
    await ping(sun.host, atMoon, 4, '10.2.0.7', '10.1.0.5');
    expect(lm.join('\n')).toMatch(/reset by the test .*reconnecting \(RFC 9329 6\.1\)/);
    expect(established(moon.d) && established(sun.d)).toBe(true);
  }, 20_000);

  it('encap = tcp-fallback: UDP first, TCP after the first retransmission gets no answer over UDP', async () => {
    const { moon, sun, lm, ls } = await pair('encap = tcp-fallback', { sunRemotePort: 0, retransmitMs: 400 });
    await waitFor(() => established(moon.d) && established(sun.d), 10_000, () => lm.concat(ls).join('\n'));
    const log = lm.join('\n');
    expect(log).toMatch(/sending packet: from 127\.0\.0\.1\[\d+\] to 127\.0\.0\.2\[\d+\]/);
    expect(log).toMatch(/no answer from 127\.0\.0\.2 over UDP, retransmitting over TCP port \d+ \(encap = tcp-fallback, RFC 9329 5\.1\)/);
    expect(log).toMatch(/established between .* over TCP/);
    expect(moon.d.status().counters['tcpFallbacks']).toBe(1);
    const atSun = collect(sun.host);
    await ping(moon.host, atSun, 1, '10.1.0.5', '10.2.0.7');
  }, 20_000);

  it('encap = tcp-fallback with UDP answering stays on UDP', async () => {
    const { moon, sun, lm, ls } = await pair('encap = tcp-fallback', { retransmitMs: 400 });
    await waitFor(() => established(moon.d) && established(sun.d), 10_000, () => lm.concat(ls).join('\n'));
    expect(moon.d.status().ikeSas[0]?.transport).toBe('udp');
    expect(moon.d.status().counters['tcpStreamsOpened']).toBe(0);
    expect(lm.join('\n')).not.toMatch(/over TCP/);
  }, 20_000);

  it('cygnet daemon --tcp-port: list-sas over vici says "over TCP" on both sides', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cygnet-tcp-'));
    const [port, natt, tcp] = await freePorts(3);
    const conf = (host: string, peer: string, ids: [string, string], ts: [string, string], extra: string, start: string) =>
      siteConf({ localPort: port!, remotePort: port!, localId: ids[0], remoteId: ids[1], localTs: ts[0], remoteTs: ts[1], startAction: start, connExtra: extra })
        .replace(/local_addrs = \S+/, `local_addrs = ${host}`)
        .replace(/remote_addrs = \S+/, `remote_addrs = ${peer}`);
    writeFileSync(join(dir, 'moon.conf'), conf('127.0.0.1', '127.0.0.2', ['moon.example', 'sun.example'], ['10.1.0.0/16', '10.2.0.0/16'], 'encap = tcp', 'none'));
    writeFileSync(join(dir, 'sun.conf'), conf('127.0.0.2', '127.0.0.1', ['sun.example', 'moon.example'], ['10.2.0.0/16', '10.1.0.0/16'], '', 'none'));
    const common = ['--port', String(port), '--natt-port', String(natt), '--tcp-port', String(tcp)];
    const sun = spawnDaemon(['--config', join(dir, 'sun.conf'), ...common, '--bind', '127.0.0.2', '--socket', join(dir, 'sun.vici')]);
    const moon = spawnDaemon(['--config', join(dir, 'moon.conf'), ...common, '--bind', '127.0.0.1', '--socket', join(dir, 'moon.vici')]);
    processes.push(sun, moon);
    await waitFor(() => sun.output().includes('daemon running') && moon.output().includes('daemon running'), 30_000, () => sun.output() + moon.output());
    expect(sun.output()).toContain(`listening on TCP 127.0.0.2[${tcp}]`);
    const up = runCli(['up', 'net', '--socket', join(dir, 'moon.vici')]);
    expect(await up.exited, up.output()).toBe(0);
    for (const [side, sock, peer] of [['moon', 'moon.vici', '127.0.0.2'], ['sun', 'sun.vici', '127.0.0.1']] as const) {
      const ls = runCli(['list-sas', '--socket', join(dir, sock)]);
      expect(await ls.exited, ls.output()).toBe(0);
      expect(ls.output(), side).toMatch(new RegExp(`remote '(moon|sun)\\.example' @ ${peer.replace(/\./g, '\\.')}\\[\\d+\\] over TCP`));
    }
    expect(moon.output()).toMatch(/established between .* over TCP/);
  }, 60_000);

  it('a reload that brings the first encap = tcp connection starts the TCP listener', async () => {
    const [port, natt] = await freePorts(2);
    const text = (encap: string) =>
      siteConf({ localPort: port!, remotePort: port!, localId: 'a', remoteId: 'b', localTs: '10.1.0.0/16', remoteTs: '10.2.0.0/16', startAction: 'none', connExtra: encap })
        .replace(/remote_addrs = \S+/, 'remote_addrs = 127.0.0.2');
    const before = parseSwanctlConfig(text(''), 'test.conf').config;
    const lines: string[] = [];
    const d = new Daemon({ config: toDaemonConfig(before), logger: new Logger({ write: (l) => lines.push(l) }), bind: ['127.0.0.1'], port: port!, nattPort: natt! });
    // No --tcp-port: the default TCP port is the NAT-T port, and nothing listens until a connection uses TCP.
    daemons.push(d);
    await d.start();
    expect(d.tcp.listener.addresses).toEqual([]);
    const after = parseSwanctlConfig(text('encap = tcp'), 'test.conf').config;
    d.reload(toDaemonConfig(after), diffConfigs(before, after));
    await waitFor(() => d.tcp.listener.addresses.length === 1, 3_000, () => lines.join('\n'));
    expect(d.tcp.listener.addresses).toEqual([{ address: '127.0.0.1', port: natt }]);
    expect(lines.join('\n')).toContain(`listening on TCP 127.0.0.1[${natt}]`);
    expect(d.tcp.transportOf({ address: '127.0.0.2', port: port! })).toBe('tcp');
    // Asking opened no connection.
    expect(d.status().counters['tcpStreamsOpened']).toBe(0);
  }, 20_000);
});
