/**
 * The machinery the section builders share: the error/warning collector, a reader that runs each key through
 * its value parser and remembers which keys it has seen (so the rest can be warned about, with a suggestion),
 * and small parsers used by several sections.
 */
import { ConfigError, makeWarning, type ConfigErrorCode, type ConfigWarning, type SourceLocation } from './errors.js';
import { parseIp, type IpAddress } from './ip.js';
import type { SettingsKey, SettingsSection } from './parser.js';
import type { KeyInfo } from './schema.js';
import { suggest } from './suggest.js';
import { isSecretKey } from './redact.js';
import { parseIdentity as parseIdentityText, ValueProblem, splitList } from './values.js';
import { parseIdentity as parseIkeIdentity } from '../ike/identity.js';

/** A value strongSwan accepts but cygnet refuses to run with (it would do something else than asked). */
export class Unsupported extends ValueProblem {}

/** An identity as written, checked with the IKE layer's parser (RFC 7296 3.5 types, DN syntax, @# hex). */
export function parseIdentity(raw: string): string {
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


export class Context {
  readonly errors: ConfigError[] = [];
  readonly warnings: ConfigWarning[] = [];
  constructor(readonly options: BuildOptions) {}

  error(code: ConfigErrorCode, loc: SourceLocation, detail: string): void {
    this.errors.push(new ConfigError(code, loc, detail));
  }
}

export function show(value: string): string {
  const v = value.length > 60 ? `${value.slice(0, 57)}...` : value;
  return `'${v.replace(/\n/g, '\\n')}'`;
}

/** A table entry by own property only: a key named `constructor` or `__proto__` is just an unknown key. */
export function own<T>(table: Readonly<Record<string, T>>, name: string): T | undefined {
  return Object.hasOwn(table, name) ? table[name] : undefined;
}

/** Reads the keys of one section through their parsers and remembers which it has seen. */
export class SectionReader {
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
      const shown = opts.secret === true || isSecretKey(k.name) ? '' : ` ${show(k.value)}`;
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

  /**
   * Every key nobody read is an error: unknown to strongSwan too (charon discards such a connection with
   * "unknown option"), so probably a typo that would otherwise run with a default instead of what was meant.
   */
  finish(extraKnown: readonly string[] = []): void {
    for (const [name, k] of this.section.keys) {
      if (this.used.has(name)) continue;
      const s = suggest(name, [...Object.keys(this.known), ...extraKnown]);
      const text = s !== undefined ? `unknown key; did you mean '${s}'?` : `unknown key (known here: ${Object.keys(this.known).join(', ')})`;
      this.ctx.error('UNKNOWN_KEY', k.loc, `${this.path}.${name}: ${text}`);
    }
  }
}

export function unknownSection(ctx: Context, sec: SettingsSection, path: string, known: readonly string[], what: string): void {
  const s = suggest(sec.name, known);
  const hint = s !== undefined ? `; did you mean '${s}'?` : '';
  ctx.error('UNKNOWN_SECTION', sec.loc, `${path}: unknown section '${sec.name}' (${what})${hint}`);
}


export function parseString(raw: string): string {
  return raw;
}

export function parseIpList(raw: string): IpAddress[] {
  return splitList(raw).map((s) => {
    const ip = parseIp(s);
    if (ip === undefined) throw new ValueProblem(`IP addresses, comma separated (not '${s}')`);
    return ip;
  });
}
