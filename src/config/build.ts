/**
 * From a parsed settings tree to the typed SwanctlConfig: every key read with its value parser, strongSwan's
 * defaults applied (with the lifetime arithmetic of vici_config.c), unknown and unimplemented keys warned
 * about with file:line, invalid values collected as ConfigErrors, then cross-checks (pools referenced exist
 * and do not overlap, a connection that must initiate has somewhere to initiate to).
 *
 * All problems of one file are reported together; if there is any error there is no config.
 */
import {
  ConfigError,
  makeWarning,
  type ConfigErrorCode,
  type ConfigWarning,
  type SourceLocation,
} from './errors.js';
import { parseIp, parseSubnet, parseRange, rangesOverlap, type IpAddress } from './ip.js';
import { loadSettings, parseSettings, type ConfigIo, type ParseOptions, type ReadFileFn, type SettingsKey, type SettingsSection } from './parser.js';
import {
  AUTH_KEYS,
  AUTHORITY_KEYS,
  CHILD_KEYS,
  CONNECTION_KEYS,
  CYGNET_ENCAP,
  CYGNET_REPLAY_WINDOW,
  PASSPHRASE_KEYS,
  POOL_KEYS,
  SECRET_TYPES,
  SECRET_TYPES_IMPLEMENTED,
  SHARED_SECRET_KEYS,
  STRONGSWAN_DEFAULTS,
  TOKEN_KEYS,
  TOP_SECTIONS,
  type AuthMethod,
  type AuthorityConfig,
  type AuthRound,
  type ChildConfig,
  type CloseAction,
  type ConnectionConfig,
  type DpdAction,
  type KeyInfo,
  type KeyPassphrase,
  type PoolConfig,
  type SharedSecret,
  type StartAction,
  type SwanctlConfig,
  type TokenKey,
} from './schema.js';
import { suggest } from './suggest.js';
import { parseProposal, ProposalError } from '../crypto/proposals.js';
import { parseIdentity as parseIkeIdentity } from '../ike/identity.js';
import {
  parseAddressList,
  parseBool,
  parseBytes,
  parseDurationSeconds,
  parseEnum,
  parseIdentity as parseIdentityText,
  parsePackets,
  parsePort,
  parseProposalList,
  parseSecret,
  parseTrafficSelectors,
  parseUint,
  parseVip,
  splitList,
  UINT32_MAX,
  ValueProblem,
  type AddressSpec,
} from './values.js';

/** A value strongSwan accepts but cygnet refuses to run with (it would do something else than asked). */
class Unsupported extends ValueProblem {}

/** An identity as written, checked with the IKE layer's parser (RFC 7296 3.5 types, DN syntax, @# hex). */
function parseIdentity(raw: string): string {
  const s = parseIdentityText(raw);
  try {
    parseIkeIdentity(s);
  } catch (e) {
    throw new ValueProblem(e instanceof Error ? e.message : String(e), true);
  }
  return s;
}

export interface BuildOptions {
  /**
   * Checks one proposal (never `default`); returns undefined when it is fine, else what is wrong. The default
   * is cygnetProposalProblem (the algorithms cygnet implements, src/crypto/proposals.ts); null checks only the
   * shape of the keywords.
   */
  readonly validateProposal?: ((proposal: string, protocol: 'ike' | 'esp') => string | undefined) | null;
}

/** What is wrong with a proposal by src/crypto/proposals.ts, or undefined when cygnet can use it. */
export function cygnetProposalProblem(proposal: string, protocol: 'ike' | 'esp'): string | undefined {
  try {
    parseProposal(proposal, protocol);
    return undefined;
  } catch (e) {
    if (e instanceof ProposalError) {
      const hint = e.suggestion !== undefined ? `; did you mean '${e.suggestion}'?` : '';
      return e.keyword === proposal ? `${e.reason}${hint}` : `'${e.keyword}': ${e.reason}${hint}`;
    }
    return e instanceof Error ? e.message : String(e);
  }
}

export interface LoadOptions extends BuildOptions, ParseOptions {}

export interface LoadResult {
  readonly config: SwanctlConfig;
  readonly warnings: readonly ConfigWarning[];
}

class Context {
  readonly errors: ConfigError[] = [];
  readonly warnings: ConfigWarning[] = [];
  constructor(readonly options: BuildOptions) {}

  error(code: ConfigErrorCode, loc: SourceLocation, detail: string): void {
    this.errors.push(new ConfigError(code, loc, detail));
  }
}

function show(value: string): string {
  const v = value.length > 60 ? `${value.slice(0, 57)}...` : value;
  return `'${v.replace(/\n/g, '\\n')}'`;
}

/** A table entry by own property only: a key named `constructor` or `__proto__` is just an unknown key. */
function own<T>(table: Readonly<Record<string, T>>, name: string): T | undefined {
  return Object.hasOwn(table, name) ? table[name] : undefined;
}

/** Reads the keys of one section through their parsers and remembers which it has seen. */
class SectionReader {
  private readonly used = new Set<string>();

  constructor(
    private readonly ctx: Context,
    readonly section: SettingsSection,
    readonly path: string,
    private readonly known: Readonly<Record<string, KeyInfo>>,
  ) {}

  key(name: string): SettingsKey | undefined {
    const k = this.section.keys.get(name);
    if (k !== undefined) this.used.add(name);
    return k;
  }

