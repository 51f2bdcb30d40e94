/**
 * Batched UDP receive for the ESP data path (issue 17): recvmmsg(2) on the fd of a bound node:dgram socket, with
 * UDP_GRO (Linux 5.0+) so the kernel may hand over many datagrams of one flow as one buffer plus their segment
 * size; wireguard-go's conn/bind_std.go does the same. Per event-loop wake-up, up to `slots` buffers arrive in one
 * system call, are split by their segment size, and go to `onBatch` as views into a fixed native arena: no Buffer,
 * no rinfo object, no callback per datagram (dgram's 'message' costs all three).
 *
 * 1. create(): UDP_GRO on the socket (setsockopt SOL_UDP; refused -> plain datagrams), dgram's own reading stopped
 *    (its UDPWrap handle's recvStop(), the call dgram itself makes when it stops listening), and a readiness
 *    waiter (src/tun/readiness.ts: a thread in poll()) armed on the fd.
 * 2. When readable: recvmmsg(MSG_DONTWAIT) until EAGAIN (at most `rounds` calls per turn, then setImmediate so
 *    timers and other sockets get their turn); each message's control data gives the GRO segment size.
 * 3. onBatch runs synchronously; the views are valid only until it returns (the arena is reused at once).
 *
 * Layouts as in udp-batch-sender.ts (Linux x86_64/arm64): mmsghdr 64 bytes, iovec 16, sockaddr up to 28,
 * cmsghdr 16 + int.
 */
import type dgram from 'node:dgram';
import { createWaiter, type ReadinessWaiter, type WaiterLibc } from '../tun/readiness.js';
import { koffiModule, libcFunction, type Koffi } from '../sys/libc.js';
import { dgramFd } from './udp-batch-sender.js';

const MMSGHDR_SIZE = 64;
const IOVEC_SIZE = 16;
const SOCKADDR_SIZE = 28;
/** CMSG_SPACE(sizeof(int)): room for the UDP_GRO control message. */
const CONTROL_SIZE = 24;
const SOL_UDP = 17;
const UDP_GRO = 104;
const MSG_DONTWAIT = 0x40;
const MSG_TRUNC = 0x20;
const AF_INET = 2;
const AF_INET6 = 10;
const EINTR = 4;
const EAGAIN = 11;

interface Native {
  koffi: Koffi;
  recvmmsg(fd: number, msgvec: unknown, vlen: number, flags: number, timeout: null): number;
  setsockopt(fd: number, level: number, name: number, value: Int32Array, len: number): number;
  waiter: WaiterLibc;
}

let native: Native | undefined | null = null;

function loadNative(): Native | undefined {
  if (native !== null) return native;
  native = undefined;
  if (process.platform !== 'linux' || (process.arch !== 'x64' && process.arch !== 'arm64')) return undefined;
  const koffi = koffiModule();
  const recvmmsg = libcFunction<Native['recvmmsg']>('int recvmmsg(int fd, void *msgvec, unsigned int vlen, int flags, void *timeout)');
  const setsockopt = libcFunction<Native['setsockopt']>('int setsockopt(int fd, int level, int optname, const void *optval, unsigned int optlen)');
  const write = libcFunction<WaiterLibc['write']>('long write(int fd, const void *buf, unsigned long count)');
  const close = libcFunction<WaiterLibc['close']>('int close(int fd)');
  const eventfd = libcFunction<WaiterLibc['eventfd']>('int eventfd(unsigned int initval, int flags)');
  const poll = libcFunction<{ async(...a: unknown[]): void }>('int poll(void *fds, unsigned long nfds, int timeout)');
  if (!koffi || !recvmmsg || !setsockopt || !write || !close || !eventfd || !poll) return undefined;
  native = {
    koffi,
    recvmmsg,
    setsockopt,
    waiter: { write, close, eventfd, errno: () => koffi.errno(), pollAsync: (fds, n, t, cb) => poll.async(fds, n, t, cb) },
  };
  return native;
}

/** One wake-up's datagrams, struct-of-arrays, reused: valid only during the onBatch call. */
export interface UdpRecvBatch {
  count: number;
  readonly data: Uint8Array[];
  readonly address: string[];
  readonly port: number[];
}

export interface UdpRecvStats {
  /** recvmmsg calls that returned messages, and the messages (GRO buffers count once). */
  syscalls: number;
  messages: number;
  /** Datagrams handed on (after splitting GRO buffers), and how many came from GRO buffers of 2 or more. */
  datagrams: number;
  groDatagrams: number;
  /** Messages the kernel truncated (larger than a slot), dropped. */
  truncated: number;
  errors: number;
  lastErrno: number;
}

export interface UdpBatchReceiverOptions {
  onBatch: (batch: UdpRecvBatch) => void;
  /** Messages per recvmmsg (default 64). */
  slots?: number;
  /** Ask the kernel for GRO (default true). */
  gro?: boolean;
  /** recvmmsg calls per event-loop turn before yielding (default 4). */
  rounds?: number;
}

interface UdpWrapHandle {
  recvStop?: () => number;
  recvStart?: () => number;
}

