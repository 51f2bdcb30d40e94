/**
 * RADIUS packet integrity: the Request Authenticator of Accounting-Request (RFC 2866 3), the Response
 * Authenticator (RFC 2865 3), Message-Authenticator (RFC 3579 3.2, HMAC-MD5) and User-Password hiding (RFC 2865
 * 5.2). These work on the encoded bytes: what is verified is exactly what came off the wire.
 */
import { Attr, codeName, RadiusCode } from './constants.js';
import { RadiusError } from './errors.js';
import { equalBytes, hmacMd5, md5 } from './md5.js';
import { encodePacket, type RadiusPacket } from './packet.js';

/** Offsets of the values of every attribute of `type` in an encoded packet (already length-checked by decode). */
function attributeOffsets(bytes: Uint8Array, type: number): number[] {
  const len = Math.min(bytes.length, ((bytes[2] ?? 0) << 8) | (bytes[3] ?? 0));
  const out: number[] = [];
  let off = 20;
  while (off + 2 <= len) {
    const alen = bytes[off + 1] ?? 0;
    if (alen < 2) break;
    if (bytes[off] === type) out.push(off + 2);
    off += alen;
  }
  return out;
}

function packetBytes(bytes: Uint8Array): Uint8Array {
  const len = ((bytes[2] ?? 0) << 8) | (bytes[3] ?? 0);
  return bytes.length === len ? bytes : bytes.subarray(0, len);
}

/**
 * RFC 3579 3.2: HMAC-MD5 keyed with the secret over the whole packet with the Message-Authenticator value as 16
 * zero octets and, in a response, the Request Authenticator in place of the Response Authenticator. Written into
 * `bytes` in place; `authenticatorForMac` is the value the Authenticator field holds while the MAC is computed.
 */
function writeMessageAuthenticator(bytes: Uint8Array, secret: Uint8Array, authenticatorForMac: Uint8Array): void {
  const [at, ...more] = attributeOffsets(bytes, Attr.MESSAGE_AUTHENTICATOR);
  if (at === undefined) return;
  if (more.length > 0) throw new RadiusError('BAD_MESSAGE_AUTHENTICATOR', 'more than one Message-Authenticator attribute');
  const work = bytes.slice();
  work.set(authenticatorForMac, 4);
  work.fill(0, at, at + 16);
  bytes.set(hmacMd5(secret, work), at);
}

/**
 * Encodes an Access-Request (RFC 2865 3: the Request Authenticator is `requestAuthenticator`, random and unique)
 * and fills in its Message-Authenticator if the packet carries one (16 octets, any value).
 */
export function encodeAccessRequest(p: RadiusPacket, secret: Uint8Array): Uint8Array {
  const bytes = encodePacket(p);
  writeMessageAuthenticator(bytes, secret, p.authenticator);
  return bytes;
}

/**
 * Encodes an Accounting-Request (RFC 2866 3): the Request Authenticator is MD5(Code + Identifier + Length + 16
 * zero octets + attributes + secret). `p.authenticator` is ignored.
 */
export function encodeAccountingRequest(p: RadiusPacket, secret: Uint8Array): Uint8Array {
  const bytes = encodePacket({ ...p, authenticator: new Uint8Array(16) });
  writeMessageAuthenticator(bytes, secret, new Uint8Array(16));
  bytes.set(md5(bytes, secret), 4);
  return bytes;
}

/**
 * Encodes a response (Access-Accept/Reject/Challenge, Accounting-Response) to the request whose authenticator is
 * `requestAuthenticator`: Message-Authenticator first (RFC 3579 3.2), then the Response Authenticator
 * MD5(Code + ID + Length + RequestAuth + Attributes + Secret) (RFC 2865 3). Used by tests acting as a server.
 */
export function encodeResponse(p: RadiusPacket, requestAuthenticator: Uint8Array, secret: Uint8Array): Uint8Array {
  const bytes = encodePacket({ ...p, authenticator: requestAuthenticator });
  writeMessageAuthenticator(bytes, secret, requestAuthenticator);
  bytes.set(md5(bytes, secret), 4);
  return bytes;
}

/**
 * Checks a received response against the request it answers: the Response Authenticator (RFC 2865 3), and the
 * Message-Authenticator (RFC 3579 3.2), which must be present when the response carries EAP-Message. Throws
 * RadiusError BAD_AUTHENTICATOR or BAD_MESSAGE_AUTHENTICATOR naming what failed.
 */
