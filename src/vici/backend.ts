/**
 * What the vici server needs from the daemon. The server knows nothing about IKE: the daemon implements this
 * (src/vici/adapt.ts converts src/ike's IkeSaInfo/ChildSaInfo/IkeConnectionConfig), tests use a fake.
 *
 * Records are close to charon's vici layout (vici README "list-sa", "list-conn") in camelCase; times are seconds
 * *relative to now*, as charon reports them, so the server never needs the daemon's clock.
 */
import type { ViciMessage } from './message.js';
import type { IkeCounters } from './counters.js';
import type { ViciStore } from './store.js';

export interface ViciVersionInfo {
  /** charon reports lib->ns ("charon"); cygnet reports "cygnet". */
  readonly daemon: string;
  readonly version: string;
}

export interface ViciStats {
  readonly ikeSas: { readonly total: number; readonly halfOpen: number };
  /** Loaded "plugins"; cygnet lists its subsystems and crypto backends. */
  readonly plugins?: readonly string[];
  /** Worker threads; cygnet runs one event loop: default total 1, idle 0/1. */
  readonly workers?: { readonly total: number; readonly idle: number; readonly active?: Partial<Record<JobPriority, number>> };
  readonly queues?: Partial<Record<JobPriority, number>>;
  /** Timers armed (charon: jobs scheduled). */
  readonly scheduled?: number;
  /** cygnet: ESP packets dropped since start, by reason name (no-sa, replay, icv-failure, ...; non-zero only). */
  readonly espDrops?: Readonly<Record<string, number>>;
}

export type JobPriority = 'critical' | 'high' | 'medium' | 'low';

export interface ViciChildSa {
  /** CHILD_SA config name. */
  readonly name: string;
  readonly uniqueId: number;
  readonly reqId: number;
  /** charon's child_sa_state names: CREATED, ROUTED, INSTALLING, INSTALLED, UPDATING, REKEYING, REKEYED, RETRYING, DELETING, DELETED, DESTROYING. */
  readonly state: string;
  /** TUNNEL, TRANSPORT, BEET. */
  readonly mode: string;
  /** ESP or AH. */
  readonly protocol: string;
  readonly encap: boolean;
  readonly spiIn: number;
  readonly spiOut: number;
  /** strongSwan names: AES_GCM_16, AES_CBC, CHACHA20_POLY1305; integ HMAC_SHA2_256_128; dh CURVE_25519, MODP_2048. */
  readonly encrAlg?: string;
  readonly encrKeySize?: number;
  readonly integAlg?: string;
  readonly integKeySize?: number;
  readonly dhGroup?: string;
  /** RFC 9370 additional key exchanges (vici ake1..ake7, strongSwan 6). */
  readonly ake?: Readonly<Record<number, string>>;
  readonly esn?: boolean;
  readonly bytesIn: number | bigint;
  readonly packetsIn: number | bigint;
  readonly bytesOut: number | bigint;
  readonly packetsOut: number | bigint;
  /** Seconds since the last packet, when known. */
  readonly useIn?: number;
  readonly useOut?: number;
  /** Seconds until rekey / hard expiry, when scheduled. */
  readonly rekeyTime?: number;
  readonly lifeTime?: number;
  /** Seconds since install. */
  readonly installTime: number;
  /** strongSwan %R format: 10.1.0.0/16, 10.2.0.5/32[tcp/80], dynamic. */
  readonly localTs: readonly string[];
  readonly remoteTs: readonly string[];
  /** cygnet: packets dropped on the inbound / outbound ESP SA, by reason name (non-zero only). */
  readonly dropsIn?: Readonly<Record<string, number>>;
  readonly dropsOut?: Readonly<Record<string, number>>;
}

