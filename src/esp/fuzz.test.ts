/**
 * Mutation fuzzing of the inbound path: 100k datagrams (mutated genuine packets, authentic packets with random
 * plaintext so the trailer and inner-packet checks are reached, and random bytes) through `decapsulate`.
 * Every result must be a typed status; nothing may throw; only unmodified genuine packets may be delivered.
 */
import { describe, expect, it } from 'vitest';
import { availableBackends } from '../crypto/backends/index.js';
import { seededRandom } from '../crypto/random.js';
import {
  AUTH_HMAC_SHA1_96,
  AUTH_NONE,
  DecapStatus,
  DROP_REASON_COUNT,
  DropReason,
  EncapStatus,
  ENCR_AES_CBC,
  ENCR_AES_GCM_16,
  ENCR_CHACHA20_POLY1305,
  NH_IPV4,
} from './constants.js';
import type { EncapResults, PacketRef } from './engine.js';
import { espSeal } from './packet.js';
import { enginePair, ipv4Packet, SPI_AB, testKey, withRoom } from './testing.js';
import { backendSupports, createEspTransform, encryptionKeymatBytes, integrityKeymatBytes, type EspSuite } from './transform.js';

const TOTAL = 100_000;

class Prng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 1;
  }
  next(): number {
    // xorshift32
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x >>> 0;
    return this.s;
  }
  int(n: number): number {
    return this.next() % n;
  }
  bytes(n: number): Uint8Array {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) b[i] = this.next() & 0xff;
    return b;
  }
}

function firstDatagrams(r: EncapResults): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < r.count; i++) {
    if (r.status[i] === EncapStatus.Send) out.push(r.buffer[i]!.slice(r.offset[i]!, r.offset[i]! + r.length[i]!));
  }
  return out;
}

