/** The ESP engine's batch results (struct-of-arrays, reused between calls) and its bounded output buffer pool. */
import { UDP_HEADER_BYTES } from './constants.js';
import type { AcquireRequest } from './engine-types.js';
import type { EspSa } from './sa.js';

/** Results of `decapsulate`, one slot per input datagram (struct-of-arrays, grown, never shrunk). */
export class DecapResults {
  count = 0;
  status = new Uint8Array(0);
  reason = new Uint8Array(0);
  offset = new Int32Array(0);
  length = new Int32Array(0);
  buffer: (Uint8Array | undefined)[] = [];
  sa: (EspSa | undefined)[] = [];

  reset(n: number): void {
    if (this.status.length < n) {
      const cap = Math.max(n, this.status.length * 2, 64);
      this.status = new Uint8Array(cap);
      this.reason = new Uint8Array(cap);
      this.offset = new Int32Array(cap);
      this.length = new Int32Array(cap);
    }
    this.count = n;
    // Setting an array's length is a runtime call even when it does not change: skip it for equal batches.
    if (this.buffer.length !== n) this.buffer.length = n;
    if (this.sa.length !== n) this.sa.length = n;
  }
}

/**
 * Results of `encapsulate`, one slot per input packet. For `Send`: `buffer[offset, offset + length)` is the ESP
 * packet (what a dgram socket sends to `sa[i].remote`); when the SA is UDP-encapsulated the 8-byte UDP header
 * (zero checksum) is already written at `offset - 8` for a driver that sends raw.
 */
export class EncapResults extends DecapResults {
  /** For `Acquire`: which policy needs an SA, and the packet that asked. */
  acquire: (AcquireRequest | undefined)[] = [];
  /** Set when the batch stopped early at packet `count` because another thread holds this seal lock (EspSa.seqLock). */
  blockedOn: Int32Array | undefined = undefined;

  override reset(n: number): void {
    super.reset(n);
    this.blockedOn = undefined;
    if (this.acquire.length !== n) this.acquire.length = n;
  }

  /** The UDP header + ESP packet range of slot i (for raw sending). */
  udpOffset(i: number): number {
    return (this.offset[i] ?? 0) - UDP_HEADER_BYTES;
  }
}

/** A bounded ring of output buffers, allocated on first use. A buffer is reused `size` packets later. */
export class BufferPool {
  private readonly bufs: Uint8Array[] = [];
  private next = 0;
  constructor(readonly size: number, readonly bytes: number) {}
  take(): Uint8Array {
    let b = this.bufs[this.next];
    if (!b) {
      b = new Uint8Array(this.bytes);
      this.bufs[this.next] = b;
    }
    this.next = this.next + 1 === this.size ? 0 : this.next + 1;
    return b;
  }
}
