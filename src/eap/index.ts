/** EAP for IKEv2 (RFC 7296 2.16): server and peer sessions, the packet codec and the built-in methods. */
export * from './types.js';
export { EapError, type EapErrorCode } from './errors.js';
export { decodeEap, encodeEap, encodeEapResult, encodeNak, decodeNak, decodeIdentity, EapCode, EapType, eapTypeName, type EapPacket } from './packet.js';
export { EapServer } from './server.js';
export { EapPeer } from './peer.js';
export { md4 } from './md4.js';
export * as mschapv2 from './mschapv2-crypto.js';
export { eapSecretLookup, eapSecretProblem, type EapSecretEntry } from './secrets.js';
