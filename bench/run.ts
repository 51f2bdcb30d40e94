/**
 * `npm run bench -- <name...> [--time=<ms>] [--filter=<regex>] [--json] [--quiet]`: runs bench/<name>.ts modules, each exporting
 * `run(): Promise<void>`. With no name, lists the benches present in this folder.
 */
import { readdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const HELPERS = new Set(['run', 'lib']);

function available(): string[] {
  return readdirSync(here)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.endsWith('.d.ts'))
    .map((f) => f.slice(0, -3))
    .filter((n) => !HELPERS.has(n))
    .sort();
}

async function main(): Promise<number> {
  const names = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const benches = available();
  if (names.length === 0) {
    process.stdout.write(`usage: npm run bench -- <name...> [--time=<ms>] [--filter=<regex>] [--json] [--quiet]\nbenches: ${benches.join(', ')}\n`);
    return 0;
  }
  const unknown = names.filter((n) => !benches.includes(n));
  if (unknown.length > 0) {
    process.stderr.write(`unknown bench: ${unknown.join(', ')} (available: ${benches.join(', ')})\n`);
    return 2;
  }
  for (const name of names) {
    const mod = (await import(pathToFileURL(`${here}/${name}.ts`).href)) as { run?: () => Promise<void> };
    if (typeof mod.run !== 'function') {
      process.stderr.write(`bench/${name}.ts does not export run(): Promise<void>\n`);
      return 2;
    }
    await mod.run();
  }
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 1;
  },
);
