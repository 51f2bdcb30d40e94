/**
 * Shared pieces of the known-answer runners: loading vectors/*.json, hex, a RandomSource that replays a published
 * private value, and a tally that prints per backend how many entries ran and why any were skipped.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { availableBackends, backendUnavailableReasons } from '../../src/crypto/backends/index.js';
import type { RandomSource } from '../../src/crypto/random.js';
import type { CryptoBackend } from '../../src/crypto/types.js';

export type Entry = Record<string, unknown> & { id: string; source: string };

export function loadVectors(file: string): { entries: Entry[] } & Record<string, unknown> {
  const path = fileURLToPath(new URL(`../../vectors/${file}`, import.meta.url));
  return JSON.parse(readFileSync(path, 'utf8')) as { entries: Entry[] };
}

export function hex(s: unknown): Uint8Array {
  if (typeof s !== 'string') throw new Error(`expected a hex string, got ${typeof s}`);
  return Uint8Array.from(Buffer.from(s, 'hex'));
}

export function toHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex');
}

export function str(e: Entry, k: string): string {
  const v = e[k];
  if (typeof v !== 'string') throw new Error(`${e.id}: field ${k} is ${typeof v}, expected string`);
  return v;
}

export function num(e: Entry, k: string): number {
  const v = e[k];
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : NaN;
  if (!Number.isFinite(n)) throw new Error(`${e.id}: field ${k} is not a number`);
  return n;
}

/**
 * A RandomSource that gives back one published private value, right-aligned in whatever buffer the backend asks
 * for (a leading zero pad does not change a big-endian scalar or exponent).
 */
export function fixedRandom(value: Uint8Array): RandomSource {
  return {
    fill(buf: Uint8Array): Uint8Array {
      if (value.length > buf.length) {
        throw new Error(`fixedRandom: value of ${value.length} bytes does not fit a ${buf.length}-byte request`);
      }
      buf.fill(0);
      buf.set(value, buf.length - value.length);
      return buf;
    },
  };
}

/** Counts per backend, and per entry whether any backend ran it. */
export class Tally {
  readonly backends: CryptoBackend[] = availableBackends();
  private readonly ran = new Map<string, number>();
  private readonly skips = new Map<string, Map<string, number>>();
  private readonly failed = new Map<string, number>();
  private readonly entriesRun = new Set<string>();
  private readonly notApplicable = new Map<string, string>();

  constructor(readonly family: string) {
    for (const b of this.backends) this.ran.set(b.name, 0);
  }

  recordRun(backend: string, entryId: string): void {
    this.ran.set(backend, (this.ran.get(backend) ?? 0) + 1);
    this.entriesRun.add(entryId);
  }

  recordFailure(backend: string): void {
    this.failed.set(backend, (this.failed.get(backend) ?? 0) + 1);
  }

  recordSkip(backend: string, reason: string): void {
    let m = this.skips.get(backend);
    if (!m) this.skips.set(backend, (m = new Map()));
    m.set(reason, (m.get(reason) ?? 0) + 1);
  }

  /** An entry no backend is meant to run (say why); it is not counted as covered. */
  recordNotApplicable(entryId: string, reason: string): void {
    this.notApplicable.set(entryId, reason);
  }

  wasRun(entryId: string): boolean {
    return this.entriesRun.has(entryId);
  }

  uncovered(entries: readonly Entry[]): string[] {
    return entries.filter((e) => !this.entriesRun.has(e.id) && !this.notApplicable.has(e.id)).map((e) => e.id);
  }

  line(total: number): string {
    const parts: string[] = [];
    for (const b of this.backends) {
      const skips = this.skips.get(b.name);
      let s = `${b.name} ${this.ran.get(b.name) ?? 0} ran`;
      const f = this.failed.get(b.name);
      if (f) s += `, ${f} FAILED`;
      if (skips && skips.size > 0) {
        const n = [...skips.values()].reduce((a, c) => a + c, 0);
        s += ` (${n} skipped: ${[...skips].map(([r, c]) => `${c}x ${r}`).join('; ')})`;
      }
      parts.push(s);
    }
    for (const [name, reason] of Object.entries(backendUnavailableReasons())) {
      parts.push(`${name} 0 ran (unavailable: ${reason})`);
    }
    let line = `vectors ${this.family}: ${total} entries, ${this.entriesRun.size} run on at least one backend; ${parts.join(', ')}`;
    if (this.notApplicable.size > 0) {
      const byReason = new Map<string, number>();
      for (const r of this.notApplicable.values()) byReason.set(r, (byReason.get(r) ?? 0) + 1);
      line += `; not run on any backend: ${[...byReason].map(([r, c]) => `${c}x ${r}`).join('; ')}`;
    }
    return line;
  }
}

/**
 * Declares one test per backend that has what the entry needs (so a failure on one backend never hides another's
 * result), and records a skip with its reason for each backend that lacks it.
 */
export function eachBackend(
  it: (name: string, fn: () => void | Promise<void>, timeout?: number) => void,
  tally: Tally,
  entry: Entry,
  need: (b: CryptoBackend) => string | null,
  run: (b: CryptoBackend) => void | Promise<void>,
  timeout?: number,
): void {
  for (const b of tally.backends) {
    const lacking = need(b);
    if (lacking !== null) {
      tally.recordSkip(b.name, lacking);
      continue;
    }
    it(
      `${entry.id} on ${b.name}`,
      async () => {
        try {
          await run(b);
        } catch (err) {
          tally.recordFailure(b.name);
          throw err;
        }
        tally.recordRun(b.name, entry.id);
      },
      timeout,
    );
  }
}
