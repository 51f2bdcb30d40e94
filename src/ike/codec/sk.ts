/**
 * The Encrypted payload (SK, RFC 7296 3.14) and its fragment form (SKF, RFC 7383 2.5): sealing and opening.
 *
 *   HDR | [plaintext payloads] | SK hdr | [Frag Num | Total Frags] | IV | E(inner payloads | Padding | Pad Length) | ICV
 *
 * Encryption + integrity (RFC 7296 3.14): the plaintext is padded to the cipher block size, the IV is one random
 * block (8 bytes for AES-CTR, RFC 5930), and the truncated MAC covers the whole message from the IKE header
 * through the ciphertext (everything before the ICV).
 * AEAD (RFC 5282 5.1, RFC 7634 3): nonce = salt | IV, the AAD is the message from the IKE header up to (not
 * including) the IV, so for SKF it includes Fragment Number and Total Fragments (RFC 7383 2.5); the ICV is the tag.
 */
import { CryptoError } from '../../crypto/errors.js';
import type { RandomSource } from '../../crypto/random.js';
import { put16 } from './bytes.js';
import { decodePayloads, encodePayloads, SKF_EXTRA_BYTES, writeHeader } from './message.js';
import {
  codecError,
  IKE_HEADER_BYTES,
  IkeEncodeError,
  ok,
  PAYLOAD_HEADER_BYTES,
  PayloadType,
  payloadTypeOf,
  type DecodedMessage,
  type EncryptedPayload,
  type IkeHeaderInit,
  type Payload,
  type Result,
  type SkIntegrity,
  type SkKeys,
} from './types.js';

/** Bytes SK/SKF adds around the plaintext, and the padding alignment, for given keys. */
export interface SkOverhead {
  readonly ivBytes: number;
  readonly icvBytes: number;
  /** Plaintext (inner | padding | pad length) is a multiple of this. */
  readonly align: number;
}

export function skOverhead(keys: SkKeys): SkOverhead {
  const e = keys.encryption;
  if (e.aead) return { ivBytes: e.ivBytes, icvBytes: e.icvBytes, align: 1 };
  return { ivBytes: e.ivBytes, icvBytes: requireIntegrity(keys).icvBytes, align: Math.max(1, e.blockBytes) };
}

/** RFC 7296 3.14: a non-AEAD cipher is always paired with an integrity transform (SK_a); keys without one cannot seal. */
function requireIntegrity(keys: SkKeys): SkIntegrity {
  if (!keys.integrity) throw new IkeEncodeError('a non-AEAD cipher needs an integrity transform (SK_a)');
  return keys.integrity;
}

export interface SealOptions {
  /** Plaintext payloads placed before SK (rare: RFC 7296 allows them, no exchange of ours uses them). */
  readonly outer?: readonly Payload[];
  /** SKF: 1-based fragment number and total (RFC 7383 2.5). */
  readonly fragment?: { readonly number: number; readonly total: number };
}

/**
 * Seals `inner` (already encoded payload chain) into a complete message with an SK (or SKF) payload whose
 * Next Payload is `firstInnerType`. Used by encryptSK and fragmentSK.
 */
