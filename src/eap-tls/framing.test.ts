import { describe, expect, it } from 'vitest';
import { EapError } from '../eap/errors.js';
import { buildTlsFrame, Fragmenter, MAX_TLS_MESSAGE, parseTlsFrame, Reassembler, TlsFlag } from './framing.js';

const err = (f: () => unknown): EapError => {
  try {
    f();
  } catch (e) {
    if (e instanceof EapError) return e;
    throw e;
  }
  throw new Error('no error');
};

describe('EAP-TLS framing (RFC 5216 3.1, 2.1.5)', () => {
  it('Start is a Request with only the S flag', () => {
    expect([...buildTlsFrame(1, 9, TlsFlag.Start)]).toEqual([1, 9, 0, 6, 13, 0x20]);
  });
  it('an unfragmented message carries L and its length (strongSwan include_length = yes)', () => {
    const p = new Fragmenter(Uint8Array.of(1, 2, 3), 1024).next(2, 4);
    expect([...p]).toEqual([2, 4, 0, 13, 13, 0x80, 0, 0, 0, 3, 1, 2, 3]);
    expect(parseTlsFrame(p)).toEqual({ identifier: 4, flags: 0x80, totalLength: 3, data: Uint8Array.of(1, 2, 3) });
  });
  it('a long message: first fragment L|M with 1014 data octets, then M, then the rest; reassembled whole', () => {
    const msg = Uint8Array.from({ length: 2500 }, (_, i) => i & 0xff);
    const f = new Fragmenter(msg, 1024);
    const packets: Uint8Array[] = [];
    while (!f.done) packets.push(f.next(1, packets.length));
    expect(packets.map((p) => [p.length, p[5]])).toEqual([
      [1024, 0xc0],
      [1024, 0x40],
      [2500 - 1014 - 1018 + 6, 0],
    ]);
    const r = new Reassembler();
    const parts = packets.map((p) => r.add(parseTlsFrame(p)));
    expect(parts.slice(0, 2)).toEqual([undefined, undefined]);
    expect(parts[2]).toEqual(msg);
  });
  it('refuses a packet without Flags, a cut L field, a length below the fragment or above the limit', () => {
    expect(err(() => parseTlsFrame(Uint8Array.of(2, 1, 0, 5, 13))).message).toMatch(/no Flags octet \(offset 5\)/);
    expect(err(() => parseTlsFrame(Uint8Array.of(2, 1, 0, 8, 13, 0x80, 0, 0))).message).toMatch(/no 4-octet TLS Message Length \(offset 6\)/);
    expect(err(() => parseTlsFrame(Uint8Array.of(2, 1, 0, 12, 13, 0x80, 0, 0, 0, 1, 7, 7))).message).toMatch(/Message Length 1 \(offset 6\) is less than the 2 bytes/);
    expect(err(() => parseTlsFrame(buildTlsFrame(2, 1, 0x40, Uint8Array.of(1), MAX_TLS_MESSAGE + 1))).code).toBe('bad-length');
  });
  it('refuses fragments that overrun or fall short of the announced length', () => {
    const r = new Reassembler();
    r.add(parseTlsFrame(buildTlsFrame(2, 1, TlsFlag.More, Uint8Array.of(1, 2), 3)));
    expect(err(() => r.add(parseTlsFrame(buildTlsFrame(2, 2, 0, Uint8Array.of(3, 4))))).message).toMatch(/carry 4 bytes, more than the announced Message Length 3/);
    const s = new Reassembler();
    s.add(parseTlsFrame(buildTlsFrame(2, 1, TlsFlag.More, Uint8Array.of(1), 3)));
    expect(err(() => s.add(parseTlsFrame(buildTlsFrame(2, 2, 0, Uint8Array.of(2))))).message).toMatch(/ended after 2 bytes, the first fragment announced 3/);
  });
});
