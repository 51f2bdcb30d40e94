/**
 * IKEv2 wire model: the IKE header and one typed object per payload; the IANA numbers with their RFC names are in
 * numbers.ts (re-exported here, so importers see one module).
 *
 * Everything here is data; the layouts live in payloads.ts, the per-exchange rules in rules.ts.
 * Numbers follow the IANA "Internet Key Exchange Version 2 (IKEv2) Parameters" registry (RFC 7296 section 3).
 */
import { CodedError } from '../../util/coded-error.js';

export * from './numbers.js';
import { PayloadType } from './numbers.js';

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
