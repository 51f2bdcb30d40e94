/**
 * Parses `swanctl --list-sas --pretty` (vici messages pretty-printed) into structured IKE/CHILD SA records.
 *
 * The pretty form is used rather than the human one because it is the vici tree itself (one `key = value` per line,
 * `name {` sections, `key = [` lists), so values with spaces (DN identities) parse unambiguously. The `suite`
 * strings are rebuilt exactly as swanctl's human output prints them (swanctl/commands/list_sas.c), e.g.
 * `AES_GCM_16-128/PRF_HMAC_SHA2_256/CURVE_25519` for IKE and `AES_CBC-256/HMAC_SHA2_256_128` for ESP.
 */

export type ViciValue = string | string[] | ViciSection;
export interface ViciSection {
  [key: string]: ViciValue;
}

export class ViciParseError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(`swanctl output line ${line}: ${message}`);
    this.name = 'ViciParseError';
  }
}

/** Parse pretty-printed vici messages; every top-level `name {` block becomes an entry (names may repeat). */
export function parseViciPretty(text: string): Array<{ name: string; body: ViciSection }> {
  const top: Array<{ name: string; body: ViciSection }> = [];
  const stack: ViciSection[] = [];
  let list: string[] | undefined;
  const lines = text.split('\n');
  lines.forEach((raw, i) => {
    const line = raw.trim();
    const lineNo = i + 1;
    if (line === '') return;
    if (list) {
      if (line === ']') list = undefined;
      else list.push(line);
      return;
    }
    if (line === '}') {
      if (!stack.pop()) throw new ViciParseError('unbalanced }', lineNo);
      return;
    }
    const eq = line.indexOf(' = ');
    if (eq < 0 && line.endsWith('{')) {
      const name = line.slice(0, -1).trim();
      const section: ViciSection = {};
      const parent = stack[stack.length - 1];
      if (parent) parent[name] = section;
      else top.push({ name, body: section });
      stack.push(section);
      return;
    }
    const parent = stack[stack.length - 1];
    if (!parent) throw new ViciParseError(`key outside any section: ${line}`, lineNo);
    const key = eq < 0 ? line.replace(/ =$/, '') : line.slice(0, eq);
    const value = eq < 0 ? '' : line.slice(eq + 3);
    if (value === '[') {
      list = [];
      parent[key] = list;
    } else {
      parent[key] = value;
    }
  });
  if (stack.length || list) throw new ViciParseError('unterminated section or list', lines.length);
  return top;
}

export interface ChildSaInfo {
  /** Child config name (`name`), not the `name-uniqueid` section key. */
  name: string;
  uniqueId: number;
  reqid: number;
  /** INSTALLED, REKEYING, DELETING, ... */
  state: string;
  /** TUNNEL, TRANSPORT, ... */
  mode: string;
  /** ESP or AH. */
  protocol: string;
  encap: boolean;
  /** Hex as swanctl prints them, lowercase, 8 digits. */
  spiIn: string;
  spiOut: string;
  encrAlg?: string;
  encrKeysize?: number;
  integAlg?: string;
  integKeysize?: number;
  dhGroup?: string;
  esn: boolean;
  /** e.g. `AES_GCM_16-128`, `AES_CBC-256/HMAC_SHA2_256_128/MODP_2048` (swanctl prints it after `ESP:`). */
  suite: string;
  bytesIn: number;
  packetsIn: number;
  bytesOut: number;
  packetsOut: number;
  localTs: string[];
  remoteTs: string[];
  raw: ViciSection;
}

export interface IkeSaInfo {
  name: string;
  uniqueId: number;
  version: number;
  /** CREATED, CONNECTING, ESTABLISHED, PASSIVE, REKEYING, REKEYED, DELETING, DESTROYING */
  state: string;
  /** True when this side initiated the IKE SA (`initiator = yes`). */
  initiator: boolean;
  localHost: string;
  localPort: number;
  localId: string;
  remoteHost: string;
  remotePort: number;
  remoteId: string;
  /** Hex, 16 digits, as swanctl prints them. */
  initiatorSpi: string;
  responderSpi: string;
  natLocal: boolean;
  natRemote: boolean;
  natAny: boolean;
  encrAlg?: string;
  encrKeysize?: number;
  integAlg?: string;
  integKeysize?: number;
  prfAlg?: string;
  dhGroup?: string;
  /** e.g. `AES_GCM_16-128/PRF_HMAC_SHA2_256/CURVE_25519`; empty before the proposal is chosen. */
  suite: string;
  children: ChildSaInfo[];
  raw: ViciSection;
}

function str(s: ViciSection, key: string): string | undefined {
  const v = s[key];
  return typeof v === 'string' ? v : undefined;
}
function num(s: ViciSection, key: string): number | undefined {
  const v = str(s, key);
  return v === undefined || v === '' ? undefined : Number(v);
}
function list(s: ViciSection, key: string): string[] {
  const v = s[key];
  return Array.isArray(v) ? v : typeof v === 'string' && v !== '' ? [v] : [];
}
function yes(s: ViciSection, key: string): boolean {
  return str(s, key) === 'yes';
}

