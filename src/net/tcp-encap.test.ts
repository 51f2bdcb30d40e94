import { describe, expect, it } from 'vitest';
import { hasNonEspMarker, IKETCP_PREFIX, MAX_FRAME_LENGTH, MAX_MESSAGE_LENGTH, TcpDeframer, TcpEncapError, TcpFrameBatch } from './tcp-encap.js';

/** A message of `len` bytes: IKE-like (marker first) or ESP-like (SPI first), with a recognisable fill. */
function message(len: number, kind: 'ike' | 'esp', seed: number): Uint8Array {
  const m = new Uint8Array(len);
  for (let i = 0; i < len; i++) m[i] = (seed * 31 + i * 7) & 0xff;
  if (kind === 'ike') m.fill(0, 0, Math.min(4, len));
  else m[0] = 0x10 + seed; // a non-zero SPI
  return m;
}

function stream(msgs: readonly Uint8Array[], prefix: boolean): Uint8Array {
  const b = new TcpFrameBatch({ prefix });
  for (const m of msgs) b.add(m);
  return b.take() ?? new Uint8Array(0);
}

function readAll(d: TcpDeframer, pieces: readonly Uint8Array[]): Uint8Array[] {
  return pieces.flatMap((p) => d.push(p));
}

function expectMessages(got: readonly Uint8Array[], want: readonly Uint8Array[]): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) expect(Buffer.from(got[i]!).equals(Buffer.from(want[i]!)), `message ${i}`).toBe(true);
}

function thrown(f: () => unknown): TcpEncapError {
  try {
    f();
  } catch (e) {
    if (e instanceof TcpEncapError) return e;
    throw e;
  }
  throw new Error('did not throw');
}

const MSGS = [message(36, 'ike', 1), message(9, 'esp', 2), message(1, 'esp', 3), message(20, 'esp', 4), message(32, 'ike', 5)];

