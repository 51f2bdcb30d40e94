/**
 * IKEv2 wire model: IANA numbers with their RFC names, the IKE header, and one typed object per payload.
 *
 * Everything here is data; the layouts live in payloads.ts, the per-exchange rules in rules.ts.
 * Numbers follow the IANA "Internet Key Exchange Version 2 (IKEv2) Parameters" registry (RFC 7296 section 3).
 */
import { CodedError } from '../../util/coded-error.js';

// ---------------------------------------------------------------------------------------------------------------
// Registries
// ---------------------------------------------------------------------------------------------------------------

/** RFC 7296 3.1 Exchange Type. */
export const ExchangeType = {
  IKE_SA_INIT: 34,
  IKE_AUTH: 35,
  CREATE_CHILD_SA: 36,
  INFORMATIONAL: 37,
  /** RFC 9242 */
  IKE_INTERMEDIATE: 43,
} as const;
export type ExchangeType = (typeof ExchangeType)[keyof typeof ExchangeType];

/** RFC 7296 3.2 Next Payload / payload type numbers (NONE = 0 ends the chain). */
export const PayloadType = {
  NONE: 0,
  SA: 33,
  KE: 34,
  IDi: 35,
  IDr: 36,
  CERT: 37,
  CERTREQ: 38,
  AUTH: 39,
  /** Ni and Nr */
  NONCE: 40,
  /** N */
  NOTIFY: 41,
  /** D */
  DELETE: 42,
  /** V */
  VENDOR: 43,
  TSi: 44,
  TSr: 45,
  /** Encrypted and Authenticated, RFC 7296 3.14 */
  SK: 46,
  CP: 47,
  EAP: 48,
  /** Encrypted and Authenticated Fragment, RFC 7383 2.5 */
  SKF: 53,
} as const;
export type PayloadTypeNumber = (typeof PayloadType)[keyof typeof PayloadType];

/** RFC 7296 3.1 header flags (bit values of the Flags octet). */
export const HeaderFlag = {
  INITIATOR: 0x08,
  VERSION: 0x10,
  RESPONSE: 0x20,
} as const;

/** RFC 7296 3.3.1 Protocol ID (SA proposals, Notify, Delete). 0 = none (Notify not about an SA). */
export const ProtocolId = {
  NONE: 0,
  IKE: 1,
  AH: 2,
  ESP: 3,
} as const;

/** RFC 7296 3.3.2 Transform Type: the one table lives with the transforms in src/crypto/transforms.ts. */
export { TransformType, type TransformTypeId } from '../../crypto/transforms.js';

/** RFC 7296 3.3.5 Transform Attribute types. Only Key Length (TV form) is defined. */
export const TransformAttributeType = {
  KEY_LENGTH: 14,
} as const;

