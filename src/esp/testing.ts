/**
 * Test doubles for the ESP engine, shipped as a module (as wireguard-go's tuntest) so IKE and daemon tests can
 * reuse them: IP packet builders and a pair of engines wired to each other with matching SAs and policies.
 */
import type { CryptoBackend } from '../crypto/types.js';
import { seededRandom } from '../crypto/random.js';
import { EspEngine, ESP_HEADROOM, ESP_TAILROOM, type PacketRef } from './engine.js';
import type { SaLifetime } from './sa.js';
import { parseAddress, selector, type EspSelector } from './selector.js';
import { encryptionKeymatBytes, integrityKeymatBytes, type EspSuite } from './transform.js';

function checksum(b: Uint8Array, off: number, len: number): number {
  let s = 0;
  for (let i = 0; i < len; i += 2) s += (b[off + i]! << 8) | (b[off + i + 1] ?? 0);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

/** An IPv4 packet (20-byte header) carrying `proto` with the given ports and `payloadLen` bytes after them. */
export function ipv4Packet(src: string, dst: string, opts: { proto?: number; sport?: number; dport?: number; size?: number; fill?: number } = {}): Uint8Array {
  const proto = opts.proto ?? 17;
  const size = Math.max(opts.size ?? 64, 28);
  const p = new Uint8Array(size);
  p[0] = 0x45;
  p[2] = size >>> 8;
  p[3] = size & 0xff;
  p[8] = 64;
  p[9] = proto;
  p.set(parseAddress(src), 12);
  p.set(parseAddress(dst), 16);
  const sport = opts.sport ?? 1234;
  const dport = opts.dport ?? 5678;
  p[20] = sport >>> 8;
  p[21] = sport & 0xff;
  p[22] = dport >>> 8;
  p[23] = dport & 0xff;
  if (proto === 17) {
    p[24] = (size - 20) >>> 8;
    p[25] = (size - 20) & 0xff;
  }
  for (let i = 28; i < size; i++) p[i] = (opts.fill ?? i) & 0xff;
  const c = checksum(p, 0, 20);
  p[10] = c >>> 8;
  p[11] = c & 0xff;
  return p;
}

/** An IPv6 packet (40-byte header, no extension headers). */
export function ipv6Packet(src: string, dst: string, opts: { proto?: number; sport?: number; dport?: number; size?: number; fill?: number } = {}): Uint8Array {
  const proto = opts.proto ?? 17;
  const size = Math.max(opts.size ?? 80, 48);
  const p = new Uint8Array(size);
  p[0] = 0x60;
  p[4] = (size - 40) >>> 8;
  p[5] = (size - 40) & 0xff;
  p[6] = proto;
  p[7] = 64;
  p.set(parseAddress(src), 8);
  p.set(parseAddress(dst), 24);
  const sport = opts.sport ?? 1234;
  const dport = opts.dport ?? 5678;
  p[40] = sport >>> 8;
  p[41] = sport & 0xff;
  p[42] = dport >>> 8;
  p[43] = dport & 0xff;
  for (let i = 48; i < size; i++) p[i] = (opts.fill ?? i) & 0xff;
  return p;
}

/** Copies a packet into a fresh buffer with headroom and tailroom, as a TUN reader would leave them. */
export function withRoom(pkt: Uint8Array, head = ESP_HEADROOM, tail = ESP_TAILROOM): PacketRef {
  const buffer = new Uint8Array(head + pkt.length + tail);
  buffer.set(pkt, head);
  return { buffer, offset: head, length: pkt.length };
}

/** Deterministic key bytes. */
export function testKey(n: number, seed: number): Uint8Array {
  const k = new Uint8Array(n);
  for (let i = 0; i < n; i++) k[i] = (seed * 31 + i * 7) & 0xff;
  return k;
}

export interface PairOptions {
  readonly suite: EspSuite;
  readonly backend: CryptoBackend;
  readonly esn?: boolean;
  /** 4 (10.1.0.0/16 <-> 10.2.0.0/16) or 6 (fd01::/64 <-> fd02::/64). */
  readonly family?: 4 | 6;
  readonly replayWindow?: number;
  readonly lifetime?: SaLifetime;
  readonly tfcPadTo?: number;
  readonly initialSeq?: { readonly hi: number; readonly lo: number };
  /** Inbound SAs check ESP padding values (default true, see SaParams.paddingCheck). */
  readonly paddingCheck?: boolean;
  /** Drop reports of both engines ('a' or 'b', level, message). */
  readonly log?: (engine: 'a' | 'b', level: number, message: string) => void;
  readonly dropLogIntervalMs?: number;
  /** Engine A's seal-lock mark (EspEngineOptions.sealLockOwner): engines sharing SAs need different ones. */
  readonly sealLockOwner?: number;
  /** Selectors of the A->B direction's inbound check at B (default: the same subnets). */
  readonly localA?: readonly EspSelector[];
  readonly localB?: readonly EspSelector[];
}

export const SPI_AB = 0x0000_1001;
export const SPI_BA = 0x0000_2002;

/**
 * Two engines, A and B, with one CHILD_SA between them: A sends with SPI_AB, B with SPI_BA, both under reqid 1
 * policies for their subnets.
 */
export function enginePair(o: PairOptions): { a: EspEngine; b: EspEngine; subnetA: string; subnetB: string; hostA: string; hostB: string } {
  const family = o.family ?? 4;
  const subnetA = family === 4 ? '10.1.0.0/16' : 'fd01::/64';
  const subnetB = family === 4 ? '10.2.0.0/16' : 'fd02::/64';
  const hostA = family === 4 ? '10.1.0.5' : 'fd01::5';
  const hostB = family === 4 ? '10.2.0.9' : 'fd02::9';
  const localA = o.localA ?? [selector(subnetA)];
  const localB = o.localB ?? [selector(subnetB)];
  const log = o.log;
  const logOpts = (e: 'a' | 'b') => ({
    ...(log ? { log: (level: number, message: string) => log(e, level, message) } : {}),
    ...(o.dropLogIntervalMs !== undefined ? { dropLogIntervalMs: o.dropLogIntervalMs } : {}),
  });
  const a = new EspEngine({ backend: o.backend, random: seededRandom(11), ...logOpts('a'), ...(o.sealLockOwner !== undefined ? { sealLockOwner: o.sealLockOwner } : {}) });
  const b = new EspEngine({ backend: o.backend, random: seededRandom(22), ...logOpts('b') });
  const encN = encryptionKeymatBytes(o.suite);
  const intN = integrityKeymatBytes(o.suite);
  const keys = (seed: number) => ({
    encKey: testKey(encN, seed),
    ...(intN > 0 ? { integKey: testKey(intN, seed + 100) } : {}),
  });
  const common = {
    suite: o.suite,
    esn: o.esn ?? false,
    reqid: 1,
    ...(o.replayWindow !== undefined ? { replayWindow: o.replayWindow } : {}),
    ...(o.lifetime ? { lifetime: o.lifetime } : {}),
    ...(o.paddingCheck !== undefined ? { paddingCheck: o.paddingCheck } : {}),
  };
  const addrA = { address: '192.0.2.1', port: 4500 };
  const addrB = { address: '198.51.100.2', port: 4501 };
  const ab = keys(1);
  const ba = keys(2);
  const extraOut = {
    ...(o.tfcPadTo ? { tfcPadTo: o.tfcPadTo } : {}),
    ...(o.initialSeq ? { initialSeq: o.initialSeq } : {}),
  };
  a.installSa({ ...common, ...ab, ...extraOut, spi: SPI_AB, direction: 'out', localSelectors: localA, remoteSelectors: localB, local: addrA, remote: addrB });
  b.installSa({ ...common, ...ab, spi: SPI_AB, direction: 'in', localSelectors: localB, remoteSelectors: localA, local: addrB, remote: addrA });
  b.installSa({ ...common, ...ba, ...extraOut, spi: SPI_BA, direction: 'out', localSelectors: localB, remoteSelectors: localA, local: addrB, remote: addrA });
  a.installSa({ ...common, ...ba, spi: SPI_BA, direction: 'in', localSelectors: localA, remoteSelectors: localB, local: addrA, remote: addrB });
  a.installPolicy({ local: [selector(subnetA)], remote: [selector(subnetB)], reqid: 1 });
  b.installPolicy({ local: [selector(subnetB)], remote: [selector(subnetA)], reqid: 1 });
  return { a, b, subnetA, subnetB, hostA, hostB };
}
