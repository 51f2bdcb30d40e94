/**
 * ipsec.conf(5) as strongSwan's starter reads it (src/starter/parser/lexer.l and parser.y, 5.9):
 *
 *   file      := (section | setting | include | comment | blank line)*
 *   section   := ('config setup' | 'conn' NAME | 'ca' NAME) at the start of a line
 *   setting   := blanks KEY '=' value?      indented; one per line; no value resets the key to its default
 *   value     := (WORD | STRING)+           parts joined with one space; a '=' in a WORD is a syntax error
 *   include   := 'include' PATTERN          relative to the including file, shell wildcards
 *
 * `#` after blanks (or at a word's end) starts a comment; `version 2` lines are ignored. Sections named by
 * `also=` are spliced in where `also` is written; `conn %default` and `ca %default` give every later section
 * of their type its defaults (ipsec.conf(5) "also", "conn %default").
 *
 * Pure: files are read through the injected io, like the swanctl.conf parser (../parser.ts).
 */
import { posix as path } from 'node:path';
import { ConfigError, type SourceLocation } from '../errors.js';
import { globToRegExp, type ConfigIo } from '../parser.js';

export interface IpsecSetting {
  readonly key: string;
  /** null for `key=` (back to the default). */
  readonly value: string | null;
  readonly loc: SourceLocation;
}

export interface IpsecSection {
  readonly type: 'setup' | 'conn' | 'ca';
  readonly name: string;
  readonly loc: SourceLocation;
  /** In file order; a later setting of the same key wins. */
  readonly settings: IpsecSetting[];
}

export interface IpsecConf {
  readonly sections: IpsecSection[];
  /** Problems that did not stop the reading (each is also a reason the conversion refuses). */
  readonly errors: ConfigError[];
}

/** One value part: a run of anything but blanks, '"', '#', '=', or a double-quoted string. */
function lexValue(text: string, loc: SourceLocation, key: string): { parts: string[]; error?: ConfigError } {
  const parts: string[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    if (ch === ' ' || ch === '\t' || ch === '\r') {
      i++;
      continue;
    }
    if (ch === '#') break;
    if (ch === '"') {
      let s = '';
      i++;
      let closed = false;
      while (i < text.length) {
        const c = text[i++]!;
        if (c === '"') {
          closed = true;
          break;
        }
        if (c === '\\' && i < text.length) {
          const e = text[i++]!;
          s += e === 'n' ? '\n' : e === 't' ? '\t' : e === 'r' ? '\r' : e;
          continue;
        }
        s += c;
      }
      if (!closed) return { parts, error: new ConfigError('SYNTAX', loc, `${key}: unterminated string: expected a closing '"'`) };
      parts.push(s);
      continue;
    }
    if (ch === '=') {
      const prev = parts[parts.length - 1];
      const hint =
        // ipsec.conf keys are lower case words (leftsubnet, also): `C=CH` in a DN is not one
        prev !== undefined && /^[a-z][a-z0-9_]+$/.test(prev)
          ? `'${prev} =' on the same line as '${key} =': ipsec.conf takes one \`key=value\` per line; put '${prev}=...' on a line of its own`
          : `${key}: a '=' in a value must be quoted (e.g. ${key}="C=CH, O=example, CN=moon")`;
      return { parts, error: new ConfigError('SYNTAX', loc, hint) };
    }
    let s = '';
    while (i < text.length && !' \t\r"#='.includes(text[i]!)) s += text[i++]!;
    parts.push(s);
  }
  return { parts };
}

