import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { dgramFd, ipv6Bytes, UdpBatchSender } from './udp-batch-sender.js';

const sockets: dgram.Socket[] = [];
afterEach(() => {
  for (const s of sockets.splice(0)) s.close();
});

function bound(type: 'udp4' | 'udp6', address: string): Promise<dgram.Socket> {
  const s = dgram.createSocket(type);
  sockets.push(s);
  return new Promise((resolve) => s.bind(0, address, () => resolve(s)));
}

function collect(s: dgram.Socket, n: number, timeoutMs = 3000): Promise<Buffer[]> {
  const got: Buffer[] = [];
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`received ${got.length} of ${n} datagrams`)), timeoutMs);
    s.on('message', (m) => {
      got.push(m);
      if (got.length === n) {
        clearTimeout(t);
        resolve(got);
      }
    });
  });
}

const linux = process.platform === 'linux' && (process.arch === 'x64' || process.arch === 'arm64');

describe('ipv6Bytes', () => {
  it.each([
    ['::', '00000000000000000000000000000000'],
    ['::1', '00000000000000000000000000000001'],
    ['2001:db8:1::2', '20010db8000100000000000000000002'],
    ['fe80::1%eth0', 'fe800000000000000000000000000001'],
    ['1:2:3:4:5:6:7:8', '00010002000300040005000600070008'],
    ['1::', '00010000000000000000000000000000'],
    ['::ffff:192.0.2.1', '00000000000000000000ffffc0000201'],
  ])('%s', (text, hex) => {
    expect(Buffer.from(ipv6Bytes(text)).toString('hex')).toBe(hex);
  });
});

describe.runIf(linux)('UdpBatchSender', () => {
  it('finds the fd of a bound dgram socket', async () => {
    const s = await bound('udp4', '127.0.0.1');
    expect(dgramFd(s)).toBeGreaterThan(2);
  });

  it('sends a batch in one sendmmsg, bytes and order intact, buffers reusable at once', async () => {
    const rx = await bound('udp4', '127.0.0.1');
    const tx = await bound('udp4', '127.0.0.1');
    const sender = UdpBatchSender.create(tx, { maxBatch: 64 })!;
    expect(sender).toBeDefined();
    const port = rx.address().port;
    const n = 50;
    const got = collect(rx, n);
    const scratch = new Uint8Array(1500);
    for (let i = 0; i < n; i++) {
      // The same scratch buffer every time: push() must copy.
      const len = 20 + i * 27;
      scratch.fill(i & 0xff);
      scratch[0] = i;
      expect(sender.push(scratch, 10, len, '127.0.0.1', port)).toBe(true);
    }
    expect(sender.pending).toBe(n);
    expect(sender.flush()).toBe(n);
    expect(sender.stats).toMatchObject({ sent: n, syscalls: 1, dropped: 0, errors: 0 });
    const msgs = await got;
    msgs.forEach((m, i) => {
      expect(m.length).toBe(20 + i * 27);
      expect(m[0]).toBe(i & 0xff);
      expect(m.every((b) => b === (i & 0xff))).toBe(true);
    });
    sender.close();
  });

  it('flushes by itself when the queue is full, sends to several peers, and hands oversize datagrams to the fallback', async () => {
    const a = await bound('udp4', '127.0.0.1');
    const b = await bound('udp4', '127.0.0.1');
    const tx = await bound('udp4', '127.0.0.1');
    const big: Uint8Array[] = [];
    const sender = UdpBatchSender.create(tx, { maxBatch: 4, slotSize: 256, fallback: (d) => big.push(d.slice()) })!;
    const ga = collect(a, 5);
    const gb = collect(b, 5);
    for (let i = 0; i < 10; i++) sender.push(new Uint8Array([i, 1, 2, 3]), 0, 4, '127.0.0.1', (i % 2 ? b : a).address().port);
    expect(sender.push(new Uint8Array(300), 0, 300, '127.0.0.1', a.address().port)).toBe(true);
    sender.flush();
    expect(sender.stats.sent).toBe(10);
    expect(sender.stats.syscalls).toBe(3); // 4 + 4 (auto) + 2 (flush)
    expect(sender.stats.fallback).toBe(1);
    expect(big[0]!.length).toBe(300);
    expect((await ga).map((m) => m[0])).toEqual([0, 2, 4, 6, 8]);
    expect((await gb).map((m) => m[0])).toEqual([1, 3, 5, 7, 9]);
    sender.close();
  });

  it('refuses an address of the other family and pushes after close', async () => {
    const tx = await bound('udp4', '127.0.0.1');
    const sender = UdpBatchSender.create(tx)!;
    expect(sender.push(new Uint8Array(4), 0, 4, '::1', 9)).toBe(false);
    expect(sender.push(new Uint8Array(4), 0, 4, 'not-an-ip', 9)).toBe(false);
    expect(sender.pending).toBe(0);
    sender.close();
    expect(sender.push(new Uint8Array(4), 0, 4, '127.0.0.1', 9)).toBe(false);
    expect(() => UdpBatchSender.create(tx, { maxBatch: 0 })).toThrow(/maxBatch 0/);
  });

  it('sends over IPv6', async (ctx) => {
    let rx: dgram.Socket;
    try {
      rx = await bound('udp6', '::1');
    } catch {
      ctx.skip();
      return;
    }
    const tx = await bound('udp6', '::1');
    const sender = UdpBatchSender.create(tx)!;
    const got = collect(rx, 3);
    for (let i = 0; i < 3; i++) sender.push(new Uint8Array([9, i]), 0, 2, '::1', rx.address().port);
    expect(sender.flush()).toBe(3);
    expect((await got).map((m) => m[1])).toEqual([0, 1, 2]);
    sender.close();
  });
});
