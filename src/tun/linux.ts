/**
 * Linux TUN device through koffi FFI into libc (Node has no ioctl; DESIGN.md section 4).
 *
 * 1. open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC), ioctl(TUNSETIFF) with IFF_TUN | IFF_NO_PI: raw IP
 *    packets, no 4-byte packet-information prefix (linux Documentation/networking/tuntap.rst).
 * 2. Read: non-blocking read() into a fixed pool of buffers, up to `batchSize` (64) packets per event-loop turn,
 *    handed to the reader as one batch; after a full batch the loop yields with setImmediate so timers and
 *    sockets get their turn.
 * 3. Idle: when read() says EAGAIN, a ReadinessWaiter (./readiness.ts) waits in poll() off the event loop and
 *    resumes step 2 when the fd is readable: by default a dedicated worker thread (tens of us per wake-up, unaffected
 *    by thread-pool load), or koffi's async call on the libuv pool ('pool': as fast when the pool is idle, 6-8 ms
 *    when other pool jobs queue ahead of it). No busy polling; the event loop never blocks. (fs.read on the fd
 *    costs a pool round trip per packet, 60-130k pps, DESIGN.md section 4, and hangs exit; net.Socket refuses a
 *    character device fd.)
 * 4. Write: write() per packet, synchronously (a TUN write does not block for long: the kernel queues the packet
 *    into the stack); EAGAIN/ENOBUFS drop the packet and count it.
 * 5. MTU and link up via ioctl(SIOCSIFMTU / SIOCSIFFLAGS) on an AF_INET datagram socket: no process spawned.
 *
 * While a reader is registered the pending wait keeps the process alive, as an open socket does; unref() lets
 * the process exit anyway.
 */
import { koffiModule, libcFunction, libcUnavailableReason } from '../sys/libc.js';
import { checkMtu, emptyTunStats, TunError, type PacketBatchHandler, type TunDevice, type TunStats } from './types.js';
import { createWaiter, type ReadinessWaiter, type WaiterKind } from './readiness.js';
import {
  coalesceTcp,
  completePartialChecksum,
  emptyVirtioNetHdr,
  MAX_SUPER_PACKET,
  readVirtioNetHdr,
  segmentTcp,
  VIRTIO_NET_HDR_F_NEEDS_CSUM,
  VIRTIO_NET_HDR_GSO_NONE,
  VIRTIO_NET_HDR_LEN,
  type TunWrite,
} from '../net/gso.js';

// linux/if_tun.h and linux/sockios.h constants (x86_64/arm64 share them).
const TUNSETIFF = 0x400454ca; // _IOW('T', 202, int)
const IFF_TUN = 0x0001;
const IFF_NO_PI = 0x1000;
const IFF_VNET_HDR = 0x4000;
/** One device, several queues (fds); the kernel spreads flows over them (linux tuntap.rst "Multiqueue tuntap"). */
const IFF_MULTI_QUEUE = 0x0100;
const TUNSETQUEUE = 0x400454d9; // _IOW('T', 217, int)
const IFF_ATTACH_QUEUE = 0x0200;
const IFF_DETACH_QUEUE = 0x0400;
const TUNSETOFFLOAD = 0x400454d0; // _IOW('T', 208, unsigned int)
const TUN_F_CSUM = 0x01;
const TUN_F_TSO4 = 0x02;
const TUN_F_TSO6 = 0x04;
/** Segment slots kept free before another read: a 64 KB super-packet at the smallest MSS we accept (536). */
const SEGMENTS_PER_READ = 123;
const SIOCGIFFLAGS = 0x8913;
const SIOCSIFFLAGS = 0x8914;
const SIOCSIFMTU = 0x8922;
const IFF_UP = 0x1;
const O_RDWR = 0o2;
const O_NONBLOCK = 0o4000;
const O_CLOEXEC = 0o2000000;
const AF_INET = 2;
const SOCK_DGRAM = 2;
const EINTR = 4;
const EAGAIN = 11;
const IFNAMSIZ = 16;
const IFREQ_SIZE = 40;

interface Libc {
  errno(): number;
  open(path: string, flags: number, ...va: unknown[]): number;
  ioctl(fd: number, req: number, ...va: unknown[]): number;
  read(fd: number, buf: Uint8Array, n: number): number;
  write(fd: number, buf: Uint8Array, n: number): number;
  close(fd: number): number;
  eventfd(init: number, flags: number): number;
  socket(domain: number, type: number, protocol: number): number;
  pollAsync(fds: Uint8Array, n: number, timeout: number, cb: (err: unknown, res: number) => void): void;
  strerror(errno: number): string;
}

