/**
 * MS-CHAPv2 (RFC 2759 section 8) and its MPPE keys (RFC 3079 section 3), as EAP-MSCHAPv2 uses them: the
 * NT-Response proves the peer knows the password, the Authenticator Response proves the server does, and the
 * MSK handed to IKE (RFC 7296 2.16) is MasterReceiveKey || MasterSendKey || 32 zero octets (the authenticator's
 * MS-MPPE-Recv-Key and Send-Key, as strongSwan's eap_mschapv2.c and Windows build it; [MS-CHAP] 3.1.5.1).
 */
import { createCipheriv, createHash } from 'node:crypto';
import { concatBytes } from '../crypto/bytes.js';
import { md4 } from './md4.js';

const sha1 = (...parts: Uint8Array[]): Uint8Array => {
  const h = createHash('sha1');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
};
const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

/**
 * NtPasswordHash (RFC 2759 8.3): MD4 over the password in UTF-16LE ("Unicode"). strongSwan widens each byte of
 * the secret to two octets, which is the same for ASCII passwords; UTF-16LE is what Windows hashes otherwise.
 */
export function ntPasswordHash(password: string): Uint8Array {
  const units = new Uint8Array(password.length * 2);
  for (let i = 0; i < password.length; i++) {
    const c = password.charCodeAt(i);
    units[2 * i] = c & 0xff;
    units[2 * i + 1] = c >> 8;
  }
  return md4(units);
}

/** HashNtPasswordHash (RFC 2759 8.4). */
export function hashNtPasswordHash(passwordHash: Uint8Array): Uint8Array {
  return md4(passwordHash);
}

/**
 * The user name that enters ChallengeHash (RFC 2759 8.2): "the user's logon name, without any domain", i.e. the
 * part after a backslash in DOMAIN\user (as strongSwan's extract_username).
 */
export function mschapUserName(name: string): string {
  const i = name.indexOf('\\');
  return i < 0 ? name : name.slice(i + 1);
}

/** ChallengeHash (RFC 2759 8.2): the first 8 octets of SHA1(PeerChallenge || AuthenticatorChallenge || UserName). */
export function challengeHash(peerChallenge: Uint8Array, authenticatorChallenge: Uint8Array, userName: string): Uint8Array {
  return sha1(peerChallenge, authenticatorChallenge, ascii(mschapUserName(userName))).slice(0, 8);
}

/** A 7-octet key spread over 8 DES key octets (the low bit of each is parity, ignored by DES). */
function desKey(k7: Uint8Array): Uint8Array {
  const out = new Uint8Array(8);
  let bits = 0n;
  for (const b of k7) bits = (bits << 8n) | BigInt(b);
  for (let i = 0; i < 8; i++) out[i] = Number((bits >> BigInt(49 - 7 * i)) & 0x7fn) << 1;
  return out;
}

/**
 * DesEncrypt (RFC 2759 8.6). OpenSSL 3 moved single DES to the legacy provider that Node does not load, but two-key
 * triple DES (EDE) with K1 = K2 is E_K(D_K(E_K(x))) = E_K(x): single DES from the default provider.
 */
function desEncrypt(clear: Uint8Array, key7: Uint8Array): Uint8Array {
  const k = desKey(key7);
  const c = createCipheriv('des-ede-ecb', concatBytes([k, k]), null);
  c.setAutoPadding(false);
  return new Uint8Array(Buffer.concat([c.update(clear), c.final()]));
}

/** ChallengeResponse (RFC 2759 8.5): the challenge DES-encrypted under three 7-octet pieces of the zero-padded hash. */
export function challengeResponse(challenge: Uint8Array, passwordHash: Uint8Array): Uint8Array {
  const z = new Uint8Array(21);
  z.set(passwordHash);
  return concatBytes([desEncrypt(challenge, z.subarray(0, 7)), desEncrypt(challenge, z.subarray(7, 14)), desEncrypt(challenge, z.subarray(14, 21))]);
}

