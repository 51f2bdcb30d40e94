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

  it('UDP GSO: runs of equal-size datagrams to one peer leave as one message each; receivers get them one by one, in order', async () => {
    const rx1 = await bound('udp4', '127.0.0.1');
    const rx2 = await bound('udp4', '127.0.0.1');
    const tx = await bound('udp4', '127.0.0.1');
    const sender = UdpBatchSender.create(tx, { maxBatch: 128 })!;
    // 45 x 1400 + a 300-byte tail to rx1 (one run: 63300 bytes), then 5 x 1400 to rx2, then 1400, 200, 1400 to rx1.
    const plan: [dgram.Socket, number][] = [
      ...Array.from({ length: 45 }, () => [rx1, 1400] as [dgram.Socket, number]),
      [rx1, 300],
      ...Array.from({ length: 5 }, () => [rx2, 1400] as [dgram.Socket, number]),
      [rx1, 1400],
      [rx1, 200],
      [rx1, 1400],
    ];
    const got1 = collect(rx1, plan.filter(([s]) => s === rx1).length);
    const got2 = collect(rx2, 5);
    const buf = new Uint8Array(1500);
    plan.forEach(([s, len], i) => {
      buf.fill(i & 0xff);
      expect(sender.push(buf, 0, len, '127.0.0.1', s.address().port)).toBe(true);
    });
    expect(sender.flush()).toBe(plan.length);
    expect(sender.gso).toBe(true);
    // Runs: [45x1400 + 300], [5x1400], [1400, 200], [1400] -> three GSO messages, one plain, in one sendmmsg.
    expect(sender.stats).toMatchObject({ sent: plan.length, syscalls: 1, dropped: 0, errors: 0, gsoMessages: 3, gsoDatagrams: 46 + 5 + 2 });
    const expectFor = (rx: dgram.Socket) => plan.map(([s, len], i) => [s, len, i] as const).filter(([s]) => s === rx).map(([, len, i]) => [len, i & 0xff]);
    expect((await got1).map((m) => [m.length, m[0]])).toEqual(expectFor(rx1));
    expect((await got2).map((m) => [m.length, m[0]])).toEqual(expectFor(rx2));
    for (const m of await got1) expect(m.every((b) => b === m[0])).toBe(true);
    sender.close();
  });

  it('UDP GSO off: the same batch goes as plain datagrams', async () => {
    const rx = await bound('udp4', '127.0.0.1');
    const tx = await bound('udp4', '127.0.0.1');
    const sender = UdpBatchSender.create(tx, { gso: false })!;
    const got = collect(rx, 10);
    for (let i = 0; i < 10; i++) sender.push(new Uint8Array(1000).fill(i), 0, 1000, '127.0.0.1', rx.address().port);
    expect(sender.flush()).toBe(10);
    expect(sender.stats).toMatchObject({ sent: 10, syscalls: 1, gsoMessages: 0 });
    expect((await got).map((m) => m[0])).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
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