let libc: Libc | undefined;
let libcError: string | undefined;

/** Binds the libc calls LinuxTun needs (src/sys/libc.ts loads libc once); undefined (reason kept) where impossible. */
function loadLibc(): Libc | undefined {
  if (libc || libcError) return libc;
  if (process.platform !== 'linux') {
    libcError = `TUN devices need Linux, this is ${process.platform}`;
    return undefined;
  }
  const koffi = koffiModule();
  if (!koffi) {
    libcError = libcUnavailableReason() ?? 'libc unavailable';
    return undefined;
  }
  try {
    const fn = <F>(proto: string): F => libcFunction<F>(proto)!;
    const poll = fn<{ async(...a: unknown[]): void }>('int poll(void *fds, unsigned long nfds, int timeout)');
    const strerror = fn<(e: number) => unknown>('const char *strerror(int errnum)');
    libc = {
      errno: () => koffi.errno(),
      open: fn<Libc['open']>('int open(const char *path, int flags, ...)'),
      ioctl: fn<Libc['ioctl']>('int ioctl(int fd, unsigned long request, ...)'),
      read: fn<Libc['read']>('long read(int fd, void *buf, unsigned long count)'),
      write: fn<Libc['write']>('long write(int fd, const void *buf, unsigned long count)'),
      close: fn<Libc['close']>('int close(int fd)'),
      eventfd: fn<Libc['eventfd']>('int eventfd(unsigned int initval, int flags)'),
      socket: fn<Libc['socket']>('int socket(int domain, int type, int protocol)'),
      pollAsync: (fds, n, timeout, cb) => poll.async(fds, n, timeout, cb),
      strerror: (e) => String(strerror(e)),
    };
  } catch (e) {
    libcError = `koffi could not bind libc: ${(e as Error).message}`;
  }
  return libc;
}

/** Why LinuxTun cannot work here, or undefined when it can be tried (root or CAP_NET_ADMIN is still needed). */
export function linuxTunUnavailableReason(): string | undefined {
  loadLibc();
  return libcError;
}

function ifreq(name: string): Uint8Array {
  const b = new Uint8Array(IFREQ_SIZE);
  const enc = new TextEncoder().encode(name);
  if (enc.length >= IFNAMSIZ) throw new TunError('BAD_OPTION', `interface name '${name}' is longer than ${IFNAMSIZ - 1} bytes`);
  b.set(enc, 0);
  return b;
}

function ifreqName(b: Uint8Array): string {
  const end = b.indexOf(0);
  return new TextDecoder().decode(b.subarray(0, end < 0 || end > IFNAMSIZ ? IFNAMSIZ : end));
}

export interface LinuxTunOptions {
  /** Interface name, or a pattern with %d for the kernel to number (default 'cyg%d'). */
  name?: string;
  /** MTU set on the interface at open (default 1400: 1500 minus ESP-in-UDP overhead, see src/net/esp-mtu.ts). */
  mtu?: number;
  /** Packets read per event-loop turn (default 64). */
  batchSize?: number;
  /** Free bytes in front of every packet read (default 0). */
  headroom?: number;
  /** Bring the link up at open (default true). */
  up?: boolean;
  /** How to wait for readability when idle (./readiness.ts): 'thread' (default) or 'pool'. */
  waiter?: WaiterKind;
  /**
   * TCP offloads (IFF_VNET_HDR + TUNSETOFFLOAD CSUM/TSO4/TSO6; default false): the kernel reads and writes TCP
   * super-packets of up to 64 KB, split into MSS-sized segments on read and coalesced again on write
   * (src/net/gso.ts). Falls back to plain packets when the kernel refuses (`offloadError` says why).
   */
  offload?: boolean;
  /** Free bytes after every packet read (default 64: the ESP trailer, RFC 4303 2.4-2.8, is at most 49). */
  tailroom?: number;
  /** Read errors other than EAGAIN end reading and are reported here (default: ignored after counting). */
  onError?: (e: TunError) => void;
  /**
   * IFF_MULTI_QUEUE (default false): this fd is one queue of the device; more queues attach by opening the same
   * name with `attach` (src/daemon/workers: one queue per worker thread, issue 17).
   */
  multiQueue?: boolean;
  /**
   * Attach a queue to an existing multi-queue device `name` (implies multiQueue): its MTU (given as `mtu`) and link
   * state are left as they are. Give it the device's offload setting: the kernel does not check that per queue.
   */
  attach?: boolean;
}

