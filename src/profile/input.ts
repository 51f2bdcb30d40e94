/**
 * What every client profile is written from: one road-warrior connection of the gateway seen from the client's
 * side (where to connect, who the gateway is, how the user authenticates, the proposals, lifetimes, DPD, what
 * goes through the tunnel) plus the credentials to install. from-config.ts fills it from a swanctl.conf; the
 * writers (mobileconfig.ts, windows.ts, sswan.ts) turn it into text.
 */
import type { ProposalEntry } from './algorithms.js';

/**
 * How the client authenticates to the gateway (the gateway's `remote { auth = ... }`):
 *  - `eap`: user name and password; `method` is strongSwan's eap-<method> suffix (`mschapv2`, `md5`, `radius`
 *    when the gateway relays to RADIUS, `dynamic`, or `` for plain `eap`);
 *  - `eap-tls`: a user certificate inside EAP (RFC 5216);
 *  - `pubkey`: a certificate signature in IKE_AUTH itself (RFC 7296 2.15, RFC 7427).
 * The gateway always authenticates with its certificate: no client here does EAP-only server authentication.
 */
export type ClientAuth = { readonly kind: 'eap'; readonly method: string } | { readonly kind: 'eap-tls' } | { readonly kind: 'pubkey' };

/** The user's credentials, from a PKCS#12 (`cygnet pki --pkcs12 --create`). */
export interface ClientPkcs12 {
  readonly der: Uint8Array;
  /** Written into formats that carry it (Apple's pkcs12 payload); otherwise the device asks for it. */
  readonly password: string | undefined;
  /** Apple's CertificateType for the key: RSA, ECDSA256, ECDSA384, ECDSA521 (undefined: another key type). */
  readonly keyType: 'RSA' | 'ECDSA256' | 'ECDSA384' | 'ECDSA521' | undefined;
  /** The certificate's subject, as strongSwan prints it. */
  readonly subject: string;
}

export interface ClientCa {
  readonly der: Uint8Array;
  readonly subject: string;
  /** The subject's commonName, for Apple's ServerCertificateIssuerCommonName (a CERTREQ for this CA). */
  readonly commonName: string | undefined;
}

export interface ClientProfileInput {
  /** The connection's name in the gateway's file. */
  readonly connection: string;
  /** What the user sees (default: the server's name). */
  readonly displayName: string;
  /** Address or DNS name the client connects to. */
  readonly server: string;
  /** The gateway's IKE port (its local_port; 500 unless changed). */
  readonly port: number;
  /** The gateway's IKE identity, which the client checks (RFC 7296 3.5) and matches with the certificate. */
  readonly serverId: string;
  readonly auth: ClientAuth;
  /** The client's identity (certificate users) or EAP user name; undefined: the device asks. */
  readonly user: string | undefined;
  /** The gateway's IKE and ESP proposals in its order of preference, `default` expanded. */
  readonly ikeProposals: readonly ProposalEntry[];
  readonly espProposals: readonly ProposalEntry[];
  /** ms: the gateway's IKE rekey (or reauthentication) interval, 0 when neither. */
  readonly ikeRekeyMs: number;
  /** ms: the CHILD SA's rekey_time. */
  readonly childRekeyMs: number;
  /** ms: the gateway's dpd_delay; 0 when it does not check liveness. */
  readonly dpdDelayMs: number;
  /**
   * What the gateway tunnels for the client (its child's local_ts, address/prefix or first-last), without the
   * full-tunnel selectors 0.0.0.0/0 and ::/0, which `fullTunnel` says instead.
   */
  readonly subnets: readonly string[];
  readonly fullTunnel: { readonly v4: boolean; readonly v6: boolean };
  /** Families the gateway's pools hand out addresses of. */
  readonly poolFamilies: { readonly v4: boolean; readonly v6: boolean };
  /** DNS servers of the connection's pools. */
  readonly dns: readonly string[];
  readonly ca: ClientCa;
  readonly pkcs12: ClientPkcs12 | undefined;
}

/** A written profile: the file's text and what the administrator should know about it (one line each). */
export interface ProfileOutput {
  readonly text: string;
  readonly notes: readonly string[];
}

/** Whether the client authenticates with a certificate (and so needs the PKCS#12). */
export function usesCertificate(auth: ClientAuth): boolean {
  return auth.kind !== 'eap';
}
