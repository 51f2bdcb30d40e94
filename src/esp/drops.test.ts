/**
 * Every drop reason (issue 15 "every dropped packet is counted"): one scenario per DropReason that makes exactly
 * one packet drop for that reason, and shows the engine's total and the SA's own counter move, the report logged
 * once at level 1 with the reason and the fix, the rate limit, and the padding-check opt-out.
 */
import { describe, expect, it } from 'vitest';
import { availableBackends } from '../crypto/backends/index.js';
import { seededRandom } from '../crypto/random.js';
import type { AeadContext, CryptoBackend } from '../crypto/types.js';
import {
  AUTH_NONE,
  DecapStatus,
  DROP_REASON_COUNT,
  DROP_REASON_NAMES,
  DropReason,
  EncapStatus,
  ENCR_AES_GCM_16,
  NH_IPV4,
} from './constants.js';
import { dropAdvice } from './drop-report.js';
import { EspEngine, type EncapResults, type PacketRef } from './engine.js';
import type { EspSa } from './sa.js';
import { selector } from './selector.js';
import { enginePair, ipv4Packet, SPI_AB, testKey, withRoom } from './testing.js';
import { createEspTransform, type EspSuite } from './transform.js';

const GCM128: EspSuite = { encr: ENCR_AES_GCM_16, encrKeyBits: 128, integ: AUTH_NONE };
const backend = availableBackends().at(-1) as CryptoBackend;

function datagrams(r: EncapResults): PacketRef[] {
  const out: PacketRef[] = [];
  for (let i = 0; i < r.count; i++) {
    if (r.status[i] !== EncapStatus.Send) continue;
    const b = r.buffer[i]!.slice(r.offset[i]!, r.offset[i]! + r.length[i]!);
    out.push({ buffer: b, offset: 0, length: b.length });
  }
  return out;
}

/** An ESP packet with A->B's keys around any plaintext (payload | padding | Pad Length | Next Header). */
function craft(seq: number, plaintext: Uint8Array): PacketRef {
  const t = createEspTransform(GCM128, testKey(20, 1), undefined, backend, seededRandom(1));
  const buf = new Uint8Array(16 + plaintext.length + 16);
  buf.set([0, 0, SPI_AB >>> 8, SPI_AB & 255, 0, 0, 0, seq]);
  t.writeIv(buf, 8, 0, seq);
  buf.set(plaintext, 16);
  t.seal(buf, 0, 16 + plaintext.length, false, 0);
  return { buffer: buf, offset: 0, length: buf.length };
}

const trailer = (payload: Uint8Array, pad: number[], nh: number): Uint8Array => Uint8Array.from([...payload, ...pad, pad.length, nh]);

interface Scenario {
  /** The engine that dropped, and the SA it counted the drop on (undefined: no SA can be known). */
  engine: EspEngine;
  sa: EspSa | undefined;
  logs: string[];
}

type Logs = string[];

function pair(logs: Logs, extra: { paddingCheck?: boolean; initialSeq?: { hi: number; lo: number } } = {}) {
  return enginePair({ suite: GCM128, backend, log: (_e, level, m) => logs.push(`${level} ${m}`), ...extra });
}

/** A backend whose AEAD throws on use: the one way to a CryptoError. */
function throwingBackend(): CryptoBackend {
  const boom = (): never => {
    throw new Error('backend failure');
  };
  return {
    ...backend,
    createAead(spec): AeadContext {
      return { spec, seal: boom, open: boom, dispose() {} };
    },
  };
}

