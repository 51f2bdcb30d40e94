/**
 * Turning iperf3 figures into bench rows: ratios of cygnet against the two references, per direction.
 * Pure, so the arithmetic (and the "reference missing" cases) is tested without namespaces.
 */
import type { BenchRow } from '../lib.js';
import type { Impl } from './pairs.js';

export interface Measurement {
  impl: Impl;
  /** 'up' = left -> right (iperf3 client on the left sends), 'down' = right -> left (iperf3 -R). */
  direction: 'up' | 'down';
  suite: string;
  /** Receiver-side TCP goodput. */
  mbps: number;
  /** Packets per second through the sending side's tunnel device (0 when unknown). */
  pps: number;
  retransmits?: number;
  seconds: number;
}

export interface TunnelRow extends BenchRow {
  impl: Impl;
  direction: 'up' | 'down';
  mbps: number;
  /** This row's Mbit/s over wireguard-go's in the same direction (NaN printed as "" when missing). */
  ratio_vs_wireguard: number;
  ratio_vs_strongswan: number;
}

/** Rounded to 3 significant decimals; a missing or zero reference gives NaN (JSON null). */
export function ratio(x: number, ref: number | undefined): number {
  if (ref === undefined || !(ref > 0) || !Number.isFinite(x)) return Number.NaN;
  return Math.round((x / ref) * 1000) / 1000;
}

export function toRows(ms: readonly Measurement[]): TunnelRow[] {
  const ref = (impl: Impl, dir: Measurement['direction']): number | undefined => ms.find((m) => m.impl === impl && m.direction === dir)?.mbps;
  return ms.map((m) => ({
    bench: 'tunnel',
    backend: m.impl,
    algorithm: m.suite,
    size: 0,
    op: `iperf3 tcp ${m.direction} ${m.seconds}s`,
    pps: m.pps,
    impl: m.impl,
    direction: m.direction,
    mbps: Math.round(m.mbps * 10) / 10,
    ratio_vs_wireguard: ratio(m.mbps, ref('wireguard-go', m.direction)),
    ratio_vs_strongswan: ratio(m.mbps, ref('strongswan', m.direction)),
    ...(m.retransmits !== undefined ? { retransmits: m.retransmits } : {}),
  }));
}

/** One summary line per direction: the three figures and cygnet's two ratios. */
export function summaryLines(rows: readonly TunnelRow[]): string[] {
  const out: string[] = [];
  for (const dir of ['up', 'down'] as const) {
    const get = (impl: Impl) => rows.find((r) => r.impl === impl && r.direction === dir);
    const c = get('cygnet');
    const w = get('wireguard-go');
    const s = get('strongswan');
    if (!c && !w && !s) continue;
    const f = (r: TunnelRow | undefined) => (r ? `${r.mbps.toFixed(1)} Mbit/s` : 'n/a');
    const q = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? 'n/a' : `${x.toFixed(2)}x`);
    out.push(
      `${dir === 'up' ? 'left->right' : 'right->left'}: cygnet ${f(c)}, wireguard-go ${f(w)}, strongSwan ${f(s)}; ` +
        `cygnet/wireguard-go ${q(c?.ratio_vs_wireguard)}, cygnet/strongSwan ${q(c?.ratio_vs_strongswan)}`,
    );
    const x = get('cygnet-no-offload');
    if (x) out.push(`  cygnet --no-offload ${f(x)}${c ? ` (cygnet with offloads is ${q(ratio(c.mbps, x.mbps))} of it)` : ''}, vs wireguard-go ${q(x.ratio_vs_wireguard)}`);
    const t = get('cygnet-tcp');
    if (t) out.push(`  cygnet over TCP (RFC 9329) ${f(t)}${c ? `, ${q(ratio(t.mbps, c.mbps))} of cygnet over UDP` : ''}, vs wireguard-go ${q(t.ratio_vs_wireguard)}`);
  }
  return out;
}