describe('decapsulate under mutation', () => {
  const backend = availableBackends().at(-1)!;
  const suites: EspSuite[] = [
    { encr: ENCR_AES_GCM_16, encrKeyBits: 128, integ: AUTH_NONE },
    { encr: ENCR_AES_CBC, encrKeyBits: 128, integ: AUTH_HMAC_SHA1_96 },
    { encr: ENCR_CHACHA20_POLY1305, integ: AUTH_NONE },
  ].filter((s) => backendSupports(backend, s));

  it(`${TOTAL} mutated datagrams yield only typed results (backend ${backend.name})`, () => {
    const rng = new Prng(0xc0ffee);
    const perSuite = Math.ceil(TOTAL / suites.length);
    const reasonCounts = new Array<number>(DROP_REASON_COUNT).fill(0);
    const statusCounts = [0, 0, 0, 0];
    let processed = 0;
    for (const [si, suite] of suites.entries()) {
      const esn = si % 2 === 1;
      const { a, b, hostA, hostB } = enginePair({ suite, backend, esn, replayWindow: si === 2 ? 0 : 4096 });
      const genuinePkts = Array.from({ length: 32 }, (_, i) => ipv4Packet(hostA, hostB, { size: 28 + i * 37 }));
      const genuine = firstDatagrams(a.encapsulate(genuinePkts.map((p) => withRoom(p)), 0));
      const genuineHex = new Set(genuinePkts.map((p) => Buffer.from(p).toString('hex')));
      // A sender with the same A->B keys, to build authentic packets around random plaintext.
      const t = createEspTransform(suite, testKey(encryptionKeymatBytes(suite), 1),
        integrityKeymatBytes(suite) > 0 ? testKey(integrityKeymatBytes(suite), 101) : undefined, backend, seededRandom(3));
      let seq = 1000;
      const batch: PacketRef[] = [];
      for (let n = 0; n < perSuite; n++) {
        const kind = rng.int(10);
        let d: Uint8Array;
        if (kind < 4) {
          // Mutated genuine packet: bit flips, byte stores, truncation, extension.
          d = genuine[rng.int(genuine.length)]!.slice();
          const m = rng.int(5);
          if (m === 0) d[rng.int(d.length)]! ^= 1 << rng.int(8);
          else if (m === 1) for (let k = 0; k < 1 + rng.int(8); k++) d[rng.int(d.length)] = rng.int(256);
          else if (m === 2) d = d.slice(0, rng.int(d.length));
          else if (m === 3) d = Uint8Array.from([...d, ...rng.bytes(1 + rng.int(40))]);
          else d.set(rng.bytes(4), 4 + rng.int(Math.max(1, d.length - 8))); // inside seq/IV/ciphertext
        } else if (kind === 7) {
          // Authentic packet whose whole plaintext (trailer included) is random: padding checks are reached.
          const blocks = 1 + rng.int(6);
          const ptLen = t.cipherBlock > 1 ? blocks * t.cipherBlock : 2 + rng.int(90);
          const buf = new Uint8Array(8 + t.ivBytes + ptLen + t.icvBytes);
          seq++;
          buf.set([SPI_AB >>> 24, (SPI_AB >>> 16) & 255, (SPI_AB >>> 8) & 255, SPI_AB & 255, seq >>> 24, (seq >>> 16) & 255, (seq >>> 8) & 255, seq & 255]);
          t.writeIv(buf, 8, 0, seq);
          const pt = rng.bytes(ptLen);
          if (rng.int(2) === 0) pt[ptLen - 2] = rng.int(8); // short pad lengths: some padding runs are valid
          buf.set(pt, 8 + t.ivBytes);
          t.seal(buf, 0, 8 + t.ivBytes + ptLen, esn, 0);
          d = buf;
        } else if (kind < 7) {
          // Authentic packet around random plaintext: reaches padding, next header and inner-packet checks.
          const ptLen = rng.int(120);
          const buf = new Uint8Array(16 + t.ivBytes + ptLen + 64);
          const payloadOff = 8 + t.ivBytes;
          if (rng.int(2) === 0) buf.set(rng.bytes(ptLen), payloadOff);
          else {
            const inner = ipv4Packet(rng.int(2) ? hostA : '10.9.0.1', hostB, { size: 28 + rng.int(60) });
            if (rng.int(3) === 0) inner[2] = rng.int(256); // lie about the IP length
            buf.set(inner.subarray(0, ptLen), payloadOff);
          }
          seq++;
          const nh = [NH_IPV4, 41, 59, rng.int(256)][rng.int(4)]!;
          const pad = rng.int(3) === 0 ? rng.int(256) : undefined;
          let end: number;
          try {
            end = espSeal(t, buf, payloadOff, ptLen, nh, SPI_AB, esn, 0, seq, 0, undefined, pad !== undefined && pad + payloadOff + ptLen + 2 + t.icvBytes <= buf.length && t.cipherBlock === 1 ? pad : undefined);
          } catch {
            continue;
          }
          if (rng.int(4) === 0) buf[payloadOff + rng.int(Math.max(1, ptLen))] = rng.int(256); // then tamper
          d = buf.slice(0, end);
        } else if (kind === 8) {
          d = rng.bytes(rng.int(80));
        } else {
          // Random tail behind a valid SPI, the non-ESP marker or a keepalive-like byte.
          const head = [[0, 0, 0x10, 0x01], [0, 0, 0, 0], [0xff]][rng.int(3)]!;
          d = Uint8Array.from([...head, ...rng.bytes(rng.int(64))]);
        }
        // Datagrams sit at varying offsets in larger buffers.
        const pre = rng.int(4);
        const buffer = new Uint8Array(pre + d.length + rng.int(4));
        buffer.set(d, pre);
        batch.push({ buffer, offset: pre, length: d.length });
        if (batch.length === 64 || n === perSuite - 1) {
          const r = b.decapsulate(batch, 0);
          for (let i = 0; i < r.count; i++) {
            const st = r.status[i]!;
            expect(st).toBeLessThanOrEqual(DecapStatus.Drop);
            statusCounts[st]!++;
            if (st === DecapStatus.Drop) {
              const reason = r.reason[i]!;
              expect(reason).toBeGreaterThan(DropReason.None);
              expect(reason).toBeLessThan(DROP_REASON_COUNT);
              reasonCounts[reason]!++;
            }
            if (st === DecapStatus.Deliver) {
              // Only unmodified genuine inner packets, or authentic crafted ones within the selectors.
              const inner = r.buffer[i]!.subarray(r.offset[i]!, r.offset[i]! + r.length[i]!);
              expect(r.offset[i]! + r.length[i]!).toBeLessThanOrEqual(r.buffer[i]!.length);
              if (!genuineHex.has(Buffer.from(inner).toString('hex'))) {
                expect(inner[12]).toBe(10);
                expect(inner[13]).toBe(1);
              }
            }
          }
          processed += r.count;
          batch.length = 0;
        }
      }
    }
    expect(processed).toBeGreaterThanOrEqual(TOTAL * 0.9);
    const named = Object.fromEntries(reasonCounts.map((c, i) => [i, c]).filter(([, c]) => c! > 0));
    console.log(`fuzz: ${processed} datagrams; status counts [deliver, ike, keepalive, drop] = ${statusCounts.join(', ')}; drops by reason: ${JSON.stringify(named)}`);
    // The interesting checks were all reached.
    for (const r of [DropReason.Malformed, DropReason.UnknownSpi, DropReason.IcvFailure, DropReason.BadPadding,
      DropReason.BadNextHeader, DropReason.BadInnerPacket, DropReason.PolicyViolation, DropReason.Dummy]) {
      expect(reasonCounts[r], `drop reason ${r} reached`).toBeGreaterThan(0);
    }
  });
});
