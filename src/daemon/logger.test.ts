import { describe, expect, it } from 'vitest';
import { Logger, LogSpecError, parseDebugSpec } from './logger.js';

describe('parseDebugSpec (charondebug syntax)', () => {
  it('reads "group level" items', () => {
    expect([...parseDebugSpec('ike 2, net 1, esp 1, cfg 2')]).toEqual([
      ['ike', 2],
      ['net', 1],
      ['esp', 1],
      ['cfg', 2],
    ]);
    expect([...parseDebugSpec('any -1,ike=4')]).toEqual([
      ['any', -1],
      ['ike', 4],
    ]);
    expect(parseDebugSpec('').size).toBe(0);
  });

  it('names the bad item', () => {
    expect(() => parseDebugSpec('ike two')).toThrow(/'ike two'/);
    expect(() => parseDebugSpec('foo 1')).toThrow(/unknown group 'foo'/);
    expect(() => parseDebugSpec('ike 5')).toThrow(LogSpecError);
  });
});

describe('Logger', () => {
  const clock = () => Date.UTC(2026, 10, 22, 23, 0, 0, 5);

  it('filters per group with default level 1 and writes charon-like text', () => {
    const lines: string[] = [];
    const l = new Logger({ levels: parseDebugSpec('ike 2, net -1'), write: (x) => lines.push(x), clock });
    l.log('ike', 2, 'shown');
    l.log('ike', 3, 'hidden');
    l.log('cfg', 1, 'default 1 shown');
    l.log('cfg', 2, 'hidden');
    l.log('net', 0, 'silenced group');
    expect(lines).toEqual(['2026-11-22T23:00:00.005Z 02[IKE] shown', '2026-11-22T23:00:00.005Z 01[CFG] default 1 shown']);
  });

  it('"any" sets the default for every group', () => {
    const lines: string[] = [];
    const l = new Logger({ levels: parseDebugSpec('any 0, ike 1'), write: (x) => lines.push(x), clock });
    l.log('cfg', 1, 'hidden');
    l.log('ike', 1, 'shown');
    expect(lines.length).toBe(1);
  });

  it('writes JSON lines', () => {
    const lines: string[] = [];
    new Logger({ format: 'json', write: (x) => lines.push(x), clock }).log('esp', 1, 'installed', { spi: 'c0ffee01' });
    expect(JSON.parse(lines[0]!)).toEqual({ time: '2026-11-22T23:00:00.005Z', group: 'esp', level: 1, message: 'installed', spi: 'c0ffee01' });
  });
});
