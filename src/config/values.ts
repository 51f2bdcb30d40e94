/**
 * Parsers for the value forms of swanctl.conf, following what strongSwan's vici plugin accepts
 * (libcharon/plugins/vici/vici_config.c: parse_time, parse_bytes, parse_bool, parse_ts, ...) and the list
 * splitting swanctl does before it sends a value (comma separated, blanks trimmed).
 *
 * Each parser returns the value or throws a ValueProblem naming the expected form; the schema turns that into
 * a ConfigError at the key's file:line.
 *
 * One deliberate difference: strongSwan reads integers with strtoul(..., 0), so `010` is octal 8. An
 * administrator writing `rekey_time = 010m` almost surely means ten minutes, so a leading zero is refused here
 * rather than silently read either way.
 */
import { parseIp, parseRange, parseSubnet, type IpAddress, type IpFamily } from './ip.js';

export class ValueProblem {
  /**
   * @param expected the form the value should have ("a duration like 30s, 1h"), or with `plain` a complete
   *   statement of what is wrong
   */
  constructor(
    readonly expected: string,
    readonly plain = false,
  ) {}
}

function fail(expected: string): never {
  throw new ValueProblem(expected);
}

/** Split a list value: comma separated, items trimmed, empty items dropped. */
export function splitList(raw: string): string[] {
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

const INT_RE = /^(0[xX][0-9a-fA-F]+|0|[1-9][0-9]*)$/;

/** A non-negative integer, decimal or 0x hex, up to `max`. */
export function parseUint(raw: string, max: number, what = 'a number'): number {
  const s = raw.trim();
  if (/^0[0-9]+$/.test(s)) fail(`${what} without a leading 0 (strongSwan would read it as octal)`);
  if (!INT_RE.test(s)) fail(what);
  const n = Number(s);
  if (!Number.isSafeInteger(n) || n > max) fail(`${what} no larger than ${max}`);
  return n;
}

export const UINT32_MAX = 0xffffffff;

/** Time in seconds as strongSwan writes it: a number with an optional s, m, h or d suffix. */
export function parseDurationSeconds(raw: string): number {
  // like strtoul(..., 0): hex digits are taken greedily, so 0x1d is 29 seconds, not one day
  const m = /^\s*(0[xX][0-9a-fA-F]+|[0-9]+)\s*([smhdSMHD])?\s*$/.exec(raw);
  const expected = 'a duration like 30s, 10m, 1h or 1d (a bare number is seconds)';
  if (m === null) fail(expected);
  const n = parseUint(m[1]!, UINT32_MAX, expected);
  const unit = (m[2] ?? 's').toLowerCase();
  const mult = unit === 'd' ? 86400 : unit === 'h' ? 3600 : unit === 'm' ? 60 : 1;
  return n * mult;
}

/** Durations are kept in milliseconds in the typed configuration. */
export function parseDurationMs(raw: string): number {
  return parseDurationSeconds(raw) * 1000;
}

/** Byte volume: a number with an optional k, m or g suffix (powers of 1024), as parse_bytes() reads it. */
export function parseBytes(raw: string): number {
  const expected = 'a byte count like 500000, 512k, 100m or 2g';
  const m = /^\s*(0[xX][0-9a-fA-F]+|[0-9]+)\s*([kKmMgG])?\s*$/.exec(raw);
  if (m === null) fail(expected);
  const n = parseUint(m[1]!, Number.MAX_SAFE_INTEGER, expected);
  const unit = (m[2] ?? '').toLowerCase();
  const mult = unit === 'g' ? 1024 ** 3 : unit === 'm' ? 1024 ** 2 : unit === 'k' ? 1024 : 1;
  const v = n * mult;
  if (!Number.isSafeInteger(v)) fail(`${expected}, below 2^53`);
  return v;
}

/** Packet counts take no suffix in strongSwan (parse_uint64). */
export function parsePackets(raw: string): number {
  return parseUint(raw, Number.MAX_SAFE_INTEGER, 'a packet count (a plain number, no suffix)');
}

const TRUE_WORDS = new Set(['yes', 'true', 'enabled', '1']);
const FALSE_WORDS = new Set(['no', 'false', 'disabled', '0']);

export function parseBool(raw: string): boolean {
  const s = raw.trim().toLowerCase();
  if (TRUE_WORDS.has(s)) return true;
  if (FALSE_WORDS.has(s)) return false;
  fail('yes or no (also true/false, enabled/disabled, 1/0)');
}

/** One of a fixed set of words, case-insensitive as strongSwan's parse_map(); aliases map to a canonical word. */
export function parseEnum<T extends string>(raw: string, words: readonly T[], aliases: Record<string, T> = {}): T {
  const s = raw.trim().toLowerCase();
  for (const w of words) if (w === s) return w;
  const a = Object.hasOwn(aliases, s) ? aliases[s] : undefined;
  if (a !== undefined) return a;
  fail(`one of ${words.join(', ')}`);
}

export function parsePort(raw: string): number {
  return parseUint(raw, 65535, 'a UDP port number (0-65535)');
}

// ---------------------------------------------------------------------------------------------------------
// Addresses

export type AddressSpec =
  | { readonly kind: 'any'; readonly family?: IpFamily }
  | { readonly kind: 'ip'; readonly address: IpAddress }
  | { readonly kind: 'subnet'; readonly network: IpAddress; readonly prefix: number; readonly first: IpAddress; readonly last: IpAddress }
  | { readonly kind: 'range'; readonly first: IpAddress; readonly last: IpAddress }
  | { readonly kind: 'fqdn'; readonly name: string };

const LABEL_RE = /^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/;

export function isDnsName(s: string): boolean {
  const name = s.endsWith('.') ? s.slice(0, -1) : s;
  if (name.length === 0 || name.length > 253) return false;
  const labels = name.split('.');
  if (!labels.every((l) => LABEL_RE.test(l))) return false;
  // an all-numeric last label is a mistyped address, not a host name
  return !/^[0-9]+$/.test(labels[labels.length - 1]!);
}

/** One entry of local_addrs/remote_addrs: %any, %any4, %any6, an address, a CIDR subnet, a range or a DNS name. */
export function parseAddressSpec(raw: string): AddressSpec {
  const s = raw.trim();
  const expected = 'an IP address, a CIDR subnet, a range a-b, a DNS name or %any';
  const lower = s.toLowerCase();
  if (lower === '%any') return { kind: 'any' };
  if (lower === '%any4') return { kind: 'any', family: 4 };
  if (lower === '%any6') return { kind: 'any', family: 6 };
  const ip = parseIp(s);
  if (ip !== undefined) return { kind: 'ip', address: ip };
  if (s.includes('/')) {
    rejectNetmask(s);
    const sub = parseSubnet(s);
    if (sub === undefined) fail(expected);
    return { kind: 'subnet', network: sub.network, prefix: sub.prefix, first: sub.first, last: sub.last };
  }
  if (s.includes('-') && /^[0-9a-fA-F:.\s-]+$/.test(s)) {
    const r = parseRange(s);
    if (r !== undefined) return { kind: 'range', first: r.first, last: r.last };
  }
  if (isDnsName(s)) return { kind: 'fqdn', name: s };
  fail(expected);
}

export function parseAddressList(raw: string): AddressSpec[] {
  const items = splitList(raw);
  if (items.length === 0) fail('at least one address, subnet, range, DNS name or %any');
  return items.map(parseAddressSpec);
}

/** A virtual IP to request: an address; 0.0.0.0 and :: ask for any. */
export function parseVip(raw: string): IpAddress {
  const ip = parseIp(raw.trim());
  if (ip === undefined) fail('an IP address (0.0.0.0 or :: to request any)');
  return ip;
}

// ---------------------------------------------------------------------------------------------------------
// Traffic selectors (swanctl.conf local_ts / remote_ts; RFC 7296 section 3.13.1)

export interface TrafficSelectorSpec {
  /** dynamic: replaced by the outer address or the virtual IP when the SA is negotiated. */
  readonly kind: 'dynamic' | 'subnet' | 'range';
  readonly family?: IpFamily;
  /** First and last address (for subnet and range). */
  readonly first?: IpAddress;
  readonly last?: IpAddress;
  /** For subnet: the prefix length. */
  readonly prefix?: number;
  /** IP protocol number, 0 for any. */
  readonly protocol: number;
  /** Port range; 0-65535 is any; OPAQUE (RFC 4301) is fromPort 65535, toPort 0 as in strongSwan. */
  readonly fromPort: number;
  readonly toPort: number;
  /** The selector as written, for messages. */
  readonly text: string;
}

/** getprotobyname(3) for the protocols selectors name in practice. */
export const PROTOCOLS: Readonly<Record<string, number>> = {
  icmp: 1,
  igmp: 2,
  ipencap: 4,
  ipip: 4,
  tcp: 6,
  udp: 17,
  ipv6: 41,
  gre: 47,
  esp: 50,
  ah: 51,
  'ipv6-icmp': 58,
  icmpv6: 58,
  ospf: 89,
  l2tp: 115,
  sctp: 132,
  udplite: 136,
};

/** getservbyname(3) for common services; anything else can be given by number. */
export const SERVICES: Readonly<Record<string, number>> = {
  'ftp-data': 20,
  ftp: 21,
  ssh: 22,
  telnet: 23,
  smtp: 25,
  domain: 53,
  bootps: 67,
  bootpc: 68,
  tftp: 69,
  http: 80,
  www: 80,
  pop3: 110,
  ntp: 123,
  imap: 143,
  imap2: 143,
  snmp: 161,
  ldap: 389,
  https: 443,
  isakmp: 500,
  syslog: 514,
  submission: 587,
  ldaps: 636,
  imaps: 993,
  pop3s: 995,
  openvpn: 1194,
  l2tp: 1701,
  radius: 1812,
  mysql: 3306,
  'ms-wbt-server': 3389,
  'ipsec-nat-t': 4500,
  postgresql: 5432,
};

function parsePortSpec(port: string, expected: string): [number, number] {
  if (port === '' || port === 'any') return [0, 65535];
  if (port === 'opaque') return [65535, 0];
  const svc = Object.hasOwn(SERVICES, port) ? SERVICES[port] : undefined;
  if (svc !== undefined) return [svc, svc];
  const m = /^([0-9]+|0x[0-9a-fA-F]+)(?:-([0-9]+|0x[0-9a-fA-F]+))?$/.exec(port);
  if (m === null) fail(expected);
  const from = parseUint(m[1]!, 65535, expected);
  const to = m[2] !== undefined ? parseUint(m[2], 65535, expected) : from;
  if (to < from) fail(`${expected} (port range from <= to)`);
  return [from, to];
}

/**
 * `192.168.0.0/255.255.255.0` (the dotted netmask some GUIs accept, seed 000) is not strongSwan syntax; say
 * what to write instead.
 */
function rejectNetmask(s: string): void {
  const m = /^([0-9.]+)\/([0-9]+\.[0-9]+\.[0-9]+\.[0-9]+)$/.exec(s);
  if (m === null) return;
  const mask = parseIp(m[2]!);
  if (mask === undefined || mask.family !== 4) return;
  const bits = Array.from(mask.bytes).map((b) => b.toString(2).padStart(8, '0')).join('');
  if (!/^1*0*$/.test(bits)) throw new ValueProblem(`a CIDR prefix length, not a netmask ('${m[2]}' is not even contiguous)`);
  const prefix = bits.indexOf('0') === -1 ? 32 : bits.indexOf('0');
  throw new ValueProblem(`a netmask is not accepted, write the prefix length: ${m[1]}/${prefix}`, true);
}

export function parseTrafficSelector(raw: string): TrafficSelectorSpec {
  const text = raw.trim();
  const expected =
    'a traffic selector like 10.0.0.0/24, 10.0.0.0/24[tcp/80], 10.0.0.1-10.0.0.9, ::/0 or dynamic (optionally [proto/port])';
  let base = text;
  let protocol = 0;
  let fromPort = 0;
  let toPort = 65535;
  const open = text.indexOf('[');
  if (open !== -1) {
    if (!text.endsWith(']')) fail(expected);
    base = text.slice(0, open).trim();
    const inner = text.slice(open + 1, -1).trim();
    const slash = inner.indexOf('/');
    const proto = slash === -1 ? inner : inner.slice(0, slash);
    const port = slash === -1 ? '' : inner.slice(slash + 1);
    if (proto === '' || proto === 'any') protocol = 0;
    else if (Object.hasOwn(PROTOCOLS, proto.toLowerCase())) protocol = PROTOCOLS[proto.toLowerCase()]!;
    else protocol = parseUint(proto, 255, `${expected}; the protocol is a name (tcp, udp, icmp...) or 0-255`);
    [fromPort, toPort] = parsePortSpec(port, `${expected}; the port is a number, a range a-b, a service name, any or opaque`);
  }
  if (base === 'dynamic') return { kind: 'dynamic', protocol, fromPort, toPort, text };
  rejectNetmask(base);
  if (base.includes('-')) {
    const r = parseRange(base);
    if (r === undefined) fail(expected);
    return { kind: 'range', family: r.first.family, first: r.first, last: r.last, protocol, fromPort, toPort, text };
  }
  const sub = parseSubnet(base);
  if (sub === undefined) fail(expected);
  return {
    kind: 'subnet',
    family: sub.network.family,
    first: sub.first,
    last: sub.last,
    prefix: sub.prefix,
    protocol,
    fromPort,
    toPort,
    text,
  };
}

export function parseTrafficSelectors(raw: string): TrafficSelectorSpec[] {
  const items = splitList(raw);
  if (items.length === 0) fail('at least one traffic selector (or dynamic)');
  return items.map(parseTrafficSelector);
}

// ---------------------------------------------------------------------------------------------------------
// Proposals. Validation against the algorithm tables is done by the schema through an injected validator
// (src/crypto/proposals.ts's parseProposals once it exists); here only the shape is checked.

const PROPOSAL_RE = /^[A-Za-z0-9_]+(?:-[A-Za-z0-9_]+)*$/;

export function parseProposalList(raw: string): string[] {
  const items = splitList(raw);
  if (items.length === 0) fail('at least one proposal, e.g. aes256gcm16-prfsha384-ecp384, or default');
  for (const p of items) {
    if (!PROPOSAL_RE.test(p)) fail(`proposals of dash-separated algorithm keywords, e.g. aes128-sha256-x25519 (not '${p}')`);
  }
  return items;
}

// ---------------------------------------------------------------------------------------------------------
// Secrets: ASCII, 0x hex or 0s base64 (swanctl.conf secrets.ike<suffix>.secret)

export function parseSecret(raw: string): Uint8Array {
  if (/^0x/i.test(raw)) {
    const hex = raw.slice(2).replace(/[:\s]/g, '');
    if (hex.length === 0 || hex.length % 2 !== 0 || !/^[0-9a-fA-F]+$/.test(hex)) {
      fail('a secret: text, 0x followed by an even number of hex digits, or 0s followed by base64');
    }
    const out = new Uint8Array(hex.length / 2);
    for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
    return out;
  }
  if (/^0s/i.test(raw)) {
    const b64 = raw.slice(2).replace(/\s/g, '');
    if (b64.length === 0 || b64.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) {
      fail('a secret: text, 0x followed by hex, or 0s followed by valid base64');
    }
    return new Uint8Array(Buffer.from(b64, 'base64'));
  }
  if (raw.length === 0) fail('a non-empty secret');
  return new TextEncoder().encode(raw);
}

// ---------------------------------------------------------------------------------------------------------
// Identities are kept as written; the IKE/PKI layers give them their ID type (RFC 7296 section 3.5).

export function parseIdentity(raw: string): string {
  const s = raw.trim();
  if (s === '') fail('an identity: an IP address, a DNS name, an email address, a DN like "C=CH, O=org, CN=host" or %any');
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f]/.test(s)) fail('an identity without control characters');
  // `id = @#0123abcd` unquoted is `@` followed by a comment: the key id would silently become an empty FQDN
  if (s === '@' || s === '@@') fail(`an identity; '#' starts a comment, so write a key id in quotes: "@#0123abcd"`);
  return s;
}
