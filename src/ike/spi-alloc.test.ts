import { describe, expect, it } from 'vitest';
import { seededRandom } from '../crypto/random.js';
import { ChildSpiAllocator } from './spi.js';

describe('ChildSpiAllocator', () => {
  it('gives unique SPIs above 255 whose low byte counts up (worker threads steer ESP by it, issue 17)', () => {
    const a = new ChildSpiAllocator(seededRandom(5));
    const spis = Array.from({ length: 600 }, () => a.allocate());
    expect(new Set(spis).size).toBe(600);
    for (const s of spis) expect(s).toBeGreaterThan(255);
    for (let i = 0; i < 600; i++) expect(spis[i]! & 0xff).toBe(i & 0xff);
    // Two workers: successive CHILD SAs alternate between them.
    expect(spis.slice(0, 4).map((s) => (s & 0xff) % 2)).toEqual([0, 1, 0, 1]);
    // The upper 24 bits stay random.
    expect(new Set(spis.map((s) => s >>> 8)).size).toBeGreaterThan(590);
    a.release(spis[0]!);
  });
});
