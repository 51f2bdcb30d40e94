/**
 * What the IKE endpoint needs to know about a connection: already parsed and validated. The daemon maps
 * swanctl.conf (src/config) onto this; library users can build it directly. Durations are milliseconds.
 */
import type { Proposal } from '../crypto/proposals.js';
import type { Identity } from './identity.js';
import type { ConfiguredTs } from './traffic-selector.js';
import type { RetransmitSettings } from './retransmit.js';
import type { Certificate, PrivateKey, PubkeyAuthKeyword, TrustStore } from '../pki/index.js';

/** A UDP endpoint: an IPv4/IPv6 address in text form and a port. */
export interface Address {
  readonly address: string;
  readonly port: number;
}

export type AuthMethodName = 'psk' | 'pubkey' | 'eap';

/**
 * swanctl `auth = eap[-method]`, `eap_id`, `aaa_id` (RFC 7296 2.16): what src/eap's EapServer/EapPeer need. The
 * AUTH payload of an EAP round is computed from the method's MSK (or SK_pi/SK_pr for methods without one).
 */
export interface EapAuthConfig {
  /**
   * Methods as swanctl names them, in preference order: ['mschapv2'] for eap-mschapv2, several for eap-dynamic
   * and `eap` (the peer may choose among them, RFC 3748 5.3.1 Nak); ['radius'] for eap-radius (src/radius relays).
   */
  readonly methods: readonly string[];
  /**
   * `eap_id`. Remote: '%any' asks the client for its EAP-Identity; another value is the identity used without
   * asking; undefined uses the IKE identity (strongSwan's default). Local: our EAP identity, default our IKE id.
   */
  readonly eapId?: string;
  /** `aaa_id` (remote, client side): the identity the EAP/AAA server must prove, default the gateway's IKE id. */
  readonly aaaId?: string;
}

export interface AuthConfig {
  readonly method: AuthMethodName;
  /** Our identity (local) or the identity we accept (remote; ANY_IDENTITY = %any). */
  readonly id: Identity;
  /** pubkey: the swanctl `auth` keyword's constraints (rsa/pss, -sha384, key type...). */
  readonly keyword?: PubkeyAuthKeyword;
  /**
   * local pubkey: our certificate, then intermediates to send (swanctl `certs`). remote pubkey: the peer
   * certificates we accept (used when the peer sends none, e.g. send_cert = never; a sent one must be among them).
   */
  readonly certs?: readonly Certificate[];
  /** remote pubkey: only chains ending at one of these CAs are accepted (swanctl `cacerts`). */
  readonly cacerts?: readonly Certificate[];
  /** method 'eap': the EAP methods and identities of this round. */
  readonly eap?: EapAuthConfig;
}

export type StartAction = 'none' | 'trap' | 'start';
export type DpdAction = 'clear' | 'trap' | 'restart';
export type CloseAction = 'none' | 'clear' | 'trap' | 'start';

export interface ChildConfig {
  readonly name: string;
  readonly localTs: readonly ConfiguredTs[];
  readonly remoteTs: readonly ConfiguredTs[];
  /** ESP proposals; a KE transform in one means PFS for CREATE_CHILD_SA (it is ignored in IKE_AUTH, RFC 7296 1.2). */
  readonly espProposals: readonly Proposal[];
  readonly mode: 'tunnel';
  readonly startAction: StartAction;
  readonly dpdAction: DpdAction;
  readonly closeAction: CloseAction;
  readonly rekeyTimeMs: number;
  readonly lifeTimeMs: number;
  readonly randTimeMs: number;
  readonly rekeyBytes: number;
  readonly lifeBytes: number;
  readonly rekeyPackets: number;
  readonly lifePackets: number;
  /** Anti-replay window in packets; 0 disables it. */
  readonly replayWindow: number;
  /** Inbound ESP padding values checked (RFC 4303 2.4); default true (config key esp_padding_check). */
  readonly espPaddingCheck?: boolean;
}

