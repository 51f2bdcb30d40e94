/**
 * Mutation fuzz (../shared/DESIGN.md section 5): 100k mutated IKE messages (bit flips, byte edits, truncations,
 * extensions, length-field edits, spliced payloads) through decodeMessage, checkPayloadRules, decryptSK and the
 * SKF reassembler, plus 20k valid-ICV messages whose inner plaintext was mutated before sealing (so the inner
 * decoder and the padding check are reached behind a good ICV). Only typed results may come out: no throw.
 */
import { describe, expect, it } from 'vitest';
import { nodeBackend } from '../../crypto/backends/node.js';
import { seededRandom } from '../../crypto/random.js';
import { createEncryption, createIntegrity } from '../../crypto/suite.js';
import capture from './testdata/strongswan-5.9.8-capture.json' with { type: 'json' };
import fragments from './testdata/strongswan-5.9.8-fragments.json' with { type: 'json' };
import { fragmentSK, FragmentReassembler } from './fragment.js';
import { decodeMessage, encodeMessage, encodePayloads } from './message.js';
import { checkPayloadRules } from './rules.js';
import { decryptSK, encryptSK, sealMessage } from './sk.js';
import { hex, SUITES, suiteKeys } from './test-support.js';
import {
  CfgType,
  ExchangeType,
  NotifyType,
  PayloadType,
  ProtocolId,
  TsType,
  type IkeCodecErrorCode,
  type IkeHeaderInit,
  type Payload,
  type SkKeys,
} from './types.js';

const CODES: ReadonlySet<IkeCodecErrorCode> = new Set([
  'TRUNCATED',
  'BAD_LENGTH',
  'BAD_VERSION',
  'UNSUPPORTED_CRITICAL_PAYLOAD',
  'INVALID_SYNTAX',
  'TOO_MANY_PAYLOADS',
  'INTEGRITY_CHECK_FAILED',
  'FRAGMENT_INVALID',
  'FRAGMENT_LIMIT',
]);

/** Tiny deterministic PRNG for choosing mutations (xorshift32). */
function prng(seed: number) {
  let x = seed >>> 0 || 1;
  const next = () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
  return { next, int: (n: number) => (n <= 0 ? 0 : next() % n) };
}

