/**
 * strongswan.conf `charon.plugins.eap-radius { ... }`: the RADIUS servers EAP is relayed to and the accounting
 * switches, with strongSwan 5.9.8's key names and defaults (eap_radius_plugin.c load_configs(), eap_radius.c,
 * eap_radius_accounting.c):
 *
 *   servers { NAME { address secret auth_port (or port) acct_port nas_identifier sockets preference source
 *                    retransmit_tries retransmit_timeout retransmit_base } }
 *   or the flat (legacy) form: server secret port source nas_identifier sockets retransmit_*
 *   eap_start (no), id_prefix, accounting (no), accounting_interval (0), accounting_send_class (no),
 *   class_group (no), station_id_with_port (yes)
 *
 * The plugin-wide nas_identifier, port, sockets, source and retransmit_* are the defaults of every `servers`
 * entry, as in strongSwan. Where strongSwan logs "RADIUS server 'x' misses secret, skipped" and runs without it,
 * this is an error at the section's line: a silently missing server is a login outage found later.
 * Keys cygnet does not use (dae, forward, xauth, filter_id, ...) are reported, not fatal.
 */
import { radiusServer, radiusSettings, type RadiusServerConfig, type RadiusSettings } from '../radius/config.js';
import { ConfigError, type SourceLocation } from './errors.js';
import type { SettingsKey, SettingsSection } from './parser.js';
import { parseBool, parseDurationMs, parseUint, ValueProblem } from './values.js';

const PREFIX = 'charon.plugins.eap-radius';
const utf8 = new TextEncoder();

/** Keys strongSwan's eap-radius plugin reads that cygnet does not act on (listed as ignored, not as typos). */
const KNOWN_UNUSED = new Set(['load', 'filter_id', 'accounting_requires_vip', 'accounting_close_on_timeout', 'close_all_on_timeout']);

export interface EapRadiusResult {
  readonly settings?: RadiusSettings;
  readonly ignored: readonly { key: string; loc: SourceLocation }[];
}

function value(k: SettingsKey): string {
  return k.value ?? '';
}

function problem(path: string, k: SettingsKey, e: unknown): ConfigError {
  if (e instanceof ConfigError) return e;
  const why = e instanceof ValueProblem ? (e.plain ? e.expected : `expected ${e.expected}, got '${value(k)}'`) : e instanceof Error ? e.message : String(e);
  return new ConfigError('INVALID_VALUE', k.loc, `${path}: ${why}`);
}

function seconds(raw: string): number {
  const v = Number(raw.trim());
  if (raw.trim() === '' || !Number.isFinite(v) || v <= 0) throw new ValueProblem('a number of seconds above 0 like 2.0');
  return Math.round(v * 1000);
}

function base(raw: string): number {
  const v = Number(raw.trim());
  if (raw.trim() === '' || !Number.isFinite(v) || v < 1) throw new ValueProblem('a number >= 1 like 1.4');
  return v;
}

function port(raw: string): number {
  const n = parseUint(raw, 65535, 'a UDP port 1..65535');
  if (n === 0) throw new ValueProblem('a UDP port 1..65535');
  return n;
}

function integer(raw: string): number {
  const s = raw.trim();
  if (!/^-?(0|[1-9][0-9]*)$/.test(s)) throw new ValueProblem('a whole number');
  return Number(s);
}

/** Per-server keys and their parsers (also accepted plugin-wide as defaults). */
type ServerField = 'address' | 'secret' | 'authPort' | 'acctPort' | 'nasIdentifier' | 'sockets' | 'preference' | 'source' | 'retransmitTries' | 'retransmitTimeoutMs' | 'retransmitBase';
const SERVER_KEYS: Readonly<Record<string, readonly [ServerField, (raw: string) => unknown]>> = {
  address: ['address', (r) => nonEmpty(r, 'a host name or IP address')],
  secret: ['secret', (r) => nonEmpty(r, 'the shared secret')],
  auth_port: ['authPort', port],
  port: ['authPort', port],
  acct_port: ['acctPort', port],
  nas_identifier: ['nasIdentifier', (r) => nonEmpty(r, 'a NAS-Identifier text')],
  sockets: ['sockets', (r) => {
    const n = parseUint(r, 1024, 'a number of sockets 1..1024');
    if (n === 0) throw new ValueProblem('a number of sockets 1..1024');
    return n;
  }],
  preference: ['preference', integer],
  source: ['source', (r) => nonEmpty(r, 'a local IP address')],
  retransmit_tries: ['retransmitTries', (r) => {
    const n = parseUint(r, 100, 'a number of transmissions 1..100');
    if (n === 0) throw new ValueProblem('a number of transmissions 1..100');
    return n;
  }],
  retransmit_timeout: ['retransmitTimeoutMs', seconds],
  retransmit_base: ['retransmitBase', base],
};

function nonEmpty(raw: string, what: string): string {
  if (raw.trim() === '') throw new ValueProblem(what);
  return raw.trim();
}

type Fields = { -readonly [K in ServerField]?: unknown };

function serverFields(section: SettingsSection, path: string, errors: ConfigError[], ignored: { key: string; loc: SourceLocation }[], skip: ReadonlySet<string>): { fields: Fields; locs: Map<ServerField, SourceLocation> } {
  const fields: Fields = {};
  const locs = new Map<ServerField, SourceLocation>();
  for (const [key, k] of section.keys) {
    if (skip.has(key)) continue;
    const spec = SERVER_KEYS[key];
    if (!spec) {
      ignored.push({ key: `${path}.${key}`, loc: k.loc });
      continue;
    }
    const [field, parse] = spec;
    // auth_port wins over port (eap_radius_plugin.c looks auth_port up first)
    if (key === 'port' && section.keys.has('auth_port')) continue;
    try {
      fields[field] = parse(value(k));
      locs.set(field, k.loc);
    } catch (e) {
      errors.push(problem(`${path}.${key}`, k, e));
    }
  }
  return { fields, locs };
}

