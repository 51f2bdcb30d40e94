/**
 * IKEv2 wire codec (RFC 7296 section 3, RFC 7383): types, decoding, encoding, SK/SKF sealing, fragmentation,
 * per-exchange payload rules. Decoders return Result values with a typed IkeCodecError; they never throw.
 * Encoders throw IkeEncodeError only for a model that cannot be expressed on the wire (a programming error).
 *
 * Receiving (responder or initiator):
 *   const d = decodeMessage(datagram);                 // header, plaintext payloads, sealed SK/SKF
 *   if (!d.ok) -> notifyForError(d.error, datagram)    // UNSUPPORTED_CRITICAL_PAYLOAD, INVALID_MAJOR_VERSION...
 *   checkPayloadRules(x, resp, d.value.payloads, false)
 *   SK:  decryptSK(datagram, d.value, keys)            // keys = { encryption: createEncryption(..), integrity? }
 *   SKF: reassembler.add(datagram, d.value, keys, now) // per IKE SA and direction
 *   checkPayloadRules(x, resp, inner, true)
 * Sending:
 *   encodeMessage(header, payloads)                    // IKE_SA_INIT
 *   encryptSK(header, inner, keys, random)             // everything after it
 *   fragmentSK(header, inner, keys, random, maxBytes)  // when the peer sent IKEV2_FRAGMENTATION_SUPPORTED
 * Reading captures (no IKE SA): decryptIkeMessage(datagram, { encr, skE, integ, skA }) -> inner payloads or one
 * SKF fragment; joinFragments(chunks, firstInnerType) for the whole message.
 */
export * from './types.js';
export { exchangeTypeName, notifyTypeName, payloadTypeName } from './names.js';
export { LIMITS, NONCE_MAX, NONCE_MIN } from './payloads.js';
export {
  decodeHeader,
  decodeMessage,
  decodePayloads,
  encodeMessage,
  encodePayloads,
  IKE_MAJOR_VERSION,
  IKE_MINOR_VERSION,
  MAX_PAYLOADS,
  SKF_EXTRA_BYTES,
} from './message.js';
export { decryptSK, encryptSK, openEncrypted, sealMessage, skOverhead, type OpenedPayload, type SealOptions, type SkOverhead } from './sk.js';
export {
  DEFAULT_REASSEMBLY_LIMITS,
  fragmentCapacity,
  fragmentSK,
  FragmentReassembler,
  type ReassemblyLimits,
  type ReassemblyProgress,
} from './fragment.js';
export { checkPayloadRules, EXCHANGE_RULES, requiresEncryption, type ExchangeRules, type MessageShape, type PayloadRule } from './rules.js';
export { notifyForError } from './error-notify.js';
export {
  createSkKeys,
  decryptIkeMessage,
  ikeSuiteName,
  joinFragments,
  type DecryptedIkeMessage,
  type IkeMessageKeys,
  type IkeOpenError,
  type IkeOpenErrorCode,
  type IkeOpenResult,
} from './open-one.js';
