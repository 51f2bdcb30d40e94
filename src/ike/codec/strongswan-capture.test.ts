/**
 * Real-world messages: strongSwan 5.9.8 <-> strongSwan 5.9.8 captures (testdata/*.json, provenance inside) with
 * the SK keys charon dumped, one plain and one with RFC 7383 fragmentation forced (fragment_size = 200).
 * Every message must decode, pass the per-exchange rules, re-encode byte for byte (plaintext) and decrypt (SK);
 * decrypted payloads must re-seal to the same bytes when strongSwan's padding is reproducible (AEAD: none);
 * SKF fragments must reassemble, and re-fragmenting at the same size must give strongSwan's bytes (AEAD).
 */
import { describe, expect, it } from 'vitest';
import { nodeBackend } from '../../crypto/backends/node.js';
import { createEncryption, createIntegrity } from '../../crypto/suite.js';
import capture from './testdata/strongswan-5.9.8-capture.json' with { type: 'json' };
import fragments from './testdata/strongswan-5.9.8-fragments.json' with { type: 'json' };
import { fragmentSK, FragmentReassembler } from './fragment.js';
import type { RandomSource } from '../../crypto/random.js';
import { decodeMessage, encodeMessage } from './message.js';
import { exchangeTypeName, notifyTypeName, payloadTypeName } from './names.js';
import { checkPayloadRules } from './rules.js';
import { decryptSK, encryptSK } from './sk.js';
import { fixedRandom, hex, toHex } from './test-support.js';
import { ExchangeType, PayloadType, type Payload, type SkKeys } from './types.js';

interface Sa {
  spiI: string;
  encr: number;
  keyBits: number;
  integ?: number;
  sk_ei: string;
  sk_er: string;
  sk_ai?: string;
  sk_ar?: string;
}

function keysOf(sa: Sa, initiator: boolean): SkKeys {
  const encryption = createEncryption(sa.encr, sa.keyBits, hex(initiator ? sa.sk_ei : sa.sk_er), nodeBackend);
  if (sa.integ === undefined) return { encryption };
  return { encryption, integrity: createIntegrity(sa.integ, hex((initiator ? sa.sk_ai : sa.sk_ar)!), nodeBackend) };
}

/** RFC 7296 notation of a payload list, e.g. "IDi AUTH N(INITIAL_CONTACT) SA TSi TSr". */
function notation(ps: readonly Payload[]): string {
  return ps.map((p) => (p.type === PayloadType.NOTIFY ? `N(${notifyTypeName(p.notifyType)})` : p.type === 'unknown' ? `?${p.payloadType}` : payloadTypeName(p.type))).join(' ');
}

