/**
 * Batched UDP transmit for the ESP data path: datagrams queued during one event-loop turn leave in ONE
 * sendmmsg(2) call on the fd of an already bound node:dgram socket (koffi into libc, as src/tun/linux.ts does).
 *
 * Why (bench/tunnel.ts --profile, cygnet <-> cygnet, iperf3 sender side): per ESP datagram the driver pays
 * `Buffer.from` (a copy into a fresh allocation, because dgram may send after the turn while the TUN and engine
 * buffers are reused), dgram's JS send path (validation, a SendWrap, a nextTick callback) and one sendmsg
 * syscall. Here the copy goes into a fixed native arena (no allocation, no GC), the kernel is entered once per
 * batch, and the send is synchronous, so the caller may reuse its buffers as soon as flush() returns.
 *
 * 1. push(): copy the datagram into slot i of the arena, write the peer's sockaddr (cached per address string)
 *    and the iovec length; the msghdr/iovec pointers are filled once at construction.
 * 2. flush(): sendmmsg(fd, msgvec, n, MSG_DONTWAIT) until all are accepted or the kernel says EAGAIN/ENOBUFS
 *    (the rest are dropped and counted, as a full socket buffer drops for dgram too); other errors are counted.
 *    A full queue flushes itself.
 * 3. Datagrams larger than a slot, and platforms where koffi or the fd is unavailable, use `fallback` (the
 *    driver's dgram send): createUdpBatchSender returns undefined when the fast path cannot work at all.
 *
 * Linux x86_64/arm64 layouts (struct mmsghdr = msghdr(56) + msg_len(4) + pad(4); iovec 16; sockaddr_in 16,
 * sockaddr_in6 28). The socket keeps receiving through dgram as before: only the transmit side is bypassed.
 *
 * UDP GSO (Linux 4.18+, `UDP_SEGMENT`; issue 17): consecutive queued datagrams to one peer of one size (the last may
 * be shorter) leave as ONE message whose iovecs are their slots and whose control message says the segment size;
 * the kernel walks its stack once for up to 64 of them and cuts them into datagrams at the end (or the receiver
 * takes them whole with UDP_GRO). ESP datagrams made from one TCP super-packet are exactly such a run. A kernel that
 * refuses it (EIO/EINVAL/ENOPROTOOPT on the first try) turns GSO off for this sender, and the batch goes as before.
 */
import type dgram from 'node:dgram';
import { koffiModule, libcFunction } from '../sys/libc.js';
import { isIPv4, isIPv6 } from 'node:net';

const AF_INET = 2;
const AF_INET6 = 10;
const MSG_DONTWAIT = 0x40;
const EINTR = 4;
const EAGAIN = 11;
const ENOBUFS = 105;
const MMSGHDR_SIZE = 64;
const SOL_UDP = 17;
const UDP_SEGMENT = 103;
/** CMSG_SPACE(sizeof(uint16_t)) on 64-bit Linux: a 16-byte cmsghdr + 2 bytes, aligned to 8. */
const CMSG_GSO_SPACE = 24;
/** UDP_MAX_SEGMENTS in include/linux/udp.h (64 before Linux 6.1's 128: the portable bound). */
const GSO_MAX_SEGMENTS = 64;
/** Bytes of one GSO message, below the 64 KB an IP packet holds with its headers. */
const GSO_MAX_BYTES = 65000;
const EINVAL = 22;
const EIO = 5;
const ENOPROTOOPT = 92;
const IOVEC_SIZE = 16;
const SOCKADDR_SIZE = 28;

interface Koffi {
  alloc(type: string, n: number): unknown;
  free(p: unknown): void;
  view(p: unknown, len: number): ArrayBuffer;
  address(p: unknown): bigint;
  errno(): number;
}

interface Native {
  koffi: Koffi;
  sendmmsg(fd: number, msgvec: unknown, vlen: number, flags: number): number;
  /** The same call with the vector given by address (to start at an entry inside it). */
  sendmmsgAt(fd: number, msgvec: bigint, vlen: number, flags: number): number;
}

let native: Native | undefined | null = null;

