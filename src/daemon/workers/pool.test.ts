/**
 * The worker pool without a TUN or root (issue 17): two real worker threads, an SO_REUSEPORT group on loopback,
 * an SA forwarded with its shared sequence counter and acknowledged by both workers, ESP steered by the SPI's low
 * byte to the worker the BPF program names, counters summed into the status, and the bad inputs named.
 */
import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { systemRandom } from '../../crypto/random.js';
import { createProvider } from '../../crypto/provider.js';
import { ENCR_AES_GCM_16 } from '../../esp/constants.js';
import { EspEngine } from '../../esp/engine.js';
import type { IkeEvent } from '../../ike/events.js';
import { workersOption } from '../../cli/daemon.js';
import type { Logger } from '../logger.js';
import type { DaemonStatus } from '../status.js';
import { type PoolHost, WorkerPool, WorkerPoolError } from './pool.js';
import { steeredIndex } from './reuseport.js';

const lines: string[] = [];
const log = { log: (g: string, l: number, m: string) => void lines.push(`${g} ${l} ${m}`) } as unknown as Logger;
let pool: WorkerPool | undefined;

afterEach(async () => {
  await pool?.stop();
  pool = undefined;
});

const ts = (a: number[]) => ({ tsType: 7, ipProtocol: 0, startPort: 0, endPort: 65535, startAddr: new Uint8Array(a), endAddr: new Uint8Array(a) });
const key = (b: number) => new Uint8Array(20).fill(b);

function install(spiIn: number, spiOut: number, port: number): Extract<IkeEvent, { type: 'child-install' }> {
  const child = {
    ikeSaId: 1,
    name: 'net',
    id: spiIn,
    mode: 'tunnel' as const,
    protocol: 'esp' as const,
    encrId: ENCR_AES_GCM_16,
    encrKeyBits: 128,
    integId: 0,
    esn: false,
    spiIn,
    spiOut,
    localTs: [ts([10, 1, 0, 1])],
    remoteTs: [ts([10, 2, 0, 1])],
    local: { address: '127.0.0.1', port },
    remote: { address: '127.0.0.1', port: 9 },
    encapsulated: true,
    suite: 'AES_GCM_16_128',
  };
  return {
    type: 'child-install',
    child,
    inbound: { spi: spiIn, encrKey: key(1), integKey: new Uint8Array(0) },
    outbound: { spi: spiOut, encrKey: key(2), integKey: new Uint8Array(0) },
    lifetimes: { softBytes: 0, hardBytes: 0, softPackets: 0, hardPackets: 0 },
    outboundActive: true,
  };
}

/** The daemon's side as the pool sees it: an engine the "core" installed the SA on, and its event listeners. */
function fakeHost(): PoolHost & { emit(e: IkeEvent): void; engine: EspEngine } {
  const engine = new EspEngine({ backend: createProvider(), random: systemRandom });
  const listeners: ((e: IkeEvent) => void)[] = [];
  return {
    engine,
    onEvent: (l) => void listeners.push(l),
    withCore: () => {
      throw new Error('not used here');
    },
    emit(e) {
      if (e.type === 'child-install') {
        const c = e.child;
        const common = { suite: { encr: c.encrId, encrKeyBits: 128, integ: 0 }, esn: false, localSelectors: c.localTs, remoteSelectors: c.remoteTs, reqid: 1, local: c.local, remote: c.remote, udpEncap: true };
        engine.installSa({ ...common, spi: e.inbound.spi, direction: 'in', encKey: e.inbound.encrKey, replayWindow: 64 });
        engine.installSa({ ...common, spi: e.outbound.spi, direction: 'out', encKey: e.outbound.encrKey });
      }
      for (const l of listeners) l(e);
    },
  };
}

