import { describe, expect, it } from 'vitest';
import { ratio, summaryLines, toRows, type Measurement } from './results.js';

const m = (impl: Measurement['impl'], direction: Measurement['direction'], mbps: number): Measurement => ({
  impl,
  direction,
  suite: 's',
  mbps,
  pps: 1000,
  seconds: 10,
});

describe('tunnel results', () => {
  it('ratio rounds to three decimals and is NaN without a usable reference', () => {
    expect(ratio(100, 400)).toBe(0.25);
    expect(ratio(236.4, 447.1)).toBe(0.529);
    expect(ratio(1, undefined)).toBeNaN();
    expect(ratio(1, 0)).toBeNaN();
    expect(ratio(Number.NaN, 3)).toBeNaN();
  });

  it('compares each row with the references in the same direction', () => {
    const rows = toRows([m('cygnet', 'up', 200), m('wireguard-go', 'up', 400), m('strongswan', 'up', 50), m('cygnet', 'down', 90), m('wireguard-go', 'down', 300)]);
    const cUp = rows.find((r) => r.impl === 'cygnet' && r.direction === 'up')!;
    expect(cUp).toMatchObject({ bench: 'tunnel', mbps: 200, ratio_vs_wireguard: 0.5, ratio_vs_strongswan: 4 });
    const cDown = rows.find((r) => r.impl === 'cygnet' && r.direction === 'down')!;
    expect(cDown.ratio_vs_wireguard).toBe(0.3);
    expect(cDown.ratio_vs_strongswan).toBeNaN();
    // JSON lines carry null for a missing reference, never a string.
    expect(JSON.parse(JSON.stringify(cDown)).ratio_vs_strongswan).toBeNull();
    expect(rows.find((r) => r.impl === 'wireguard-go' && r.direction === 'up')!.ratio_vs_wireguard).toBe(1);
  });

  it('summarises the three figures and the two ratios per direction', () => {
    const lines = summaryLines(toRows([m('cygnet', 'up', 200), m('wireguard-go', 'up', 400), m('strongswan', 'up', 50)]));
    expect(lines).toEqual([
      'left->right: cygnet 200.0 Mbit/s, wireguard-go 400.0 Mbit/s, strongSwan 50.0 Mbit/s; cygnet/wireguard-go 0.50x, cygnet/strongSwan 4.00x',
    ]);
    expect(summaryLines(toRows([m('wireguard-go', 'down', 10)]))[0]).toContain('cygnet n/a');
  });
});
