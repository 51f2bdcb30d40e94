// The sans-IO core rule of biome.jsonc (issue 12 "Guard rails in CI") must fire: the fixture, placed in a copy of the
// repository layout at a core path, gets one error per violation; the same file at a driver path gets none.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const biome = join(root, 'node_modules/.bin/biome');
const fixture = join(root, 'test/lint/fixtures/core-violations.ts');
const work = mkdtempSync(join(tmpdir(), 'cygnet-lint-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Diagnostic {
  category: string;
  severity: string;
  location: { path: string; start: { line: number } };
}

/** Lints the fixture as `<rel>` under a copy of biome.jsonc and its plugin; returns the error diagnostics. */
function lintAs(rel: string): Diagnostic[] {
  cpSync(join(root, 'biome.jsonc'), join(work, 'biome.jsonc'));
  cpSync(join(root, 'lint'), join(work, 'lint'), { recursive: true });
  mkdirSync(dirname(join(work, rel)), { recursive: true });
  cpSync(fixture, join(work, rel));
  let out: string;
  try {
    out = execFileSync(biome, ['lint', '--vcs-enabled=false', '--reporter=json', rel], {
      cwd: work,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
  } catch (e) {
    out = (e as { stdout: string }).stdout; // biome exits 1 when it reports errors
  }
  const report = JSON.parse(out) as { diagnostics: Diagnostic[] };
  return report.diagnostics.filter((d) => d.severity === 'error');
}

describe('core rule (biome.jsonc override for the sans-IO folders)', () => {
  it('flags node I/O imports, timers and clock reads in a core folder, each at its line', () => {
    const errors = lintAs('src/ike/core-violations.ts');
    const byLine = errors.map((d) => [d.location.start.line, d.category]);
    expect(byLine).toEqual([
      [3, 'lint/style/noRestrictedImports'], // node:fs
      [4, 'lint/style/noRestrictedImports'], // node:dgram
      [5, 'lint/style/noRestrictedImports'], // os
      [8, 'plugin'], // Date.now()
      [9, 'plugin'], // performance.now()
      [10, 'plugin'], // new Date()
      [11, 'lint/style/noRestrictedGlobals'], // setTimeout
      [12, 'lint/style/noRestrictedGlobals'], // setInterval
      [13, 'lint/style/noRestrictedGlobals'], // setImmediate
    ]);
  });

  it('applies to every core folder and not to the drivers', () => {
    for (const core of ['esp', 'crypto', 'pki', 'identity', 'gateway', 'net', 'sim']) {
      expect(lintAs(`src/${core}/core-violations.ts`), core).toHaveLength(9);
    }
    expect(lintAs('src/daemon/core-violations.ts')).toEqual([]);
    expect(lintAs('src/ike/core-violations.test.ts')).toEqual([]);
  });
});
