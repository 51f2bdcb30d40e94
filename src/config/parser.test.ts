import { describe, expect, it } from 'vitest';
import { ConfigError } from './errors.js';
import { globToRegExp, loadSettings, parseProblems, parseSettings, type ConfigIo, type SettingsSection } from './parser.js';

function memFs(files: Record<string, string>): ConfigIo {
  return {
    readFile: (f) => {
      const t = files[f];
      if (t === undefined) throw new Error(`ENOENT: no such file '${f}'`);
      return t;
    },
    listDir: (d) => {
      const prefix = d.endsWith('/') ? d : d + '/';
      const names = Object.keys(files)
        .filter((f) => f.startsWith(prefix) && !f.slice(prefix.length).includes('/'))
        .map((f) => f.slice(prefix.length));
      if (names.length === 0) throw new Error(`ENOENT: no directory '${d}'`);
      return names;
    },
  };
}

function val(s: SettingsSection, dotted: string | string[]): string | null | undefined {
  const parts = typeof dotted === 'string' ? dotted.split('.') : [...dotted];
  const key = parts.pop()!;
  let cur: SettingsSection | undefined = s;
  for (const p of parts) cur = cur?.sections.get(p);
  return cur?.keys.get(key)?.value;
}

function err(f: () => unknown): ConfigError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('settings syntax', () => {
  it('parses nested sections, keys and values to the end of the line', () => {
    const s = parseSettings(
      [
        'connections {',
        '  home-1_x {',
        '    remote_addrs = 192.0.2.1, vpn.example.org   ',
        '    local {',
        '      auth = psk',
        '    }',
        '  }',
        '}',
      ].join('\n'),
      'swanctl.conf',
    );
    expect(val(s, ['connections', 'home-1_x', 'remote_addrs'])).toBe('192.0.2.1, vpn.example.org');
    expect(val(s, ['connections', 'home-1_x', 'local', 'auth'])).toBe('psk');
    const conn = s.sections.get('connections')!.sections.get('home-1_x')!;
    expect(conn.loc).toEqual({ file: 'swanctl.conf', line: 2, column: 3 });
    expect(conn.keys.get('remote_addrs')!.loc.line).toBe(3);
  });

  it('joins value parts with one space and ends values at # and }', () => {
    const s = parseSettings('a {  x =   one\t two   # comment\n y = v }\nz = w#c', 'f');
    expect(val(s, 'a.x')).toBe('one two');
    expect(val(s, 'a.y')).toBe('v');
    expect(val(s, 'z')).toBe('w');
  });

  it('decodes quoted strings with escapes, across lines', () => {
    const s = parseSettings('a = "x  y # not a comment"\nb = "q\\"t\\n\\t\\\\"\nc = "multi\nline"\nd = "jo\\\nined"\ne = pre "  mid  " post\n', 'f');
    expect(val(s, 'a')).toBe('x  y # not a comment');
    expect(val(s, 'b')).toBe('q"t\n\t\\');
    expect(val(s, 'c')).toBe('multi\nline');
    expect(val(s, 'd')).toBe('joined');
    expect(val(s, 'e')).toBe('pre   mid   post');
  });

  it('keeps line numbers right after multi-line strings', () => {
    const s = parseSettings('a = "1\n2\n3"\nb = 4', 'f');
    expect(s.keys.get('b')!.loc.line).toBe(4);
  });

  it('reads CRLF files and keeps = and { inside values', () => {
    const s = parseSettings('a {\r\n  x = 1\r\n  y = p=q {r\r\n}\r\nz = "w"\r\n', 'f');
    expect(val(s, 'a.x')).toBe('1');
    expect(val(s, 'a.y')).toBe('p=q {r');
    expect(val(s, 'z')).toBe('w');
    expect(s.keys.get('z')!.loc.line).toBe(5);
  });

  it('gives an empty assignment a null value', () => {
    const s = parseSettings('a =\nb = # nothing\n', 'f');
    expect(s.keys.get('a')!.value).toBeNull();
    expect(s.keys.get('b')!.value).toBeNull();
  });

  it('lets a later key override and same-named sections merge', () => {
    const s = parseSettings('a { x = 1\n y = 2 }\na { x = 3\n z = 4 }\n', 'f');
    expect(val(s, 'a.x')).toBe('3');
    expect(val(s, 'a.y')).toBe('2');
    expect(val(s, 'a.z')).toBe('4');
    expect(s.sections.get('a')!.keys.get('x')!.loc.line).toBe(3);
    expect([...s.sections.get('a')!.keys.keys()]).toEqual(['x', 'y', 'z']);
  });

  it('accepts the opening brace on the next line', () => {
    const s = parseSettings('a\n{\n x = 1\n}\n', 'f');
    expect(val(s, 'a.x')).toBe('1');
  });

  it('accepts names with - _ digits and other printable characters (not . since strongSwan 5.7)', () => {
    const s = parseSettings('sec_1@a-b { id-2_x%y = @moon }', 'f');
    expect(val(s, ['sec_1@a-b', 'id-2_x%y'])).toBe('@moon');
    expect(parseProblems(parseSettings('sec_1.a-b { k = 1 }', 'f'))[0]!.message).toMatch(/a '\.' cannot appear in a key or section name/);
  });

  it('treats "include =" as a key, not an include', () => {
    const s = parseSettings('include = 5\n', 'f');
    expect(val(s, 'include')).toBe('5');
  });

  it('resolves section references (name : ref { })', () => {
    const s = parseSettings(
      'tpl { proposals = aes128-sha256-x25519\n local { auth = psk } }\nconnections { a : tpl { remote_addrs = 1.2.3.4 } }',
      'f',
    );
    expect(val(s, 'connections.a.proposals')).toBe('aes128-sha256-x25519');
    expect(val(s, 'connections.a.remote_addrs')).toBe('1.2.3.4');
    expect(val(s, 'connections.a.local.auth')).toBe('psk');
  });

  it('resolves long chains of shared references quickly', () => {
    const lines = ['s0 { k0 = 0 }'];
    for (let i = 1; i <= 40; i++) lines.push(`s${i} : s${i - 1}, s${i - 1} { k${i} = ${i} }`);
    const t0 = performance.now();
    const s = parseSettings(lines.join('\n'), 'f');
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(val(s, 's40.k0')).toBe('0');
    expect(val(s, 's40.k40')).toBe('40');
  });

  it('lets a section override what it references', () => {
    const s = parseSettings('t { k = 1\n j = 2 }\nu : t { k = 9 }', 'f');
    expect(val(s, 'u.k')).toBe('9');
    expect(val(s, 'u.j')).toBe('2');
  });
});