export interface IkeConnectionConfig {
  readonly name: string;
  /** Addresses or '%any'. */
  readonly localAddrs: readonly string[];
  readonly remoteAddrs: readonly string[];
  readonly localPort: number;
  readonly remotePort: number;
  /** IKE proposals in preference order. */
  readonly proposals: readonly Proposal[];
  readonly local: AuthConfig;
  readonly remote: AuthConfig;
  /**
   * Authentication rounds after the first (RFC 4739, swanctl `local-2`, `remote-2`): the initiator authenticates
   * again in further IKE_AUTH exchanges, e.g. a machine certificate, then the user with EAP.
   */
  readonly moreLocal?: readonly AuthConfig[];
  readonly moreRemote?: readonly AuthConfig[];
  readonly children: readonly ChildConfig[];
  /**
   * Force UDP encapsulation by sending a NAT_DETECTION_SOURCE_IP that cannot match (as strongSwan's encap = yes).
   * cygnet's ESP runs in userspace and can only ride UDP 4500, so this defaults to true.
   */
  readonly encap: boolean;
  /** RFC 4555 MOBIKE: announce support in IKE_AUTH (swanctl `mobike`, default yes as strongSwan). */
  readonly mobike?: boolean;
  /** RFC 7383 fragmentation: announce support. */
  readonly fragmentation: boolean;
  readonly fragmentSize: number;
  readonly dpdDelayMs: number;
  readonly rekeyTimeMs: number;
  readonly reauthTimeMs: number;
  readonly overTimeMs: number;
  readonly randTimeMs: number;
  readonly keyingTries: number;
  readonly unique: 'no' | 'never' | 'keep' | 'replace';
  readonly vips: readonly string[];
  readonly pools: readonly string[];
  /**
   * RFC 8784 post-quantum preshared key (swanctl `ppk_id`, strongSwan 6): the initiator sends USE_PPK and this
   * PPK_ID (its PPK from `secrets.ppk<suffix>`); a responder looks the PPK up by the ID the initiator sends.
   */
  readonly ppkId?: string;
  /** swanctl `ppk_required` (default no): no IKE SA without a PPK; no NO_PPK_AUTH fallback is offered or accepted. */
  readonly ppkRequired?: boolean;
  /** When to send our certificate: always, when the peer sent a CERTREQ (ifasked, the default), never. */
  readonly sendCert: 'always' | 'ifasked' | 'never';
  /** Send CERTREQ payloads for our trusted CAs (default yes). */
  readonly sendCertreq: boolean;
}

/** Pre-shared keys and (later) private keys, looked up by identities. */
export interface Credentials {
  /** The PSK shared by `local` and `remote`, best match first as strongSwan's secrets lookup does. */
  sharedKey(local: Identity, remote: Identity): Uint8Array | undefined;
  /** The private key matching a certificate of ours (swanctl `private/`). */
  privateKeyFor?(cert: Certificate): PrivateKey | undefined;
  /** RFC 8784: the PPK with this PPK_ID (the octets after the PPK ID type; swanctl `secrets.ppk<suffix> { id, secret }`). */
  ppk?(id: Uint8Array): Uint8Array | undefined;
  /** Whether any PPK is configured (a responder announces USE_PPK then, RFC 8784 3). */
  hasPpk?(): boolean;
  /** Trust anchors and CRLs (swanctl `x509ca/`, `x509crl/`). */
  readonly trust?: TrustStore;
}

