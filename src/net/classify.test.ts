import { describe, expect, it } from 'vitest';
import { classifyDatagram, looksLikeIke } from './classify.js';

function ikeHeader(len: number): Uint8Array {
  const d = new Uint8Array(len);
  d.fill(0xab, 0, 8); // SPIi
  d[16] = 33; // next payload SA
  d[17] = 0x20; // version 2.0
  d[18] = 34; // IKE_SA_INIT
  new DataView(d.buffer).setUint32(24, len);
  return d;
}

describe('classifyDatagram (RFC 3948 section 2)', () => {
  it('a single 0xFF byte is a NAT keepalive on any port', () => {
    expect(classifyDatagram(Uint8Array.of(0xff), false, false).kind).toBe('keepalive');
    expect(classifyDatagram(Uint8Array.of(0xff), true, true).kind).toBe('keepalive');
  });

  it('the non-ESP marker means IKE, stripped', () => {
    const d = new Uint8Array([0, 0, 0, 0, ...ikeHeader(28)]);
    const k = classifyDatagram(d, false, false);
    expect(k.kind).toBe('ike');
    expect(k.kind === 'ike' && k.data.length).toBe(28);
  });

  it('everything on port 500 is IKE, as is', () => {
    const k = classifyDatagram(ikeHeader(40), true, true);
    expect(k.kind === 'ike' && k.data.length).toBe(40);
  });

  it('on the NAT-T port anything else is ESP', () => {
    expect(classifyDatagram(ikeHeader(40), false, false).kind).toBe('esp');
    expect(classifyDatagram(Uint8Array.of(0, 0, 1, 0, 0, 0, 0, 1, 9, 9), false, false).kind).toBe('esp');
  });

  it('on a non-500 IKE port, an IKE header with a matching length is IKE and the rest ESP', () => {
    expect(classifyDatagram(ikeHeader(60), true, false).kind).toBe('ike');
    const esp = ikeHeader(60);
    esp[27] = 61; // length mismatch
    expect(classifyDatagram(esp, true, false).kind).toBe('esp');
    expect(looksLikeIke(ikeHeader(28).subarray(0, 27))).toBe(false);
  });

  it('runts are invalid, with a reason', () => {
    const k = classifyDatagram(Uint8Array.of(1, 2, 3), false, false);
    expect(k.kind).toBe('invalid');
    expect(classifyDatagram(new Uint8Array(0), false, false).kind).toBe('invalid');
  });
});