/** RFC 7296 3.10.1 Notify Message Types: errors (< 16384) and status types (>= 16384). */
export const NotifyType = {
  // --- errors, RFC 7296 3.10.1
  UNSUPPORTED_CRITICAL_PAYLOAD: 1,
  INVALID_IKE_SPI: 4,
  INVALID_MAJOR_VERSION: 5,
  INVALID_SYNTAX: 7,
  INVALID_MESSAGE_ID: 9,
  INVALID_SPI: 11,
  NO_PROPOSAL_CHOSEN: 14,
  INVALID_KE_PAYLOAD: 17,
  AUTHENTICATION_FAILED: 24,
  SINGLE_PAIR_REQUIRED: 34,
  NO_ADDITIONAL_SAS: 35,
  INTERNAL_ADDRESS_FAILURE: 36,
  FAILED_CP_REQUIRED: 37,
  TS_UNACCEPTABLE: 38,
  INVALID_SELECTORS: 39,
  /** RFC 4555 */
  UNACCEPTABLE_ADDRESSES: 40,
  /** RFC 4555 */
  UNEXPECTED_NAT_DETECTED: 41,
  /** RFC 5026 */
  USE_ASSIGNED_HoA: 42,
  TEMPORARY_FAILURE: 43,
  CHILD_SA_NOT_FOUND: 44,
  /** RFC 6407 */
  INVALID_GROUP_ID: 45,
  /** RFC 6407 */
  AUTHORIZATION_FAILED: 46,
  /** RFC 9242 */
  STATE_NOT_FOUND: 47,
  // --- status types
  INITIAL_CONTACT: 16384,
  SET_WINDOW_SIZE: 16385,
  ADDITIONAL_TS_POSSIBLE: 16386,
  IPCOMP_SUPPORTED: 16387,
  NAT_DETECTION_SOURCE_IP: 16388,
  NAT_DETECTION_DESTINATION_IP: 16389,
  COOKIE: 16390,
  USE_TRANSPORT_MODE: 16391,
  HTTP_CERT_LOOKUP_SUPPORTED: 16392,
  REKEY_SA: 16393,
  ESP_TFC_PADDING_NOT_SUPPORTED: 16394,
  NON_FIRST_FRAGMENTS_ALSO: 16395,
  /** RFC 4555 (MOBIKE) */
  MOBIKE_SUPPORTED: 16396,
  ADDITIONAL_IP4_ADDRESS: 16397,
  ADDITIONAL_IP6_ADDRESS: 16398,
  NO_ADDITIONAL_ADDRESSES: 16399,
  UPDATE_SA_ADDRESSES: 16400,
  COOKIE2: 16401,
  NO_NATS_ALLOWED: 16402,
  /** RFC 4478 */
  AUTH_LIFETIME: 16403,
  /** RFC 4739 */
  MULTIPLE_AUTH_SUPPORTED: 16404,
  ANOTHER_AUTH_FOLLOWS: 16405,
  /** RFC 5685 */
  REDIRECT_SUPPORTED: 16406,
  REDIRECT: 16407,
  REDIRECTED_FROM: 16408,
  /** RFC 5723 */
  TICKET_LT_OPAQUE: 16409,
  TICKET_REQUEST: 16410,
  TICKET_ACK: 16411,
  TICKET_NACK: 16412,
  TICKET_OPAQUE: 16413,
  LINK_ID: 16414,
  USE_WESP_MODE: 16415,
  ROHC_SUPPORTED: 16416,
  /** RFC 5998 */
  EAP_ONLY_AUTHENTICATION: 16417,
  /** RFC 6023 */
  CHILDLESS_IKEV2_SUPPORTED: 16418,
  /** RFC 6290 */
  QUICK_CRASH_DETECTION: 16419,
  /** RFC 6311 */
  IKEV2_MESSAGE_ID_SYNC_SUPPORTED: 16420,
  IPSEC_REPLAY_COUNTER_SYNC_SUPPORTED: 16421,
  IKEV2_MESSAGE_ID_SYNC: 16422,
  IPSEC_REPLAY_COUNTER_SYNC: 16423,
  /** RFC 6467 */
  SECURE_PASSWORD_METHODS: 16424,
  PSK_PERSIST: 16425,
  PSK_CONFIRM: 16426,
  ERX_SUPPORTED: 16427,
  IFOM_CAPABILITY: 16428,
  SENDER_REQUEST_ID: 16429,
  /** RFC 7383 2.3 */
  IKEV2_FRAGMENTATION_SUPPORTED: 16430,
  /** RFC 7427 4 */
  SIGNATURE_HASH_ALGORITHMS: 16431,
  /** RFC 7791 */
  CLONE_IKE_SA_SUPPORTED: 16432,
  CLONE_IKE_SA: 16433,
  /** RFC 8019 */
  PUZZLE: 16434,
  /** RFC 8784 */
  USE_PPK: 16435,
  PPK_IDENTITY: 16436,
  NO_PPK_AUTH: 16437,
  /** RFC 9242 */
  INTERMEDIATE_EXCHANGE_SUPPORTED: 16438,
} as const;

/** Notify types below this value are errors (RFC 7296 3.10.1). */
export const NOTIFY_ERROR_MAX = 16383;

/** RFC 7296 3.5 ID Type (RFC 7619 adds ID_NULL). */
export { IdType } from '../../identity/id-type.js';

/** RFC 7296 3.8 Auth Method (RFC 4754, RFC 7427, RFC 7619 additions). */
export const AuthMethod = {
  RSA_DIGITAL_SIGNATURE: 1,
  SHARED_KEY_MESSAGE_INTEGRITY_CODE: 2,
  DSS_DIGITAL_SIGNATURE: 3,
  ECDSA_SHA256_P256: 9,
  ECDSA_SHA384_P384: 10,
  ECDSA_SHA512_P521: 11,
  GENERIC_SECURE_PASSWORD: 12,
  NULL_AUTH: 13,
  DIGITAL_SIGNATURE: 14,
} as const;