/** Each reason's scenario: runs until exactly one packet has dropped for it. */
const SCENARIOS: Record<Exclude<DropReason, 0>, (logs: Logs) => Scenario> = {
  [DropReason.Malformed]: (logs) => {
    const { b } = pair(logs);
    b.decapsulate([{ buffer: Uint8Array.of(0, 0, 0x10, 1, 0, 0, 0, 1, 9, 9), offset: 0, length: 10 }], 0);
    return { engine: b, sa: b.getSa(SPI_AB, 'in'), logs };
  },
  [DropReason.UnknownSpi]: (logs) => {
    const { a, b, hostA, hostB } = pair(logs);
    const d = datagrams(a.encapsulate([withRoom(ipv4Packet(hostA, hostB))], 0));
    d[0]!.buffer[3] = 0x77;
    b.decapsulate(d, 0);
    return { engine: b, sa: undefined, logs };
  },
  [DropReason.Replay]: (logs) => {
    const { a, b, hostA, hostB } = pair(logs);
    const d = datagrams(a.encapsulate([withRoom(ipv4Packet(hostA, hostB))], 0));
    const copy = { ...d[0]!, buffer: d[0]!.buffer.slice() };
    b.decapsulate(d, 0);
    b.decapsulate([copy], 0);
    return { engine: b, sa: b.getSa(SPI_AB, 'in'), logs };
  },
  [DropReason.IcvFailure]: (logs) => {
    const { a, b, hostA, hostB } = pair(logs);
    const d = datagrams(a.encapsulate([withRoom(ipv4Packet(hostA, hostB))], 0));
    d[0]!.buffer[d[0]!.length - 1]! ^= 1;
    b.decapsulate(d, 0);
    return { engine: b, sa: b.getSa(SPI_AB, 'in'), logs };
  },
  [DropReason.BadPadding]: (logs) => {
    const { b, hostA, hostB } = pair(logs);
    b.decapsulate([craft(1, trailer(ipv4Packet(hostA, hostB, { size: 40 }), [0, 0], NH_IPV4))], 0);
    return { engine: b, sa: b.getSa(SPI_AB, 'in'), logs };
  },
  [DropReason.BadNextHeader]: (logs) => {
    const { b, hostA, hostB } = pair(logs);
    b.decapsulate([craft(1, trailer(ipv4Packet(hostA, hostB, { size: 40 }), [1, 2], 17))], 0);
    return { engine: b, sa: b.getSa(SPI_AB, 'in'), logs };
  },
  [DropReason.PolicyViolation]: (logs) => {
    const { b, hostB } = pair(logs);
    b.decapsulate([craft(1, trailer(ipv4Packet('10.9.9.9', hostB, { size: 40 }), [1, 2], NH_IPV4))], 0);
    return { engine: b, sa: b.getSa(SPI_AB, 'in'), logs };
  },
  [DropReason.Dummy]: (logs) => {
    const { a, b } = pair(logs);
    b.decapsulate(datagrams(a.encapsulateDummy(1, 100, 0)), 0);
    return { engine: b, sa: b.getSa(SPI_AB, 'in'), logs };
  },
  [DropReason.BadInnerPacket]: (logs) => {
    const { b } = pair(logs);
    b.decapsulate([craft(1, trailer(new Uint8Array(38).fill(0x45), [1, 2], NH_IPV4))], 0);
    return { engine: b, sa: b.getSa(SPI_AB, 'in'), logs };
  },
  [DropReason.SaExpired]: (logs) => {
    // The last sequence number is used by the first packet; the second finds the SA expired (RFC 4303 3.3.3).
    const { a, hostA, hostB } = pair(logs, { initialSeq: { hi: 0, lo: 0xfffffffe } });
    a.encapsulate([withRoom(ipv4Packet(hostA, hostB)), withRoom(ipv4Packet(hostA, hostB))], 0);
    return { engine: a, sa: a.getSa(SPI_AB, 'out'), logs };
  },
  [DropReason.PolicyDiscard]: (logs) => {
    const e = new EspEngine({ backend, random: seededRandom(1), log: (l, m) => logs.push(`${l} ${m}`) });
    e.installPolicy({ local: [selector('10.0.0.0/8')], remote: [selector('0.0.0.0/0')], action: 'discard' });
    e.encapsulate([withRoom(ipv4Packet('10.0.0.1', '8.8.8.8'))], 0);
    return { engine: e, sa: undefined, logs };
  },
  [DropReason.BadOuterPacket]: (logs) => {
    const { a } = pair(logs);
    a.encapsulate([withRoom(Uint8Array.of(0x70, 1, 2))], 0);
    return { engine: a, sa: undefined, logs };
  },
  [DropReason.TooBig]: (logs) => {
    const { a } = pair(logs);
    const big = ipv4Packet('10.1.0.5', '10.2.0.9', { size: 4000 });
    a.encapsulate([{ buffer: big, offset: 0, length: big.length }], 0);
    return { engine: a, sa: a.getSa(SPI_AB, 'out'), logs };
  },
  [DropReason.CryptoError]: (logs) => {
    const e = new EspEngine({ backend: throwingBackend(), random: seededRandom(1), log: (l, m) => logs.push(`${l} ${m}`) });
    e.installSa({ spi: 0x5000, direction: 'out', suite: GCM128, encKey: testKey(20, 3), reqid: 7, localSelectors: [], remoteSelectors: [] });
    e.installPolicy({ local: [selector('10.0.0.0/8')], remote: [selector('0.0.0.0/0')], reqid: 7 });
    e.encapsulate([withRoom(ipv4Packet('10.0.0.1', '8.8.8.8'))], 0);
    return { engine: e, sa: e.getSa(0x5000, 'out'), logs };
  },
  [DropReason.NoSa]: (logs) => {
    const e = new EspEngine({ backend, random: seededRandom(1), log: (l, m) => logs.push(`${l} ${m}`) });
    e.installPolicy({ local: [selector('10.0.0.0/8')], remote: [selector('0.0.0.0/0')], reqid: 7 });
    // The first packet asks for an SA (ACQUIRE); the second, within the interval, is dropped.
    e.encapsulate([withRoom(ipv4Packet('10.0.0.1', '8.8.8.8')), withRoom(ipv4Packet('10.0.0.1', '8.8.8.8'))], 0);
    return { engine: e, sa: undefined, logs };
  },
  [DropReason.NoPolicy]: (logs) => {
    const { a } = pair(logs);
    a.encapsulate([withRoom(ipv4Packet('172.16.0.1', '192.168.1.1'))], 0);
    return { engine: a, sa: undefined, logs };
  },
  [DropReason.TunFull]: (logs) => {
    const { a, b, hostA, hostB } = pair(logs);
    const r = b.decapsulate(datagrams(a.encapsulate([withRoom(ipv4Packet(hostA, hostB))], 0)), 0);
    expect(r.status[0]).toBe(DecapStatus.Deliver);
    // The driver's TUN write refused it: it tells the engine, naming the SA the packet came in on.
    b.noteDrops(DropReason.TunFull, r.sa[0], 1, 0);
    return { engine: b, sa: b.getSa(SPI_AB, 'in'), logs };
  },
};