/** dgram's UDPWrap handle (to stop its own reading), found the way dgramFd finds the fd. */
function dgramHandle(socket: dgram.Socket): UdpWrapHandle | undefined {
  const sym = Object.getOwnPropertySymbols(socket).find((s) => s.description === 'state symbol');
  const state = sym ? (socket as unknown as Record<symbol, { handle?: UdpWrapHandle } | undefined>)[sym] : undefined;
  return state?.handle;
}

export class UdpBatchReceiver {
  readonly stats: UdpRecvStats = { syscalls: 0, messages: 0, datagrams: 0, groDatagrams: 0, truncated: 0, errors: 0, lastErrno: 0 };
  /** Whether the kernel accepted UDP_GRO. */
  readonly gro: boolean;
  readonly #n: Native;
  readonly #fd: number;
  readonly #slots: number;
  readonly #slotSize = 65536;
  readonly #rounds: number;
  readonly #mem: unknown[];
  readonly #arena: Uint8Array;
  readonly #names: Uint8Array;
  readonly #control: DataView;
  readonly #m: DataView;
  readonly #msgs: unknown;
  readonly #batch: UdpRecvBatch = { count: 0, data: [], address: [], port: [] };
  readonly #onBatch: (b: UdpRecvBatch) => void;
  readonly #waiter: ReadinessWaiter;
  readonly #handle: UdpWrapHandle;
  /** IPv4 address (as a 32-bit number) -> its text, so steady traffic formats no strings. */
  readonly #v4Names = new Map<number, string>();
  #closed = false;
  #scheduled = false;

