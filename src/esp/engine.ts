/**
 * The ESP engine: RFC 4303 tunnel mode over RFC 3948 UDP encapsulation, sans-IO.
 *
 * The driver hands in batches with `now` (milliseconds, a plain number; the same clock IKE uses) and reads the
 * results back; the engine never reads a clock, opens a socket or sets a timer. Results live in reusable
 * struct-of-arrays objects, valid until the next call of the same method.
 *
 * Outbound pipeline, per packet (`encapsulate`):
 *   1. parse the inner IP header (addresses, protocol, ports) in place
 *   2. SPD lookup (first matching policy): discard / bypass / protect -> the policy's reqid -> outbound SA
 *      (none: ACQUIRE with the packet's selector, rate-limited per policy)
 *   3. next sequence number; exhaustion is a hard expiry, never a wrap (RFC 4303 section 3.3.3)
 *   4. in place when the caller left headroom/tailroom, else copy into a buffer of the bounded pool
 *   5. write SPI | Seq | IV in front, TFC pad + padding + trailer behind (the seal itself: see below)
 *   6. write the UDP header (zero checksum, RFC 3948 section 2.1) in front of the ESP header
 *   7. count bytes/packets, check soft/hard lifetimes (events)
 * then, for the whole batch, the seals in place (ICV appended): the AEAD calls run back to back, as a loop of raw
 * seals would, instead of between each packet's bookkeeping (bench/esp: the engine's own cost per packet drops).
 *
 * Inbound pipeline, per datagram (`decapsulate`), in the order RFC 4303 section 3.4 and the issue require:
 *   0. single 0xFF = NAT keepalive; 4 zero bytes = non-ESP marker, IKE (RFC 3948 sections 2.2, 2.3)
 *   1. SPI lookup
 *   2. replay check (ESN high half inferred, RFC 4303 Appendix A)
 *   3. ICV check + decryption in place (a second pass over the batch, for the same reason as the seals)
 *   4. replay commit (third pass; a duplicate inside one batch fails here, a hard lifetime reached by an earlier
 *      packet of the batch stops the later ones, so a batch decides exactly as packets one by one)
 *   5. padding and trailer checks; Next Header 59 = dummy packet (dropped, counted)
 *   6. inner packet policy check (inner addresses/ports inside the SA's selectors, RFC 4301 section 5.2)
 *   7. deliver: the inner packet is a view of the datagram's own buffer (TFC padding cut by the IP length)
 *
 * Nothing is logged per packet: every drop is a DropReason, counted in the engine and, when known, in the SA.
 */
import type { RandomSource } from '../crypto/random.js';
import { createProvider } from '../crypto/provider.js';
import type { CryptoBackend } from '../crypto/types.js';
import { DecapStatus, DropReason, EncapStatus, ESP_HEADER_BYTES, NH_IPV4, NH_IPV6, NH_NO_NEXT, NON_ESP_MARKER_BYTES, UDP_HEADER_BYTES } from './constants.js';
import { EspError } from './errors.js';
import { espPaddingValuesOk } from './packet.js';
import { DropAccounting, dropCountsByName } from './drop-accounting.js';
import { ESP_HEADROOM, ESP_TAILROOM, type EspEngineOptions, type EspEvent, type ExpireCause, type PacketRef, type PolicyParams } from './engine-types.js';
import { BufferPool, DecapResults, EncapResults } from './results.js';
import { Sad } from './sad.js';
import { EspSa, SEQ_SOFT_MARGIN, SHARED_SEQ_LAST, takeSharedSeq, type Endpoint, type SaDirection, type SaParams } from './sa.js';
import { Ipv4Key, packetSelector, PacketFields, parseIpPacket, readIpv4Key } from './selector.js';
import { Spd, type Policy } from './spd.js';

export * from './engine-types.js';
export { DecapResults, EncapResults } from './results.js';
export { dropCountsByName } from './drop-accounting.js';

/** Internal status of a datagram between the passes of `decapsulate` (never seen by callers). */
const PENDING = 255;
/** protect's answer when another thread holds the SA's seal lock (never a DropReason, never seen by callers). */
const SEAL_LOCK_BUSY = 254 as DropReason;

