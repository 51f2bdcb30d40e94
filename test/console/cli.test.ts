/** `cygnet console` options, --hash-password and the errors that stop it before it listens (exit 2, reason). */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runConsole } from '../../src/console/cli.js';
import { verifyPassword } from '../../src/console/password.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cygnet-console-cli-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function run(argv: string[], stdin = ''): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runConsole(argv, { stdout: (s) => (out += s), stderr: (s) => (err += s), readStdin: async () => stdin });
  return { code, out, err };
}

describe('cygnet console command line', () => {
  it('--help prints the usage', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^usage: cygnet console \[options\]/);
    expect(r.out).toContain('--insecure-bind');
  });

  it('--hash-password prints a config line whose hash verifies the password read from stdin', async () => {
    const r = await run(['--hash-password', '--user', 'ops'], 'p4ss word\nignored\n');
    expect(r.code).toBe(0);
    const m = /^user ops = (scrypt\$\S+)\n$/.exec(r.out);
    expect(m).not.toBeNull();
    expect(await verifyPassword('p4ss word', m?.[1] ?? '')).toBe(true);
    expect((await run(['--hash-password'], '\n')).err).toMatch(/empty password/);
    expect((await run(['--hash-password', '--user', 'a b'], 'x')).code).toBe(2);
  });

  it('stops with exit 2 and the reason on bad options and configurations', async () => {
    const conf = join(dir, 'c.conf');
    const cases: Array<[string[], string | undefined, RegExp]> = [
      [['--frobnicate'], undefined, /unknown option '--frobnicate'/],
      [['--listen'], undefined, /--listen needs a value/],
      [['--config', join(dir, 'missing.conf')], undefined, /cannot read the console configuration .*missing\.conf.*ENOENT/],
      [['--config', conf], '# nobody\n', /c\.conf:0: no 'user NAME = HASH' line/],
      [['--config', conf], 'user admin = nope\n', /c\.conf:1: user 'admin': not a scrypt hash/],
      [['--config', conf, '--listen', 'nowhere'], `user admin = scrypt$1024$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n`, /listen address 'nowhere' is not HOST:PORT/],
      [['--config', conf, '--tls-cert', '/x'], `user admin = scrypt$1024$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n`, /--tls-cert and --tls-key go together/],
      [['--config', conf, '--sample-interval', '5'], `user admin = scrypt$1024$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n`, /--sample-interval '5' must be milliseconds/],
    ];
    for (const [argv, text, re] of cases) {
      if (text !== undefined) await writeFile(conf, text);
      const r = await run(argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.err, argv.join(' ')).toMatch(re);
    }
  });
});