function toServer(name: string, f: Fields): RadiusServerConfig {
  const secret = f.secret as string;
  return radiusServer({
    name,
    address: f.address as string,
    secret: utf8.encode(secret),
    ...(f.authPort !== undefined ? { authPort: f.authPort as number } : {}),
    ...(f.acctPort !== undefined ? { acctPort: f.acctPort as number } : {}),
    ...(f.nasIdentifier !== undefined ? { nasIdentifier: f.nasIdentifier as string } : {}),
    ...(f.sockets !== undefined ? { sockets: f.sockets as number } : {}),
    ...(f.preference !== undefined ? { preference: f.preference as number } : {}),
    ...(f.source !== undefined ? { source: f.source as string } : {}),
    ...(f.retransmitTries !== undefined ? { retransmitTries: f.retransmitTries as number } : {}),
    ...(f.retransmitTimeoutMs !== undefined ? { retransmitTimeoutMs: f.retransmitTimeoutMs as number } : {}),
    ...(f.retransmitBase !== undefined ? { retransmitBase: f.retransmitBase as number } : {}),
  });
}

const PLUGIN_KEYS = new Set(['server', 'eap_start', 'id_prefix', 'accounting', 'accounting_interval', 'accounting_send_class', 'class_group', 'station_id_with_port']);

/**
 * Reads `charon.plugins.eap-radius` from a parsed strongswan.conf (`charon` section). No section, or one
 * with no server: no settings. Throws ConfigError (one, or MULTIPLE) naming file:line for every bad value.
 */
export function eapRadiusSettingsFrom(charon: SettingsSection | undefined): EapRadiusResult {
  const section = charon?.sections.get('plugins')?.sections.get('eap-radius');
  const ignored: { key: string; loc: SourceLocation }[] = [];
  if (!section) return { ignored };
  const errors: ConfigError[] = [];
  const flags: { -readonly [K in keyof RadiusSettings]?: RadiusSettings[K] } = {};
  for (const [key, k] of section.keys) {
    const path = `${PREFIX}.${key}`;
    try {
      switch (key) {
        case 'eap_start': flags.eapStart = parseBool(value(k)); break;
        case 'id_prefix': flags.idPrefix = value(k); break;
        case 'accounting': flags.accounting = parseBool(value(k)); break;
        case 'accounting_interval': flags.accountingIntervalMs = parseDurationMs(value(k)); break;
        case 'accounting_send_class': flags.accountingSendClass = parseBool(value(k)); break;
        case 'class_group': flags.classGroup = parseBool(value(k)); break;
        case 'station_id_with_port': flags.stationIdWithPort = parseBool(value(k)); break;
        default:
          if (KNOWN_UNUSED.has(key)) ignored.push({ key: path, loc: k.loc });
      }
    } catch (e) {
      errors.push(problem(path, k, e));
    }
  }
  // plugin-wide server keys: the flat form's values and the defaults of `servers` entries
  const skip = new Set([...PLUGIN_KEYS, ...KNOWN_UNUSED]);
  const { fields: defaults } = serverFields(section, PREFIX, errors, ignored, skip);
  for (const [name, sub] of section.sections) if (name !== 'servers') ignored.push({ key: `${PREFIX}.${name}`, loc: sub.loc });

  const servers: RadiusServerConfig[] = [];
  const flat = section.keys.get('server');
  const named = section.sections.get('servers');
  if (flat) {
    // strongSwan's legacy form: `server` is the address and, when set, the `servers` section is not read
    const address = value(flat).trim();
    if (address === '') errors.push(new ConfigError('INVALID_VALUE', flat.loc, `${PREFIX}.server: expected a host name or IP address`));
    else if (defaults.secret === undefined) errors.push(new ConfigError('INCONSISTENT', flat.loc, `${PREFIX}.server = ${address} has no ${PREFIX}.secret`));
    else servers.push(toServer(address, { ...defaults, address }));
    if (named) ignored.push({ key: `${PREFIX}.servers`, loc: named.loc });
  } else if (named) {
    // a plugin-wide `address` has no meaning in strongSwan (its flat form says `server`); don't pretend it does
    if (defaults.address !== undefined) ignored.push({ key: `${PREFIX}.address`, loc: section.keys.get('address')?.loc ?? section.loc });
    for (const [key, k] of named.keys) ignored.push({ key: `${PREFIX}.servers.${key}`, loc: k.loc });
    for (const [name, sub] of named.sections) {
      const path = `${PREFIX}.servers.${name}`;
      const { fields } = serverFields(sub, path, errors, ignored, new Set());
      const f: Fields = { ...defaults, address: undefined, ...fields };
      if (f.address === undefined) errors.push(new ConfigError('INCONSISTENT', sub.loc, `${path}: no address (strongSwan skips such a server)`));
      else if (f.secret === undefined) errors.push(new ConfigError('INCONSISTENT', sub.loc, `${path}: no secret (strongSwan skips such a server)`));
      else servers.push(toServer(name, f));
    }
  } else if (defaults.address !== undefined) {
    const at = section.keys.get('address')?.loc ?? section.loc;
    errors.push(new ConfigError('INVALID_VALUE', at, `${PREFIX}.address: strongSwan's flat form names the RADIUS server \`server = ${defaults.address as string}\` (or use servers { NAME { address = ... } })`));
  }
  if (errors.length > 0) throw ConfigError.combine(errors);
  if (servers.length === 0) return { ignored };
  return { settings: radiusSettings({ servers, ...flags }), ignored };
}
