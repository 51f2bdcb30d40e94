/**
 * ipsec.secrets(5): `[ID ...] : TYPE secret-or-file [passphrase]`, one entry per line (a line starting with
 * a blank continues the previous entry), `include FILE`, `#` comments. TYPE is PSK, RSA, ECDSA, BLISS, P12,
 * EAP, NTLM, XAUTH, PIN or PPK; the IDs `%any` and `%any6` (or none) match every peer.
 */
import { posix as path } from 'node:path';
import { ConfigError, type SourceLocation } from '../errors.js';
import { globToRegExp, type ConfigIo } from '../parser.js';

export type SecretType = 'PSK' | 'RSA' | 'ECDSA' | 'BLISS' | 'P12' | 'EAP' | 'NTLM' | 'XAUTH' | 'PIN' | 'PPK';
const TYPES: readonly SecretType[] = ['PSK', 'RSA', 'ECDSA', 'BLISS', 'P12', 'EAP', 'NTLM', 'XAUTH', 'PIN', 'PPK'];

export interface IpsecSecret {
  readonly ids: string[];
  readonly type: SecretType;
  /** The secret (PSK, EAP, XAUTH, NTLM, PPK, PIN) or the key file (RSA, ECDSA, BLISS, P12). */
  readonly value: string;
  /** The secret was quoted and starts with 0x/0s: literal text, not hex/base64. */
  readonly literal?: boolean;
  /** RSA/ECDSA/P12: the passphrase, or `%prompt`. */
  readonly passphrase?: string;
  readonly loc: SourceLocation;
}

/**
 * Words with ipsec.secrets quoting: "..." and '...' strings. A quoted secret is taken literally, an unquoted
 * `0x...`/`0s...` is hex/base64 (ipsec.secrets(5)); quoted ones that look like that are marked with a leading
 * NUL so the converter can keep them literal (swanctl reads 0x/0s prefixes even in quotes).
 */
function words(text: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    if (ch === '#') break;
    if (ch === '"' || ch === "'") {
      const end = text.indexOf(ch, i + 1);
      const w = end < 0 ? text.slice(i + 1) : text.slice(i + 1, end);
      out.push(/^0[xs]/i.test(w) ? `\0${w}` : w);
      i = end < 0 ? text.length : end + 1;
      continue;
    }
    let s = '';
    while (i < text.length && !/\s/.test(text[i]!)) s += text[i++]!;
    out.push(s);
  }
  return out;
}

export function readIpsecSecrets(file: string, io: ConfigIo): { secrets: IpsecSecret[]; errors: ConfigError[] } {
  const secrets: IpsecSecret[] = [];
  const errors: ConfigError[] = [];
  const stack: string[] = [];
  const parseFile = (f: string, at: SourceLocation | undefined): void => {
    if (stack.includes(f) || stack.length > 16) {
      errors.push(new ConfigError('INCLUDE', at, `include cycle: ${[...stack, f].join(' -> ')}`));
      return;
    }
    let text: string;
    try {
      const d = io.readFile(f);
      text = typeof d === 'string' ? d : new TextDecoder().decode(d);
    } catch (e) {
      errors.push(new ConfigError('INCLUDE', at ?? { file: f, line: 0, column: 0 }, `cannot read '${f}': ${e instanceof Error ? e.message : String(e)}`));
      return;
    }
    stack.push(f);
    // join continuation lines (leading blank) to their entry, remembering where the entry started
    const entries: { text: string; loc: SourceLocation }[] = [];
    text.split('\n').forEach((line, n) => {
      const l = line.replace(/\r$/, '');
      if (/^\s*(#.*)?$/.test(l)) return;
      const loc = { file: f, line: n + 1, column: 1 };
      if (/^\s/.test(l) && entries.length > 0 && !entries[entries.length - 1]!.text.includes(':')) entries[entries.length - 1]!.text += ' ' + l.trim();
      else entries.push({ text: l.trim(), loc });
    });
    for (const { text: e, loc } of entries) {
      const inc = /^include\s+(\S+)/.exec(e);
      if (inc) {
        const pat = inc[1]!;
        const full = path.normalize(path.isAbsolute(pat) ? pat : path.join(path.dirname(f), pat));
        if (/[*?]/.test(path.basename(full))) {
          let names: readonly string[] = [];
          try {
            names = io.listDir?.(path.dirname(full)) ?? [];
          } catch {
            names = [];
          }
          const re = globToRegExp(path.basename(full));
          for (const n of names.filter((x) => re.test(x)).sort()) parseFile(path.join(path.dirname(full), n), loc);
        } else parseFile(full, loc);
        continue;
      }
      const colon = e.search(/(^|\s):(\s|$)/);
      if (colon < 0) {
        errors.push(new ConfigError('SYNTAX', loc, "expected '[IDs] : TYPE secret' (a ':' between blanks)"));
        continue;
      }
      const c = e[colon] === ':' ? colon : colon + 1;
      const ids = words(e.slice(0, c)).filter((i) => i !== '%any' && i !== '%any6');
      const rest = words(e.slice(c + 1));
      const type = rest[0]?.toUpperCase() as SecretType | undefined;
      if (type === undefined || !TYPES.includes(type)) {
        errors.push(new ConfigError('SYNTAX', loc, `unknown secret type '${rest[0] ?? ''}': expected one of ${TYPES.join(', ')}`));
        continue;
      }
      if (rest[1] === undefined) {
        errors.push(new ConfigError('SYNTAX', loc, `${type}: the secret (or key file) is missing`));
        continue;
      }
      const lit = rest[1].startsWith('\0');
      const pass = rest[2]?.replace(/^\0/, '');
      secrets.push({ ids: ids.map((i) => i.replace(/^\0/, '')), type, value: lit ? rest[1].slice(1) : rest[1], ...(lit ? { literal: true } : {}), ...(pass !== undefined ? { passphrase: pass } : {}), loc });
    }
    stack.pop();
  };
  parseFile(file, undefined);
  return { secrets, errors };
}
