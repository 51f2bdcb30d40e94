/**
 * One SO_REUSEPORT group per bound NAT-T address for worker threads (issue 17, docs/PERFORMANCE.md "More cores"):
 * socket 0 is the main thread's (IKE), sockets 1..N the workers' (ESP). Node 20's dgram cannot set SO_REUSEPORT
 * before bind, so the sockets are made here through libc (socket, setsockopt, bind) and handed to dgram afterwards
 * (`socket.bind({ fd })`, which wraps an existing fd).
 *
 * Which socket gets a datagram is decided by a classic BPF program on the group (SO_ATTACH_REUSEPORT_CBPF, Linux
 * 4.5; no eBPF, no bpf() system call). It runs with the packet at the UDP payload (net/core/sock_reuseport.c
 * run_bpf_filter) and returns the index of the socket in the group, which is the order of binding:
 *   - 4 zero bytes (the RFC 3948 2.2 non-ESP marker: IKE), or fewer than 4 bytes (NAT keepalive, 2.3): 0, main;
 *   - ESP: 1 + (low byte of the SPI) mod N: every datagram of one inbound SA reaches the same worker, so that worker
 *     alone runs its replay window; src/ike/spi.ts counts the low byte up, so successive CHILD SAs alternate.
 * The kernel's 4-tuple hash would instead put every SA of one peer on one socket, and IKE on any of them.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { koffiModule, libcFunction, libcUnavailableReason } from '../../sys/libc.js';
import { ipv6Bytes } from '../udp-batch-sender.js';

const AF_INET = 2;
const AF_INET6 = 10;
const SOCK_DGRAM = 2;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1;
const SO_SNDBUF = 7;
const SO_RCVBUF = 8;
const SO_REUSEPORT = 15;
const SO_ATTACH_REUSEPORT_CBPF = 51;
const IPPROTO_IPV6 = 41;
const IPV6_V6ONLY = 26;

// Classic BPF opcodes (linux/bpf_common.h, linux/filter.h).
const BPF_LD_W_ABS = 0x20;
const BPF_JEQ_K = 0x15;
const BPF_AND_K = 0x54;
const BPF_MOD_K = 0x94;
const BPF_ADD_K = 0x04;
const BPF_RET_A = 0x16;
const BPF_RET_K = 0x06;

export class ReuseportError extends Error {
  override readonly name = 'ReuseportError';
}

interface Native {
  errno(): number;
  strerror(e: number): string;
  socket(domain: number, type: number, protocol: number): number;
  setsockopt(fd: number, level: number, name: number, value: Uint8Array, len: number): number;
  bind(fd: number, addr: Uint8Array, len: number): number;
  close(fd: number): number;
}

let native: Native | undefined;

function load(): Native {
  if (native) return native;
  const koffi = koffiModule();
  const socket = libcFunction<Native['socket']>('int socket(int domain, int type, int protocol)');
  const setsockopt = libcFunction<Native['setsockopt']>('int setsockopt(int fd, int level, int optname, const void *optval, unsigned int optlen)');
  const bind = libcFunction<Native['bind']>('int bind(int fd, const void *addr, unsigned int addrlen)');
  const close = libcFunction<Native['close']>('int close(int fd)');
  const strerror = libcFunction<(e: number) => unknown>('const char *strerror(int errnum)');
  if (!koffi || !socket || !setsockopt || !bind || !close || !strerror) throw new ReuseportError(`worker threads need libc system calls: ${libcUnavailableReason() ?? 'libc unavailable'}`);
  native = { errno: () => koffi.errno(), strerror: (e) => String(strerror(e)), socket, setsockopt, bind, close };
  return native;
}

/** The classic BPF program described above for `workers` worker sockets (struct sock_filter[], 8 bytes each). */
export function spiSteeringProgram(workers: number): Uint8Array {
  if (!Number.isInteger(workers) || workers < 1 || workers > 255) throw new ReuseportError(`workers ${workers} is not in 1..255`);
  const insns: [number, number, number, number][] = [
    [BPF_LD_W_ABS, 0, 0, 0], // A = first 4 bytes of the UDP payload (SPI or marker); shorter: the program returns 0
    [BPF_JEQ_K, 4, 0, 0], // non-ESP marker -> ret #0
    [BPF_AND_K, 0, 0, 0xff],
    [BPF_MOD_K, 0, 0, workers],
    [BPF_ADD_K, 0, 0, 1],
    [BPF_RET_A, 0, 0, 0],
    [BPF_RET_K, 0, 0, 0],
  ];
  const out = new Uint8Array(insns.length * 8);
  const dv = new DataView(out.buffer);
  insns.forEach(([code, jt, jf, k], i) => {
    dv.setUint16(i * 8, code, true);
    out[i * 8 + 2] = jt;
    out[i * 8 + 3] = jf;
    dv.setUint32(i * 8 + 4, k, true);
  });
  return out;
}

