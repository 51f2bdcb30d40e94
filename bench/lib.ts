/**
 * Shared benchmark helpers: a calibrated loop for sub-microsecond synchronous operations, a tinybench wrapper for
 * async or slower work, and a reporter that prints an aligned table plus one JSON object per line.
 *
 * Why a hand-rolled loop for the hot path: tinybench reads the clock around every iteration, which at ~1 us per
 * seal costs as much as the seal itself. The calibrated loop reads the clock once per batch.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Bench } from 'tinybench';

/** One result row. Every JSON line carries at least these fields. */
export interface BenchRow {
  /** Which bench module produced it: "crypto", "esp", "tunnel"... */
  bench: string;
  /** Backend or implementation measured: "node", "openssl", "noble", "node-cipheriv"... */
  backend: string;
  /** Algorithm or scenario, e.g. "aes-128-gcm/icv16" or "ecp256 (group 19)". */
  algorithm: string;
  /** Payload bytes per operation (0 when not applicable). */
  size: number;
  /** Operation: "seal", "open", "keygen", "derive"... */
  op: string;
  /** Operations (packets) per second. */
  pps: number;
  /** Extra columns a bench wants to add (printed in JSON, and in the table when listed in `extraColumns`). */
  [extra: string]: string | number | boolean;
}

export interface MeasureOptions {
  /** Wall time to spend measuring after calibration, in ms. */
  timeMs?: number;
  /** Lower bound on measured operations (for very slow operations such as MODP 8192). */
  minOps?: number;
}

/** Per-measurement time from `--time=<ms>` or BENCH_TIME_MS, else `fallback`. */
export function benchTimeMs(fallback: number): number {
  const arg = process.argv.find((a) => a.startsWith('--time='));
  const v = Number(arg ? arg.slice('--time='.length) : process.env['BENCH_TIME_MS']);
  return Number.isFinite(v) && v > 0 ? v : fallback;
}

let gcFn: (() => void) | undefined | null = null;

/**
 * Collects garbage left by the previous measurement so it is not billed to the next one. Uses `--expose-gc` when
 * the process has it, otherwise exposes it through a V8 flag (a fresh vm context then sees `gc`).
 */
export function settle(): void {
  if (gcFn === null) {
    gcFn = undefined;
    const g = (globalThis as { gc?: () => void }).gc;
    if (typeof g === 'function') gcFn = g;
    else {
      try {
        setFlagsFromString('--expose-gc');
        const f = runInNewContext('gc') as unknown;
        if (typeof f === 'function') gcFn = f as () => void;
      } catch {
        gcFn = undefined;
      }
    }
  }
  gcFn?.();
}

/**
 * `--filter=<regex>` (case-insensitive) from the command line as a predicate over a row label such as
 * "openssl aes-128-gcm/icv16"; everything passes without the flag.
 */
export function benchFilter(): (label: string) => boolean {
  const arg = process.argv.find((a) => a.startsWith('--filter='));
  if (arg === undefined) return () => true;
  const re = new RegExp(arg.slice('--filter='.length), 'i');
  return (label) => re.test(label);
}

/**
 * Runs `fn` in batches sized so one batch takes ~1/10 of `timeMs` (the first batches double until they do; that
 * also warms up the JIT), then measures whole batches until `timeMs` has passed. Returns operations per second.
 */
export function measure(fn: () => unknown, opts: MeasureOptions = {}): { pps: number; ops: number; ms: number } {
  const timeMs = opts.timeMs ?? benchTimeMs(150);
  const minOps = opts.minOps ?? 1;
  settle();
  let batch = 1;
  // Calibration (and warm-up).
  for (;;) {
    const t0 = performance.now();
    for (let i = 0; i < batch; i++) fn();
    const dt = performance.now() - t0;
    if (dt >= timeMs / 10 || batch >= 1 << 24) break;
    batch = dt < 1 ? batch * 8 : Math.max(batch * 2, Math.ceil((batch * timeMs) / 10 / dt));
  }
  let ops = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < timeMs || ops < minOps) {
    for (let i = 0; i < batch; i++) fn();
    ops += batch;
    elapsed = performance.now() - start;
  }
  return { pps: (ops * 1000) / elapsed, ops, ms: elapsed };
}

/** Runs one tinybench task (sync or async) for `timeMs` and returns its throughput (ops/s, mean of samples). */
export async function measureTinybench(name: string, fn: () => unknown | Promise<unknown>, timeMs = benchTimeMs(150)): Promise<number> {
  const bench = new Bench({ time: timeMs, warmupTime: Math.min(100, timeMs / 4) });
  bench.add(name, fn);
  await bench.run();
  const task = bench.getTask(name);
  const r = task?.result as { throughput?: { mean?: number }; hz?: number } | undefined;
  return r?.throughput?.mean ?? r?.hz ?? 0;
}

/** Collects rows, shows progress on stderr, prints the table and the JSON lines at the end. */
export class Reporter {
  readonly rows: BenchRow[] = [];
  private readonly extraColumns: string[];
  private readonly quietProgress: boolean;

  constructor(extraColumns: string[] = []) {
    this.extraColumns = extraColumns;
    this.quietProgress = process.argv.includes('--quiet') || !process.stderr.isTTY;
  }

  add(row: BenchRow): void {
    this.rows.push(row);
    if (!this.quietProgress) process.stderr.write(`\r\x1b[K${row.backend} ${row.algorithm} ${row.size} ${row.op}: ${formatPps(row.pps)}`);
  }

  /** The aligned, human-readable table. */
  table(): string {
    const cols = ['backend', 'algorithm', 'size', 'op', 'pps', ...this.extraColumns];
    const cells = this.rows.map((r) =>
      cols.map((c) => (c === 'pps' ? formatPps(r.pps) : r[c] === undefined ? '' : String(r[c]))),
    );
    const width = cols.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i]!.length)));
    const numeric = new Set(['size', 'pps', ...this.extraColumns.filter((c) => this.rows.some((r) => typeof r[c] === 'number'))]);
    const line = (vals: string[]): string =>
      vals.map((v, i) => (numeric.has(cols[i]!) ? v.padStart(width[i]!) : v.padEnd(width[i]!))).join('  ').trimEnd();
    return [line(cols), line(width.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
  }

  /** One JSON object per line, nothing else on the line. */
  jsonLines(): string {
    return this.rows.map((r) => JSON.stringify({ ...r, pps: Math.round(r.pps) })).join('\n');
  }

  /**
   * Prints the table and `summary` lines, then the JSON lines, to stdout. With `--json` stdout carries only the
   * JSON lines and the summary goes to stderr.
   */
  print(summary: string[] = []): void {
    if (!this.quietProgress) process.stderr.write('\r\x1b[K');
    const jsonOnly = process.argv.includes('--json');
    const text = summary.length > 0 ? `${summary.join('\n')}\n` : '';
    if (jsonOnly) process.stderr.write(text);
    else process.stdout.write(`${this.table()}\n\n${text}${text ? '\n' : ''}`);
    process.stdout.write(`${this.jsonLines()}\n`);
  }
}

/** 1234567 -> "1,234,567" (the table's pps column). */
export function formatPps(pps: number): string {
  return Math.round(pps).toLocaleString('en-US');
}