  /** The parsed value, undefined when absent, empty (`key =`) or invalid (then an error is recorded). */
  get<T>(name: string, parse: (raw: string) => T, opts: { secret?: boolean; info?: KeyInfo } = {}): T | undefined {
    const k = this.key(name);
    if (k === undefined || k.value === null) return undefined;
    return this.parseKey(k, parse, opts);
  }

  parseKey<T>(k: SettingsKey, parse: (raw: string) => T, opts: { secret?: boolean; info?: KeyInfo } = {}): T | undefined {
    if (k.value === null) return undefined;
    this.used.add(k.name);
    const where = `${this.path}.${k.name}`;
    let v: T;
    try {
      v = parse(k.value);
    } catch (e) {
      if (!(e instanceof ValueProblem)) throw e;
      const shown = opts.secret === true ? '' : ` ${show(k.value)}`;
      if (e instanceof Unsupported) {
        this.ctx.error('UNSUPPORTED', k.loc, `${where} =${shown}: ${e.expected}`);
      } else {
        const what = e.plain ? e.expected : `expected ${e.expected}`;
        this.ctx.error('INVALID_VALUE', k.loc, `${where}: invalid value${shown}: ${what}`);
      }
      return undefined;
    }
    const info = opts.info ?? own(this.known, k.name);
    if (info !== undefined && !info.implemented && !(info.cygnet !== undefined && info.cygnet === v)) {
      const note = info.note !== undefined ? ` (${info.note})` : '';
      this.ctx.warnings.push(makeWarning('NOT_IMPLEMENTED', k.loc, where, `accepted but not implemented${note}`));
    }
    return v;
  }

  /** Mark a key handled elsewhere. */
  use(name: string): void {
    this.used.add(name);
  }

  /** Warn about every key nobody read: unknown to strongSwan too, so probably a typo. */
  finish(extraKnown: readonly string[] = []): void {
    for (const [name, k] of this.section.keys) {
      if (this.used.has(name)) continue;
      const s = suggest(name, [...Object.keys(this.known), ...extraKnown]);
      const text = s !== undefined ? `unknown key; did you mean '${s}'?` : 'unknown key';
      this.ctx.warnings.push(makeWarning('UNKNOWN_KEY', k.loc, `${this.path}.${name}`, text, s));
    }
  }
}

function unknownSection(ctx: Context, sec: SettingsSection, path: string, known: readonly string[], what: string): void {
  const s = suggest(sec.name, known);
  const hint = s !== undefined ? `; did you mean '${s}'?` : '';
  ctx.error('UNKNOWN_SECTION', sec.loc, `${path}: unknown section '${sec.name}' (${what})${hint}`);
}

// ---------------------------------------------------------------------------------------------------------
// Value parsers that carry cygnet's own limits

function parseVersion(raw: string): 0 | 2 {
  const n = parseUint(raw, UINT32_MAX, '0 (any) or 2 (IKEv2)');
  if (n === 0 || n === 2) return n;
  if (n === 1) throw new Unsupported('cygnet speaks IKEv2 only; use version = 2 (or 0)');
  throw new ValueProblem('0 (any), 1 (IKEv1) or 2 (IKEv2)');
}

function parseAuth(raw: string): AuthMethod {
  const text = raw.trim();
  const l = text.toLowerCase();
  // vici_config.c parse_auth(): these prefixes are public key authentication with optional constraints
  if (l.startsWith('ike:') || l.startsWith('pubkey') || l.startsWith('rsa') || l.startsWith('ecdsa')) {
    return { class: 'pubkey', text };
  }
  if (l === 'psk') return { class: 'psk', text };
  if (l.startsWith('eap') || l.startsWith('xauth')) {
    throw new Unsupported(`cygnet does not implement ${l.startsWith('eap') ? 'EAP' : 'XAuth'} yet; use psk or pubkey`);
  }
  throw new ValueProblem('pubkey (or a constraint like pubkey-sha256, rsa-2048, ecdsa-384, ike:...), psk, eap[-method] or xauth[-backend]');
}

const MODES = ['tunnel', 'transport', 'transport_proxy', 'beet', 'pass', 'drop', 'iptfs'] as const;

function parseMode(raw: string): 'tunnel' {
  const m = parseEnum(raw, MODES);
  if (m !== 'tunnel') throw new Unsupported(`cygnet supports tunnel mode only (not ${m})`);
  return m;
}

type Action = 'none' | 'trap' | 'start' | 'trap|start';

/**
 * vici_config.c parse_action(): start/restart, route/trap, none/clear, and strongSwan 6's trap|start.
 * `hold` is ipsec.conf's word (dpdaction/closeaction); swanctl 5.9.8 rejects it ("invalid value for:
 * dpd_action, config discarded", checked against Debian's charon), so cygnet does too, naming the replacement.
 */
function parseActionWord(raw: string, allowBoth: boolean, expected: string): Action {
  const s = raw.trim().toLowerCase();
  if (s === 'hold') throw new ValueProblem(`${expected}; 'hold' is ipsec.conf's word, swanctl.conf calls it trap`);
  const one = (w: string): 'none' | 'trap' | 'start' | undefined =>
    w === 'start' || w === 'restart' ? 'start' : w === 'trap' || w === 'route' ? 'trap' : w === 'none' || w === 'clear' ? 'none' : undefined;
  const single = one(s);
  if (single !== undefined) return single;
  if (allowBoth) {
    const parts = s.split('|').map((p) => one(p.trim()));
    if (parts.length === 2 && parts.includes('trap') && parts.includes('start')) return 'trap|start';
  }
  throw new ValueProblem(expected);
}