export class EspEngine {
  readonly backend: CryptoBackend;
  private readonly random: RandomSource;
  /** The SAD (sad.ts). */
  private readonly sad: Sad;
  /** The SPD (spd.ts). */
  private readonly spd = new Spd();
  private readonly events: EspEvent[] = [];
  private readonly pool: BufferPool;
  private readonly acquireIntervalMs: number;
  private readonly fields = new PacketFields();
  /** The IPv4 fast path's packet fields (selector.ts readIpv4Key). */
  private readonly key4 = new Ipv4Key();
  private readonly encapOut = new EncapResults();
  /** Per batch slot, from framing to sealFramed: the ESN high half, the end of the plaintext, the inner length. */
  private sealHi = new Uint32Array(64);
  private sealLo = new Uint32Array(64);
  private sealPtEnd = new Int32Array(64);
  private sealInner = new Int32Array(64);
  private readonly decapOut = new DecapResults();
  /** This engine's mark in shared SAs' seal locks, and the SAs whose lock it holds (EspSa.seqLock). */
  private readonly lockOwner: number;
  private readonly heldLocks: EspSa[] = [];
  /** encapsulateDummy: a dummy packet (dropped by the peer anyway) takes a number without the seal lock. */
  private sealingDummy = false;
  /** Per batch slot, from the replay check to the commit: the inferred ESN high half and the sequence number. */
  private openHi = new Uint32Array(64);
  private openLo = new Uint32Array(64);

  /** Drop counters and reports (drop-accounting.ts). */
  private readonly acct: DropAccounting;
  /** Drops per DropReason over all SAs (and those without an SA). */
  readonly drops: Float64Array;
  /**
   * Datagrams/packets processed: sent, delivered, IKE and keepalives seen; `paddingIgnored` counts packets
   * delivered with padding values other than 1, 2, 3, ... on SAs with the padding check off.
   */
  readonly stats = { sent: 0, delivered: 0, ike: 0, keepalives: 0, acquires: 0, bypassed: 0, paddingIgnored: 0 };

  constructor(opts: EspEngineOptions) {
    this.backend = opts.backend ?? createProvider();
    this.random = opts.random;
    this.sad = new Sad(this.backend, this.random, () => this.spd.bind(this.sad.activeOut));
    const poolBuffers = opts.poolBuffers ?? 1024;
    const poolBufferBytes = opts.poolBufferBytes ?? 2048;
    if (!Number.isInteger(poolBuffers) || poolBuffers < 1) throw new EspError('BAD_PARAMS', `ESP engine: poolBuffers ${poolBuffers}`);
    if (!Number.isInteger(poolBufferBytes) || poolBufferBytes < ESP_HEADROOM + ESP_TAILROOM + 40 || poolBufferBytes > 1 << 17) {
      throw new EspError('BAD_PARAMS', `ESP engine: poolBufferBytes ${poolBufferBytes} (need ${ESP_HEADROOM + ESP_TAILROOM + 40}..131072)`);
    }
    this.pool = new BufferPool(poolBuffers, poolBufferBytes);
    this.acquireIntervalMs = opts.acquireIntervalMs ?? 1000;
    this.acct = new DropAccounting(opts.log, opts.dropLogIntervalMs ?? 60_000);
    this.drops = this.acct.drops;
    this.lockOwner = opts.sealLockOwner ?? 1;
    if (!Number.isInteger(this.lockOwner) || this.lockOwner < 1 || this.lockOwner > 0x7fffffff) throw new EspError('BAD_PARAMS', `ESP engine: sealLockOwner ${opts.sealLockOwner}`);
  }

  // ---------------------------------------------------------------- control surface

  /** Installs an SA. An outbound SA becomes active for its reqid unless another one already is (see rollover). */
  installSa(p: SaParams): EspSa {
    return this.sad.install(p);
  }

  getSa(spi: number, direction: SaDirection): EspSa | undefined {
    return this.sad.get(spi, direction);
  }

  /** Removes an SA and wipes its keys. An active outbound SA is replaced by another one of its reqid, if any. */
  removeSa(spi: number, direction: SaDirection): void {
    this.sad.remove(spi, direction);
  }

  /** Moves an SA's peer endpoint (RFC 7296 2.23) and, given, our own (MOBIKE, RFC 4555 3.5). */
  setRemote(spi: number, direction: SaDirection, remote: Endpoint, local?: Endpoint): void {
    this.sad.setRemote(spi, direction, remote, local);
  }

  /**
   * Make-before-break, outbound half: traffic of the old SA's reqid moves to `newSpi` in one step and the old
   * outbound SA is removed (no packet is in flight inside a synchronous engine).
   */
  rolloverOutbound(oldSpi: number, newSpi: number): void {
    this.sad.rollover(oldSpi, newSpi);
  }

  /**
   * Make-before-break, inbound half: the old inbound SA keeps accepting packets still in flight for `graceMs`,
   * then `handleTimeout` removes it (a 'removed' event).
   */
  retireInbound(spi: number, graceMs: number, now: number): void {
    this.sad.retire(spi, graceMs, now);
  }