describe('TcpFrameBatch (RFC 9329 sections 3 and 4)', () => {
  it('writes "IKETCP" once, first, on the originator side, then Length-prefixed messages', () => {
    const b = new TcpFrameBatch({ prefix: true });
    b.add(Uint8Array.of(0, 0, 0, 0, 0xaa));
    b.add(Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8));
    const out = b.take();
    expect(Array.from(out ?? [])).toEqual([...IKETCP_PREFIX, 0, 7, 0, 0, 0, 0, 0xaa, 0, 10, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(new TextDecoder().decode(IKETCP_PREFIX)).toBe('IKETCP');
    b.add(Uint8Array.of(9, 9, 9));
    expect(Array.from(b.take() ?? [])).toEqual([0, 5, 9, 9, 9]);
    expect(b.take()).toBeUndefined();
  });

  it('the responder side sends no prefix', () => {
    const b = new TcpFrameBatch({ prefix: false });
    expect(b.take()).toBeUndefined();
    b.add(Uint8Array.of(7, 7));
    expect(Array.from(b.take() ?? [])).toEqual([0, 4, 7, 7]);
  });

  it('adds the non-ESP marker to an IKE message sent as on port 500 (RFC 9329 3.1)', () => {
    const b = new TcpFrameBatch({ prefix: false });
    b.add(Uint8Array.of(0xde, 0xad), 0, 2, true);
    expect(Array.from(b.take() ?? [])).toEqual([0, 8, 0, 0, 0, 0, 0xde, 0xad]);
  });

  it('frames a slice of a larger buffer (the engine hands out buffer, offset, length)', () => {
    const b = new TcpFrameBatch({ prefix: false });
    b.add(Uint8Array.of(1, 2, 3, 4, 5, 6), 2, 3);
    expect(Array.from(b.take() ?? [])).toEqual([0, 5, 3, 4, 5]);
  });

  it('drops NAT-keepalives: they are not sent over TCP (RFC 9329 6.6)', () => {
    const b = new TcpFrameBatch({ prefix: false });
    expect(b.add(Uint8Array.of(0xff))).toBe(false);
    // Sent as from port 500 (no marker) it is still a keepalive, not an IKE message to frame with a marker.
    expect(b.add(Uint8Array.of(0xff), 0, 1, true)).toBe(false);
    expect(b.take()).toBeUndefined();
  });

  it('hands its buffer over without a copy; later frames never touch bytes already taken; recycled buffers return', () => {
    const b = new TcpFrameBatch({ prefix: false }, 64);
    b.add(Uint8Array.of(1, 2, 3));
    const first = b.take() ?? new Uint8Array(0);
    b.add(Uint8Array.of(4, 5, 6));
    expect(Array.from(first)).toEqual([0, 5, 1, 2, 3]);
    const second = b.take() ?? new Uint8Array(0);
    expect(second.buffer).not.toBe(first.buffer);
    b.recycle(first);
    b.recycle(first); // twice by mistake: kept once
    // The batch filling now was allocated at the second take(); the recycled one comes next.
    b.add(Uint8Array.of(7));
    expect(Array.from(b.take() ?? [])).toEqual([0, 3, 7]);
    b.add(Uint8Array.of(8));
    const fourth = b.take() ?? new Uint8Array(0);
    expect(fourth.buffer).toBe(first.buffer);
    expect(Array.from(fourth)).toEqual([0, 3, 8]);
    b.add(Uint8Array.of(9));
    expect((b.take() ?? new Uint8Array(0)).buffer).not.toBe(first.buffer);
  });

  it('grows past its initial buffer and keeps every byte', () => {
    const b = new TcpFrameBatch({ prefix: true }, 8);
    const msgs = Array.from({ length: 50 }, (_, i) => message(100 + i * 13, 'esp', i));
    for (const m of msgs) b.add(m);
    expect(b.frames).toBe(50);
    const out = b.take() ?? new Uint8Array(0);
    expectMessages(new TcpDeframer({ expectPrefix: true }).push(out), msgs);
  });

  it('carries the largest message a 16-bit Length allows and refuses one byte more', () => {
    const b = new TcpFrameBatch({ prefix: false });
    const big = message(MAX_MESSAGE_LENGTH, 'esp', 9);
    b.add(big);
    const out = b.take() ?? new Uint8Array(0);
    expect(out.length).toBe(MAX_FRAME_LENGTH);
    expect([out[0], out[1]]).toEqual([0xff, 0xff]);
    expectMessages(new TcpDeframer({ expectPrefix: false }).push(out), [big]);
    const e = thrown(() => b.add(message(MAX_MESSAGE_LENGTH + 1, 'esp', 9)));
    expect(e.code).toBe('too-long');
    expect(e.message).toMatch(/65534 bytes does not fit/);
    // The marker counts: an IKE message 4 bytes short of the limit is the largest that still fits.
    expect(() => b.add(new Uint8Array(MAX_MESSAGE_LENGTH - 3).fill(1), 0, MAX_MESSAGE_LENGTH - 3, true)).toThrow(TcpEncapError);
    expect(b.add(new Uint8Array(MAX_MESSAGE_LENGTH - 4).fill(1), 0, MAX_MESSAGE_LENGTH - 4, true)).toBe(true);
    expect(thrown(() => b.add(new Uint8Array(0))).code).toBe('bad-length');
  });
});

describe('TcpDeframer: every split of a stream into reads', () => {
  const whole = stream(MSGS, true);

  it('one read', () => {
    expectMessages(new TcpDeframer({ expectPrefix: true }).push(whole), MSGS);
  });

  it('one byte per read', () => {
    const d = new TcpDeframer({ expectPrefix: true });
    expectMessages(readAll(d, Array.from(whole, (b) => Uint8Array.of(b))), MSGS);
    expect(d.buffered).toBe(0);
  });

  it('every way of cutting the stream into two and into three reads', () => {
    let cases = 0;
    for (let a = 0; a <= whole.length; a++)
      for (let b = a; b <= whole.length; b++) {
        const d = new TcpDeframer({ expectPrefix: true });
        // Copies, as the socket gives each read its own buffer.
        const got = readAll(d, [whole.slice(0, a), whole.slice(a, b), whole.slice(b)]);
        expectMessages(got, MSGS);
        expect(d.buffered).toBe(0);
        cases++;
      }
    expect(cases).toBe(((whole.length + 1) * (whole.length + 2)) / 2);
  });

  it('a partial frame is reported as buffered until its last byte arrives', () => {
    const d = new TcpDeframer({ expectPrefix: true });
    expect(d.push(whole.subarray(0, 3))).toEqual([]);
    expect(d.buffered).toBe(3);
    expect(d.push(whole.subarray(3, 6 + 1))).toEqual([]); // prefix and a Length's first byte
    expect(d.buffered).toBe(1);
    expect(d.push(whole.subarray(7, 10))).toEqual([]);
    expect(d.buffered).toBe(4);
    expectMessages(d.push(whole.subarray(10)), MSGS);
  });

  it('random splits of a long stream with large messages', () => {
    let seed = 12345;
    const rnd = (n: number): number => ((seed = (seed * 1103515245 + 12345) >>> 0) % n);
    const msgs = Array.from({ length: 200 }, (_, i) => message(1 + rnd(i % 20 === 0 ? MAX_MESSAGE_LENGTH : 1600), i % 7 === 0 ? 'ike' : 'esp', i));
    const s = stream(msgs, false);
    for (let round = 0; round < 5; round++) {
      const d = new TcpDeframer({ expectPrefix: false });
      const got: Uint8Array[] = [];
      for (let at = 0; at < s.length; ) {
        const n = 1 + rnd(round === 0 ? 3 : 70_000);
        got.push(...d.push(s.slice(at, at + n)));
        at += n;
      }
      expectMessages(got, msgs);
    }
  });

  it('frames wholly inside one read are views into it (no copy), split ones are buffers of their own', () => {
    const s = stream([message(10, 'esp', 1), message(10, 'esp', 2)], false);
    const d = new TcpDeframer({ expectPrefix: false });
    const first = d.push(s.subarray(0, 18));
    expect(first.length).toBe(1);
    expect(first[0]!.buffer).toBe(s.buffer);
    const second = d.push(s.slice(18));
    expect(second[0]!.buffer).not.toBe(s.buffer);
  });
});

describe('TcpDeframer: garbage', () => {
  it('a stream without "IKETCP" names the byte where it differs', () => {
    for (let at = 0; at < IKETCP_PREFIX.length; at++) {
      const bad = stream([message(20, 'esp', 1)], true);
      bad[at] = (bad[at] ?? 0) ^ 0x20; // "iKETCP": case matters
      const e = thrown(() => new TcpDeframer({ expectPrefix: true }).push(bad));
      expect(e.code).toBe('bad-prefix');
      expect(e.offset).toBe(at);
      expect(e.message).toContain(`byte ${at} is 0x`);
    }
    // An HTTP request (a proxy or a scanner) is refused at its first byte.
    expect(thrown(() => new TcpDeframer({ expectPrefix: true }).push(new TextEncoder().encode('GET / HTTP/1.1\r\n'))).offset).toBe(0);
  });

  it('the prefix checked across reads', () => {
    const d = new TcpDeframer({ expectPrefix: true });
    d.push(new TextEncoder().encode('IKE'));
    expect(thrown(() => d.push(new TextEncoder().encode('UDP'))).offset).toBe(3);
  });

  it('Length 0, 1 and 2 (no message) are malformed, with the stream offset', () => {
    for (const len of [0, 1, 2]) {
      const d = new TcpDeframer({ expectPrefix: false });
      const ok = stream([message(5, 'esp', 1)], false);
      const e = thrown(() => d.push(Uint8Array.from([...ok, 0, len, 1, 2, 3])));
      expect(e.code).toBe('bad-length');
      expect(e.offset).toBe(ok.length);
      expect(e.message).toContain(`Length ${len}`);
    }
  });

  it('a Length split across reads is still checked, with its offset', () => {
    const d = new TcpDeframer({ expectPrefix: false });
    d.push(Uint8Array.of(0, 5, 1, 2, 3, 0));
    const e = thrown(() => d.push(Uint8Array.of(1)));
    expect(e.offset).toBe(5);
  });

  it('a frame over the configured limit is refused before any of it is buffered', () => {
    const d = new TcpDeframer({ expectPrefix: false, maxFrameLength: 2000 });
    expect(d.push(Uint8Array.from([0x07, 0xd0, ...new Uint8Array(1998)]))).toHaveLength(1); // exactly 2000
    const e = thrown(() => d.push(Uint8Array.of(0x07, 0xd1)));
    expect(e.code).toBe('too-long');
    expect(e.message).toContain('Length 2001, over the limit of 2000');
    expect(d.buffered).toBe(0);
  });

  it('after an error every read throws the same error (the stream is closed, not resynchronised)', () => {
    const d = new TcpDeframer({ expectPrefix: false });
    const e = thrown(() => d.push(Uint8Array.of(0, 1)));
    expect(thrown(() => d.push(stream([message(5, 'esp', 1)], false)))).toBe(e);
  });

  it('random bytes only ever give messages or a TcpEncapError', () => {
    let seed = 7;
    const rnd = (n: number): number => ((seed = (seed * 1103515245 + 12345) >>> 0) % n);
    for (let round = 0; round < 300; round++) {
      const d = new TcpDeframer({ expectPrefix: round % 2 === 0, maxFrameLength: 1 + 2 + rnd(3000) });
      const junk = Uint8Array.from({ length: rnd(5000) }, () => rnd(256));
      if (round % 4 === 0) junk.set(IKETCP_PREFIX.subarray(0, Math.min(6, junk.length)));
      try {
        for (let at = 0; at < junk.length; at += 1 + rnd(900)) for (const m of d.push(junk.slice(at, at + 1 + rnd(900)))) expect(m.length).toBeGreaterThan(0);
      } catch (e) {
        expect(e).toBeInstanceOf(TcpEncapError);
      }
    }
  });

  it('a limit that leaves no room for a message is a programming error', () => {
    expect(() => new TcpDeframer({ expectPrefix: false, maxFrameLength: 2 })).toThrow(RangeError);
  });
});

describe('hasNonEspMarker', () => {
  it('4 zero bytes first: IKE on the NAT-T port; anything else is not', () => {
    expect(hasNonEspMarker(Uint8Array.of(0, 0, 0, 0, 1))).toBe(true);
    expect(hasNonEspMarker(Uint8Array.of(0, 0, 0, 1, 1))).toBe(false);
    expect(hasNonEspMarker(Uint8Array.of(0, 0, 0))).toBe(false);
  });
});
