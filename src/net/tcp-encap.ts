/**
 * TCP encapsulation of IKE and ESP (RFC 9329), the byte-stream part, sans-IO: the drivers move the bytes
 * (src/daemon/tcp-encap-*.ts), this file turns them into messages and back.
 *
 * - Stream prefix (section 4): the TCP originator (the IKE initiator) sends the six bytes "IKETCP" once, first on
 *   every new connection; the responder sends none. A stream that does not start with them is not ours.
 * - Framing (section 3): every message is a 16-bit big-endian Length that counts itself, then the message. IKE
 *   messages keep the 4-byte non-ESP marker they have on UDP port 4500 (3.1); ESP packets start with their SPI
 *   (3.2). So a frame's payload is exactly a UDP-4500 datagram and takes the same receive path (classify.ts).
 * - NAT-keepalives (section 6.6) are not sent over TCP: the sender side drops them (TcpFrameBatch.add says so).
 *
 * The deframer hands out frames that lie wholly inside one read as views into that read (no copy: ESP is decrypted
 * in place, and each read is a buffer of its own); a frame split across reads is assembled in a buffer of its own.
 * Errors are TcpEncapError with a code and the stream offset: the driver closes that stream, nothing else.
 */
import { CodedError } from '../util/coded-error.js';

/** "IKETCP" (RFC 9329 section 4). */
export const IKETCP_PREFIX: Uint8Array = Uint8Array.of(0x49, 0x4b, 0x45, 0x54, 0x43, 0x50);
/** The Length field's size; it counts itself (RFC 9329 section 3). */
export const LENGTH_FIELD_BYTES = 2;
/** The largest frame the 16-bit Length can describe, field included. */
export const MAX_FRAME_LENGTH = 0xffff;
/** The largest message (datagram) one frame carries. */
export const MAX_MESSAGE_LENGTH = MAX_FRAME_LENGTH - LENGTH_FIELD_BYTES;
/** Buffers a TcpFrameBatch keeps for reuse (writes in flight at once, roughly). */
const SPARE_BUFFERS = 4;
/** The non-ESP marker IKE messages carry on port 4500 and over TCP (RFC 3948 2.2, RFC 9329 3.1). */
const MARKER_BYTES = 4;

export type TcpEncapErrorCode = 'bad-prefix' | 'bad-length' | 'too-long';

export class TcpEncapError extends CodedError<TcpEncapErrorCode> {
  /** Byte offset in the stream (counted from its first byte, prefix included) where the problem starts. */
  readonly offset: number;
  constructor(code: TcpEncapErrorCode, message: string, offset: number) {
    super(code, message);
    this.offset = offset;
  }
}

export interface TcpDeframerOptions {
  /** The responder's side: the stream must start with "IKETCP" (RFC 9329 section 4). */
  readonly expectPrefix: boolean;
  /** Frames longer than this (Length field included) are refused; default and ceiling MAX_FRAME_LENGTH. */
  readonly maxFrameLength?: number;
}

/** Reads frames out of a TCP byte stream fed in arbitrary pieces. */
export class TcpDeframer {
  private readonly maxFrame: number;
  /** Prefix bytes still expected (0 once matched or when none is expected). */
  private prefixLeft: number;
  /** A Length field split across reads: its first byte, or -1. */
  private lengthHigh = -1;
  /** A frame split across reads: its buffer and how much of it is filled. */
  private partial: Uint8Array | undefined;
  private partialFill = 0;
  /** Stream bytes consumed so far (for error offsets). */
  private consumed = 0;
  private failed: TcpEncapError | undefined;

  constructor(opts: TcpDeframerOptions) {
    this.prefixLeft = opts.expectPrefix ? IKETCP_PREFIX.length : 0;
    this.maxFrame = Math.min(opts.maxFrameLength ?? MAX_FRAME_LENGTH, MAX_FRAME_LENGTH);
    if (this.maxFrame <= LENGTH_FIELD_BYTES) throw new RangeError(`maxFrameLength ${this.maxFrame} leaves no room for a message`);
  }

  /** Bytes of an unfinished frame (or prefix) held between reads. */
  get buffered(): number {
    return (this.prefixLeft > 0 ? IKETCP_PREFIX.length - this.prefixLeft : 0) + (this.lengthHigh >= 0 ? 1 : 0) + (this.partial ? LENGTH_FIELD_BYTES + this.partialFill : 0);
  }

  /**
   * One read. Returns the messages it completed, in order (views into `chunk` or buffers of their own). Throws
   * TcpEncapError on a bad prefix or Length; after that the stream is unusable and every call throws again.
   */
  push(chunk: Uint8Array): Uint8Array[] {
    if (this.failed) throw this.failed;
    const out: Uint8Array[] = [];
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      if (this.prefixLeft > 0) {
        const at = IKETCP_PREFIX.length - this.prefixLeft;
        if (chunk[i] !== IKETCP_PREFIX[at]) return this.fail('bad-prefix', `stream does not start with "IKETCP" (RFC 9329 section 4): byte ${this.consumed + i} is 0x${hex(chunk[i] ?? 0)}`, this.consumed + i);
        this.prefixLeft--;
        i++;
        continue;
      }
      if (this.partial) {
        const take = Math.min(this.partial.length - this.partialFill, n - i);
        this.partial.set(chunk.subarray(i, i + take), this.partialFill);
        this.partialFill += take;
        i += take;
        if (this.partialFill === this.partial.length) {
          out.push(this.partial);
          this.partial = undefined;
          this.partialFill = 0;
        }
        continue;
      }
      // A Length field, possibly split across two reads.
      let len: number;
      const start = this.consumed + i - (this.lengthHigh >= 0 ? 1 : 0);
      if (this.lengthHigh >= 0) {
        len = (this.lengthHigh << 8) | (chunk[i] ?? 0);
        this.lengthHigh = -1;
        i++;
      } else if (i + 1 < n) {
        len = ((chunk[i] ?? 0) << 8) | (chunk[i + 1] ?? 0);
        i += 2;
      } else {
        this.lengthHigh = chunk[i] ?? 0;
        i++;
        continue;
      }
      if (len <= LENGTH_FIELD_BYTES) return this.fail('bad-length', `frame at stream offset ${start} has Length ${len}: it counts its own 2 bytes, so an empty or shorter frame is malformed (RFC 9329 section 3)`, start);
      if (len > this.maxFrame) return this.fail('too-long', `frame at stream offset ${start} has Length ${len}, over the limit of ${this.maxFrame}`, start);
      const body = len - LENGTH_FIELD_BYTES;
      if (n - i >= body) {
        out.push(chunk.subarray(i, i + body));
        i += body;
      } else {
        this.partial = new Uint8Array(body);
        this.partialFill = 0;
      }
    }
    this.consumed += n;
    return out;
  }

  private fail(code: TcpEncapErrorCode, message: string, offset: number): never {
    this.failed = new TcpEncapError(code, message, offset);
    throw this.failed;
  }
}

