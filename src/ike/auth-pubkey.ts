/**
 * Public-key authentication in IKE_AUTH (RFC 7296 2.15, 3.6, 3.7; RFC 7427; RFC 4754): our CERT payloads and AUTH
 * signature, and the checks on the peer's: chain to a trusted CA at the current time (validity, constraints,
 * CRLs), its identity in the certificate, and the signature over the signed octets. Each refusal names the cause.
 */
import { CertEncoding, PayloadType, type AuthPayload, type CertPayload, type Payload } from './codec/types.js';
import type { IkeConnectionConfig, Credentials } from './config.js';
import { formatIdentity, IdType, type Identity } from './identity.js';
import {
  certMatchesId,
  describeAuth,
  parseCertificate,
  sameCertificate,
  signAuth,
  validateChain,
  verifyAuth,
  type Certificate,
} from '../pki/index.js';

/** Our identity with certificates: the configured one, or the certificate's subject DN (strongSwan's default). */
export function certIdentity(conn: IkeConnectionConfig): Identity | undefined {
  const leaf = conn.local.certs?.[0];
  return leaf ? { type: IdType.ID_DER_ASN1_DN, data: leaf.subject.der } : undefined;
}

/**
 * CERT payloads to send: our certificate, then the intermediates, per send_cert (RFC 7296 3.6). A self-signed root
 * after the end entity is never sent: the peer must already trust it, so it only costs bytes and fragments.
 */
export function certPayloads(conn: IkeConnectionConfig, peerAsked: boolean): CertPayload[] {
  const send = conn.sendCert === 'always' || (conn.sendCert === 'ifasked' && peerAsked);
  if (!send) return [];
  return (conn.local.certs ?? [])
    .filter((c, i) => i === 0 || !c.selfSigned)
    .map((c) => ({ type: PayloadType.CERT, critical: false, encoding: CertEncoding.X509_CERT_SIGNATURE, data: c.der }));
}

/** A CERTREQ naming our trust anchors by the SHA-1 of their public key info (RFC 7296 3.7). */
export function certreqPayload(creds: Credentials, conn: IkeConnectionConfig): Payload | undefined {
  if (!conn.sendCertreq || conn.remote.method !== 'pubkey' || !creds.trust) return undefined;
  const data = creds.trust.certreqData();
  if (data.length === 0) return undefined;
  return { type: PayloadType.CERTREQ, critical: false, encoding: CertEncoding.X509_CERT_SIGNATURE, data };
}

export type SignResult = { ok: true; auth: AuthPayload; label: string } | { ok: false; message: string };

export function signWithCert(creds: Credentials, conn: IkeConnectionConfig, octets: Uint8Array, peerHashes: readonly number[] | undefined): SignResult {
  const leaf = conn.local.certs?.[0];
  if (!leaf)
    return {
      ok: false,
      message:
        conn.local.id.type === 0
          ? `connection '${conn.name}' uses auth = pubkey but has no certificate: name it with local certs = FILE (under x509/), or set local id to an identity a loaded certificate contains`
          : `connection '${conn.name}' uses auth = pubkey but has no certificate: name it with local certs = FILE (under x509/), or load one (x509/, pkcs12/) that contains id '${formatIdentity(conn.local.id)}', with its private key`,
    };
  const key = creds.privateKeyFor?.(leaf);
  if (!key) return { ok: false, message: `no private key found for certificate '${leaf.subject.text}' (put it under private/)` };
  const kw = conn.local.keyword;
  try {
    const s = signAuth(key, octets, { ...(kw?.scheme ? { scheme: kw.scheme } : {}), ...(kw?.hashes ? { hashes: kw.hashes } : {}), ...(peerHashes ? { peerHashes } : {}) });
    return { ok: true, auth: { type: PayloadType.AUTH, critical: false, method: s.method, data: s.data }, label: describeAuth(s.method, s.scheme) };
  } catch (e) {
    return { ok: false, message: `signing AUTH with '${leaf.subject.text}' failed: ${(e as Error).message}` };
  }
}

export type VerifyResult = { ok: true; label: string; subject: string } | { ok: false; message: string };

/**
 * Checks the peer's CERT payloads, identity and AUTH signature. `epochMs` is the current time for validity.
 */
export function verifyPeerCert(
  creds: Credentials,
  conn: IkeConnectionConfig,
  payloads: readonly Payload[],
  auth: AuthPayload,
  octets: Uint8Array,
  peerId: Identity,
  epochMs: number,
): VerifyResult {
  const certs: Certificate[] = [];
  for (const p of payloads) {
    if (p.type !== PayloadType.CERT) continue;
    if (p.encoding !== CertEncoding.X509_CERT_SIGNATURE) continue;
    try {
      certs.push(parseCertificate(p.data, 'CERT payload'));
    } catch (e) {
      return { ok: false, message: `peer sent an unreadable certificate: ${(e as Error).message}` };
    }
  }
  // swanctl `remote { certs = ... }`: with send_cert = never the peer's certificate comes from here (RFC 7296
  // 3.6 makes CERT optional); when it does send one, it must be one of these (charon's subject-cert constraint).
  const known = conn.remote.certs ?? [];
  const leaf = certs[0] ?? known.find((c) => certMatchesId(c, peerId).ok);
  if (!leaf)
    return {
      ok: false,
      message:
        known.length === 0
          ? 'peer sent no certificate (CERT payload), and none is configured for it (remote certs); have it send its certificate (send_cert) or configure it'
          : `peer sent no certificate (CERT payload), and none of the connection's remote certs (${known.map((c) => `"${c.subject.text}"`).join(', ')}) contains its identity`,
    };
  if (certs[0] && known.length > 0 && !known.some((c) => sameCertificate(c, leaf)))
    return { ok: false, message: `certificate '${leaf.subject.text}' is not one of the connection's remote certs (${known.map((c) => `"${c.subject.text}"`).join(', ')})` };
  if (!creds.trust) return { ok: false, message: `no trusted CA certificates configured (x509ca/) to verify '${leaf.subject.text}'` };
  const v = validateChain(leaf, certs.slice(1), creds.trust, epochMs);
  if (!v.ok) return { ok: false, message: `certificate '${leaf.subject.text}' refused (${v.code}): ${v.message}` };
  const pinned = conn.remote.cacerts;
  if (pinned && pinned.length > 0) {
    // validateChain's chain runs from the leaf to its trust anchor; an empty one (never returned) fails closed.
    const anchor = v.chain.at(-1);
    if (anchor === undefined) return { ok: false, message: `certificate '${leaf.subject.text}' validated without a chain to check against cacerts` };
    if (!pinned.some((c) => sameCertificate(c, anchor)))
      return {
        ok: false,
        message: `certificate '${leaf.subject.text}' chains to '${anchor.subject.text}', which is not in the connection's cacerts (${pinned.map((c) => `'${c.subject.text}'`).join(', ')})`,
      };
  }
  // The ID is compared with the subject and SANs as structures (src/identity), never as printed text.
  const m = certMatchesId(leaf, peerId);
  if (!m.ok) return { ok: false, message: conn.remote.id.type !== 0 ? `${m.message} (configured remote id '${formatIdentity(conn.remote.id)}')` : m.message };
  const kw = conn.remote.keyword;
  // The remote auth keyword (rsa-2048, ecdsa-384, rsa/pss, -sha384...) constrains the peer's signature whole.
  const a = verifyAuth(leaf, auth.method, auth.data, octets, kw ?? {});
  if (!a.ok) return { ok: false, message: a.reason };
  return { ok: true, label: describeAuth(auth.method, a.scheme), subject: leaf.subject.text };
}
