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
import { certPayloads, signWithCert, verifyPeerCert } from './auth-pubkey.js';

/** The octets our AUTH covers: RealMessage of our IKE_SA_INIT | peer's nonce | prf(SK_p, our ID). */
export function ourOctets(sa: KeyedIkeSa): Uint8Array {
  const k = sa.keys;
  return sa.initiator ? signedOctets(k.prf, sa.initRequest, sa.Nr, k.SK_pi, sa.localId) : signedOctets(k.prf, sa.initResponse, sa.Ni, k.SK_pr, sa.localId);
}

function peerOctets(sa: KeyedIkeSa, peerId: Identity): Uint8Array {
  const k = sa.keys;
  return sa.initiator ? signedOctets(k.prf, sa.initResponse, sa.Ni, k.SK_pr, peerId) : signedOctets(k.prf, sa.initRequest, sa.Nr, k.SK_pi, peerId);
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