describe('settings syntax errors', () => {
  it("names what was expected after a bare key: expected '=' or '{'", () => {
    const e = err(() => parseSettings('connections {\n  home {\n    local_addrs\n  }\n}\n', 'swanctl.conf'));
    expect(e.code).toBe('SYNTAX');
    expect(e.file).toBe('swanctl.conf');
    expect(e.line).toBe(3);
    expect(e.message).toMatch(/^swanctl\.conf:3: expected '=' or '\{' after 'local_addrs'/);
  });

  it('reports a missing closing brace with the line of the opener', () => {
    const e = err(() => parseSettings('a {\n b {\n  x = 1\n}\n', 'f.conf'));
    expect(e.message).toMatch(/expected '\}' to close section 'a' opened at line 1/);
    expect(e.line).toBe(5);
  });

  it('reports an unexpected closing brace', () => {
    const e = err(() => parseSettings('a = 1\n}\n', 'f.conf'));
    expect(e.line).toBe(2);
    expect(e.column).toBe(1);
    expect(e.message).toMatch(/unexpected '\}'/);
  });

  it('reports an unterminated string at its opening quote', () => {
    const e = err(() => parseSettings('a = 1\nb = "abc\n\n', 'f.conf'));
    expect(e.line).toBe(2);
    expect(e.column).toBe(5);
    expect(e.message).toMatch(/unterminated string/);
  });

  it('rejects a quoted name, a stray = and a missing reference', () => {
    expect(err(() => parseSettings('"a" = 1', 'f')).message).toMatch(/quoted string/);
    expect(err(() => parseSettings('= 1', 'f')).message).toMatch(/expected a key or section name, found '='/);
    expect(err(() => parseSettings('a : nope { }', 'f')).message).toMatch(/'nope' does not exist/);
    expect(err(() => parseSettings('a : a { }', 'f')).message).toMatch(/references itself/);
  });

  it('limits nesting depth', () => {
    const deep = 'a {'.repeat(100) + '}'.repeat(100);
    expect(err(() => parseSettings(deep, 'f')).message).toMatch(/nested deeper/);
  });
});

