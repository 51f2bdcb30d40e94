/**
 * The gateway core's ESP data path (ARCHITECTURE.md "A packet's path"): inbound ESP batched and decapsulated by
 * the engine (SPI, replay, ICV, inner policy: RFC 4303 3.4, RFC 4301 5.2), DPD activity, MSS clamping and one TUN
 * write per batch; outbound TUN batches sealed in place in the device's headroom and handed to the driver's UDP
 * batch, packets under a trap policy with no SA handed to the trap table (ACQUIRE). Also fits the TUN's MTU to a
 * CHILD SA's overhead.
 */
import type { ChildSaInfo } from '../ike/events.js';
import { DecapStatus, DROP_REASON_NAMES, DropReason, EncapStatus } from '../esp/constants.js';
import type { EncapResults, EspEngine, PacketRef } from '../esp/engine.js';
import type { EspSa } from '../esp/sa.js';
import { clampTcpMss, mssForMtu } from '../net/mss.js';
import { innerMtuFor } from '../net/esp-mtu.js';
import type { GatewayLog, GatewayNet, GatewayTun } from './contracts.js';
import { spiText } from './format.js';

/** Most ESP datagrams decapsulated in one engine call (bounds latency and the result arrays). */
export const ESP_BATCH_MAX = 128;
/** The path MTU the TUN's MTU is fitted to (Ethernet). */
const PATH_MTU = 1500;
/** ESP activity is reported to IKE's DPD at most this often per SA, not per packet. */
const ACTIVITY_INTERVAL_MS = 1000;

/**
 * How long a thread waits for another's seal lock (EspSa.seqLock) before taking it over: a holder keeps it for one
 * batch (well under a millisecond), so this long means it was descheduled for long or its thread is gone.
 */
export const SEAL_LOCK_WAIT_MS = 50;

/**
 * Blocks this thread until the seal lock is free (Atomics.wait; the main thread meets a busy lock only for the few
 * trap-queued packets it seals on a shared SA). After SEAL_LOCK_WAIT_MS the lock is taken over, so a thread that
 * died holding it cannot stop the others.
 */
function waitForSealLock(lock: Int32Array, log: GatewayLog): void {
  const holder = Atomics.load(lock, 0);
  if (holder === 0) return;
  if (Atomics.wait(lock, 0, holder, SEAL_LOCK_WAIT_MS) === 'timed-out' && Atomics.compareExchange(lock, 0, holder, 0) === holder) {
    log('esp', 1, `ESP: a thread held an outbound SA's seal lock for over ${SEAL_LOCK_WAIT_MS} ms: taken over (its packets may arrive behind the peer's replay window)`);
  }
}

/** What the data path needs from the gateway core. */
export interface EspPathHost {
  readonly engine: EspEngine;
  readonly net: GatewayNet;
  readonly tun: GatewayTun | undefined;
  readonly log: GatewayLog;
  readonly counters: { espOut: number; espDrops: number; delivered: number; undeliverable: number; mssClamped: number };
  /** TCP MSS clamping: an inner MTU, 'tun' for the TUN's current MTU, undefined for off (issue 7). */
  readonly mssMtu: number | 'tun' | undefined;
  /** The TUN's MTU was fixed (--mtu): it does not follow the negotiated ESP overhead. */
  readonly fixedMtu: boolean;
  /** Runs a call into a core, turning an exception into a fault (gateway.ts guard). */
  guard(what: string, f: () => void): void;
  fault(what: string, e: unknown): void;
  /** Tells IKE the peer behind this inbound SPI is alive (DPD, RFC 7296 2.4). */
  espActivity(spiIn: number, now: number): void;
  /** A packet under a trap policy without an SA (the trap table's ACQUIRE). */
  acquire(dst: Uint8Array, now: number, reqid: number | undefined, packet: Uint8Array): void;
}

export class EspPath {
  /** ESP datagrams received and not yet decapsulated (decapsulate). */
  private readonly batch: PacketRef[] = [];
  private readonly lastActivity = new Map<number, number>();

  constructor(private readonly host: EspPathHost) {}

  /** ESP datagrams waiting for decapsulate(). */
  get queued(): number {
    return this.batch.length;
  }

  /** Queues one ESP datagram (decrypted in place later: `data` must stay untouched until then). */
  queue(data: Uint8Array): void {
    this.batch.push({ buffer: data, offset: 0, length: data.length });
  }