describe('every drop reason is counted per SA and in total, and reported once with the fix', () => {
  it('a scenario exists for every reason', () => {
    expect(Object.keys(SCENARIOS).map(Number).sort((x, y) => x - y)).toEqual(Array.from({ length: DROP_REASON_COUNT - 1 }, (_, i) => i + 1));
    expect(DROP_REASON_NAMES.length).toBe(DROP_REASON_COUNT);
  });

  it.each(Object.entries(SCENARIOS).map(([r, f]) => [DROP_REASON_NAMES[Number(r)]!, Number(r) as DropReason, f] as const))(
    '%s',
    (name, reason, scenario) => {
      const { engine, sa, logs } = scenario([]);
      expect(engine.drops[reason], 'engine total').toBe(1);
      expect(engine.dropCounts()[name]).toBe(1);
      // Only this reason moved.
      expect(engine.drops.reduce((x, y) => x + y, 0)).toBe(1);
      if (sa) {
        expect(sa.drops[reason], 'per SA').toBe(1);
        expect(sa.drops.reduce((x, y) => x + y, 0)).toBe(1);
      }
      if (reason === DropReason.Dummy) {
        // Dummy packets (RFC 4303 2.6) are dropped on purpose: counted, never reported.
        expect(logs).toEqual([]);
        return;
      }
      expect(logs).toHaveLength(1);
      expect(logs[0]).toMatch(/^1 /);
      expect(logs[0]).toContain(`(${name})`);
      expect(logs[0]).toContain(dropAdvice(reason).fix);
      if (sa) expect(logs[0]).toContain(sa.spiHex);
    },
  );
});

