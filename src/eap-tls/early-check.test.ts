import { describe, expect, it } from 'vitest';
import { fatalAlertRecord, serverCertificates } from './early-check.js';

const u24 = (n: number): number[] => [(n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
/** A Certificate handshake message (RFC 5246 7.4.2) holding `certs`. */
function certificateMessage(certs: number[][]): number[] {
  const list = certs.flatMap((c) => [...u24(c.length), ...c]);
  const body = [...u24(list.length), ...list];
  return [11, ...u24(body.length), ...body];
}
const serverHello = [2, ...u24(4), 3, 3, 0, 0];
/** Handshake bytes split into records of at most `size` bytes (RFC 5246 6.2.1 lets messages span records). */
function records(hs: number[], size: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < hs.length; i += size) {
    const frag = hs.slice(i, i + size);
    out.push(22, 3, 3, frag.length >> 8, frag.length & 0xff, ...frag);
  }
  return out;
}

describe('serverCertificates: the Certificate message of a TLS 1.2 server flight', () => {
  it('finds the certificates after ServerHello, leaf first, also when records split the messages', () => {
    const hs = [...serverHello, ...certificateMessage([[1, 2, 3], [4, 5]]), 14, 0, 0, 0];
    for (const size of [1000, 7, 1]) {
      expect(serverCertificates(Uint8Array.from(records(hs, size)))?.map((c) => [...c])).toEqual([[1, 2, 3], [4, 5]]);
    }
  });
  it('no Certificate message (TLS 1.3: encrypted after ServerHello; a resumption) gives undefined', () => {
    const flight = [...records(serverHello, 100), 20, 3, 3, 0, 1, 1, 23, 3, 3, 0, 3, 9, 9, 9];
    expect(serverCertificates(Uint8Array.from(flight))).toBeUndefined();
  });
  it('malformed input never throws: truncated records, lengths beyond the message, empty input', () => {
    const good = records([...serverHello, ...certificateMessage([[1, 2, 3]])], 1000);
    for (let cut = 0; cut < good.length; cut++) expect(() => serverCertificates(Uint8Array.from(good.slice(0, cut)))).not.toThrow();
    const lying = [...serverHello, 11, ...u24(8), ...u24(5), ...u24(200), 1, 2];
    expect(serverCertificates(Uint8Array.from(records(lying, 1000)))).toBeUndefined();
    expect(serverCertificates(new Uint8Array(0))).toBeUndefined();
  });
});

describe('fatalAlertRecord', () => {
  it('is a plaintext TLS 1.2 alert record: fatal level and the description (RFC 5246 7.2)', () => {
    expect([...fatalAlertRecord(48)]).toEqual([21, 3, 3, 0, 2, 2, 48]);
  });
});
