/**
 * Pure key arithmetic for IKE_INTERMEDIATE (RFC 9242) and RFC 9370 additional key exchanges. No state, no I/O: the
 * exchange tasks call these with the keys in force at each message.
 *
 *  - RFC 9242 section 3.3.2: each IKE_INTERMEDIATE message is folded into a running IntAuth so that IKE_AUTH
 *    authenticates everything exchanged in the clear-of-AUTH phase.
 *  - RFC 9370 section 2.2.2: after each additional key exchange the IKE SA keys are recomputed from SK_d of the
 *    previous step and the new shared secret.
 */
import { concatBytes } from '../crypto/bytes.js';
import { deriveIkeSaKeys, type IkeSaKeys, type IkeSaKeySizes } from '../crypto/kdf.js';
import type { Prf } from '../crypto/prf.js';

/** A clear error for malformed input to the IntAuth construction (never a crash, preamble rule). */
export class IntermediateAuthError extends Error {
  override readonly name = 'IntermediateAuthError';
}

const IKE_HEADER_BYTES = 28;
const GENERIC_PAYLOAD_HEADER_BYTES = 4;
/** RFC 7296 3.2: payload type of the Encrypted payload (SK); RFC 7383 2.5: of the Encrypted Fragment payload (SKF). */
const PAYLOAD_SK = 46;

export interface IntAuthMessageParts {
  /** The 28-byte IKE header as sent (its Length field is replaced, RFC 9242 3.3.2). */
  readonly ikeHeader: Uint8Array;
  /** Any payloads before the Encrypted payload, as sent (usually none). */
  readonly unencryptedPayloads: Uint8Array;
  /**
   * Next Payload of the Encrypted payload header: the type of the first inner payload. For a fragmented message
   * (RFC 7383) this is the Next Payload of fragment 1, since the chunk is built as if the message were not fragmented.
   */
  readonly firstInnerPayload: number;
  /** The inner payloads in plaintext: no IV, padding, pad length or ICV (IntAuth_[i|r]*_P). */
  readonly innerPlaintext: Uint8Array;
}

/**
 * RFC 9242 section 3.3.2, IntAuth_[i|r]*_A: the IKE header, the unencrypted payloads and the Encrypted payload header,
 * with "Adjusted Length" in the IKE header = len(A) + len(P) and "Adjusted Payload Length" in the Encrypted payload
 * header = len(P) + 4, i.e. the lengths as if IV, padding, pad length and ICV were absent.
 */
export function intAuthChunkA(m: IntAuthMessageParts): Uint8Array {
  if (m.ikeHeader.length !== IKE_HEADER_BYTES) {
    throw new IntermediateAuthError(`IntAuth: IKE header is ${m.ikeHeader.length} bytes, RFC 7296 3.1 says 28`);
  }
  if (!Number.isInteger(m.firstInnerPayload) || m.firstInnerPayload < 0 || m.firstInnerPayload > 255) {
    throw new IntermediateAuthError(`IntAuth: first inner payload type ${m.firstInnerPayload} is not one octet`);
  }
  const aLen = IKE_HEADER_BYTES + m.unencryptedPayloads.length + GENERIC_PAYLOAD_HEADER_BYTES;
  const skLen = GENERIC_PAYLOAD_HEADER_BYTES + m.innerPlaintext.length;
  if (skLen > 0xffff) throw new IntermediateAuthError(`IntAuth: inner payloads of ${m.innerPlaintext.length} bytes exceed a payload length`);
  const a = new Uint8Array(aLen);
  a.set(m.ikeHeader, 0);
  new DataView(a.buffer).setUint32(24, aLen + m.innerPlaintext.length);
  a.set(m.unencryptedPayloads, IKE_HEADER_BYTES);
  const sk = IKE_HEADER_BYTES + m.unencryptedPayloads.length;
  a[sk] = m.firstInnerPayload;
  a[sk + 1] = 0; // RESERVED / critical bit: the SK payload is sent with it clear (RFC 7296 3.2)
  new DataView(a.buffer).setUint16(sk + 2, skLen);
  // the header's own Next Payload must chain to SK when there are no unencrypted payloads before it
  if (m.unencryptedPayloads.length === 0 && a[16] !== PAYLOAD_SK) {
    throw new IntermediateAuthError(`IntAuth: IKE header Next Payload is ${a[16]}, expected SK (46) with no unencrypted payloads`);
  }
  return a;
}

/**
 * RFC 9242 section 3.3.2, one step of the chain for messages sent by one side:
 *   IntAuth_[i|r]1 = prf(SK_p[i|r]1,                    IntAuth_[i|r]1_A [| IntAuth_[i|r]1_P])
 *   IntAuth_[i|r]n = prf(SK_p[i|r]n, IntAuth_[i|r](n-1) | IntAuth_[i|r]n_A [| IntAuth_[i|r]n_P])
 * `skP` is SK_pi for the initiator's requests and SK_pr for the responder's answers, as in force when the message
 * was sent (with RFC 9370 the keys change after each IKE_INTERMEDIATE, section 2.2.2). `previous` is undefined for
 * the first message.
 */
export function nextIntAuth(prf: Prf, skP: Uint8Array, previous: Uint8Array | undefined, m: IntAuthMessageParts): Uint8Array {
  const a = intAuthChunkA(m);
  const parts = previous === undefined ? [a, m.innerPlaintext] : [previous, a, m.innerPlaintext];
  return prf.compute(skP, parts);
}

/**
 * RFC 9242 section 3.3.2: IntAuth = IntAuth_iN | IntAuth_rN | IKE_AUTH_MID, appended to both sides' signed octets
 * (InitiatorSignedOctets = RealMessage1 | NonceRData | MACedIDForI | IntAuth, and likewise for the responder).
 * IKE_AUTH_MID is the Message ID of the IKE_AUTH request, four octets in network order.
 */
export function intAuthTrailer(intAuthI: Uint8Array, intAuthR: Uint8Array, ikeAuthMessageId: number): Uint8Array {
  if (!Number.isInteger(ikeAuthMessageId) || ikeAuthMessageId < 0 || ikeAuthMessageId > 0xffffffff) {
    throw new IntermediateAuthError(`IntAuth: IKE_AUTH message ID ${ikeAuthMessageId} is not a 32-bit unsigned integer`);
  }
  const mid = new Uint8Array(4);
  new DataView(mid.buffer).setUint32(0, ikeAuthMessageId);
  return concatBytes([intAuthI, intAuthR, mid]);
}

/**
 * RFC 9370 section 2.2.2: after the n-th additional key exchange (shared secret SK(n), named so in the RFC)
 *   SKEYSEED(n) = prf(SK_d(n-1), SK(n) | Ni | Nr)
 *   {SK_d(n) | SK_ai(n) | SK_ar(n) | SK_ei(n) | SK_er(n) | SK_pi(n) | SK_pr(n)} = prf+(SKEYSEED(n), Ni | Nr | SPIi | SPIr)
 * with the nonces and SPIs of IKE_SA_INIT (they do not change during the initial exchanges).
 */
export function updateKeysAfterAdditionalKe(
  prf: Prf,
  previous: IkeSaKeys,
  sharedSecret: Uint8Array,
  Ni: Uint8Array,
  Nr: Uint8Array,
  SPIi: Uint8Array,
  SPIr: Uint8Array,
  sizes: IkeSaKeySizes,
): IkeSaKeys {
  const seed = prf.compute(previous.SK_d, [sharedSecret, Ni, Nr]);
  try {
    return deriveIkeSaKeys(prf, seed, Ni, Nr, SPIi, SPIr, sizes);
  } finally {
    seed.fill(0);
  }
}
