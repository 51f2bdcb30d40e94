/**
 * What the RADIUS client needs to know, as strongSwan's eap-radius plugin reads it from strongswan.conf
 * (`charon.plugins.eap-radius`, parsed by src/config/eap-radius.ts). Defaults are strongSwan 5.9.8's
 * (eap_radius_plugin.c load_configs, radius_socket.c).
 */
import { ACCT_PORT, AUTH_PORT } from './constants.js';

export interface RadiusServerConfig {
  /** The `servers` subsection name, or the address for the flat (legacy `server = ...`) form. */
  readonly name: string;
  /** Host name or IP address (the driver resolves names). */
  readonly address: string;
  /** Local address to send from (`source`), if any. */
  readonly source?: string;
  readonly authPort: number;
  readonly acctPort: number;
  readonly secret: Uint8Array;
  /** NAS-Identifier sent in every request (default "strongSwan"). */
  readonly nasIdentifier: string;
  /** Concurrent requests the server is given (`sockets`, default 1): its load in the preference (radius_config.c). */
  readonly sockets: number;
  /** Added to the server's score when picking one (`preference`, default 0). */
  readonly preference: number;
  /** Transmissions of one request before the server counts as unreachable (default 4). */
  readonly retransmitTries: number;
  /** First wait for an answer, ms (default 2 s); the n-th retransmission waits timeout * base^n. */
  readonly retransmitTimeoutMs: number;
  /** Default 1.4. */
  readonly retransmitBase: number;
}

export interface RadiusSettings {
  readonly servers: readonly RadiusServerConfig[];
  /** Send an EAP-Start (empty EAP-Message, RFC 3579 2.1) first instead of the EAP-Identity response (default no). */
  readonly eapStart: boolean;
  /** Prefix put before the EAP identity in User-Name (`id_prefix`, default empty). */
  readonly idPrefix: string;
  /** RADIUS accounting (RFC 2866) for IKE SAs (`accounting`, default no). */
  readonly accounting: boolean;
  /** Interim-Update interval in ms (`accounting_interval`, default 0: none unless the server's Acct-Interim-Interval). */
  readonly accountingIntervalMs: number;
  /** Class attributes of an Access-Accept become group memberships (`class_group`, default no). */
  readonly classGroup: boolean;
  /** Class attributes are echoed in accounting requests (`accounting_send_class`, default no). */
  readonly accountingSendClass: boolean;
  /** Called/Calling-Station-Id carry the port, "ip[port]" (`station_id_with_port`, default yes). */
  readonly stationIdWithPort: boolean;
}

export const RADIUS_DEFAULTS = {
  authPort: AUTH_PORT,
  acctPort: ACCT_PORT,
  nasIdentifier: 'strongSwan',
  sockets: 1,
  preference: 0,
  retransmitTries: 4,
  retransmitTimeoutMs: 2000,
  retransmitBase: 1.4,
} as const;

/** A server entry with strongSwan's defaults for whatever is not given. */
export function radiusServer(c: Pick<RadiusServerConfig, 'name' | 'address' | 'secret'> & Partial<RadiusServerConfig>): RadiusServerConfig {
  return { ...RADIUS_DEFAULTS, ...c };
}

export function radiusSettings(c: Pick<RadiusSettings, 'servers'> & Partial<RadiusSettings>): RadiusSettings {
  return { eapStart: false, idPrefix: '', accounting: false, accountingIntervalMs: 0, classGroup: false, accountingSendClass: false, stationIdWithPort: true, ...c };
}
