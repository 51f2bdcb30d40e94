/**
 * Typed errors of the RADIUS codec and client (issue 14). Every malformed datagram, bad authenticator or broken
 * key attribute maps to one code and a message naming what and where (byte offset, attribute), never a crash.
 */
import { CodedError } from '../util/coded-error.js';

export type RadiusErrorCode =
  /** Shorter than the 20-byte header (RFC 2865 3), or than its own Length field. */
  | 'TRUNCATED'
  /** Length field below 20 or above 4096 (RFC 2865 3). */
  | 'BAD_LENGTH'
  /** An attribute whose Length is below 2 or runs past the packet (RFC 2865 5). */
  | 'BAD_ATTRIBUTE'
  /** A Vendor-Specific attribute shorter than its Vendor-Id, or a sub-attribute overrunning it (RFC 2865 5.26). */
  | 'BAD_VSA'
  /** A packet too large to encode, or an attribute value over 253 bytes. */
  | 'TOO_BIG'
  /** Response Authenticator (RFC 2865 3) does not match. */
  | 'BAD_AUTHENTICATOR'
  /** Message-Authenticator (RFC 3579 3.2) missing where required, of the wrong size, or not matching. */
  | 'BAD_MESSAGE_AUTHENTICATOR'
  /** MS-MPPE-Send/Recv-Key (RFC 2548 2.4.2/2.4.3) that does not decrypt to a key. */
  | 'BAD_MPPE_KEY'
  /** A value given to an encoder that it cannot represent (User-Password over 128 bytes, ...). */
  | 'BAD_VALUE';

export class RadiusError extends CodedError<RadiusErrorCode> {}
