/**
 * Known-answer tests: every entry of vectors/esp_packets.json, on every backend that has the algorithm.
 * Each packet is opened (ICV verified, decrypted in place, trailer checked) and then rebuilt from its plaintext
 * with the same IV and sequence number, which must reproduce the packet byte for byte.
 */
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { availableBackends, backendUnavailableReasons } from '../crypto/backends/index.js';
import { seededRandom } from '../crypto/random.js';
import {
  AUTH_HMAC_SHA1_96,
  AUTH_NONE,
  ENCR_AES_CBC,
  ENCR_AES_GCM_16,
  ENCR_CHACHA20_POLY1305,
  ESP_HEADER_BYTES,
} from './constants.js';
import { espPayloadLength, espSeal } from './packet.js';
import { backendSupports, createEspTransform, suiteName, type EspSuite } from './transform.js';

interface Entry {
  id: string;
  suite: string;
  enc_key: string;
  integ_key?: string;
  keymat?: string;
  spi: string;
  seq: string;
  iv: string;
  esp_packet: string;
  esn?: boolean;
  plaintext_payload?: string;
  plaintext_with_esp_trailer?: string;
  pad_length: number;
  next_header: number;
}

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

const file = JSON.parse(readFileSync(new URL('../../vectors/esp_packets.json', import.meta.url), 'utf8')) as { entries: Entry[] };

function suiteOf(e: Entry): { suite: EspSuite; encKey: Uint8Array; integKey?: Uint8Array } {
  if (e.suite.startsWith('ENCR_AES_CBC')) {
    const integ = e.integ_key ? AUTH_HMAC_SHA1_96 : AUTH_NONE;
    return {
      suite: { encr: ENCR_AES_CBC, encrKeyBits: e.enc_key.length * 4, integ },
      encKey: hex(e.enc_key),
      ...(e.integ_key ? { integKey: hex(e.integ_key) } : {}),
    };
  }
  if (e.suite.startsWith('ENCR_AES_GCM_16')) {
    return { suite: { encr: ENCR_AES_GCM_16, encrKeyBits: e.enc_key.length * 4, integ: AUTH_NONE }, encKey: hex(e.keymat!) };
  }
  if (e.suite.startsWith('ENCR_CHACHA20_POLY1305')) {
    return { suite: { encr: ENCR_CHACHA20_POLY1305, integ: AUTH_NONE }, encKey: hex(e.keymat!) };
  }
  throw new Error(`${e.id}: unknown suite ${e.suite}`);
}

function seqOf(e: Entry): { hi: number; lo: number } {
  const s = e.seq.padStart(16, '0');
  return { hi: parseInt(s.slice(0, 8), 16), lo: parseInt(s.slice(8), 16) };
}

const backends = availableBackends();
const counts = new Map<string, { run: number; skipped: string[] }>();
for (const b of backends) counts.set(b.name, { run: 0, skipped: [] });

afterAll(() => {
  const lines = [...counts].map(([name, c]) =>
    `  ${name}: ${c.run}/${file.entries.length} ESP packet vectors` + (c.skipped.length ? `; skipped: ${c.skipped.join(', ')}` : ''));
  for (const [name, why] of Object.entries(backendUnavailableReasons())) lines.push(`  ${name}: not loaded (${why})`);
  console.log(`esp_packets.json per backend:\n${lines.join('\n')}`);
});

describe('vectors/esp_packets.json', () => {
  it('has entries', () => {
    expect(file.entries.length).toBeGreaterThanOrEqual(17);
  });

  for (const backend of backends) {
    describe(`backend ${backend.name}`, () => {
      for (const e of file.entries) {
        it(e.id, () => {
          const { suite, encKey, integKey } = suiteOf(e);
          if (!backendSupports(backend, suite)) {
            counts.get(backend.name)!.skipped.push(`${e.id} (no ${suiteName(suite)})`);
            return;
          }
          const t = createEspTransform(suite, encKey, integKey, backend, seededRandom(1));
          const esn = e.esn === true;
          const { hi, lo } = seqOf(e);
          const packet = hex(e.esp_packet);
          const iv = hex(e.iv);
          expect(iv.length).toBe(t.ivBytes);

          // Open: ICV, decryption in place, trailer.
          const buf = packet.slice();
          expect(t.open(buf, 0, buf.length, esn, hi)).toBe(true);
          const ctOff = ESP_HEADER_BYTES + t.ivBytes;
          const ctEnd = buf.length - t.icvBytes;
          if (e.plaintext_with_esp_trailer) expect(toHex(buf.subarray(ctOff, ctEnd))).toBe(e.plaintext_with_esp_trailer);
          const payloadLen = espPayloadLength(buf, ctOff, ctEnd);
          expect(payloadLen).toBe(ctEnd - ctOff - 2 - e.pad_length);
          expect(buf[ctEnd - 1]).toBe(e.next_header);
          const payload = buf.slice(ctOff, ctOff + payloadLen);
          if (e.plaintext_payload) expect(toHex(payload)).toBe(e.plaintext_payload);

          // Seal the plaintext again with the same IV and sequence number: byte for byte the same packet.
          const out = new Uint8Array(packet.length + 64);
          out.set(payload, ctOff);
          const spi = parseInt(e.spi, 16);
          const end = espSeal(t, out, ctOff, payloadLen, e.next_header, spi, esn, hi, lo, 0, iv);
          expect(toHex(out.subarray(0, end))).toBe(e.esp_packet);

          // A flipped bit anywhere is an ICV failure (entries with an ICV).
          if (t.icvBytes > 0) {
            const bad = packet.slice();
            bad[bad.length - 1]! ^= 1;
            expect(t.open(bad, 0, bad.length, esn, hi)).toBe(false);
            const bad2 = packet.slice();
            bad2[ctOff]! ^= 0x80;
            expect(t.open(bad2, 0, bad2.length, esn, hi)).toBe(false);
            if (esn) {
              // The unsent high half is in the ICV: the wrong high half must not verify.
              const bad3 = packet.slice();
              expect(t.open(bad3, 0, bad3.length, esn, (hi + 1) >>> 0)).toBe(false);
            }
          }
          t.dispose();
          counts.get(backend.name)!.run++;
        });
      }
    });
  }
});
