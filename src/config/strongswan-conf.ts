/**
 * The global settings strongSwan keeps in strongswan.conf (`charon { ... }`), for the daemon-wide knobs that
 * swanctl.conf does not carry: retransmission, make-before-break, fragment size, cookie and half-open limits
 * (cookie_threshold, cookie_threshold_ip, block_threshold, init_limit_half_open, ikesa_limit, dos_protection,
 * half_open_timeout), max_packet, NAT-T keepalive interval. Same syntax and key names as strongSwan, so an
 * existing strongswan.conf can be pointed at (`cygnet daemon --settings /etc/strongswan.conf`); keys cygnet does
 * not use are reported, not fatal.
 */
import type { EndpointSettings } from '../ike/config.js';
import { DEFAULT_SETTINGS } from '../ike/config.js';
import type { RadiusSettings } from '../radius/config.js';
import { eapRadiusSettingsFrom } from './eap-radius.js';
import { ConfigError, type SourceLocation } from './errors.js';
import { parseProblems, parseSettings, type ConfigIo, type ReadFileFn, type SettingsSection } from './parser.js';
import { parseBool, parseDurationMs, ValueProblem } from './values.js';

export interface GlobalSettings {
  readonly endpoint: Partial<EndpointSettings>;
  /** charon.fragment_size: applies to every connection (bytes of IP datagram). */
  readonly fragmentSize?: number;
  /** charon.reuse_ikesa (default yes): further CHILD SAs of a connection go over its IKE SA (src/gateway/child-starter.ts). */
  readonly reuseIkeSa?: boolean;
  /** charon.plugins.eap-radius (./eap-radius.ts), when it names a RADIUS server. */
  readonly radius?: RadiusSettings;
  /** charon.* keys that cygnet reads no meaning from, with where they are. */
  readonly ignored: readonly { key: string; loc: SourceLocation }[];
}

function seconds(raw: string, key: string, loc: SourceLocation): number {
  const v = Number(raw.trim());
  if (!Number.isFinite(v) || v < 0) throw new ConfigError('INVALID_VALUE', loc, `charon.${key}: expected a number of seconds like 4.0, got '${raw}'`);
  return Math.round(v * 1000);
}

function positive(raw: string, key: string, loc: SourceLocation, max = Number.MAX_SAFE_INTEGER): number {
  const v = Number(raw.trim());
  if (!Number.isInteger(v) || v < 0 || v > max) throw new ConfigError('INVALID_VALUE', loc, `charon.${key}: expected a whole number${max < Number.MAX_SAFE_INTEGER ? ` up to ${max}` : ''}, got '${raw}'`);
  return v;
}

export function globalSettingsFrom(root: SettingsSection): GlobalSettings {
  // several settings on one line, a '.' in a name: charon would read them otherwise (or not at all)
  const problems = parseProblems(root);
  if (problems.length > 0) throw ConfigError.combine(problems);
  const charon = root.sections.get('charon');
  const ignored: { key: string; loc: SourceLocation }[] = [];
  if (!charon) return { endpoint: {}, ignored };
  const rt = { ...DEFAULT_SETTINGS.retransmit };
  const endpoint: { -readonly [K in keyof EndpointSettings]?: EndpointSettings[K] } = {};
  let fragmentSize: number | undefined;
  let reuseIkeSa: boolean | undefined;
  let retransmitSet = false;
  let dosProtection = true;
  let maxPacket: number | undefined;
  for (const [key, k] of charon.keys) {
    const raw = k.value ?? '';
    const at = k.loc;
    const wrap = <T>(f: () => T): T => {
      try {
        return f();
      } catch (e) {
        if (e instanceof ConfigError) throw e;
        const why = e instanceof ValueProblem ? (e.plain ? e.expected : `expected ${e.expected}, got '${raw}'`) : e instanceof Error ? e.message : String(e);
        throw new ConfigError('INVALID_VALUE', at, `charon.${key}: ${why}`);
      }
    };
    switch (key) {
      case 'retransmit_timeout': rt.timeoutMs = seconds(raw, key, at); retransmitSet = true; break;
      case 'retransmit_base': {
        const v = Number(raw.trim());
        if (!Number.isFinite(v) || v < 1) throw new ConfigError('INVALID_VALUE', at, `charon.${key}: expected a number >= 1 like 1.8, got '${raw}'`);
        rt.base = v;
        retransmitSet = true;
        break;
      }
      case 'retransmit_tries': rt.tries = positive(raw, key, at, 100); retransmitSet = true; break;
      case 'retransmit_limit': rt.limitMs = seconds(raw, key, at); retransmitSet = true; break;
      case 'retransmit_jitter': rt.jitterPercent = positive(raw, key, at, 100); retransmitSet = true; break;
      case 'make_before_break': endpoint.makeBeforeBreak = wrap(() => parseBool(raw)); break;
      case 'fragment_size': fragmentSize = positive(raw, key, at, 65535); break;
      case 'reuse_ikesa': reuseIkeSa = wrap(() => parseBool(raw)); break;
      // DoS limits (src/ike/limits.ts): 0 turns each off, as in strongSwan.
      case 'cookie_threshold': endpoint.cookieThreshold = positive(raw, key, at); break;
      case 'cookie_threshold_ip': endpoint.cookieThresholdIp = positive(raw, key, at); break;
      case 'block_threshold': endpoint.blockThreshold = positive(raw, key, at); break;
      case 'init_limit_half_open': endpoint.initLimitHalfOpen = positive(raw, key, at); break;
      case 'ikesa_limit': endpoint.ikesaLimit = positive(raw, key, at); break;
      case 'dos_protection': dosProtection = wrap(() => parseBool(raw)); break;
      // strongSwan's largest IKE message (default 10000); bounds what one fragmented message may reassemble to.
      case 'max_packet': maxPacket = positive(raw, key, at, 65535); break;
      case 'keep_alive': endpoint.keepaliveMs = wrap(() => parseDurationMs(raw)); break;
      case 'half_open_timeout': endpoint.halfOpenTimeoutMs = wrap(() => parseDurationMs(raw)); break;
      default: ignored.push({ key: `charon.${key}`, loc: at });
    }
  }
  if (retransmitSet) endpoint.retransmit = rt;
  // charon.dos_protection = no: no cookies and no per-IP block, whatever the thresholds say (receiver.c).
  if (!dosProtection) Object.assign(endpoint, { cookieThreshold: 0, cookieThresholdIp: 0, blockThreshold: 0 });
  if (maxPacket !== undefined && maxPacket > 0) endpoint.reassembly = { ...DEFAULT_SETTINGS.reassembly, maxBytes: maxPacket };
  const radius = eapRadiusSettingsFrom(charon);
  ignored.push(...radius.ignored);
  return { endpoint, ...(fragmentSize !== undefined ? { fragmentSize } : {}), ...(reuseIkeSa !== undefined ? { reuseIkeSa } : {}), ...(radius.settings ? { radius: radius.settings } : {}), ignored };
}

/** Parses strongswan.conf text (includes resolved through `io`). Throws ConfigError with file:line. */
export function parseStrongswanConf(text: string, file = 'strongswan.conf', io?: ConfigIo | ReadFileFn): GlobalSettings {
  return globalSettingsFrom(parseSettings(text, file, io));
}