function loadNative(): Native | undefined {
  if (native !== null) return native;
  native = undefined;
  if (process.platform !== 'linux' || (process.arch !== 'x64' && process.arch !== 'arm64')) return undefined;
  const koffi = koffiModule() as unknown as Koffi | undefined;
  const sendmmsg = libcFunction<Native['sendmmsg']>('int sendmmsg(int fd, void *msgvec, unsigned int vlen, int flags)');
  const sendmmsgAt = libcFunction<Native['sendmmsgAt']>('int sendmmsg(int fd, uint64_t msgvec, unsigned int vlen, int flags)');
  if (koffi && sendmmsg && sendmmsgAt) native = { koffi, sendmmsg, sendmmsgAt };
  return native;
}

/** The OS file descriptor of a bound node:dgram socket (libuv's), or undefined where node does not expose it. */
export function dgramFd(socket: dgram.Socket): number | undefined {
  const sym = Object.getOwnPropertySymbols(socket).find((s) => s.description === 'state symbol');
  const state = sym ? (socket as unknown as Record<symbol, { handle?: { fd?: unknown } } | undefined>)[sym] : undefined;
  const fd = state?.handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : undefined;
}

export interface UdpBatchStats {
  /** Datagrams the kernel accepted. */
  sent: number;
  /** sendmmsg calls made. */
  syscalls: number;
  /** Datagrams dropped because the socket buffer was full (EAGAIN/ENOBUFS) or another error. */
  dropped: number;
  /** Errors other than a full buffer (the last errno is kept). */
  errors: number;
  lastErrno: number;
  /** Datagrams handed to the fallback (larger than a slot). */
  fallback: number;
  /** GSO messages sent (each carrying 2 or more datagrams) and the datagrams they carried. */
  gsoMessages: number;
  gsoDatagrams: number;
}

export interface UdpBatchSenderOptions {
  /** Datagrams per sendmmsg call (default 64, the TUN read batch). */
  maxBatch?: number;
  /** Bytes per slot (default 2048: an MTU-sized ESP-in-UDP datagram); larger datagrams use `fallback`. */
  slotSize?: number;
  /** Sends one datagram another way (the driver's dgram path); required for oversize datagrams. */
  fallback?: (data: Uint8Array, port: number, address: string) => void;
  /** UDP GSO for runs of equal-size datagrams to one peer (default true; off by itself where the kernel refuses). */
  gso?: boolean;
}

export class UdpBatchSender {
  readonly stats: UdpBatchStats = { sent: 0, syscalls: 0, dropped: 0, errors: 0, lastErrno: 0, fallback: 0, gsoMessages: 0, gsoDatagrams: 0 };
  /** Whether GSO is (still) in use. */
  gso: boolean;
  readonly maxBatch: number;
  readonly slotSize: number;
  readonly #n: Native;
  readonly #fd: number;
  readonly #family: 4 | 6;
  readonly #mem: unknown[];
  readonly #slots: Uint8Array;
  readonly #names: Uint8Array;
  readonly #iov: DataView;
  readonly #msgs: unknown;
  readonly #fallback: UdpBatchSenderOptions['fallback'];
  /** GSO message vector (one entry per run), its control messages, and the native addresses they point into. */
  readonly #gsoMsgs: DataView;
  readonly #gsoMsgsAt: bigint;
  readonly #cmsgs: DataView;
  readonly #cmsgsAt: bigint;
  readonly #namesAt: bigint;
  readonly #iovAt: bigint;
  readonly #nameLen: number;
  /** Datagrams per GSO run of the last flush (for the stats of partial sends). */
  readonly #runSize: Uint16Array;
  /** Address string -> encoded sockaddr (28 bytes), so a peer's address is parsed once. */
  readonly #addrCache = new Map<string, Uint8Array>();
  #count = 0;
  #closed = false;