describe('include', () => {
  it('resolves relative paths against the including file and splices into the current section', () => {
    const fs = memFs({
      '/etc/swanctl/swanctl.conf': 'connections {\n  include conf.d/home.conf\n}\nsecrets { include "../secrets/psk.conf" }\n',
      '/etc/swanctl/conf.d/home.conf': 'home { remote_addrs = 1.2.3.4 }\n',
      '/etc/secrets/psk.conf': 'ike-1 { secret = s3cret }\n',
    });
    const s = loadSettings('/etc/swanctl/swanctl.conf', fs);
    expect(val(s, 'connections.home.remote_addrs')).toBe('1.2.3.4');
    expect(val(s, 'secrets.ike-1.secret')).toBe('s3cret');
    expect(s.sections.get('connections')!.sections.get('home')!.loc.file).toBe('/etc/swanctl/conf.d/home.conf');
  });

  it('expands * and ? in the last component in sorted order, later files overriding', () => {
    const fs = memFs({
      '/c/main.conf': 'include conf.d/*.conf\ninclude conf.d/?.x\n',
      '/c/conf.d/b.conf': 'k = b\nb = 1\n',
      '/c/conf.d/a.conf': 'k = a\na = 1\n',
      '/c/conf.d/.hidden.conf': 'k = hidden\n',
      '/c/conf.d/notes.txt': 'k = txt\n',
      '/c/conf.d/z.x': 'zx = 1\n',
    });
    const s = loadSettings('/c/main.conf', fs);
    expect(val(s, 'k')).toBe('b');
    expect(val(s, 'a')).toBe('1');
    expect(val(s, 'zx')).toBe('1');
  });

  it('accepts a wildcard that matches nothing', () => {
    const fs = memFs({ '/c/main.conf': 'include /nowhere/*.conf\na = 1\n' });
    expect(val(loadSettings('/c/main.conf', fs), 'a')).toBe('1');
  });

  it('rejects an include of a missing file at the include line', () => {
    const fs = memFs({ '/c/main.conf': 'a = 1\ninclude missing.conf\n' });
    const e = err(() => loadSettings('/c/main.conf', fs));
    expect(e.code).toBe('INCLUDE');
    expect(e.file).toBe('/c/main.conf');
    expect(e.line).toBe(2);
    expect(e.message).toMatch(/cannot read '\/c\/missing.conf'/);
  });

  it('detects include cycles', () => {
    const fs = memFs({ '/c/a.conf': 'include b.conf\n', '/c/b.conf': 'x = 1\ninclude a.conf\n' });
    const e = err(() => loadSettings('/c/a.conf', fs));
    expect(e.code).toBe('INCLUDE');
    expect(e.file).toBe('/c/b.conf');
    expect(e.line).toBe(2);
    expect(e.message).toMatch(/include cycle: \/c\/a.conf -> \/c\/b.conf -> \/c\/a.conf/);
  });

  it('reports errors inside an included file with that file and line', () => {
    const fs = memFs({ '/c/a.conf': 'x {\ninclude b.conf\n}\n', '/c/b.conf': 'ok = 1\nbad\n' });
    const e = err(() => loadSettings('/c/a.conf', fs));
    expect(e.file).toBe('/c/b.conf');
    expect(e.line).toBe(2);
  });

  it('requires an included file to balance its own braces', () => {
    const fs = memFs({ '/c/a.conf': 'x {\ninclude b.conf\n', '/c/b.conf': '}\n' });
    expect(err(() => loadSettings('/c/a.conf', fs)).file).toBe('/c/b.conf');
  });

  it('wraps whatever readFile throws into a ConfigError', () => {
    const e = err(() =>
      loadSettings('/x.conf', () => {
        throw 42;
      }),
    );
    expect(e.code).toBe('INCLUDE');
    expect(e.message).toMatch(/cannot read '\/x.conf': 42/);
  });

  it('needs file access for includes and listDir for wildcards', () => {
    expect(err(() => parseSettings('include a.conf', 'f')).message).toMatch(/no file access/);
    expect(err(() => parseSettings('include *.conf', '/f', { readFile: () => '' })).message).toMatch(/directory listing/);
    expect(err(() => parseSettings('include /a*/b.conf', '/f', memFs({}))).message).toMatch(/last path component/);
  });

  it('decodes bytes from readFile as UTF-8 and drops a BOM', () => {
    const s = loadSettings('/u.conf', () => new TextEncoder().encode('\ufeffid = "Zürich"\n'));
    expect(val(s, 'id')).toBe('Zürich');
  });
});

