/**
 * Our AUTH and the check of the peer's, whatever the method: pre-shared key (RFC 7296 2.15) or public key with
 * certificates (RFC 7296 2.15, RFC 7427). The exchanges call these two and stay method-agnostic.
 */
import { AuthMethod, PayloadType, type AuthPayload, type Payload } from './codec/types.js';
import type { IkeConnectionConfig } from './config.js';
import type { EndpointContext } from './context.js';
import type { KeyedIkeSa } from './ike-sa.js';
import { formatIdentity, type Identity } from './identity.js';
import { pskAuth, signedOctets, verifyPskAuth } from './auth-psk.js';
import { concatBytes } from '../crypto/bytes.js';
import { intAuthForAuth } from './intermediate-auth.js';
import { certPayloads, signWithCert, verifyPeerCert } from './auth-pubkey.js';

/** The octets our AUTH covers: RealMessage of our IKE_SA_INIT | peer's nonce | prf(SK_p, our ID). */
export function ourOctets(sa: KeyedIkeSa, id: Identity = sa.localId): Uint8Array {
  const k = sa.keys;
  return withIntAuth(sa, sa.initiator ? signedOctets(k.prf, sa.initRequest, sa.Nr, k.SK_pi, id) : signedOctets(k.prf, sa.initResponse, sa.Ni, k.SK_pr, id));
}

/** RFC 9242 3.3.2: after IKE_INTERMEDIATE exchanges both sides' signed octets end with IntAuth (empty otherwise). */
function withIntAuth(sa: KeyedIkeSa, octets: Uint8Array): Uint8Array {
  const t = intAuthForAuth(sa);
  return t.length === 0 ? octets : concatBytes([octets, t]);
}

function peerOctets(sa: KeyedIkeSa, peerId: Identity): Uint8Array {
  const k = sa.keys;
  return withIntAuth(sa, sa.initiator ? signedOctets(k.prf, sa.initResponse, sa.Ni, k.SK_pr, peerId) : signedOctets(k.prf, sa.initRequest, sa.Nr, k.SK_pi, peerId));
}

/** Our AUTH payload, the CERT payloads that go with it (pubkey), and how we say it in logs. */
export type OurAuth = { ok: true; certs: Payload[]; auth: AuthPayload; payloads: Payload[]; label: string } | { ok: false; message: string };

/** CERT payloads (pubkey) and AUTH for us, with `peerId` the identity we authenticate to (for the PSK lookup). */
export function buildOurAuth(ctx: EndpointContext, sa: KeyedIkeSa, conn: IkeConnectionConfig, peerId: Identity): OurAuth {
  if (conn.local.method === 'psk') {
    const psk = ctx.credentials.sharedKey(sa.localId, peerId);
    if (!psk) return { ok: false, message: `no shared key found for '${formatIdentity(sa.localId)}' - '${formatIdentity(peerId)}'` };
    const auth: AuthPayload = { type: PayloadType.AUTH, critical: false, method: AuthMethod.SHARED_KEY_MESSAGE_INTEGRITY_CODE, data: pskAuth(sa.keys.prf, psk, ourOctets(sa)) };
    return { ok: true, certs: [], auth, payloads: [auth], label: 'pre-shared key' };
  }
  const s = signWithCert(ctx.credentials, conn, ourOctets(sa), sa.peerHashes);
  if (!s.ok) return s;
  const certs = certPayloads(conn, sa.peerCertreq);
  return { ok: true, certs, auth: s.auth, payloads: [...certs, s.auth], label: s.label };
}

export type PeerAuth = { ok: true; label: string } | { ok: false; message: string };

