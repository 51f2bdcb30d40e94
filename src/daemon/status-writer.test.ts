/**
 * The status file is kept current while ESP drops happen (issue 15): moving drop counters rewrite it at most once
 * a second, and drops held back by that limit are written when the second ends even if the daemon gets no
 * further input (the last packets of a one-way tunnel). Fake timers: no waiting, no timing assertions.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Logger } from './logger.js';
import type { DaemonStatus } from './status.js';
import { DROPS_WRITE_INTERVAL_MS, StatusWriter } from './status-writer.js';

let dir: string;
beforeEach(() => {
  vi.useFakeTimers();
  dir = mkdtempSync(join(tmpdir(), 'cyg-status-'));
});
afterEach(() => {
  vi.useRealTimers();
  rmSync(dir, { recursive: true, force: true });
});

/** A writer over a drop array the test moves; the file's counters carry the total. */
function setup(file: string | undefined) {
  const drops = new Float64Array(18);
  const lines: string[] = [];
  let writes = 0;
  const w = new StatusWriter({
    file,
    drops: () => drops,
    clock: () => Date.now(),
    log: new Logger({ write: (l) => lines.push(l) }),
    status: (): DaemonStatus => {
      writes++;
      return { pid: 1, state: 'running', updated: new Date().toISOString(), ikeSas: [], counters: { espDrops: drops.reduce((a, b) => a + b, 0) } };
    },
  });
  const shown = (): number => (JSON.parse(readFileSync(file!, 'utf8')) as DaemonStatus).counters.espDrops!;
  return { w, drops, lines, shown, writes: () => writes };
}

describe('StatusWriter: drops in the status file', () => {
  it('the first drop is written at once; more within the second are written when it ends, without further input', () => {
    const file = join(dir, 'status.json');
    const s = setup(file);
    expect(s.w.dropsMoved()).toBe(false);
    s.drops[5] = 1;
    // The driver's drain: dropsMoved() true -> write().
    expect(s.w.dropsMoved()).toBe(true);
    s.w.write();
    expect(s.shown()).toBe(1);
    vi.advanceTimersByTime(100);
    s.drops[5] = 4;
    expect(s.w.dropsMoved()).toBe(false);
    expect(s.shown()).toBe(1);
    vi.advanceTimersByTime(200);
    s.drops[4] = 2;
    expect(s.w.dropsMoved()).toBe(false);
    // No input after this: the writer's own timer writes at the end of the second, once.
    vi.advanceTimersByTime(DROPS_WRITE_INTERVAL_MS - 300 - 1);
    expect(s.shown()).toBe(1);
    vi.advanceTimersByTime(1);
    expect(s.shown()).toBe(6);
    expect(s.writes()).toBe(2);
    vi.advanceTimersByTime(10 * DROPS_WRITE_INTERVAL_MS);
    expect(s.writes()).toBe(2);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a write for another reason (an SA came or went) shows the drops and cancels the pending one', () => {
    const file = join(dir, 'status.json');
    const s = setup(file);
    s.drops[3] = 1;
    expect(s.w.dropsMoved()).toBe(true);
    s.w.write();
    s.drops[3] = 2;
    expect(s.w.dropsMoved()).toBe(false);
    expect(vi.getTimerCount()).toBe(1);
    s.w.write();
    expect(s.shown()).toBe(2);
    expect(vi.getTimerCount()).toBe(0);
    // Nothing new since: no write due at the end of the second, nor at the next drain.
    vi.advanceTimersByTime(5 * DROPS_WRITE_INTERVAL_MS);
    expect(s.w.dropsMoved()).toBe(false);
    expect(s.writes()).toBe(2);
  });

  it('without a status file nothing is scheduled or written', () => {
    const s = setup(undefined);
    s.drops[1] = 7;
    expect(s.w.dropsMoved()).toBe(false);
    s.w.write();
    expect(vi.getTimerCount()).toBe(0);
    expect(s.writes()).toBe(0);
  });

  it('a file that cannot be written is a log line naming it, not an exception (also from the timer)', () => {
    const file = join(dir, 'missing-dir', 'status.json');
    const s = setup(file);
    s.drops[2] = 1;
    expect(s.w.dropsMoved()).toBe(true);
    expect(() => s.w.write()).not.toThrow();
    s.drops[2] = 2;
    expect(s.w.dropsMoved()).toBe(false);
    expect(() => vi.advanceTimersByTime(DROPS_WRITE_INTERVAL_MS)).not.toThrow();
    expect(s.lines).toHaveLength(2);
    expect(s.lines[0]).toContain(`cannot write status file ${file}: ENOENT`);
  });
});