export function readIpsecConf(file: string, io: ConfigIo): IpsecConf {
  const sections: IpsecSection[] = [];
  const errors: ConfigError[] = [];
  let current: IpsecSection | undefined;
  const stack: string[] = [];

  const readFile = (f: string, at: SourceLocation | undefined): string => {
    try {
      const d = io.readFile(f);
      return typeof d === 'string' ? d : new TextDecoder().decode(d);
    } catch (e) {
      throw new ConfigError('INCLUDE', at ?? { file: f, line: 0, column: 0 }, `cannot read '${f}': ${e instanceof Error ? e.message : String(e)}`);
    }
  };

  const include = (pattern: string, from: string, at: SourceLocation): void => {
    const full = path.normalize(path.isAbsolute(pattern) ? pattern : path.join(path.dirname(from), pattern));
    const dir = path.dirname(full);
    const last = path.basename(full);
    let files: string[];
    if (/[*?[]/.test(last)) {
      let names: readonly string[] = [];
      try {
        names = io.listDir?.(dir) ?? [];
      } catch {
        names = []; // glob(3): no match is not an error
      }
      const re = globToRegExp(last);
      files = names.filter((n) => re.test(n)).sort().map((n) => path.join(dir, n));
    } else {
      files = [full];
    }
    for (const f of files) parseFile(f, readFile(f, at));
  };

  const parseFile = (f: string, text: string): void => {
    if (stack.includes(f) || stack.length > 16) {
      throw new ConfigError('INCLUDE', { file: f, line: 0, column: 0 }, `include cycle: ${[...stack, f].join(' -> ')}`);
    }
    stack.push(f);
    const lines = text.split('\n');
    for (let n = 0; n < lines.length; n++) {
      const raw = lines[n]!.replace(/\r$/, '');
      const loc: SourceLocation = { file: f, line: n + 1, column: 1 };
      if (/^[\t ]*(#.*)?$/.test(raw)) continue;
      if (/^[\t ]*version\b/.test(raw)) continue;
      const inc = /^[\t ]*include[\t ]+([^=].*)$/.exec(raw);
      if (inc) {
        const pat = inc[1]!.replace(/[\t ]+#.*$/, '').trim().replace(/^"(.*)"$/, '$1');
        include(pat, f, loc);
        continue;
      }
      if (!/^[\t ]/.test(raw)) {
        const m = /^(config[\t ]+setup|conn|ca)(?:[\t ]+([^\s#]+))?[\t ]*(#.*)?$/.exec(raw);
        if (!m) {
          const kv = /^([A-Za-z0-9_]+)[\t ]*=/.exec(raw);
          errors.push(
            new ConfigError(
              'SYNTAX',
              loc,
              kv
                ? `'${kv[1]}=' at the start of a line: settings of a section are indented (a blank or a tab first)`
                : `expected 'config setup', 'conn NAME', 'ca NAME' or 'include FILE' at the start of the line, found '${raw.trim().slice(0, 40)}'`,
            ),
          );
          current = undefined;
          continue;
        }
        const type = m[1]!.startsWith('config') ? 'setup' : (m[1] as 'conn' | 'ca');
        const name = m[2] ?? '';
        if (type !== 'setup' && name === '') errors.push(new ConfigError('SYNTAX', loc, `${type}: section name missing`));
        current = { type, name, loc, settings: [] };
        sections.push(current);
        continue;
      }
      const kv = /^[\t ]+([^\s"#=]+)[\t ]*=(.*)$/.exec(raw);
      if (!kv) {
        const word = raw.trim().split(/\s+/)[0]!;
        errors.push(new ConfigError('SYNTAX', loc, `missing value for setting '${word}': expected '${word}=value'`));
        continue;
      }
      const key = kv[1]!;
      const { parts, error } = lexValue(kv[2]!, loc, key);
      if (error) errors.push(error);
      if (current === undefined) {
        errors.push(new ConfigError('SYNTAX', loc, `'${key}=' outside of a section: put it under 'conn NAME' or 'config setup'`));
        continue;
      }
      current.settings.push({ key, value: parts.length === 0 ? null : parts.join(' '), loc });
    }
    stack.pop();
  };

  parseFile(file, readFile(file, undefined));
  return { sections, errors };
}

/** The settings of a conn (or ca) with `%default` and `also=` applied: key -> the setting that wins. */
export function resolveSection(conf: IpsecConf, section: IpsecSection, errors: ConfigError[]): Map<string, IpsecSetting> {
  const byName = (type: string, name: string) => conf.sections.filter((s) => s.type === type && s.name === name);
  const out = new Map<string, IpsecSetting>();
  const apply = (s: IpsecSection, seen: string[]): void => {
    for (const st of s.settings) {
      if (st.key === 'also') {
        for (const name of (st.value ?? '').split(/\s+/).filter((x) => x !== '')) {
          const target = byName(s.type, name)[0];
          if (target === undefined) {
            errors.push(new ConfigError('INCONSISTENT', st.loc, `also=${name}: there is no ${s.type} ${name}`));
          } else if (seen.includes(name)) {
            errors.push(new ConfigError('INCONSISTENT', st.loc, `also=${name}: ${[...seen, name].join(' -> ')} is a loop`));
          } else {
            apply(target, [...seen, name]);
          }
        }
        continue;
      }
      out.set(st.key, st);
    }
  };
  // %default sections apply to the sections after them (starter reads them first, then each conn on top).
  for (const d of byName(section.type, '%default')) apply(d, ['%default']);
  apply(section, [section.name]);
  for (const [k, v] of out) if (v.value === null) out.delete(k);
  return out;
}
