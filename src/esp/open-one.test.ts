import { describe, expect, it } from 'vitest';
import { defaultProvider } from '../crypto/provider.js';
import { seededRandom } from '../crypto/random.js';
import { createEspTransform, type EspSuite } from './transform.js';
import { espHeadroom, espSeal, espTailroom } from './packet.js';
import { ipv4Packet } from './testing.js';
import { createEspOpener, espTransformName, openEspPacket } from './open-one.js';

const backend = defaultProvider();

/** Seals `inner` as one ESP packet (SPI, seq) the way the engine does, returning the bytes from the SPI on. */
function seal(suite: EspSuite, encKey: Uint8Array, integKey: Uint8Array | undefined, spi: number, seq: number, inner: Uint8Array, nextHeader = 4): Uint8Array {
  const t = createEspTransform(suite, encKey, integKey, backend, seededRandom(7));
  const head = espHeadroom(t);
  const buf = new Uint8Array(head + inner.length + espTailroom(t));
  buf.set(inner, head);
  const end = espSeal(t, buf, head, inner.length, nextHeader, spi, false, 0, seq);
  t.dispose();
  return buf.slice(0, end);
}

const key = (n: number, fill: number): Uint8Array => new Uint8Array(n).fill(fill);

describe('openEspPacket', () => {
  const inner = ipv4Packet('10.1.0.1', '10.2.0.1', { proto: 17, sport: 5000, dport: 53, size: 100 });

  it('opens an AES-GCM tunnel-mode packet in the middle of the sequence space, with no SA state', () => {
    const suite = { encr: 20, encrKeyBits: 128, integ: 0 };
    const pkt = seal(suite, key(20, 1), undefined, 0xc0ffee01, 123_456, inner);
    const r = openEspPacket(pkt, { encr: 20, encrKey: key(20, 1) }); // key bits derived from the 16+4 byte key
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.spi).toBe(0xc0ffee01);
    expect(r.value.seq).toBe(123_456);
    expect(r.value.mode).toBe('tunnel');
    expect(r.value.nextHeader).toBe(4);
    expect(r.value.suite).toBe('AES_GCM_16-128');
    expect(Buffer.from(r.value.payload).equals(Buffer.from(inner))).toBe(true);
  });

  it('opens AES-CBC + HMAC-SHA2-256 in transport mode and leaves the input untouched', () => {
    const suite = { encr: 12, encrKeyBits: 256, integ: 12 };
    const udp = inner.subarray(20);
    const pkt = seal(suite, key(32, 2), key(32, 3), 0x1000, 1, udp, 17);
    const copy = pkt.slice();
    const opener = createEspOpener({ encr: 12, encrKeyBits: 256, integ: 12, encrKey: key(32, 2), integKey: key(32, 3) });
    expect(opener.ok).toBe(true);
    if (!opener.ok) return;
    const r = opener.value.open(pkt);
    expect(r.ok && r.value.mode).toBe('transport');
    expect(r.ok && r.value.nextHeader).toBe(17);
    expect(r.ok && Buffer.from(r.value.payload).equals(Buffer.from(udp))).toBe(true);
    expect(Buffer.from(pkt).equals(Buffer.from(copy))).toBe(true);
    // The same opener takes a second packet.
    expect(opener.value.open(seal(suite, key(32, 2), key(32, 3), 0x1000, 2, udp, 17)).ok).toBe(true);
    expect(opener.value.suite).toBe('AES_CBC-256/HMAC_SHA2_256_128');
    opener.value.dispose();
  });

  it('opens an ESN packet only with esn (RFC 4303 2.2.1: the high half enters the ICV)', () => {
    const suite = { encr: 12, encrKeyBits: 128, integ: 12 };
    const t = createEspTransform(suite, key(16, 2), key(32, 3), backend, seededRandom(7));
    const head = espHeadroom(t);
    const buf = new Uint8Array(head + inner.length + espTailroom(t));
    buf.set(inner, head);
    const pkt = buf.slice(0, espSeal(t, buf, head, inner.length, 4, 0x2000, true, 0, 5));
    const k = { encr: 12, encrKeyBits: 128, integ: 12, encrKey: key(16, 2), integKey: key(32, 3) };
    expect(openEspPacket(pkt, k)).toMatchObject({ ok: false, error: { code: 'ICV_FAILURE' } });
    expect(openEspPacket(pkt, { ...k, esn: true })).toMatchObject({ ok: true, value: { seq: 5, suite: 'AES_CBC-128/HMAC_SHA2_256_128/ESN' } });
  });

  it('opens ChaCha20-Poly1305 (RFC 7634), which Wireshark 4.0 cannot', () => {
    const suite = { encr: 28, integ: 0 };
    const pkt = seal(suite, key(36, 4), undefined, 0x3000, 77, inner);
    expect(openEspPacket(pkt, { encr: 28, encrKey: key(36, 4) })).toMatchObject({ ok: true, value: { seq: 77, mode: 'tunnel', suite: 'CHACHA20_POLY1305' } });
  });

  it('reports an ICV failure naming the transform and SPI', () => {
    const pkt = seal({ encr: 20, encrKeyBits: 128, integ: 0 }, key(20, 1), undefined, 0xabcdef01, 9, inner);
    const r = openEspPacket(pkt, { encr: 20, encrKey: key(20, 9) });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error.code).toBe('ICV_FAILURE');
    expect(!r.ok && r.error.message).toContain('AES_GCM_16-128');
    expect(!r.ok && r.error.message).toContain('abcdef01');
  });

  it('names unsupported transforms instead of printing numbers', () => {
    const camellia = openEspPacket(new Uint8Array(64), { encr: 23, encrKey: key(16, 0) });
    expect(!camellia.ok && camellia.error.code).toBe('UNSUPPORTED_TRANSFORM');
    expect(!camellia.ok && camellia.error.message).toContain('CAMELLIA_CBC');
    const md5 = openEspPacket(new Uint8Array(64), { encr: 12, encrKeyBits: 128, integ: 1, encrKey: key(16, 0), integKey: key(16, 0) });
    expect(!md5.ok && md5.error.message).toContain('HMAC_MD5_96');
    expect(espTransformName(1, 28)).toBe('CHACHA20_POLY1305');
    expect(espTransformName(3, 12)).toBe('HMAC_SHA2_256_128');
  });

  it('rejects wrong key sizes and truncated packets as typed errors', () => {
    const badKey = openEspPacket(new Uint8Array(64), { encr: 12, encrKeyBits: 128, integ: 12, encrKey: key(16, 0), integKey: key(5, 0) });
    expect(!badKey.ok && badKey.error.code).toBe('BAD_KEY');
    expect(!badKey.ok && badKey.error.message).toContain('AES_CBC-128/HMAC_SHA2_256_128');
    const short = openEspPacket(new Uint8Array(6), { encr: 20, encrKey: key(20, 1) });
    expect(!short.ok && short.error.code).toBe('TRUNCATED');
    const tooShort = openEspPacket(new Uint8Array(20), { encr: 20, encrKey: key(20, 1) });
    expect(!tooShort.ok && tooShort.error.code).toBe('BAD_LENGTH');
  });
});