async function until(what: string, f: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('WorkerPool', () => {
  it('forwards SAs with one shared counter, steers ESP by SPI to its worker and sums the counters', async () => {
    const port = 20000 + (process.pid % 20000);
    pool = await WorkerPool.start({ count: 2, log, nattPort: port, tun: undefined, mssMtu: undefined });
    expect(pool.count).toBe(2);
    const host = fakeHost();
    pool.attach(host);
    const fd = pool.socketFd('127.0.0.1', port);
    expect(fd).toBeGreaterThan(2);
    // Not the NAT-T port: bound as usual.
    expect(pool.socketFd('127.0.0.1', port + 1)).toBeUndefined();
    // The main thread's socket 0 of the group, as UdpSockets wraps it.
    const main = dgram.createSocket('udp4');
    await new Promise<void>((r) => main.bind({ fd: fd! }, r));
    const ikeSeen: number[] = [];
    main.on('message', (m) => ikeSeen.push(m.length));

    host.emit(install(0xabcdef00, 0x01000011, port));
    const out = host.engine.getSa(0x01000011, 'out')!;
    expect(out.sharedSeq).toBeInstanceOf(Uint32Array);
    expect(out.sharedSeq![0]).toBe(0);
    expect((out.sharedSeq!.buffer as unknown) instanceof SharedArrayBuffer).toBe(true);
    await pool.synced();
    await until('both workers acknowledged the SA', () => lines.some((l) => /CHILD_SA net\{\d+\} installed on all 2 workers/.test(l)));

    // ESP with SPI low bytes 0x00 and 0x01 (not decryptable: counted as drops by the worker that got them), an IKE
    // datagram with the non-ESP marker and a keepalive (both to the main thread's socket).
    const client = dgram.createSocket('udp4');
    const esp = (spi: number) => {
      const b = Buffer.alloc(60, 7);
      b.writeUInt32BE(spi >>> 0, 0);
      b.writeUInt32BE(1, 4);
      return b;
    };
    const send = (b: Uint8Array) => new Promise<void>((r) => client.send(b, port, '127.0.0.1', () => r()));
    for (let i = 0; i < 3; i++) await send(esp(0xabcdef00));
    for (let i = 0; i < 5; i++) await send(esp(0x12345601));
    await send(Buffer.from([0, 0, 0, 0, 1, 2, 3, 4]));
    await send(Buffer.from([0xff]));
    expect(steeredIndex(esp(0xabcdef00), 2)).toBe(1);
    expect(steeredIndex(esp(0x12345601), 2)).toBe(2);

    const base: DaemonStatus = { pid: 1, state: 'running', updated: '', ikeSas: [{ id: 1, name: 'c', state: 'ESTABLISHED', initiator: true, spiI: '', spiR: '', local: '', remote: '', localId: '', remoteId: '', suite: '', encapsulated: true, natLocal: false, natRemote: false, children: [{ id: 1, name: 'net', suite: '', spiIn: 'abcdef00', spiOut: '01000011', localTs: [], remoteTs: [], encapsulated: true, bytesIn: 0, packetsIn: 0 }] }], counters: { espIn: 0, espDrops: 0 } };
    await until('the workers reported the ESP', () => {
      const c = pool!.status(base).counters;
      return c['worker1.espIn'] === 3 && c['worker2.espIn'] === 5 && ikeSeen.length === 2;
    });
    const st = pool.status(base);
    expect(st.counters.workers).toBe(2);
    expect(st.counters.espIn).toBe(8);
    expect(st.counters.espDrops).toBe(8);
    // The 3 undecryptable datagrams on the installed inbound SA are its drops, from worker 1's replica.
    const child = st.ikeSas[0]!.children[0]!;
    expect(Object.values(child.dropsIn ?? {}).reduce((a, b) => a + b, 0)).toBe(3);
    expect(ikeSeen.sort()).toEqual([1, 8]);
    // vici list-sas and metrics read Daemon.childExtras: the workers' counters are added to the main engine's.
    const x = pool.childExtras<{ bytesIn?: number; packetsIn?: number; dropsIn?: Record<string, number> }>({ bytesIn: 0, packetsIn: 0 }, 0xabcdef00, 0x01000011);
    expect(x.packetsIn).toBe(0);
    expect(Object.values(x.dropsIn ?? {}).reduce((a, b) => a + b, 0)).toBe(3);
    expect(pool.saCounters(0x01000011, 'out')).toEqual({ bytes: 0, packets: 0, drops: {} });
    expect(pool.saCounters(0x0badcafe, 'in')).toBeUndefined();

    host.emit({ type: 'child-remove', child: install(0xabcdef00, 0x01000011, port).child, reason: 'test' });
    await pool.synced();
    client.close();
    main.close();
  }, 60_000);

  it('checks outbound byte/packet lifetimes against the sum of the workers (each replica alone would allow N times)', async () => {
    pool = await WorkerPool.start({ count: 2, log, nattPort: 4500, tun: undefined, mssMtu: undefined });
    const host = fakeHost();
    const expired: string[] = [];
    host.withCore = <T>(f: (gw: never, now: number) => T): T => f({ endpoint: { espExpired: (spi: number, kind: string) => void expired.push(`${spi.toString(16)} ${kind}`) } } as never, 0);
    pool.attach(host);
    const e = install(0xabcdef02, 0x01000013, 4500);
    host.emit({ ...e, lifetimes: { softBytes: 0, hardBytes: 0, softPackets: 10, hardPackets: 20 } });
    await pool.synced();
    // The workers' reports, as they post them every 500 ms (injected in one tick, before their next ones).
    const p = pool as unknown as { slots: unknown[]; onMessage(s: unknown, m: unknown): void };
    const report = (i: number, packets: number) => p.onMessage(p.slots[i], { t: 'stats', stats: { index: i + 1, counters: {}, sas: { [`out:${0x01000013}`]: { bytes: 0, packets, drops: {} } } } });
    report(0, 6);
    expect(expired).toEqual([]);
    report(1, 5);
    expect(expired).toEqual(['abcdef02 soft']);
    report(0, 9);
    expect(expired).toEqual(['abcdef02 soft']);
    report(1, 11);
    expect(expired).toEqual(['abcdef02 soft', 'abcdef02 hard']);
    report(1, 30);
    expect(expired).toHaveLength(2);
    expect(lines.some((l) => /outbound ESP SA 01000013: hard lifetime reached by the workers together \(0 bytes, 20 packets\)/.test(l))).toBe(true);
  }, 60_000);

  it('names bad worker counts', async () => {
    await expect(WorkerPool.start({ count: 1, log, nattPort: 4500, tun: undefined, mssMtu: undefined })).rejects.toThrow(WorkerPoolError);
    await expect(WorkerPool.start({ count: 256, log, nattPort: 4500, tun: undefined, mssMtu: undefined })).rejects.toThrow(/--workers 256: a pool needs 2\.\.255 workers/);
    expect(workersOption(undefined)).toBe(1);
    expect(workersOption('2')).toBe(2);
    expect(workersOption('auto')).toBeGreaterThanOrEqual(1);
    expect(() => workersOption('0')).toThrow(/--workers: '0' is not a thread count \(1-255\) or auto/);
    expect(() => workersOption('two')).toThrow(/--workers: 'two'/);
    expect(() => workersOption('300')).toThrow(/--workers: '300'/);
  });
});