describe('drop reports are rate-limited by the packets own time', () => {
  it('first drop reported, more within the interval counted silently, then one summary', () => {
    const logs: string[] = [];
    const { a, b, hostA, hostB } = enginePair({ suite: GCM128, backend, log: (_e, l, m) => logs.push(`${l} ${m}`), dropLogIntervalMs: 10_000 });
    const forged = (now: number): void => {
      const d = datagrams(a.encapsulate([withRoom(ipv4Packet(hostA, hostB))], now));
      d[0]!.buffer[d[0]!.length - 1]! ^= 1;
      b.decapsulate(d, now);
    };
    forged(0);
    for (let t = 1; t < 10; t++) forged(t * 1000);
    expect(logs).toHaveLength(1);
    expect(logs[0]).toContain(`ESP SA ${SPI_AB.toString(16).padStart(8, '0')} (inbound, reqid 1): dropping packets (icv-failure)`);
    forged(10_000);
    expect(logs).toHaveLength(2);
    expect(logs[1]).toMatch(/^1 ESP SA 00001001 \(inbound, reqid 1\): 10 more packet\(s\) dropped \(icv-failure\) in the last 10 s, 11 in all;/);
    expect(b.getSa(SPI_AB, 'in')!.drops[DropReason.IcvFailure]).toBe(11);
    // A different reason on the same SA has its own first report.
    const d = datagrams(a.encapsulate([withRoom(ipv4Packet(hostA, hostB))], 10_001));
    const copy = { ...d[0]!, buffer: d[0]!.buffer.slice() };
    b.decapsulate(d, 10_001);
    b.decapsulate([copy], 10_002);
    expect(logs).toHaveLength(3);
    expect(logs[2]).toContain('(replay)');
  });

  it('unknown SPIs are reported with the SPI, once per interval for the engine', () => {
    const logs: string[] = [];
    const { a, b, hostA, hostB } = enginePair({ suite: GCM128, backend, log: (_e, l, m) => logs.push(`${l} ${m}`) });
    for (let i = 0; i < 3; i++) {
      const d = datagrams(a.encapsulate([withRoom(ipv4Packet(hostA, hostB))], i));
      d[0]!.buffer[3] = 0x77 + i;
      b.decapsulate(d, i);
    }
    expect(b.drops[DropReason.UnknownSpi]).toBe(3);
    expect(logs).toEqual([`1 ESP packet for SPI 00001077: dropping packets (unknown-spi): ${dropAdvice(DropReason.UnknownSpi).what}; ${dropAdvice(DropReason.UnknownSpi).fix}`]);
  });

  it('without a logger drops are only counted; noteDrops ignores nonsense', () => {
    const { a, b, hostA, hostB } = enginePair({ suite: GCM128, backend });
    const d = datagrams(a.encapsulate([withRoom(ipv4Packet(hostA, hostB))], 0));
    d[0]!.buffer[d[0]!.length - 1]! ^= 1;
    b.decapsulate(d, 0);
    expect(b.drops[DropReason.IcvFailure]).toBe(1);
    b.noteDrops(DropReason.TunFull, undefined, 5, 0);
    b.noteDrops(DropReason.TunFull, undefined, 0, 0);
    b.noteDrops(DropReason.TunFull, undefined, Number.NaN, 0);
    b.noteDrops(99 as DropReason, undefined, 1, 0);
    b.noteDrops(DropReason.None, undefined, 1, 0);
    expect(b.drops[DropReason.TunFull]).toBe(5);
    expect(b.drops.reduce((x, y) => x + y, 0)).toBe(6);
  });
});