export function sealMessage(
  header: IkeHeaderInit,
  firstInnerType: number,
  inner: Uint8Array,
  keys: SkKeys,
  random: RandomSource,
  opts: SealOptions = {},
): Uint8Array {
  const { ivBytes, icvBytes, align } = skOverhead(keys);
  const skType = opts.fragment ? PayloadType.SKF : PayloadType.SK;
  const outer = opts.outer && opts.outer.length > 0 ? encodePayloads(opts.outer, skType) : new Uint8Array(0);
  // RFC 7296 3.14: Pad Length is the number of padding bytes; padding brings the plaintext to a block multiple.
  const padLength = (align - ((inner.length + 1) % align)) % align;
  const ptLen = inner.length + padLength + 1;
  const extra = opts.fragment ? SKF_EXTRA_BYTES : 0;
  const skLen = PAYLOAD_HEADER_BYTES + extra + ivBytes + ptLen + icvBytes;
  if (skLen > 0xffff) throw new IkeEncodeError(`${payloadName(skType)} payload of ${skLen} bytes exceeds the 16-bit length field`);
  const total = IKE_HEADER_BYTES + outer.length + skLen;
  const msg = new Uint8Array(total);
  const firstOuter = opts.outer?.[0];
  const first = firstOuter === undefined ? skType : payloadTypeOf(firstOuter);
  writeHeader(msg, header, first, total);
  msg.set(outer, IKE_HEADER_BYTES);
  const skOff = IKE_HEADER_BYTES + outer.length;
  msg[skOff] = firstInnerType;
  msg[skOff + 1] = 0;
  put16(msg, skOff + 2, skLen);
  if (opts.fragment) {
    const { number, total: count } = opts.fragment;
    if (number < 1 || number > count || count > 0xffff) throw new IkeEncodeError(`fragment ${number} of ${count}`);
    put16(msg, skOff + 4, number);
    put16(msg, skOff + 6, count);
  }
  const ivOff = skOff + PAYLOAD_HEADER_BYTES + extra;
  const iv = random.fill(new Uint8Array(ivBytes));
  msg.set(iv, ivOff);
  const plaintext = new Uint8Array(ptLen);
  plaintext.set(inner, 0);
  plaintext[ptLen - 1] = padLength;
  const ctOff = ivOff + ivBytes;
  const e = keys.encryption;
  if (e.aead) {
    const sealed = e.seal(iv, msg.subarray(0, ivOff), plaintext);
    if (sealed.length !== ptLen + icvBytes) throw new IkeEncodeError(`AEAD returned ${sealed.length} bytes, expected ${ptLen + icvBytes}`);
    msg.set(sealed, ctOff);
  } else {
    const ct = e.encrypt(iv, plaintext);
    if (ct.length !== ptLen) throw new IkeEncodeError(`cipher returned ${ct.length} bytes, expected ${ptLen}`);
    msg.set(ct, ctOff);
    const icvOff = ctOff + ptLen;
    const mac = requireIntegrity(keys).compute([msg.subarray(0, icvOff)]);
    if (mac.length < icvBytes) throw new IkeEncodeError(`integrity returned ${mac.length} bytes, ICV is ${icvBytes}`);
    msg.set(mac.subarray(0, icvBytes), icvOff);
  }
  return msg;
}

function payloadName(t: number): string {
  return t === PayloadType.SKF ? 'SKF' : 'SK';
}

/** Builds `HDR, SK {inner}` (RFC 7296 3.14). `random` supplies the IV. */
export function encryptSK(
  header: IkeHeaderInit,
  inner: readonly Payload[],
  keys: SkKeys,
  random: RandomSource,
  opts: { readonly outer?: readonly Payload[] } = {},
): Uint8Array {
  const [firstInner] = inner;
  const first = firstInner === undefined ? PayloadType.NONE : payloadTypeOf(firstInner);
  return sealMessage(header, first, encodePayloads(inner), keys, random, opts);
}

/** The decrypted content of one SK/SKF payload: the inner payload chain bytes with the padding removed. */
export interface OpenedPayload {
  readonly firstInnerType: number;
  readonly plaintext: Uint8Array;
}

/**
 * Verifies and decrypts one SK/SKF payload of `message`. Integrity is checked before anything is decrypted
 * (RFC 7296 2.21.2: a message failing it is dropped). Never throws.
 */
