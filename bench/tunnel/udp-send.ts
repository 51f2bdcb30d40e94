/**
 * `npx tsx bench/tunnel/udp-send.ts [--ms=1000] [--size=1436]`: what one ESP datagram costs to send from node, the
 * way the driver does it today and the alternatives, 64 datagrams per event-loop turn (one TUN read batch):
 *
 *   dgram+copy   Buffer.from(subarray) + socket.send(buf, port, addr, cb)   (src/daemon/driver.ts today)
 *   dgram        socket.send(subarray, port, addr) without the copy or a callback (unsafe for reused buffers)
 *   sendmmsg     UdpBatchSender (src/daemon/udp-batch-sender.ts): copy into a native arena, one syscall per turn
 *
 * Loopback to a socket that does not read (the kernel drops once its buffer is full), so the figures are the
 * sender's cost (CPU microseconds per datagram, user + system), not a delivery rate.
 */
import dgram from 'node:dgram';
import { UdpBatchSender } from '../../src/daemon/udp-batch-sender.js';

const arg = (k: string, d: number) => Number(process.argv.find((a) => a.startsWith(`--${k}=`))?.slice(k.length + 3) ?? d);
const ms = arg('ms', 1000);
const size = arg('size', 1436);
const BATCH = 64;

function bind(): Promise<dgram.Socket> {
  const s = dgram.createSocket('udp4');
  return new Promise((r) => s.bind(0, '127.0.0.1', () => r(s)));
}

async function runCase(name: string, turn: (pkt: Uint8Array, port: number) => void, port: number): Promise<{ name: string; pps: number; usPerPkt: number }> {
  const arena = new Uint8Array(BATCH * 2048);
  const pkts = Array.from({ length: BATCH }, (_, i) => arena.subarray(i * 2048, i * 2048 + size).fill(i));
  let sent = 0;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await new Promise<void>((resolve) => {
    const step = (): void => {
      for (const p of pkts) turn(p, port);
      flushHook?.();
      sent += BATCH;
      if (performance.now() - t0 < ms) setImmediate(step);
      else resolve();
    };
    step();
  });
  const wall = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  return { name, pps: sent / wall, usPerPkt: (c.user + c.system) / sent };
}

let flushHook: (() => void) | undefined;

async function main(): Promise<void> {
  const rx = await bind();
  rx.setRecvBufferSize?.(1 << 16);
  const port = rx.address().port;
  const tx = await bind();
  const results = [];
  for (let round = 0; round < 2; round++) {
    flushHook = undefined;
    results.push(await runCase('dgram+copy', (p, pt) => tx.send(Buffer.from(p), pt, '127.0.0.1', () => {}), port));
    results.push(await runCase('dgram', (p, pt) => tx.send(p, pt, '127.0.0.1'), port));
    const s = UdpBatchSender.create(tx, { maxBatch: BATCH });
    if (!s) throw new Error('UdpBatchSender unavailable here');
    flushHook = () => s.flush();
    results.push(await runCase('sendmmsg', (p, pt) => s.push(p, 0, p.length, '127.0.0.1', pt), port));
    s.close();
  }
  // Keep the second round (JIT warm).
  for (const r of results.slice(3)) process.stdout.write(`${r.name.padEnd(11)} ${Math.round(r.pps).toLocaleString('en-US').padStart(10)} datagrams/s  ${r.usPerPkt.toFixed(2)} us CPU per datagram (${size} B)\n`);
  rx.close();
  tx.close();
}

void main();