const e = new Uint8Array(0);
const hdr = (exchangeType: number, response: boolean, messageId: number): IkeHeaderInit => ({
  spiI: hex('0011223344556677'),
  spiR: response || exchangeType !== ExchangeType.IKE_SA_INIT ? hex('8899aabbccddeeff') : new Uint8Array(8),
  exchangeType,
  flags: { initiator: !response, response, version: false },
  messageId,
});
const n = (notifyType: number, data: Uint8Array = e, protocol = 0, spi: Uint8Array = e): Payload => ({ type: PayloadType.NOTIFY, critical: false, protocol, spi, notifyType, data });
const SA: Payload = {
  type: PayloadType.SA,
  critical: false,
  proposals: [
    {
      num: 1,
      protocol: ProtocolId.IKE,
      spi: e,
      transforms: [
        { type: 1, id: 20, keyLength: 128 },
        { type: 2, id: 5 },
        { type: 4, id: 31 },
      ],
    },
    {
      num: 2,
      protocol: ProtocolId.IKE,
      spi: e,
      transforms: [
        { type: 1, id: 12, keyLength: 256 },
        { type: 2, id: 5 },
        { type: 3, id: 12 },
        { type: 4, id: 14, attributes: [{ type: 7, tv: false, value: hex('0102') }] },
      ],
    },
  ],
};
const ESP_SA: Payload = {
  type: PayloadType.SA,
  critical: false,
  proposals: [{ num: 1, protocol: ProtocolId.ESP, spi: hex('c0ffee01'), transforms: [{ type: 1, id: 20, keyLength: 256 }, { type: 5, id: 0 }] }],
};
const KE: Payload = { type: PayloadType.KE, critical: false, group: 31, data: new Uint8Array(32).fill(3) };
const NONCE: Payload = { type: PayloadType.NONCE, critical: false, data: new Uint8Array(32).fill(4) };
const TS = (type: typeof PayloadType.TSi | typeof PayloadType.TSr): Payload => ({
  type,
  critical: false,
  selectors: [
    { tsType: TsType.TS_IPV4_ADDR_RANGE, ipProtocol: 0, startPort: 0, endPort: 65535, startAddr: hex('0a000000'), endAddr: hex('0affffff') },
    { tsType: TsType.TS_IPV6_ADDR_RANGE, ipProtocol: 6, startPort: 80, endPort: 80, startAddr: new Uint8Array(16), endAddr: new Uint8Array(16).fill(0xff) },
  ],
});
const AUTH_INNER: Payload[] = [
  { type: PayloadType.IDi, critical: false, idType: 2, data: new TextEncoder().encode('sun.example') },
  { type: PayloadType.CERTREQ, critical: false, encoding: 4, data: new Uint8Array(20).fill(9) },
  { type: PayloadType.IDr, critical: false, idType: 1, data: hex('c0000201') },
  { type: PayloadType.AUTH, critical: false, method: 2, data: new Uint8Array(32).fill(5) },
  { type: PayloadType.CP, critical: false, cfgType: CfgType.CFG_REQUEST, attributes: [{ type: 1, value: e }, { type: 3, value: e }] },
  n(NotifyType.INITIAL_CONTACT),
  ESP_SA,
  TS(PayloadType.TSi),
  TS(PayloadType.TSr),
];
const INFO_INNER: Payload[] = [
  { type: PayloadType.DELETE, critical: false, protocol: ProtocolId.ESP, spiSize: 4, spis: [hex('01020304'), hex('05060708')] },
  n(NotifyType.REKEY_SA, e, ProtocolId.ESP, hex('0a0b0c0d')),
  { type: PayloadType.EAP, critical: false, data: hex('0102000501') },
];

interface CaptureSa {
  spiI: string;
  encr: number;
  keyBits: number;
  integ?: number;
  sk_ei: string;
  sk_er: string;
  sk_ai?: string;
  sk_ar?: string;
}

interface Seed {
  readonly bytes: Uint8Array;
  readonly keys?: SkKeys;
}

function corpus(gcm: SkKeys, cbc: SkKeys): Seed[] {
  const rnd = seededRandom(42);
  const seeds: Seed[] = [
    { bytes: encodeMessage(hdr(ExchangeType.IKE_SA_INIT, false, 0), [SA, KE, NONCE, n(16388, new Uint8Array(20)), n(16389, new Uint8Array(20)), n(16430), { type: PayloadType.VENDOR, critical: false, data: hex('cafe') }, { type: 'unknown', payloadType: 200, critical: false, body: hex('0102') }]) },
    { bytes: encodeMessage(hdr(ExchangeType.IKE_SA_INIT, true, 0), [SA, KE, NONCE, { type: PayloadType.CERTREQ, critical: false, encoding: 4, data: e }, n(16431, hex('000200030004'))]) },
    { bytes: encodeMessage(hdr(ExchangeType.IKE_SA_INIT, true, 0), [n(NotifyType.COOKIE, new Uint8Array(24).fill(1))]) },
    { bytes: encodeMessage(hdr(ExchangeType.IKE_AUTH, false, 1), AUTH_INNER) },
    { bytes: encodeMessage(hdr(ExchangeType.INFORMATIONAL, false, 2), INFO_INNER) },
    { bytes: encryptSK(hdr(ExchangeType.IKE_AUTH, false, 1), AUTH_INNER, gcm, rnd), keys: gcm },
    { bytes: encryptSK(hdr(ExchangeType.IKE_AUTH, true, 1), AUTH_INNER.slice(2), cbc, rnd), keys: cbc },
    { bytes: encryptSK(hdr(ExchangeType.INFORMATIONAL, false, 2), INFO_INNER, gcm, rnd), keys: gcm },
    { bytes: encryptSK(hdr(ExchangeType.CREATE_CHILD_SA, false, 3), [ESP_SA, NONCE, KE, TS(PayloadType.TSi), TS(PayloadType.TSr)], cbc, rnd), keys: cbc },
  ];
  for (const f of fragmentSK(hdr(ExchangeType.IKE_AUTH, false, 1), AUTH_INNER, gcm, rnd, 150)) seeds.push({ bytes: f, keys: gcm });
  // real strongSwan 5.9.8 messages (testdata/strongswan-5.9.8-*.json, plain and SKF) with their keys
  for (const m of [...capture.messages, ...fragments.messages]) {
    const bytes = hex(m.ike_message);
    const sa = ([...capture.sas, ...fragments.sas] as CaptureSa[]).find((x) => x.spiI === m.ike_message.slice(0, 16))!;
    const initiator = (bytes[19]! & 0x08) !== 0;
    const encryption = createEncryption(sa.encr, sa.keyBits, hex(initiator ? sa.sk_ei : sa.sk_er), nodeBackend);
    const keys: SkKeys =
      sa.integ === undefined ? { encryption } : { encryption, integrity: createIntegrity(sa.integ, hex((initiator ? sa.sk_ai : sa.sk_ar)!), nodeBackend) };
    seeds.push(bytes[16] === PayloadType.SK || bytes[16] === PayloadType.SKF ? { bytes, keys } : { bytes });
  }
  return seeds;
}