  private constructor(n: Native, fd: number, handle: UdpWrapHandle, gro: boolean, o: UdpBatchReceiverOptions) {
    this.#n = n;
    this.#fd = fd;
    this.#handle = handle;
    this.gro = gro;
    this.#slots = o.slots ?? 64;
    this.#rounds = o.rounds ?? 4;
    this.#onBatch = o.onBatch;
    const k = n.koffi;
    const arena = k.alloc('uint8_t', this.#slots * this.#slotSize);
    const names = k.alloc('uint8_t', this.#slots * SOCKADDR_SIZE);
    const iov = k.alloc('uint8_t', this.#slots * IOVEC_SIZE);
    const control = k.alloc('uint8_t', this.#slots * CONTROL_SIZE);
    const msgs = k.alloc('uint8_t', this.#slots * MMSGHDR_SIZE);
    this.#mem = [arena, names, iov, control, msgs];
    this.#arena = new Uint8Array(k.view(arena, this.#slots * this.#slotSize));
    this.#names = new Uint8Array(k.view(names, this.#slots * SOCKADDR_SIZE));
    this.#control = new DataView(k.view(control, this.#slots * CONTROL_SIZE));
    this.#m = new DataView(k.view(msgs, this.#slots * MMSGHDR_SIZE));
    this.#msgs = msgs;
    const iv = new DataView(k.view(iov, this.#slots * IOVEC_SIZE));
    const arenaAt = k.address(arena);
    const namesAt = k.address(names);
    const iovAt = k.address(iov);
    const controlAt = k.address(control);
    for (let i = 0; i < this.#slots; i++) {
      iv.setBigUint64(i * IOVEC_SIZE, arenaAt + BigInt(i * this.#slotSize), true);
      iv.setBigUint64(i * IOVEC_SIZE + 8, BigInt(this.#slotSize), true);
      const b = i * MMSGHDR_SIZE;
      this.#m.setBigUint64(b, namesAt + BigInt(i * SOCKADDR_SIZE), true);
      this.#m.setBigUint64(b + 16, iovAt + BigInt(i * IOVEC_SIZE), true);
      this.#m.setBigUint64(b + 24, 1n, true);
      this.#m.setBigUint64(b + 32, controlAt + BigInt(i * CONTROL_SIZE), true);
    }
    this.#waiter = createWaiter('thread', n.waiter, fd, () => this.#pump());
  }

  /**
   * Takes over receiving on a bound dgram socket (its 'message' events stop), or returns undefined where the fast
   * path is unavailable (not Linux x64/arm64, koffi missing, fd or handle not exposed): dgram keeps receiving then.
   */
  static create(socket: dgram.Socket, o: UdpBatchReceiverOptions): UdpBatchReceiver | undefined {
    const n = loadNative();
    const fd = dgramFd(socket);
    const handle = dgramHandle(socket);
    if (!n || fd === undefined || !handle?.recvStop || !handle.recvStart) return undefined;
    const slots = o.slots ?? 64;
    if (!Number.isInteger(slots) || slots < 1 || slots > 1024) throw new RangeError(`UdpBatchReceiver: slots ${slots} is not in 1..1024`);
    const gro = o.gro !== false && n.setsockopt(fd, SOL_UDP, UDP_GRO, Int32Array.of(1), 4) === 0;
    const r = new UdpBatchReceiver(n, fd, handle, gro, o);
    handle.recvStop();
    r.#schedule();
    return r;
  }

  /** Stops reading, hands the socket back to dgram's own receiving, and frees the native memory. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#waiter.close();
    for (const p of this.#mem) this.#n.koffi.free(p);
  }

  /** Lets the process exit while waiting (as socket.unref()). */
  unref(): this {
    this.#waiter.unref();
    return this;
  }

  #schedule(): void {
    if (this.#scheduled || this.#closed) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.#pump();
    });
  }

  #pump(): void {
    if (this.#closed) return;
    for (let round = 0; round < this.#rounds; round++) {
      const got = this.#receive();
      if (got < 0) {
        this.#waiter.arm();
        return;
      }
      if (got < this.#slots) {
        // Drained for now: wait for the next datagram.
        this.#waiter.arm();
        return;
      }
    }
    // Still more: yield to timers and other sockets, then go on.
    this.#schedule();
  }

  /** One recvmmsg and the onBatch call; returns the messages received, or -1 when none were waiting. */
  #receive(): number {
    const n = this.#n;
    const m = this.#m;
    for (let i = 0; i < this.#slots; i++) {
      const b = i * MMSGHDR_SIZE;
      m.setUint32(b + 8, SOCKADDR_SIZE, true); // msg_namelen: the kernel writes back the length used
      m.setBigUint64(b + 40, BigInt(CONTROL_SIZE), true); // msg_controllen, likewise
    }
    let r: number;
    for (;;) {
      r = n.recvmmsg(this.#fd, this.#msgs, this.#slots, MSG_DONTWAIT, null);
      if (r >= 0 || n.koffi.errno() !== EINTR) break;
    }
    if (r <= 0) {
      if (r < 0) {
        const e = n.koffi.errno();
        if (e !== EAGAIN) {
          this.stats.errors++;
          this.stats.lastErrno = e;
        }
      }
      return -1;
    }
    this.stats.syscalls++;
    this.stats.messages += r;
    const batch = this.#batch;
    let count = 0;
    for (let i = 0; i < r; i++) {
      const b = i * MMSGHDR_SIZE;
      const len = m.getUint32(b + 56, true);
      if (m.getInt32(b + 48, true) & MSG_TRUNC) {
        this.stats.truncated++;
        continue;
      }
      this.#peer(i);
      const address = this.#peerAddress;
      const port = this.#peerPort;
      let seg = len;
      const controlLen = Number(m.getBigUint64(b + 40, true));
      if (controlLen >= 20) {
        const c = i * CONTROL_SIZE;
        if (this.#control.getInt32(c + 8, true) === SOL_UDP && this.#control.getInt32(c + 12, true) === UDP_GRO) {
          const g = this.#control.getInt32(c + 16, true);
          if (g > 0) seg = g;
        }
      }
      const base = i * this.#slotSize;
      let parts = 0;
      for (let off = 0; off < len || (len === 0 && parts === 0); off += seg) {
        const end = Math.min(len, off + seg);
        batch.data[count] = this.#arena.subarray(base + off, base + end);
        batch.address[count] = address;
        batch.port[count] = port;
        count++;
        parts++;
        if (len === 0) break;
      }
      if (parts > 1) this.stats.groDatagrams += parts;
    }
    batch.count = count;
    this.stats.datagrams += count;
    if (count > 0) {
      try {
        this.#onBatch(batch);
      } catch (e) {
        // The handler owns its errors; a throw must not stop receiving.
        this.stats.errors++;
        queueMicrotask(() => {
          throw e;
        });
      }
    }
    return r;
  }

  /** The sender of the message #peer read last (fields, so the receive loop makes no object per message). */
  #peerAddress = '';
  #peerPort = 0;

  /** Reads the sender of message i from its sockaddr into #peerAddress / #peerPort. */
  #peer(i: number): void {
    const a = this.#names;
    const o = i * SOCKADDR_SIZE;
    const family = a[o]! | (a[o + 1]! << 8);
    const port = (a[o + 2]! << 8) | a[o + 3]!;
    if (family === AF_INET) {
      const key = ((a[o + 4]! << 24) | (a[o + 5]! << 16) | (a[o + 6]! << 8) | a[o + 7]!) >>> 0;
      let s = this.#v4Names.get(key);
      if (s === undefined) {
        s = `${a[o + 4]}.${a[o + 5]}.${a[o + 6]}.${a[o + 7]}`;
        if (this.#v4Names.size >= 4096) this.#v4Names.clear();
        this.#v4Names.set(key, s);
      }
      this.#peerAddress = s;
      this.#peerPort = port;
      return;
    }
    if (family === AF_INET6) {
      const words: string[] = [];
      for (let w = 0; w < 8; w++) words.push(((a[o + 8 + 2 * w]! << 8) | a[o + 9 + 2 * w]!).toString(16));
      this.#peerAddress = compressIpv6(words);
      this.#peerPort = port;
      return;
    }
    this.#peerAddress = '';
    this.#peerPort = port;
  }
}

/** RFC 5952 text for 8 hex groups: the longest run of two or more zero groups becomes '::'. */
function compressIpv6(words: string[]): string {
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (words[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === '0') j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (best < 0) return words.join(':');
  return `${words.slice(0, best).join(':')}::${words.slice(best + bestLen).join(':')}`;
}
