/**
 * Whatever the input, the loader returns a configuration or throws a ConfigError, never anything else
 * (../shared/DESIGN.md section 5: every decoder, including the config file, is fuzzed).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseSwanctlConfig } from './build.js';
import { ConfigError } from './errors.js';
import type { ConfigIo } from './parser.js';
import { AUTH_KEYS, CHILD_KEYS, CONNECTION_KEYS, POOL_KEYS } from './schema.js';

const dir = fileURLToPath(new URL('../../test/fixtures/config/', import.meta.url));
const seeds = ['site-to-site-psk/swanctl.conf', 'roadwarrior/swanctl.conf', 'roadwarrior/client.conf', 'certs/swanctl.conf'].map((f) =>
  readFileSync(dir + f, 'utf8'),
);

/** An in-memory tree where includes can find files, loop, and glob. */
const memIo: ConfigIo = {
  readFile: (f) => {
    const files: Record<string, string> = {
      '/etc/swanctl/a.conf': 'x = 1\n',
      '/etc/swanctl/loop.conf': 'include loop.conf\n',
      '/etc/swanctl/conf.d/1.conf': 'connections { c1 { remote_addrs = 1.2.3.4 } }\n',
      '/etc/swanctl/conf.d/2.conf': 'connections { c1 { children { k { start_action = start } } } }\n',
    };
    const t = files[f];
    if (t === undefined) throw new Error(`ENOENT ${f}`);
    return t;
  },
  listDir: (d) => (d === '/etc/swanctl/conf.d' ? ['1.conf', '2.conf', 'x'] : []),
};

function outcome(text: string): 'ok' | 'error' | 'schema' {
  try {
    parseSwanctlConfig(text, '/etc/swanctl/swanctl.conf', memIo);
    return 'ok';
  } catch (e) {
    if (e instanceof ConfigError) {
      expect(e.message.length).toBeGreaterThan(0);
      // the builder turns its own bugs into ConfigErrors too; the fuzz must not find any
      expect(e.message).not.toMatch(/internal error/);
      return e.errors.some((x) => x.code !== 'SYNTAX' && x.code !== 'INCLUDE') ? 'schema' : 'error';
    }
    throw e;
  }
}

const syntaxChars = fc.constantFrom('{', '}', '=', ':', ',', '"', '\\', '#', '\n', ' ', '\t', '\r', 'a', '1', '.', '-', '/', '*', '[', ']', '%', '\u00e9', '\u0000');
const words = fc.constantFrom(
  'connections',
  'secrets',
  'pools',
  'children',
  'local',
  'remote-2',
  'ike-1',
  'include',
  'include a.conf',
  'include conf.d/*.conf',
  'include loop.conf',
  'include /nope/x',
  ...Object.keys(CONNECTION_KEYS),
  ...Object.keys(CHILD_KEYS),
  ...Object.keys(AUTH_KEYS),
  ...Object.keys(POOL_KEYS),
  'secret',
  'id',
  '10.0.0.0/24',
  '0x',
  '0s',
  'yes',
  '1h',
  'dynamic',
  '%any',
  'psk',
  'tunnel',
  'trap',
  'c : connections.c1',
);

describe('config fuzz: a config or a ConfigError, nothing else', () => {
  it('random characters', () => {
    fc.assert(
      fc.property(fc.array(syntaxChars, { maxLength: 200 }), (chars) => {
        outcome(chars.join(''));
      }),
      { numRuns: 3000 },
    );
  });

  it('random tokens from the vocabulary', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(words, syntaxChars, fc.string({ maxLength: 6 })), { maxLength: 80 }), (parts) => {
        outcome(parts.join(' '));
      }),
      { numRuns: 3000 },
    );
  });

  it('well-formed sections with random keys and values', () => {
    const kv = fc.tuple(words, fc.oneof(words, fc.string({ maxLength: 20 }))).map(([k, v]) => `${k.replace(/\s/g, '_')} = ${v.replace(/[\n{}#]/g, '')}`);
    const child = fc.array(kv, { maxLength: 5 }).map((kvs) => `ch { ${kvs.join('\n')}\n }`);
    const round = fc.tuple(fc.constantFrom('local', 'remote', 'local-1'), fc.array(kv, { maxLength: 4 })).map(([n, kvs]) => `${n} { ${kvs.join('\n')}\n }`);
    const conn = fc
      .tuple(fc.array(kv, { maxLength: 6 }), fc.array(round, { maxLength: 2 }), fc.array(child, { maxLength: 2 }))
      .map(([kvs, rounds, children]) => `c { ${kvs.join('\n')}\n${rounds.join('\n')}\n children { ${children.join('\n')} }\n }`);
    const pool = fc.array(kv, { maxLength: 4 }).map((kvs) => `p { ${kvs.join('\n')}\n }`);
    const doc = fc
      .tuple(fc.array(conn, { maxLength: 2 }), fc.array(pool, { maxLength: 2 }), fc.array(kv, { maxLength: 3 }))
      .map(([conns, pools, secrets]) => `connections {\n${conns.join('\n')}\n}\npools {\n${pools.join('\n')}\n}\nsecrets { ike { ${secrets.join('\n')}\n } }\n`);
    let ok = 0;
    fc.assert(
      fc.property(doc, (text) => {
        if (outcome(text) !== 'error') ok++;
      }),
      { numRuns: 2000 },
    );
    // the generator must reach the schema, not only syntax errors
    expect(ok).toBeGreaterThan(0);
  });

  it('mutated fixtures', () => {
    const mutation = fc.tuple(
      fc.integer({ min: 0, max: seeds.length - 1 }),
      fc.array(
        fc.tuple(fc.nat(), fc.constantFrom('insert', 'delete', 'replace', 'dupline', 'dropline'), fc.oneof(syntaxChars, words)),
        { minLength: 1, maxLength: 6 },
      ),
    );
    fc.assert(
      fc.property(mutation, ([which, ops]) => {
        let text = seeds[which]!;
        for (const [pos, op, s] of ops) {
          const p = text.length === 0 ? 0 : pos % text.length;
          if (op === 'insert') text = text.slice(0, p) + s + text.slice(p);
          else if (op === 'delete') text = text.slice(0, p) + text.slice(p + 1 + (pos % 7));
          else if (op === 'replace') text = text.slice(0, p) + s + text.slice(p + s.length);
          else {
            const lines = text.split('\n');
            const i = pos % lines.length;
            if (op === 'dupline') lines.splice(i, 0, lines[i]!);
            else lines.splice(i, 1);
            text = lines.join('\n');
          }
        }
        outcome(text);
      }),
      { numRuns: 3000 },
    );
  });

  it('the unmutated fixtures load', () => {
    for (const s of seeds) expect(outcome(s)).toBe('ok');
  });
});