const parseStartAction = (raw: string): StartAction =>
  parseActionWord(raw, true, 'none, trap or start (or trap|start; route is an alias of trap)');
const parseDpdAction = (raw: string): DpdAction => {
  const a = parseActionWord(raw, false, 'clear, trap or restart');
  return a === 'none' ? 'clear' : a === 'start' ? 'restart' : 'trap';
};
const parseCloseAction = (raw: string): CloseAction => {
  const a = parseActionWord(raw, false, 'none, trap or start');
  return a === 'trap|start' ? 'start' : a;
};

function parseDscp(raw: string): number {
  // six binary digits (RFC 2474 codepoint), as parse_dscp() reads it
  if (!/^[01]{1,6}$/.test(raw.trim())) throw new ValueProblem('six binary digits, e.g. 101110');
  return parseInt(raw.trim(), 2);
}

function parseString(raw: string): string {
  return raw;
}

function parseTfc(raw: string): number | 'mtu' {
  if (raw.trim() === 'mtu') return 'mtu';
  return parseUint(raw, UINT32_MAX, 'a byte count or mtu');
}

function parseIpList(raw: string): IpAddress[] {
  return splitList(raw).map((s) => {
    const ip = parseIp(s);
    if (ip === undefined) throw new ValueProblem(`IP addresses, comma separated (not '${s}')`);
    return ip;
  });
}

function checkProposals(ctx: Context, list: string[], protocol: 'ike' | 'esp'): (raw: string) => string[] {
  return (raw: string) => {
    const items = parseProposalList(raw);
    const v = ctx.options.validateProposal === undefined ? cygnetProposalProblem : ctx.options.validateProposal;
    for (const p of items) {
      if (p.toLowerCase() === 'default') continue;
      const problem = v === null ? undefined : v(p, protocol);
      if (problem !== undefined) {
        throw new ValueProblem(items.length > 1 ? `in '${p}': ${problem}` : problem, true);
      }
    }
    list.push(...items);
    return items;
  };
}

// ---------------------------------------------------------------------------------------------------------
// Lifetimes, as vici_config.c computes them (in seconds, then ms)

const S = 1000;

function ikeLifetimes(rekey: number | undefined, reauth: number | undefined, over: number | undefined, rand: number | undefined) {
  let rekeyS = rekey;
  let reauthS = reauth;
  if (rekeyS === undefined && reauthS === undefined) {
    rekeyS = STRONGSWAN_DEFAULTS.ike_rekey_time / S;
    reauthS = 0;
  }
  rekeyS ??= 0;
  reauthS ??= 0;
  const overS = over ?? Math.floor(Math.max(rekeyS, reauthS) / 10);
  let randS = rand;
  if (randS === undefined) {
    const base = rekeyS !== 0 && reauthS !== 0 ? Math.min(rekeyS, reauthS) : Math.max(rekeyS, reauthS);
    randS = Math.min(overS, Math.floor(base / 2));
  }
  return { rekey_time: rekeyS * S, reauth_time: reauthS * S, over_time: overS * S, rand_time: randS * S };
}

/**
 * check_lifetimes() as in strongSwan 5.9.8 (Debian's, verified with its swanctl --list-conns): the soft limit
 * has its default (1h, 0 bytes, 0 packets) whatever the hard limit is, hard = soft * 110 / 100 in integers,
 * jitter = hard - min(hard, soft). (strongSwan 6 derives a missing soft limit from the hard one instead.)
 */
function childLifetime(rekey: number | undefined, life: number | undefined, rand: number | undefined, dflt: number) {
  const r = rekey ?? dflt;
  const l = life ?? Math.floor((r * 110) / 100);
  const j = rand ?? l - Math.min(l, r);
  return [r, l, j] as const;
}

// ---------------------------------------------------------------------------------------------------------

function buildAuthRound(ctx: Context, sec: SettingsSection, path: string, local: boolean): AuthRound | undefined {
  const r = new SectionReader(ctx, sec, path, AUTH_KEYS);
  const errorsBefore = ctx.errors.length;
  const auth = r.get('auth', parseAuth) ?? { class: 'pubkey' as const, text: STRONGSWAN_DEFAULTS.auth };
  const id = r.get('id', parseIdentity) ?? (local ? undefined : STRONGSWAN_DEFAULTS.remote_id);
  const round: AuthRound = {
    section: sec.name,
    loc: sec.loc,
    round: r.get('round', (v) => parseUint(v, UINT32_MAX)) ?? 0,
    auth,
    id,
    certs: r.get('certs', splitList) ?? [],
    cacerts: r.get('cacerts', splitList) ?? [],
    pubkeys: r.get('pubkeys', splitList) ?? [],
    eap_id: r.get('eap_id', parseIdentity),
    aaa_id: r.get('aaa_id', parseIdentity),
    xauth_id: r.get('xauth_id', parseIdentity),
    ca_id: r.get('ca_id', parseIdentity),
    groups: r.get('groups', splitList) ?? [],
    cert_policy: r.get('cert_policy', splitList) ?? [],
    revocation: r.get('revocation', (v) => parseEnum(v, ['strict', 'ifuri', 'relaxed'] as const)) ?? 'relaxed',
  };
  if (!local && round.cacerts.length > 0 && auth.class === 'psk') {
    ctx.warnings.push(makeWarning('SUSPICIOUS', sec.loc, path, 'cacerts are ignored with auth = psk'));
  }
  for (const sub of sec.sections.values()) {
    const l = sub.name.toLowerCase();
    if (l.startsWith('cert') || l.startsWith('cacert')) {
      ctx.warnings.push(
        makeWarning('NOT_IMPLEMENTED', sub.loc, `${path}.${sub.name}`, 'accepted but not implemented (certificates on tokens/files by section)'),
      );
    } else {
      unknownSection(ctx, sub, path, ['cert', 'cacert'], 'an authentication round has cert<suffix> and cacert<suffix> sections only');
    }
  }
  r.finish();
  return ctx.errors.length === errorsBefore ? round : undefined;
}