export class LinuxTun implements TunDevice {
  readonly name: string;
  readonly headroom: number;
  readonly tailroom: number;
  readonly stats: TunStats = emptyTunStats();
  /** TCP offloads in use (IFF_VNET_HDR with TSO4/TSO6): reads may be super-packets, split here. */
  readonly offload: boolean;
  /** Why offloads are off although they were asked for (the kernel refused), else undefined. */
  readonly offloadError: string | undefined;
  /** Super-packets read and segments made of them; coalesced writes and the packets they carried. */
  readonly offloadStats = { superPacketsIn: 0, segmentsIn: 0, superPacketsOut: 0, coalescedOut: 0, segmentErrors: 0 };
  #mtu: number;
  readonly #c: Libc;
  #fd: number;
  readonly #waiter: ReadinessWaiter;
  readonly #batchSize: number;
  /** One buffer per batch slot: headroom + 64 KiB, the largest packet a TUN read can return. */
  readonly #pool: Uint8Array[];
  readonly #slotSize: number;
  readonly #onError: ((e: TunError) => void) | undefined;
  #handler: PacketBatchHandler | undefined;
  #pumpScheduled = false;
  /** Where a read packet starts in its slot (after the virtio-net header, at least `headroom` in). */
  readonly #pktOff: number;
  /** Segment slots for split super-packets (offload only), handed out from #segNext during one batch. */
  readonly #segPool: Uint8Array[] = [];
  readonly #segCap: number = 0;
  #segNext = 0;
  readonly #vhdr = emptyVirtioNetHdr();
  /** One scratch buffer for writes with a virtio-net header (a write is synchronous: reused at once). */
  readonly #wbuf: Uint8Array | undefined;
  readonly #take = (n: number): Uint8Array | undefined => {
    if (this.#segNext >= this.#segPool.length || n > this.#segCap) return undefined;
    return this.#segPool[this.#segNext++]!.subarray(this.headroom, this.headroom + n);
  };
  #closed = false;