export interface TcpFrameBatchOptions {
  /** The originator's side: "IKETCP" goes first on the stream (RFC 9329 section 4). */
  readonly prefix: boolean;
}

/**
 * Frames queued for one TCP write: the driver adds every message of an engine batch, then takes one buffer and
 * writes it with one syscall (a write per ESP packet would cost a syscall and a TCP segment each).
 */
export class TcpFrameBatch {
  private buf: Uint8Array;
  private fill = 0;
  private readonly spare: Uint8Array[] = [];
  /** Messages framed since the last take(). */
  frames = 0;

  constructor(opts: TcpFrameBatchOptions, initialBytes = 16 * 1024) {
    this.buf = new Uint8Array(initialBytes);
    if (opts.prefix) this.writePrefix();
  }

  /** Bytes waiting for take(). */
  get length(): number {
    return this.fill;
  }

  /**
   * Frames one message (a UDP-4500 datagram: IKE with its non-ESP marker, or ESP). `ikeWithoutMarker`: an IKE
   * message as sent on port 500, which gets the marker here (RFC 9329 3.1 requires it on TCP). Returns false, and
   * frames nothing, for a NAT-keepalive (RFC 9329 section 6.6). Throws TcpEncapError 'too-long' for a message no
   * frame can carry.
   */
  add(data: Uint8Array, offset = 0, length = data.length - offset, ikeWithoutMarker = false): boolean {
    // The keepalive is one 0xFF byte whichever port the core meant it for (never an IKE message: too short).
    if (length === 1 && data[offset] === 0xff) return false;
    const body = length + (ikeWithoutMarker ? MARKER_BYTES : 0);
    if (body > MAX_MESSAGE_LENGTH) throw new TcpEncapError('too-long', `message of ${body} bytes does not fit a TCP frame (at most ${MAX_MESSAGE_LENGTH}, RFC 9329 section 3)`, 0);
    if (body === 0) throw new TcpEncapError('bad-length', 'an empty message cannot be framed (RFC 9329 section 3)', 0);
    this.reserve(LENGTH_FIELD_BYTES + body);
    const frame = body + LENGTH_FIELD_BYTES;
    this.buf[this.fill++] = frame >>> 8;
    this.buf[this.fill++] = frame & 0xff;
    if (ikeWithoutMarker) {
      this.buf.fill(0, this.fill, this.fill + MARKER_BYTES);
      this.fill += MARKER_BYTES;
    }
    this.buf.set(data.subarray(offset, offset + length), this.fill);
    this.fill += length;
    this.frames++;
    return true;
  }

  /**
   * The bytes to write, or undefined when empty. They are the batch's own buffer, handed over without a copy: the
   * caller owns them until it gives the buffer back with recycle() (after the write completed), or for good.
   */
  take(): Uint8Array | undefined {
    if (this.fill === 0) return undefined;
    const out = this.buf.subarray(0, this.fill);
    // Measured (bench/tunnel --tcp --profile): a copy per batch was 12% of the sender's time; buffers circulate.
    this.buf = this.spare.pop() ?? new Uint8Array(this.buf.length);
    this.fill = 0;
    this.frames = 0;
    return out;
  }

  /** A buffer from take() whose write completed: reused for a later batch (a few are kept, the rest dropped). */
  recycle(bytes: Uint8Array): void {
    if (bytes.byteOffset !== 0 || this.spare.length >= SPARE_BUFFERS || this.spare.some((s) => s.buffer === bytes.buffer) || bytes.buffer === this.buf.buffer) return;
    const whole = new Uint8Array(bytes.buffer);
    if (whole.length >= this.buf.length) this.spare.push(whole);
  }

  private writePrefix(): void {
    this.reserve(IKETCP_PREFIX.length);
    this.buf.set(IKETCP_PREFIX, this.fill);
    this.fill += IKETCP_PREFIX.length;
  }

  private reserve(n: number): void {
    if (this.fill + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.fill + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.fill));
    this.buf = next;
  }
}

/**
 * An IKE message as the gateway hands it to the driver: with the non-ESP marker on the NAT-T port, without it on
 * port 500. The initiator's SPI (the first 8 bytes of an IKE header) is never zero (RFC 7296 3.1), so 4 zero bytes
 * in front can only be the marker.
 */
export function hasNonEspMarker(data: Uint8Array): boolean {
  return data.length >= MARKER_BYTES && data[0] === 0 && data[1] === 0 && data[2] === 0 && data[3] === 0;
}

function hex(b: number): string {
  return b.toString(16).padStart(2, '0');
}