/** RFC 7296 3.6 Certificate Encoding. */
export const CertEncoding = {
  PKCS7_X509: 1,
  PGP: 2,
  DNS_SIGNED_KEY: 3,
  X509_CERT_SIGNATURE: 4,
  KERBEROS_TOKEN: 6,
  CRL: 7,
  ARL: 8,
  SPKI: 9,
  X509_CERT_ATTRIBUTE: 10,
  RAW_RSA_KEY: 11,
  HASH_URL_X509_CERT: 12,
  HASH_URL_X509_BUNDLE: 13,
  /** RFC 4806 */
  OCSP_CONTENT: 14,
  /** RFC 7670 */
  RAW_PUBLIC_KEY: 15,
} as const;

/** RFC 7296 3.13.1 TS Type. */
export const TsType = {
  TS_IPV4_ADDR_RANGE: 7,
  TS_IPV6_ADDR_RANGE: 8,
} as const;

/** RFC 7296 3.15 CFG Type. */
export const CfgType = {
  CFG_REQUEST: 1,
  CFG_REPLY: 2,
  CFG_SET: 3,
  CFG_ACK: 4,
} as const;

/** RFC 7296 3.15.1 Configuration Attributes (15-bit type). */
export const ConfigAttributeType = {
  INTERNAL_IP4_ADDRESS: 1,
  INTERNAL_IP4_NETMASK: 2,
  INTERNAL_IP4_DNS: 3,
  INTERNAL_IP4_NBNS: 4,
  INTERNAL_IP4_DHCP: 6,
  APPLICATION_VERSION: 7,
  INTERNAL_IP6_ADDRESS: 8,
  INTERNAL_IP6_DNS: 10,
  INTERNAL_IP6_DHCP: 12,
  INTERNAL_IP4_SUBNET: 13,
  SUPPORTED_ATTRIBUTES: 14,
  INTERNAL_IP6_SUBNET: 15,
  MIP6_HOME_PREFIX: 16,
  INTERNAL_IP6_LINK: 17,
  INTERNAL_IP6_PREFIX: 18,
  HOME_AGENT_ADDRESS: 19,
  P_CSCF_IP4_ADDRESS: 20,
  P_CSCF_IP6_ADDRESS: 21,
} as const;

/** IANA IP protocol numbers used in traffic selectors (0 = any). */
export const IpProtocol = {
  ANY: 0,
  ICMP: 1,
  TCP: 6,
  UDP: 17,
  ICMPV6: 58,
} as const;

// ---------------------------------------------------------------------------------------------------------------
// Header
// ---------------------------------------------------------------------------------------------------------------

export const IKE_HEADER_BYTES = 28;
export const IKE_SPI_BYTES = 8;
export const PAYLOAD_HEADER_BYTES = 4;

export interface IkeHeaderFlags {
  /** I: set by the original initiator of the IKE SA. */
  readonly initiator: boolean;
  /** R: this message is a response. */
  readonly response: boolean;
  /** V: sender can speak a higher major version (always false for us). */
  readonly version: boolean;
}

/** RFC 7296 3.1 IKE header. `nextPayload` and `length` are computed by the encoder. */
export interface IkeHeader {
  readonly spiI: Uint8Array;
  readonly spiR: Uint8Array;
  readonly nextPayload: number;
  readonly majorVersion: number;
  readonly minorVersion: number;
  readonly exchangeType: number;
  readonly flags: IkeHeaderFlags;
  readonly messageId: number;
  readonly length: number;
}

/** What the caller chooses when encoding; next payload and length are derived, version defaults to 2.0. */
export interface IkeHeaderInit {
  readonly spiI: Uint8Array;
  readonly spiR: Uint8Array;
  readonly exchangeType: number;
  readonly flags: IkeHeaderFlags;
  readonly messageId: number;
  readonly majorVersion?: number;
  readonly minorVersion?: number;
}

// ---------------------------------------------------------------------------------------------------------------
// Payloads
// ---------------------------------------------------------------------------------------------------------------

