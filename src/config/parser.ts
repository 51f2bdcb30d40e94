/**
 * strongSwan's settings syntax, the grammar of swanctl.conf and strongswan.conf (strongswan.conf(5); the
 * reference implementation is libstrongswan/settings/settings_lexer.l and settings_parser.y):
 *
 *   statements := (NEWLINE | section | setting | include)*
 *   section    := NAME [':' NAME (',' NAME)*] NEWLINE? '{' statements '}'
 *   setting    := NAME '=' value?            value runs to the end of the line, a '#' or a '}'
 *   value      := (WORD | STRING)+           parts are joined with one space; use a STRING to keep more
 *   include    := 'include' PATTERN          relative to the including file; '*' and '?' in the last component
 *
 * NAME is any run of characters other than `#{}=:,."`, blanks and line ends (a '.' is refused as strongSwan 5.7+
 * refuses it; only section references are dotted paths); `#` starts a comment anywhere
 * outside a string. A STRING is double-quoted, may span lines, and knows the escapes \n \r \t, a backslash
 * before a line end joins lines, and a backslash before any other character stands for that character.
 * A later setting of the same key replaces the earlier value; sections with the same name merge.
 * `name : a.b, c { }` makes the section inherit what it does not define itself from the sections at the
 * absolute paths a.b and c (strongSwan 5.7+).
 *
 * A value holding another `key = value` (`auth = psk  id = hq`) is what strongSwan reads as one value and then
 * rejects or misreads; here it is an error saying to write one `key = value` per line, and the rest of the file
 * is still checked (parseProblems).
 *
 * Two deliberate differences from strongSwan: an included file must be balanced by itself (strongSwan splices
 * includes at the lexer level, so a brace could be opened in one file and closed in another; an error here
 * points at the file that is wrong), and an include that names a file without wildcards must find it.
 *
 * Pure: files are read through the injected `readFile` (and `listDir` for wildcard includes). Any failure is a
 * ConfigError; nothing else is thrown. This file builds the section tree; the tokens come from scanner.ts.
 */
import { posix as path } from 'node:path';
import { ConfigError, type SourceLocation } from './errors.js';
import { describe, nextSettingIn, Scanner, type Token, type ValuePart } from './scanner.js';

export type ReadFileFn = (file: string) => string | Uint8Array;
export type ListDirFn = (dir: string) => readonly string[];

/** File access for the parser: `readFile` throws (anything) when a file cannot be read. */
export interface ConfigIo {
  readonly readFile: ReadFileFn;
  /** Names (not paths) of the entries of a directory; needed only for includes with `*` or `?`. */
  readonly listDir?: ListDirFn;
}

export interface SettingsKey {
  readonly name: string;
  /** The value, or null for `key =` with nothing after it (strongSwan's "no value"). */
  value: string | null;
  /** Where the key name is. */
  loc: SourceLocation;
}

export interface SectionRef {
  readonly path: string;
  readonly loc: SourceLocation;
}

export interface SettingsSection {
  readonly name: string;
  /** Where the section was first opened. */
  readonly loc: SourceLocation;
  /** Keys in order of first definition. */
  readonly keys: Map<string, SettingsKey>;
  /** Subsections in order of first definition. */
  readonly sections: Map<string, SettingsSection>;
  /** Sections this one inherits from (`name : ref {`), as written; already merged in after parsing. */
  readonly refs: SectionRef[];
}

export interface ParseOptions {
  /** Deepest section nesting accepted (default 64): keeps hostile input from exhausting the stack. */
  readonly maxDepth?: number;
  /** Deepest include nesting accepted (default 32). */
  readonly maxIncludeDepth?: number;
  /** Most files one load may read, counting repeats (default 1000). */
  readonly maxFiles?: number;
  /**
   * Also receives the errors that leave the tree intact (several settings on one line, a '.' in a name);
   * they are always available from parseProblems(root) too.
   */
  readonly collect?: ConfigError[];
}

const PROBLEMS = new WeakMap<SettingsSection, readonly ConfigError[]>();

/**
 * The errors a parse read past (the tree is what was meant, but the file is wrong and strongSwan would read it
 * differently): whoever builds from the tree reports them with its own errors, so all come out at once.
 */
export function parseProblems(root: SettingsSection): readonly ConfigError[] {
  return PROBLEMS.get(root) ?? [];
}