function buildChild(ctx: Context, sec: SettingsSection, path: string): ChildConfig | undefined {
  const r = new SectionReader(ctx, sec, path, CHILD_KEYS);
  const errorsBefore = ctx.errors.length;
  const esp: string[] = [];
  r.get('esp_proposals', checkProposals(ctx, esp, 'esp'));
  r.get('ah_proposals', () => {
    throw new Unsupported('cygnet speaks ESP only (RFC 4303); AH is not implemented, remove ah_proposals');
  });
  const dur = (k: string) => r.get(k, parseDurationSeconds);
  const [rekeyT, lifeT, randT] = childLifetime(dur('rekey_time'), dur('life_time'), dur('rand_time'), STRONGSWAN_DEFAULTS.child_rekey_time / S);
  const [rekeyB, lifeB, randB] = childLifetime(r.get('rekey_bytes', parseBytes), r.get('life_bytes', parseBytes), r.get('rand_bytes', parseBytes), 0);
  const [rekeyP, lifeP, randP] = childLifetime(
    r.get('rekey_packets', parsePackets),
    r.get('life_packets', parsePackets),
    r.get('rand_packets', parsePackets),
    0,
  );
  if (lifeT < rekeyT) {
    ctx.warnings.push(
      makeWarning('SUSPICIOUS', sec.loc, path, `life_time (${lifeT}s) is shorter than rekey_time (${rekeyT}s): the CHILD_SA expires before it is rekeyed`),
    );
  }
  const replay = r.get('replay_window', (v) => parseUint(v, UINT32_MAX, 'a window size in packets (0 disables replay protection)'));
  const child: ChildConfig = {
    name: sec.name,
    loc: sec.loc,
    local_ts: r.get('local_ts', parseTrafficSelectors) ?? parseTrafficSelectors(STRONGSWAN_DEFAULTS.local_ts),
    remote_ts: r.get('remote_ts', parseTrafficSelectors) ?? parseTrafficSelectors(STRONGSWAN_DEFAULTS.remote_ts),
    esp_proposals: esp.length > 0 ? esp : [STRONGSWAN_DEFAULTS.esp_proposals],
    mode: r.get('mode', parseMode) ?? 'tunnel',
    start_action: r.get('start_action', parseStartAction) ?? 'none',
    dpd_action: r.get('dpd_action', parseDpdAction) ?? 'clear',
    close_action: r.get('close_action', parseCloseAction) ?? 'none',
    rekey_time: rekeyT * S,
    life_time: lifeT * S,
    rand_time: randT * S,
    rekey_bytes: rekeyB,
    life_bytes: lifeB,
    rand_bytes: randB,
    rekey_packets: rekeyP,
    life_packets: lifeP,
    rand_packets: randP,
    replay_window: replay ?? CYGNET_REPLAY_WINDOW,
    replay_window_set: replay !== undefined,
    updown: r.get('updown', parseString),
    hostaccess: r.get('hostaccess', parseBool) ?? false,
    policies: r.get('policies', parseBool) ?? true,
    policies_fwd_out: r.get('policies_fwd_out', parseBool) ?? false,
    ipcomp: r.get('ipcomp', parseBool) ?? false,
    inactivity: (r.get('inactivity', parseDurationSeconds) ?? 0) * S,
    reqid: r.get('reqid', (v) => parseUint(v, UINT32_MAX)) ?? 0,
    priority: r.get('priority', (v) => parseUint(v, UINT32_MAX)) ?? 0,
    interface: r.get('interface', parseString),
    mark_in: r.get('mark_in', parseString),
    mark_out: r.get('mark_out', parseString),
    set_mark_in: r.get('set_mark_in', parseString),
    set_mark_out: r.get('set_mark_out', parseString),
    mark_in_sa: r.get('mark_in_sa', parseBool) ?? false,
    tfc_padding: r.get('tfc_padding', parseTfc) ?? 0,
    hw_offload: r.get('hw_offload', (v) => parseEnum(v, ['no', 'yes', 'crypto', 'packet', 'auto'] as const)) ?? 'no',
    sha256_96: r.get('sha256_96', parseBool) ?? false,
    copy_df: r.get('copy_df', parseBool) ?? true,
    copy_ecn: r.get('copy_ecn', parseBool) ?? true,
    copy_dscp: r.get('copy_dscp', (v) => parseEnum(v, ['out', 'in', 'yes', 'no'] as const)) ?? STRONGSWAN_DEFAULTS.copy_dscp,
    if_id_in: r.get('if_id_in', parseString),
    if_id_out: r.get('if_id_out', parseString),
    label: r.get('label', parseString),
    label_mode: r.get('label_mode', parseString),
    per_cpu_sas: r.get('per_cpu_sas', parseString),
  };
  for (const sub of sec.sections.values()) {
    unknownSection(ctx, sub, path, [], 'a child section has keys only');
  }
  r.finish();
  return ctx.errors.length === errorsBefore ? child : undefined;
}