interface PayloadBase {
  /** Critical bit of the generic payload header (RFC 7296 3.2). */
  readonly critical: boolean;
}

/** RFC 7296 3.3.5 attribute other than Key Length; kept so a selector can reject a transform it does not understand. */
export interface TransformAttribute {
  readonly type: number;
  /** TV form (AF=1): 2-byte value; TLV form (AF=0): variable bytes. */
  readonly tv: boolean;
  readonly value: Uint8Array;
}

/** RFC 7296 3.3.2 Transform substructure. */
export interface Transform {
  /** TransformType */
  readonly type: number;
  /** Transform ID (IANA number within the type). */
  readonly id: number;
  /** Key Length attribute in bits (RFC 7296 3.3.5), when present. */
  readonly keyLength?: number;
  /** Other attributes, in wire order (rare; none defined by RFC 7296). */
  readonly attributes?: readonly TransformAttribute[];
}

/** RFC 7296 3.3.1 Proposal substructure. The "last substructure" bits are derived by the encoder. */
export interface Proposal {
  /** Proposal Num: 1 for the first proposal, then +1 (the responder echoes the chosen number). */
  readonly num: number;
  /** ProtocolId */
  readonly protocol: number;
  /** Empty for an initial IKE SA; 8 bytes for an IKE rekey; 4 bytes for ESP/AH. */
  readonly spi: Uint8Array;
  readonly transforms: readonly Transform[];
}

export interface SaPayload extends PayloadBase {
  readonly type: typeof PayloadType.SA;
  readonly proposals: readonly Proposal[];
}

/** RFC 7296 3.4 Key Exchange payload. */
export interface KePayload extends PayloadBase {
  readonly type: typeof PayloadType.KE;
  /** Diffie-Hellman Group Num (IANA Transform Type 4 id). */
  readonly group: number;
  readonly data: Uint8Array;
}

/** RFC 7296 3.5 Identification payloads IDi and IDr. */
export interface IdPayload extends PayloadBase {
  readonly type: typeof PayloadType.IDi | typeof PayloadType.IDr;
  readonly idType: number;
  readonly data: Uint8Array;
}

/** RFC 7296 3.6 Certificate payload. */
export interface CertPayload extends PayloadBase {
  readonly type: typeof PayloadType.CERT;
  readonly encoding: number;
  readonly data: Uint8Array;
}

/** RFC 7296 3.7 Certificate Request payload (data = concatenated SHA-1 hashes of CA public keys for X.509). */
export interface CertReqPayload extends PayloadBase {
  readonly type: typeof PayloadType.CERTREQ;
  readonly encoding: number;
  readonly data: Uint8Array;
}

/** RFC 7296 3.8 Authentication payload. */
export interface AuthPayload extends PayloadBase {
  readonly type: typeof PayloadType.AUTH;
  readonly method: number;
  readonly data: Uint8Array;
}

/** RFC 7296 3.9 Nonce payload (Ni / Nr): 16..256 bytes. */
export interface NoncePayload extends PayloadBase {
  readonly type: typeof PayloadType.NONCE;
  readonly data: Uint8Array;
}

/** RFC 7296 3.10 Notify payload. */
export interface NotifyPayload extends PayloadBase {
  readonly type: typeof PayloadType.NOTIFY;
  /** ProtocolId; 0 when the notify is not about a particular SA. */
  readonly protocol: number;
  /** Empty unless the notify concerns a CHILD SA (4 bytes) or, rarely, an IKE SA. */
  readonly spi: Uint8Array;
  readonly notifyType: number;
  readonly data: Uint8Array;
}

/** RFC 7296 3.11 Delete payload. For IKE the SPI size is 0 and there are no SPIs. */
export interface DeletePayload extends PayloadBase {
  readonly type: typeof PayloadType.DELETE;
  readonly protocol: number;
  readonly spiSize: number;
  readonly spis: readonly Uint8Array[];
}

/** RFC 7296 3.12 Vendor ID payload. */
export interface VendorPayload extends PayloadBase {
  readonly type: typeof PayloadType.VENDOR;
  readonly data: Uint8Array;
}