export interface ViciIkeSa {
  /** IKE_SA (connection) name. */
  readonly name: string;
  readonly uniqueId: number;
  readonly version?: 1 | 2;
  /** charon's ike_sa_state names: CREATED, CONNECTING, ESTABLISHED, PASSIVE, REKEYING, REKEYED, DELETING, DESTROYING. */
  readonly state: string;
  readonly localHost: string;
  readonly localPort: number;
  readonly localId: string;
  readonly remoteHost: string;
  readonly remotePort: number;
  readonly remoteId: string;
  readonly remoteEapId?: string;
  /** cygnet: the RFC 8784 PPK_ID mixed into this SA's keys (keys `ppk = yes` and `ppk-id`; never the key). */
  readonly ppkId?: string;
  readonly initiator: boolean;
  /** 8 bytes each, printed as 16 hex digits. */
  readonly spiI: Uint8Array;
  readonly spiR: Uint8Array;
  readonly natLocal?: boolean;
  readonly natRemote?: boolean;
  readonly natFake?: boolean;
  readonly natAny?: boolean;
  /** cygnet: 'tcp' when the SA's messages ride an RFC 9329 TCP stream (key `transport`, absent for UDP). */
  readonly transport?: 'tcp';
  readonly encrAlg?: string;
  readonly encrKeySize?: number;
  readonly integAlg?: string;
  readonly integKeySize?: number;
  /** PRF_HMAC_SHA2_256 ... */
  readonly prfAlg?: string;
  readonly dhGroup?: string;
  /** RFC 9370 additional key exchanges (vici ake1..ake7, strongSwan 6). */
  readonly ake?: Readonly<Record<number, string>>;
  /** Seconds since establishment: only for ESTABLISHED SAs (charon omits the key otherwise). */
  readonly established?: number;
  readonly rekeyTime?: number;
  readonly reauthTime?: number;
  readonly localVips?: readonly string[];
  readonly remoteVips?: readonly string[];
  readonly tasksQueued?: readonly string[];
  readonly tasksActive?: readonly string[];
  readonly tasksPassive?: readonly string[];
  readonly children: readonly ViciChildSa[];
}

export interface ViciAuthConf {
  /** auth_class_names: "public key", "pre-shared key", "EAP", "any". */
  readonly class: string;
  /** eap_type_names for an EAP round (EAP_MSCHAPV2, EAP_TLS, ...), which swanctl prints in place of "EAP". */
  readonly eapType?: string;
  readonly id?: string;
  readonly eapId?: string;
  readonly certs?: readonly string[];
  readonly cacerts?: readonly string[];
}

export interface ViciChildConf {
  readonly name: string;
  /** TUNNEL, TRANSPORT, ... */
  readonly mode: string;
  /** Seconds; 0 = never. */
  readonly rekeyTime: number;
  readonly rekeyBytes: number;
  readonly rekeyPackets: number;
  readonly dpdAction: string;
  readonly closeAction: string;
  readonly startAction?: string;
  readonly localTs: readonly string[];
  readonly remoteTs: readonly string[];
}

export interface ViciConn {
  readonly name: string;
  readonly localAddrs: readonly string[];
  readonly remoteAddrs: readonly string[];
  /** "IKEv2" (charon prints ike_version_names: IKEv1, IKEv2, or 0 for any). */
  readonly version?: string;
  /** Seconds, 0 = none. */
  readonly reauthTime: number;
  readonly rekeyTime: number;
  /** unique_policy_names: UNIQUE_NO, UNIQUE_NEVER, UNIQUE_KEEP, UNIQUE_REPLACE. */
  readonly unique?: string;
  readonly dpdDelay?: number;
  readonly dpdTimeout?: number;
  readonly local: readonly ViciAuthConf[];
  readonly remote: readonly ViciAuthConf[];
  readonly children: readonly ViciChildConf[];
}

export interface ViciLogLine {
  /** charondebug group: ike, cfg, net, enc, chd, knl, lib, esp... */
  readonly group: string;
  readonly level: number;
  readonly ikeSaName?: string;
  readonly ikeSaUniqueId?: number;
  readonly message: string;
}

export interface ViciResult {
  readonly success: boolean;
  readonly errmsg?: string;
  /** terminate/rekey: how many SAs matched (charon reports `matches`). */
  readonly matches?: number;
}

export interface InitiateRequest {
  readonly child?: string;
  readonly ike?: string;
  /** As given by the client (0 = wait indefinitely, -1 = do not wait); the server already applies it. */
  readonly timeoutMs: number;
  /** Log lines up to this level are forwarded as control-log events. */
  readonly logLevel: number;
  readonly onLog: (line: ViciLogLine) => void;
  /** Aborted when the client goes away or the timeout fires. */
  readonly signal: AbortSignal;
}

export interface TerminateRequest {
  readonly child?: string;
  readonly ike?: string;
  readonly childId?: number;
  readonly ikeId?: number;
  /** Destroy without waiting for the peer's Delete response. */
  readonly force: boolean;
  readonly timeoutMs: number;
  readonly logLevel: number;
  readonly onLog: (line: ViciLogLine) => void;
  readonly signal: AbortSignal;
}

