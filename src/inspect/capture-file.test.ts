import { describe, expect, it } from 'vitest';
import { CaptureFormatError, LinkType, readCapture } from './capture-file.js';
import { pcapFile, pcapngFile } from './test-captures.js';

const a = Uint8Array.of(1, 2, 3, 4, 5);
const b = Uint8Array.of(9, 8, 7);

describe('pcap reader', () => {
  it.each([
    ['little-endian microseconds', { le: true, nano: false }],
    ['big-endian microseconds', { le: false, nano: false }],
    ['little-endian nanoseconds', { le: true, nano: true }],
    ['big-endian nanoseconds', { le: false, nano: true }],
  ])('%s', (_, opts) => {
    const f = readCapture(pcapFile(LinkType.ETHERNET, [{ data: a, time: 100.25 }, { data: b, time: 101.5 }], opts));
    expect(f.format).toBe('pcap');
    expect(f.frames.map((x) => [x.number, x.linkType, x.time, [...x.data], x.originalLength])).toEqual([
      [1, 1, 100.25, [1, 2, 3, 4, 5], 5],
      [2, 1, 101.5, [9, 8, 7], 3],
    ]);
  });

  it('keeps the whole records of a file torn mid-record (a killed capture)', () => {
    const file = pcapFile(LinkType.RAW, [{ data: a }, { data: b }]);
    expect(readCapture(file.subarray(0, file.length - 2)).frames.map((x) => x.data.length)).toEqual([5]);
    expect(readCapture(file.subarray(0, 24 + 16 + 5 + 10)).frames).toHaveLength(1);
  });

  it('takes the link type from the low 16 bits (FCS bits above)', () => {
    const file = pcapFile(0x10000000 | LinkType.LINUX_SLL, [{ data: a }]);
    expect(readCapture(file).frames[0]!.linkType).toBe(113);
  });
});

describe('pcapng reader', () => {
  it.each([true, false])('reads EPBs on two interfaces and a SPB (little-endian %s)', (le) => {
    const f = readCapture(
      pcapngFile([LinkType.ETHERNET, LinkType.LINUX_SLL2], [{ data: a, time: 5.5 }, { data: b, iface: 1, time: 6 }, { data: b, simple: true }], { le }),
    );
    expect(f.format).toBe('pcapng');
    expect(f.frames.map((x) => [x.number, x.linkType, x.time, [...x.data]])).toEqual([
      [1, 1, 5.5, [1, 2, 3, 4, 5]],
      [2, 276, 6, [9, 8, 7]],
      [3, 1, 0, [9, 8, 7]],
    ]);
  });

  it('honours if_tsresol (nanoseconds, and a power of two)', () => {
    expect(readCapture(pcapngFile([1], [{ data: a, time: 1.000000001 }], { tsresol: 9 })).frames[0]!.time).toBeCloseTo(1.000000001, 9);
    expect(readCapture(pcapngFile([1], [{ data: a, time: 2.5 }], { tsresol: 0x80 | 10 })).frames[0]!.time).toBe(2.5);
  });

  it('rejects what is not a capture, and broken blocks, with the offset', () => {
    const cases: [Uint8Array, string, number][] = [
      [new TextEncoder().encode('hello world'), 'NOT_A_CAPTURE', 0],
      [Uint8Array.of(0xd4, 0xc3, 0xb2, 0xa1, 2, 0), 'TRUNCATED', 0],
    ];
    const file = pcapngFile([1], [{ data: a }]);
    const badTrailer = file.slice();
    badTrailer[badTrailer.length - 1]! ^= 0xff; // the EPB's trailing length (big-endian high byte in LE order: last byte)
    cases.push([badTrailer, 'BAD_BLOCK', badTrailer.length - 4]);
    const badIface = pcapngFile([1], [{ data: a, iface: 3 }]);
    cases.push([badIface, 'BAD_BLOCK', -1]);
    for (const [bytes, code, offset] of cases) {
      let err: unknown;
      try {
        readCapture(bytes);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(CaptureFormatError);
      expect((err as CaptureFormatError).code).toBe(code);
      if (offset >= 0) expect((err as CaptureFormatError).offset).toBe(offset);
      expect((err as Error).message).toMatch(/at byte \d+/);
    }
  });
});