/** Offsets of the generic payload headers of a well-formed message (walking Next Payload / Payload Length). */
function payloadOffsets(m: Uint8Array): number[] {
  const out: number[] = [];
  let type = m[16]!;
  let o = 28;
  while (type !== 0 && o + 4 <= m.length && out.length < 64) {
    out.push(o);
    type = type === 46 || type === 53 ? 0 : m[o]!;
    const len = (m[o + 2]! << 8) | m[o + 3]!;
    if (len < 4) break; // a mutated message: stop walking
    o += len;
  }
  return out;
}

function mutate(src: Uint8Array, seeds: readonly Seed[], r: ReturnType<typeof prng>): Uint8Array {
  const m = src.slice();
  const offs = payloadOffsets(src);
  switch (r.int(7)) {
    case 0: {
      // bit flips
      const k = 1 + r.int(4);
      for (let i = 0; i < k; i++) m[r.int(m.length)]! ^= 1 << r.int(8);
      return m;
    }
    case 1: {
      // random bytes
      const k = 1 + r.int(3);
      for (let i = 0; i < k; i++) m[r.int(m.length)] = r.int(256);
      return m;
    }
    case 2:
      // truncation (with or without fixing the IKE length field)
      {
        const cut = m.subarray(0, r.int(m.length));
        if (cut.length >= 28 && r.int(2) === 0) {
          cut[26] = (cut.length >> 8) & 0xff;
          cut[27] = cut.length & 0xff;
        }
        return cut;
      }
    case 3: {
      // extension with junk, length field fixed half of the time
      const extra = 1 + r.int(40);
      const out = new Uint8Array(m.length + extra);
      out.set(m);
      for (let i = m.length; i < out.length; i++) out[i] = r.int(256);
      if (r.int(2) === 0) {
        out[26] = (out.length >> 8) & 0xff;
        out[27] = out.length & 0xff;
      }
      return out;
    }
    case 4: {
      // length-field edits: the IKE length, a payload length, or a 16-bit field deeper inside a payload
      const choices = [24, ...offs.map((o) => o + 2)];
      const at = r.int(3) === 0 && offs.length > 0 ? offs[r.int(offs.length)]! + 4 + 2 * r.int(8) : choices[r.int(choices.length)]!;
      const width = at === 24 ? 4 : 2;
      if (at + width > m.length) return m;
      const cur = width === 4 ? (m[26]! << 8) | m[27]! : (m[at]! << 8) | m[at + 1]!;
      const vals = [0, 1, 3, 4, 7, 8, cur - 1, cur + 1, cur + 4, cur - 4, 0xffff, r.int(0x10000)];
      const v = vals[r.int(vals.length)]! & 0xffff;
      const p = width === 4 ? 26 : at;
      m[p] = (v >> 8) & 0xff;
      m[p + 1] = v & 0xff;
      return m;
    }
    case 5: {
      // splice: a payload-aligned slice of another seed inserted at a payload boundary, IKE length fixed
      const other = seeds[r.int(seeds.length)]!.bytes;
      const oOffs = payloadOffsets(other);
      const from = oOffs.length > 0 ? oOffs[r.int(oOffs.length)]! : 28;
      const to = Math.min(other.length, from + 4 + r.int(200));
      const piece = other.subarray(from, to);
      const at = Math.min(m.length, offs.length > 0 ? offs[r.int(offs.length)]! : 28);
      const out = new Uint8Array(m.length + piece.length);
      out.set(m.subarray(0, at));
      out.set(piece, at);
      out.set(m.subarray(at), at + piece.length);
      if (out.length >= 28) {
        out[26] = (out.length >> 8) & 0xff;
        out[27] = out.length & 0xff;
      }
      return out;
    }
    default: {
      // next-payload / critical-bit edits
      const at = offs.length > 0 && r.int(3) > 0 ? offs[r.int(offs.length)]! : 16;
      if (r.int(2) === 0) m[at] = [0, 33, 40, 41, 46, 53, 99, 200, r.int(256)][r.int(9)]!;
      else if (at !== 16) m[at + 1]! ^= 0x80;
      return m;
    }
  }
}

