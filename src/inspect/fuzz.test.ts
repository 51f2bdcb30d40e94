/** Bad input never crashes the inspector: random files are a CaptureFormatError or frames; random frames records. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CaptureFormatError, LinkType, readCapture } from './capture-file.js';
import { inspectFrames } from './inspect.js';
import { parseKeyLog } from './key-log.js';
import { ethernet, ipv4, pcapFile, pcapngFile, tcp, tcpFrame, udp } from './test-captures.js';

const keys = parseKeyLog(
  [
    '{"type":"ike","spiI":"0000000000000001","spiR":"0000000000000002","encr":"AES_GCM_16","encrKeyBits":128,"skEi":"' + '11'.repeat(20) + '","skEr":"' + '22'.repeat(20) + '"}',
    '{"type":"esp","spi":"00000100","encr":"AES_CBC","encrKey":"' + '33'.repeat(16) + '","integ":"HMAC_SHA2_256_128","integKey":"' + '44'.repeat(32) + '"}',
  ].join('\n'),
  'fuzz',
);

describe('inspect fuzz', () => {
  it('random bytes as a capture file: frames or a CaptureFormatError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.constantFrom(0xa1b2c3d4, 0x0a0d0d0a, 0), (body, magic) => {
        const file = new Uint8Array(4 + body.length);
        new DataView(file.buffer).setUint32(0, magic);
        file.set(body, 4);
        try {
          inspectFrames(readCapture(file).frames, { keys });
        } catch (e) {
          expect(e).toBeInstanceOf(CaptureFormatError);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('random IKE and ESP datagrams on 500/4500 and protocol 50 give records, never a throw', () => {
    const payload = fc.oneof(
      fc.uint8Array({ maxLength: 200 }),
      // an IKE header with the logged SPIs and a random rest, behind the marker
      fc.uint8Array({ minLength: 0, maxLength: 120 }).map((rest) => Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2, 46, 0x20, 35, 0x08, 0, 0, 0, 1, 0, 0, 0, 28 + rest.length, ...rest])),
      // an ESP packet with the logged SPI
      fc.uint8Array({ maxLength: 120 }).map((rest) => Uint8Array.from([0, 0, 1, 0, 0, 0, 0, 1, ...rest])),
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom(500, 4500, 50), payload), { maxLength: 8 }), fc.boolean(), (items, ng) => {
        const frames = items.map(([port, p]) => ({ data: ethernet(port === 50 ? ipv4('192.0.2.1', '192.0.2.2', 50, p) : ipv4('192.0.2.1', '192.0.2.2', 17, udp(port, port, p))) }));
        const file = ng ? pcapngFile([LinkType.ETHERNET], frames) : pcapFile(LinkType.ETHERNET, frames);
        const r = inspectFrames(readCapture(file).frames, { keys });
        for (const rec of [...r.records]) if (!rec.decrypted) expect(typeof rec.reason).toBe('string');
      }),
      { numRuns: 300 },
    );
  });

  it('random RFC 9329 TCP segments (SYN or not, any sequence number, random or framed bytes) give records and notes, never a throw', () => {
    const framed = fc.uint8Array({ maxLength: 120 }).map((m) => tcpFrame(Uint8Array.from([0, 0, 1, 0, 0, 0, 0, 1, ...m])));
    const segment = fc.record({
      dir: fc.boolean(),
      syn: fc.boolean(),
      fin: fc.boolean(),
      rst: fc.boolean(),
      seq: fc.oneof(fc.integer({ min: 0, max: 400 }), fc.integer({ min: 0, max: 0xffffffff })),
      data: fc.oneof(fc.uint8Array({ maxLength: 120 }), framed, framed.map((f) => Uint8Array.from([0x49, 0x4b, 0x45, 0x54, 0x43, 0x50, ...f]))),
    });
    fc.assert(
      fc.property(fc.array(segment, { maxLength: 12 }), (segs) => {
        const frames = segs.map((g) => ({
          data: ethernet(g.dir ? ipv4('192.0.2.1', '192.0.2.2', 6, tcp(40000, 4500, g.seq, g, g.data)) : ipv4('192.0.2.2', '192.0.2.1', 6, tcp(4500, 40000, g.seq, g, g.data))),
        }));
        const r = inspectFrames(readCapture(pcapngFile([LinkType.ETHERNET], frames)).frames, { keys });
        for (const rec of r.records) if (!rec.decrypted) expect(typeof rec.reason).toBe('string');
        for (const n of r.notes) expect(n.text).toMatch(/^TCP[ -]/);
      }),
      { numRuns: 300 },
    );
  });
});
