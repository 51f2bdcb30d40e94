/**
 * What the IKE endpoint tells its driver, pulled with `pollEvent()`. Typed, so library users switch on `type`.
 * Key material appears only in child-sa-install (for the ESP engine) and key-log events, never in log lines.
 */
import type { TrafficSelector } from './traffic-selector.js';
import type { Address } from './config.js';

export type IkeSaState = 'CREATED' | 'CONNECTING' | 'ESTABLISHED' | 'REKEYING' | 'REKEYED' | 'DELETING' | 'DESTROYING';

export interface IkeSaInfo {
  /** Unique id, like strongSwan's #N / vici uniqueid. */
  readonly id: number;
  readonly name: string;
  readonly state: IkeSaState;
  readonly initiator: boolean;
  readonly spiI: Uint8Array;
  readonly spiR: Uint8Array;
  readonly local: Address;
  readonly remote: Address;
  readonly localId: string;
  readonly remoteId: string;
  /** The peer's EAP identity once an EAP round authenticated it (RFC 7296 2.16; RADIUS accounting's User-Name). */
  readonly remoteEapId?: string;
  /** strongSwan-style suite, e.g. AES_GCM_16-128/PRF_HMAC_SHA2_256/CURVE_25519. */
  readonly suite: string;
  readonly natDetected: { readonly local: boolean; readonly remote: boolean };
  readonly encapsulated: boolean;
  readonly establishedAt?: number;
  /** RFC 8784: the PPK_ID of the post-quantum preshared key mixed into this SA's keys (never the key itself). */
  readonly ppkId?: string;
}

export interface ChildSaDirectionKeys {
  readonly spi: number;
  readonly encrKey: Uint8Array;
  readonly integKey: Uint8Array;
}

export interface ChildSaInfo {
  readonly ikeSaId: number;
  readonly name: string;
  /** Stable id of this CHILD SA (unique per endpoint). */
  readonly id: number;
  readonly mode: 'tunnel';
  readonly protocol: 'esp';
  readonly encrId: number;
  readonly encrKeyBits?: number;
  readonly integId: number;
  readonly keGroup?: number;
  readonly esn: boolean;
  readonly spiIn: number;
  readonly spiOut: number;
  readonly localTs: readonly TrafficSelector[];
  readonly remoteTs: readonly TrafficSelector[];
  readonly local: Address;
  readonly remote: Address;
  readonly encapsulated: boolean;
  /** strongSwan-style ESP suite, e.g. AES_GCM_16-128 or AES_CBC-256/HMAC_SHA2_256_128. */
  readonly suite: string;
}

export type IkeDownReason =
  | 'deleted'
  /** Replaced by a rekeyed or reauthenticated IKE SA: its CHILD SAs live on there. */
  | 'rekeyed'
  | 'deleted-by-peer'
  | 'timeout'
  | 'auth-failed'
  | 'no-proposal'
  | 'invalid-syntax'
  | 'half-open-timeout'
  | 'error';

export type IkeEvent =
  | { readonly type: 'ike-up'; readonly sa: IkeSaInfo }
  | { readonly type: 'ike-down'; readonly sa: IkeSaInfo; readonly reason: IkeDownReason; readonly message: string }
  | {
      readonly type: 'child-install';
      readonly child: ChildSaInfo;
      readonly inbound: ChildSaDirectionKeys;
      readonly outbound: ChildSaDirectionKeys;
      /** Lifetimes for the ESP engine (0 = none); rekey_bytes/packets are soft, life_bytes/packets hard. */
      readonly lifetimes: { readonly softBytes: number; readonly hardBytes: number; readonly softPackets: number; readonly hardPackets: number };
      /** Set when this CHILD SA replaces another (rekey): keep the old inbound SA until it is removed. */
      readonly replaces?: ChildSaInfo;
      /**
       * Outbound traffic moves to this SA now (true), or only at a later `child-outbound` event (false). A rekey
       * responder defers it until the old SA is deleted, because the initiator installs its new inbound SA only
       * when our response arrives (strongSwan does the same).
       */
      readonly outboundActive: boolean;
    }
  | { readonly type: 'child-outbound'; readonly child: ChildSaInfo; readonly replaces: ChildSaInfo }
  | { readonly type: 'ike-rekeyed'; readonly old: IkeSaInfo; readonly sa: IkeSaInfo }
  /**
   * The IKE SA's SK_e/SK_a keys, emitted only with `settings.exportKeys` (for decrypting captures with tshark,
   * like strongSwan's save-keys plugin). Never logged.
   */
  | { readonly type: 'ike-keys'; readonly sa: IkeSaInfo; readonly encrId: number; readonly encrKeyBits?: number; readonly integId?: number; readonly SK_ei: Uint8Array; readonly SK_er: Uint8Array; readonly SK_ai: Uint8Array; readonly SK_ar: Uint8Array }
  /**
   * The SA's addresses changed (the peer's NAT mapping, RFC 7296 2.23, or a MOBIKE move of either end, RFC 4555):
   * move the CHILD SAs' ESP there too. `from`: the addresses before (`sa` has the new ones).
   */
  | { readonly type: 'ike-address-change'; readonly sa: IkeSaInfo; readonly children: readonly ChildSaInfo[]; readonly from?: { readonly local: Address; readonly remote: Address } }
  | {
      /** dpd_action/close_action = trap: install a trap policy so the next matching packet triggers `acquire`. */
      readonly type: 'trap';
      readonly connection: string;
      readonly child: string;
    }
  | {
      /**
       * Our virtual IPs and what came with them in the CFG_REPLY (RFC 7296 3.15.1). `subnets` are the gateway's
       * protected subnets in CIDR form (INTERNAL_IP4/6_SUBNET, 3.15.2): the driver routes them into the tunnel for a
       * split tunnel. `nbns` (NetBIOS name servers) and `netmask` are reported only.
       */
      readonly type: 'vip-assigned';
      readonly ikeSaId: number;
      readonly addresses: readonly string[];
      readonly dns: readonly string[];
      readonly nbns?: readonly string[];
      readonly netmask?: string;
      readonly subnets?: readonly string[];
    }
  | { readonly type: 'child-remove'; readonly child: ChildSaInfo; readonly reason: string }
  | { readonly type: 'child-failed'; readonly ikeSaId: number; readonly name: string; readonly notify: string; readonly message: string }
  | { readonly type: 'auth-failed'; readonly ikeSaId: number; readonly message: string }
  | { readonly type: 'log'; readonly group: LogGroup; readonly level: number; readonly ikeSaId?: number; readonly message: string };

/** strongSwan's debug groups (charondebug) that the endpoint logs under. */
export type LogGroup = 'ike' | 'cfg' | 'net' | 'enc' | 'chd' | 'knl' | 'lib' | 'esp';

/** A datagram the driver must send. `nonEspMarker`: prepend 4 zero bytes (RFC 3948 section 2.2) on port 4500. */
export interface Transmit {
  readonly data: Uint8Array;
  readonly local: Address;
  readonly remote: Address;
  readonly nonEspMarker: boolean;
}