describe('strongSwan 5.9.8 capture', () => {
  const sas = capture.sas as Sa[];
  const seen: string[] = [];

  for (const m of capture.messages) {
    it(`frame ${m.frame}`, () => {
      const bytes = hex(m.ike_message);
      const d = decodeMessage(bytes);
      if (!d.ok) throw new Error(`${d.error.code} ${d.error.message}`);
      const { header, payloads, encrypted } = d.value;
      const dir = header.flags.response ? 'response' : 'request';
      const rules = checkPayloadRules(header.exchangeType, header.flags.response, payloads, false);
      expect(rules).toEqual({ ok: true, value: undefined });
      if (!encrypted) {
        expect(toHex(encodeMessage(header, payloads))).toBe(m.ike_message);
        seen.push(`${exchangeTypeName(header.exchangeType)} ${dir}: ${notation(payloads)}`);
        return;
      }
      const sa = sas.find((s) => s.spiI === toHex(header.spiI));
      expect(sa).toBeDefined();
      const keys = keysOf(sa!, header.flags.initiator);
      const inner = decryptSK(bytes, d.value, keys);
      if (!inner.ok) throw new Error(`${inner.error.code} ${inner.error.message}`);
      expect(checkPayloadRules(header.exchangeType, header.flags.response, inner.value, true)).toEqual({ ok: true, value: undefined });
      seen.push(`${exchangeTypeName(header.exchangeType)} ${dir}: SK {${notation(inner.value)}}`);
      const iv = encrypted.body.subarray(0, keys.encryption.ivBytes);
      const again = encryptSK(header, inner.value, keys, fixedRandom(iv));
      if (keys.encryption.aead) {
        expect(toHex(again)).toBe(m.ike_message);
      } else {
        // strongSwan fills CBC padding with random bytes, so compare what the padding cannot change.
        const back = decodeMessage(again);
        expect(back.ok && decryptSK(again, back.value, keys)).toEqual({ ok: true, value: inner.value });
        expect(again.length).toBe(bytes.length);
      }
    });
  }

  it('covered IKE_SA_INIT, IKE_AUTH and INFORMATIONAL in both directions', () => {
    const text = seen.join('\n');
    if (process.env['SHOW_CAPTURE']) console.log(text);
    expect(text).toMatch(/IKE_SA_INIT request: SA KE Nonce N\(NAT_DETECTION_SOURCE_IP\) N\(NAT_DETECTION_DESTINATION_IP\)/);
    expect(text).toMatch(/IKE_AUTH request: SK \{IDi .*AUTH .*SA TSi TSr/);
    expect(text).toMatch(/IKE_AUTH response: SK \{IDr AUTH .*SA TSi TSr/);
    expect(text).toMatch(/INFORMATIONAL request: SK \{D\}/);
    expect(capture.messages.length).toBe(seen.length);
    expect(ExchangeType.IKE_AUTH).toBe(35);
  });
});

/** Hands out the given IVs one after the other (one fill() per fragment). */
function ivQueue(ivs: Uint8Array[]): RandomSource {
  let i = 0;
  return {
    fill(buf: Uint8Array): Uint8Array {
      buf.set(ivs[i++]!.subarray(0, buf.length));
      return buf;
    },
  };
}

describe('strongSwan 5.9.8 capture with RFC 7383 fragmentation', () => {
  const sas = fragments.sas as Sa[];
  it('reassembles every fragmented message and re-fragments it identically (AEAD) or equivalently (CBC)', () => {
    const reassemblers = new Map<string, FragmentReassembler>();
    const pending = new Map<string, { bytes: Uint8Array; iv: Uint8Array }[]>();
    const seen: string[] = [];
    for (const m of fragments.messages) {
      const bytes = hex(m.ike_message);
      const d = decodeMessage(bytes);
      if (!d.ok) throw new Error(`frame ${m.frame}: ${d.error.code} ${d.error.message}`);
      const { header, encrypted } = d.value;
      expect(checkPayloadRules(header.exchangeType, header.flags.response, d.value.payloads, false).ok).toBe(true);
      if (!encrypted) continue;
      const sa = sas.find((s) => s.spiI === toHex(header.spiI))!;
      const keys = keysOf(sa, header.flags.initiator);
      if (encrypted.type === PayloadType.SK) {
        expect(decryptSK(bytes, d.value, keys).ok).toBe(true);
        continue;
      }
      const key = `${toHex(header.spiI)}/${header.flags.response}`;
      const r = reassemblers.get(key) ?? new FragmentReassembler();
      reassemblers.set(key, r);
      const list = pending.get(key) ?? [];
      list.push({ bytes, iv: encrypted.body.slice(0, keys.encryption.ivBytes) });
      pending.set(key, list);
      const res = r.add(bytes, d.value, keys, m.frame);
      if (!res.ok) throw new Error(`frame ${m.frame}: ${res.error.code} ${res.error.message}`);
      if (!res.value.complete) continue;
      const inner = res.value.payloads;
      expect(checkPayloadRules(header.exchangeType, header.flags.response, inner, true)).toEqual({ ok: true, value: undefined });
      seen.push(`${exchangeTypeName(header.exchangeType)} ${header.flags.response ? 'response' : 'request'}: ${list.length} x SKF {${notation(inner)}}`);
      const maxBytes = Math.max(...list.map((f) => f.bytes.length));
      const again = fragmentSK(header, inner, keys, ivQueue(list.map((f) => f.iv)), maxBytes);
      expect(again.length).toBe(list.length);
      if (keys.encryption.aead) {
        expect(again.map(toHex)).toEqual(list.map((f) => toHex(f.bytes)));
      } else {
        const back = new FragmentReassembler();
        let out;
        for (const f of again) out = back.add(f, (decodeMessage(f) as { ok: true; value: never }).value, keys, 0);
        expect(out).toMatchObject({ ok: true, value: { complete: true, payloads: inner } });
      }
      pending.delete(key);
    }
    if (process.env['SHOW_CAPTURE']) console.log(seen.join('\n'));
    expect(seen.filter((x) => x.startsWith('IKE_AUTH')).length).toBe(4);
  });
});
