import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodePacket, encodePacket, FrameDecoder, VICI_MESSAGE_SIZE_MAX, type ViciOutPacket } from './transport.js';
import { ViciError } from './errors.js';

const ascii = (s: string): number[] => [...s].map((c) => c.charCodeAt(0));

describe('vici packets', () => {
  it('encodes a named CMD_REQUEST with length header, type, name and message', () => {
    const bytes = encodePacket({ type: 'CMD_REQUEST', name: 'version', message: { a: 'b' } });
    const msg = [3, 1, ...ascii('a'), 0, 1, ...ascii('b')];
    expect([...bytes]).toEqual([0, 0, 0, 1 + 1 + 7 + msg.length, 0, 7, ...ascii('version'), ...msg]);
  });

  it('encodes message-less packets as a single type byte', () => {
    expect([...encodePacket({ type: 'CMD_UNKNOWN' })]).toEqual([0, 0, 0, 1, 2]);
    expect([...encodePacket({ type: 'EVENT_CONFIRM' })]).toEqual([0, 0, 0, 1, 5]);
    expect([...encodePacket({ type: 'EVENT_UNKNOWN' })]).toEqual([0, 0, 0, 1, 6]);
    expect([...encodePacket({ type: 'EVENT_REGISTER', name: 'x' })]).toEqual([0, 0, 0, 3, 3, 1, 120]);
  });

  const all: ViciOutPacket[] = [
    { type: 'CMD_REQUEST', name: 'list-sas', message: { noblock: 'yes' } },
    { type: 'CMD_RESPONSE', message: { success: 'yes' } },
    { type: 'CMD_UNKNOWN' },
    { type: 'EVENT_REGISTER', name: 'list-sa' },
    { type: 'EVENT_UNREGISTER', name: 'list-sa' },
    { type: 'EVENT_CONFIRM' },
    { type: 'EVENT_UNKNOWN' },
    { type: 'EVENT', name: 'log', message: { msg: 'hello' } },
  ];
  it.each(all)('round-trips $type', (p) => {
    expect(decodePacket(encodePacket(p).subarray(4))).toEqual(p);
  });

  it('rejects bad packets with typed errors', () => {
    const cases: [number[], string][] = [
      [[], 'BAD_LENGTH'],
      [[8], 'UNKNOWN_PACKET_TYPE'],
      [[0], 'TRUNCATED'],
      [[0, 5, ...ascii('ab')], 'TRUNCATED'],
      [[0, 0], 'BAD_NAME'],
      [[5, 1], 'TRAILING_DATA'],
      [[3, 1, ...ascii('x'), 9], 'TRAILING_DATA'],
      [[1, 2], 'UNBALANCED_SECTION'],
    ];
    for (const [bytes, code] of cases) {
      expect(() => decodePacket(new Uint8Array(bytes)), `${bytes}`).toThrow(expect.objectContaining({ code }));
    }
  });

  it('gives message errors an offset into the packet', () => {
    try {
      decodePacket(new Uint8Array([0, 1, ...ascii('x'), 9]));
      expect.unreachable();
    } catch (e) {
      expect((e as ViciError).code).toBe('UNKNOWN_ELEMENT');
      expect((e as ViciError).offset).toBe(3);
    }
  });

  it('refuses to encode a packet over 512 KiB', () => {
    const big: Record<string, string> = {};
    for (let i = 0; i < 9; i++) big[`k${i}`] = 'x'.repeat(65535);
    expect(() => encodePacket({ type: 'CMD_RESPONSE', message: big })).toThrow(expect.objectContaining({ code: 'BAD_LENGTH' }));
  });

  it('fuzz: random packet bytes decode or throw ViciError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (b) => {
        try {
          decodePacket(b);
        } catch (e) {
          if (!(e instanceof ViciError)) throw e;
        }
      }),
      { numRuns: 5000 },
    );
  });
});

describe('FrameDecoder', () => {
  const packets = all2();
  function all2(): Uint8Array[] {
    return [
      encodePacket({ type: 'CMD_REQUEST', name: 'stats' }),
      encodePacket({ type: 'EVENT', name: 'list-sa', message: { gw: { uniqueid: 1, 'child-sas': {} } } }),
      encodePacket({ type: 'EVENT_CONFIRM' }),
    ];
  }
  const stream = new Uint8Array(packets.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of packets) {
    stream.set(p, o);
    o += p.length;
  }

  it('splits several packets in one chunk', () => {
    const d = new FrameDecoder();
    const out = d.push(stream);
    expect(out.map((x) => [...x])).toEqual(packets.map((p) => [...p.subarray(4)]));
    expect(d.pending).toBe(0);
  });

  it('property: any chunking yields the same packets', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: stream.length }), { maxLength: 10 }), (cuts) => {
        const points = [...new Set(cuts)].sort((a, b) => a - b);
        const d = new FrameDecoder();
        const got: number[][] = [];
        let prev = 0;
        for (const c of [...points, stream.length]) {
          for (const x of d.push(stream.subarray(prev, c))) got.push([...x]);
          prev = c;
        }
        expect(got).toEqual(packets.map((p) => [...p.subarray(4)]));
      }),
    );
  });

  it('byte by byte', () => {
    const d = new FrameDecoder();
    const got: Uint8Array[] = [];
    for (let i = 0; i < stream.length; i++) got.push(...d.push(stream.subarray(i, i + 1)));
    expect(got.length).toBe(3);
  });

  it('rejects a length above 512 KiB before buffering it, and a zero length', () => {
    const d = new FrameDecoder();
    const n = VICI_MESSAGE_SIZE_MAX + 1;
    expect(() => d.push(new Uint8Array([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]))).toThrow(
      expect.objectContaining({ code: 'BAD_LENGTH' }),
    );
    expect(() => d.push(new Uint8Array([1]))).toThrow(ViciError);
    expect(() => new FrameDecoder().push(new Uint8Array([0, 0, 0, 0]))).toThrow(expect.objectContaining({ code: 'BAD_LENGTH' }));
  });

  it('accepts exactly 512 KiB', () => {
    const d = new FrameDecoder();
    const n = VICI_MESSAGE_SIZE_MAX;
    const buf = new Uint8Array(4 + n);
    new DataView(buf.buffer).setUint32(0, n);
    expect(d.push(buf).length).toBe(1);
  });
});
