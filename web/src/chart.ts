/**
 * A traffic chart as SVG, hand-written (~60 lines) rather than a library: two lines (bytes/s in and out) over the
 * last hour need no more, SVG scales and prints, and it stays in the CSP's 'self' with no dependency to ship.
 */
import { bytes, h, svg } from './dom.js';
import type { TrafficSample } from './types.js';

const W = 600;
const H = 120;
const WINDOW_MS = 3600_000;
const MIN_WINDOW_MS = 60_000;

const spanText = (ms: number) => (ms < 120_000 ? `${Math.round(ms / 1000)} s` : `${Math.round(ms / 60_000)} min`);

export interface Rate {
  t: number;
  in: number;
  out: number;
}

/** Bytes per second between consecutive samples; a counter that went down (rekeyed SA) counts as a new start. */
export function rates(samples: readonly TrafficSample[]): Rate[] {
  const out: Rate[] = [];
  for (let i = 1; i < samples.length; i++) {
    const a = samples[i - 1];
    const b = samples[i];
    if (!a || !b || b.t <= a.t) continue;
    const s = (b.t - a.t) / 1000;
    out.push({ t: b.t, in: Math.max(0, b.bytesIn - a.bytesIn) / s, out: Math.max(0, b.bytesOut - a.bytesOut) / s });
  }
  return out;
}

export function chart(label: string, samples: readonly TrafficSample[], now: number): HTMLElement {
  const r = rates(samples).filter((x) => x.t >= now - WINDOW_MS);
  // The span shown grows with the data, from a minute up to the hour kept, so a new SA's line is readable.
  const span = Math.min(WINDOW_MS, Math.max(MIN_WINDOW_MS, now - (r[0]?.t ?? now)));
  const max = Math.max(1, ...r.map((x) => Math.max(x.in, x.out)));
  const x = (t: number) => ((t - (now - span)) / span) * W;
  const y = (v: number) => H - 4 - (v / max) * (H - 16);
  const pts = (f: (p: Rate) => number) => r.map((p) => `${x(p.t).toFixed(1)},${y(f(p)).toFixed(1)}`).join(' ');
  const last = r[r.length - 1];
  const summary = `${label}: now ${bytes(last?.in ?? 0)}/s in, ${bytes(last?.out ?? 0)}/s out; peak ${bytes(max)}/s over the last ${spanText(span)}`;
  const graphic = svg(
    'svg',
    { class: 'chart', viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': summary, 'data-points': r.length, 'data-last-in': Math.round(last?.in ?? 0), 'data-last-out': Math.round(last?.out ?? 0) },
    svg('title', {}, summary),
    svg('line', { x1: 0, y1: H - 4, x2: W, y2: H - 4, stroke: '#c8c8c8' }),
    svg('text', { x: 4, y: 12, 'font-size': 11, fill: '#4a4a4a' }, `${bytes(max)}/s`),
    svg('text', { x: W - 4, y: H - 8, 'font-size': 11, fill: '#4a4a4a', 'text-anchor': 'end' }, 'now'),
    svg('text', { x: 4, y: H - 8, 'font-size': 11, fill: '#4a4a4a' }, `-${spanText(span)}`),
    svg('polyline', { class: 'in', fill: 'none', 'stroke-width': 2, points: pts((p) => p.in) }),
    svg('polyline', { class: 'out', fill: 'none', 'stroke-width': 2, points: pts((p) => p.out) }),
    // The latest rates as dots: visible even while a new SA has a single interval.
    ...(last
      ? [svg('circle', { class: 'in', cx: x(last.t).toFixed(1), cy: y(last.in).toFixed(1), r: 3, fill: '#0b5cad' }), svg('circle', { class: 'out', cx: x(last.t).toFixed(1), cy: y(last.out).toFixed(1), r: 3, fill: '#b0470a' })]
      : []),
  );
  return h(
    'figure',
    { class: 'traffic' },
    graphic,
    h('figcaption', { class: 'legend' }, h('span', { class: 'in' }, '— in '), h('span', { class: 'out' }, '— out '), h('span', { class: 'muted' }, summary)),
  );
}
