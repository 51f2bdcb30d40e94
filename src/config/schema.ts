/**
 * The typed swanctl.conf configuration: strongSwan's key names (swanctl.conf(5), src/swanctl/swanctl.opt) and
 * documented defaults, and the table of which keys cygnet implements and which it only knows.
 *
 * Field names are strongSwan's keys verbatim (snake_case), so `connections.home.rekey_time` in the file is
 * `config.connections.get('home').rekey_time` here. Units: every duration is in MILLISECONDS (the file says
 * seconds or uses s/m/h/d), byte volumes in bytes, packet counts in packets.
 *
 * The builder lives in build.ts; this file is data and types.
 */
import type { SourceLocation } from './errors.js';
import type { IpAddress } from './ip.js';
import type { AddressSpec, TrafficSelectorSpec } from './values.js';

// ---------------------------------------------------------------------------------------------------------
// Defaults

/** strongSwan's documented defaults (swanctl.conf(5)); times in milliseconds. */
export const STRONGSWAN_DEFAULTS = {
  version: 0,
  local_addrs: '%any',
  remote_addrs: '%any',
  local_port: 500,
  remote_port: 500,
  proposals: 'default',
  dpd_delay: 0,
  dpd_timeout: 0,
  encap: false,
  mobike: true,
  fragmentation: 'yes',
  keyingtries: 1,
  unique: 'no',
  reauth_time: 0,
  /** IKE rekeying every 4 h, unless only reauth_time is set (then 0). */
  ike_rekey_time: 4 * 3600 * 1000,
  send_cert: 'ifasked',
  send_certreq: true,
  local_ts: 'dynamic',
  remote_ts: 'dynamic',
  esp_proposals: 'default',
  mode: 'tunnel',
  start_action: 'none',
  dpd_action: 'clear',
  close_action: 'none',
  child_rekey_time: 3600 * 1000,
  rekey_bytes: 0,
  rekey_packets: 0,
  /** strongSwan's kernel default; cygnet's ESP engine uses CYGNET_REPLAY_WINDOW unless the key is set. */
  replay_window: 32,
  copy_dscp: 'out',
  remote_id: '%any',
  auth: 'pubkey',
} as const;

/**
 * cygnet's replay window when `replay_window` is not set. Differs from strongSwan's 32 on purpose: a userspace
 * engine that batches and may reorder slightly needs a wider window (RFC 4303 section 3.4.3 leaves the size to
 * the receiver; RFC 6479's bitmap makes 1024 as cheap as 32).
 */
export const CYGNET_REPLAY_WINDOW = 1024;

/**
 * cygnet's `encap` when the key is not set: yes, unlike strongSwan's no. A userspace endpoint can only carry ESP
 * in UDP (RFC 3948), so it makes the peer encapsulate too by sending NAT-D hashes that cannot match
 * (../shared/DESIGN.md section 4; the IKE layer defaults the same way).
 */
export const CYGNET_ENCAP = true;

// ---------------------------------------------------------------------------------------------------------
// Types

/** `encap = tcp|tcp-fallback` (RFC 9329); strongSwan's yes/no are 'udp'. */
export type EncapTransport = 'udp' | 'tcp' | 'tcp-fallback';
export type Fragmentation = 'yes' | 'accept' | 'no' | 'force';
export type UniquePolicy = 'no' | 'never' | 'keep' | 'replace';
export type SendCert = 'ifasked' | 'always' | 'never';
export type Childless = 'allow' | 'prefer' | 'never' | 'force';
export type OcspPolicy = 'reply' | 'request' | 'both' | 'never';
export type StartAction = 'none' | 'trap' | 'start' | 'trap|start';
export type DpdAction = 'clear' | 'trap' | 'restart';
export type CloseAction = 'none' | 'trap' | 'start';
export type CopyDscp = 'out' | 'in' | 'yes' | 'no';
export type Revocation = 'strict' | 'ifuri' | 'relaxed';

export interface AuthMethod {
  /** RFC 7296 2.15/3.8: shared key MIC (psk) or a signature (pubkey, with optional constraints). */
  readonly class: 'pubkey' | 'psk' | 'eap' | 'xauth';
  /** For eap-<method> / xauth-<backend>: the part after the dash. */
  readonly method?: string;
  /** The value as written, e.g. `pubkey-sha384-sha256`, `ike:rsa/pss-sha256`. */
  readonly text: string;
}

