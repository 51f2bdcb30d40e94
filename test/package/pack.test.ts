// The published package contains no tests (issue 12 "Guard rails in CI"). The build (tsconfig.build.json) is run
// into a scratch copy of the package, then `npm pack --dry-run --json` lists exactly what would be published.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const work = mkdtempSync(join(tmpdir(), 'cygnet-pack-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Builds dist/ into the scratch package and returns the paths `npm pack` would publish. */
function packedFiles(): string[] {
  cpSync(join(root, 'package.json'), join(work, 'package.json'));
  symlinkSync(join(root, 'vectors'), join(work, 'vectors'));
  try {
    execFileSync(join(root, 'node_modules/.bin/tsc'), ['-p', join(root, 'tsconfig.build.json'), '--outDir', join(work, 'dist')], {
      stdio: 'ignore',
    });
  } catch {
    // A type error elsewhere in the tree still emits every file; the file list is what this test judges.
  }
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: work, encoding: 'utf8' });
  const [pack] = JSON.parse(out) as [{ files: { path: string }[] }];
  return pack.files.map((f) => f.path);
}

describe('npm pack', () => {
  it('publishes the built library and no test file, test folder or test-only helper', { timeout: 120_000 }, () => {
    const files = packedFiles();
    expect(files).toContain('dist/src/index.js');
    expect(files).toContain('dist/src/cli/main.js');
    expect(files.filter((f) => /\.test\.|(^|\/)test\/|test-support|gateway\/testing/.test(f))).toEqual([]);
  });
});
