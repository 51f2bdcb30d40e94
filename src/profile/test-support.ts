/**
 * Test helpers for src/profile: checkers written from each format's documentation, independent of the writers,
 * so a writer bug shows up as a failed check rather than being mirrored.
 *  - parsePlist: a strict XML property list reader (Apple's PropertyList-1.0 DTD; what `plutil -lint` checks):
 *    well-formed XML, only the DTD's elements, <key> before every dict value, no duplicate keys, valid integers
 *    and base64, and only the five predefined entities and numeric character references.
 *  - checkPowerShell: the script's lexical sanity: balanced quotes (single-quoted strings with '' escapes, double
 *    with backtick escapes), balanced (), {} and [], one cmdlet call per line.
 *  - checkSswan: the strongSwan Android profile schema (docs.strongswan.org/docs/latest/os/androidVpnClientProfiles.html).
 * A fixture loader takes the file reader as a parameter (core folders do no file I/O, even in helpers).
 */
import { parseSettings } from '../config/parser.js';
import { parseIp } from '../config/ip.js';
import { parseProposal } from '../crypto/proposals.js';
import { buildForProfile, profileInput, type ProfileOptions } from './from-config.js';
import type { ClientProfileInput } from './input.js';

// ---------------------------------------------------------------------------------------------------------
// Plist

export type PlistParsed = string | number | boolean | Uint8Array | PlistParsed[] | { [key: string]: PlistParsed };

class PlistSyntaxError extends Error {}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decodeText(raw: string, at: number): string {
  if (raw.includes('<')) throw new PlistSyntaxError(`'<' in character data at ${at}`);
  return raw.replace(/&([^;]*);?/g, (m, name: string) => {
    if (!m.endsWith(';')) throw new PlistSyntaxError(`unterminated entity '${m}' at ${at}`);
    if (name in ENTITIES) return ENTITIES[name] ?? '';
    const num = /^#(?:x([0-9a-fA-F]+)|([0-9]+))$/.exec(name);
    if (num !== null) return String.fromCodePoint(parseInt(num[1] ?? num[2] ?? '', num[1] !== undefined ? 16 : 10));
    throw new PlistSyntaxError(`unknown entity '&${name};' at ${at}`);
  });
}

/** Parses a whole XML plist document, throwing on anything a strict reader would refuse. */
export function parsePlist(text: string): PlistParsed {
  let pos = 0;
  const fail = (why: string): never => {
    throw new PlistSyntaxError(`${why} (at offset ${pos}: '${text.slice(pos, pos + 30)}')`);
  };
  const skipWs = () => {
    while (pos < text.length && /\s/.test(text[pos] ?? '')) pos++;
  };
  const expect = (s: string) => {
    if (!text.startsWith(s, pos)) fail(`expected '${s}'`);
    pos += s.length;
  };
  if (!/^<\?xml version="1\.0" encoding="UTF-8"\?>\r?\n/.test(text)) fail('no XML declaration with version 1.0 and UTF-8');
  pos = text.indexOf('>') + 1;
  skipWs();
  expect('<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">');
  skipWs();
  expect('<plist version="1.0">');
  type Tag = { name: string; close: boolean; empty: boolean };
  const tag = (): Tag => {
    skipWs();
    const m = /^<(\/?)([a-z]+)\s*(\/?)>/.exec(text.slice(pos));
    if (m === null) return fail('expected an element');
    pos += m[0].length;
    return { name: m[2] ?? '', close: m[1] === '/', empty: m[3] === '/' };
  };
  const textUntil = (name: string): string => {
    const end = text.indexOf(`</${name}>`, pos);
    if (end < 0) fail(`no </${name}>`);
    const raw = text.slice(pos, end);
    const at = pos;
    pos = end + name.length + 3;
    return decodeText(raw, at);
  };
  const value = (t: Tag): PlistParsed => {
    if (t.close) return fail(`unexpected </${t.name}>`);
    switch (t.name) {
      case 'true':
      case 'false':
        if (!t.empty) fail(`<${t.name}> must be empty (<${t.name}/>)`);
        return t.name === 'true';
      case 'string':
        return t.empty ? '' : textUntil('string');
      case 'integer': {
        const s = textUntil('integer').trim();
        if (!/^[+-]?[0-9]+$/.test(s)) fail(`'${s}' is not an integer`);
        return Number(s);
      }
      case 'data': {
        const s = textUntil('data').replace(/\s+/g, '');
        if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(s)) fail('<data> is not base64');
        return new Uint8Array(Buffer.from(s, 'base64'));
      }
      case 'array': {
        const out: PlistParsed[] = [];
        if (t.empty) return out;
        for (;;) {
          const n = tag();
          if (n.close) {
            if (n.name !== 'array') fail(`</${n.name}> closes <array>`);
            return out;
          }
          out.push(value(n));
        }
      }
      case 'dict': {
        const out: { [key: string]: PlistParsed } = {};
        if (t.empty) return out;
        for (;;) {
          const k = tag();
          if (k.close) {
            if (k.name !== 'dict') fail(`</${k.name}> closes <dict>`);
            return out;
          }
          if (k.name !== 'key' || k.empty) fail(`<${k.name}> where a <key> must come`);
          const key = textUntil('key');
          if (Object.hasOwn(out, key)) fail(`duplicate key '${key}'`);
          out[key] = value(tag());
        }
      }
      default:
        return fail(`<${t.name}> is not a plist element`);
    }
  };
  const root = value(tag());
  const end = tag();
  if (!end.close || end.name !== 'plist') fail('expected </plist>');
  skipWs();
  if (pos !== text.length) fail('content after </plist>');
  return root;
}