export interface AuthRound {
  /** The section name, e.g. `local`, `local-1`, `remote2`. */
  readonly section: string;
  readonly loc: SourceLocation;
  /** Sort key for rounds (RFC 4739 multiple authentication); rounds without one keep file order. */
  readonly round: number;
  readonly auth: AuthMethod;
  /**
   * IKE identity. Local: undefined means strongSwan's default (the certificate subject, else the IP address).
   * Remote: '%any' by default.
   */
  readonly id: string | undefined;
  readonly certs: readonly string[];
  readonly cacerts: readonly string[];
  /** Where `certs` and `cacerts` are written, so a file that cannot be loaded is reported at that line. */
  readonly keyLocs?: Readonly<Partial<Record<'certs' | 'cacerts', SourceLocation>>>;
  readonly pubkeys: readonly string[];
  readonly eap_id: string | undefined;
  readonly aaa_id: string | undefined;
  readonly xauth_id: string | undefined;
  readonly ca_id: string | undefined;
  readonly groups: readonly string[];
  readonly cert_policy: readonly string[];
  readonly revocation: Revocation;
}

export interface ChildConfig {
  readonly name: string;
  readonly loc: SourceLocation;
  readonly local_ts: readonly TrafficSelectorSpec[];
  readonly remote_ts: readonly TrafficSelectorSpec[];
  /** Proposal strings; `['default']` when not set. */
  readonly esp_proposals: readonly string[];
  readonly mode: 'tunnel';
  readonly start_action: StartAction;
  readonly dpd_action: DpdAction;
  readonly close_action: CloseAction;
  /** ms */
  readonly rekey_time: number;
  /** ms; default rekey_time + 10% */
  readonly life_time: number;
  /** ms; default life_time - rekey_time */
  readonly rand_time: number;
  readonly rekey_bytes: number;
  readonly life_bytes: number;
  readonly rand_bytes: number;
  readonly rekey_packets: number;
  readonly life_packets: number;
  readonly rand_packets: number;
  /** Packets; CYGNET_REPLAY_WINDOW (1024) unless set; 0 disables replay protection. */
  readonly replay_window: number;
  /** Whether replay_window was written in the file (strongSwan would use 32 otherwise). */
  readonly replay_window_set: boolean;
  /**
   * cygnet-specific (no strongSwan key): check that inbound ESP padding bytes are 1, 2, 3, ... (RFC 4303 2.4, a
   * SHOULD). Default yes; `no` accepts any padding values from a peer known to send others, as the Linux kernel's
   * ESP (which strongSwan uses) never checks them.
   */
  readonly esp_padding_check: boolean;
  readonly updown: string | undefined;
  readonly hostaccess: boolean;
  readonly policies: boolean;
  readonly policies_fwd_out: boolean;
  readonly ipcomp: boolean;
  /** ms; 0 = no inactivity timeout */
  readonly inactivity: number;
  readonly reqid: number;
  readonly priority: number;
  readonly interface: string | undefined;
  readonly mark_in: string | undefined;
  readonly mark_out: string | undefined;
  readonly set_mark_in: string | undefined;
  readonly set_mark_out: string | undefined;
  readonly mark_in_sa: boolean;
  /** Bytes, or 'mtu' */
  readonly tfc_padding: number | 'mtu';
  readonly hw_offload: 'no' | 'yes' | 'crypto' | 'packet' | 'auto';
  readonly sha256_96: boolean;
  readonly copy_df: boolean;
  readonly copy_ecn: boolean;
  readonly copy_dscp: CopyDscp;
  readonly if_id_in: string | undefined;
  readonly if_id_out: string | undefined;
  readonly label: string | undefined;
  readonly label_mode: string | undefined;
  readonly per_cpu_sas: string | undefined;
}

export interface ConnectionConfig {
  readonly name: string;
  readonly loc: SourceLocation;
  /** 0 = any (initiates IKEv2), 2 = IKEv2; IKEv1 is refused at load time. */
  readonly version: 0 | 2;
  readonly local_addrs: readonly AddressSpec[];
  readonly remote_addrs: readonly AddressSpec[];
  readonly local_port: number;
  readonly remote_port: number;
  /** Proposal strings; `['default']` when not set. */
  readonly proposals: readonly string[];
  readonly vips: readonly IpAddress[];
  readonly pools: readonly string[];
  /** ms; 0 disables DPD */
  readonly dpd_delay: number;
  /** ms; IKEv1 only in strongSwan */
  readonly dpd_timeout: number;
  /** Force UDP encapsulation (fake NAT-D). Defaults to CYGNET_ENCAP (true), not strongSwan's false. */
  readonly encap: boolean;
  /**
   * How IKE and ESP reach the peer, from the same `encap` key: `tcp` (RFC 9329: IKE and ESP on one TCP stream,
   * UDP never tried) and `tcp-fallback` (UDP first, TCP when UDP gets no answer) are cygnet's additions and imply
   * encap = yes; `yes`/`no` mean 'udp'.
   */
  readonly encap_transport: EncapTransport;
  readonly mobike: boolean;
  readonly fragmentation: Fragmentation;
  /** 0 = retry forever */
  readonly keyingtries: number;
  readonly unique: UniquePolicy;
  /** ms; 0 = no reauthentication */
  readonly reauth_time: number;
  /** ms; 4h by default, 0 when only reauth_time is set */
  readonly rekey_time: number;
  /** ms; default 10% of the longer of rekey_time and reauth_time */
  readonly over_time: number;
  /** ms; default over_time, at most half of the rekey/reauth time */
  readonly rand_time: number;
  readonly send_cert: SendCert;
  readonly send_certreq: boolean;
  readonly aggressive: boolean;
  readonly pull: boolean;
  /** 6-bit DSCP for IKE packets */
  readonly dscp: number;
  readonly childless: Childless;
  readonly ocsp: OcspPolicy;
  readonly ppk_id: string | undefined;
  readonly ppk_required: boolean;
  /** Where ppk_id was set (errors about its PPK name this place). */
  readonly ppk_id_loc?: SourceLocation;
  readonly if_id_in: string | undefined;
  readonly if_id_out: string | undefined;
  /** Authentication rounds, sorted by `round` then file order; one default round each when none is written. */
  readonly local: readonly AuthRound[];
  readonly remote: readonly AuthRound[];
  readonly children: ReadonlyMap<string, ChildConfig>;
}

