import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { nodeBackend } from '../crypto/backends/node.js';
import { deriveIkeSaKeys } from '../crypto/kdf.js';
import { createPrf, PRF_HMAC_SHA2_384 } from '../crypto/prf.js';
import {
  intAuthChunkA,
  intAuthTrailer,
  IntermediateAuthError,
  nextIntAuth,
  updateKeysAfterAdditionalKe,
} from './intermediate-keys.js';

const prf = createPrf(PRF_HMAC_SHA2_384, nodeBackend);
/** Independent reference: node:crypto HMAC-SHA-384 (RFC 4868), not our Prf. */
const hmac = (k: Uint8Array, ...d: Uint8Array[]): Uint8Array => {
  const h = createHmac('sha384', k);
  for (const x of d) h.update(x);
  return new Uint8Array(h.digest());
};
const fill = (n: number, v: number): Uint8Array => new Uint8Array(n).fill(v);

/** An IKE_INTERMEDIATE request header: SPIs, Next Payload SK (46), version 2.0, exchange 43, flags I, MID 1. */
function header(msgLength: number): Uint8Array {
  const h = new Uint8Array(28);
  h.set(fill(8, 0x11), 0);
  h.set(fill(8, 0x22), 8);
  h[16] = 46;
  h[17] = 0x20;
  h[18] = 43;
  h[19] = 0x08;
  new DataView(h.buffer).setUint32(20, 1);
  new DataView(h.buffer).setUint32(24, msgLength);
  return h;
}

describe('IntAuth (RFC 9242 section 3.3.2)', () => {
  const inner = fill(100, 0xab); // e.g. a KE payload
  // as sent: 28 header + 4 SK header + 16 IV + 100 plaintext + 12 pad/padlen + 16 ICV
  const sent = header(28 + 4 + 16 + 100 + 12 + 16);
  const parts = { ikeHeader: sent, unencryptedPayloads: new Uint8Array(0), firstInnerPayload: 34, innerPlaintext: inner };

  it('A chunk: header with Adjusted Length = len(A)+len(P), SK header with Adjusted Payload Length = len(P)+4', () => {
    const a = intAuthChunkA(parts);
    expect(a.length).toBe(32);
    expect(a.subarray(0, 24)).toEqual(sent.subarray(0, 24)); // SPIs, next payload, version, exchange, flags, MID unchanged
    expect(new DataView(a.buffer).getUint32(24)).toBe(32 + 100);
    expect([...a.subarray(28)]).toEqual([34, 0, 0, 104]);
    expect(new DataView(sent.buffer).getUint32(24)).toBe(176); // the caller's header is not modified
  });

  it('chain: IntAuth_1 = prf(SK_p1, A1 | P1), IntAuth_2 = prf(SK_p2, IntAuth_1 | A2 | P2)', () => {
    const sk1 = fill(48, 1);
    const sk2 = fill(48, 2);
    const one = nextIntAuth(prf, sk1, undefined, parts);
    expect(one).toEqual(hmac(sk1, intAuthChunkA(parts), inner));
    const two = nextIntAuth(prf, sk2, one, parts);
    expect(two).toEqual(hmac(sk2, one, intAuthChunkA(parts), inner));
    expect(two).not.toEqual(one);
  });

  it('trailer: IntAuth_iN | IntAuth_rN | IKE_AUTH_MID (4 octets, network order)', () => {
    const t = intAuthTrailer(fill(48, 7), fill(48, 9), 0x01020304);
    expect(t.length).toBe(100);
    expect([...t.subarray(96)]).toEqual([1, 2, 3, 4]);
    expect(t[0]).toBe(7);
    expect(t[48]).toBe(9);
  });

  it('bad input is a typed error naming the cause', () => {
    expect(() => intAuthChunkA({ ...parts, ikeHeader: new Uint8Array(20) })).toThrow(IntermediateAuthError);
    expect(() => intAuthChunkA({ ...parts, ikeHeader: new Uint8Array(20) })).toThrow(/28/);
    expect(() => intAuthChunkA({ ...parts, firstInnerPayload: 300 })).toThrow(/one octet/);
    expect(() => intAuthChunkA({ ...parts, innerPlaintext: new Uint8Array(70000) })).toThrow(/payload length/);
    expect(() => intAuthTrailer(new Uint8Array(1), new Uint8Array(1), -1)).toThrow(/32-bit/);
    const wrongNext = header(50);
    wrongNext[16] = 33;
    expect(() => intAuthChunkA({ ...parts, ikeHeader: wrongNext })).toThrow(/Next Payload/);
  });
});

describe('key update after an additional key exchange (RFC 9370 section 2.2.2)', () => {
  it('SKEYSEED(n) = prf(SK_d(n-1), SK(n) | Ni | Nr); keys = prf+(SKEYSEED(n), Ni | Nr | SPIi | SPIr)', () => {
    const Ni = fill(32, 3);
    const Nr = fill(32, 4);
    const SPIi = fill(8, 5);
    const SPIr = fill(8, 6);
    const sizes = { encrKey: 36, integKey: 0, prfKey: 48 };
    const prev = deriveIkeSaKeys(prf, fill(48, 8), Ni, Nr, SPIi, SPIr, sizes);
    const ss = fill(32, 0x5a); // an ML-KEM shared secret is 32 bytes (FIPS 203)
    const next = updateKeysAfterAdditionalKe(prf, prev, ss, Ni, Nr, SPIi, SPIr, sizes);
    const seed = hmac(prev.SK_d, ss, Ni, Nr);
    expect(next).toEqual(deriveIkeSaKeys(prf, seed, Ni, Nr, SPIi, SPIr, sizes));
    expect(next.SK_d).not.toEqual(prev.SK_d);
    expect(next.SK_ei.length).toBe(36);
    // a different shared secret gives different keys (the update depends on SK(n))
    const other = updateKeysAfterAdditionalKe(prf, prev, fill(32, 0x5b), Ni, Nr, SPIi, SPIr, sizes);
    expect(other.SK_pi).not.toEqual(next.SK_pi);
  });
});
