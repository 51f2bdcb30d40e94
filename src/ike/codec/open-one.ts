/**
 * Decrypting one IKE message with given SK_e/SK_a keys and transform ids, outside any IKE SA: for tools that read
 * captures (`cygnet inspect`) and for tests. SK (RFC 7296 3.14) messages decode to their inner payloads; an SKF
 * fragment (RFC 7383 2.5) is authenticated and decrypted on its own and returned with its number, total and
 * plaintext chunk, for the caller to reassemble (joinFragments).
 *
 * Errors are values naming the transforms (AES_GCM_16-256, HMAC_SHA2_256_128), never a throw.
 */
import { CryptoError } from '../../crypto/errors.js';
import { defaultProvider } from '../../crypto/provider.js';
import { createEncryption, createIntegrity } from '../../crypto/suite.js';
import { findEncr, findInteg } from '../../crypto/transforms.js';
import type { CryptoBackend } from '../../crypto/types.js';
import { espTransformName } from '../../esp/open-one.js';
import { decodeMessage, decodePayloads } from './message.js';
import { decryptSK, openEncrypted } from './sk.js';
import { PayloadType, type IkeCodecErrorCode, type IkeHeader, type Payload, type SkKeys } from './types.js';

/** One direction's keys of an IKE SA (SK_ei/SK_ai for messages the original initiator sent, SK_er/SK_ar otherwise). */
export interface IkeMessageKeys {
  /** IANA ENCR transform id. */
  readonly encr: number;
  /** Key length in bits for AES; derived from SK_e's length when absent. */
  readonly encrKeyBits?: number;
  /** SK_e, including the salt for AEAD transforms (RFC 5282 section 7.1). */
  readonly skE: Uint8Array;
  /** IANA INTEG transform id; absent or 0 for AEAD. */
  readonly integ?: number;
  readonly skA?: Uint8Array;
}

export type IkeOpenErrorCode = IkeCodecErrorCode | 'NOT_ENCRYPTED' | 'UNSUPPORTED_TRANSFORM' | 'BAD_KEY';

export interface IkeOpenError {
  readonly code: IkeOpenErrorCode;
  readonly message: string;
}

export interface DecryptedIkeMessage {
  readonly header: IkeHeader;
  /** Plaintext payloads before SK/SKF (usually none). */
  readonly outer: readonly Payload[];
  /** SK: the decoded inner payloads. */
  readonly payloads?: readonly Payload[];
  /** SKF: this fragment's number and total, the first inner payload type (fragment 1 only) and its plaintext chunk. */
  readonly fragment?: { readonly number: number; readonly total: number; readonly firstInnerType: number; readonly plaintext: Uint8Array };
  /** The transforms used, e.g. `AES_CBC-256/HMAC_SHA2_256_128`. */
  readonly suite: string;
}

export type IkeOpenResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: IkeOpenError };

const fail = (code: IkeOpenErrorCode, message: string): { ok: false; error: IkeOpenError } => ({ ok: false, error: { code, message } });

/** `AES_GCM_16-256` or `AES_CBC-128/HMAC_SHA2_256_128`. */
export function ikeSuiteName(keys: IkeMessageKeys): string {
  const bits = keys.encrKeyBits ?? impliedKeyBits(keys);
  const e = espTransformName(1, keys.encr, bits);
  return keys.integ ? `${e}/${espTransformName(3, keys.integ)}` : e;
}

function impliedKeyBits(keys: IkeMessageKeys): number | undefined {
  const t = findEncr(keys.encr);
  return t?.keyLengthAttribute ? (keys.skE.length - t.saltBytes) * 8 : undefined;
}

