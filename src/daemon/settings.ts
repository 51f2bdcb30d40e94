/**
 * `cygnet daemon --settings FILE`: strongswan.conf's daemon-wide knobs (`charon { ... }`, parsed by
 * src/config/strongswan-conf.ts) applied to what the daemon runs. swanctl.conf has no place for these:
 * retransmission, make_before_break, fragment_size, the DoS limits (cookie_threshold[_ip], block_threshold,
 * init_limit_half_open, ikesa_limit, dos_protection), max_packet, keep_alive, half_open_timeout.
 *
 * Precedence: built-in defaults < the settings file < command-line flags (--retransmit-*), as strongSwan's own
 * command line overrides strongswan.conf.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { globalSettingsFrom, type GlobalSettings } from '../config/strongswan-conf.js';
import { loadSettings } from '../config/parser.js';
import type { EndpointSettings, IkeConnectionConfig } from '../ike/config.js';
import { DEFAULT_RETRANSMIT, type RetransmitSettings } from '../ike/retransmit.js';

export type { GlobalSettings } from '../config/strongswan-conf.js';

/** Reads and parses FILE (includes relative to it). Throws only ConfigError, naming file:line. */
export function loadGlobalSettings(path: string): GlobalSettings {
  return globalSettingsFrom(loadSettings(path, { readFile: (f) => readFileSync(f, 'utf8'), listDir: (d) => readdirSync(d) }));
}

/**
 * The endpoint's settings: the file's, then what the daemon itself sets (`base`: epochOffsetMs, exportKeys), with
 * the retransmission flags laid over the file's retransmit_* keys field by field.
 */
export function endpointSettings(
  file: Partial<EndpointSettings> | undefined,
  base: Partial<EndpointSettings>,
  retransmitFlags?: Partial<RetransmitSettings>,
): Partial<EndpointSettings> {
  const out: { -readonly [K in keyof EndpointSettings]?: EndpointSettings[K] } = { ...file, ...base };
  if (retransmitFlags && Object.keys(retransmitFlags).length > 0) out.retransmit = { ...DEFAULT_RETRANSMIT, ...file?.retransmit, ...retransmitFlags };
  return out;
}

/**
 * charon.fragment_size applies to every connection (strongSwan has no per-connection fragment size); 0 means
 * strongSwan's address-family default, i.e. the connection keeps the one it has.
 */
export function withFragmentSize(conns: readonly IkeConnectionConfig[], fragmentSize: number | undefined): IkeConnectionConfig[] {
  return fragmentSize === undefined || fragmentSize === 0 ? [...conns] : conns.map((c) => (c.fragmentSize === fragmentSize ? c : { ...c, fragmentSize }));
}

/** Whether two settings files differ in what only a restart applies (everything but fragment_size). */
export function endpointSettingsDiffer(a: GlobalSettings | undefined, b: GlobalSettings | undefined): boolean {
  return JSON.stringify(a?.endpoint ?? {}) !== JSON.stringify(b?.endpoint ?? {});
}
