/**
 * The IKE bench at small counts, so it cannot rot: every scenario completes at every level with no failure, the
 * responder holds exactly the SAs each level asks for, and the figures are well-formed. No timing assertions
 * (speed is read from `npm run bench -- ike`, not asserted).
 */
import { describe, expect, it } from 'vitest';
import { ikeBench, SCENARIOS, summarize } from './ike.js';

describe('bench/ike --quick', () => {
  it('runs every scenario at every level and reports rates, heap and RSS per SA', async () => {
    const res = await ikeBench({ levels: [20, 60], setups: 6, exactSetups: true, window: 4, stallMs: 20_000 });
    expect(res.failures, res.firstFailure).toBe(0);
    expect(res.internalErrors).toBe(0);
    expect(res.levels.map((l) => l.held)).toEqual([20, 60]);
    expect(res.rows.map((r) => `${r.level} ${r.scenario}`)).toEqual([20, 60].flatMap((l) => SCENARIOS.map((s) => `${l} ${s.label}`)));
    for (const r of res.rows) {
      expect(r.setups).toBe(6);
      expect(Number.isFinite(r.busyRate) && r.busyRate > 0, `${r.scenario} busy rate`).toBe(true);
      expect(r.utilization > 0 && r.utilization <= 1, `${r.scenario} responder share ${r.utilization}`).toBe(true);
    }
    for (const l of res.levels) {
      expect(l.heapBytes).toBeGreaterThan(res.baseline.heapBytes);
      expect(Number.isFinite(l.heapPerSa)).toBe(true);
    }
    const summary = summarize(res).join('\n');
    expect(summary).toMatch(/psk\/x25519: rate at 60 SAs \/ rate at 20 SAs = \d/);
    expect(summary).toMatch(/target: >= 1,000 setups\/s/);
    expect(summary).toMatch(/failures 0, internal errors 0/);
  }, 120_000);

  it('--fill=separate: the level SAs come up on a connection of their own and the measured setups still complete', async () => {
    const res = await ikeBench({ levels: [15], setups: 4, exactSetups: true, window: 4, stallMs: 20_000, fill: 'separate', scenarios: ['psk/x25519'] });
    expect(res.failures, res.firstFailure).toBe(0);
    expect(res.levels.map((l) => l.held)).toEqual([15]);
    expect(res.rows.map((r) => r.scenario)).toEqual(['psk/x25519']);
    expect(summarize(res).join('\n')).toMatch(/connections of their own/);
  }, 120_000);

  it('idleMs: reads the memory again after the idle period, and the RSS target is judged on that reading', async () => {
    const res = await ikeBench({ levels: [10], setups: 2, exactSetups: true, window: 4, stallMs: 20_000, scenarios: ['psk/x25519'], idleMs: 200 });
    expect(res.failures, res.firstFailure).toBe(0);
    const st = res.settled;
    if (st === undefined) throw new Error('no settled reading');
    expect(st.idleMs).toBe(200);
    expect(st.rssBytes > 0 && st.heapBytes > 0 && st.heapTotalBytes >= st.heapBytes).toBe(true);
    expect(summarize(res).join('\n')).toMatch(/under 0\.5 GiB RSS \(responder alone after 0\.2 s idle\)/);
  }, 120_000);
});
