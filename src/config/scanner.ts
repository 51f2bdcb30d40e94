/**
 * The tokenizer of strongSwan's settings syntax (parser.ts has the grammar; strongswan.conf(5),
 * libstrongswan/settings/settings_lexer.l): one Scanner per file, tracking line and column (`pos` indexes UTF-16
 * units of the text), giving names, punctuation, newlines and `include`, and reading values, strings and include
 * patterns with their locations. An unterminated string is a ConfigError naming where it starts.
 */
import { ConfigError, type SourceLocation } from './errors.js';

const NAME_STOP = new Set(['#', '{', '}', '=', ':', ',', '"', '\r', '\n', '\t', ' ']);
const VALUE_STOP = new Set(['#', '}', '"', '\r', '\n', '\t', ' ']);
const INCLUDE_STOP = new Set(['"', '\\', '#', '}', '\r', '\n', '\t', ' ']);

export interface ValuePart {
  readonly text: string;
  readonly quoted: boolean;
  readonly loc: SourceLocation;
}

/** A run of name characters: what strongSwan's lexer would take for a key name. */
const KEY_NAME = /^[^#{}:.,="\r\n\t ]+$/;

/**
 * Where a value holds another `key = value` (`auth = psk  id = hq`): the index of the part that names the
 * next key, or -1. strongSwan reads all of it as one value (settings_lexer.l: '=' is an ordinary character
 * after the first one), which is never what was meant.
 */
export function nextSettingIn(parts: readonly ValuePart[]): number {
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    if (p.quoted) continue;
    if (p.text === '=' && i > 0 && !parts[i - 1]!.quoted && KEY_NAME.test(parts[i - 1]!.text)) return i - 1;
    if (p.text.length > 1 && p.text.endsWith('=') && KEY_NAME.test(p.text.slice(0, -1)) && i > 0) return i;
  }
  return -1;
}

export type Token =
  | { kind: 'newline'; loc: SourceLocation }
  | { kind: 'eof'; loc: SourceLocation }
  | { kind: 'punct'; ch: '{' | '}' | '=' | ':' | ','; loc: SourceLocation }
  | { kind: 'string'; loc: SourceLocation }
  | { kind: 'name'; text: string; loc: SourceLocation }
  | { kind: 'include'; loc: SourceLocation };

export class Scanner {
  pos = 0;
  line = 1;
  col = 1;
  private peeked: Token | undefined;

  constructor(
    readonly text: string,
    readonly file: string,
  ) {}

  here(): SourceLocation {
    return { file: this.file, line: this.line, column: this.col };
  }

  private advance(): string {
    const ch = this.text[this.pos++]!;
    if (ch === '\n') {
      this.line++;
      this.col = 1;
    } else {
      this.col++;
    }
    return ch;
  }

  private skipBlanks(): void {
    while (this.pos < this.text.length) {
      const ch = this.text[this.pos]!;
      if (ch === ' ' || ch === '\t' || ch === '\r') this.advance();
      else break;
    }
  }

  private skipComment(): void {
    while (this.pos < this.text.length && this.text[this.pos] !== '\n') this.advance();
  }

  peek(): Token {
    if (this.peeked === undefined) this.peeked = this.lex();
    return this.peeked;
  }

  next(): Token {
    const t = this.peek();
    this.peeked = undefined;
    return t;
  }

  private lex(): Token {
    for (;;) {
      this.skipBlanks();
      const loc = this.here();
      if (this.pos >= this.text.length) return { kind: 'eof', loc };
      const ch = this.text[this.pos]!;
      if (ch === '#') {
        this.skipComment();
        continue;
      }
      if (ch === '\n') {
        this.advance();
        return { kind: 'newline', loc };
      }
      if (ch === '{' || ch === '}' || ch === '=' || ch === ':' || ch === ',') {
        this.advance();
        return { kind: 'punct', ch, loc };
      }
      if (ch === '"') return { kind: 'string', loc };
      // `include` followed by blanks and then anything but '=' (and, here, '{') starts an include; otherwise
      // it is an ordinary name (settings_lexer.l: "include"[\t ]+/[^=]).
      if (this.text.startsWith('include', this.pos)) {
        let p = this.pos + 7;
        if (this.text[p] === ' ' || this.text[p] === '\t') {
          while (this.text[p] === ' ' || this.text[p] === '\t') p++;
          const after = this.text[p];
          if (after !== '=' && after !== '{') {
            while (this.pos < p) this.advance();
            return { kind: 'include', loc };
          }
        }
      }
      let s = '';
      while (this.pos < this.text.length && !NAME_STOP.has(this.text[this.pos]!)) s += this.advance();
      return { kind: 'name', text: s, loc };
    }
  }

  /**
   * After '=': the parts of the value up to a line end, '#', '}' or the end of the text (strongSwan joins
   * them with one space); empty when there is none.
   */
  readValueParts(): ValuePart[] {
    this.peeked = undefined; // callers consume '=' with next(), so nothing is pending here
    const parts: ValuePart[] = [];
    for (;;) {
      this.skipBlanks();
      if (this.pos >= this.text.length) break;
      const ch = this.text[this.pos]!;
      if (ch === '#' || ch === '}' || ch === '\n') break;
      const loc = this.here();
      if (ch === '"') {
        parts.push({ text: this.readString(), quoted: true, loc });
        continue;
      }
      let s = '';
      while (this.pos < this.text.length && !VALUE_STOP.has(this.text[this.pos]!)) s += this.advance();
      parts.push({ text: s, quoted: false, loc });
    }
    return parts;
  }

  /** A double-quoted string starting at `pos`. */
  readString(): string {
    const start = this.here();
    this.advance(); // opening quote
    let s = '';
    while (this.pos < this.text.length) {
      const ch = this.advance();
      if (ch === '"') return s;
      if (ch === '\r') continue;
      if (ch === '\\') {
        if (this.pos >= this.text.length) break;
        const e = this.advance();
        if (e === 'n') s += '\n';
        else if (e === 'r') s += '\r';
        else if (e === 't') s += '\t';
        else if (e === '\n') continue; // escaped line end joins lines
        else if (e === '\r' && this.text[this.pos] === '\n') this.advance();
        else s += e;
        continue;
      }
      s += ch;
    }
    throw new ConfigError('SYNTAX', start, 'unterminated string: expected a closing \'"\'');
  }

  /** After `include`: the file pattern, quoted or with `\"`, `\#`, `\}` and `\ ` escapes. */
  readIncludePattern(): string {
    this.skipBlanks();
    if (this.text[this.pos] === '"') return this.readString();
    let s = '';
    while (this.pos < this.text.length) {
      const ch = this.text[this.pos]!;
      if (ch === '\\') {
        this.advance();
        const e = this.text[this.pos];
        if (e === '"' || e === '#' || e === '}' || e === ' ') s += this.advance();
        else s += '\\';
        continue;
      }
      if (INCLUDE_STOP.has(ch)) break;
      s += this.advance();
    }
    return s;
  }
}

/** A token as error messages name it ("expected ... found '}'"). */
export function describe(t: Token): string {
  switch (t.kind) {
    case 'newline':
      return 'the end of the line';
    case 'eof':
      return 'the end of the file';
    case 'punct':
      return `'${t.ch}'`;
    case 'string':
      return 'a quoted string';
    case 'name':
      return `'${t.text}'`;
    case 'include':
      return "'include'";
  }
}