export function isPlistDict(v: PlistParsed | undefined): v is { [key: string]: PlistParsed } {
  return typeof v === 'object' && v !== null && !(v instanceof Uint8Array) && !Array.isArray(v);
}

// ---------------------------------------------------------------------------------------------------------
// PowerShell

/** The cmdlets a generated script may call, each at the start of its own line. */
export const SCRIPT_CMDLETS = [
  'Import-Certificate',
  'Import-PfxCertificate',
  'Remove-Item',
  'Read-Host',
  'New-EapConfiguration',
  'Add-VpnConnection',
  'Set-VpnConnectionIPsecConfiguration',
  'Add-VpnConnectionRoute',
  'Join-Path',
  'Write-Host',
] as const;

/**
 * Problems with the script's lexical structure (empty when sane): unbalanced quotes or brackets, a cmdlet not at
 * the start of its statement, or two cmdlet calls on one line outside strings and pipes.
 */
export function checkPowerShell(script: string): string[] {
  const problems: string[] = [];
  const lines = script.split(/\r?\n/);
  const stack: string[] = [];
  const pairs: Record<string, string> = { ')': '(', '}': '{', ']': '[' };
  lines.forEach((line, i) => {
    const where = `line ${i + 1}`;
    if (line.trimStart().startsWith('#')) return;
    let code = '';
    let j = 0;
    while (j < line.length) {
      const c = line[j] ?? '';
      if (c === "'") {
        j++;
        for (;;) {
          if (j >= line.length) {
            problems.push(`${where}: unterminated single-quoted string`);
            break;
          }
          if (line[j] === "'") {
            if (line[j + 1] === "'") j += 2;
            else break;
          } else j++;
        }
        j++;
        code += ' S ';
      } else if (c === '"') {
        j++;
        for (;;) {
          if (j >= line.length) {
            problems.push(`${where}: unterminated double-quoted string`);
            break;
          }
          if (line[j] === '`') j += 2;
          else if (line[j] === '"') break;
          else j++;
        }
        j++;
        code += ' S ';
      } else if (c === '#') break;
      else {
        if ('({['.includes(c)) stack.push(c);
        if (')}]'.includes(c) && stack.pop() !== pairs[c]) problems.push(`${where}: unbalanced '${c}'`);
        code += c;
        j++;
      }
    }
    const calls = SCRIPT_CMDLETS.filter((cmd) => new RegExp(`(^|[^\\w-])${cmd}(?![\\w-])`).test(code));
    for (const cmd of calls) {
      const at = code.indexOf(cmd);
      const before = code.slice(0, at).trim();
      // A cmdlet starts the line, follows `$x =`, or sits inside (...) / after a pipe.
      if (before !== '' && !/(=|\(|\|)$/.test(before)) problems.push(`${where}: ${cmd} is not at the start of a statement`);
    }
    const statements = code.split(/[;|]/).filter((s) => SCRIPT_CMDLETS.some((cmd) => s.includes(cmd)));
    if (code.includes(';') && statements.length > 1) problems.push(`${where}: two cmdlet calls on one line`);
  });
  if (stack.length > 0) problems.push(`unclosed '${stack.join('')}' at the end`);
  return problems;
}

/** The parameters of the first call of `cmdlet`: `-Name value` pairs (switches map to true). */
export function cmdletParameters(script: string, cmdlet: string): Map<string, string | true> | undefined {
  const line = script.split(/\r?\n/).find((l) => l.startsWith(`${cmdlet} `) || l === cmdlet);
  if (line === undefined) return undefined;
  const out = new Map<string, string | true>();
  const tokens = line.slice(cmdlet.length).match(/'(?:[^']|'')*'|"[^"]*"|\S+/g) ?? [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] ?? '';
    if (!t.startsWith('-')) continue;
    const next = tokens[i + 1];
    if (next === undefined || next.startsWith('-')) out.set(t.slice(1), true);
    else {
      out.set(t.slice(1), next.startsWith("'") ? next.slice(1, -1).replace(/''/g, "'") : next);
      i++;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// strongSwan Android .sswan

/** The documented profile types (androidVpnClientProfiles.html, "type"). */
export const SSWAN_TYPES = ['ikev2-eap', 'ikev2-cert', 'ikev2-cert-eap', 'ikev2-eap-tls', 'ikev2-byod-eap'] as const;

type FieldType = 'string' | 'integer' | 'boolean' | 'object' | 'array' | 'string|array';
interface Field {
  readonly type: FieldType;
  readonly required?: boolean;
  readonly check?: (v: unknown) => string | undefined;
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;
const isBase64 = (v: unknown) =>
  typeof v === 'string' && /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(v) ? undefined : 'not base64';
const proposalCheck = (protocol: 'ike' | 'esp') => (v: unknown) => {
  try {
    parseProposal(String(v), protocol);
    return undefined;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
};
const range = (min: number, max: number) => (v: unknown) => (typeof v === 'number' && v >= min && v <= max ? undefined : `not in ${min}..${max}`);
const subnetList = (v: unknown) => {
  const items = Array.isArray(v) ? v : String(v).split(/\s+/);
  for (const s of items) {
    const m = /^([^/\s-]+)(?:\/(\d+)|-([^/\s]+))?$/.exec(String(s));
    const ok = m !== null && parseIp(m[1] ?? '') !== undefined && (m[3] === undefined || parseIp(m[3]) !== undefined);
    if (!ok) return `'${String(s)}' is not an address, subnet or range`;
  }
  return undefined;
};
const addressList = (v: unknown) => {
  const items = Array.isArray(v) ? v : String(v).split(/\s+/);
  for (const s of items) {
    if (parseIp(String(s)) === undefined) return `'${String(s)}' is not an IP address`;
  }
  return undefined;
};

/** The documented keys, dotted for sub-objects; anything else is reported as unknown. */
export const SSWAN_SCHEMA: Readonly<Record<string, Field>> = {
  uuid: { type: 'string', required: true, check: (v) => (UUID_RE.test(String(v)) ? undefined : 'not an RFC 4122 UUID') },
  name: { type: 'string', required: true },
  type: { type: 'string', required: true, check: (v) => ((SSWAN_TYPES as readonly string[]).includes(String(v)) ? undefined : `not one of ${SSWAN_TYPES.join(', ')}`) },
  remote: { type: 'object', required: true },
  'remote.addr': { type: 'string', required: true },
  'remote.port': { type: 'integer', check: range(1, 65535) },
  'remote.id': { type: 'string' },
  'remote.cert': { type: 'string', check: isBase64 },
  'remote.certreq': { type: 'boolean' },
  'remote.revocation': { type: 'object' },
  'remote.revocation.crl': { type: 'boolean' },
  'remote.revocation.ocsp': { type: 'boolean' },
  'remote.revocation.strict': { type: 'boolean' },
  local: { type: 'object' },
  'local.eap_id': { type: 'string' },
  'local.id': { type: 'string' },
  'local.p12': { type: 'string', check: isBase64 },
  'local.rsa-pss': { type: 'boolean' },
  'ike-proposal': { type: 'string', check: proposalCheck('ike') },
  'esp-proposal': { type: 'string', check: proposalCheck('esp') },
  'dns-servers': { type: 'string|array', check: addressList },
  mtu: { type: 'integer', check: range(1280, 1500) },
  'nat-keepalive': { type: 'integer', check: range(10, 120) },
  'split-tunneling': { type: 'object' },
  'split-tunneling.subnets': { type: 'string|array', check: subnetList },
  'split-tunneling.excluded': { type: 'string|array', check: subnetList },
  'split-tunneling.block-ipv4': { type: 'boolean' },
  'split-tunneling.block-ipv6': { type: 'boolean' },
  apps: { type: 'array' },
  'excluded-apps': { type: 'array' },
};

function typeOk(v: unknown, t: FieldType): boolean {
  switch (t) {
    case 'string': return typeof v === 'string';
    case 'integer': return Number.isInteger(v);
    case 'boolean': return typeof v === 'boolean';
    case 'object': return typeof v === 'object' && v !== null && !Array.isArray(v);
    case 'array': return Array.isArray(v) && v.every((x) => typeof x === 'string');
    case 'string|array': return typeof v === 'string' || (Array.isArray(v) && v.every((x) => typeof x === 'string'));
  }
}

/** Problems of a parsed .sswan against the documented schema (empty when the app would accept it). */
export function checkSswan(doc: unknown): string[] {
  const problems: string[] = [];
  const walk = (obj: Record<string, unknown>, prefix: string) => {
    for (const [k, v] of Object.entries(obj)) {
      const key = prefix + k;
      const f = SSWAN_SCHEMA[key];
      if (f === undefined) {
        problems.push(`${key}: not a documented key`);
        continue;
      }
      if (!typeOk(v, f.type)) {
        problems.push(`${key}: expected ${f.type}, found ${JSON.stringify(v)}`);
        continue;
      }
      const why = f.check?.(v);
      if (why !== undefined) problems.push(`${key}: ${why}`);
      if (f.type === 'object') walk(v as Record<string, unknown>, `${key}.`);
    }
  };
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return ['the top level is not an object'];
  walk(doc as Record<string, unknown>, '');
  const get = (path: string): unknown => path.split('.').reduce<unknown>((o, k) => (typeof o === 'object' && o !== null ? (o as Record<string, unknown>)[k] : undefined), doc);
  for (const [key, f] of Object.entries(SSWAN_SCHEMA)) {
    if (f.required !== true) continue;
    const parent = key.includes('.') ? get(key.slice(0, key.lastIndexOf('.'))) : doc;
    if (parent !== undefined && get(key) === undefined) problems.push(`${key}: required`);
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------------------
// Fixtures

export const FIXTURES = 'src/profile/fixtures';

/**
 * The ClientProfileInput of a fixture connection, with the fixtures' CA and (for certificate users) carol.p12.
 * `read` reads a path relative to the repository root; `text` replaces the configuration file's content.
 */
export function fixtureInput(
  read: (path: string) => Uint8Array,
  conf: 'eap.conf' | 'cert.conf',
  overrides: Partial<ProfileOptions> & { readonly text?: string } = {},
): { input: ClientProfileInput; notes: readonly string[] } {
  const file = `${FIXTURES}/${conf}`;
  const text = overrides.text ?? new TextDecoder().decode(read(file));
  const src = buildForProfile(parseSettings(text, file));
  const connection = overrides.connection ?? (conf === 'eap.conf' ? 'rw-eap' : 'rw-cert');
  return profileInput(src, {
    connection,
    ca: { der: read(`${FIXTURES}/x509ca/ca.pem`), name: 'x509ca/ca.pem' },
    gatewayCert: { der: read(`${FIXTURES}/x509/gateway.pem`), name: 'x509/gateway.pem' },
    ...(conf === 'eap.conf' ? { server: 'vpn.example.org', user: 'carol' } : { pkcs12: { der: read(`${FIXTURES}/carol.p12`), name: 'carol.p12', password: 'carol-p12' } }),
    ...overrides,
  });
}

/** A deterministic RandomBytes for tests: 0x00, 0x01, ... continuing across calls. */
export function countingRandom(): (n: number) => Uint8Array {
  let next = 0;
  return (n) => Uint8Array.from({ length: n }, () => next++ & 0xff);
}
