/**
 * The initiator's side of RFC 9329 (the TCP originator, section 6.1): opening a stream to the peer's TCP port,
 * and when to open it again after it broke. The stream object (tcp-encap-stream.ts) sends "IKETCP" and the frames
 * queued meanwhile once the connection is up.
 */
import net from 'node:net';
import type { Address } from '../ike/config.js';

/**
 * Opens a TCP connection to `remote` and wraps it at once (frames queue until it is up). `localAddress`: the source
 * address to bind (a MOBIKE path, RFC 9329 7.1); a bind that fails ends in the socket's 'error' like a refusal.
 */
export function connectStream<T>(remote: Address, wrap: (socket: net.Socket) => T, localAddress?: string): T {
  const socket = net.connect({ host: remote.address, port: remote.port, noDelay: true, ...(localAddress ? { localAddress } : {}) });
  return wrap(socket);
}

/** First delay after a stream that had been up breaks: none (section 6.1: re-establish it). */
const FIRST_RETRY_MS = 0;
/** Then 250 ms, doubling per failed attempt, at most 10 s. */
const MIN_RETRY_MS = 250;
const MAX_RETRY_MS = 10_000;

/**
 * Reconnection pacing for one peer: immediately after a working stream breaks, then with exponential backoff
 * while connection attempts keep failing (a peer whose TCP port is closed is not hammered by ESP packets).
 */
export class ReconnectBackoff {
  private failures = 0;
  private timer: NodeJS.Timeout | undefined;

  /** A reconnection is scheduled: ESP waits (is dropped) instead of opening yet another connection. */
  get waiting(): boolean {
    return this.timer !== undefined;
  }

  attempt(): void {
    this.cancel();
  }

  succeeded(): void {
    this.failures = 0;
  }

  /** The stream broke (or never came up): the delay before the next attempt, in ms. */
  failed(): number {
    const n = this.failures++;
    return n === 0 ? FIRST_RETRY_MS : Math.min(MAX_RETRY_MS, MIN_RETRY_MS * 2 ** (n - 1));
  }

  schedule(delayMs: number, run: () => void): void {
    this.cancel();
    this.timer = setTimeout(() => {
      this.timer = undefined;
      run();
    }, delayMs);
    this.timer.unref();
  }

  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