export function openEncrypted(message: Uint8Array, enc: EncryptedPayload, keys: SkKeys): Result<OpenedPayload> {
  const e = keys.encryption;
  const ivBytes = e.ivBytes;
  const icvBytes = e.aead ? e.icvBytes : keys.integrity?.icvBytes;
  if (icvBytes === undefined) return codecError('INVALID_SYNTAX', 'non-AEAD cipher without an integrity transform', enc.headerOffset, enc.type);
  const body = enc.body;
  const bodyEnd = enc.ivOffset + body.length;
  if (enc.ivOffset < IKE_HEADER_BYTES || bodyEnd > message.length) {
    return codecError('BAD_LENGTH', 'encrypted payload lies outside the message', enc.headerOffset, enc.type);
  }
  if (body.length < ivBytes + icvBytes + 1) {
    return codecError('BAD_LENGTH', `${payloadName(enc.type)} body of ${body.length} bytes cannot hold IV, pad length and ICV`, enc.ivOffset, enc.type);
  }
  const iv = body.subarray(0, ivBytes);
  let plaintext: Uint8Array;
  try {
    if (e.aead) {
      const opened = e.open(iv, message.subarray(0, enc.ivOffset), body.subarray(ivBytes));
      if (opened === null) return codecError('INTEGRITY_CHECK_FAILED', 'AEAD tag does not verify', bodyEnd - icvBytes, enc.type);
      plaintext = opened;
    } else {
      const icvOff = bodyEnd - icvBytes;
      // Without SK_a (refused above) `?.` gives undefined, which fails closed: the message is dropped, never trusted.
      if (!keys.integrity?.verify([message.subarray(0, icvOff)], message.subarray(icvOff, bodyEnd))) {
        return codecError('INTEGRITY_CHECK_FAILED', 'ICV does not verify', icvOff, enc.type);
      }
      const ct = body.subarray(ivBytes, body.length - icvBytes);
      const align = Math.max(1, e.blockBytes);
      if (ct.length % align !== 0) {
        return codecError('INVALID_SYNTAX', `ciphertext of ${ct.length} bytes is not a multiple of the ${align}-byte block`, enc.ivOffset + ivBytes, enc.type);
      }
      plaintext = e.decrypt(iv, ct);
    }
  } catch (err) {
    // The crypto layer validates sizes with CryptoError; surface it as a typed codec error, never a throw.
    const code = err instanceof CryptoError ? err.code : 'unexpected';
    return codecError('INVALID_SYNTAX', `crypto layer rejected the payload (${code})`, enc.ivOffset, enc.type);
  }
  // RFC 7296 3.14: the last plaintext byte is Pad Length (the length check above leaves at least one byte, unless
  // the cipher returned less than it was given).
  const padLength = plaintext.at(-1);
  if (padLength === undefined) return codecError('INVALID_SYNTAX', 'empty plaintext has no Pad Length', enc.ivOffset + ivBytes, enc.type);
  if (padLength + 1 > plaintext.length) {
    return codecError('INVALID_SYNTAX', `Pad Length ${padLength} exceeds the ${plaintext.length}-byte plaintext`, enc.ivOffset + ivBytes, enc.type);
  }
  return ok({ firstInnerType: enc.firstInnerType, plaintext: plaintext.subarray(0, plaintext.length - padLength - 1) });
}

/**
 * Opens the SK payload of a decoded message and decodes the inner payloads. For an SKF message use
 * FragmentReassembler instead. Error offsets from the inner chain are relative to the decrypted plaintext.
 */
export function decryptSK(message: Uint8Array, decoded: DecodedMessage, keys: SkKeys): Result<Payload[]> {
  const enc = decoded.encrypted;
  if (!enc) return codecError('INVALID_SYNTAX', 'message has no Encrypted payload', IKE_HEADER_BYTES);
  if (enc.type !== PayloadType.SK) return codecError('INVALID_SYNTAX', 'SKF fragment: reassemble it first', enc.headerOffset, enc.type);
  const opened = openEncrypted(message, enc, keys);
  if (!opened.ok) return opened;
  return decodePayloads(opened.value.plaintext, opened.value.firstInnerType);
}