export function newSection(name: string, loc: SourceLocation): SettingsSection {
  return { name, loc, keys: new Map(), sections: new Map(), refs: [] };
}

function toIo(io: ConfigIo | ReadFileFn | undefined): ConfigIo | undefined {
  if (io === undefined) return undefined;
  return typeof io === 'function' ? { readFile: io } : io;
}

/** Parse settings text. `file` names it in errors and anchors relative includes. */
export function parseSettings(
  text: string,
  file: string,
  io?: ConfigIo | ReadFileFn,
  options: ParseOptions = {},
): SettingsSection {
  const root = newSection('', { file, line: 1, column: 1 });
  const ctx = new ParseContext(toIo(io), options);
  ctx.parseFileInto(root, text, file, 0);
  return ctx.finish(resolveReferences(root));
}

/** Read and parse a settings file through `io`. */
export function loadSettings(file: string, io: ConfigIo | ReadFileFn, options: ParseOptions = {}): SettingsSection {
  const ioObj = toIo(io)!;
  const ctx = new ParseContext(ioObj, options);
  const text = ctx.read(file, undefined);
  const root = newSection('', { file, line: 1, column: 1 });
  ctx.parseFileInto(root, text, file, 0);
  return ctx.finish(resolveReferences(root));
}

// ---------------------------------------------------------------------------------------------------------
// Tree builder: statements, sections, settings and includes of one parse (all files), with its limits.

class ParseContext {
  private readonly stack: string[] = [];
  private filesRead = 0;
  private readonly maxDepth: number;
  private readonly maxIncludeDepth: number;
  private readonly maxFiles: number;
  private readonly softErrors: ConfigError[] = [];
  private readonly collect: ConfigError[] | undefined;

  constructor(
    private readonly io: ConfigIo | undefined,
    options: ParseOptions,
  ) {
    this.collect = options.collect;
    this.maxDepth = options.maxDepth ?? 64;
    this.maxIncludeDepth = options.maxIncludeDepth ?? 32;
    this.maxFiles = options.maxFiles ?? 1000;
  }

  read(file: string, at: SourceLocation | undefined): string {
    if (this.io === undefined) {
      throw new ConfigError('INCLUDE', at, `cannot include '${file}': no file access was given to the parser`);
    }
    if (++this.filesRead > this.maxFiles) {
      throw new ConfigError('INCLUDE', at, `too many files read (more than ${this.maxFiles}); include loop?`);
    }
    let data: string | Uint8Array;
    try {
      data = this.io.readFile(file);
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      throw new ConfigError('INCLUDE', at ?? { file, line: 0, column: 0 }, `cannot read '${file}': ${why}`);
    }
    if (typeof data === 'string') return data;
    if (!(data instanceof Uint8Array)) {
      const why = data !== null && typeof data === 'object' && typeof (data as { then?: unknown }).then === 'function'
        ? 'readFile returned a promise; it must be synchronous'
        : 'readFile returned neither a string nor bytes';
      throw new ConfigError('INCLUDE', at ?? { file, line: 0, column: 0 }, `cannot read '${file}': ${why}`);
    }
    return new TextDecoder('utf-8', { fatal: false }).decode(data);
  }

  parseFileInto(target: SettingsSection, text: string, file: string, depth: number): void {
    const key = path.normalize(file);
    if (this.stack.includes(key)) {
      const chain = [...this.stack.slice(this.stack.indexOf(key)), key].join(' -> ');
      throw new ConfigError('INCLUDE', { file, line: 0, column: 0 }, `include cycle: ${chain}`);
    }
    if (this.stack.length >= this.maxIncludeDepth) {
      throw new ConfigError('INCLUDE', { file, line: 0, column: 0 }, `includes nested deeper than ${this.maxIncludeDepth}`);
    }
    this.stack.push(key);
    try {
      const sc = new Scanner(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text, file);
      this.statements(sc, target, undefined, depth);
    } catch (e) {
      if (e instanceof ConfigError && e.code === 'SYNTAX' && e.file === file) {
        const hint = legacyFormatHint(text, file);
        if (hint !== undefined) throw new ConfigError('SYNTAX', { file: e.file, line: e.line, column: e.column }, `${e.detail}; ${hint}`);
      }
      throw e;
    } finally {
      this.stack.pop();
    }
  }

