/**
 * Waiting for a non-blocking fd to become readable without blocking the event loop and without busy polling,
 * for the TUN device (Node cannot watch an arbitrary fd: net.Socket refuses a character device and libuv's
 * uv_poll is not exposed). Two ways, measured on this machine (bench/tun.ts, one packet at a time, 1400 B):
 *
 *   'thread' (default): a dedicated worker thread sits in poll() and posts a message when the fd is readable;
 *            20-140 us per wake-up depending on machine load, and the same whatever else the process does.
 *   'pool':  koffi's async call runs poll() on a libuv thread-pool thread; 25-430 us per wake-up while the pool
 *            is idle, but the re-armed poll queues behind every other pool job (fs, dns.lookup, zlib, pbkdf2,
 *            WebCrypto): with four pbkdf2 jobs cycling, 6-8 ms per wake-up. It also holds one of the pool's
 *            four threads for as long as the device is idle.
 *
 * Both poll the fd together with an eventfd that close() writes, so closing never waits for traffic, and the
 * fd is not closed while a poll() still watches it.
 */
import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';

export type WaiterKind = 'thread' | 'pool';

export interface ReadinessWaiter {
  /** Starts one wait; `onReady` is called once, on the event loop, when the fd is readable. Idempotent while armed. */
  arm(): void;
  readonly armed: boolean;
  /** Ends any wait and releases the thread; after it resolves the watched fd may be closed. */
  close(): Promise<void>;
  /** Whether a pending wait keeps the process alive (default true, like a socket). */
  ref(): void;
  unref(): void;
}

export interface WaiterLibc {
  write(fd: number, buf: Uint8Array, n: number): number;
  close(fd: number): number;
  eventfd(init: number, flags: number): number;
  errno(): number;
  pollAsync(fds: Uint8Array, n: number, timeout: number, cb: (err: unknown, res: number) => void): void;
}

const EFD_NONBLOCK = 0o4000;
const EFD_CLOEXEC = 0o2000000;
const POLLIN = 0x1;

function pollFds(fd: number, wakeFd: number): Uint8Array {
  // struct pollfd { int fd; short events; short revents; } x 2
  const b = new Uint8Array(16);
  const dv = new DataView(b.buffer);
  dv.setInt32(0, fd, true);
  dv.setInt16(4, POLLIN, true);
  dv.setInt32(8, wakeFd, true);
  dv.setInt16(12, POLLIN, true);
  return b;
}

function wakeEventFd(c: WaiterLibc): number {
  const fd = c.eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) throw new Error(`eventfd failed (errno ${c.errno()})`);
  return fd;
}

function signal(c: WaiterLibc, fd: number): void {
  const one = new Uint8Array(8);
  one[0] = 1;
  c.write(fd, one, 8);
}

/** koffi async poll() on the libuv thread pool. */
class PoolWaiter implements ReadinessWaiter {
  readonly #c: WaiterLibc;
  readonly #wakeFd: number;
  readonly #fds: Uint8Array;
  readonly #onReady: () => void;
  #armed = false;
  #closed = false;
  #closeDone: (() => void) | undefined;

  constructor(c: WaiterLibc, fd: number, onReady: () => void) {
    this.#c = c;
    this.#wakeFd = wakeEventFd(c);
    this.#fds = pollFds(fd, this.#wakeFd);
    this.#onReady = onReady;
  }

  get armed(): boolean {
    return this.#armed;
  }

  arm(): void {
    if (this.#armed || this.#closed) return;
    this.#armed = true;
    this.#c.pollAsync(this.#fds, 2, -1, () => {
      this.#armed = false;
      if (this.#closed) {
        this.#closeDone?.();
        return;
      }
      this.#onReady();
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#armed) {
      const done = new Promise<void>((r) => (this.#closeDone = r));
      signal(this.#c, this.#wakeFd);
      await done;
    }
    this.#c.close(this.#wakeFd);
  }

  // A pending napi async work item always keeps the loop alive; nothing to switch.
  ref(): void {}
  unref(): void {}
}

/**
 * The worker's loop (plain CommonJS, run with eval). Shared state: ctl[0] = armed (1) / idle (0), ctl[1] = stop.
 * The worker sleeps in Atomics.wait until armed, polls, then disarms and posts; the main thread re-arms after
 * it has read the fd dry.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const koffi = require(workerData.koffiPath);
const poll = koffi.load('libc.so.6').func('int poll(void *fds, unsigned long nfds, int timeout)');
const ctl = new Int32Array(workerData.ctl);
const fds = new Uint8Array(workerData.fds);
for (;;) {
  Atomics.wait(ctl, 0, 0);
  if (Atomics.load(ctl, 1) === 1) break;
  const r = poll(fds, 2, -1);
  if (Atomics.load(ctl, 1) === 1) break;
  if (r < 0 && koffi.errno() === 4) continue; // EINTR: poll again
  Atomics.store(ctl, 0, 0);
  parentPort.postMessage(r);
}
`;

/** A worker thread blocked in poll(). */
class ThreadWaiter implements ReadinessWaiter {
  readonly #c: WaiterLibc;
  readonly #wakeFd: number;
  readonly #ctl = new Int32Array(new SharedArrayBuffer(8));
  readonly #worker: Worker;
  readonly #exited: Promise<void>;
  #armed = false;
  #closed = false;
  #refed = true;

  constructor(c: WaiterLibc, fd: number, onReady: () => void) {
    this.#c = c;
    this.#wakeFd = wakeEventFd(c);
    const fdsShared = new SharedArrayBuffer(16);
    new Uint8Array(fdsShared).set(pollFds(fd, this.#wakeFd));
    const koffiPath = createRequire(import.meta.url).resolve('koffi');
    this.#worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { koffiPath, ctl: this.#ctl.buffer, fds: fdsShared } });
    this.#exited = new Promise((resolve) => this.#worker.once('exit', () => resolve()));
    this.#worker.on('message', () => {
      this.#armed = false;
      this.#applyRef();
      if (!this.#closed) onReady();
    });
    // The thread only matters while a wait is pending: an idle, unarmed waiter must not keep the process alive.
    this.#worker.unref();
  }

  get armed(): boolean {
    return this.#armed;
  }

  arm(): void {
    if (this.#armed || this.#closed) return;
    this.#armed = true;
    this.#applyRef();
    Atomics.store(this.#ctl, 0, 1);
    Atomics.notify(this.#ctl, 0);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    Atomics.store(this.#ctl, 1, 1);
    signal(this.#c, this.#wakeFd); // out of poll()
    Atomics.store(this.#ctl, 0, 1);
    Atomics.notify(this.#ctl, 0); // or out of Atomics.wait()
    this.#worker.ref(); // so the process lives until the thread is gone and close() resolves
    await this.#exited;
    this.#c.close(this.#wakeFd);
  }

  ref(): void {
    this.#refed = true;
    this.#applyRef();
  }

  unref(): void {
    this.#refed = false;
    this.#applyRef();
  }

  #applyRef(): void {
    if (this.#armed && this.#refed && !this.#closed) this.#worker.ref();
    else this.#worker.unref();
  }
}

export function createWaiter(kind: WaiterKind, c: WaiterLibc, fd: number, onReady: () => void): ReadinessWaiter {
  return kind === 'pool' ? new PoolWaiter(c, fd, onReady) : new ThreadWaiter(c, fd, onReady);
}
