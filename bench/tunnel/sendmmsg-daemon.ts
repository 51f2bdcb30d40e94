/**
 * Bench-only `cygnet daemon` whose outbound ESP path uses UdpBatchSender (src/daemon/udp-batch-sender.ts) instead
 * of `Buffer.from` + `dgram.send` per datagram, to measure that change end to end without editing the driver.
 * It replaces Daemon.prototype.onTunPackets at run time with the same steps as the driver's, except step 3:
 *
 *   0. TCP MSS clamping of each packet              (as driver.ts, when its clampMss exists)
 *   1. TUN batch -> PacketRefs with headroom        (as driver.ts)
 *   2. engine.encapsulate(refs, now)                (as driver.ts)
 *   3. every Send result: sender.push(buffer, offset, length, remote) into the bound socket's sender (copied into
 *      a native arena), then ONE flush() per batch = one sendmmsg per socket per TUN read
 *   4. acquire / flush(now)                        (as driver.ts)
 *
 * It mirrors driver.ts as of commit b85a682 (MSS clamping added); if the driver's onTunPackets changes, mirror it
 * here, or the comparison measures more than the send path. Run as `node --import tsx bench/tunnel/sendmmsg-daemon.ts daemon --config ...` (bench/tunnel/pairs.ts does).
 */
import type dgram from 'node:dgram';
import { EncapStatus } from '../../src/esp/constants.js';
import type { EspEngine, PacketRef } from '../../src/esp/engine.js';
import { Daemon } from '../../src/daemon/driver.js';
import { UdpBatchSender } from '../../src/daemon/udp-batch-sender.js';
import type { Address } from '../../src/ike/config.js';
import type { TunDevice } from '../../src/tun/types.js';
import { runDaemonCommand } from '../../src/cli/daemon.js';

/** The driver's private members this patch uses (TypeScript-private, plain properties at run time). */
interface DriverInternals {
  state: string;
  clock(): number;
  engine: EspEngine;
  counters: { espOut: number; sendErrors: number };
  socketFor(local: Address, remote: Address): { socket: dgram.Socket } | undefined;
  send(local: Address, remote: Address, data: Uint8Array): void;
  acquire(dst: Uint8Array, now: number, reqid?: number): void;
  clampMss?(p: Uint8Array): void;
  fault(what: string, e: unknown): void;
  flush(now: number): void;
}

const senders = new WeakMap<dgram.Socket, UdpBatchSender | null>();

function senderFor(d: DriverInternals, local: Address, remote: Address): UdpBatchSender | undefined {
  const bound = d.socketFor(local, remote);
  if (!bound) return undefined;
  let s = senders.get(bound.socket);
  if (s === undefined) {
    s = UdpBatchSender.create(bound.socket, { fallback: (data, port, address) => d.send(local, { address, port }, Buffer.from(data)) }) ?? null;
    senders.set(bound.socket, s);
    if (s) allSenders.push(s);
  }
  return s ?? undefined;
}

/** TUN batches seen and packets in them (printed at exit: how much batching the load really gives). */
const seen = { batches: 0, packets: 0 };
const allSenders: UdpBatchSender[] = [];

function onTunPackets(this: DriverInternals, tun: TunDevice, batch: readonly Uint8Array[]): void {
  if (this.state !== 'running') return;
  seen.batches++;
  seen.packets += batch.length;
  const now = this.clock();
  if (this.clampMss) for (const p of batch) this.clampMss(p);
  const refs: PacketRef[] = batch.map((p) =>
    tun.headroom > 0
      ? { buffer: new Uint8Array(p.buffer, p.byteOffset - tun.headroom, tun.headroom + p.length), offset: tun.headroom, length: p.length }
      : { buffer: p, offset: 0, length: p.length },
  );
  let r: ReturnType<EspEngine['encapsulate']>;
  try {
    r = this.engine.encapsulate(refs, now);
  } catch (e) {
    this.fault('ESP encapsulate', e);
    return;
  }
  const used: UdpBatchSender[] = [];
  for (let i = 0; i < r.count; i++) {
    const st = r.status[i];
    if (st === EncapStatus.Send) {
      const sa = r.sa[i]!;
      if (!sa.local || !sa.remote) continue;
      this.counters.espOut++;
      const s = senderFor(this, sa.local, sa.remote);
      if (s) {
        if (s.pending === 0) used.push(s);
        if (!s.push(r.buffer[i]!, r.offset[i]!, r.length[i]!, sa.remote.address, sa.remote.port)) this.counters.sendErrors++;
      } else this.send(sa.local, sa.remote, Buffer.from(r.buffer[i]!.subarray(r.offset[i]!, r.offset[i]! + r.length[i]!)));
    } else if (st === EncapStatus.Acquire) {
      const a = r.acquire[i];
      if (a) this.acquire(a.packet.dstAddr, now, a.reqid);
    }
  }
  // One sendmmsg per socket for the whole TUN batch; the engine's buffers may be reused after this.
  for (const s of used) s.flush();
  this.flush(now);
}

(Daemon.prototype as unknown as { onTunPackets: typeof onTunPackets }).onTunPackets = onTunPackets;

process.on('exit', () => {
  const sent = allSenders.reduce((a, s) => a + s.stats.sent, 0);
  const calls = allSenders.reduce((a, s) => a + s.stats.syscalls, 0);
  const dropped = allSenders.reduce((a, s) => a + s.stats.dropped, 0);
  process.stderr.write(
    `bench sendmmsg: ${seen.packets} TUN packets in ${seen.batches} batches (${(seen.packets / Math.max(1, seen.batches)).toFixed(2)} per batch); ` +
      `${sent} datagrams in ${calls} sendmmsg calls (${(sent / Math.max(1, calls)).toFixed(2)} per call), ${dropped} dropped\n`,
  );
});

const argv = process.argv.slice(2);
const rest = argv[0] === 'daemon' ? argv.slice(1) : argv;
runDaemonCommand(rest).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (e: unknown) => {
    console.error(`cygnet: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    process.exit(1);
  },
);
