/**
 * Unix datagram sockets (AF_UNIX, SOCK_DGRAM), which node:net and node:dgram do not offer, through koffi into
 * libc with the shared loader of src/sys/libc.ts (koffi is already a dependency; no compiler, no new package). Three users send a
 * datagram per message to a well-known path: sd_notify(3)'s NOTIFY_SOCKET, syslog(3)'s /dev/log and journald's
 * native protocol on /run/systemd/journal/socket. Tests bind a receiver the same way.
 *
 * Sends never block the event loop (MSG_DONTWAIT): a full receiver queue drops the message and counts it, as a
 * log line must never stall IKE. A path starting with '@' is an abstract socket name (sd_notify's convention:
 * the '@' becomes a leading NUL byte and the name is not NUL-terminated).
 */
import { endianness } from 'node:os';
import { koffiModule, libcFunction, libcUnavailableReason } from '../sys/libc.js';
import { CodedError } from '../util/coded-error.js';

const AF_UNIX = 1;
const SOCK_DGRAM = 2;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const MSG_DONTWAIT = 0x40;
const MSG_NOSIGNAL = 0x4000;
/** sizeof(struct sockaddr_un): sa_family_t (2 bytes) + sun_path[108]. */
const SOCKADDR_UN_SIZE = 110;
const EAGAIN = 11;

interface Libc {
  errno(): number;
  socket(domain: number, type: number, protocol: number): number;
  sendto(fd: number, buf: Uint8Array, len: number, flags: number, addr: Uint8Array, addrlen: number): number;
  bind(fd: number, addr: Uint8Array, addrlen: number): number;
  recv(fd: number, buf: Uint8Array, len: number, flags: number): number;
  close(fd: number): number;
  strerror(e: number): string;
}

let libc: Libc | undefined;

/** Binds the few calls this module needs through the shared libc loader (src/sys/libc.ts). */
function loadLibc(): Libc {
  if (libc) return libc;
  const why = libcUnavailableReason() ?? (endianness() !== 'LE' ? 'unix datagram sockets are implemented for little-endian hosts' : undefined);
  const koffi = koffiModule();
  if (why !== undefined || !koffi) throw new UnixDatagramError('UNAVAILABLE', why ?? 'koffi is unavailable');
  const fn = <F>(proto: string): F => libcFunction<F>(proto)!;
  const strerror = fn<(e: number) => unknown>('const char *strerror(int errnum)');
  libc = {
    errno: () => koffi.errno(),
    socket: fn('int socket(int domain, int type, int protocol)'),
    sendto: fn('long sendto(int fd, const void *buf, unsigned long len, int flags, const void *addr, unsigned int addrlen)'),
    bind: fn('int bind(int fd, const void *addr, unsigned int addrlen)'),
    recv: fn('long recv(int fd, void *buf, unsigned long len, int flags)'),
    close: fn('int close(int fd)'),
    strerror: (e) => String(strerror(e)),
  };
  return libc;
}

export type UnixDatagramErrorCode = 'UNAVAILABLE' | 'BAD_PATH' | 'SYSCALL';

export class UnixDatagramError extends CodedError<UnixDatagramErrorCode> {
  constructor(
    code: UnixDatagramErrorCode,
    message: string,
    readonly errno?: number,
  ) {
    super(code, message);
  }
}

/** struct sockaddr_un for `path` ('@name' = abstract) and its length as bind/sendto want it. */
export function sockaddrUn(path: string): { addr: Uint8Array; len: number } {
  const abstract = path.startsWith('@');
  const name = Buffer.from(abstract ? path.slice(1) : path, 'utf8');
  // A filesystem path needs its NUL inside sun_path; an abstract name has the leading NUL instead.
  if (name.length === 0 || name.length > 107 || (!abstract && name.includes(0)))
    throw new UnixDatagramError('BAD_PATH', `'${path}' is not a unix socket address (1-107 bytes, '@' for an abstract name)`);
  const addr = new Uint8Array(SOCKADDR_UN_SIZE);
  new DataView(addr.buffer).setUint16(0, AF_UNIX, true);
  addr.set(name, abstract ? 3 : 2);
  return { addr, len: abstract ? 3 + name.length : 2 + name.length + 1 };
}

/** One unbound AF_UNIX datagram socket that sends to any path; or, after bind(), receives on one. */
export class UnixDatagramSocket {
  readonly #c: Libc;
  #fd: number;
  /** Datagrams dropped because the receiver's queue was full (EAGAIN). */
  dropped = 0;

  constructor() {
    this.#c = loadLibc();
    this.#fd = this.#c.socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (this.#fd < 0) throw this.#error('socket(AF_UNIX, SOCK_DGRAM)');
  }

  /** Whether this platform can have them (Linux, koffi loads); the reason otherwise. */
  static unavailableReason(): string | undefined {
    try {
      loadLibc();
      return undefined;
    } catch (e) {
      return (e as Error).message;
    }
  }

  #error(what: string): UnixDatagramError {
    const e = this.#c.errno();
    return new UnixDatagramError('SYSCALL', `${what}: ${this.#c.strerror(e)}`, e);
  }

  /**
   * Sends one datagram; false when it was dropped because the receiver is busy (counted in `dropped`).
   * Throws UnixDatagramError for anything else (no such socket, permission, message too long).
   */
  send(path: string, data: Uint8Array | string): boolean {
    if (this.#fd < 0) throw new UnixDatagramError('SYSCALL', 'socket is closed');
    const { addr, len } = sockaddrUn(path);
    const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    const n = this.#c.sendto(this.#fd, buf, buf.length, MSG_DONTWAIT | MSG_NOSIGNAL, addr, len);
    if (n >= 0) return true;
    if (this.#c.errno() === EAGAIN) {
      this.dropped++;
      return false;
    }
    throw this.#error(`sendto ${path}`);
  }

  /** Binds to `path` (a test's receiver, or any listener). */
  bind(path: string): this {
    const { addr, len } = sockaddrUn(path);
    if (this.#c.bind(this.#fd, addr, len) !== 0) throw this.#error(`bind ${path}`);
    return this;
  }

  /** The next datagram waiting, or undefined when none is (never blocks). */
  receive(maxBytes = 65536): Buffer | undefined {
    const buf = Buffer.alloc(maxBytes);
    const n = this.#c.recv(this.#fd, buf, buf.length, MSG_DONTWAIT);
    if (n >= 0) return buf.subarray(0, n);
    if (this.#c.errno() === EAGAIN) return undefined;
    throw this.#error('recv');
  }

  close(): void {
    if (this.#fd >= 0) this.#c.close(this.#fd);
    this.#fd = -1;
  }
}
