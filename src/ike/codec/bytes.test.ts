import { describe, expect, it } from 'vitest';
import { CodecOverrunError, put16, put32, u8, u16, u32 } from './bytes.js';

describe('codec byte readers', () => {
  const b = Uint8Array.of(0x12, 0x34, 0x56, 0x78, 0xff, 0xfe, 0xfd, 0xfc);

  it('read big-endian fields (RFC 7296 3: network byte order)', () => {
    expect(u8(b, 0)).toBe(0x12);
    expect(u8(b, 7)).toBe(0xfc);
    expect(u16(b, 0)).toBe(0x1234);
    expect(u16(b, 6)).toBe(0xfdfc);
    expect(u32(b, 0)).toBe(0x12345678);
    // Unsigned even with the top bit set.
    expect(u32(b, 4)).toBe(0xfffefdfc);
  });

  it('round-trip put16/put32', () => {
    const out = new Uint8Array(6);
    put16(out, 0, 0xbeef);
    put32(out, 2, 0xdeadbeef);
    expect(u16(out, 0)).toBe(0xbeef);
    expect(u32(out, 2)).toBe(0xdeadbeef);
  });

  it.each([
    ['u8 past the end', () => u8(b, 8), 8],
    ['u8 before the start', () => u8(b, -1), -1],
    ['u16 straddling the end', () => u16(b, 7), 7],
    ['u32 straddling the end', () => u32(b, 5), 5],
    ['u32 of an empty buffer', () => u32(new Uint8Array(0), 0), 0],
  ])('%s throws CodecOverrunError naming the offset instead of reading 0', (_name, read, offset) => {
    let caught: unknown;
    try {
      read();
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(CodecOverrunError);
    const err = caught as CodecOverrunError;
    expect(err.code).toBe('CODEC_OVERRUN');
    expect(err.offset).toBe(offset);
    expect(err.message).toContain(`offset ${offset}`);
  });
});