  /** The earliest time (ms) `handleTimeout` has work, or undefined. */
  nextTimeout(): number | undefined {
    return this.sad.nextTimeout();
  }

  handleTimeout(now: number): void {
    for (const sa of this.sad.expire(now)) this.events.push({ type: 'removed', spi: sa.spi, direction: 'in' });
  }

  /** Installs an SPD entry and returns its id. */
  installPolicy(p: PolicyParams): number {
    return this.spd.install(p, this.sad.activeOut);
  }

  removePolicy(id: number): void {
    this.spd.remove(id);
  }

  /** Next lifetime/removal event, or undefined. */
  pollEvent(): EspEvent | undefined {
    return this.events.shift();
  }

  // ---------------------------------------------------------------- outbound

  /**
   * Protects a batch of inner IP packets. Packets with at least ESP_HEADROOM bytes before `offset` and enough
   * tailroom after are sealed in place (their buffer is overwritten); others are copied into pool buffers.
   *
   * Shared outbound SAs (worker threads, EspSa.seqLock): the batch takes each SA's seal lock with its first packet
   * on it and keeps it until releaseSealLocks (or the next call). When another thread holds one, the batch stops
   * before that packet: `count` < packets.length and `blockedOn` is the busy lock; send what was sealed, release,
   * wait for the lock (Atomics.wait) and pass the rest again.
   */
  encapsulate(packets: readonly PacketRef[], now: number): EncapResults {
    // The previous batch's datagrams were sent (its buffers are reused now): its seal locks go too.
    if (this.heldLocks.length > 0) this.releaseSealLocks();
    const r = this.encapOut;
    const n = packets.length;
    r.reset(n);
    if (this.sealHi.length < n) {
      const cap = Math.max(n, this.sealHi.length * 2);
      this.sealHi = new Uint32Array(cap);
      this.sealLo = new Uint32Array(cap);
      this.sealPtEnd = new Int32Array(cap);
      this.sealInner = new Int32Array(cap);
    }
    // Two passes: framing (steps 1-2 written out in the loop, as decapsulate's steps are, then protect), then the
    // seals back to back.
    this.encapFramePass(packets, n, r, now);
    this.sealFramed(r, r.count, now);
    return r;
  }

  /**
   * Frees the seal locks this engine took (EspSa.seqLock): call once the batch's datagrams are with the kernel, so
   * another thread's numbers on the same SA follow them. A lock another thread took over meanwhile stays its own.
   */
  releaseSealLocks(): void {
    const held = this.heldLocks;
    for (let i = 0; i < held.length; i++) {
      const sa = held[i]!;
      sa.seqLockHeld = false;
      const lock = sa.seqLock;
      if (lock !== undefined && Atomics.compareExchange(lock, 0, this.lockOwner, 0) === this.lockOwner) Atomics.notify(lock, 0);
    }
    held.length = 0;
  }

  /** Steps 1-7 but the seal, for each packet; each path sets status, offset, length, buffer, sa and acquire once. */
  private encapFramePass(packets: readonly PacketRef[], n: number, r: EncapResults, now: number): void {
    const k = this.key4;
    const f = this.fields;
    for (let i = 0; i < n; i++) {
      const p = packets[i]!;
      const buf = p.buffer;
      const off = p.offset;
      const len = p.length;
      r.sa[i] = undefined;
      let reason: DropReason = DropReason.BadOuterPacket;
      if (off >= 0 && len >= 0 && off + len <= buf.length) {
        // 1-2. Parse and SPD lookup: IPv4 through the fast path (selector.ts readIpv4Key, the same decision),
        // anything else through the general parser.
        let pol: Policy | undefined;
        let parsed = true;
        let v4 = readIpv4Key(buf, off, len, k);
        if (v4) pol = this.spd.lookup4(k);
        else if (parseIpPacket(buf, off, len, f)) {
          pol = this.spd.lookup(buf, f);
          v4 = f.family === 4;
        } else parsed = false;
        if (parsed) {
          const sa = pol?.sa;
          if (pol === undefined) reason = DropReason.NoPolicy;
          else if (pol.action === 'protect' && sa !== undefined && !sa.hardExpired) {
            r.sa[i] = sa;
            reason = this.protect(sa, buf, off, len, v4 ? NH_IPV4 : NH_IPV6, i, r, now);
            if (reason === SEAL_LOCK_BUSY) {
              // Another thread is sealing on this SA: the batch ends here, before this packet (encapsulate's doc).
              r.sa[i] = undefined;
              r.count = i;
              r.blockedOn = sa.seqLock;
              return;
            }
          } else reason = this.encapsulateOther(pol, buf, off, len, i, r, now);
        }
      }
      if (reason !== DropReason.None) {
        r.status[i] = EncapStatus.Drop;
        r.reason[i] = reason;
        r.offset[i] = 0;
        r.length[i] = 0;
        r.buffer[i] = undefined;
        r.acquire[i] = undefined;
        this.acct.dropped(reason, r.sa[i], now);
      } else {
        r.reason[i] = DropReason.None;
      }
    }
  }