  /** Inbound pipeline for the queued ESP: engine (SPI, replay, ICV, policy) -> DPD activity -> MSS clamp -> TUN. False when nothing was queued. */
  decapsulate(now: number): boolean {
    const batch = this.batch.splice(0);
    if (batch.length === 0) return false;
    const h = this.host;
    h.guard('ESP decapsulate', () => {
      const r = h.engine.decapsulate(batch, now);
      const out: Uint8Array[] = [];
      const outSa: (EspSa | undefined)[] = [];
      let lastSpi = -1;
      for (let i = 0; i < r.count; i++) {
        const st = r.status[i];
        if (st === DecapStatus.Deliver) {
          const sa = r.sa[i];
          if (sa && sa.spi !== lastSpi) {
            lastSpi = sa.spi;
            this.noteActivity(sa.spi, now);
          }
          const pkt = r.buffer[i]!.subarray(r.offset[i]!, r.offset[i]! + r.length[i]!);
          this.clampMss(pkt);
          out.push(pkt);
          outSa.push(sa);
        } else if (st === DecapStatus.Drop) {
          h.counters.espDrops++;
          h.log('esp', 3, `inbound ESP dropped: ${DROP_REASON_NAMES[r.reason[i]!] ?? r.reason[i]}`);
        }
      }
      if (out.length === 0) return;
      const tun = h.tun;
      if (tun && !tun.closed) {
        const written = tun.writeBatch(out);
        h.counters.delivered += written;
        // A full TUN queue refuses the tail of a batch: those packets are counted as drops on their SAs.
        for (let i = written; i < out.length; i++) h.engine.noteDrops(DropReason.TunFull, outSa[i], 1, now);
      } else h.counters.undeliverable += out.length;
    });
    return true;
  }

  /**
   * A batch read from the TUN (views valid until this returns): MSS clamp, then ESP sealed in place in the device's
   * headroom and tailroom, and the datagrams handed to the driver's batch.
   */
  fromTun(batch: readonly Uint8Array[], now: number): void {
    for (const p of batch) this.clampMss(p);
    const head = this.host.tun?.headroom ?? 0;
    const tail = this.host.tun?.tailroom ?? 0;
    const refs: PacketRef[] = batch.map((p) =>
      head > 0 || tail > 0
        ? { buffer: new Uint8Array(p.buffer, p.byteOffset - head, head + p.length + tail), offset: head, length: p.length }
        : { buffer: p, offset: 0, length: p.length },
    );
    this.seal(refs, now);
  }

  /**
   * Outbound pipeline: ESP engine -> UDP; packets without an SA under a trap policy wait in the trap queue. With
   * worker threads sharing an outbound SA (EspSa.seqLock) a batch can stop at a packet whose SA another thread is
   * sealing on: what was sealed goes out, this thread's seal locks are released, and the rest waits for the lock.
   */
  seal(refs: readonly PacketRef[], now: number): void {
    let rest = refs;
    for (;;) {
      const blockedOn = this.sealSome(rest, now);
      if (blockedOn === undefined) return;
      rest = rest.slice(blockedOn.done);
      waitForSealLock(blockedOn.lock, this.host.log);
    }
  }

  /** One engine call over `refs` and its datagrams sent; where it stopped when a seal lock was busy. */
  private sealSome(refs: readonly PacketRef[], now: number): { lock: Int32Array; done: number } | undefined {
    const h = this.host;
    let r: ReturnType<EspEngine['encapsulate']>;
    try {
      r = h.engine.encapsulate(refs, now);
    } catch (e) {
      h.engine.releaseSealLocks();
      h.fault('ESP encapsulate', e);
      return undefined;
    }
    const blocked = r.blockedOn;
    const done = r.count;
    // The locks are released whatever happens (a throwing driver must not leave other threads waiting on them).
    try {
      this.sendSealed(r, refs, now);
      // One sendmmsg per socket for the whole batch; the engine's buffers may be reused once this returns. The
      // datagrams are with the kernel now, so other threads may take numbers on these SAs again.
      h.net.flushEsp();
    } finally {
      h.engine.releaseSealLocks();
    }
    return blocked === undefined || done >= refs.length ? undefined : { lock: blocked, done };
  }

  /** Each slot of an encapsulate result: ESP to the driver's batch, a trapped packet to the trap table. */
  private sendSealed(r: EncapResults, refs: readonly PacketRef[], now: number): void {
    const h = this.host;
    const net = h.net;
    for (let i = 0; i < r.count; i++) {
      const st = r.status[i];
      if (st === EncapStatus.Send) {
        const sa = r.sa[i]!;
        if (sa.local && sa.remote) {
          h.counters.espOut++;
          net.sendEsp(r.buffer[i]!, r.offset[i]!, r.length[i]!, sa.local, sa.remote);
        }
      } else if (st === EncapStatus.Acquire) {
        const a = r.acquire[i];
        const ref = refs[i]!;
        if (a) h.acquire(a.packet.dstAddr, now, a.reqid, ref.buffer.subarray(ref.offset, ref.offset + ref.length));
      } else if (st === EncapStatus.Drop && r.reason[i] === DropReason.NoSa) {
        // A trap whose ACQUIRE was already reported (the engine rate-limits them): the packet waits too.
        const ref = refs[i]!;
        const pkt = ref.buffer.subarray(ref.offset, ref.offset + ref.length);
        const dst = destinationOf(pkt);
        if (dst) h.acquire(dst, now, undefined, pkt);
      }
    }
  }