function isSpecificPeer(a: AddressSpec): boolean {
  return a.kind === 'ip' || a.kind === 'fqdn';
}

function buildConnection(ctx: Context, sec: SettingsSection, pools: ReadonlyMap<string, PoolConfig>, poolsSec: SettingsSection | undefined): ConnectionConfig | undefined {
  const path = `connections.${sec.name}`;
  const r = new SectionReader(ctx, sec, path, CONNECTION_KEYS);
  const errorsBefore = ctx.errors.length;
  const proposals: string[] = [];
  r.get('proposals', checkProposals(ctx, proposals, 'ike'));
  const dur = (k: string) => r.get(k, parseDurationSeconds);
  const life = ikeLifetimes(dur('rekey_time'), dur('reauth_time'), dur('over_time'), dur('rand_time'));

  const local: AuthRound[] = [];
  const remote: AuthRound[] = [];
  const children = new Map<string, ChildConfig>();
  for (const sub of sec.sections.values()) {
    const l = sub.name.toLowerCase();
    const subPath = `${path}.${sub.name}`;
    if (l === 'children') {
      for (const [k, key] of sub.keys) {
        ctx.error('INVALID_VALUE', key.loc, `${subPath}.${k}: expected a child section (children { name { ... } }), found a key`);
      }
      for (const childSec of sub.sections.values()) {
        const c = buildChild(ctx, childSec, `${subPath}.${childSec.name}`);
        if (c !== undefined) children.set(c.name, c);
      }
    } else if (l.startsWith('local') || l.startsWith('remote')) {
      const isLocal = l.startsWith('local');
      const round = buildAuthRound(ctx, sub, subPath, isLocal);
      if (round !== undefined) (isLocal ? local : remote).push(round);
    } else {
      unknownSection(ctx, sub, path, ['children', 'local', 'remote'], 'a connection has local<suffix>, remote<suffix> and children sections');
    }
  }
  const defaultRound = (isLocal: boolean): AuthRound => ({
    section: isLocal ? 'local' : 'remote',
    loc: sec.loc,
    round: 0,
    auth: { class: 'pubkey', text: STRONGSWAN_DEFAULTS.auth },
    id: isLocal ? undefined : STRONGSWAN_DEFAULTS.remote_id,
    certs: [],
    cacerts: [],
    pubkeys: [],
    eap_id: undefined,
    aaa_id: undefined,
    xauth_id: undefined,
    ca_id: undefined,
    groups: [],
    cert_policy: [],
    revocation: 'relaxed',
  });
  // rounds are ordered by `round`, file order breaking ties (Array.prototype.sort is stable)
  local.sort((a, b) => a.round - b.round);
  remote.sort((a, b) => a.round - b.round);
  for (const rounds of [local, remote]) {
    if (rounds.length > 1) {
      ctx.error(
        'UNSUPPORTED',
        rounds[1]!.loc,
        `${path}.${rounds[1]!.section}: cygnet does not implement multiple authentication rounds (RFC 4739) yet; use one ${rounds === local ? 'local' : 'remote'} section`,
      );
    }
  }

  const conn: ConnectionConfig = {
    name: sec.name,
    loc: sec.loc,
    version: r.get('version', parseVersion) ?? 0,
    local_addrs: r.get('local_addrs', parseAddressList) ?? [{ kind: 'any' }],
    remote_addrs: r.get('remote_addrs', parseAddressList) ?? [{ kind: 'any' }],
    local_port: r.get('local_port', parsePort) ?? STRONGSWAN_DEFAULTS.local_port,
    remote_port: r.get('remote_port', parsePort) ?? STRONGSWAN_DEFAULTS.remote_port,
    proposals: proposals.length > 0 ? proposals : [STRONGSWAN_DEFAULTS.proposals],
    vips: r.get('vips', (v) => splitList(v).map(parseVip)) ?? [],
    pools: r.get('pools', splitList) ?? [],
    dpd_delay: (dur('dpd_delay') ?? 0) * S,
    dpd_timeout: (dur('dpd_timeout') ?? 0) * S,
    encap: r.get('encap', parseBool) ?? CYGNET_ENCAP,
    mobike: r.get('mobike', parseBool) ?? STRONGSWAN_DEFAULTS.mobike,
    fragmentation: r.get('fragmentation', (v) => parseEnum(v, ['yes', 'accept', 'no', 'force'] as const)) ?? 'yes',
    keyingtries: r.get('keyingtries', (v) => parseUint(v, UINT32_MAX, 'a number of tries (0 = forever)')) ?? 1,
    unique: r.get('unique', (v) => parseEnum(v, ['no', 'never', 'keep', 'replace'] as const)) ?? 'no',
    ...life,
    send_cert: r.get('send_cert', (v) => parseEnum(v, ['ifasked', 'always', 'never'] as const)) ?? 'ifasked',
    send_certreq: r.get('send_certreq', parseBool) ?? true,
    aggressive: r.get('aggressive', parseBool) ?? false,
    pull: r.get('pull', parseBool) ?? true,
    dscp: r.get('dscp', parseDscp) ?? 0,
    childless: r.get('childless', (v) => parseEnum(v, ['allow', 'prefer', 'never', 'force'] as const)) ?? 'allow',
    ocsp: r.get('ocsp', (v) => parseEnum(v, ['reply', 'request', 'both', 'never'] as const)) ?? 'reply',
    ppk_id: r.get('ppk_id', parseIdentity),
    ppk_required: r.get('ppk_required', parseBool) ?? false,
    if_id_in: r.get('if_id_in', parseString),
    if_id_out: r.get('if_id_out', parseString),
    local: local.length > 0 ? local : [defaultRound(true)],
    remote: remote.length > 0 ? remote : [defaultRound(false)],
    children,
  };
  // strongSwan only knows these with the mediation extension compiled in; accept them with a warning
  r.get('mediation', parseBool);
  r.get('mediated_by', parseString);
  r.get('mediation_peer', parseIdentity);
  r.finish();

  for (const p of conn.pools) {
    // a pool that failed to build has already been reported; only flag names that are nowhere
    if (!pools.has(p) && poolsSec?.sections.has(p) !== true) {
      const s = suggest(p, pools.keys());
      const hint = s !== undefined ? `; did you mean '${s}'?` : '';
      ctx.error('INCONSISTENT', sec.keys.get('pools')?.loc ?? sec.loc, `${path}.pools: pool '${p}' is not defined in pools { }${hint}`);
    }
  }

  // Initiating needs a peer to talk to (swanctl.conf(5) remote_addrs: "To initiate a connection, at least one
  // specific address or DNS name must be specified").
  if (!conn.remote_addrs.some(isSpecificPeer)) {
    for (const c of children.values()) {
      if (c.start_action !== 'none') {
        const k = sec.sections.get('children')?.sections.get(c.name)?.keys.get('start_action');
        ctx.error(
          'INCONSISTENT',
          k?.loc ?? c.loc,
          `${path}.children.${c.name}.start_action = ${c.start_action}: initiating needs remote_addrs with a specific address or DNS name`,
        );
      }
    }
  }
  return ctx.errors.length === errorsBefore ? conn : undefined;
}

