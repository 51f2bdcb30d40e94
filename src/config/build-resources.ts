/**
 * pools, secrets and authorities: the sections that are not connections.
 */
import { makeWarning } from './errors.js';
import { parseRange, parseSubnet } from './ip.js';
import type { SettingsSection } from './parser.js';
import { Context, own, parseIdentity, parseIpList, parseString, SectionReader, unknownSection } from './reader.js';
import {
  AUTHORITY_KEYS,
  PASSPHRASE_KEYS,
  POOL_KEYS,
  SECRET_TYPES,
  SECRET_TYPES_IMPLEMENTED,
  SHARED_SECRET_KEYS,
  TOKEN_KEYS,
  type AuthorityConfig,
  type KeyPassphrase,
  type PoolConfig,
  type SharedSecret,
  type TokenKey,
} from './schema.js';
import { suggest } from './suggest.js';
import { parseSecret, parseUint, splitList, UINT32_MAX, ValueProblem } from './values.js';

export function buildPool(ctx: Context, sec: SettingsSection): PoolConfig | undefined {
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

export interface SecretsOut {
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

/**
 * RFC 8784 section 6: a PPK should carry at least 256 bits of entropy; one under 16 bytes (128 bits) is refused, as
 * is one without an id (the initiator sends the PPK_ID, the responder looks the PPK up by it). The secret itself
 * never appears in a message.
 */
export const PPK_MIN_BYTES = 16;
function checkPpk(ctx: Context, sec: SettingsSection, path: string, s: SharedSecret): boolean {
  const loc = sec.keys.get('secret')?.loc ?? sec.loc;
  if (s.secret.length < PPK_MIN_BYTES) {
    ctx.error('INVALID_VALUE', loc, `${path}.secret: a PPK of ${s.secret.length} bytes is too short: cygnet requires at least ${PPK_MIN_BYTES} bytes, RFC 8784 6 recommends 256 bits of entropy (e.g. 0x followed by 64 random hex digits)`);
    return false;
  }
  if (s.ids.length === 0) {
    ctx.error('INCONSISTENT', sec.loc, `${path}: a PPK needs an id = <PPK_ID> (RFC 8784 3: the initiator names its PPK by it, connections refer to it with ppk_id)`);
    return false;
  }
  return true;
}

export function buildSecrets(ctx: Context, sec: SettingsSection | undefined): SecretsOut {
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
        else if (type === 'ppk') {
          if (checkPpk(ctx, sub, path, s)) out.ppk.push(s);
        }
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

export function buildAuthority(ctx: Context, sec: SettingsSection): AuthorityConfig {
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
  // the CA certificate from a file or a token (swanctl.conf(5) authorities.<name>.file, handle, slot, module)
  for (const k of ['file', 'handle', 'slot', 'module']) r.get(k, parseString, quiet);
  r.finish();
  ctx.warnings.push(makeWarning('NOT_IMPLEMENTED', sec.loc, path, 'accepted but not implemented (CRL/OCSP/hash-and-URL per authority)'));
  return a;
}