  /** Statements until EOF (opener undefined) or the '}' closing `opener`. */
  private statements(sc: Scanner, section: SettingsSection, opener: SourceLocation | undefined, depth: number): void {
    for (;;) {
      const t = sc.next();
      switch (t.kind) {
        case 'newline':
          continue;
        case 'eof':
          if (opener !== undefined) {
            throw new ConfigError(
              'SYNTAX',
              t.loc,
              `expected '}' to close section '${section.name}' opened at line ${opener.line}, found the end of the file`,
            );
          }
          return;
        case 'punct':
          if (t.ch === '}') {
            if (opener !== undefined) return;
            throw new ConfigError('SYNTAX', t.loc, "unexpected '}': no section is open");
          }
          throw new ConfigError('SYNTAX', t.loc, `expected a key or section name, found '${t.ch}'`);
        case 'string':
          throw new ConfigError('SYNTAX', t.loc, 'expected a key or section name, found a quoted string');
        case 'include':
          this.include(sc, section, t.loc, depth);
          continue;
        case 'name':
          this.afterName(sc, section, t, depth);
          continue;
      }
    }
  }

  private afterName(sc: Scanner, section: SettingsSection, name: Token & { kind: 'name' }, depth: number): void {
    let t = sc.peek();
    if (t.kind === 'punct' && t.ch === '=') {
      sc.next();
      this.checkName(name);
      let parts = sc.readValueParts();
      let key = name;
      // `a = 1  b = 2`: reported, then read as the settings that were meant so the rest can still be checked.
      for (let at = nextSettingIn(parts); at >= 0; at = nextSettingIn(parts)) {
        const next = parts[at]!;
        const glued = next.text.endsWith('=') && next.text.length > 1;
        const nextName = glued ? next.text.slice(0, -1) : next.text;
        const mine = parts.slice(0, at);
        this.soft(
          new ConfigError(
            'SYNTAX',
            next.loc,
            `'${nextName} =' on the same line as '${key.text} =': write one \`key = value\` per line ` +
              `(strongSwan would read everything after '${key.text} =' as its value); put '${nextName} = ...' on a line of its own`,
          ),
        );
        this.setKey(section, key, mine);
        key = { kind: 'name', text: nextName, loc: next.loc };
        parts = parts.slice(at + (glued ? 1 : 2));
      }
      this.setKey(section, key, parts);
      return;
    }
    this.checkName(name);
    const refs: SectionRef[] = [];
    if (t.kind === 'punct' && t.ch === ':') {
      sc.next();
      for (;;) {
        const r = sc.next();
        if (r.kind !== 'name') {
          throw new ConfigError('SYNTAX', r.loc, `expected the name of a section to reference after ':', found ${describe(r)}`);
        }
        refs.push({ path: r.text, loc: r.loc });
        t = sc.peek();
        if (t.kind === 'punct' && t.ch === ',') {
          sc.next();
          continue;
        }
        break;
      }
    }
    // The grammar allows one line end between a section name and its '{'; comments and blank lines are
    // accepted here as well.
    let sawNewline = false;
    while (t.kind === 'newline') {
      sawNewline = true;
      sc.next();
      t = sc.peek();
    }
    if (t.kind === 'punct' && t.ch === '{') {
      const open = sc.next();
      if (depth + 1 > this.maxDepth) {
        throw new ConfigError('SYNTAX', open.loc, `sections nested deeper than ${this.maxDepth}`);
      }
      let sub = section.sections.get(name.text);
      if (sub === undefined) {
        sub = newSection(name.text, name.loc);
        section.sections.set(name.text, sub);
      }
      sub.refs.push(...refs);
      this.statements(sc, sub, name.loc, depth + 1);
      return;
    }
    const where: SourceLocation = sawNewline
      ? { file: name.loc.file, line: name.loc.line, column: name.loc.column + name.text.length }
      : t.loc;
    if (refs.length > 0) {
      throw new ConfigError('SYNTAX', where, `expected '{' after the references of section '${name.text}', found ${describe(t)}`);
    }
    throw new ConfigError(
      'SYNTAX',
      where,
      `expected '=' or '{' after '${name.text}', found ${sawNewline ? 'the end of the line' : describe(t)}`,
    );
  }

  private setKey(section: SettingsSection, name: Token & { kind: 'name' }, parts: readonly ValuePart[]): void {
    const value = parts.length === 0 ? null : parts.map((p) => p.text).join(' ');
    const existing = section.keys.get(name.text);
    if (existing !== undefined) {
      existing.value = value;
      existing.loc = name.loc;
    } else {
      section.keys.set(name.text, { name: name.text, value, loc: name.loc });
    }
  }

