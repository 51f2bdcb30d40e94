/**
 * Configuration parity with strongSwan (issue 13): every swanctl.conf of test/fixtures/parity/ (the README's
 * examples, strongSwan's documented features one by one, and the seeds' ipsec.conf setups converted by
 * `cygnet import`) is loaded into charon with `swanctl --load-all --file X` and into cygnet (the same file as
 * its --config, re-read through vici's reload), and the two `swanctl --list-conns` outputs must be the same.
 * Only the order of the connection blocks is normalised (charon keeps its connections in a hash table).
 *
 * test/fixtures/parity/rejected/ holds what strongSwan refuses (several settings on one line, a '.' in a name,
 * a quoted section name, an unknown key, an unbalanced brace): swanctl must fail on each, and `cygnet check`
 * must exit 1 with the file's line.
 */
import assert from 'node:assert/strict';
import { cp, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run as exec, type RunResult } from '../lib/exec.js';
import { CYGNET_MAIN, REPO_ROOT } from '../lib/cygnet.js';
import type { ScenarioContext } from '../lib/scenario.js';
import { convertIpsecConf } from '../../../src/config/ipsec-conf/index.js';
import { readdirSync, readFileSync } from 'node:fs';

export const name = 'config-parity';
export const timeoutMs = 90_000;

const CORPUS = join(REPO_ROOT, 'test/fixtures/parity');
const SEEDS = join(REPO_ROOT, 'test/fixtures/ipsec-conf');

/**
 * `swanctl --list-conns` output split into connection blocks (a line at column 0 starts one), sorted by name.
 * charon prints `IKEv1/2` for `version = 0`; cygnet speaks IKEv2 only and says so: the one thing that must differ.
 */
export function normaliseListConns(text: string): string {
  const blocks: string[] = [];
  for (const line of text.replace(/\r/g, '').replace(/^([^ \n][^:\n]*): IKEv1\/2, /gm, '$1: IKEv2, ').split('\n')) {
    if (line.trim() === '') continue;
    if (!line.startsWith(' ') || blocks.length === 0) blocks.push(line);
    else blocks[blocks.length - 1] += '\n' + line;
  }
  return blocks.sort().join('\n');
}

/** What swanctl reports as a failure (its notes about credential folders that do not exist are not). */
function swanctlFailures(r: RunResult): string[] {
  const lines = (r.stdout + r.stderr).split('\n').filter((l) => /failed|error|invalid|unknown/i.test(l) && !/opening directory .* failed/.test(l));
  return r.code !== 0 && lines.length === 0 ? [`exit status ${r.code}`] : lines.map((l) => l.trim());
}

/** Line differences, as `- charon` / `+ cygnet` pairs in order. */
function lineDiff(a: string, b: string): string[] {
  const al = a.split('\n');
  const bl = b.split('\n');
  const out: string[] = [];
  for (let i = 0; i < Math.max(al.length, bl.length); i++) {
    if (al[i] !== bl[i]) out.push(`  line ${i + 1}:\n    - charon: ${al[i] ?? '(none)'}\n    + cygnet: ${bl[i] ?? '(none)'}`);
  }
  return out;
}

export async function run(ctx: ScenarioContext): Promise<void> {
  const ns = await ctx.lab.add('parity');
  const corpusDir = await ctx.subdir('corpus');
  await cp(CORPUS, corpusDir, { recursive: true });
  // The seeds' ipsec.conf setups, converted now (so the corpus always holds what `cygnet import` writes today).
  const io = { readFile: (f: string) => readFileSync(f, 'utf8'), listDir: (d: string) => readdirSync(d) };
  for (const seed of readdirSync(SEEDS).sort()) {
    const r = convertIpsecConf(join(SEEDS, seed, 'ipsec.conf'), io, { secretsFile: join(SEEDS, seed, 'ipsec.secrets') });
    await writeFile(join(corpusDir, `seed-${seed}.conf`), r.text);
  }
  const files = (await readdir(corpusDir)).filter((f) => f.endsWith('.conf')).sort();
  assert.ok(files.length >= 30, `corpus of ${files.length} files`);

  const swan = await ctx.startStrongswan({ ns, swanctlConf: '# loaded per corpus file with --file\n' });
  const cygDir = await ctx.subdir('cygnet');
  await cp(corpusDir, cygDir, { recursive: true });
  await writeFile(join(cygDir, 'cygnet.conf'), '');
  const cyg = await ctx.startCygnet({ ns, dir: cygDir, config: '', args: ['--bind', '127.0.0.1', '--port', '10500', '--natt-port', '14500'], ready: 'vici' });

  const differences: string[] = [];
  for (const f of files) {
    const text = await readFile(join(corpusDir, f), 'utf8');
    const loaded = await swan.swanctl(['--load-all', '--noprompt', '--file', join(corpusDir, f)], { allowFail: true });
    if (swanctlFailures(loaded).length > 0) {
      differences.push(`${f}: charon did not load it:\n  ${swanctlFailures(loaded).join('\n  ')}`);
      continue;
    }
    await writeFile(join(cygDir, 'cygnet.conf'), text);
    const reloaded = await cyg.swanctl(['--reload-settings'], { allowFail: true });
    if (reloaded.code !== 0) {
      differences.push(`${f}: cygnet did not load it:\n${reloaded.stdout}${reloaded.stderr}\n${(await cyg.log()).split('\n').slice(-5).join('\n')}`);
      continue;
    }
    const a = normaliseListConns((await swan.swanctl(['--list-conns'])).stdout);
    const b = normaliseListConns((await cyg.swanctl(['--list-conns'])).stdout);
    if (a === '') differences.push(`${f}: charon lists no connection after loading it`);
    const d = lineDiff(a, b);
    if (d.length > 0) differences.push(`${f}:\n${d.join('\n')}`);
    else ctx.log(`${f}: ${a.split('\n').filter((l) => !l.startsWith(' ')).length} connection(s), same --list-conns`);
  }

  // What strongSwan refuses, cygnet refuses, saying where.
  const rejectedDir = join(corpusDir, 'rejected');
  for (const f of (await readdir(rejectedDir)).filter((x) => x.endsWith('.conf')).sort()) {
    const path = join(rejectedDir, f);
    const s = await swan.swanctl(['--load-all', '--noprompt', '--file', path], { allowFail: true });
    const swanRefused = swanctlFailures(s);
    const c = await exec(process.execPath, ['--import', 'tsx', CYGNET_MAIN, 'check', path], { cwd: REPO_ROOT, allowFail: true, timeoutMs: 20_000 });
    const line = /line (\d+)/.exec((await readFile(path, 'utf8')).split('\n')[0] ?? '')?.[1];
    if (swanRefused.length === 0) differences.push(`rejected/${f}: charon accepted it:\n${s.stdout}`);
    if (c.code !== 1) differences.push(`rejected/${f}: cygnet check exited ${c.code}:\n${c.stdout}${c.stderr}`);
    else if (line !== undefined && !c.stdout.includes(`${f}:${line}:`)) differences.push(`rejected/${f}: cygnet check does not point at line ${line}:\n${c.stdout}`);
    else ctx.log(`rejected/${f}: charon: ${swanRefused.join(' / ')}; cygnet: ${c.stdout.split('\n').find((l) => l.startsWith('error: '))}`);
  }

  await writeFile(join(corpusDir, 'differences.txt'), differences.join('\n') + '\n');
  assert.equal(differences.length, 0, `${differences.length} difference(s):\n${differences.join('\n')}`);
}