/**
 * What the program picks for one UDP payload (an interpreter of exactly the program above, for tests and logs):
 * 0 = main thread, 1..workers = that worker's socket.
 */
export function steeredIndex(payload: Uint8Array, workers: number): number {
  if (payload.length < 4) return 0;
  const first = ((payload[0] ?? 0) | (payload[1] ?? 0) | (payload[2] ?? 0) | (payload[3] ?? 0)) >>> 0;
  if (first === 0) return 0;
  return 1 + ((payload[3] ?? 0) % workers);
}

/** sockaddr_in / sockaddr_in6 for address:port. */
function sockaddr(address: string, port: number): { family: number; bytes: Uint8Array } {
  if (isIPv4(address)) {
    const b = new Uint8Array(16);
    b[0] = AF_INET;
    b[2] = port >>> 8;
    b[3] = port & 0xff;
    b.set(address.split('.').map(Number), 4);
    return { family: AF_INET, bytes: b };
  }
  if (isIPv6(address)) {
    const b = new Uint8Array(28);
    b[0] = AF_INET6;
    b[2] = port >>> 8;
    b[3] = port & 0xff;
    b.set(ipv6Bytes(address), 8);
    return { family: AF_INET6, bytes: b };
  }
  throw new ReuseportError(`'${address}' is not an IP address`);
}

function intOpt(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setInt32(0, v, true);
  return b;
}

export interface ReuseportGroup {
  readonly address: string;
  readonly port: number;
  /** Bound UDP socket fds in group order: [0] the main thread's, [1..N] the workers'. */
  readonly fds: readonly number[];
}

/**
 * Creates and binds 1 + `workers` sockets on address:port with SO_REUSEPORT (in that order, so their group indices
 * are 0..workers) and attaches the steering program. Throws a ReuseportError naming the failing call; nothing stays
 * open then.
 */
export function openReuseportGroup(address: string, port: number, workers: number, bufferBytes = 4 * 1024 * 1024): ReuseportGroup {
  const n = load();
  const sa = sockaddr(address, port);
  const program = spiSteeringProgram(workers);
  const fds: number[] = [];
  const fail = (what: string): never => {
    const e = n.errno();
    for (const fd of fds) n.close(fd);
    throw new ReuseportError(`${what} for UDP ${address}:${port}: ${n.strerror(e)}`);
  };
  for (let i = 0; i <= workers; i++) {
    const fd = n.socket(sa.family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) fail('socket');
    fds.push(fd);
    if (n.setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, intOpt(1), 4) < 0) fail('SO_REUSEPORT');
    // As dgram's recvBufferSize/sendBufferSize (udp-sockets.ts); capped by the kernel at rmem_max/wmem_max.
    n.setsockopt(fd, SOL_SOCKET, SO_RCVBUF, intOpt(bufferBytes), 4);
    n.setsockopt(fd, SOL_SOCKET, SO_SNDBUF, intOpt(bufferBytes), 4);
    if (sa.family === AF_INET6) n.setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, intOpt(1), 4);
    if (n.bind(fd, sa.bytes, sa.bytes.length) < 0) fail('bind');
  }
  attachProgram(n, fds, program, () => fail('SO_ATTACH_REUSEPORT_CBPF'));
  return { address, port, fds };
}

/** setsockopt(SO_ATTACH_REUSEPORT_CBPF) with a struct sock_fprog { u16 len; struct sock_filter *filter; }. */
function attachProgram(n: Native, fds: number[], program: Uint8Array, fail: () => never): void {
  const koffi = koffiModule();
  const first = fds[0];
  if (!koffi || first === undefined) fail();
  const k = koffi as NonNullable<typeof koffi>;
  const mem = k.alloc('uint8_t', program.length);
  try {
    new Uint8Array(k.view(mem, program.length)).set(program);
    const fprog = new Uint8Array(16);
    const dv = new DataView(fprog.buffer);
    dv.setUint16(0, program.length / 8, true);
    dv.setBigUint64(8, BigInt(k.address(mem)), true);
    if (n.setsockopt(first as number, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, fprog, fprog.length) < 0) fail();
  } finally {
    k.free(mem);
  }
}

/** Closes fds of a group that were never handed to dgram (dgram closes its own). */
export function closeFds(fds: readonly number[]): void {
  const n = load();
  for (const fd of fds) n.close(fd);
}