// ---------------------------------------------------------------------------------------------------------

function buildPool(ctx: Context, sec: SettingsSection): PoolConfig | undefined {
  const path = `pools.${sec.name}`;
  const r = new SectionReader(ctx, sec, path, POOL_KEYS);
  const errorsBefore = ctx.errors.length;
  const addrs = r.get('addrs', (v): PoolConfig['addrs'] => {
    const s = v.trim();
    const range = s.includes('-') ? parseRange(s) : undefined;
    if (range !== undefined) return { first: range.first, last: range.last, text: s };
    const sub = parseSubnet(s);
    if (sub === undefined) throw new ValueProblem('a CIDR subnet like 10.3.0.0/24 or a range like 10.3.0.10-10.3.0.99');
    return { first: sub.first, last: sub.last, prefix: sub.prefix, text: s };
  });
  const addrsKey = sec.keys.get('addrs');
  if (addrsKey === undefined || addrsKey.value === null) {
    ctx.error('INCONSISTENT', sec.loc, `${path}: missing addrs (a subnet or range of addresses to hand out)`);
  }
  const dns = r.get('dns', parseIpList) ?? [];
  const nbns = r.get('nbns', parseIpList) ?? [];
  const attributes = new Map<string, readonly string[]>();
  for (const [name, key] of sec.keys) {
    if (name === 'addrs' || name === 'dns' || name === 'nbns') continue;
    const info = own(POOL_KEYS, name) ?? (/^[0-9]+$/.test(name) ? { implemented: false } : undefined);
    if (info === undefined) continue; // left for finish() to warn about
    let check: (raw: string) => string[] = splitList;
    if (name === 'split_include' || name === 'split_exclude' || name === 'subnet') {
      check = (raw) => {
        const items = splitList(raw);
        for (const i of items) if (parseSubnet(i) === undefined) throw new ValueProblem(`CIDR subnets, comma separated (not '${i}')`);
        return items;
      };
    } else if (name === 'dhcp' || name === 'netmask' || name === 'server') {
      check = (raw) => parseIpList(raw).map((ip) => ip.text);
    }
    const v = r.parseKey(key, check, { info });
    if (v !== undefined) attributes.set(name, v);
  }
  r.finish();
  for (const sub of sec.sections.values()) unknownSection(ctx, sub, path, [], 'a pool has keys only');
  if (ctx.errors.length !== errorsBefore || addrs === undefined) return undefined;
  return { name: sec.name, loc: sec.loc, addrs, dns, nbns, attributes };
}

// ---------------------------------------------------------------------------------------------------------

interface SecretsOut {
  ike: SharedSecret[];
  eap: SharedSecret[];
  ntlm: SharedSecret[];
  ppk: SharedSecret[];
  keys: KeyPassphrase[];
  tokens: TokenKey[];
}