/** RFC 7296 3.13.1 Traffic Selector. Addresses are 4 bytes (TS_IPV4_ADDR_RANGE) or 16 (TS_IPV6_ADDR_RANGE). */
export interface TrafficSelector {
  readonly tsType: number;
  /** IP protocol number, 0 = any. */
  readonly ipProtocol: number;
  readonly startPort: number;
  readonly endPort: number;
  readonly startAddr: Uint8Array;
  readonly endAddr: Uint8Array;
}

/** RFC 7296 3.13 Traffic Selector payloads TSi and TSr. */
export interface TsPayload extends PayloadBase {
  readonly type: typeof PayloadType.TSi | typeof PayloadType.TSr;
  readonly selectors: readonly TrafficSelector[];
}

/** RFC 7296 3.15.1 Configuration attribute (the 15-bit type; the R bit is reserved and sent as 0). */
export interface ConfigAttribute {
  readonly type: number;
  readonly value: Uint8Array;
}

/** RFC 7296 3.15 Configuration payload. */
export interface CpPayload extends PayloadBase {
  readonly type: typeof PayloadType.CP;
  readonly cfgType: number;
  readonly attributes: readonly ConfigAttribute[];
}

/** RFC 7296 3.16 EAP payload: the whole EAP message (Code, Identifier, Length, Type, Data) kept raw. */
export interface EapPayload extends PayloadBase {
  readonly type: typeof PayloadType.EAP;
  readonly data: Uint8Array;
}

/**
 * A payload type this codec does not know, received with the critical bit clear (RFC 7296 2.5: skip it).
 * `type` is the literal 'unknown' so that switching on `type` narrows the known payloads cleanly;
 * the wire number is `payloadType`.
 */
export interface UnknownPayload extends PayloadBase {
  readonly type: 'unknown';
  readonly payloadType: number;
  readonly body: Uint8Array;
}

/** Every payload that can appear in the plaintext chain or inside SK/SKF (SK/SKF themselves are separate). */
export type Payload =
  | SaPayload
  | KePayload
  | IdPayload
  | CertPayload
  | CertReqPayload
  | AuthPayload
  | NoncePayload
  | NotifyPayload
  | DeletePayload
  | VendorPayload
  | TsPayload
  | CpPayload
  | EapPayload
  | UnknownPayload;

/** The wire number of a payload (resolves UnknownPayload). */
export function payloadTypeOf(p: Payload): number {
  return p.type === 'unknown' ? p.payloadType : p.type;
}

/**
 * The Encrypted (SK, RFC 7296 3.14) or Encrypted Fragment (SKF, RFC 7383 2.5) payload as found in a message,
 * still sealed. The integrity check / AEAD AAD covers `message[0 .. icvOffset)` (AAD for AEAD is
 * `message[0 .. ivOffset)`, RFC 5282 5.1).
 */
export interface EncryptedPayload {
  readonly type: typeof PayloadType.SK | typeof PayloadType.SKF;
  readonly critical: boolean;
  /** Next Payload field of SK/SKF = type of the first inner payload (0 in SKF fragments other than the first). */
  readonly firstInnerType: number;
  /** Offset of the SK/SKF generic payload header in the message. */
  readonly headerOffset: number;
  /** Offset of the IV (just after the SK header, or after Fragment Number/Total Fragments for SKF). */
  readonly ivOffset: number;
  /** IV | ciphertext | ICV (a view into the message). */
  readonly body: Uint8Array;
  /** SKF only (RFC 7383 2.5): 1-based fragment number and total count. */
  readonly fragmentNumber?: number;
  readonly totalFragments?: number;
}

/** A decoded message: header, plaintext payloads in order, and the sealed SK/SKF payload if there is one. */
export interface DecodedMessage {
  readonly header: IkeHeader;
  readonly payloads: readonly Payload[];
  readonly encrypted?: EncryptedPayload;
}

// ---------------------------------------------------------------------------------------------------------------
// Errors and results
// ---------------------------------------------------------------------------------------------------------------