describe('globToRegExp', () => {
  it('matches like glob(3) within one component', () => {
    expect(globToRegExp('*.conf').test('a.conf')).toBe(true);
    expect(globToRegExp('*.conf').test('.a.conf')).toBe(false);
    expect(globToRegExp('a?.conf').test('ab.conf')).toBe(true);
    expect(globToRegExp('a?.conf').test('a.conf')).toBe(false);
    expect(globToRegExp('a+(b).conf').test('a+(b).conf')).toBe(true);
  });
});

describe('what strongSwan 5.9 reads differently than it looks', () => {
  const collect = (text: string): { tree: SettingsSection; errors: ConfigError[] } => {
    const errors: ConfigError[] = [];
    const tree = parseSettings(text, 'swanctl.conf', undefined, { collect: errors });
    return { tree, errors };
  };

  it('several settings on one line: an error saying one key = value per line, then read as meant', () => {
    const { tree, errors } = collect('local {\n  auth = psk  id = hq.example.com }\nx { a = 1 b= 2 }\n');
    expect(errors.map((e) => e.line)).toEqual([2, 3]);
    expect(errors[0]!.message).toMatch(/^swanctl.conf:2: 'id =' on the same line as 'auth =': write one `key = value` per line/);
    expect(errors[1]!.message).toMatch(/'b =' on the same line as 'a ='/);
    expect(val(tree, 'local.auth')).toBe('psk');
    expect(val(tree, 'local.id')).toBe('hq.example.com');
    expect(val(tree, 'x.b')).toBe('2');
    expect(parseProblems(parseSettings('a = 1 b = 2', 'f'))[0]!.message).toMatch(/one `key = value` per line/);
  });

  it('keeps = inside values: DNs, quoted strings, base64 padding', () => {
    const { tree, errors } = collect('id = C=CH, O=strongSwan, CN=moon\ns = "a = b"\nsecret = 0sAbCd==\n');
    expect(errors).toEqual([]);
    expect(val(tree, 'id')).toBe('C=CH, O=strongSwan, CN=moon');
    expect(val(tree, 's')).toBe('a = b');
    expect(val(tree, 'secret')).toBe('0sAbCd==');
  });

  it("refuses a '.' in a key or section name as strongSwan's lexer does, naming the nested form", () => {
    const { errors } = collect('charon.port = 500\n');
    expect(errors[0]!.message).toMatch(/swanctl.conf:1: 'charon.port': a '.' cannot appear .* charon \{ port \.\.\. \}/);
    // references are dotted paths and stay legal
    expect(collect('t { b { k = 1 } }\nc : t.b { }\n').errors).toEqual([]);
  });
});

describe('legacy formats handed to the swanctl.conf parser', () => {
  it('an ipsec.conf is named as such, with the command that converts it', () => {
    expect(() => parseSettings('config setup\n  charondebug="ike 2"\nconn home\n  left=%any\n', '/etc/ipsec.conf')).toThrow(
      /^\/etc\/ipsec.conf:1: .*; this is ipsec.conf syntax, not swanctl.conf: convert it with `cygnet import --ipsec-conf \/etc\/ipsec.conf`/,
    );
  });

  it('an ipsec.secrets too', () => {
    expect(() => parseSettings(': RSA ClientKey.pem\nuser1 : EAP "x"\n', '/etc/ipsec.secrets')).toThrow(/this is ipsec.secrets syntax/);
  });

  it('a swanctl.conf error stays as it is', () => {
    expect(() => parseSettings('connections {\n', 'swanctl.conf')).toThrow(/^swanctl.conf:2: expected '}' to close section 'connections' opened at line 1, found the end of the file$/);
  });
});