  private constructor(n: Native, fd: number, family: 4 | 6, o: UdpBatchSenderOptions) {
    this.#n = n;
    this.#fd = fd;
    this.#family = family;
    this.maxBatch = o.maxBatch ?? 64;
    this.slotSize = o.slotSize ?? 2048;
    this.#fallback = o.fallback;
    const k = n.koffi;
    const slots = k.alloc('uint8_t', this.maxBatch * this.slotSize);
    const names = k.alloc('uint8_t', this.maxBatch * SOCKADDR_SIZE);
    const iov = k.alloc('uint8_t', this.maxBatch * IOVEC_SIZE);
    const msgs = k.alloc('uint8_t', this.maxBatch * MMSGHDR_SIZE);
    const gsoMsgs = k.alloc('uint8_t', this.maxBatch * MMSGHDR_SIZE);
    const cmsgs = k.alloc('uint8_t', this.maxBatch * CMSG_GSO_SPACE);
    this.#mem = [slots, names, iov, msgs, gsoMsgs, cmsgs];
    this.gso = o.gso ?? true;
    this.#gsoMsgs = new DataView(k.view(gsoMsgs, this.maxBatch * MMSGHDR_SIZE));
    this.#gsoMsgsAt = k.address(gsoMsgs);
    this.#cmsgs = new DataView(k.view(cmsgs, this.maxBatch * CMSG_GSO_SPACE));
    this.#cmsgsAt = k.address(cmsgs);
    this.#runSize = new Uint16Array(this.maxBatch);
    this.#slots = new Uint8Array(k.view(slots, this.maxBatch * this.slotSize));
    this.#names = new Uint8Array(k.view(names, this.maxBatch * SOCKADDR_SIZE));
    this.#iov = new DataView(k.view(iov, this.maxBatch * IOVEC_SIZE));
    this.#msgs = msgs;
    const m = new DataView(k.view(msgs, this.maxBatch * MMSGHDR_SIZE));
    const slotsAt = k.address(slots);
    const namesAt = k.address(names);
    const iovAt = k.address(iov);
    const nameLen = family === 6 ? 28 : 16;
    this.#namesAt = namesAt;
    this.#iovAt = iovAt;
    this.#nameLen = nameLen;
    for (let g = 0; g < this.maxBatch; g++) {
      // struct cmsghdr { size_t cmsg_len; int cmsg_level; int cmsg_type; } + uint16_t gso_size
      this.#cmsgs.setBigUint64(g * CMSG_GSO_SPACE, 18n, true);
      this.#cmsgs.setInt32(g * CMSG_GSO_SPACE + 8, SOL_UDP, true);
      this.#cmsgs.setInt32(g * CMSG_GSO_SPACE + 12, UDP_SEGMENT, true);
    }
    for (let i = 0; i < this.maxBatch; i++) {
      // struct iovec { void *iov_base; size_t iov_len; }
      this.#iov.setBigUint64(i * IOVEC_SIZE, slotsAt + BigInt(i * this.slotSize), true);
      // struct msghdr { void *msg_name; socklen_t msg_namelen; struct iovec *msg_iov; size_t msg_iovlen;
      //                 void *msg_control; size_t msg_controllen; int msg_flags; }; unsigned int msg_len;
      const b = i * MMSGHDR_SIZE;
      m.setBigUint64(b, namesAt + BigInt(i * SOCKADDR_SIZE), true);
      m.setUint32(b + 8, nameLen, true);
      m.setBigUint64(b + 16, iovAt + BigInt(i * IOVEC_SIZE), true);
      m.setBigUint64(b + 24, 1n, true);
    }
  }

  /**
   * A sender on `socket`'s fd (the socket must be bound; IPv4 sockets send to IPv4 peers, IPv6 to IPv6), or
   * undefined where the fast path is unavailable (not Linux x64/arm64, koffi missing, fd not exposed).
   */
  static create(socket: dgram.Socket, o: UdpBatchSenderOptions = {}): UdpBatchSender | undefined {
    const n = loadNative();
    const fd = dgramFd(socket);
    if (!n || fd === undefined) return undefined;
    const maxBatch = o.maxBatch ?? 64;
    const slotSize = o.slotSize ?? 2048;
    if (!Number.isInteger(maxBatch) || maxBatch < 1 || maxBatch > 1024) throw new RangeError(`UdpBatchSender: maxBatch ${maxBatch} is not in 1..1024`);
    if (!Number.isInteger(slotSize) || slotSize < 64 || slotSize > 65536) throw new RangeError(`UdpBatchSender: slotSize ${slotSize} is not in 64..65536`);
    const family = socket.address().family === 'IPv6' ? 6 : 4;
    return new UdpBatchSender(n, fd, family, o);
  }

  /** Datagrams queued and not yet flushed. */
  get pending(): number {
    return this.#count;
  }