/** Rebuild swanctl's algorithm string: encr[-keysize][/integ[-keysize]][/prf][/dh][/KE<n>_ake<n>...][/ESN] */
function suiteOf(s: ViciSection, withEsn: boolean): string {
  const encr = str(s, 'encr-alg');
  if (!encr) return '';
  let out = encr;
  if (str(s, 'encr-keysize')) out += `-${str(s, 'encr-keysize')}`;
  if (str(s, 'integ-alg')) out += `/${str(s, 'integ-alg')}`;
  if (str(s, 'integ-keysize')) out += `-${str(s, 'integ-keysize')}`;
  if (str(s, 'prf-alg')) out += `/${str(s, 'prf-alg')}`;
  if (str(s, 'dh-group')) out += `/${str(s, 'dh-group')}`;
  // strongSwan 6 (RFC 9370): additional key exchanges as ake1..ake7, printed /KE<n>_<method> (list_sas.c print_ake).
  for (let n = 1; n <= 7; n++) if (str(s, `ake${n}`)) out += `/KE${n}_${str(s, `ake${n}`)}`;
  if (withEsn && yes(s, 'esn')) out += '/ESN';
  return out;
}

function parseChild(body: ViciSection, key: string): ChildSaInfo {
  return {
    name: str(body, 'name') ?? key.replace(/-\d+$/, ''),
    uniqueId: num(body, 'uniqueid') ?? 0,
    reqid: num(body, 'reqid') ?? 0,
    state: str(body, 'state') ?? '',
    mode: str(body, 'mode') ?? '',
    protocol: str(body, 'protocol') ?? '',
    encap: yes(body, 'encap'),
    spiIn: str(body, 'spi-in') ?? '',
    spiOut: str(body, 'spi-out') ?? '',
    encrAlg: str(body, 'encr-alg'),
    encrKeysize: num(body, 'encr-keysize'),
    integAlg: str(body, 'integ-alg'),
    integKeysize: num(body, 'integ-keysize'),
    dhGroup: str(body, 'dh-group'),
    esn: yes(body, 'esn'),
    suite: suiteOf(body, true),
    bytesIn: num(body, 'bytes-in') ?? 0,
    packetsIn: num(body, 'packets-in') ?? 0,
    bytesOut: num(body, 'bytes-out') ?? 0,
    packetsOut: num(body, 'packets-out') ?? 0,
    localTs: list(body, 'local-ts'),
    remoteTs: list(body, 'remote-ts'),
    raw: body,
  };
}

function parseIke(name: string, body: ViciSection): IkeSaInfo {
  const children: ChildSaInfo[] = [];
  const cs = body['child-sas'];
  if (cs && typeof cs === 'object' && !Array.isArray(cs)) {
    for (const [key, v] of Object.entries(cs)) if (v && typeof v === 'object' && !Array.isArray(v)) children.push(parseChild(v, key));
  }
  return {
    name,
    uniqueId: num(body, 'uniqueid') ?? 0,
    version: num(body, 'version') ?? 0,
    state: str(body, 'state') ?? '',
    initiator: yes(body, 'initiator'),
    localHost: str(body, 'local-host') ?? '',
    localPort: num(body, 'local-port') ?? 0,
    localId: str(body, 'local-id') ?? '',
    remoteHost: str(body, 'remote-host') ?? '',
    remotePort: num(body, 'remote-port') ?? 0,
    remoteId: str(body, 'remote-id') ?? '',
    initiatorSpi: str(body, 'initiator-spi') ?? '',
    responderSpi: str(body, 'responder-spi') ?? '',
    natLocal: yes(body, 'nat-local'),
    natRemote: yes(body, 'nat-remote'),
    natAny: yes(body, 'nat-any'),
    encrAlg: str(body, 'encr-alg'),
    encrKeysize: num(body, 'encr-keysize'),
    integAlg: str(body, 'integ-alg'),
    integKeysize: num(body, 'integ-keysize'),
    prfAlg: str(body, 'prf-alg'),
    dhGroup: str(body, 'dh-group'),
    suite: suiteOf(body, false),
    children,
    raw: body,
  };
}

/** All IKE SAs in `swanctl --list-sas --pretty` output (each arrives as its own `list-sa event`). */
export function parseListSas(text: string): IkeSaInfo[] {
  const out: IkeSaInfo[] = [];
  for (const msg of parseViciPretty(text)) {
    if (msg.name !== 'list-sa event') continue;
    for (const [name, v] of Object.entries(msg.body)) if (v && typeof v === 'object' && !Array.isArray(v)) out.push(parseIke(name, v));
  }
  return out;
}