/** Keys the SK contexts for one direction (reusable across messages); the caller disposes them. */
export function createSkKeys(keys: IkeMessageKeys, backend: CryptoBackend = defaultProvider()): IkeOpenResult<SkKeys & { dispose(): void }> {
  const suite = ikeSuiteName(keys);
  const t = findEncr(keys.encr);
  if (!t) return fail('UNSUPPORTED_TRANSFORM', `IKE encryption ${espTransformName(1, keys.encr)} is not supported by cygnet`);
  if (t.kind === 'null') return fail('UNSUPPORTED_TRANSFORM', 'IKE encryption NULL is not allowed (RFC 7296 3.3.2)');
  if (keys.integ && !findInteg(keys.integ)) return fail('UNSUPPORTED_TRANSFORM', `IKE integrity ${espTransformName(3, keys.integ)} is not supported by cygnet`);
  if (t.kind !== 'aead' && !keys.integ) return fail('BAD_KEY', `IKE ${suite}: a non-AEAD cipher needs an integrity transform and SK_a`);
  try {
    const encryption = createEncryption(keys.encr, keys.encrKeyBits ?? impliedKeyBits(keys), keys.skE, backend);
    if (t.kind === 'aead' || !keys.integ) return { ok: true, value: { encryption, dispose: () => encryption.dispose() } };
    const integrity = createIntegrity(keys.integ, keys.skA ?? new Uint8Array(0), backend);
    return { ok: true, value: { encryption, integrity, dispose: () => (encryption.dispose(), integrity.dispose()) } };
  } catch (e) {
    if (e instanceof CryptoError) {
      const code = e.code === 'UNSUPPORTED_ALGORITHM' ? 'UNSUPPORTED_TRANSFORM' : 'BAD_KEY';
      return fail(code, `IKE ${suite}: ${e.message}`);
    }
    return fail('BAD_KEY', `IKE ${suite}: ${(e as Error).message}`);
  }
}

/**
 * Verifies and decrypts one IKE message (the UDP payload, after the non-ESP marker on port 4500) with one
 * direction's keys. Integrity is checked before decryption (RFC 7296 2.21.2).
 */
export function decryptIkeMessage(message: Uint8Array, keys: IkeMessageKeys | (SkKeys & { suite?: string }), backend: CryptoBackend = defaultProvider()): IkeOpenResult<DecryptedIkeMessage> {
  const d = decodeMessage(message);
  if (!d.ok) return fail(d.error.code, `not a well-formed IKE message: ${d.error.message} (at byte ${d.error.offset})`);
  const enc = d.value.encrypted;
  if (!enc) return fail('NOT_ENCRYPTED', 'the message has no Encrypted payload (SK or SKF)');
  let sk: SkKeys;
  let suite: string;
  let dispose = (): void => {};
  if ('skE' in keys) {
    const k = createSkKeys(keys, backend);
    if (!k.ok) return k;
    sk = k.value;
    dispose = k.value.dispose;
    suite = ikeSuiteName(keys);
  } else {
    sk = keys;
    suite = keys.suite ?? 'given keys';
  }
  try {
    const { header, payloads: outer } = d.value;
    if (enc.type === PayloadType.SK) {
      const inner = decryptSK(message, d.value, sk);
      if (!inner.ok) return fail(inner.error.code, describe(inner.error.code, inner.error.message, suite));
      return { ok: true, value: { header, outer, payloads: inner.value, suite } };
    }
    const opened = openEncrypted(message, enc, sk);
    if (!opened.ok) return fail(opened.error.code, describe(opened.error.code, opened.error.message, suite));
    return {
      ok: true,
      value: {
        header,
        outer,
        suite,
        fragment: { number: enc.fragmentNumber ?? 0, total: enc.totalFragments ?? 0, firstInnerType: opened.value.firstInnerType, plaintext: opened.value.plaintext },
      },
    };
  } finally {
    dispose();
  }
}

function describe(code: IkeCodecErrorCode, message: string, suite: string): string {
  return code === 'INTEGRITY_CHECK_FAILED' ? `${message} with the ${suite} keys` : `${message} (${suite})`;
}

/**
 * Joins the plaintext chunks of fragments 1..total (RFC 7383 2.6: in Fragment Number order) and decodes the inner
 * payload chain, whose first type is the one fragment 1 carried.
 */
export function joinFragments(chunks: readonly Uint8Array[], firstInnerType: number): IkeOpenResult<Payload[]> {
  const total = chunks.reduce((n, c) => n + c.length, 0);
  const all = new Uint8Array(total);
  let o = 0;
  for (const c of chunks) {
    all.set(c, o);
    o += c.length;
  }
  const r = decodePayloads(all, firstInnerType);
  return r.ok ? r : fail(r.error.code, `reassembled message: ${r.error.message} (at byte ${r.error.offset})`);
}