/** Checks the peer's AUTH (and certificates) for `conn`'s remote auth method. */
export function checkPeerAuth(ctx: EndpointContext, sa: KeyedIkeSa, conn: IkeConnectionConfig, payloads: readonly Payload[], auth: AuthPayload, peerId: Identity, now: number): PeerAuth {
  const who = formatIdentity(peerId);
  // EAP is checked by checkEapAuth with the EAP key; an AUTH made otherwise never satisfies an EAP round.
  if (conn.remote.method === 'eap') return { ok: false, message: `peer '${who}' sent AUTH, but connection '${conn.name}' authenticates it with EAP (remote auth = eap...)` };
  if (conn.remote.method === 'psk') {
    if (auth.method !== AuthMethod.SHARED_KEY_MESSAGE_INTEGRITY_CODE)
      return { ok: false, message: `peer '${who}' authenticates with AUTH method ${auth.method}, but connection '${conn.name}' expects a pre-shared key (remote auth = psk)` };
    const psk = ctx.credentials.sharedKey(sa.localId, peerId);
    if (!psk) return { ok: false, message: `no shared key found for '${formatIdentity(sa.localId)}' - '${who}'` };
    if (!verifyPskAuth(sa.keys.prf, psk, peerOctets(sa, peerId), auth.data))
      return {
        ok: false,
        message: `pre-shared key authentication of '${who}' failed: the key configured for '${formatIdentity(sa.localId)}' <-> '${who}' differs from the peer's, or the peer computed AUTH for other identities`,
      };
    return { ok: true, label: 'pre-shared key' };
  }
  if (auth.method === AuthMethod.SHARED_KEY_MESSAGE_INTEGRITY_CODE)
    return { ok: false, message: `peer '${who}' authenticates with a pre-shared key, but connection '${conn.name}' expects a certificate signature (remote auth = pubkey)` };
  const v = verifyPeerCert(ctx.credentials, conn, payloads, auth, peerOctets(sa, peerId), peerId, now + ctx.settings.epochOffsetMs);
  if (!v.ok) return { ok: false, message: `authentication of '${who}' failed: ${v.message}` };
  return { ok: true, label: v.label };
}

/**
 * The EAP key that AUTH is computed with after an EAP conversation (RFC 7296 2.16): the MSK when the method made one,
 * otherwise SK_pi for the initiator's AUTH and SK_pr for the responder's.
 */
function eapAuthKey(sa: KeyedIkeSa, msk: Uint8Array | undefined, initiatorsAuth: boolean): Uint8Array {
  if (msk && msk.length > 0) return msk;
  return initiatorsAuth ? sa.keys.SK_pi : sa.keys.SK_pr;
}

/**
 * Our AUTH after EAP (RFC 7296 2.16): prf(prf(key, "Key Pad for IKEv2"), <our signed octets>), key from eapAuthKey;
 * `id` is the IDi of the round (RFC 4739: a second round has its own).
 */
export function buildEapAuth(sa: KeyedIkeSa, msk: Uint8Array | undefined, id: Identity = sa.localId): AuthPayload {
  const key = eapAuthKey(sa, msk, sa.initiator);
  return { type: PayloadType.AUTH, critical: false, method: AuthMethod.SHARED_KEY_MESSAGE_INTEGRITY_CODE, data: pskAuth(sa.keys.prf, key, ourOctets(sa, id)) };
}

/** Checks the peer's AUTH after EAP (RFC 7296 2.16), computed over its signed octets with the EAP key. */
export function checkEapAuth(sa: KeyedIkeSa, msk: Uint8Array | undefined, auth: AuthPayload, peerId: Identity): PeerAuth {
  const who = formatIdentity(peerId);
  if (auth.method !== AuthMethod.SHARED_KEY_MESSAGE_INTEGRITY_CODE)
    return { ok: false, message: `AUTH of '${who}' after EAP uses method ${auth.method}, RFC 7296 2.16 requires the shared key method (2)` };
  const key = eapAuthKey(sa, msk, !sa.initiator);
  if (!verifyPskAuth(sa.keys.prf, key, peerOctets(sa, peerId), auth.data))
    return { ok: false, message: `AUTH of '${who}' after EAP does not verify with the ${msk?.length ? 'EAP MSK' : 'SK_p key (the method made no MSK)'}` };
  return { ok: true, label: msk?.length ? 'EAP MSK' : 'EAP (no MSK)' };
}