export interface RekeyRequest {
  readonly child?: string;
  readonly ike?: string;
  readonly childId?: number;
  readonly ikeId?: number;
  readonly reauth: boolean;
}

export interface ViciBackend {
  version(): ViciVersionInfo | Promise<ViciVersionInfo>;
  stats(): ViciStats | Promise<ViciStats>;
  listConns(): readonly ViciConn[] | Promise<readonly ViciConn[]>;
  listSas(): readonly ViciIkeSa[] | Promise<readonly ViciIkeSa[]>;
  /** Resolves when the SA is up (success) or failed; the server handles timeouts and detaching. */
  initiate(req: InitiateRequest): Promise<ViciResult>;
  terminate(req: TerminateRequest): Promise<ViciResult>;
  rekey(req: RekeyRequest): ViciResult | Promise<ViciResult>;
  /** Reload the configuration file (cygnet `reload`, and swanctl --reload-settings). */
  reload(): ViciResult | Promise<ViciResult>;
  /**
   * Optional: load one connection sent by a vici client (`swanctl --load-conns`). `section` is the connection's
   * vici section in swanctl.conf key names (lists for multi-valued keys, `local*`/`remote*`/`children` sections),
   * e.g. for src/config's settingsFromObject({ connections: { [name]: section } }). Without it, load-conn and
   * unload-conn answer CMD_UNKNOWN.
   */
  loadConn?(name: string, section: ViciMessage): ViciResult | Promise<ViciResult>;
  unloadConn?(name: string): ViciResult | Promise<ViciResult>;
  /**
   * Optional: apply everything vici clients loaded (load-conn, load-shared, load-key, load-cert, load-authority,
   * load-pool and their unloads) together with the daemon's own file, as one configuration. A failure (the
   * connection does not build, a pool overlaps) is reported with success = no and the server restores the
   * previous store. With it, the server keeps a ViciStore and answers every load-/unload-/get- command; without
   * it, only load-conn/unload-conn through loadConn/unloadConn.
   */
  applyVici?(store: ViciStore): ViciResult | Promise<ViciResult>;
  /** Optional: virtual IP pools in use (get-pools / swanctl --list-pools). */
  pools?(): readonly ViciPool[] | Promise<readonly ViciPool[]>;
  /** Optional: trap policies installed (list-policies / swanctl --list-pols). */
  policies?(): readonly ViciPolicy[] | Promise<readonly ViciPolicy[]>;
  /** Optional: certificates the daemon holds besides those loaded over vici (its x509/ and x509ca/ folders). */
  certificates?(): readonly ViciCertInfo[] | Promise<readonly ViciCertInfo[]>;
  /** Optional: charon's counters plugin (get-counters / reset-counters / swanctl --counters). */
  readonly counters?: IkeCounters;
  /**
   * Optional, cygnet: ESP drops since start by reason name, added to get-counters' global section as
   * `esp-drop-<reason>` (charon's counters plugin counts IKE only; reset-counters does not reset these).
   */
  espDrops?(): Readonly<Record<string, number>>;
  /** Optional: install / uninstall a trap policy for a CHILD_SA config (swanctl --install / --uninstall). */
  install?(child: string, ike?: string): ViciResult | Promise<ViciResult>;
  uninstall?(child: string, ike?: string): ViciResult | Promise<ViciResult>;
}

export interface ViciPool {
  readonly name: string;
  /** The first address of the pool's range (charon's mem_pool base). */
  readonly base: string;
  readonly size: number;
  readonly online: number;
  readonly offline: number;
  readonly leases?: readonly { readonly address: string; readonly identity: string; readonly online: boolean }[];
}

export interface ViciPolicy {
  readonly ike: string;
  readonly child: string;
  /** TUNNEL, TRANSPORT, PASS, DROP. */
  readonly mode: string;
  readonly localTs: readonly string[];
  readonly remoteTs: readonly string[];
}

export interface ViciCertInfo {
  readonly type: 'X509' | 'X509_CRL';
  /** x509_flag_names: NONE, CA, AA, OCSP. */
  readonly flag: string;
  readonly hasPrivkey: boolean;
  readonly der: Uint8Array;
}
