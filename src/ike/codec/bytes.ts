/**
 * Big-endian field access for the codec (network byte order, RFC 7296 section 3).
 *
 * The decoders check every length before they read, so on any input these readers stay inside the buffer. If a
 * read ever did run past it, that is a missing length check (a bug), and it throws CodecOverrunError naming the
 * offset rather than reading `undefined` as 0: the mutation fuzzer (fuzz.test.ts, test/fuzz) fails on any throw,
 * so a gap in the checks shows up there instead of as a silently zero field. The happy path allocates nothing.
 */
import { CodedError } from '../../util/coded-error.js';

/** A codec reader ran past its buffer: a programming error (a length check missing before the read), never input. */
export class CodecOverrunError extends CodedError<'CODEC_OVERRUN'> {
  readonly offset: number;
  constructor(offset: number, width: number, bufferLength: number) {
    super('CODEC_OVERRUN', `${width}-byte read at offset ${offset} runs past the ${bufferLength}-byte buffer`);
    this.offset = offset;
  }
}

export function u8(b: Uint8Array, o: number): number {
  const v = b[o];
  if (v === undefined) throw new CodecOverrunError(o, 1, b.length);
  return v;
}

export function u16(b: Uint8Array, o: number): number {
  const hi = b[o];
  const lo = b[o + 1];
  if (hi === undefined || lo === undefined) throw new CodecOverrunError(o, 2, b.length);
  return (hi << 8) | lo;
}

export function u32(b: Uint8Array, o: number): number {
  const b0 = b[o];
  const b1 = b[o + 1];
  const b2 = b[o + 2];
  const b3 = b[o + 3];
  if (b0 === undefined || b1 === undefined || b2 === undefined || b3 === undefined) throw new CodecOverrunError(o, 4, b.length);
  return ((b0 << 24) | (b1 << 16) | (b2 << 8) | b3) >>> 0;
}

export function put16(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 8) & 0xff;
  b[o + 1] = v & 0xff;
}

export function put32(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 24) & 0xff;
  b[o + 1] = (v >>> 16) & 0xff;
  b[o + 2] = (v >>> 8) & 0xff;
  b[o + 3] = v & 0xff;
}

export { concatBytes as concat } from '../../crypto/bytes.js';