  /**
   * The crypto half of the outbound pipeline, for every packet of the batch that step 5 framed: the AEAD (or
   * cipher + MAC) calls run back to back, as in a loop of raw seals, rather than between the bookkeeping of each
   * packet (measured: the engine's own work then costs less per packet). Counters and lifetimes were already taken
   * in the first pass, so a hard limit stops the batch exactly where it did; a failing backend (never expected) is
   * undone and dropped.
   */
  private sealFramed(r: EncapResults, n: number, now: number): void {
    const sas = r.sa;
    const buffers = r.buffer;
    for (let i = 0; i < n; i++) {
      if (r.status[i] !== EncapStatus.Send) continue;
      const sa = sas[i];
      const out = buffers[i];
      if (sa === undefined || out === undefined) continue;
      const espOff = r.offset[i]!;
      try {
        sa.transform.seal(out, espOff, this.sealPtEnd[i]!, sa.esn, this.sealHi[i]!, this.sealLo[i]!);
      } catch {
        r.status[i] = EncapStatus.Drop;
        r.reason[i] = DropReason.CryptoError;
        r.offset[i] = 0;
        r.length[i] = 0;
        buffers[i] = undefined;
        sa.packets--;
        sa.bytes -= this.sealInner[i]!;
        this.stats.sent--;
        this.acct.dropped(DropReason.CryptoError, sa, now);
      }
    }
  }

  /** Step 2 for a policy other than protect with a usable SA: discard, bypass, or no SA (ACQUIRE). */
  private encapsulateOther(pol: Policy, buf: Uint8Array, off: number, len: number, i: number, r: EncapResults, now: number): DropReason {
    if (pol.action === 'discard') return DropReason.PolicyDiscard;
    if (pol.action === 'bypass') {
      r.status[i] = EncapStatus.Bypass;
      r.buffer[i] = buf;
      r.acquire[i] = undefined;
      r.offset[i] = off;
      r.length[i] = len;
      this.stats.bypassed++;
      return DropReason.None;
    }
    // RFC 4301 section 5.1 / RFC 7296 section 2.9: no SA -> ask IKE, reporting this packet's selector.
    if (now - pol.lastAcquire < this.acquireIntervalMs) return DropReason.NoSa;
    // The fast path filled only the IPv4 key: the ACQUIRE (rare, rate-limited) takes the general parse.
    const f = this.fields;
    if (!parseIpPacket(buf, off, len, f)) return DropReason.BadOuterPacket;
    pol.lastAcquire = now;
    r.status[i] = EncapStatus.Acquire;
    r.buffer[i] = undefined;
    r.acquire[i] = { policyId: pol.id, reqid: pol.reqid, packet: packetSelector(buf, f) };
    r.offset[i] = 0;
    r.length[i] = 0;
    this.stats.acquires++;
    return DropReason.None;
  }

