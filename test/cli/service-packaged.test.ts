/**
 * systemd-analyze verify on the shipped template packaging/systemd/cygnet.service itself (issue 16), not only on
 * the unit install-service writes (service.test.ts). verify refuses a unit whose ExecStart binary does not exist,
 * and the template names /usr/bin/cygnet: where `npm install -g` puts the bin when npm's global prefix is /usr
 * (Debian's nodejs). Rather than install into the shared machine's /usr/bin, the test runs in a private mount
 * namespace where /usr/bin is an overlay holding one extra file, /usr/bin/cygnet, a launcher for this checkout; it
 * first proves that launcher is a working cygnet (`--version`), then verifies the template there. Root only
 * (unshare -m, overlayfs, probed first); the skip says why.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const UNIT = join(ROOT, 'packaging/systemd/cygnet.service');

function why(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root (needs unshare -m and an overlay mount)';
  if (spawnSync('systemd-analyze', ['--version']).status !== 0) return 'systemd-analyze is not installed (Debian package systemd; .ci/run installs it)';
  if (spawnSync('unshare', ['-m', 'true']).status !== 0) return 'unshare -m is refused here';
  // An overlay mount may be refused (e.g. inside some containers): probe on scratch directories first.
  const p = join(dir, 'probe');
  for (const d of ['lower', 'upper', 'work', 'mnt']) mkdirSync(join(p, d), { recursive: true });
  const probe = spawnSync('unshare', ['-m', '--propagation', 'private', 'mount', '-t', 'overlay', 'overlay', '-o', `lowerdir=${p}/lower,upperdir=${p}/upper,workdir=${p}/work`, `${p}/mnt`], { encoding: 'utf8' });
  if (probe.status !== 0) return `an overlay mount is refused here: ${probe.stderr.trim()}`;
  return undefined;
}
const dir = mkdtempSync(join(tmpdir(), 'cygnet-unit-ns-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const skip = why();
if (skip) console.log(`[skip] packaged unit verify: ${skip}`);

/** Runs `script` (sh) in a private mount namespace where /usr/bin/cygnet launches this checkout. */
function inNamespace(script: string) {
  const up = join(dir, 'up');
  const work = join(dir, 'work');
  mkdirSync(up, { recursive: true });
  mkdirSync(work, { recursive: true });
  const loader = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;
  writeFileSync(join(up, 'cygnet'), `#!/bin/sh\nexec ${process.execPath} --import ${loader} ${join(ROOT, 'src/cli/main.ts')} "$@"\n`);
  chmodSync(join(up, 'cygnet'), 0o755);
  const mount = `mount -t overlay overlay -o lowerdir=/usr/bin,upperdir=${up},workdir=${work} /usr/bin`;
  return spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', `${mount} && ${script}`], { cwd: '/', encoding: 'utf8' });
}

describe.skipIf(skip !== undefined)('packaging/systemd/cygnet.service with cygnet at /usr/bin/cygnet', () => {
  it('without /usr/bin/cygnet, verify fails on the missing ExecStart binary (the check can fail)', () => {
    const r = spawnSync('test', ['-e', '/usr/bin/cygnet']);
    if (r.status === 0) return; // installed on this machine: nothing to show
    const v = spawnSync('systemd-analyze', ['verify', UNIT], { encoding: 'utf8' });
    expect(v.status).not.toBe(0);
    expect(v.stderr).toContain('Command /usr/bin/cygnet is not executable');
  });

  it('the launcher is a working cygnet, and systemd-analyze verify passes on the template', () => {
    const r = inNamespace(`/usr/bin/cygnet --version && systemd-analyze verify ${UNIT}; echo "verify=$?"`);
    expect(r.stdout).toMatch(/^cygnet \d+\.\d+\.\d+\n/);
    expect(r.stdout).toContain('verify=0');
    // Anything verify says about our unit is a complaint (it prints nothing on success).
    expect(r.stderr.split('\n').filter((l) => l.includes('cygnet.service'))).toEqual([]);
  }, 60_000);
});
