/**
 * Numbers of the ESP data plane: IANA transform ids (RFC 7296 section 3.3.2 / IANA "IKEv2 Parameters"), next header
 * values, result statuses and drop reasons. Drop reasons are small integers so counters are typed-array slots.
 */

/** IANA Transform Type 1 (encryption algorithm) ids the engine implements. */
export const ENCR_3DES = 3;
export const ENCR_NULL = 11;
export const ENCR_AES_CBC = 12;
export const ENCR_AES_CTR = 13;
export const ENCR_AES_GCM_8 = 18;
export const ENCR_AES_GCM_12 = 19;
export const ENCR_AES_GCM_16 = 20;
export const ENCR_CHACHA20_POLY1305 = 28;

/** IANA Transform Type 3 (integrity algorithm) ids. 0 = NONE (AEAD, or the RFC 3602 test packets). */
export const AUTH_NONE = 0;
export const AUTH_HMAC_SHA1_96 = 2;
export const AUTH_AES_XCBC_96 = 5;
export const AUTH_AES_CMAC_96 = 8;
export const AUTH_HMAC_SHA2_256_128 = 12;
export const AUTH_HMAC_SHA2_384_192 = 13;
export const AUTH_HMAC_SHA2_512_256 = 14;

/** Next Header values (IANA protocol numbers) the tunnel-mode engine deals with (RFC 4303 section 2.6). */
export const NH_IPV4 = 4;
export const NH_IPV6 = 41;
/** RFC 4303 section 2.6: "No Next Header", a dummy packet for traffic flow confidentiality. */
export const NH_NO_NEXT = 59;

/** ESP header: SPI (4) | Sequence Number (4) (RFC 4303 section 2). */
export const ESP_HEADER_BYTES = 8;
/** UDP header in front of ESP when encapsulated (RFC 3948 section 2.1). */
export const UDP_HEADER_BYTES = 8;
/** RFC 3948 section 2.2: the non-ESP marker in front of IKE messages on port 4500. */
export const NON_ESP_MARKER_BYTES = 4;

/** What happened to one packet of an `encapsulate` batch. */
export const EncapStatus = {
  /** `buffer[offset, offset + length)` is the ESP packet to send to the SA's peer. */
  Send: 0,
  /** No SA yet for a `protect` policy: ask IKE to negotiate one (the selector is in `acquire`). */
  Acquire: 1,
  /** Dropped; `reason` says why. */
  Drop: 2,
  /** A `bypass` policy matched: the packet may leave unprotected (the driver decides what that means). */
  Bypass: 3,
} as const;
export type EncapStatus = (typeof EncapStatus)[keyof typeof EncapStatus];

/** What happened to one datagram of a `decapsulate` batch. */
export const DecapStatus = {
  /** `buffer[offset, offset + length)` is the inner IP packet, received on `sa`. */
  Deliver: 0,
  /** The datagram is an IKE message (non-ESP marker stripped): `buffer[offset, offset + length)`. */
  Ike: 1,
  /** A NAT-keepalive (RFC 3948 section 2.3): nothing to do. */
  Keepalive: 2,
  /** Dropped; `reason` says why. */
  Drop: 3,
} as const;
export type DecapStatus = (typeof DecapStatus)[keyof typeof DecapStatus];

/**
 * Drop reasons. Each has a counter in the engine and, where an SA is known, in the SA. Stable numbers: append
 * only.
 */
export const DropReason = {
  None: 0,
  /** Datagram shorter than an ESP header + IV + ICV + trailer, or a ciphertext that is not whole blocks. */
  Malformed: 1,
  /** No inbound SA with this SPI (RFC 4303 section 3.4.2). */
  UnknownSpi: 2,
  /** Sequence number already seen or left of the window (RFC 4303 section 3.4.3). */
  Replay: 3,
  /** ICV did not verify (RFC 4303 section 3.4.4). */
  IcvFailure: 4,
  /** Pad Length/padding bytes not the 1, 2, 3, ... sequence RFC 4303 section 2.4 prescribes. */
  BadPadding: 5,
  /** Next Header not 4 or 41 in tunnel mode (and not 59). */
  BadNextHeader: 6,
  /** Inner packet addresses/ports outside the SA's selectors (RFC 4301 section 5.2 step 4). */
  PolicyViolation: 7,
  /** A dummy packet (Next Header 59, RFC 4303 section 2.6): dropped silently on purpose, counted. */
  Dummy: 8,
  /** Inner IP packet header unparsable or its length exceeds the payload. */
  BadInnerPacket: 9,
  /** The SA hit a hard lifetime (bytes, packets or sequence numbers) and is waiting to be removed. */
  SaExpired: 10,
  /** A `discard` policy matched, or the outbound SA is gone. */
  PolicyDiscard: 11,
  /** The packet is not IPv4 or IPv6, or too short for its header. */
  BadOuterPacket: 12,
  /** Packet too large for the output buffer pool. */
  TooBig: 13,
  /** The crypto backend threw (should not happen; counted so it is visible). */
  CryptoError: 14,
  /** A `protect` policy has no SA and an ACQUIRE for it was already reported recently. */
  NoSa: 15,
  /** No policy matched the outbound packet (RFC 4301 section 5.1: the SPD default is discard). */
  NoPolicy: 16,
  /** A delivered inner packet the TUN device would not take (its queue was full); counted by the driver. */
  TunFull: 17,
} as const;
export type DropReason = (typeof DropReason)[keyof typeof DropReason];

export const DROP_REASON_COUNT = 18;

export const DROP_REASON_NAMES: readonly string[] = [
  'none',
  'malformed',
  'unknown-spi',
  'replay',
  'icv-failure',
  'bad-padding',
  'bad-next-header',
  'policy-violation',
  'dummy',
  'bad-inner-packet',
  'sa-expired',
  'policy-discard',
  'bad-outer-packet',
  'too-big',
  'crypto-error',
  'no-sa',
  'no-policy',
  'tun-full',
];