  /** Steps 3-7 of the outbound pipeline for a payload at buf[off, off + len) on `sa`. */
  private protect(sa: EspSa, buf: Uint8Array, off: number, len: number, nh: number, i: number, r: EncapResults, now: number): DropReason {
    // 3. Sequence number: never wraps (RFC 4303 section 3.3.3); the end of the space is a hard expiry.
    let hi = sa.seqHi;
    let lo = sa.seqLo;
    const shared = sa.sharedSeq;
    // Threads sealing on one SA (src/daemon/workers) draw from one counter (sa.ts sharedSeq); -1 = space used up.
    // The first number of a batch takes the SA's seal lock too (sa.ts seqLock), or ends the batch when it is busy.
    if (shared !== undefined) {
      const lock = sa.seqLock;
      if (lock !== undefined && !sa.seqLockHeld && !this.sealingDummy) {
        if (Atomics.compareExchange(lock, 0, 0, this.lockOwner) !== 0) return SEAL_LOCK_BUSY;
        sa.seqLockHeld = true;
        this.heldLocks.push(sa);
      }
      lo = takeSharedSeq(shared);
    } else if (lo !== 0xffffffff) lo = lo + 1;
    else if (sa.esn && hi !== 0xffffffff) {
      hi = hi + 1;
      lo = 0;
    } else lo = -1;
    if (lo < 0) {
      this.hardExpire(sa, 'sequence');
      return DropReason.SaExpired;
    }
    sa.seqHi = hi;
    sa.seqLo = lo;

    // 4. Place the packet: in place when the caller left room, else into a pool buffer.
    const t = sa.transform;
    const tfc = sa.tfcPadTo;
    const body = tfc > len ? tfc : len;
    let out = buf;
    let payloadOff = off;
    if (payloadOff < sa.headBytes || payloadOff + body + sa.tailBytes > buf.length) {
      out = this.pool.take();
      payloadOff = ESP_HEADROOM;
      if (payloadOff + body + sa.tailBytes > out.length) return DropReason.TooBig;
      out.set(buf.subarray(off, off + len), payloadOff);
    }

    // 5. Frame and seal (packet.ts espSeal, written out here: one call less per packet). RFC 4303 section 2:
    // SPI | Seq | IV in front; TFC padding (2.7), padding 1, 2, 3, ... to the alignment (2.4), Pad Length and
    // Next Header (the IP version the tunnel carries, 2.6) behind; the ICV is appended by the seal.
    const espOff = payloadOff - t.ivBytes - ESP_HEADER_BYTES;
    const spi = sa.spi;
    out[espOff] = spi >>> 24;
    out[espOff + 1] = spi >>> 16;
    out[espOff + 2] = spi >>> 8;
    out[espOff + 3] = spi;
    out[espOff + 4] = lo >>> 24;
    out[espOff + 5] = lo >>> 16;
    out[espOff + 6] = lo >>> 8;
    out[espOff + 7] = lo;
    t.writeIv(out, espOff + ESP_HEADER_BYTES, hi, lo);
    let p = payloadOff + len;
    if (body > len) {
      out.fill(0, p, payloadOff + body);
      p = payloadOff + body;
    }
    const align = t.padAlign;
    // padAlign is a power of two (4, 8 or 16, transform.ts), so the padding to it is a mask, not two divisions.
    const padLen = -(body + 2) & (align - 1);
    for (let k = 1; k <= padLen; k++) out[p++] = k;
    out[p++] = padLen;
    out[p++] = nh;
    // The seal itself runs in sealFramed, after the whole batch is framed.
    this.sealHi[i] = hi;
    this.sealLo[i] = lo;
    this.sealPtEnd[i] = p;
    this.sealInner[i] = len;
    const end = p + t.icvBytes;

    // 6. UDP header (RFC 3948 section 2.1): checksum 0; length covers UDP header + ESP packet.
    if (sa.udpEncap) {
      const u = espOff - UDP_HEADER_BYTES;
      const sport = sa.localPort;
      const dport = sa.remotePort;
      const ulen = end - u;
      out[u] = sport >>> 8;
      out[u + 1] = sport;
      out[u + 2] = dport >>> 8;
      out[u + 3] = dport;
      out[u + 4] = ulen >>> 8;
      out[u + 5] = ulen;
      out[u + 6] = 0;
      out[u + 7] = 0;
    }
    r.status[i] = EncapStatus.Send;
    r.buffer[i] = out;
    r.acquire[i] = undefined;
    r.offset[i] = espOff;
    r.length[i] = end - espOff;
    this.stats.sent++;

    // 7. Counters and lifetimes.
    sa.lastUsed = now;
    sa.packets++;
    sa.bytes += len;
    if (sa.packets >= sa.lifetimeCheckAt || sa.bytes >= sa.lifetimeBytesCheckAt) this.checkLifetime(sa);
    if (!sa.softFired && (shared ? lo >= SHARED_SEQ_LAST - SEQ_SOFT_MARGIN : lo >= 0xffffffff - SEQ_SOFT_MARGIN && (!sa.esn || hi === 0xffffffff))) this.softExpire(sa, 'sequence');
    return DropReason.None;
  }

