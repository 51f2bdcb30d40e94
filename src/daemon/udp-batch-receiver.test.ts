import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { UdpBatchReceiver, type UdpRecvBatch } from './udp-batch-receiver.js';
import { UdpBatchSender } from './udp-batch-sender.js';

const sockets: dgram.Socket[] = [];
const receivers: UdpBatchReceiver[] = [];
afterEach(async () => {
  for (const r of receivers.splice(0)) await r.close();
  for (const s of sockets.splice(0)) s.close();
});

function bound(type: 'udp4' | 'udp6', address: string): Promise<dgram.Socket> {
  const s = dgram.createSocket(type);
  sockets.push(s);
  return new Promise((resolve) => s.bind(0, address, () => resolve(s)));
}

/** A receiver that copies what it is handed (the views are only valid during the call). */
function receiver(s: dgram.Socket, o: { gro?: boolean } = {}) {
  const got: { data: Buffer; address: string; port: number }[] = [];
  let batches = 0;
  const r = UdpBatchReceiver.create(s, {
    ...o,
    onBatch: (b: UdpRecvBatch) => {
      batches++;
      for (let i = 0; i < b.count; i++) got.push({ data: Buffer.from(b.data[i]!), address: b.address[i]!, port: b.port[i]! });
    },
  })!;
  expect(r).toBeDefined();
  receivers.push(r);
  return { r, got, batches: () => batches };
}

async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

const linux = process.platform === 'linux' && (process.arch === 'x64' || process.arch === 'arm64');
if (!linux) console.log(`[skip] UdpBatchReceiver: recvmmsg/UDP_GRO are used on Linux x64/arm64 only, this is ${process.platform}/${process.arch}`);

describe.runIf(linux)('UdpBatchReceiver', () => {
  it('takes over a bound socket: datagrams arrive in batches with their sender, in order; dgram no longer emits them', async () => {
    const rx = await bound('udp4', '127.0.0.1');
    let dgramSaw = 0;
    rx.on('message', () => dgramSaw++);
    const { r, got, batches } = receiver(rx);
    const tx = await bound('udp4', '127.0.0.1');
    const n = 200;
    for (let i = 0; i < n; i++) tx.send(Buffer.alloc(10 + i, i & 0xff), rx.address().port, '127.0.0.1');
    await until(() => got.length === n);
    expect(got.map((g) => g.data.length)).toEqual(Array.from({ length: n }, (_, i) => 10 + i));
    expect(got.every((g, i) => g.data.every((b) => b === (i & 0xff)))).toBe(true);
    expect(new Set(got.map((g) => `${g.address}:${g.port}`))).toEqual(new Set([`127.0.0.1:${tx.address().port}`]));
    expect(dgramSaw).toBe(0);
    expect(batches()).toBeLessThan(n); // several datagrams per wake-up
    expect(r.stats).toMatchObject({ datagrams: n, truncated: 0, errors: 0 });
  });

  it('UDP GRO: a GSO burst arrives as one buffer and is split back into the datagrams, in order', async () => {
    const rx = await bound('udp4', '127.0.0.1');
    const { r, got } = receiver(rx);
    expect(r.gro).toBe(true);
    const tx = await bound('udp4', '127.0.0.1');
    const sender = UdpBatchSender.create(tx)!;
    for (let i = 0; i < 40; i++) sender.push(new Uint8Array(1400).fill(i), 0, 1400, '127.0.0.1', rx.address().port);
    sender.push(new Uint8Array(99).fill(40), 0, 99, '127.0.0.1', rx.address().port);
    expect(sender.flush()).toBe(41);
    expect(sender.stats.gsoMessages).toBe(1);
    await until(() => got.length === 41);
    expect(got.map((g) => [g.data.length, g.data[0]])).toEqual([...Array.from({ length: 40 }, (_, i) => [1400, i]), [99, 40]]);
    // Loopback keeps the GSO packet whole up to the socket: one message, split here by its segment size.
    expect(r.stats.groDatagrams).toBe(41);
    expect(r.stats.messages).toBe(1);
    sender.close();
  });

  it('without GRO the same burst arrives as separate messages', async () => {
    const rx = await bound('udp4', '127.0.0.1');
    const { r, got } = receiver(rx, { gro: false });
    expect(r.gro).toBe(false);
    const tx = await bound('udp4', '127.0.0.1');
    const sender = UdpBatchSender.create(tx)!;
    for (let i = 0; i < 10; i++) sender.push(new Uint8Array(1000).fill(i), 0, 1000, '127.0.0.1', rx.address().port);
    sender.flush();
    await until(() => got.length === 10);
    expect(r.stats.groDatagrams).toBe(0);
    expect(r.stats.messages).toBe(10);
    expect(got.map((g) => g.data[0])).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    sender.close();
  });

  it('IPv6 senders are named in RFC 5952 form', async (ctx) => {
    let rx: dgram.Socket;
    try {
      rx = await bound('udp6', '::1');
    } catch (e) {
      console.log(`[skip] IPv6 sender names: cannot bind ::1 (${(e as Error).message})`);
      ctx.skip();
      return;
    }
    const { got } = receiver(rx);
    const tx = await bound('udp6', '::1');
    tx.send(Buffer.from('hi'), rx.address().port, '::1');
    await until(() => got.length === 1);
    expect(got[0]).toMatchObject({ address: '::1', port: tx.address().port });
  });

  it('a throwing handler does not stop receiving', async () => {
    const rx = await bound('udp4', '127.0.0.1');
    let calls = 0;
    const seen: number[] = [];
    const r = UdpBatchReceiver.create(rx, {
      onBatch: (b) => {
        calls++;
        for (let i = 0; i < b.count; i++) seen.push(b.data[i]![0]!);
        if (calls === 1) throw new Error('handler bug');
      },
    })!;
    receivers.push(r);
    const errors: unknown[] = [];
    const onErr = (e: unknown) => errors.push(e);
    process.on('uncaughtException', onErr);
    try {
      const tx = await bound('udp4', '127.0.0.1');
      tx.send(Buffer.from([1]), rx.address().port, '127.0.0.1');
      await until(() => seen.length === 1);
      tx.send(Buffer.from([2]), rx.address().port, '127.0.0.1');
      await until(() => seen.length === 2);
    } finally {
      process.off('uncaughtException', onErr);
    }
    expect(seen).toEqual([1, 2]);
    expect(r.stats.errors).toBe(1);
  });
});