describe('padding check (RFC 4303 2.4) and its opt-out', () => {
  const badlyPadded = (hostA: string, hostB: string): PacketRef[] => {
    const inner = ipv4Packet(hostA, hostB, { size: 40 });
    return [craft(1, trailer(inner, [0, 0], NH_IPV4)), craft(2, trailer(inner, [7, 7, 7, 7, 7, 7], NH_IPV4)), craft(3, trailer(inner, [1, 2], NH_IPV4))];
  };

  it('checked by default: zero or repeated padding bytes are dropped as bad-padding', () => {
    const { b, hostA, hostB } = enginePair({ suite: GCM128, backend });
    const r = b.decapsulate(badlyPadded(hostA, hostB), 0);
    expect(Array.from(r.status.subarray(0, 3))).toEqual([DecapStatus.Drop, DecapStatus.Drop, DecapStatus.Deliver]);
    expect(b.getSa(SPI_AB, 'in')!.drops[DropReason.BadPadding]).toBe(2);
    expect(b.stats.paddingIgnored).toBe(0);
  });

  it('paddingCheck = false delivers them, counts them, still refuses a Pad Length that does not fit', () => {
    const { b, hostA, hostB } = enginePair({ suite: GCM128, backend, paddingCheck: false });
    const r = b.decapsulate(badlyPadded(hostA, hostB), 0);
    expect(Array.from(r.status.subarray(0, 3))).toEqual([DecapStatus.Deliver, DecapStatus.Deliver, DecapStatus.Deliver]);
    expect(r.length[0]).toBe(40);
    const sa = b.getSa(SPI_AB, 'in')!;
    expect(sa.paddingIgnored).toBe(2);
    expect(b.stats.paddingIgnored).toBe(2);
    const tooLong = b.decapsulate([craft(4, Uint8Array.from([1, 2, 200, NH_IPV4]))], 0);
    expect([tooLong.status[0], tooLong.reason[0]]).toEqual([DecapStatus.Drop, DropReason.BadPadding]);
  });
});

describe('batches decide as packets one by one would (the crypto runs in its own pass)', () => {
  it('a duplicate inside one batch is a replay; a forged one leaves the window alone; a hard lifetime stops the rest', () => {
    const { a, b, hostA, hostB } = enginePair({ suite: GCM128, backend, lifetime: { hardPackets: 4 } });
    const d = datagrams(a.encapsulate([1, 2, 3].map(() => withRoom(ipv4Packet(hostA, hostB))), 0));
    const dup = { ...d[0]!, buffer: d[0]!.buffer.slice() };
    const forged = { ...d[1]!, buffer: d[1]!.buffer.slice() };
    forged.buffer[forged.length - 1]! ^= 1;
    const r = b.decapsulate([d[0]!, dup, forged, d[1]!, d[2]!], 0);
    expect(Array.from(r.status.subarray(0, 5))).toEqual([DecapStatus.Deliver, DecapStatus.Drop, DecapStatus.Drop, DecapStatus.Deliver, DecapStatus.Deliver]);
    expect([r.reason[1], r.reason[2]]).toEqual([DropReason.Replay, DropReason.IcvFailure]);
    // Packets 4 and 5 in one batch: the 4th reaches the hard limit, the 5th is refused as it would be alone.
    const more = datagrams(a.encapsulate([1, 2].map(() => withRoom(ipv4Packet(hostA, hostB))), 0));
    expect(more).toHaveLength(1); // A's outbound SA has the same limit: its 5th packet was not sealed
    const late = datagrams(enginePair({ suite: GCM128, backend }).a.encapsulate([1, 2, 3, 4, 5].map(() => withRoom(ipv4Packet(hostA, hostB))), 0)).slice(3);
    const r2 = b.decapsulate([...more, ...late.slice(1)], 0);
    expect(Array.from(r2.status.subarray(0, 2))).toEqual([DecapStatus.Deliver, DecapStatus.Drop]);
    expect(r2.reason[1]).toBe(DropReason.SaExpired);
    expect(b.getSa(SPI_AB, 'in')!.packets).toBe(4);
  });
});