  /**
   * A dummy packet (Next Header 59, RFC 4303 section 2.6) of `length` zero bytes on the outbound SA of `reqid`,
   * for traffic flow confidentiality: the peer drops it silently. Result in slot 0 (Drop with NoSa when the reqid
   * has no usable SA).
   */
  encapsulateDummy(reqid: number, length: number, now: number): EncapResults {
    const r = this.encapOut;
    r.reset(1);
    r.buffer[0] = undefined;
    r.acquire[0] = undefined;
    r.offset[0] = 0;
    r.length[0] = 0;
    r.reason[0] = DropReason.None;
    const sa = this.sad.activeOut.get(reqid);
    r.sa[0] = sa;
    const n = Math.max(0, Math.min(length | 0, this.pool.bytes - ESP_HEADROOM - ESP_TAILROOM));
    const buf = this.pool.take();
    buf.fill(0, ESP_HEADROOM, ESP_HEADROOM + n);
    this.sealingDummy = true;
    const reason = !sa || sa.hardExpired ? DropReason.NoSa : this.protect(sa, buf, ESP_HEADROOM, n, NH_NO_NEXT, 0, r, now);
    this.sealingDummy = false;
    if (reason !== DropReason.None) {
      r.status[0] = EncapStatus.Drop;
      r.reason[0] = reason;
      this.acct.dropped(reason, sa, now);
    }
    this.sealFramed(r, 1, now);
    return r;
  }

  // ---------------------------------------------------------------- inbound

  /**
   * Processes a batch of received UDP payloads (port 4500). Each datagram is decrypted in place: a delivered
   * inner packet is a view of the datagram's own buffer.
   */
  decapsulate(datagrams: readonly PacketRef[], now: number): DecapResults {
    const r = this.decapOut;
    const n = datagrams.length;
    r.reset(n);
    if (this.openHi.length < n) {
      const cap = Math.max(n, this.openHi.length * 2);
      this.openHi = new Uint32Array(cap);
      this.openLo = new Uint32Array(cap);
    }
    // Three passes, so the AEAD calls run back to back as in a loop of raw opens (steps 0-2, step 3, steps 4-7).
    // Each pass is one method with the steps written out in its loop: TurboFan does not inline methods the size
    // of one step, and a call per step and packet was ~14 ns of the engine's ~80 ns; one method per pass also
    // gives each pass its own inlining budget (docs/PERFORMANCE.md section 5). Every slot ends with offset and
    // length written once, by the step that decides it.
    this.decapCheckPass(datagrams, n, r, now);
    this.decapOpenPass(datagrams, n, r, now);
    this.decapFinishPass(datagrams, n, r, now);
    return r;
  }

  /** Steps 0-2: keepalive / IKE / ESP, SPI, sizes, replay check. An ESP packet that passes is left PENDING. */
  private decapCheckPass(datagrams: readonly PacketRef[], n: number, r: DecapResults, now: number): void {
    const status = r.status;
    const openHi = this.openHi;
    const openLo = this.openLo;
    for (let i = 0; i < n; i++) {
      const d = datagrams[i]!;
      const buf = d.buffer;
      const off = d.offset;
      const len = d.length;
      r.buffer[i] = buf;
      r.sa[i] = undefined;
      r.reason[i] = DropReason.None;
      if (!(off >= 0 && len >= 0 && off + len <= buf.length)) {
        this.decapResult(r, i, DropReason.Malformed, now);
        continue;
      }
      if (len < ESP_HEADER_BYTES) {
        // 0. NAT-keepalive, non-ESP marker (IKE) or too short.
        this.decapResult(r, i, this.decapsulateShort(d, i, r), now);
        continue;
      }
      const spi = ((buf[off]! << 24) | (buf[off + 1]! << 16) | (buf[off + 2]! << 8) | buf[off + 3]!) >>> 0;
      if (spi === 0) {
        this.ike(d, i, r);
        continue;
      }

      // 1. SPI lookup (the last SA found is tried first: a batch is mostly runs of one SA).
      let sa = this.sad.lastIn;
      if (sa === undefined || sa.spi !== spi) {
        sa = this.sad.inbound.get(spi);
        if (sa === undefined) {
          this.acct.lastUnknownSpi = spi;
          this.decapResult(r, i, DropReason.UnknownSpi, now);
          continue;
        }
        this.sad.lastIn = sa;
      }
      r.sa[i] = sa;
      if (sa.hardExpired) {
        this.decapResult(r, i, DropReason.SaExpired, now);
        continue;
      }
      const t = sa.transform;
      const ctLen = len - ESP_HEADER_BYTES - t.ivBytes - t.icvBytes;
      // A whole number of cipher blocks (RFC 4303 section 2.4); AEADs are stream modes (block 1): no division.
      const block = t.cipherBlock;
      if (ctLen < 2 || (block !== 1 && ctLen % block !== 0)) {
        this.decapResult(r, i, DropReason.Malformed, now);
        continue;
      }

      // 2. Replay check before spending any crypto on the packet (RFC 4303 section 3.4.3).
      const lo = ((buf[off + 4]! << 24) | (buf[off + 5]! << 16) | (buf[off + 6]! << 8) | buf[off + 7]!) >>> 0;
      const replay = sa.replay!;
      const hi = sa.esn ? replay.inferHigh(lo) : 0;
      if (hi < 0 || !replay.check(hi, lo)) {
        this.decapResult(r, i, DropReason.Replay, now);
        continue;
      }
      openHi[i] = hi;
      openLo[i] = lo;
      status[i] = PENDING;
    }
  }