describe('mutation fuzz', () => {
  const gcm = suiteKeys(SUITES.find((s) => s.name === 'aes128gcm16')!)!;
  const cbc = suiteKeys(SUITES.find((s) => s.name === 'aes256-sha256')!)!;
  const seeds = corpus(gcm, cbc);

  it('the corpus itself decodes, passes the rules and decrypts', () => {
    const re = new FragmentReassembler();
    let completed = 0;
    for (const s of seeds) {
      const d = decodeMessage(s.bytes);
      expect(d.ok).toBe(true);
      if (!d.ok) continue;
      if (d.value.encrypted?.type === PayloadType.SK) expect(decryptSK(s.bytes, d.value, s.keys!).ok).toBe(true);
      if (d.value.encrypted?.type === PayloadType.SKF) {
        const r = re.add(s.bytes, d.value, s.keys!, 0);
        expect(r.ok).toBe(true);
        if (r.ok && r.value.complete) completed++;
      }
    }
    expect(completed).toBe(5); // ours + strongSwan's 4 fragmented IKE_AUTH messages
    expect(seeds.length).toBeGreaterThan(20);
  });

  it('100k mutated messages give only typed results', () => {
    const r = prng(0xc0ffee);
    const tally = new Map<string, number>();
    const bump = (k: string) => tally.set(k, (tally.get(k) ?? 0) + 1);
    const thrown: string[] = [];
    const badCodes: string[] = [];
    const re = new FragmentReassembler({ maxFragments: 32, maxBytes: 16 * 1024 });
    const ALL_KEYS = [gcm, cbc];
    const check = (res: { ok: boolean; error?: { code: string; offset: number } }, stage: string) => {
      if (res.ok) return bump(`${stage}:ok`);
      const err = res.error!;
      if (!CODES.has(err.code as IkeCodecErrorCode) || !Number.isFinite(err.offset)) badCodes.push(`${stage}:${err.code}@${err.offset}`);
      bump(`${stage}:${err.code}`);
    };
    for (let i = 0; i < 100_000; i++) {
      const seed = seeds[r.int(seeds.length)]!;
      let m = mutate(seed.bytes, seeds, r);
      if (r.int(4) === 0) m = mutate(m, seeds, r); // stacked mutations
      try {
        const d = decodeMessage(m);
        check(d, 'decode');
        if (!d.ok) continue;
        const { header, payloads, encrypted } = d.value;
        check(checkPayloadRules(header.exchangeType, header.flags.response, payloads, false), 'rules');
        if (!encrypted) continue;
        const keys = seed.keys ?? ALL_KEYS[r.int(2)]!;
        if (encrypted.type === PayloadType.SK) {
          const inner = decryptSK(m, d.value, keys);
          check(inner, 'decrypt');
          if (inner.ok) check(checkPayloadRules(header.exchangeType, header.flags.response, inner.value, true), 'rules-inner');
        } else {
          check(re.add(m, d.value, keys, i), 'reassemble');
        }
      } catch (err) {
        thrown.push(`${i}: ${(err as Error)?.stack ?? String(err)}`);
      }
    }
    expect(thrown.slice(0, 3)).toEqual([]);
    if (process.env['FUZZ_TALLY']) console.log([...tally].sort());
    expect(badCodes.slice(0, 3)).toEqual([]);
    // The fuzz reaches every layer: decoding succeeds sometimes and each major error class shows up.
    for (const k of ['decode:ok', 'decode:BAD_LENGTH', 'decode:TRUNCATED', 'decode:INVALID_SYNTAX', 'decode:UNSUPPORTED_CRITICAL_PAYLOAD', 'decode:BAD_VERSION', 'decrypt:INTEGRITY_CHECK_FAILED', 'rules:INVALID_SYNTAX']) {
      expect(tally.get(k) ?? 0, k).toBeGreaterThan(0);
    }
    expect(re.heldBytes).toBeLessThanOrEqual(16 * 1024);
  });

  it('20k valid-ICV messages with mutated inner plaintext give only typed results', () => {
    const r = prng(0xbadf00d);
    const rnd = seededRandom(9);
    const inners = [encodePayloads(AUTH_INNER), encodePayloads(INFO_INNER), encodePayloads([ESP_SA, NONCE, KE, TS(PayloadType.TSi), TS(PayloadType.TSr)])];
    const firsts = [PayloadType.IDi, PayloadType.DELETE, PayloadType.SA];
    const thrown: string[] = [];
    const tally = new Map<string, number>();
    for (let i = 0; i < 20_000; i++) {
      const which = r.int(inners.length);
      const src = inners[which]!;
      // reuse the outer mutator on a fake message wrapper: mutate the plaintext bytes directly
      let pt = src.slice();
      const k = 1 + r.int(4);
      switch (r.int(3)) {
        case 0:
          for (let j = 0; j < k; j++) pt[r.int(pt.length)]! ^= 1 << r.int(8);
          break;
        case 1:
          pt = pt.subarray(0, r.int(pt.length));
          break;
        default:
          for (let j = 0; j < k; j++) pt[r.int(pt.length)] = [0, 1, 3, 4, 0xff, r.int(256)][r.int(6)]!;
      }
      const keys = r.int(2) === 0 ? gcm : cbc;
      try {
        const m = sealMessage(hdr(ExchangeType.IKE_AUTH, false, 1), r.int(5) === 0 ? r.int(256) : firsts[which]!, pt, keys, rnd);
        const d = decodeMessage(m);
        if (!d.ok) throw new Error(`outer decode failed: ${d.error.message}`);
        const res = decryptSK(m, d.value, keys);
        const key = res.ok ? 'ok' : res.error.code;
        if (!res.ok && !CODES.has(res.error.code)) thrown.push(`bad code ${res.error.code}`);
        tally.set(key, (tally.get(key) ?? 0) + 1);
      } catch (err) {
        thrown.push(`${i}: ${(err as Error)?.stack ?? String(err)}`);
      }
    }
    expect(thrown.slice(0, 3)).toEqual([]);
    expect(tally.get('ok') ?? 0).toBeGreaterThan(0);
    expect(tally.get('BAD_LENGTH') ?? 0).toBeGreaterThan(0);
    expect(tally.get('INTEGRITY_CHECK_FAILED') ?? 0).toBe(0);
  });
});
