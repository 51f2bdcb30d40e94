import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { nodeBackend } from '../crypto/backends/node.js';
import { createPrf, PRF_AES128_XCBC, PRF_HMAC_SHA2_256 } from '../crypto/prf.js';
import {
  decideInitiatorPpk,
  decideResponderPpk,
  decodePpkIdentity,
  encodePpkIdentity,
  mixPpk,
  PPK_ID_FIXED,
  PPK_ID_OPAQUE,
  PpkError,
} from './ppk.js';

const b = (s: string) => new TextEncoder().encode(s);
const fill = (n: number, v: number) => new Uint8Array(n).fill(v);

/** prf+ with HMAC-SHA-256 written out from RFC 7296 2.13, independent of src/crypto. */
function refPrfPlus(key: Uint8Array, seed: Uint8Array, len: number): Uint8Array {
  const out: number[] = [];
  let t = Buffer.alloc(0);
  for (let n = 1; out.length < len; n++) {
    t = createHmac('sha256', key).update(Buffer.concat([t, seed, Buffer.from([n])])).digest();
    out.push(...t);
  }
  return Uint8Array.from(out.slice(0, len));
}

describe('mixPpk (RFC 8784 section 3)', () => {
  const keys = { SK_d: fill(32, 1), SK_pi: fill(32, 2), SK_pr: fill(32, 3) };
  const ppk = b('a post-quantum preshared key of reasonable length');

  it('SK_x = prf+(PPK, SK_x\'), same length, against a reference HMAC-SHA-256 prf+', () => {
    const m = mixPpk(createPrf(PRF_HMAC_SHA2_256, nodeBackend), ppk, keys);
    expect(m.SK_d).toEqual(refPrfPlus(ppk, keys.SK_d, 32));
    expect(m.SK_pi).toEqual(refPrfPlus(ppk, keys.SK_pi, 32));
    expect(m.SK_pr).toEqual(refPrfPlus(ppk, keys.SK_pr, 32));
  });

  it('keeps lengths that differ from the PRF output (prf+ truncates/extends)', () => {
    const k = { SK_d: fill(48, 1), SK_pi: fill(20, 2), SK_pr: fill(20, 3) };
    const m = mixPpk(createPrf(PRF_HMAC_SHA2_256, nodeBackend), ppk, k);
    expect(m.SK_d).toEqual(refPrfPlus(ppk, k.SK_d, 48));
    expect(m.SK_pi.length).toBe(20);
  });

  it('a different PPK gives different keys; works with AES-XCBC (variable-length PPK as key)', () => {
    const prf = createPrf(PRF_AES128_XCBC, nodeBackend);
    const k16 = { SK_d: fill(16, 1), SK_pi: fill(16, 2), SK_pr: fill(16, 3) };
    const a = mixPpk(prf, ppk, k16);
    const c = mixPpk(prf, b('another one'), k16);
    expect(a.SK_pi.length).toBe(16);
    expect(a.SK_pi).not.toEqual(c.SK_pi);
    expect(a.SK_pi).not.toEqual(k16.SK_pi);
  });

  it('refuses an empty PPK with a typed error', () => {
    expect(() => mixPpk(createPrf(PRF_HMAC_SHA2_256, nodeBackend), new Uint8Array(0), keys)).toThrow(PpkError);
  });
});

describe('PPK_IDENTITY notify data', () => {
  it('round-trips type and id', () => {
    const enc = encodePpkIdentity({ type: PPK_ID_FIXED, id: b('ppk-1') });
    expect([...enc.subarray(0, 1)]).toEqual([2]);
    expect(decodePpkIdentity(enc)).toEqual({ type: PPK_ID_FIXED, id: b('ppk-1') });
    expect(decodePpkIdentity(encodePpkIdentity({ type: PPK_ID_OPAQUE, id: b('x') })).type).toBe(1);
  });
  it('rejects empty data, empty id and unknown types with a typed error naming the cause', () => {
    expect(() => decodePpkIdentity(new Uint8Array(0))).toThrow(/type octet is missing/);
    expect(() => decodePpkIdentity(Uint8Array.of(2))).toThrow(/empty PPK ID/);
    expect(() => decodePpkIdentity(Uint8Array.of(9, 1))).toThrow(/PPK ID type 9/);
  });
});

describe('responder decision (RFC 8784 section 3)', () => {
  const store = new Map([['ppk-1', b('secret one')]]);
  const lookup = (id: Uint8Array) => store.get(new TextDecoder().decode(id));
  const base = { negotiated: true, required: false, peerPpkId: b('ppk-1'), noPpkAuthPresent: true, lookup };

  it('known PPK ID -> use the PPK (required or optional)', () => {
    expect(decideResponderPpk(base)).toEqual({ kind: 'ppk', ppk: b('secret one') });
    expect(decideResponderPpk({ ...base, required: true })).toEqual({ kind: 'ppk', ppk: b('secret one') });
  });
  it('unknown PPK ID: optional falls back to NO_PPK_AUTH, required fails naming the ID', () => {
    expect(decideResponderPpk({ ...base, peerPpkId: b('nope') })).toEqual({ kind: 'no-ppk-auth' });
    const r = decideResponderPpk({ ...base, peerPpkId: b('nope'), required: true });
    expect(r.kind).toBe('fail');
    expect(r.kind === 'fail' && r.reason).toMatch(/'nope' is unknown/);
  });
  it('unknown PPK ID without NO_PPK_AUTH (initiator requires PPK) fails', () => {
    expect(decideResponderPpk({ ...base, peerPpkId: b('nope'), noPpkAuthPresent: false }).kind).toBe('fail');
  });
  it('PPK not negotiated: required fails, optional is classic', () => {
    expect(decideResponderPpk({ ...base, negotiated: false }).kind).toBe('classic');
    const r = decideResponderPpk({ ...base, negotiated: false, required: true });
    expect(r.kind === 'fail' && r.reason).toMatch(/USE_PPK/);
  });
  it('negotiated but no PPK_IDENTITY: required fails, optional is classic', () => {
    expect(decideResponderPpk({ ...base, peerPpkId: undefined }).kind).toBe('classic');
    expect(decideResponderPpk({ ...base, peerPpkId: undefined, required: true }).kind).toBe('fail');
  });
});

describe('initiator decision (RFC 8784 section 3)', () => {
  it('all combinations', () => {
    const d = (negotiated: boolean, required: boolean, responderSentPpkIdentity: boolean) =>
      decideInitiatorPpk({ negotiated, required, responderSentPpkIdentity }).kind;
    expect(d(true, true, true)).toBe('ppk');
    expect(d(true, false, true)).toBe('ppk');
    expect(d(true, false, false)).toBe('classic');
    expect(d(true, true, false)).toBe('fail');
    expect(d(false, true, false)).toBe('fail');
    expect(d(false, false, false)).toBe('classic');
  });
});