  /** Step 3 for every PENDING packet: ICV check and decryption in place. */
  private decapOpenPass(datagrams: readonly PacketRef[], n: number, r: DecapResults, now: number): void {
    const status = r.status;
    const openHi = this.openHi;
    for (let i = 0; i < n; i++) {
      if (status[i] !== PENDING) continue;
      const d = datagrams[i]!;
      const sa = r.sa[i];
      let reason: DropReason = DropReason.IcvFailure;
      try {
        // 3. ICV check and decryption in place.
        if (sa !== undefined && sa.transform.open(d.buffer, d.offset, d.offset + d.length, sa.esn, openHi[i]!)) reason = DropReason.None;
      } catch {
        // Only a misbehaving backend can get here: the packet is dropped and counted, the batch continues.
        reason = DropReason.CryptoError;
      }
      if (reason !== DropReason.None) this.decapResult(r, i, reason, now);
    }
  }

  /** Steps 4-7 for every packet whose ICV verified: replay commit, trailer, inner policy, delivery. */
  private decapFinishPass(datagrams: readonly PacketRef[], n: number, r: DecapResults, now: number): void {
    const status = r.status;
    const openHi = this.openHi;
    const openLo = this.openLo;
    const k = this.key4;
    for (let i = 0; i < n; i++) {
      if (status[i] !== PENDING) continue;
      const sa = r.sa[i];
      if (sa === undefined) {
        this.decapResult(r, i, DropReason.CryptoError, now);
        continue;
      }
      // A hard lifetime reached by an earlier packet of this batch stops this one, as it would one by one.
      if (sa.hardExpired) {
        this.decapResult(r, i, DropReason.SaExpired, now);
        continue;
      }
      // 4. Commit only now that the packet is authentic (a duplicate within the batch fails here).
      if (!sa.replay!.commit(openHi[i]!, openLo[i]!)) {
        this.decapResult(r, i, DropReason.Replay, now);
        continue;
      }
      const d = datagrams[i]!;
      const buf = d.buffer;
      const t = sa.transform;
      const ctOff = d.offset + ESP_HEADER_BYTES + t.ivBytes;
      const ctEnd = d.offset + d.length - t.icvBytes;

      // 5. Trailer. RFC 4303 section 2.4: the receiver SHOULD check the padding values; an SA installed with
      // paddingCheck = false (esp_padding_check = no, for peers known to pad otherwise) checks only that the Pad
      // Length fits, as the Linux kernel does, and counts what it let through.
      const padLen = buf[ctEnd - 2]!;
      const payloadLen = ctEnd - ctOff - 2 - padLen;
      if (payloadLen < 0) {
        this.decapResult(r, i, DropReason.BadPadding, now);
        continue;
      }
      if (!espPaddingValuesOk(buf, ctOff + payloadLen, padLen)) {
        if (sa.paddingCheck) {
          this.decapResult(r, i, DropReason.BadPadding, now);
          continue;
        }
        this.stats.paddingIgnored++;
        sa.paddingIgnored++;
      }
      const nh = buf[ctEnd - 1]!;
      if (nh !== NH_IPV4 && nh !== NH_IPV6) {
        this.decapResult(r, i, nh === NH_NO_NEXT ? DropReason.Dummy : DropReason.BadNextHeader, now);
        continue;
      }

      // 6. Inner packet: its IP header must agree with Next Header and its addresses with the SA's selectors. An
      // IPv4 packet takes the fast path (selector.ts readIpv4Key, the same decision); anything it does not handle,
      // and every IPv6 packet, the general one (innerGeneral: the length, or a DropReason negated).
      let innerLen: number;
      if (nh === NH_IPV4 && readIpv4Key(buf, ctOff, payloadLen, k)) {
        if (!sa.selectors.matchesInbound4(k)) {
          this.decapResult(r, i, DropReason.PolicyViolation, now);
          continue;
        }
        innerLen = k.totalLength;
      } else {
        innerLen = this.innerGeneral(buf, ctOff, payloadLen, nh, sa);
        if (innerLen < 0) {
          this.decapResult(r, i, -innerLen as DropReason, now);
          continue;
        }
      }

      // 7. Deliver; the IP total length cuts off any TFC padding (RFC 4303 section 2.7).
      status[i] = DecapStatus.Deliver;
      r.offset[i] = ctOff;
      r.length[i] = innerLen;
      this.stats.delivered++;
      sa.lastUsed = now;
      sa.packets++;
      sa.bytes += innerLen;
      // Below both the soft and hard limits (the common case) that is one comparison each, as on the way out.
      if (sa.packets >= sa.lifetimeCheckAt || sa.bytes >= sa.lifetimeBytesCheckAt) this.checkLifetime(sa);
    }
  }