export function verifyResponse(received: Uint8Array, requestAuthenticator: Uint8Array, secret: Uint8Array): void {
  const bytes = packetBytes(received);
  const work = bytes.slice();
  work.set(requestAuthenticator, 4);
  const expected = md5(work, secret);
  const code = bytes[0] ?? 0;
  if (!equalBytes(expected, bytes.subarray(4, 20))) {
    throw new RadiusError('BAD_AUTHENTICATOR', `${codeName(code)} Response-Authenticator verification failed (wrong shared secret, or not an answer to our request)`);
  }
  verifyMessageAuthenticator(bytes, requestAuthenticator, secret);
}

/** Checks the Message-Authenticator of a request or response (RFC 3579 3.2). */
export function verifyMessageAuthenticator(received: Uint8Array, authenticatorForMac: Uint8Array, secret: Uint8Array): void {
  const bytes = packetBytes(received);
  const code = bytes[0] ?? 0;
  const offsets = attributeOffsets(bytes, Attr.MESSAGE_AUTHENTICATOR);
  const hasEap = attributeOffsets(bytes, Attr.EAP_MESSAGE).length > 0;
  if (offsets.length === 0) {
    if (hasEap) throw new RadiusError('BAD_MESSAGE_AUTHENTICATOR', `${codeName(code)} carries EAP-Message without Message-Authenticator (RFC 3579 3.2 requires it)`);
    return;
  }
  if (offsets.length > 1) throw new RadiusError('BAD_MESSAGE_AUTHENTICATOR', `${codeName(code)} has ${offsets.length} Message-Authenticator attributes`);
  const at = offsets[0] ?? 0;
  const alen = bytes[at - 1] ?? 0;
  if (alen !== 18) throw new RadiusError('BAD_MESSAGE_AUTHENTICATOR', `${codeName(code)} Message-Authenticator has ${alen - 2} octets, not 16`);
  const work = bytes.slice();
  work.set(authenticatorForMac, 4);
  work.fill(0, at, at + 16);
  if (!equalBytes(hmacMd5(secret, work), bytes.subarray(at, at + 16))) {
    throw new RadiusError('BAD_MESSAGE_AUTHENTICATOR', `${codeName(code)} Message-Authenticator verification failed`);
  }
}

/**
 * Checks an Accounting-Request's Request Authenticator (RFC 2866 3), as a server does. Used by tests.
 */
export function verifyAccountingRequest(received: Uint8Array, secret: Uint8Array): boolean {
  const bytes = packetBytes(received);
  if (bytes[0] !== RadiusCode.ACCOUNTING_REQUEST) return false;
  const work = bytes.slice();
  work.fill(0, 4, 20);
  return equalBytes(md5(work, secret), bytes.subarray(4, 20));
}

/**
 * RFC 2865 5.2 User-Password hiding: the password padded with zeros to a multiple of 16 octets (at most 128),
 * c(1) = p(1) xor MD5(S + RA), c(i) = p(i) xor MD5(S + c(i-1)).
 */
export function hidePassword(password: Uint8Array, secret: Uint8Array, requestAuthenticator: Uint8Array): Uint8Array {
  if (password.length > 128) throw new RadiusError('BAD_VALUE', `User-Password of ${password.length} octets is over RFC 2865 5.2's 128`);
  const len = Math.max(16, Math.ceil(password.length / 16) * 16);
  const out = new Uint8Array(len);
  out.set(password);
  let prev = requestAuthenticator;
  for (let i = 0; i < len; i += 16) {
    const b = md5(secret, prev);
    for (let j = 0; j < 16; j++) out[i + j] = (out[i + j] ?? 0) ^ (b[j] ?? 0);
    prev = out.subarray(i, i + 16);
  }
  return out;
}

/** The inverse of hidePassword, trailing zero padding removed. */
export function unhidePassword(hidden: Uint8Array, secret: Uint8Array, requestAuthenticator: Uint8Array): Uint8Array {
  if (hidden.length === 0 || hidden.length % 16 !== 0 || hidden.length > 128) {
    throw new RadiusError('BAD_VALUE', `User-Password of ${hidden.length} octets is not a multiple of 16 up to 128 (RFC 2865 5.2)`);
  }
  const out = new Uint8Array(hidden.length);
  let prev = requestAuthenticator;
  for (let i = 0; i < hidden.length; i += 16) {
    const b = md5(secret, prev);
    for (let j = 0; j < 16; j++) out[i + j] = (hidden[i + j] ?? 0) ^ (b[j] ?? 0);
    prev = hidden.subarray(i, i + 16);
  }
  let end = out.length;
  while (end > 0 && out[end - 1] === 0) end--;
  return out.slice(0, end);
}
