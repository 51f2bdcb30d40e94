import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../daemon/harness.js';
import { CLI_VERSION } from '../../src/cli/version.js';
import { DAEMON_USAGE } from '../../src/cli/daemon.js';

const ROOT = join(import.meta.dirname, '..', '..');
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');

async function cli(args: string[]): Promise<{ code: number; out: string }> {
  const r = runCli(args);
  const code = await r.exited;
  return { code, out: r.output() };
}

describe('cygnet help, --version and the README', () => {
  it("`cygnet help` prints exactly the README's Commands block", async () => {
    const block = /## Commands\n\n```\n([\s\S]*?)\n```/.exec(readme)?.[1];
    expect(block, 'README.md has a "## Commands" section with one fenced block').toBeDefined();
    const { code, out } = await cli(['help']);
    expect(code).toBe(0);
    expect(out.trimEnd(), "a command added to src/cli/main.ts USAGE goes into README.md's Commands block too").toBe(block);
  }, 30_000);

  it('`cygnet help COMMAND` is `cygnet COMMAND --help`, for every command the overview lists', async () => {
    const { out: overview } = await cli(['help']);
    // Every command the overview lists (first word of each entry, and each of the vici clients) has its own help.
    const commands = [...overview.matchAll(/^ {2}([a-z-]+)/gm)].map((m) => m[1]!).filter((c) => c !== 'version');
    expect(commands).toEqual(expect.arrayContaining(['daemon', 'install-service', 'pki', 'demo', 'status']));
    for (const c of ['list-sas', 'up', 'down', 'rekey', 'reload', 'stats']) expect(overview).toMatch(new RegExp(`, ${c}[ ,]`));
    const daemon = await cli(['help', 'daemon']);
    expect(daemon.code).toBe(0);
    expect(daemon.out.trimEnd()).toBe(DAEMON_USAGE);
    for (const c of commands.filter((x) => x !== 'help' && x !== 'daemon')) {
      const viaHelp = await cli(['help', c]);
      expect(viaHelp.code, c).toBe(0);
      expect(viaHelp.out, c).toMatch(/^usage: cygnet /);
    }
    const [viaHelp, direct] = await Promise.all([cli(['help', 'install-service']), cli(['install-service', '--help'])]);
    expect(viaHelp.out).toBe(direct.out);
    const bad = await cli(['help', 'frobnicate']);
    expect(bad.code).toBe(2);
    expect(bad.out).toMatch(/unknown command 'frobnicate'/);
  }, 120_000);

  it('every daemon flag the README names exists, and the new ones are in the README', () => {
    const flags = new Set([...DAEMON_USAGE.matchAll(/^ {2}(--[a-z-]+)/gm)].map((m) => m[1]!));
    for (const f of ['--log-target', '--log-file', '--log-facility', '--key-log']) {
      expect(flags.has(f), f).toBe(true);
      expect(readme, f).toContain(f);
    }
    const readmeDaemonFlags = /Useful flags:([\s\S]*?)`cygnet daemon --help` lists them all/.exec(readme)?.[1] ?? '';
    for (const m of readmeDaemonFlags.matchAll(/`(--[a-z-]+)/g)) expect(flags.has(m[1]!), `README names ${m[1]}`).toBe(true);
  });

  it('--version prints the package version; LICENSE matches package.json', async () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string; license: string };
    expect(CLI_VERSION).toBe(pkg.version);
    const { code, out } = await cli(['--version']);
    expect(code).toBe(0);
    expect(out).toBe(`cygnet ${pkg.version}\n`);
    const license = readFileSync(join(ROOT, 'LICENSE'), 'utf8');
    expect(pkg.license).toBe('MIT');
    expect(license).toMatch(/^MIT License\n\nCopyright \(c\) 2026 cygnet developers\n/);
  }, 30_000);

  it('CHANGELOG.md follows Keep a Changelog and lists the current version', () => {
    const changelog = readFileSync(join(ROOT, 'CHANGELOG.md'), 'utf8');
    expect(changelog).toMatch(/^# Changelog\n/);
    expect(changelog).toContain('https://keepachangelog.com/en/1.1.0/');
    expect(changelog).toMatch(/^## \[Unreleased\]$/m);
    expect(changelog).toMatch(new RegExp(`^## \\[${CLI_VERSION.replace(/\./g, '\\.')}\\] - \\d{4}-\\d{2}-\\d{2}$`, 'm'));
  });
});