export interface SharedSecret {
  /** The section name, e.g. `ike-home`. */
  readonly section: string;
  readonly loc: SourceLocation;
  /** The identities from the id<suffix> keys, in file order; empty means "any peer". */
  readonly ids: readonly string[];
  /** Decoded secret (text as UTF-8, 0x hex, 0s base64). */
  readonly secret: Uint8Array;
}

export interface KeyPassphrase {
  readonly section: string;
  readonly loc: SourceLocation;
  /** Which swanctl folder the file is in. */
  readonly type: 'private' | 'rsa' | 'ecdsa' | 'pkcs8' | 'pkcs12';
  readonly file: string | undefined;
  readonly secret: string;
}

export interface TokenKey {
  readonly section: string;
  readonly loc: SourceLocation;
  readonly handle: string | undefined;
  readonly slot: number | undefined;
  readonly module: string | undefined;
  readonly pin: string | undefined;
}

export interface SecretsConfig {
  readonly ike: readonly SharedSecret[];
  /** eap<suffix> and xauth<suffix> (aliases in strongSwan) */
  readonly eap: readonly SharedSecret[];
  readonly ntlm: readonly SharedSecret[];
  readonly ppk: readonly SharedSecret[];
  readonly keys: readonly KeyPassphrase[];
  readonly tokens: readonly TokenKey[];
}

export interface PoolConfig {
  readonly name: string;
  readonly loc: SourceLocation;
  /**
   * The addresses handed out: a range (inclusive), or a subnet given as its bounds and prefix. For a subnet
   * strongSwan leaves out the network and broadcast addresses (a /24 gives 254 leases, as 5.9.8's
   * `swanctl --list-pools` shows); the allocator should do the same.
   */
  readonly addrs: { readonly first: IpAddress; readonly last: IpAddress; readonly prefix?: number; readonly text: string };
  readonly dns: readonly IpAddress[];
  readonly nbns: readonly IpAddress[];
  /** Other attributes as written (dhcp, netmask, server, subnet, split_include, split_exclude, numeric types). */
  readonly attributes: ReadonlyMap<string, readonly string[]>;
}

export interface AuthorityConfig {
  readonly name: string;
  readonly loc: SourceLocation;
  readonly cacert: string | undefined;
  readonly crl_uris: readonly string[];
  readonly ocsp_uris: readonly string[];
  readonly cert_uri_base: string | undefined;
}

export interface SwanctlConfig {
  readonly connections: ReadonlyMap<string, ConnectionConfig>;
  readonly secrets: SecretsConfig;
  readonly pools: ReadonlyMap<string, PoolConfig>;
  readonly authorities: ReadonlyMap<string, AuthorityConfig>;
}

// ---------------------------------------------------------------------------------------------------------
// Which keys cygnet implements. `implemented: false` keys are parsed and validated like strongSwan does, and
// using one gives a warning, unless the value written is what cygnet does anyway (`cygnet`, compared after
// parsing). Update this table when a feature lands; nothing else needs to change.

export interface KeyInfo {
  readonly implemented: boolean;
  /** cygnet's fixed behaviour for a key it does not implement: writing exactly this is not warned about. */
  readonly cygnet?: unknown;
  /** Extra words for the warning. */
  readonly note?: string;
}

const yes: KeyInfo = { implemented: true };
const no = (cygnet?: unknown, note?: string): KeyInfo => ({
  implemented: false,
  ...(cygnet !== undefined ? { cygnet } : {}),
  ...(note !== undefined ? { note } : {}),
});

