/**
 * The EAP sessions IKE_AUTH drives (RFC 7296 2.16): the gateway is the EAP server (authenticator, RFC 3748 1.2) or
 * a pass-through to RADIUS (RFC 3579), the client is the EAP peer. A session turns one received EAP packet into
 * one EapStep; it never touches sockets or clocks (sans-IO), so IKE, RADIUS relays and tests drive it alike.
 */
import type { RandomSource } from '../crypto/random.js';

/** What one EAP round produced (RFC 3748 4): a packet to carry in the next IKE_AUTH message, or the outcome. */
export type EapStep =
  | { readonly kind: 'send'; readonly eap: Uint8Array }
  | { readonly kind: 'success'; readonly eap?: Uint8Array; readonly msk?: Uint8Array } // MSK feeds AUTH (RFC 7296 2.16)
  | { readonly kind: 'failure'; readonly eap?: Uint8Array; readonly reason: string };

/** The gateway side (EAP server / authenticator, or a pass-through to RADIUS). Async because RADIUS and TLS are. */
export interface EapServerSession {
  /** First request: EAP-Identity, or the method's first request when eap_id is known. */
  start(): Promise<EapStep>;
  /** A peer's EAP-Response. */
  process(eap: Uint8Array): Promise<EapStep>;
  /** The EAP identity once known (for the aaa/eap identity checks and logs). */
  readonly identity: string | undefined;
  /** 'mschapv2' | 'tls' | 'md5' | ... once chosen, for logs. */
  readonly method: string | undefined;
}

/** The client side (EAP peer): answers each EAP-Request, ends on EAP-Success/Failure. */
export interface EapPeerSession {
  process(eap: Uint8Array): Promise<EapStep>;
  readonly method: string | undefined;
}

/**
 * A user's secret from swanctl.conf `secrets`: `eap-NAME { id, secret }` is a password, `ntlm-NAME { id, secret }`
 * the NT hash MD4(UTF-16LE(password)) (RFC 2759 8.3), usable by MSCHAPv2 only.
 */
export type EapSecret =
  | { readonly kind: 'password'; readonly password: string }
  | { readonly kind: 'nthash'; readonly hash: Uint8Array };

/**
 * Looks up the secret shared with `peer` (the EAP identity). `own` is our identity, as strongSwan's
 * get_shared(SHARED_EAP, me, other) also matches secrets listing both ids. Undefined: no such user.
 */
export type EapSecretLookup = (peer: string, own: string) => EapSecret | undefined;

/** Method names as swanctl.conf's `auth = eap-NAME` spells them (eap-dynamic/eap choose among the others). */
export type EapMethodName = 'md5' | 'mschapv2' | 'tls' | (string & {});

/**
 * A method implemented outside the sans-IO core (EAP-TLS over node:tls lives in src/eap-tls): the server session
 * creates one per conversation once the method is chosen. `process` receives the whole EAP-Response packet.
 */
export interface EapMethodServer {
  readonly type: number;
  /** The first EAP-Request of this method (identifier assigned by the caller). */
  initiate(identifier: number): Promise<Uint8Array>;
  process(eap: Uint8Array): Promise<EapStep>;
}
export interface EapMethodPeer {
  readonly type: number;
  /** An EAP-Request of this method: the Response to send, or a failure (with a last Response to send, if any). */
  process(eap: Uint8Array): Promise<EapStep>;
  /** EAP-Success arrived: success with the MSK if the method completed (and, if mutual, verified the server). */
  finish(): EapStep;
}
export interface EapMethodPlugin {
  readonly name: EapMethodName;
  readonly type: number;
  /** identity: the peer's EAP identity (server side) or our own (peer side); ownIdentity: the other one. */
  server?(identity: string, ownIdentity: string): EapMethodServer;
  peer?(identity: string, serverIdentity: string): EapMethodPeer;
}

export interface EapServerOptions {
  /** The peer's IKE identity (IDi as text): the EAP identity when eapId is not configured (strongSwan's default). */
  readonly ikeIdentity: string;
  /** swanctl remote `eap_id`: '%any' (or absent together with askIdentity) sends EAP-Identity first. */
  readonly eapId?: string;
  /** Methods in preference order: one for `eap-NAME`, several for `eap-dynamic`/`eap`. */
  readonly methods: readonly EapMethodName[];
  /** Our identity (for secret lookups and MSCHAPv2's server Name). */
  readonly ownIdentity: string;
  readonly random: RandomSource;
  readonly secrets?: EapSecretLookup;
  /** EAP-MD5 is for tests only (RFC 3748 5.4 offers no mutual auth, no MSK): refused unless this is true. */
  readonly allowMd5?: boolean;
  /** Methods implemented outside src/eap (EAP-TLS from src/eap-tls). */
  readonly plugins?: readonly EapMethodPlugin[];
}

export interface EapPeerOptions {
  /** Our EAP identity (swanctl local `eap_id`, default our IKE identity). */
  readonly identity: string;
  /** The gateway's identity (for secret lookups). */
  readonly serverIdentity: string;
  /** Methods we accept (one for `eap-NAME`, several for `eap`); a request for another one is answered with a Nak. */
  readonly methods: readonly EapMethodName[];
  readonly random: RandomSource;
  readonly secrets?: EapSecretLookup;
  readonly allowMd5?: boolean;
  readonly plugins?: readonly EapMethodPlugin[];
}
