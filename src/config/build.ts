/**
 * From a parsed settings tree to the typed SwanctlConfig: every key read with its value parser, strongSwan's
 * defaults applied (with the lifetime arithmetic of vici_config.c), unknown and unimplemented keys warned
 * about with file:line, invalid values collected as ConfigErrors, then cross-checks (pools referenced exist
 * and do not overlap, a connection that must initiate has somewhere to initiate to).
 *
 * All problems of one file are reported together; if there is any error there is no config.
 */
import { ConfigError, makeWarning, type ConfigWarning } from './errors.js';
import { rangesOverlap } from './ip.js';
import { loadSettings, parseProblems, parseSettings, type ConfigIo, type ParseOptions, type ReadFileFn, type SettingsSection } from './parser.js';
import { TOP_SECTIONS, type AuthorityConfig, type ConnectionConfig, type PoolConfig, type SwanctlConfig } from './schema.js';
import { buildConnection } from './build-connection.js';
import { buildAuthority, buildPool, buildSecrets } from './build-resources.js';
import { Context, unknownSection, type BuildOptions } from './reader.js';
import { suggest } from './suggest.js';

export { cygnetProposalProblem } from './build-connection.js';
export type { BuildOptions } from './reader.js';

export interface LoadOptions extends BuildOptions, ParseOptions {}

export interface LoadResult {
  readonly config: SwanctlConfig;
  readonly warnings: readonly ConfigWarning[];
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
  // Syntax errors the parser could read past (several settings on one line...) are reported with the rest.
  ctx.errors.push(...parseProblems(root));
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

  // RFC 8784: a connection's ppk_id must name a PPK of secrets { }, and ppk_required needs some PPK.
  for (const c of connections.values()) {
    const where = `connections.${c.name}`;
    if (c.ppk_id !== undefined && !secrets.ppk.some((s) => s.ids.includes(c.ppk_id!))) {
      ctx.error('INCONSISTENT', c.ppk_id_loc ?? c.loc, `${where}.ppk_id = ${c.ppk_id}: no PPK with this id in secrets { } (add secrets { ppk-1 { id = ${c.ppk_id}, secret = 0x<64 hex digits> } })`);
    } else if (c.ppk_required && c.ppk_id === undefined && secrets.ppk.length === 0) {
      ctx.error('INCONSISTENT', c.loc, `${where}: ppk_required = yes, but secrets { } holds no PPK (ppk<suffix> { id = ..., secret = ... }) to answer a peer's PPK_ID with`);
    }
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