export interface EndpointSettings {
  readonly retransmit: RetransmitSettings;
  /**
   * Half-open IKE SAs after which the responder demands COOKIEs (RFC 7296 2.6); strongSwan's cookie_threshold.
   * 0 turns it off, as in strongSwan. All admission limits: src/ike/limits.ts.
   */
  readonly cookieThreshold: number;
  /** Half-open IKE SAs from one address after which it must send COOKIEs (strongSwan's cookie_threshold_ip); 0 = off. */
  readonly cookieThresholdIp: number;
  /**
   * Half-open IKE SAs one peer address may hold before its requests are ignored (strongSwan's block_threshold);
   * 0 = off. Raised to cookieThresholdIp + 1 when not above it, as strongSwan does.
   */
  readonly blockThreshold: number;
  /** Half-open IKE SAs in all beyond which IKE_SA_INIT is ignored (strongSwan's init_limit_half_open); 0 = off. */
  readonly initLimitHalfOpen: number;
  /** IKE SAs in all beyond which IKE_SA_INIT is ignored (strongSwan's ikesa_limit); 0 = off. */
  readonly ikesaLimit: number;
  /** The cookie secret is replaced after this long; cookies made with the previous one stay valid (RFC 7296 2.6). */
  readonly cookieSecretLifetimeMs: number;
  /** How long a half-open IKE SA may live before it is dropped (strongSwan's half_open_timeout, 30 s). */
  readonly halfOpenTimeoutMs: number;
  /** Nonce length we send (RFC 7296 2.10: at least half the PRF key size, at least 16). */
  readonly nonceBytes: number;
  /** NAT-T keepalive interval when behind a NAT (strongSwan's keep_alive, 20 s); 0 disables. */
  readonly keepaliveMs: number;
  /**
   * Reauthentication order: true builds the new IKE SA and its CHILD SAs before deleting the old ones, so
   * traffic does not stop (strongSwan's make_before_break; its 5.9 default is no, cygnet's is yes).
   */
  readonly makeBeforeBreak: boolean;
  /**
   * Added to `now` to get milliseconds since the epoch, for certificate validity. The daemon drives the core with
   * a monotonic clock and sets this once; 0 means `now` already is epoch time.
   */
  readonly epochOffsetMs: number;
  /** Emit `ike-keys` events with the IKE SA keys (key logging for capture decryption); off by default. */
  readonly exportKeys: boolean;
  /**
   * A state change missing from the IKE SA state table (src/ike/sa-state.ts) throws instead of being logged and
   * counted in internalErrors. Unset: on under the test runner, off otherwise.
   */
  readonly strictTransitions?: boolean;
  /**
   * RFC 7383 reassembly bounds (memory exhaustion guard): per IKE SA and direction at most maxFragments fragments
   * and maxBytes bytes (strongSwan's max_packet bounds a reassembled message the same way), abandoned after
   * timeoutMs (the sender retransmits the whole message after its own timeout), and maxTotalBytes for all SAs.
   */
  readonly reassembly: { readonly maxFragments: number; readonly maxBytes: number; readonly timeoutMs: number; readonly maxTotalBytes: number };
}

export const DEFAULT_SETTINGS: EndpointSettings = {
  retransmit: { timeoutMs: 4000, base: 1.8, tries: 5, limitMs: 0, jitterPercent: 0 },
  // strongSwan 5.9.8's defaults (receiver.c: COOKIE_THRESHOLD_DEFAULT 30, COOKIE_THRESHOLD_IP_DEFAULT 3,
  // BLOCK_THRESHOLD_DEFAULT 5; ike_sa_manager.c: ikesa_limit 0; init_limit_half_open 0).
  cookieThreshold: 30,
  cookieThresholdIp: 3,
  blockThreshold: 5,
  initLimitHalfOpen: 0,
  ikesaLimit: 0,
  cookieSecretLifetimeMs: 120_000,
  halfOpenTimeoutMs: 30_000,
  nonceBytes: 32,
  keepaliveMs: 20_000,
  makeBeforeBreak: true,
  reassembly: { maxFragments: 64, maxBytes: 64 * 1024, timeoutMs: 4000, maxTotalBytes: 4 * 1024 * 1024 },
  epochOffsetMs: 0,
  exportKeys: false,
};