  /** strongSwan's lexer ends a name at '.' (a token of its own the grammar has no place for). */
  private checkName(name: Token & { kind: 'name' }): void {
    if (!name.text.includes('.')) return;
    const parts = name.text.split('.');
    const nested = `${parts.slice(0, -1).map((p) => `${p} { `).join('')}${parts[parts.length - 1]} ...${' }'.repeat(parts.length - 1)}`;
    this.soft(
      new ConfigError(
        'SYNTAX',
        name.loc,
        `'${name.text}': a '.' cannot appear in a key or section name (strongSwan rejects it); nest sections instead: ${nested}`,
      ),
    );
  }

  soft(e: ConfigError): void {
    this.softErrors.push(e);
  }

  /** Errors that left the tree intact: remembered for parseProblems(root) and handed to the caller's list. */
  finish(root: SettingsSection): SettingsSection {
    if (this.softErrors.length > 0) {
      PROBLEMS.set(root, [...this.softErrors]);
      this.collect?.push(...this.softErrors);
    }
    return root;
  }

  private include(sc: Scanner, section: SettingsSection, at: SourceLocation, depth: number): void {
    const pattern = sc.readIncludePattern();
    if (pattern === '') {
      throw new ConfigError('SYNTAX', at, "expected a file name or pattern after 'include'");
    }
    const base = path.dirname(sc.file);
    const full = path.normalize(path.isAbsolute(pattern) ? pattern : path.join(base, pattern));
    const dir = path.dirname(full);
    const last = path.basename(full);
    if (/[*?]/.test(dir)) {
      throw new ConfigError('INCLUDE', at, `include '${pattern}': wildcards are supported in the last path component only`);
    }
    let files: string[];
    if (/[*?]/.test(last)) {
      if (this.io?.listDir === undefined) {
        throw new ConfigError('INCLUDE', at, `include '${pattern}': wildcards need directory listing, which was not given to the parser`);
      }
      let names: readonly unknown[];
      try {
        const listed: unknown = this.io.listDir(dir);
        names = Array.isArray(listed) ? listed : [];
      } catch {
        names = []; // like glob(3): a missing directory simply matches nothing
      }
      const re = globToRegExp(last);
      files = names
        .filter((n): n is string => typeof n === 'string' && re.test(n))
        .sort()
        .map((n) => path.join(dir, n));
    } else {
      files = [full];
    }
    for (const f of files) {
      const text = this.read(f, at);
      try {
        this.parseFileInto(section, text, f, depth);
      } catch (e) {
        if (e instanceof ConfigError && e.code === 'INCLUDE' && e.line === 0 && e.file === f) {
          // cycle or depth detected on entry: report it at the include statement
          throw new ConfigError('INCLUDE', at, e.detail);
        }
        throw e;
      }
    }
  }
}

/**
 * A file in strongSwan's legacy formats handed to the settings parser says so, with the way out: ipsec.conf
 * (`config setup`, `conn NAME` at the start of a line) and ipsec.secrets (`ID : PSK "..."`).
 */
export function legacyFormatHint(text: string, file: string): string | undefined {
  if (/^(config[\t ]+setup|conn[\t ]+\S+)[\t ]*(#.*)?$/m.test(text)) {
    return `this is ipsec.conf syntax, not swanctl.conf: convert it with \`cygnet import --ipsec-conf ${file}\` or run \`cygnet daemon --ipsec-conf ${file}\``;
  }
  if (/^[^#{}=\n]*:[\t ]*(PSK|RSA|ECDSA|EAP|XAUTH|NTLM|P12|PIN|PPK)[\t ]/m.test(text)) {
    return `this is ipsec.secrets syntax, not swanctl.conf: \`cygnet import --ipsec-conf ipsec.conf --secrets ${file}\` writes the secrets { } section`;
  }
  return undefined;
}

/** glob(3) for one path component: `*` any run, `?` one character, neither matches a leading dot. */
export function globToRegExp(pattern: string): RegExp {
  let re = '^';
  if (pattern.startsWith('*') || pattern.startsWith('?')) re += '(?!\\.)';
  for (const ch of pattern) {
    if (ch === '*') re += '[^/]*';
    else if (ch === '?') re += '[^/]';
    else re += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(re + '$', 'u');
}

// ---------------------------------------------------------------------------------------------------------
// Section references (strongswan.conf(5), "Referencing other Sections"): a section inherits the keys and
// subsections it does not define itself from each referenced section, in order; references are absolute
// dotted paths and are followed recursively.

function findSection(root: SettingsSection, dotted: string): SettingsSection | undefined {
  let cur: SettingsSection | undefined = root;
  for (const part of dotted.split('.')) {
    cur = cur.sections.get(part);
    if (cur === undefined) return undefined;
  }
  return cur;
}

function hasRefs(s: SettingsSection): boolean {
  if (s.refs.length > 0) return true;
  for (const sub of s.sections.values()) if (hasRefs(sub)) return true;
  return false;
}

export function resolveReferences(root: SettingsSection): SettingsSection {
  if (!hasRefs(root)) return root;
  const resolving: SettingsSection[] = [];
  // Each section is resolved once (references form a DAG that may share a lot: without the cache a chain of
  // sections each referencing the previous one twice would take exponential time); results are cloned
  // wherever they are placed so no two places in the tree share (and later mutate) one object.
  const cache = new Map<SettingsSection, SettingsSection>();

  const resolve = (s: SettingsSection): SettingsSection => {
    const done = cache.get(s);
    if (done !== undefined) return done;
    if (resolving.includes(s)) {
      throw new ConfigError('SYNTAX', s.loc, `section '${s.name}' references itself (directly or through others)`);
    }
    resolving.push(s);
    try {
      const out = newSection(s.name, s.loc);
      // kept after resolution so the schema can tell templates (referenced sections) from typos
      out.refs.push(...s.refs);
      for (const [k, v] of s.keys) out.keys.set(k, { ...v });
      for (const [n, sub] of s.sections) out.sections.set(n, cloneSection(resolve(sub)));
      for (const ref of s.refs) {
        const target = findSection(root, ref.path);
        if (target === undefined) {
          throw new ConfigError('SYNTAX', ref.loc, `referenced section '${ref.path}' does not exist (references are absolute paths)`);
        }
        mergeMissing(out, resolve(target));
      }
      cache.set(s, out);
      return out;
    } finally {
      resolving.pop();
    }
  };
  return cloneSection(resolve(root));
}

function cloneSection(s: SettingsSection): SettingsSection {
  const out = newSection(s.name, s.loc);
  out.refs.push(...s.refs);
  for (const [k, v] of s.keys) out.keys.set(k, { ...v });
  for (const [n, sub] of s.sections) out.sections.set(n, cloneSection(sub));
  return out;
}

function mergeMissing(into: SettingsSection, from: SettingsSection): void {
  for (const [k, v] of from.keys) if (!into.keys.has(k)) into.keys.set(k, { ...v });
  for (const [n, sub] of from.sections) {
    const mine = into.sections.get(n);
    if (mine === undefined) into.sections.set(n, cloneSection(sub));
    else mergeMissing(mine, sub);
  }
}

// ---------------------------------------------------------------------------------------------------------

/** A settings tree as a plain object: the shape of a vici load-conn / load-shared / load-pool message. */
export interface SettingsObject {
  readonly [key: string]: string | readonly string[] | SettingsObject | null | undefined;
}

/**
 * Build a settings tree from a plain object, so configuration that arrives another way (vici messages, tests)
 * goes through the same schema. Lists become comma separated values; `source` names the origin in messages.
 */
export function settingsFromObject(obj: SettingsObject, source = 'vici'): SettingsSection {
  const loc: SourceLocation = { file: source, line: 0, column: 0 };
  const build = (name: string, o: SettingsObject, depth: number): SettingsSection => {
    if (depth > 64) throw new ConfigError('SYNTAX', loc, `sections nested deeper than 64`);
    const s = newSection(name, loc);
    for (const [k, v] of Object.entries(o)) {
      if (v === undefined) continue;
      if (v === null) s.keys.set(k, { name: k, value: null, loc });
      else if (typeof v === 'string') s.keys.set(k, { name: k, value: v, loc });
      else if (Array.isArray(v)) s.keys.set(k, { name: k, value: v.map(String).join(', '), loc });
      else if (typeof v === 'object') s.sections.set(k, build(k, v as SettingsObject, depth + 1));
      else throw new ConfigError('SYNTAX', loc, `${k}: expected a string, a list or a section`);
    }
    return s;
  };
  return build('', obj, 0);
}