  private constructor(c: Libc, fd: number, name: string, o: LinuxTunOptions, offload: boolean, offloadError: string | undefined) {
    this.offload = offload;
    this.offloadError = offloadError;
    this.#c = c;
    this.#fd = fd;
    this.#waiter = createWaiter(o.waiter ?? 'thread', c, fd, () => this.#pump());
    this.name = name;
    this.#mtu = o.mtu ?? 1400;
    this.#batchSize = o.batchSize ?? 64;
    this.headroom = o.headroom ?? 0;
    this.#onError = o.onError;
    this.tailroom = o.tailroom ?? 64;
    this.#pktOff = offload ? Math.max(this.headroom, VIRTIO_NET_HDR_LEN) : this.headroom;
    this.#slotSize = this.#pktOff + 65536 + this.tailroom;
    if (offload) {
      // Segments are at most one MTU (9216 covers jumbo MTUs); enough slots for the batch's reads to be split.
      this.#segCap = 9216;
      const segSlot = this.headroom + this.#segCap + this.tailroom;
      const n = Math.max(2 * SEGMENTS_PER_READ, this.#batchSize * 8);
      const segArena = new ArrayBuffer(segSlot * n);
      for (let i = 0; i < n; i++) this.#segPool.push(new Uint8Array(segArena, i * segSlot, segSlot));
      this.#wbuf = new Uint8Array(VIRTIO_NET_HDR_LEN + MAX_SUPER_PACKET);
    }
    // One ArrayBuffer for the pool: fewer objects for the GC, and slots stay fixed for the device's life.
    const arena = new ArrayBuffer(this.#slotSize * this.#batchSize);
    this.#pool = Array.from({ length: this.#batchSize }, (_, i) => new Uint8Array(arena, i * this.#slotSize, this.#slotSize));
  }

  /** Opens (creates) a TUN interface. Needs CAP_NET_ADMIN. */
  static async open(o: LinuxTunOptions = {}): Promise<LinuxTun> {
    const c = loadLibc();
    if (!c) throw new TunError('UNSUPPORTED', libcError ?? 'libc unavailable');
    const mtu = o.mtu ?? 1400;
    checkMtu(mtu, 'LinuxTun');
    const batch = o.batchSize ?? 64;
    if (!Number.isInteger(batch) || batch < 1 || batch > 1024) throw new TunError('BAD_OPTION', `batchSize ${batch} is not in 1..1024`);
    let req = ifreq(o.name ?? 'cyg%d');
    const mq = o.multiQueue === true || o.attach === true;
    let fd = LinuxTun.#openFd(c, req, o.offload === true, mq);
    let offloadError: string | undefined;
    if (o.offload === true) {
      // TSO needs checksum offload too (the kernel hands over CHECKSUM_PARTIAL packets); no ECN, no USO: the kernel
      // segments those itself.
      if (c.ioctl(fd, TUNSETOFFLOAD, 'unsigned long', TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6) < 0) {
        const e = c.errno();
        offloadError = `TUNSETOFFLOAD: ${c.strerror(e)}`;
        c.close(fd);
        req = ifreq(o.name ?? 'cyg%d');
        fd = LinuxTun.#openFd(c, req, false, mq);
      }
    }
    const offload = o.offload === true && offloadError === undefined;
    if (o.waiter !== undefined && o.waiter !== 'thread' && o.waiter !== 'pool') {
      c.close(fd);
      throw new TunError('BAD_OPTION', `waiter '${String(o.waiter)}' is neither 'thread' nor 'pool'`);
    }
    let tun: LinuxTun;
    try {
      tun = new LinuxTun(c, fd, ifreqName(req), o, offload, offloadError);
    } catch (e) {
      c.close(fd);
      throw new TunError('OPEN_FAILED', `TUN readiness waiter: ${(e as Error).message}`);
    }
    if (o.attach === true) return tun;
    try {
      tun.#ifIoctlMtu(mtu);
      if (o.up ?? true) tun.#ifSetUp(true);
    } catch (e) {
      await tun.close();
      throw e;
    }
    return tun;
  }

  /** open(/dev/net/tun) + TUNSETIFF, with IFF_VNET_HDR when offloads are wanted; `req` gets the kernel's name. */
  static #openFd(c: Libc, req: Uint8Array, vnetHdr: boolean, multiQueue: boolean): number {
    const fd = c.open('/dev/net/tun', O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
      const e = c.errno();
      throw new TunError('OPEN_FAILED', `open /dev/net/tun: ${c.strerror(e)}`, e);
    }
    new DataView(req.buffer).setUint16(IFNAMSIZ, IFF_TUN | IFF_NO_PI | (vnetHdr ? IFF_VNET_HDR : 0) | (multiQueue ? IFF_MULTI_QUEUE : 0), true);
    if (c.ioctl(fd, TUNSETIFF, 'void *', req) < 0) {
      const e = c.errno();
      c.close(fd);
      throw new TunError('IOCTL_FAILED', `TUNSETIFF ${ifreqName(req) || 'cyg%d'}: ${c.strerror(e)}`, e);
    }
    return fd;
  }

  get mtu(): number {
    return this.#mtu;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The file descriptor (for diagnostics). */
  get fd(): number {
    return this.#fd;
  }

  onPackets(handler: PacketBatchHandler): void {
    this.#handler = handler;
    this.#schedulePump();
  }

  readBatch(max = this.#batchSize): Uint8Array[] {
    const out: Uint8Array[] = [];
    this.#segNext = 0;
    this.#readInto(out, Math.min(max, this.#batchSize));
    return out;
  }

  writeBatch(packets: readonly Uint8Array[]): number {
    if (this.#closed) {
      this.stats.txDropped += packets.length;
      return 0;
    }
    if (this.#wbuf) return this.#writeCoalesced(packets);
    const c = this.#c;
    let ok = 0;
    for (const p of packets) {
      let r = c.write(this.#fd, p, p.length);
      if (r < 0 && c.errno() === EINTR) r = c.write(this.#fd, p, p.length);
      if (r === p.length) {
        ok++;
        this.stats.txPackets++;
        this.stats.txBytes += p.length;
      } else {
        // EAGAIN/ENOBUFS under load, EINVAL for a malformed packet, EIO when the link is down: a drop, counted.
        this.stats.txDropped++;
        if (r < 0 && c.errno() !== EAGAIN) this.stats.errors++;
      }
    }
    return ok;
  }

  async setMtu(mtu: number): Promise<void> {
    checkMtu(mtu, `TUN ${this.name}`);
    if (this.#closed) throw new TunError('CLOSED', `TUN ${this.name} is closed`);
    this.#ifIoctlMtu(mtu);
  }

  /**
   * Multi-queue only: takes this queue out of the device's queue set (the kernel stops handing it packets and refuses
   * writes on it) or puts it back (TUNSETQUEUE). The fd stays open, so the device lives on with its other queues.
   */
  setQueueEnabled(on: boolean): void {
    if (this.#closed) throw new TunError('CLOSED', `TUN ${this.name} is closed`);
    const req = ifreq('');
    new DataView(req.buffer).setUint16(IFNAMSIZ, on ? IFF_ATTACH_QUEUE : IFF_DETACH_QUEUE, true);
    if (this.#c.ioctl(this.#fd, TUNSETQUEUE, 'void *', req) < 0) {
      const e = this.#c.errno();
      throw new TunError('IOCTL_FAILED', `TUNSETQUEUE ${this.name} ${on ? 'attach' : 'detach'}: ${this.#c.strerror(e)}`, e);
    }
  }

  /** Brings the interface up or down (SIOCSIFFLAGS). */
  setUp(up: boolean): void {
    if (this.#closed) throw new TunError('CLOSED', `TUN ${this.name} is closed`);
    this.#ifSetUp(up);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#handler = undefined;
    // End the wait first: never close an fd that a poll() still watches.
    await this.#waiter.close();
    this.#c.close(this.#fd);
    this.#fd = -1;
  }

  /** Reads up to `max` packets without blocking; returns false when the fd would block (or failed). */
  #readInto(out: Uint8Array[], max: number): boolean {
    if (this.#closed) return false;
    const c = this.#c;
    const off = this.#pktOff;
    const pre = this.offload ? VIRTIO_NET_HDR_LEN : 0;
    // At most 64 KiB per read (the largest IP packet), so the tailroom behind every packet stays free.
    const cap = 65536 + pre;
    let slotIndex = 0;
    while (slotIndex < max) {
      // Offload: stop while a full super-packet can still be split into free segment slots.
      if (pre && this.#segPool.length - this.#segNext < SEGMENTS_PER_READ) return true;
      const slot = this.#pool[slotIndex]!;
      const n = c.read(this.#fd, slot.subarray(off - pre), cap);
      if (n > 0) {
        if (!pre) {
          out.push(slot.subarray(off, off + n));
          slotIndex++;
          this.stats.rxPackets++;
          this.stats.rxBytes += n;
          continue;
        }
        if (this.#readOffloaded(slot, n - pre, out)) slotIndex++;
        continue;
      }
      if (n === 0) return false;
      const e = c.errno();
      if (e === EINTR) continue;
      if (e === EAGAIN) return false;
      this.stats.errors++;
      const err = new TunError('READ_FAILED', `read from ${this.name}: ${c.strerror(e)}`, e);
      this.#handler = undefined; // stop the loop: a persistent error would spin
      this.#onError?.(err);
      return false;
    }
    return true;
  }

  /**
   * One read with a virtio-net header: a plain packet (its partial checksum completed when the kernel left one)
   * stays in its slot (returns true: the slot is taken); a super-packet is split into segment slots (returns
   * false: the read slot is free again). Malformed headers drop the read, counted.
   */
  #readOffloaded(slot: Uint8Array, len: number, out: Uint8Array[]): boolean {
    const off = this.#pktOff;
    if (len <= 0) {
      this.stats.rxDropped++;
      return false;
    }
    const vh = readVirtioNetHdr(slot, off - VIRTIO_NET_HDR_LEN, this.#vhdr);
    const pkt = slot.subarray(off, off + len);
    if (vh.gsoType === VIRTIO_NET_HDR_GSO_NONE) {
      if (vh.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM && completePartialChecksum(pkt, vh.csumStart, vh.csumOffset)) {
        this.offloadStats.segmentErrors++;
        this.stats.rxDropped++;
        return false;
      }
      out.push(pkt);
      this.stats.rxPackets++;
      this.stats.rxBytes += len;
      return true;
    }
    const before = out.length;
    const r = segmentTcp(pkt, vh, this.#take, out);
    const made = out.length - before;
    this.offloadStats.superPacketsIn++;
    this.offloadStats.segmentsIn += made;
    this.stats.rxPackets += made;
    for (let i = before; i < out.length; i++) this.stats.rxBytes += out[i]!.length;
    if (typeof r !== 'number') {
      // A segment we could not make is a lost packet: TCP retransmits it.
      this.offloadStats.segmentErrors++;
      this.stats.rxDropped++;
    }
    return false;
  }

  /** Offload writes: runs of one TCP flow coalesced into super-packets, everything behind a virtio-net header. */
  #writeCoalesced(packets: readonly Uint8Array[]): number {
    const c = this.#c;
    const buf = this.#wbuf!;
    let ok = 0;
    coalesceTcp(packets, () => buf, (w: TunWrite) => {
      let r = c.write(this.#fd, w.buffer, w.length);
      if (r < 0 && c.errno() === EINTR) r = c.write(this.#fd, w.buffer, w.length);
      if (r === w.length) {
        ok += w.packets;
        this.stats.txPackets += w.packets;
        this.stats.txBytes += w.length - VIRTIO_NET_HDR_LEN;
        if (w.packets > 1) {
          this.offloadStats.superPacketsOut++;
          this.offloadStats.coalescedOut += w.packets;
        }
      } else {
        this.stats.txDropped += w.packets;
        if (r < 0 && c.errno() !== EAGAIN) this.stats.errors++;
      }
    });
    return ok;
  }

  #schedulePump(): void {
    if (this.#pumpScheduled || this.#waiter.armed || this.#closed) return;
    this.#pumpScheduled = true;
    setImmediate(this.#pump);
  }

  readonly #pump = (): void => {
    this.#pumpScheduled = false;
    const h = this.#handler;
    if (!h || this.#closed) return;
    const batch: Uint8Array[] = [];
    this.#segNext = 0;
    const more = this.#readInto(batch, this.#batchSize);
    if (batch.length > 0) {
      try {
        h(batch);
      } catch (e) {
        // A throwing handler must not kill the read loop; the handler owns its errors.
        this.stats.errors++;
        queueMicrotask(() => {
          throw e;
        });
      }
    }
    if (!this.#handler || this.#closed) return;
    if (more) this.#schedulePump();
    else this.#waitReadable();
  };

  #waitReadable(): void {
    if (this.#closed) return;
    this.#waiter.arm();
  }

  /** Lets the process exit even while this device waits for packets (as socket.unref()). */
  unref(): this {
    this.#waiter.unref();
    return this;
  }

  ref(): this {
    this.#waiter.ref();
    return this;
  }

  #ifSocket<T>(fn: (sock: number) => T): T {
    const c = this.#c;
    const s = c.socket(AF_INET, SOCK_DGRAM, 0);
    if (s < 0) {
      const e = c.errno();
      throw new TunError('IOCTL_FAILED', `socket for interface ioctl: ${c.strerror(e)}`, e);
    }
    try {
      return fn(s);
    } finally {
      c.close(s);
    }
  }

  #ifIoctlMtu(mtu: number): void {
    this.#ifSocket((s) => {
      const req = ifreq(this.name);
      new DataView(req.buffer).setInt32(IFNAMSIZ, mtu, true);
      if (this.#c.ioctl(s, SIOCSIFMTU, 'void *', req) < 0) {
        const e = this.#c.errno();
        throw new TunError('IOCTL_FAILED', `SIOCSIFMTU ${this.name} ${mtu}: ${this.#c.strerror(e)}`, e);
      }
    });
    this.#mtu = mtu;
  }

  #ifSetUp(up: boolean): void {
    this.#ifSocket((s) => {
      const c = this.#c;
      const req = ifreq(this.name);
      if (c.ioctl(s, SIOCGIFFLAGS, 'void *', req) < 0) {
        const e = c.errno();
        throw new TunError('IOCTL_FAILED', `SIOCGIFFLAGS ${this.name}: ${c.strerror(e)}`, e);
      }
      const dv = new DataView(req.buffer);
      const flags = dv.getUint16(IFNAMSIZ, true);
      dv.setUint16(IFNAMSIZ, up ? flags | IFF_UP : flags & ~IFF_UP, true);
      if (c.ioctl(s, SIOCSIFFLAGS, 'void *', req) < 0) {
        const e = c.errno();
        throw new TunError('IOCTL_FAILED', `SIOCSIFFLAGS ${this.name}: ${c.strerror(e)}`, e);
      }
    });
  }
}