function buildSharedSecret(ctx: Context, sec: SettingsSection, path: string): SharedSecret | undefined {
  const r = new SectionReader(ctx, sec, path, SHARED_SECRET_KEYS);
  const errorsBefore = ctx.errors.length;
  const ids: string[] = [];
  for (const [name, key] of sec.keys) {
    if (name.toLowerCase().startsWith('id')) {
      const v = r.parseKey(key, parseIdentity);
      if (v !== undefined) ids.push(v);
    }
  }
  const secret = r.get('secret', parseSecret, { secret: true });
  if (secret === undefined && ctx.errors.length === errorsBefore) {
    ctx.error('INCONSISTENT', sec.loc, `${path}: missing secret`);
  }
  r.finish(['id']);
  for (const sub of sec.sections.values()) unknownSection(ctx, sub, path, [], 'a secret has keys only');
  if (ctx.errors.length !== errorsBefore || secret === undefined) return undefined;
  return { section: sec.name, loc: sec.loc, ids, secret };
}

function buildSecrets(ctx: Context, sec: SettingsSection | undefined): SecretsOut {
  const out: SecretsOut = { ike: [], eap: [], ntlm: [], ppk: [], keys: [], tokens: [] };
  if (sec === undefined) return out;
  for (const [name, key] of sec.keys) {
    const s = suggest(name, SECRET_TYPES);
    ctx.warnings.push(
      makeWarning('UNKNOWN_KEY', key.loc, `secrets.${name}`, `unknown key; secrets holds sections like ike-1 { id = ..., secret = ... }`, s),
    );
  }
  for (const sub of sec.sections.values()) {
    const path = `secrets.${sub.name}`;
    const l = sub.name.toLowerCase();
    const type = SECRET_TYPES.find((t) => l.startsWith(t));
    if (type === undefined) {
      unknownSection(ctx, sub, 'secrets', [...SECRET_TYPES], `secret sections start with ${SECRET_TYPES.join(', ')}`);
      continue;
    }
    if (!SECRET_TYPES_IMPLEMENTED.has(type)) {
      ctx.warnings.push(makeWarning('NOT_IMPLEMENTED', sub.loc, path, 'accepted but not implemented'));
    }
    switch (type) {
      case 'ike':
      case 'eap':
      case 'xauth':
      case 'ntlm':
      case 'ppk': {
        const s = buildSharedSecret(ctx, sub, path);
        if (s === undefined) break;
        if (type === 'ike') out.ike.push(s);
        else if (type === 'ntlm') out.ntlm.push(s);
        else if (type === 'ppk') out.ppk.push(s);
        else out.eap.push(s);
        break;
      }
      case 'token': {
        const r = new SectionReader(ctx, sub, path, TOKEN_KEYS);
        const before = ctx.errors.length;
        const quiet = { info: { implemented: true } };
        const t: TokenKey = {
          section: sub.name,
          loc: sub.loc,
          handle: r.get('handle', parseString, quiet),
          slot: r.get('slot', (v) => parseUint(v, UINT32_MAX), quiet),
          module: r.get('module', parseString, quiet),
          pin: r.get('pin', parseString, { ...quiet, secret: true }),
        };
        r.finish();
        if (ctx.errors.length === before) out.tokens.push(t);
        break;
      }
      default: {
        const r = new SectionReader(ctx, sub, path, PASSPHRASE_KEYS);
        const before = ctx.errors.length;
        const file = r.get('file', parseString);
        const secret = r.get('secret', parseString, { secret: true });
        if (secret === undefined && ctx.errors.length === before) ctx.error('INCONSISTENT', sub.loc, `${path}: missing secret`);
        r.finish();
        if (ctx.errors.length === before && secret !== undefined) {
          out.keys.push({ section: sub.name, loc: sub.loc, type, file, secret });
        }
      }
    }
  }
  return out;
}

function buildAuthority(ctx: Context, sec: SettingsSection): AuthorityConfig {
  const path = `authorities.${sec.name}`;
  const r = new SectionReader(ctx, sec, path, AUTHORITY_KEYS);
  const quiet = { info: { implemented: true } };
  const a: AuthorityConfig = {
    name: sec.name,
    loc: sec.loc,
    cacert: r.get('cacert', parseString, quiet),
    crl_uris: r.get('crl_uris', splitList, quiet) ?? [],
    ocsp_uris: r.get('ocsp_uris', splitList, quiet) ?? [],
    cert_uri_base: r.get('cert_uri_base', parseString, quiet),
  };
  r.finish();
  ctx.warnings.push(makeWarning('NOT_IMPLEMENTED', sec.loc, path, 'accepted but not implemented (CRL/OCSP/hash-and-URL per authority)'));
  return a;
}

// ---------------------------------------------------------------------------------------------------------

/** Build the typed configuration from a parsed tree. Throws one ConfigError listing every error. */
export function buildSwanctlConfig(root: SettingsSection, options: BuildOptions = {}): LoadResult {
  const ctx = new Context(options);
  try {
    return buildInner(ctx, root);
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    // A bug here must still surface as a ConfigError: callers rely on nothing else being thrown.
    const why = e instanceof Error ? e.message : String(e);
    throw new ConfigError('INVALID_VALUE', root.loc, `internal error while reading the configuration: ${why}`);
  }
}