export const CONNECTION_KEYS: Readonly<Record<string, KeyInfo>> = {
  version: yes,
  local_addrs: yes,
  remote_addrs: yes,
  local_port: yes,
  remote_port: yes,
  proposals: yes,
  vips: yes,
  pools: yes,
  dpd_delay: yes,
  dpd_timeout: no(undefined, 'IKEv1 only, as in strongSwan: an IKEv2 peer is dead when the DPD request\'s retransmissions run out, set them with charon.retransmit_timeout/_base/_tries'),
  encap: yes,
  mobike: yes,
  fragmentation: yes,
  keyingtries: yes,
  unique: yes,
  reauth_time: yes,
  rekey_time: yes,
  over_time: yes,
  rand_time: yes,
  send_cert: yes,
  send_certreq: yes,
  aggressive: no(false, 'IKEv1 only'),
  pull: no(true, 'IKEv1 only'),
  dscp: no(0),
  childless: no(),
  ocsp: no(),
  ppk_id: yes,
  ppk_required: yes,
  if_id_in: no(),
  if_id_out: no(),
  mediation: no(false),
  mediated_by: no(),
  mediation_peer: no(),
};

export const AUTH_KEYS: Readonly<Record<string, KeyInfo>> = {
  auth: yes,
  id: yes,
  certs: yes,
  cacerts: yes,
  round: yes,
  pubkeys: no(),
  eap_id: yes,
  aaa_id: no(),
  xauth_id: no(),
  ca_id: no(),
  groups: no(),
  cert_policy: no(),
  revocation: no('relaxed'),
};

export const CHILD_KEYS: Readonly<Record<string, KeyInfo>> = {
  local_ts: yes,
  remote_ts: yes,
  esp_proposals: yes,
  ah_proposals: no(),
  mode: yes,
  start_action: yes,
  dpd_action: yes,
  close_action: yes,
  rekey_time: yes,
  life_time: yes,
  rand_time: yes,
  rekey_bytes: yes,
  life_bytes: yes,
  rand_bytes: yes,
  rekey_packets: yes,
  life_packets: yes,
  rand_packets: yes,
  replay_window: yes,
  // cygnet-specific, not a strongSwan key: inbound ESP padding value check (RFC 4303 2.4), default yes.
  esp_padding_check: yes,
  updown: yes,
  hostaccess: no(false),
  policies: no(true),
  policies_fwd_out: no(false),
  ipcomp: no(false),
  inactivity: no(0),
  reqid: no(0),
  priority: no(0),
  interface: no(),
  mark_in: no(),
  mark_in_sa: no(false),
  mark_out: no(),
  set_mark_in: no(),
  set_mark_out: no(),
  tfc_padding: no(0),
  hw_offload: no('no'),
  sha256_96: no(false),
  copy_df: no(),
  copy_ecn: no(),
  copy_dscp: no(),
  if_id_in: no(),
  if_id_out: no(),
  label: no(),
  label_mode: no(),
  per_cpu_sas: no(),
};

export const POOL_KEYS: Readonly<Record<string, KeyInfo>> = {
  addrs: yes,
  dns: yes,
  nbns: yes,
  dhcp: no(),
  netmask: yes,
  server: no(),
  subnet: yes,
  split_include: no(),
  split_exclude: no(),
};

export const SHARED_SECRET_KEYS: Readonly<Record<string, KeyInfo>> = { secret: yes, id: yes };
export const PASSPHRASE_KEYS: Readonly<Record<string, KeyInfo>> = { file: yes, secret: yes };
export const TOKEN_KEYS: Readonly<Record<string, KeyInfo>> = { handle: no(), slot: no(), module: no(), pin: no() };
export const AUTHORITY_KEYS: Readonly<Record<string, KeyInfo>> = {
  cacert: no(),
  crl_uris: no(),
  ocsp_uris: no(),
  cert_uri_base: no(),
  file: no(),
  handle: no(),
  slot: no(),
  module: no(),
};

/** Secret section prefixes in the order swanctl's load_creds matches them. */
export const SECRET_TYPES = ['eap', 'xauth', 'ntlm', 'ike', 'ppk', 'private', 'rsa', 'ecdsa', 'pkcs8', 'pkcs12', 'token'] as const;
/** Which secret types cygnet implements (the others load with a warning). */
export const SECRET_TYPES_IMPLEMENTED: ReadonlySet<string> = new Set(['ike', 'eap', 'ntlm', 'ppk', 'private', 'rsa', 'ecdsa', 'pkcs8', 'pkcs12']);

export const TOP_SECTIONS = ['connections', 'secrets', 'pools', 'authorities'] as const;