/** GenerateNTResponse (RFC 2759 8.1) from the NT password hash. */
export function generateNtResponse(authenticatorChallenge: Uint8Array, peerChallenge: Uint8Array, userName: string, passwordHash: Uint8Array): Uint8Array {
  return challengeResponse(challengeHash(peerChallenge, authenticatorChallenge, userName), passwordHash);
}

const MAGIC1 = ascii('Magic server to client signing constant');
const MAGIC2 = ascii('Pad to make it do more than one iteration');

/** GenerateAuthenticatorResponse (RFC 2759 8.7): "S=" and 40 upper-case hex digits. */
export function generateAuthenticatorResponse(
  passwordHash: Uint8Array,
  ntResponse: Uint8Array,
  peerChallenge: Uint8Array,
  authenticatorChallenge: Uint8Array,
  userName: string,
): string {
  const digest = sha1(hashNtPasswordHash(passwordHash), ntResponse, MAGIC1);
  const final = sha1(digest, challengeHash(peerChallenge, authenticatorChallenge, userName), MAGIC2);
  return `S=${Buffer.from(final).toString('hex').toUpperCase()}`;
}

// RFC 3079 3.4
const MPPE_MAGIC1 = ascii('This is the MPPE Master Key');
const MPPE_MAGIC2 = ascii('On the client side, this is the send key; on the server side, it is the receive key.');
const MPPE_MAGIC3 = ascii('On the client side, this is the receive key; on the server side, it is the send key.');
const SHS_PAD1 = new Uint8Array(40);
const SHS_PAD2 = new Uint8Array(40).fill(0xf2);

/** GetMasterKey (RFC 3079 3.4). */
export function getMasterKey(passwordHashHash: Uint8Array, ntResponse: Uint8Array): Uint8Array {
  return sha1(passwordHashHash, ntResponse, MPPE_MAGIC1).slice(0, 16);
}

/** GetAsymmetricStartKey (RFC 3079 3.4): the send or receive start key of the client or the server. */
export function getAsymmetricStartKey(masterKey: Uint8Array, keyLength: 8 | 16, isSend: boolean, isServer: boolean): Uint8Array {
  const magic = isSend === isServer ? MPPE_MAGIC3 : MPPE_MAGIC2;
  return sha1(masterKey, SHS_PAD1, magic, SHS_PAD2).slice(0, keyLength);
}

/** GetNewKeyFromSHA (RFC 3079 3.4 / RFC 3078 7.3): an MPPE session key from a start key (for the 3.5 samples). */
export function getNewKeyFromSha(startKey: Uint8Array, sessionKey: Uint8Array, keyLength: 8 | 16): Uint8Array {
  return sha1(startKey.subarray(0, keyLength), SHS_PAD1, sessionKey.subarray(0, keyLength), SHS_PAD2).slice(0, keyLength);
}

/** RFC 3079 3.1/3.2: 40- and 56-bit keys overwrite their first octets with the fixed salt 0xD1 0x26 0x9E. */
export function reduceSessionKey(key64: Uint8Array, bits: 40 | 56): Uint8Array {
  const out = Uint8Array.from(key64);
  out[0] = 0xd1;
  if (bits === 40) {
    out[1] = 0x26;
    out[2] = 0x9e;
  }
  return out;
}

/**
 * The EAP-MSCHAPv2 MSK (64 octets): MasterReceiveKey || MasterSendKey || 32 zeros, both keys from the
 * authenticator's side of RFC 3079 3.3, so the peer computes the same bytes ([MS-CHAP] 3.1.5.1, eap_mschapv2.c
 * GenerateMSK).
 */
export function mschapv2Msk(passwordHash: Uint8Array, ntResponse: Uint8Array): Uint8Array {
  const master = getMasterKey(hashNtPasswordHash(passwordHash), ntResponse);
  const receive = getAsymmetricStartKey(master, 16, false, true);
  const send = getAsymmetricStartKey(master, 16, true, true);
  return concatBytes([receive, send, new Uint8Array(32)]);
}