  /**
   * Drains the engine's SA events (logged at esp 1, removals at 2); a soft or hard lifetime expiry (RFC 4301 4.4.2.1
   * byte/packet limits) goes to `expired`. True when there was any.
   */
  engineEvents(expired: (spi: number, kind: 'soft' | 'hard') => void): boolean {
    let any = false;
    for (let e = this.host.engine.pollEvent(); e; e = this.host.engine.pollEvent()) {
      any = true;
      this.host.log('esp', e.type === 'removed' ? 2 : 1, `ESP SA ${spiText(e.spi)} (${e.direction}): ${e.type}${'cause' in e ? ` (${e.cause})` : ''}`);
      if (e.type === 'soft-expire' || e.type === 'hard-expire') expired(e.spi, e.type === 'soft-expire' ? 'soft' : 'hard');
    }
    return any;
  }

  /** The CHILD SA with this inbound SPI is gone: no more activity bookkeeping for it. */
  forget(spiIn: number): void {
    this.lastActivity.delete(spiIn);
  }

  /**
   * Lowers the MSS option of a TCP SYN/SYN-ACK in place (RFC 9293 3.7.1, checksum per RFC 1624), so TCP across
   * the tunnel never builds segments ESP + UDP would push past the path MTU. Only TCP over IPv4/IPv6 is looked at.
   */
  private clampMss(p: Uint8Array): void {
    const mtu = this.host.mssMtu === 'tun' ? this.host.tun?.mtu : this.host.mssMtu;
    if (mtu === undefined || p.length < 40) return;
    const v = p[0]! >>> 4;
    if (v === 4 ? p[9] !== 6 : v === 6 ? p[6] !== 6 : true) return;
    if (clampTcpMss(p, mssForMtu(mtu, v === 4 ? 4 : 6)) === 'clamped') this.host.counters.mssClamped++;
  }

  /**
   * Issue 7: "the MTU follows the ESP + UDP overhead". Unless fixed, the TUN's MTU is lowered so an inner packet
   * of that size still fits a 1500-byte path once encapsulated with this CHILD SA's suite and outer family
   * (RFC 4303 section 2 + RFC 3948 section 2.1 overhead, src/net/esp-mtu.ts). It is never raised again.
   */
  fitTunMtu(c: ChildSaInfo): void {
    const h = this.host;
    const tun = h.tun;
    const sa = h.engine.getSa(c.spiOut, 'out');
    if (!tun || !sa || h.fixedMtu) return;
    const t = sa.transform;
    const v = c.remote.address.includes(':') ? 6 : 4;
    const mtu = innerMtuFor(PATH_MTU, { outerVersion: v, ivBytes: t.ivBytes, icvBytes: t.icvBytes, blockBytes: t.padAlign });
    if (mtu >= tun.mtu || mtu < 576) return;
    const from = tun.mtu;
    tun.setMtu(mtu).then(
      () => h.log('knl', 1, `MTU of ${tun.name} lowered from ${from} to ${mtu} for ${c.suite} over IPv${v}`),
      (err: unknown) => h.log('knl', 0, `cannot set the MTU of ${tun.name} to ${mtu}: ${err instanceof Error ? err.message : String(err)}`),
    );
  }

  /** Tells IKE the peer is alive (DPD, RFC 7296 2.4) at most once a second per SA, not per packet. */
  private noteActivity(spiIn: number, now: number): void {
    const last = this.lastActivity.get(spiIn);
    if (last !== undefined && now - last < ACTIVITY_INTERVAL_MS) return;
    this.lastActivity.set(spiIn, now);
    this.host.espActivity(spiIn, now);
  }
}

/** Destination address of an IPv4 or IPv6 packet (a view), or undefined if it is neither. */
function destinationOf(p: Uint8Array): Uint8Array | undefined {
  const v = p[0]! >>> 4;
  if (v === 4 && p.length >= 20) return p.subarray(16, 20);
  if (v === 6 && p.length >= 40) return p.subarray(24, 40);
  return undefined;
}
