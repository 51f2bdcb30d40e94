/**
 * IKEv2 wire codec (RFC 7296 section 3, RFC 7383): types, decoding, encoding, SK/SKF sealing, fragmentation,
 * per-exchange payload rules. Decoders return Result values with typed IkeCodecError; they never throw.
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
