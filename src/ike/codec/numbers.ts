/**
 * IKEv2 IANA numbers with their RFC names, from the "Internet Key Exchange Version 2 (IKEv2) Parameters"
 * registry (RFC 7296 section 3). Data only; re-exported by types.ts.
 */

/** RFC 7296 3.1 Exchange Type. */
export const ExchangeType = {
  IKE_SA_INIT: 34,
  IKE_AUTH: 35,
  CREATE_CHILD_SA: 36,
  INFORMATIONAL: 37,
  /** RFC 9242 */
  IKE_INTERMEDIATE: 43,
  /** RFC 9370 2.2.4: additional key exchanges of a CREATE_CHILD_SA */
  IKE_FOLLOWUP_KE: 44,
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
  /** RFC 9370 2.2.4 */
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
  /** RFC 9370 2.2.4: links IKE_FOLLOWUP_KE exchanges to their CREATE_CHILD_SA */
  ADDITIONAL_KEY_EXCHANGE: 16441,
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
