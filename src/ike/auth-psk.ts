/**
 * Pre-shared key authentication (RFC 7296 section 2.15):
 *
 *   InitiatorSignedOctets = RealMessage1 | NonceRData | MACedIDForI,  MACedIDForI = prf(SK_pi, RestOfInitIDPayload)
 *   ResponderSignedOctets = RealMessage2 | NonceIData | MACedIDForR,  MACedIDForR = prf(SK_pr, RestOfRespIDPayload)
 *   AUTH = prf( prf(Shared Secret, "Key Pad for IKEv2"), <SignedOctets> )
 *
 * RestOfIDPayload is the ID payload body after the generic header: ID Type (1) | RESERVED (3) | data.
 */
import type { Prf } from '../crypto/prf.js';
import { constantTimeEqual } from '../crypto/ct.js';
import type { Identity } from './identity.js';

const KEY_PAD = new TextEncoder().encode('Key Pad for IKEv2');

export function restOfIdPayload(id: Identity): Uint8Array {
  const out = new Uint8Array(4 + id.data.length);
  out[0] = id.type;
  out.set(id.data, 4);
  return out;
}

/** The octets an AUTH covers for one side (the same for PSK and signatures). */
export function signedOctets(prf: Prf, realMessage: Uint8Array, peerNonce: Uint8Array, skP: Uint8Array, id: Identity): Uint8Array {
  const maced = prf.compute(skP, restOfIdPayload(id));
  const out = new Uint8Array(realMessage.length + peerNonce.length + maced.length);
  out.set(realMessage, 0);
  out.set(peerNonce, realMessage.length);
  out.set(maced, realMessage.length + peerNonce.length);
  return out;
}

export function pskAuth(prf: Prf, psk: Uint8Array, octets: Uint8Array): Uint8Array {
  return prf.compute(prf.compute(psk, KEY_PAD), octets);
}

export function verifyPskAuth(prf: Prf, psk: Uint8Array, octets: Uint8Array, received: Uint8Array): boolean {
  return constantTimeEqual(pskAuth(prf, psk, octets), received);
}
