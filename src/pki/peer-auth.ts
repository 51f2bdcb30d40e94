/**
 * The certificate side of IKE_AUTH in two calls, so the exchange code stays small:
 *   - `certPayloadsToSend`: which X.509 certificates go into CERT payloads (RFC 7296 3.6; swanctl send_cert),
 *   - `authenticatePeer`: CERT payloads + ID + AUTH of the peer -> accepted (with its certificate and chain) or a
 *     refusal with a code and a message for the log (RFC 7296 2.15; RFC 4945 3.1 for the ID binding).
 * Plus the CERTREQ codec (RFC 7296 3.7): a list of 20-octet SHA-1 hashes of CA SubjectPublicKeyInfos.
 */
import type { Identity } from '../identity/index.js';
import { parseCertificate, type Certificate } from './certificate.js';
import { isPkiError, PkiError } from './errors.js';
import { verifyAuth, type VerifyAuthOptions } from './auth.js';
import { certMatchesId, validateChain, type TrustStore, type ValidationCode, type ValidationOptions } from './validate.js';
import type { SignatureScheme } from './sigalg.js';

/** CERT payload Cert Encoding for "X.509 Certificate - Signature" (RFC 7296 3.6). */
export const CERT_ENCODING_X509_SIGNATURE = 4;

/** Splits CERTREQ Certification Authority data into 20-octet SHA-1 hashes (RFC 7296 3.7). */
export function decodeCertreq(data: Uint8Array): Uint8Array[] {
  if (data.length % 20 !== 0) throw new PkiError('BAD_ENCODING', `CERTREQ data of ${data.length} octets is not a list of 20-octet SHA-1 hashes`);
  const out: Uint8Array[] = [];
  for (let i = 0; i < data.length; i += 20) out.push(data.slice(i, i + 20));
  return out;
}

export type SendCertPolicy = 'always' | 'ifasked' | 'never';

/**
 * The DER certificates to put into CERT payloads, end entity first, then the intermediates (never the root a
 * peer must already trust). `peerSentCertreq`: whether the peer's message carried a CERTREQ (strongSwan's
 * `send_cert = ifasked` sends on any CERTREQ, matching or not).
 */
export function certPayloadsToSend(cert: Certificate, intermediates: readonly Certificate[], policy: SendCertPolicy, peerSentCertreq: boolean): Uint8Array[] {
  if (policy === 'never' || (policy === 'ifasked' && !peerSentCertreq)) return [];
  return [cert.der, ...intermediates.filter((c) => !c.selfSigned).map((c) => c.der)];
}

export type PeerAuthCode = ValidationCode | 'ID_NOT_IN_CERT' | 'BAD_CERT' | 'NO_CERT' | 'BAD_AUTH';

export type PeerAuthResult =
  | {
      readonly ok: true;
      readonly cert: Certificate;
      readonly chain: readonly Certificate[];
      readonly scheme: SignatureScheme;
      readonly warnings: readonly string[];
    }
  | { readonly ok: false; readonly code: PeerAuthCode; readonly message: string };

export interface PeerAuthInput {
  /** Cert Data of the peer's CERT payloads with encoding 4, in order (end entity first). */
  readonly certPayloads: readonly Uint8Array[];
  /** Certificates configured for this peer (swanctl remote.certs), used when it sends none. */
  readonly knownCerts?: readonly Certificate[];
  readonly store: TrustStore;
  readonly now: number;
  /** The peer's IDi/IDr. */
  readonly peerId: Identity;
  readonly method: number;
  readonly authData: Uint8Array;
  /** InitiatorSignedOctets / ResponderSignedOctets for the peer's side. */
  readonly signedOctets: Uint8Array;
  readonly constraints?: VerifyAuthOptions;
  readonly validation?: ValidationOptions;
}

/** Steps: parse CERTs -> ID bound to the certificate -> chain to a trusted CA (with CRLs) -> AUTH signature. */
export function authenticatePeer(input: PeerAuthInput): PeerAuthResult {
  let certs: Certificate[];
  try {
    certs = input.certPayloads.map((d, i) => parseCertificate(d, `CERT payload ${i + 1}`));
  } catch (e) {
    if (!isPkiError(e)) throw e;
    return { ok: false, code: 'BAD_CERT', message: `the peer sent an unusable certificate: ${e.message}` };
  }
  let leaf = certs[0];
  const intermediates = certs.slice(1);
  if (!leaf) {
    leaf = input.knownCerts?.find((c) => certMatchesId(c, input.peerId).ok);
    if (!leaf)
      return {
        ok: false,
        code: 'NO_CERT',
        message: 'the peer sent no certificate and none is configured for it (remote certs); have it send its certificate (send_cert) or configure it',
      };
  }
  const id = certMatchesId(leaf, input.peerId);
  if (!id.ok) return id;
  const chain = validateChain(leaf, intermediates, input.store, input.now, input.validation);
  if (!chain.ok) return { ok: false, code: chain.code, message: chain.message };
  const auth = verifyAuth(leaf, input.method, input.authData, input.signedOctets, input.constraints);
  if (!auth.ok) return { ok: false, code: 'BAD_AUTH', message: auth.reason };
  return { ok: true, cert: leaf, chain: chain.chain, scheme: auth.scheme, warnings: chain.warnings };
}