  private decapResult(r: DecapResults, i: number, reason: DropReason, now: number): void {
    if (reason === DropReason.None) return;
    r.status[i] = DecapStatus.Drop;
    r.reason[i] = reason;
    r.offset[i] = 0;
    r.length[i] = 0;
    this.acct.dropped(reason, r.sa[i], now);
  }

  /** Step 0 for a datagram shorter than an ESP header: RFC 3948 section 2.3 NAT-keepalive, 2.2 non-ESP marker. */
  private decapsulateShort(d: PacketRef, i: number, r: DecapResults): DropReason {
    const buf = d.buffer;
    const off = d.offset;
    const len = d.length;
    if (len === 1 && buf[off] === 0xff) {
      r.status[i] = DecapStatus.Keepalive;
      r.offset[i] = 0;
      r.length[i] = 0;
      this.stats.keepalives++;
      return DropReason.None;
    }
    // SPI 0 is never an ESP SPI: the non-ESP marker.
    if (len >= NON_ESP_MARKER_BYTES && (buf[off]! | buf[off + 1]! | buf[off + 2]! | buf[off + 3]!) === 0) return this.ike(d, i, r);
    return DropReason.Malformed;
  }

  /**
   * Step 6 through the general parser (IPv6, or an IPv4 header the fast path does not take): the inner packet's
   * length, or the DropReason negated.
   */
  private innerGeneral(buf: Uint8Array, off: number, len: number, nh: number, sa: EspSa): number {
    const f = this.fields;
    if (!parseIpPacket(buf, off, len, f) || f.family !== (nh === NH_IPV4 ? 4 : 6)) return -DropReason.BadInnerPacket;
    if (!sa.selectors.matchesInbound(buf, f)) return -DropReason.PolicyViolation;
    return f.totalLength;
  }

  private ike(d: PacketRef, i: number, r: DecapResults): DropReason {
    r.status[i] = DecapStatus.Ike;
    r.offset[i] = d.offset + NON_ESP_MARKER_BYTES;
    r.length[i] = d.length - NON_ESP_MARKER_BYTES;
    this.stats.ike++;
    return DropReason.None;
  }

  // ---------------------------------------------------------------- drops

  /**
   * Drops the driver saw after the engine was done with the packets (a full TUN queue for delivered packets), so
   * they are counted and reported like the engine's own: `count` packets of `sa` (undefined when unknown).
   */
  noteDrops(reason: DropReason, sa: EspSa | undefined, count: number, now: number): void {
    this.acct.note(reason, sa, count, now);
  }

  // ---------------------------------------------------------------- lifetimes

  private checkLifetime(sa: EspSa): void {
    if (sa.packets >= sa.hardPackets) this.hardExpire(sa, 'packets');
    else if (sa.bytes >= sa.hardBytes) this.hardExpire(sa, 'bytes');
    else if (!sa.softFired) {
      if (sa.packets >= sa.softPackets) this.softExpire(sa, 'packets');
      else if (sa.bytes >= sa.softBytes) this.softExpire(sa, 'bytes');
    }
  }

  private softExpire(sa: EspSa, cause: ExpireCause): void {
    sa.softFired = true;
    this.events.push({ type: 'soft-expire', spi: sa.spi, direction: sa.direction, cause });
  }

  private hardExpire(sa: EspSa, cause: ExpireCause): void {
    if (sa.hardExpired) return;
    sa.hardExpired = true;
    this.events.push({ type: 'hard-expire', spi: sa.spi, direction: sa.direction, cause });
  }

  /** Engine-wide drop counters by reason name (only non-zero ones), for status displays and metrics. */
  dropCounts(): Record<string, number> {
    return dropCountsByName(this.drops);
  }

  /** All installed SAs (for status displays). */
  sas(): EspSa[] {
    return this.sad.all();
  }
}
