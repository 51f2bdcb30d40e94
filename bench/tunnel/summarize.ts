/**
 * `npx tsx bench/tunnel/summarize.ts FILE.cpuprofile... [--top=N]`: the summary bench/tunnel.ts --profile prints,
 * for profiles kept from an earlier run (or any `node --cpu-prof` output).
 */
import { readFileSync } from 'node:fs';
import { formatSummary, summarizeProfile, type CpuProfile } from './profile.js';

const top = Number(process.argv.find((a) => a.startsWith('--top='))?.slice(6) ?? 25);
const files = process.argv.slice(2).filter((a) => !a.startsWith('--'));
if (files.length === 0) {
  process.stderr.write('usage: tsx bench/tunnel/summarize.ts FILE.cpuprofile... [--top=N]\n');
  process.exitCode = 2;
}
for (const f of files) {
  const p = JSON.parse(readFileSync(f, 'utf8')) as CpuProfile;
  process.stdout.write(`${formatSummary(f, summarizeProfile(p), top).join('\n')}\n`);
}
