import { describe, expect, it } from 'vitest';
import { formatSummary, stageOf, summarizeProfile, type CpuProfile } from './profile.js';

const frame = (functionName: string, url = '', lineNumber = 0) => ({ functionName, url, lineNumber, columnNumber: 0 });

/**
 * root -> idle, root -> onTunPackets (daemon) -> encapsulate (esp) -> seal (crypto), root -> send (node:dgram),
 * root -> (garbage collector). Samples: each sample's interval is the NEXT timeDelta (us).
 */
const profile: CpuProfile = {
  startTime: 0,
  endTime: 10_000,
  nodes: [
    { id: 1, callFrame: frame('(root)'), children: [2, 3, 6, 7] },
    { id: 2, callFrame: frame('(idle)') },
    { id: 3, callFrame: frame('onTunPackets', 'file:///w/src/daemon/driver.ts', 322), children: [4] },
    { id: 4, callFrame: frame('encapsulate', 'file:///w/src/esp/engine.ts', 99), children: [5] },
    { id: 5, callFrame: frame('seal', 'file:///w/src/crypto/openssl.ts', 9) },
    { id: 6, callFrame: frame('send', 'node:dgram', 600) },
    { id: 7, callFrame: frame('(garbage collector)') },
  ],
  samples: [2, 3, 4, 5, 5, 6, 7, 2],
  timeDeltas: [0, 1000, 1000, 1000, 1000, 1000, 1000, 1000],
};

describe('cpuprofile summary', () => {
  it('assigns frames to data-path stages', () => {
    expect(stageOf(frame('(idle)'))).toBe('idle');
    expect(stageOf(frame('(garbage collector)'))).toBe('gc');
    expect(stageOf(frame('send', 'node:dgram'))).toBe('udp');
    expect(stageOf(frame('send'))).toBe('udp');
    expect(stageOf(frame('read'))).toBe('tun');
    expect(stageOf(frame('x', 'file:///a/src/tun/linux.ts'))).toBe('tun');
    expect(stageOf(frame('x', 'file:///a/src/esp/engine.ts'))).toBe('esp');
    expect(stageOf(frame('x', 'file:///a/node_modules/koffi/index.js'))).toBe('crypto');
    expect(stageOf(frame('x', 'file:///a/src/ike/sa.ts'))).toBe('ike');
    expect(stageOf(frame('x', 'node:internal/timers'))).toBe('node');
  });

  it('sums self time from timeDeltas and inclusive time over the tree', () => {
    const s = summarizeProfile(profile);
    expect(s.durationMs).toBeCloseTo(7, 6); // the last sample has no following interval
    expect(s.byStage.idle).toBeCloseTo(1, 6);
    expect(s.busyMs).toBeCloseTo(6, 6);
    expect(s.byStage.crypto).toBeCloseTo(2, 6);
    expect(s.byStage.udp).toBeCloseTo(1, 6);
    expect(s.byStage.gc).toBeCloseTo(1, 6);
    expect(s.functions[0]).toMatchObject({ label: 'seal (src/crypto/openssl.ts:10)', stage: 'crypto' });
    expect(s.functions[0]!.selfMs).toBeCloseTo(2, 6);
    const onTun = s.functions.find((f) => f.label.startsWith('onTunPackets'))!;
    expect(onTun.selfMs).toBeCloseTo(1, 6);
    expect(onTun.totalMs).toBeCloseTo(4, 6);
  });

  it('stages and labels native frames by their nearest JS caller', () => {
    const p: CpuProfile = {
      startTime: 0,
      endTime: 0,
      nodes: [
        { id: 1, callFrame: frame('(root)'), children: [2] },
        { id: 2, callFrame: frame('writeBatch', 'file:///w/src/tun/linux.ts', 200), children: [3] },
        // V8 names the koffi write() after an unrelated node export.
        { id: 3, callFrame: frame('ERR_clear_error') },
      ],
      samples: [3, 3, 2],
      timeDeltas: [0, 1000, 1000],
    };
    const s = summarizeProfile(p);
    expect(s.byStage.tun).toBeCloseTo(2, 6);
    expect(s.byStage.node).toBe(0);
    expect(s.functions[0]).toMatchObject({ label: '[native] in writeBatch (src/tun/linux.ts:201)', stage: 'tun' });
    expect(s.functions.find((f) => f.label.startsWith('writeBatch'))!.totalMs).toBeCloseTo(2, 6);
  });

  it('falls back to hitCount when there are no samples', () => {
    const p: CpuProfile = {
      startTime: 0,
      endTime: 4000,
      nodes: [
        { id: 1, callFrame: frame('(root)'), hitCount: 0, children: [2] },
        { id: 2, callFrame: frame('f', 'file:///w/src/esp/x.ts'), hitCount: 3 },
      ],
    };
    const s = summarizeProfile(p);
    expect(s.byStage.esp).toBeCloseTo(4, 6);
  });

  it('counts a recursive function once in inclusive time', () => {
    const p: CpuProfile = {
      startTime: 0,
      endTime: 0,
      nodes: [
        { id: 1, callFrame: frame('(root)'), children: [2] },
        { id: 2, callFrame: frame('r', 'file:///w/src/ike/r.ts'), children: [3] },
        { id: 3, callFrame: frame('r', 'file:///w/src/ike/r.ts') },
      ],
      samples: [2, 3, 3],
      timeDeltas: [0, 1000, 1000],
    };
    const r = summarizeProfile(p).functions.find((f) => f.label.startsWith('r '))!;
    expect(r.selfMs).toBeCloseTo(2, 6);
    expect(r.totalMs).toBeCloseTo(2, 6);
  });

  it('formats stages and the top functions as percentages of busy time', () => {
    const lines = formatSummary('left', summarizeProfile(profile), 3);
    expect(lines[0]).toContain('busy 0.0 s');
    expect(lines[1]).toMatch(/crypto 33\.3%/);
    expect(lines.length).toBe(3 + 3);
    expect(lines[3]).toContain('seal (src/crypto/openssl.ts:10)');
  });
});
