/**
 * MS-MPPE-Send-Key and MS-MPPE-Recv-Key (RFC 2548 2.4.2, 2.4.3): the EAP method's keys, hidden with the shared
 * secret and the Request Authenticator of the Access-Request the Access-Accept answers. The MSK for IKEv2's AUTH
 * (RFC 7296 2.16) is Recv-Key || Send-Key, zero-padded to 64 octets, exactly as strongSwan's radius_socket.c
 * decrypt_msk() builds it (RFC 3748 keys as RFC 2548 carries them: the server's Recv-Key is the MSK's first half).
 */
import { MS_MPPE_RECV_KEY, MS_MPPE_SEND_KEY, VENDOR_MICROSOFT } from './constants.js';
import { RadiusError } from './errors.js';
import { md5 } from './md5.js';
import { vendorAttr, vendorAttributes, type RadiusAttribute, type RadiusPacket } from './packet.js';

/**
 * Decrypts one key attribute's value (Salt(2) + String). RFC 2548 2.4.2: b(1) = MD5(S + R + A), p(i) = c(i) xor
 * b(i), b(i) = MD5(S + c(i-1)); the plaintext is Key-Length(1) + Key + padding.
 */
export function decryptMppeKey(value: Uint8Array, secret: Uint8Array, requestAuthenticator: Uint8Array, name = 'MS-MPPE key'): Uint8Array {
  const salt = value.subarray(0, 2);
  const c = value.subarray(2);
  if (value.length < 2 + 16 || c.length % 16 !== 0) {
    throw new RadiusError('BAD_MPPE_KEY', `${name}: ${c.length} octets of encrypted string after the salt is not a non-zero multiple of 16 (RFC 2548 2.4.2)`);
  }
  const p = new Uint8Array(c.length);
  let b = md5(secret, requestAuthenticator, salt);
  for (let i = 0; i < c.length; i += 16) {
    for (let j = 0; j < 16; j++) p[i + j] = (c[i + j] ?? 0) ^ (b[j] ?? 0);
    b = md5(secret, c.subarray(i, i + 16));
  }
  const keyLen = p[0] ?? 0;
  if (keyLen === 0 || keyLen > p.length - 1) {
    throw new RadiusError('BAD_MPPE_KEY', `${name}: decrypted key length ${keyLen} does not fit ${p.length - 1} octets (wrong shared secret or request authenticator?)`);
  }
  return p.slice(1, 1 + keyLen);
}

/** The inverse (a server's side), for tests and round trips: `salt` with its top bit set, as RFC 2548 requires. */
export function encryptMppeKey(key: Uint8Array, secret: Uint8Array, requestAuthenticator: Uint8Array, salt: Uint8Array): Uint8Array {
  if (salt.length !== 2) throw new RadiusError('BAD_VALUE', 'MPPE salt must be 2 octets');
  if (key.length === 0 || key.length > 255) throw new RadiusError('BAD_VALUE', `MPPE key of ${key.length} octets`);
  const plainLen = Math.ceil((key.length + 1) / 16) * 16;
  const p = new Uint8Array(plainLen);
  p[0] = key.length;
  p.set(key, 1);
  const out = new Uint8Array(2 + plainLen);
  out.set(salt);
  out[0] = (out[0] ?? 0) | 0x80;
  let b = md5(secret, requestAuthenticator, out.subarray(0, 2));
  for (let i = 0; i < plainLen; i += 16) {
    for (let j = 0; j < 16; j++) out[2 + i + j] = (p[i + j] ?? 0) ^ (b[j] ?? 0);
    b = md5(secret, out.subarray(2 + i, 2 + i + 16));
  }
  return out;
}

/** MS-MPPE-Send-Key / Recv-Key attributes for a test server's Access-Accept. */
export function mppeKeyAttributes(sendKey: Uint8Array, recvKey: Uint8Array, secret: Uint8Array, requestAuthenticator: Uint8Array, salts: readonly [Uint8Array, Uint8Array]): RadiusAttribute[] {
  return [
    vendorAttr(VENDOR_MICROSOFT, MS_MPPE_SEND_KEY, encryptMppeKey(sendKey, secret, requestAuthenticator, salts[0])),
    vendorAttr(VENDOR_MICROSOFT, MS_MPPE_RECV_KEY, encryptMppeKey(recvKey, secret, requestAuthenticator, salts[1])),
  ];
}

/**
 * The MSK an Access-Accept carries: Recv-Key || Send-Key, zero-padded to 64 octets (strongSwan's decrypt_msk), or
 * undefined when either key is absent (a method that derives no keys, like EAP-MD5). Throws RadiusError on a key
 * attribute that does not decrypt or a malformed Vendor-Specific attribute.
 */
export function mskFromAccept(accept: RadiusPacket, secret: Uint8Array, requestAuthenticator: Uint8Array): Uint8Array | undefined {
  let send: Uint8Array | undefined;
  let recv: Uint8Array | undefined;
  for (const v of vendorAttributes(accept)) {
    if (v.vendor !== VENDOR_MICROSOFT) continue;
    if (v.type === MS_MPPE_SEND_KEY) send = decryptMppeKey(v.value, secret, requestAuthenticator, 'MS-MPPE-Send-Key');
    else if (v.type === MS_MPPE_RECV_KEY) recv = decryptMppeKey(v.value, secret, requestAuthenticator, 'MS-MPPE-Recv-Key');
  }
  if (!send || !recv) return undefined;
  const msk = new Uint8Array(Math.max(64, recv.length + send.length));
  msk.set(recv);
  msk.set(send, recv.length);
  return msk;
}