  /**
   * Queues `data[offset, offset + length)` for `address:port`; the bytes are copied now, so the caller may reuse
   * its buffer at once. Flushes by itself when the queue is full. Returns false if the datagram was not queued
   * (bad address for this socket's family, or the sender is closed); oversize ones go to the fallback.
   */
  push(data: Uint8Array, offset: number, length: number, address: string, port: number): boolean {
    if (this.#closed) return false;
    if (length > this.slotSize) {
      if (!this.#fallback) return false;
      this.stats.fallback++;
      this.#fallback(data.subarray(offset, offset + length), port, address);
      return true;
    }
    const sa = this.#sockaddr(address);
    if (!sa) return false;
    if (this.#count === this.maxBatch) this.flush();
    const i = this.#count++;
    this.#slots.set(data.subarray(offset, offset + length), i * this.slotSize);
    this.#iov.setBigUint64(i * IOVEC_SIZE + 8, BigInt(length), true);
    const nb = i * SOCKADDR_SIZE;
    this.#names.set(sa, nb);
    // sin_port / sin6_port, network byte order, at offset 2 in both layouts.
    this.#names[nb + 2] = port >>> 8;
    this.#names[nb + 3] = port & 0xff;
    return true;
  }

  /** Sends everything queued. Returns the number of datagrams the kernel accepted. */
  flush(): number {
    const total = this.#count;
    if (total === 0) return 0;
    if (this.gso && total > 1) {
      const r = this.#flushGso(total);
      if (r !== undefined) {
        this.#count = 0;
        return r;
      }
    }
    this.#count = 0;
    let done = 0;
    while (done < total) {
      // sendmmsg starts at msgvec[0]; the unsent tail is moved to the front by re-issuing from an offset
      // only in the rare partial case (see below).
      const r = this.#n.sendmmsg(this.#fd, this.#msgs, total - done, MSG_DONTWAIT);
      this.stats.syscalls++;
      if (r > 0) {
        done += r;
        this.stats.sent += r;
        if (done < total) this.#shift(r, total - done + r);
        continue;
      }
      const e = this.#n.koffi.errno();
      if (e === EINTR) continue;
      if (e !== EAGAIN && e !== ENOBUFS) {
        this.stats.errors++;
        this.stats.lastErrno = e;
      }
      // Socket buffer full (or an error on the first datagram): drop the rest, as a full buffer would.
      this.stats.dropped += total - done;
      break;
    }
    return done;
  }

  /**
   * Sends the queue as GSO runs: consecutive datagrams with the same sockaddr whose lengths equal the run's first
   * (the last may be shorter), at most 64 and 65000 bytes per run. Returns undefined (nothing sent) when the
   * kernel refuses GSO, which then stays off for this sender.
   */
  #flushGso(total: number): number | undefined {
    const m = this.#gsoMsgs;
    const names = this.#names;
    let runs = 0;
    let i = 0;
    while (i < total) {
      const size = Number(this.#iov.getBigUint64(i * IOVEC_SIZE + 8, true));
      let j = i + 1;
      let bytes = size;
      while (j < total && j - i < GSO_MAX_SEGMENTS) {
        const len = Number(this.#iov.getBigUint64(j * IOVEC_SIZE + 8, true));
        if (len > size || bytes + len > GSO_MAX_BYTES || !sameName(names, i, j, this.#nameLen)) break;
        bytes += len;
        j++;
        if (len < size) break;
      }
      const b = runs * MMSGHDR_SIZE;
      const n = j - i;
      m.setBigUint64(b, this.#namesAt + BigInt(i * SOCKADDR_SIZE), true);
      m.setUint32(b + 8, this.#nameLen, true);
      m.setBigUint64(b + 16, this.#iovAt + BigInt(i * IOVEC_SIZE), true);
      m.setBigUint64(b + 24, BigInt(n), true);
      if (n > 1) {
        this.#cmsgs.setUint16(runs * CMSG_GSO_SPACE + 16, size, true);
        m.setBigUint64(b + 32, this.#cmsgsAt + BigInt(runs * CMSG_GSO_SPACE), true);
        m.setBigUint64(b + 40, BigInt(CMSG_GSO_SPACE), true);
      } else {
        m.setBigUint64(b + 32, 0n, true);
        m.setBigUint64(b + 40, 0n, true);
      }
      m.setInt32(b + 48, 0, true);
      this.#runSize[runs] = n;
      runs++;
      i = j;
    }
    let doneRuns = 0;
    let sent = 0;
    while (doneRuns < runs) {
      const r = this.#n.sendmmsgAt(this.#fd, this.#gsoMsgsAt + BigInt(doneRuns * MMSGHDR_SIZE), runs - doneRuns, MSG_DONTWAIT);
      this.stats.syscalls++;
      if (r > 0) {
        for (let g = doneRuns; g < doneRuns + r; g++) {
          const n = this.#runSize[g]!;
          sent += n;
          if (n > 1) {
            this.stats.gsoMessages++;
            this.stats.gsoDatagrams += n;
          }
        }
        doneRuns += r;
        continue;
      }
      const e = this.#n.koffi.errno();
      if (e === EINTR) continue;
      if (doneRuns === 0 && sent === 0 && (e === EIO || e === EINVAL || e === ENOPROTOOPT)) {
        // No UDP GSO here (an old kernel, or a device without it): plain sendmmsg from now on.
        this.gso = false;
        this.stats.lastErrno = e;
        return undefined;
      }
      if (e !== EAGAIN && e !== ENOBUFS) {
        this.stats.errors++;
        this.stats.lastErrno = e;
      }
      break;
    }
    this.stats.sent += sent;
    this.stats.dropped += total - sent;
    return sent;
  }

  /** Releases the native memory. The socket itself belongs to the caller. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#count = 0;
    for (const p of this.#mem) this.#n.koffi.free(p);
  }

  /** Moves entries [from, count) to the front (slot contents, lengths, addresses) after a partial send. */
  #shift(from: number, count: number): void {
    for (let j = 0; j < count - from; j++) {
      const src = from + j;
      const len = Number(this.#iov.getBigUint64(src * IOVEC_SIZE + 8, true));
      this.#slots.copyWithin(j * this.slotSize, src * this.slotSize, src * this.slotSize + len);
      this.#iov.setBigUint64(j * IOVEC_SIZE + 8, BigInt(len), true);
      this.#names.copyWithin(j * SOCKADDR_SIZE, src * SOCKADDR_SIZE, (src + 1) * SOCKADDR_SIZE);
    }
  }

  #sockaddr(address: string): Uint8Array | undefined {
    let sa = this.#addrCache.get(address);
    if (sa) return sa;
    sa = new Uint8Array(SOCKADDR_SIZE);
    if (this.#family === 4) {
      if (!isIPv4(address)) return undefined;
      sa[0] = AF_INET & 0xff; // sa_family_t is host order (little-endian on x64/arm64)
      const parts = address.split('.').map(Number);
      sa.set(parts, 4);
    } else {
      if (!isIPv6(address)) return undefined;
      sa[0] = AF_INET6 & 0xff;
      sa.set(ipv6Bytes(address), 8);
    }
    if (this.#addrCache.size > 1024) this.#addrCache.clear();
    this.#addrCache.set(address, sa);
    return sa;
  }
}

/** RFC 4291 section 2.2 text forms (with "::", and a dotted IPv4 tail) to 16 bytes. Input is already isIPv6(). */
export function ipv6Bytes(address: string): Uint8Array {
  let a = address.split('%')[0]!;
  const v4 = /^(.*:)(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(a);
  if (v4) {
    const [b0, b1, b2, b3] = v4.slice(2).map(Number) as [number, number, number, number];
    a = `${v4[1]}${((b0 << 8) | b1).toString(16)}:${((b2 << 8) | b3).toString(16)}`;
  }
  const groups = (t: string): number[] => (t === '' ? [] : t.split(':').map((x) => parseInt(x, 16)));
  const dbl = a.indexOf('::');
  const words =
    dbl < 0
      ? groups(a)
      : (() => {
          const h = groups(a.slice(0, dbl));
          const r = groups(a.slice(dbl + 2));
          return [...h, ...new Array<number>(Math.max(0, 8 - h.length - r.length)).fill(0), ...r];
        })();
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    out[2 * i] = (words[i] ?? 0) >>> 8;
    out[2 * i + 1] = (words[i] ?? 0) & 0xff;
  }
  return out;
}

/** Whether queue entries i and j go to the same sockaddr (family, port, address). */
function sameName(names: Uint8Array, i: number, j: number, len: number): boolean {
  const a = i * SOCKADDR_SIZE;
  const b = j * SOCKADDR_SIZE;
  for (let k = 0; k < len; k++) if (names[a + k] !== names[b + k]) return false;
  return true;
}