function buildInner(ctx: Context, root: SettingsSection): LoadResult {
  for (const [name, key] of root.keys) {
    const s = suggest(name, TOP_SECTIONS);
    ctx.warnings.push(makeWarning('UNKNOWN_KEY', key.loc, name, 'unknown key at the top level (expected sections connections, secrets, pools)', s));
  }
  // A top-level section swanctl does not read is fine when it is a template other sections reference
  // (`conn : templates.base { }`, strongSwan 5.7+); otherwise it is most likely a misspelt `connections`.
  const referenced = new Set<string>();
  const collectRefs = (s: SettingsSection): void => {
    for (const r of s.refs) referenced.add(r.path.split('.')[0]!);
    for (const sub of s.sections.values()) collectRefs(sub);
  };
  collectRefs(root);
  for (const sec of root.sections.values()) {
    if (!(TOP_SECTIONS as readonly string[]).includes(sec.name) && !referenced.has(sec.name)) {
      unknownSection(ctx, sec, sec.name, [...TOP_SECTIONS], 'the top level has connections, secrets, pools and authorities, and templates that other sections reference');
    }
  }

  const pools = new Map<string, PoolConfig>();
  const poolsSec = root.sections.get('pools');
  if (poolsSec !== undefined) {
    for (const [name, key] of poolsSec.keys) {
      ctx.warnings.push(makeWarning('UNKNOWN_KEY', key.loc, `pools.${name}`, 'unknown key; pools holds sections like name { addrs = ... }'));
    }
    for (const sec of poolsSec.sections.values()) {
      const p = buildPool(ctx, sec);
      if (p !== undefined) pools.set(p.name, p);
    }
  }
  // strongSwan: "Pools must be unique and non-overlapping"
  const poolList = [...pools.values()];
  for (let i = 0; i < poolList.length; i++) {
    for (let j = i + 1; j < poolList.length; j++) {
      const a = poolList[i]!;
      const b = poolList[j]!;
      if (rangesOverlap(a.addrs, b.addrs)) {
        ctx.error('INCONSISTENT', b.loc, `pools.${b.name}: addrs ${b.addrs.text} overlaps pools.${a.name} (${a.addrs.text}, line ${a.loc.line})`);
      }
    }
  }

  const connections = new Map<string, ConnectionConfig>();
  const connSec = root.sections.get('connections');
  if (connSec !== undefined) {
    for (const [name, key] of connSec.keys) {
      ctx.warnings.push(makeWarning('UNKNOWN_KEY', key.loc, `connections.${name}`, 'unknown key; connections holds one section per connection'));
    }
    for (const sec of connSec.sections.values()) {
      const c = buildConnection(ctx, sec, pools, poolsSec);
      if (c !== undefined) connections.set(c.name, c);
    }
  }

  const secrets = buildSecrets(ctx, root.sections.get('secrets'));
  const usesPsk = [...connections.values()].some((c) => [...c.local, ...c.remote].some((a) => a.auth.class === 'psk'));
  if (usesPsk && secrets.ike.length === 0) {
    const first = [...connections.values()].find((c) => [...c.local, ...c.remote].some((a) => a.auth.class === 'psk'))!;
    ctx.warnings.push(
      makeWarning('SUSPICIOUS', first.loc, `connections.${first.name}`, 'auth = psk but secrets { } has no ike<suffix> section with the key'),
    );
  }

  const authorities = new Map<string, AuthorityConfig>();
  const authSec = root.sections.get('authorities');
  if (authSec !== undefined) {
    for (const sec of authSec.sections.values()) authorities.set(sec.name, buildAuthority(ctx, sec));
  }

  if (ctx.errors.length > 0) {
    const err = ConfigError.combine(sortByPlace(ctx.errors));
    err.warnings = sortByPlace(ctx.warnings);
    throw err;
  }
  const config: SwanctlConfig = { connections, secrets, pools, authorities };
  return { config, warnings: sortByPlace(ctx.warnings) };
}

/** File order (by first mention), then line and column; stable otherwise. */
function sortByPlace<T extends { file: string; line: number; column: number }>(items: readonly T[]): T[] {
  const fileRank = new Map<string, number>();
  for (const i of items) if (!fileRank.has(i.file)) fileRank.set(i.file, fileRank.size);
  return [...items].sort((a, b) => fileRank.get(a.file)! - fileRank.get(b.file)! || a.line - b.line || a.column - b.column);
}

function toIo(io: ConfigIo | ReadFileFn): ConfigIo {
  return typeof io === 'function' ? { readFile: io } : io;
}

/**
 * Read swanctl.conf at `path` (includes resolved against it) and build the typed configuration.
 * Returns the configuration and warnings, or throws one ConfigError (code MULTIPLE when there are several).
 */
export function loadSwanctlConfig(path: string, io: ConfigIo | ReadFileFn, options: LoadOptions = {}): LoadResult {
  const tree = loadSettings(path, toIo(io), options);
  return buildSwanctlConfig(tree, options);
}

/** The same for text in memory; `file` names it in messages and anchors relative includes. */
export function parseSwanctlConfig(text: string, file = 'swanctl.conf', io?: ConfigIo | ReadFileFn, options: LoadOptions = {}): LoadResult {
  const tree = parseSettings(text, file, io, options);
  return buildSwanctlConfig(tree, options);
}
