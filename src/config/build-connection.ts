/**
 * connections.<conn>: the IKE settings, the local/remote authentication rounds and the children, with
 * strongSwan's defaults and lifetime arithmetic (vici_config.c), and cygnet's refusals (IKEv1, transport
 * mode, AH, XAuth, EAP methods it lacks, several rounds).
 */
import { makeWarning } from './errors.js';
import { parseProposal, ProposalError } from '../crypto/proposals.js';
import {
  AUTH_KEYS,
  CHILD_KEYS,
  CONNECTION_KEYS,
  CYGNET_ENCAP,
  CYGNET_REPLAY_WINDOW,
  STRONGSWAN_DEFAULTS,
  type AuthMethod,
  type AuthRound,
  type ChildConfig,
  type CloseAction,
  type ConnectionConfig,
  type DpdAction,
  type PoolConfig,
  type StartAction,
  type EncapTransport,
} from './schema.js';
import type { SettingsSection } from './parser.js';
import { Context, parseIdentity, parseString, SectionReader, Unsupported, unknownSection } from './reader.js';
import { suggest } from './suggest.js';
import {
  parseAddressList,
  parseBool,
  parseBytes,
  parseDurationSeconds,
  parseEnum,
  parsePackets,
  parsePort,
  parseProposalList,
  parseTrafficSelectors,
  parseUint,
  parseVip,
  splitList,
  UINT32_MAX,
  ValueProblem,
  type AddressSpec,
} from './values.js';

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

// ---------------------------------------------------------------------------------------------------------
// Value parsers that carry cygnet's own limits

function parseVersion(raw: string): 0 | 2 {
  const n = parseUint(raw, UINT32_MAX, '0 (any) or 2 (IKEv2)');
  if (n === 0 || n === 2) return n;
  if (n === 1) throw new Unsupported('cygnet speaks IKEv2 only; use version = 2 (or 0)');
  throw new ValueProblem('0 (any), 1 (IKEv1) or 2 (IKEv2)');
}

/**
 * `encap`: strongSwan's yes/no (force UDP encapsulation), or cygnet's `tcp` / `tcp-fallback` (RFC 9329 TCP
 * encapsulation, always or when UDP gets no answer), which force encapsulation too: ESP over TCP is framed as
 * ESP in UDP is (RFC 9329 3.2).
 */
function parseEncap(raw: string): { encap: boolean; encap_transport: EncapTransport } {
  const s = raw.trim().toLowerCase();
  if (s === 'tcp' || s === 'tcp-fallback') return { encap: true, encap_transport: s };
  try {
    return { encap: parseBool(raw), encap_transport: 'udp' };
  } catch {
    throw new ValueProblem('yes or no (also true/false, enabled/disabled, 1/0), or tcp / tcp-fallback (RFC 9329)');
  }
}

/** The `eap-<type>` methods cygnet has (eap-md5 is for tests and must also be enabled where the session is made). */
const EAP_METHODS = ['mschapv2', 'tls', 'md5', 'dynamic', 'radius'] as const;

function parseAuth(raw: string): AuthMethod {
  const text = raw.trim();
  const l = text.toLowerCase();
  // vici_config.c parse_auth(): these prefixes are public key authentication with optional constraints
  if (l.startsWith('ike:') || l.startsWith('pubkey') || l.startsWith('rsa') || l.startsWith('ecdsa')) {
    return { class: 'pubkey', text };
  }
  if (l === 'psk') return { class: 'psk', text };
  // vici_config.c parse_auth(): `eap` lets the peer choose, `eap-<type>` names one (src/eap, src/eap-tls, src/radius)
  if (l === 'eap') return { class: 'eap', text };
  if (l.startsWith('eap-')) {
    const method = l.slice(4);
    if (!(EAP_METHODS as readonly string[]).includes(method)) {
      throw new Unsupported(`cygnet does not implement EAP method '${method}'; it has ${EAP_METHODS.map((m) => `eap-${m}`).join(', ')} and eap`);
    }
    return { class: 'eap', method, text };
  }
  if (l.startsWith('xauth')) throw new Unsupported('cygnet does not implement XAuth; use psk, pubkey or eap');
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


function parseTfc(raw: string): number | 'mtu' {
  if (raw.trim() === 'mtu') return 'mtu';
  return parseUint(raw, UINT32_MAX, 'a byte count or mtu');
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
    keyLocs: {
      ...(sec.keys.get('certs') ? { certs: sec.keys.get('certs')!.loc } : {}),
      ...(sec.keys.get('cacerts') ? { cacerts: sec.keys.get('cacerts')!.loc } : {}),
    },
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
  } else if (lifeT === rekeyT && rekeyT > 0) {
    // strongSwan's default life_time is 110% of rekey_time in whole seconds, so a short rekey_time (5s -> 5.5
    // -> 5s) leaves no time between the rekey and the hard expiry: the CHILD_SA is deleted instead of rekeyed.
    const fix = Math.max(Math.ceil((rekeyT * 110) / 100), rekeyT + 5);
    const given = sec.keys.get('life_time') !== undefined ? 'life_time equals rekey_time' : `the default life_time (110% of rekey_time, rounded down to whole seconds) is ${lifeT}s too`;
    ctx.warnings.push(
      makeWarning(
        'SUSPICIOUS',
        sec.keys.get('rekey_time')?.loc ?? sec.keys.get('life_time')?.loc ?? sec.loc,
        path,
        `rekey_time = ${rekeyT}s leaves the rekey no room: ${given}, so the CHILD_SA dies instead of being rekeyed; set life_time = ${fix}s (or longer)`,
      ),
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
    esp_padding_check: r.get('esp_padding_check', parseBool) ?? true,
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

export function buildConnection(ctx: Context, sec: SettingsSection, pools: ReadonlyMap<string, PoolConfig>, poolsSec: SettingsSection | undefined): ConnectionConfig | undefined {
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
  // RFC 4739: the initiator may authenticate in a second round after its first (cygnet: always EAP, e.g. a machine
  // certificate, then the user); local-2 is ours to run as initiator, remote-2 the peer's when we respond.
  for (const rounds of [local, remote]) {
    const [, second, third] = rounds;
    if (third) ctx.error('UNSUPPORTED', third.loc, `${path}.${third.section}: cygnet runs at most two authentication rounds per side (RFC 4739: e.g. a certificate, then EAP)`);
    else if (second && second.auth.class !== 'eap')
      ctx.error('UNSUPPORTED', second.loc, `${path}.${second.section}: cygnet runs a second authentication round (RFC 4739) only as EAP (auth = eap-...), after a pubkey or psk round`);
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
    ...(r.get('encap', parseEncap) ?? { encap: CYGNET_ENCAP, encap_transport: 'udp' }),
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
    ...(sec.keys.get('ppk_id') ? { ppk_id_loc: sec.keys.get('ppk_id')!.loc } : {}),
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

