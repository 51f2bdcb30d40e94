/**
 * `npm run fuzz -- --seconds N [--seed S] [--inputs N]`: runs the exchange fuzzer longer than CI does.
 * Prints the summary line and the first findings; exits 1 when anything was found.
 */
import { formatReport, runExchangeFuzzer } from './exchange-fuzzer.js';

function arg(name: string): number | undefined {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return undefined;
  const v = Number(process.argv[i + 1]);
  if (!Number.isFinite(v) || v < 0) {
    console.error(`--${name} needs a non-negative number, got '${process.argv[i + 1] ?? ''}'`);
    process.exit(2);
  }
  return v;
}

const seconds = arg('seconds');
const inputs = arg('inputs');
const seed = arg('seed') ?? 1;
const oi = process.argv.indexOf('--only');
const only = oi >= 0 ? process.argv[oi + 1] : undefined;
const r = runExchangeFuzzer({ seed, ...(only !== undefined ? { only } : {}), ...(seconds !== undefined ? { seconds } : {}), ...(inputs !== undefined ? { inputs } : seconds === undefined ? { inputs: 200_000 } : {}), progress: (l) => console.log(l) });
console.log(formatReport(r));
for (const [k, v] of Object.entries(r.perScenario).sort()) console.log(`  ${k}: ${v} inputs, ${((r.msPerScenario[k] ?? 0) / v).toFixed(2)} ms each`);
for (const f of r.findings) console.log(`  ${f}`);
process.exit(r.escaped + r.safetyNet + r.wedged + r.unbounded > 0 ? 1 : 0);