export type IkeCodecErrorCode =
  /** The buffer ends before a structure that must be there. */
  | 'TRUNCATED'
  /** A length field is impossible (too small, past the end, disagrees with the datagram). */
  | 'BAD_LENGTH'
  /** Major version is not 2 (answer INVALID_MAJOR_VERSION, RFC 7296 2.5). */
  | 'BAD_VERSION'
  /** Unknown payload with the critical bit set (answer UNSUPPORTED_CRITICAL_PAYLOAD with `payloadType`). */
  | 'UNSUPPORTED_CRITICAL_PAYLOAD'
  /** Well-formed lengths but content or payload set not allowed (answer INVALID_SYNTAX). */
  | 'INVALID_SYNTAX'
  /** More payloads / substructures than the decoder's limit. */
  | 'TOO_MANY_PAYLOADS'
  /** ICV or AEAD tag does not verify: drop silently (RFC 7296 2.21.2). */
  | 'INTEGRITY_CHECK_FAILED'
  /** SKF reassembly: fragment inconsistent with the others (drop it). */
  | 'FRAGMENT_INVALID'
  /** SKF reassembly: limits on fragment count or bytes exceeded. */
  | 'FRAGMENT_LIMIT';

/** A typed decode failure. Plain data (no stack capture), cheap to create in the fuzz and hot paths. */
export interface IkeCodecError {
  readonly code: IkeCodecErrorCode;
  readonly message: string;
  /** Byte offset in the buffer being decoded where the problem was found. */
  readonly offset: number;
  /** The payload type concerned, when known (always set for UNSUPPORTED_CRITICAL_PAYLOAD). */
  readonly payloadType?: number;
}

export type Result<T, E = IkeCodecError> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: E };

export function ok<T>(value: T): { ok: true; value: T } {
  return { ok: true, value };
}

export function codecError(
  code: IkeCodecErrorCode,
  message: string,
  offset: number,
  payloadType?: number,
): { ok: false; error: IkeCodecError } {
  const error: IkeCodecError = payloadType === undefined ? { code, message, offset } : { code, message, offset, payloadType };
  return { ok: false, error };
}

/**
 * Thrown by the encoder only for a programming error in the caller's model (a field out of range, a length that
 * cannot be expressed). Decoding never throws.
 */
export class IkeEncodeError extends CodedError<'ENCODE_INVALID'> {
  constructor(message: string) {
    super('ENCODE_INVALID', message);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// SK keys (a minimal interface that src/crypto/suite.ts createEncryption / createIntegrity satisfy)
// ---------------------------------------------------------------------------------------------------------------

/**
 * Encryption side of SK_e, taking the IV as it appears on the wire: a structural subset of the EncryptionContext
 * returned by src/crypto/suite.ts createEncryption (which builds the AEAD nonce salt | IV and the AES-CTR counter
 * block itself), so that object can be passed as is.
 */
export type SkEncryption =
  | {
      /** AEAD (RFC 5282, RFC 7634): the tag is the ICV and no integrity transform is used. */
      readonly aead: true;
      /** 8 for every IKE AEAD. */
      readonly ivBytes: number;
      readonly icvBytes: number;
      /** Returns ciphertext | ICV. */
      seal(iv: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Uint8Array;
      /** Returns the plaintext, or null when the ICV does not verify. */
      open(iv: Uint8Array, aad: Uint8Array, sealed: Uint8Array): Uint8Array | null;
    }
  | {
      readonly aead: false;
      /** CBC: the block size; AES-CTR (RFC 5930): 8. */
      readonly ivBytes: number;
      /** Padding alignment: the CBC block size; 1 for AES-CTR. */
      readonly blockBytes: number;
      encrypt(iv: Uint8Array, data: Uint8Array): Uint8Array;
      decrypt(iv: Uint8Array, data: Uint8Array): Uint8Array;
    };

/** Integrity side of SK_a (truncated MAC, RFC 7296 3.14). */
export interface SkIntegrity {
  /** Truncated ICV length (e.g. 16 for AUTH_HMAC_SHA2_256_128). */
  readonly icvBytes: number;
  compute(parts: readonly Uint8Array[], out?: Uint8Array): Uint8Array;
  verify(parts: readonly Uint8Array[], icv: Uint8Array): boolean;
}

/**
 * The keys protecting one direction of an IKE SA (SK_ei/SK_ai or SK_er/SK_ar); integrity is absent for AEAD.
 * `{ encryption: createEncryption(...), integrity: createIntegrity(...) }` from src/crypto/suite.ts fits.
 */
export interface SkKeys {
  readonly encryption: SkEncryption;
  readonly integrity?: SkIntegrity;
}
