/**
 * Prometheus metrics (issue 16): two in-process daemons bring a tunnel up, push packets, rekey the CHILD SA; the
 * scrape of one daemon's /metrics shows the IKE/CHILD gauges, setups, rekeys, per-child byte/packet counters that
 * keep counting across the rekey, and the standard Node.js metrics; the text passes a strict exposition-format
 * check (and Debian's promtool where it is installed).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon/driver.js';
import { DaemonMetrics, exchangeLabel, parseMetricsListen, serveMetrics } from '../../src/daemon/metrics.js';
import { daemonMetricsSource } from '../../src/daemon/metrics-source.js';
import { buildIpv4, icmpEcho } from '../helpers/index.js';
import { daemonPair, stopDaemons, waitFor } from './harness.js';

const servers: { close(cb: () => void): void }[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise<void>((r) => s.close(() => r()));
  await stopDaemons();
});

const established = (d: Daemon) => d.status().ikeSas.some((s) => s.state === 'ESTABLISHED' && s.children.length > 0);

/** The value of one sample line, e.g. sample(text, 'cygnet_ike_sas{state="ESTABLISHED"}'). */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/**
 * A strict check of the text exposition format 0.0.4: every sample belongs to a family announced by # TYPE,
 * names and labels are well-formed, values parse, no series appears twice.
 */
export function checkExposition(text: string): string[] {
  const errors: string[] = [];
  const types = new Map<string, string>();
  const seen = new Set<string>();
  const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
  const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*",?)*\})? (-?[0-9.eE+-]+|NaN|\+Inf|-Inf)( -?\d+)?$/;
  text.split('\n').forEach((line, i) => {
    if (line === '') return;
    if (line.startsWith('# HELP ')) return;
    if (line.startsWith('# TYPE ')) {
      const [, , name, type] = line.split(' ');
      if (!name || !NAME.test(name) || !['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(type ?? '')) errors.push(`line ${i + 1}: bad TYPE: ${line}`);
      else if (types.has(name)) errors.push(`line ${i + 1}: TYPE ${name} twice`);
      else types.set(name, type!);
      return;
    }
    if (line.startsWith('#')) return;
    const m = SAMPLE.exec(line);
    if (!m) return void errors.push(`line ${i + 1}: not a sample: ${line}`);
    const family = [...types.keys()].find((f) => m[1] === f || (/_(bucket|sum|count|total|created)$/.test(m[1]!) && m[1]!.startsWith(f)));
    if (!family) errors.push(`line ${i + 1}: ${m[1]} has no TYPE`);
    const key = m[1]! + (m[2] ?? '');
    if (seen.has(key)) errors.push(`line ${i + 1}: duplicate series ${key}`);
    seen.add(key);
  });
  return errors;
}

async function scrape(port: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/plain');
  return res.text();
}

describe('Prometheus metrics', () => {
  it('counts SAs, setups, rekeys and traffic; counters survive a CHILD rekey; the exposition is well-formed', async () => {
    const { a, b, la, lb } = await daemonPair('start');
    const metrics = new DaemonMetrics(daemonMetricsSource(a.d), { version: 'test' });
    const server = await serveMetrics(metrics, { host: '127.0.0.1', port: 0 });
    servers.push(server);
    const port = (server.address() as AddressInfo).port;
    await waitFor(() => established(a.d) && established(b.d), 10_000, () => la.concat(lb).join('\n'));

    const got: Uint8Array[] = [];
    b.host.onWrite((p) => got.push(...p));
    a.host.inject(Array.from({ length: 5 }, (_, n) => buildIpv4('10.1.0.5', '10.2.0.7', 1, icmpEcho(1, n))));
    await waitFor(() => got.length === 5, 3_000);

    let text = await scrape(port);
    expect(checkExposition(text)).toEqual([]);
    expect(sample(text, 'cygnet_ike_sas{state="ESTABLISHED"}')).toBe(1);
    expect(sample(text, 'cygnet_child_sas{connection="gw"}')).toBe(1);
    expect(sample(text, 'cygnet_ike_sa_setups_total{connection="gw"}')).toBe(1);
    expect(sample(text, 'cygnet_child_sa_packets_total{connection="gw",child="net",direction="out"}')).toBe(5);
    const bytesBefore = sample(text, 'cygnet_child_sa_bytes_total{connection="gw",child="net",direction="out"}')!;
    expect(bytesBefore).toBeGreaterThan(0);
    expect(sample(text, 'cygnet_datagrams_total{kind="esp",direction="out"}')).toBeGreaterThanOrEqual(5);
    expect(sample(text, 'cygnet_info{version="test"}')).toBe(1);

    expect(text).toMatch(/^nodejs_eventloop_lag_seconds \S+$/m);
    expect(text).toMatch(/^nodejs_heap_size_used_bytes \S+$/m);

    // Rekey the CHILD SA, then send more: the per-child counters add up across both SAs.
    const childId = a.d.endpoint.listSas()[0]!.children[0]!.id;
    expect(a.d.rekeyChild(childId)).toBe(true);
    await waitFor(() => a.d.endpoint.listSas()[0]?.children.length === 1 && a.d.endpoint.listSas()[0]!.children[0]!.id !== childId, 5_000, () => la.join('\n'));
    await new Promise((r) => setTimeout(r, 100));
    a.host.inject(Array.from({ length: 3 }, (_, n) => buildIpv4('10.1.0.5', '10.2.0.7', 1, icmpEcho(2, n))));
    await waitFor(() => got.length === 8, 3_000);
    text = await scrape(port);
    expect(checkExposition(text)).toEqual([]);
    expect(sample(text, 'cygnet_child_sa_rekeys_total{connection="gw"}')).toBe(1);
    // The rekey was one CREATE_CHILD_SA request out and its response in (the metrics started after IKE_AUTH).
    expect(sample(text, 'cygnet_ike_messages_total{exchange="CREATE_CHILD_SA",direction="out",type="request"}')).toBe(1);
    expect(sample(text, 'cygnet_ike_messages_total{exchange="CREATE_CHILD_SA",direction="in",type="response"}')).toBe(1);
    expect(sample(text, 'cygnet_child_sa_packets_total{connection="gw",child="net",direction="out"}')).toBe(8);
    expect(sample(text, 'cygnet_child_sa_bytes_total{connection="gw",child="net",direction="out"}')!).toBeGreaterThan(bytesBefore);

    if (existsSync('/usr/bin/promtool')) {
      // promtool parses and lints the exposition: exit 0 and not one finding (prom-client's nodejs_active_*_total
      // gauges, which broke the `_total` naming rule, are removed from the registry).
      const r = spawnSync('/usr/bin/promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
      const findings = `${r.stdout}${r.stderr}`.split('\n').filter((l) => l.trim() !== '');
      expect(findings).toEqual([]);
      expect(r.status).toBe(0);
      console.log(`metrics: promtool check metrics: exit ${r.status}, 0 findings on ${text.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length} samples`);
    } else console.log('metrics: /usr/bin/promtool not installed (Debian prometheus); the built-in exposition check ran instead');

    // The Grafana dashboard in docs/ queries only metric families this scrape has.
    const dashboard = readFileSync(new URL('../../docs/grafana/cygnet-dashboard.json', import.meta.url), 'utf8');
    const used = new Set([...JSON.stringify(JSON.parse(dashboard)).matchAll(/\b((?:cygnet|nodejs)_[a-z0-9_]+)\b/g)].map((m) => m[1]!));
    expect(used.size).toBeGreaterThan(10);
    const families = new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!));
    expect([...used].filter((n) => !families.has(n))).toEqual([]);

    // Other paths and methods.
    expect((await fetch(`http://127.0.0.1:${port}/nope`)).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${port}/metrics`, { method: 'POST' })).status).toBe(405);
  }, 30_000);

  it('metrics attached after an SA is up still count its setup once (CI: a start_action SA beat the listener)', async () => {
    const { a, b, la, lb } = await daemonPair('start');
    await waitFor(() => established(a.d) && established(b.d), 10_000, () => la.concat(lb).join('\n'));
    const late = new DaemonMetrics(daemonMetricsSource(a.d), { version: 'test' });
    const text = await late.text();
    expect(sample(text, 'cygnet_ike_sa_setups_total{connection="gw"}')).toBe(1);
    expect(sample(text, 'cygnet_ike_sas{state="ESTABLISHED"}')).toBe(1);
  }, 30_000);

  it('names exchange types as IANA numbers them (IKE_INTERMEDIATE 43, IKE_FOLLOWUP_KE 44), unknown ones "other"', () => {
    expect([34, 35, 36, 37, 38, 43, 44, 99].map(exchangeLabel)).toEqual(['IKE_SA_INIT', 'IKE_AUTH', 'CREATE_CHILD_SA', 'INFORMATIONAL', 'IKE_SESSION_RESUME', 'IKE_INTERMEDIATE', 'IKE_FOLLOWUP_KE', 'other']);
  });

  it('the exposition check catches what it must', () => {
    expect(checkExposition('# TYPE a counter\na_total 1\n')).toEqual([]);
    expect(checkExposition('b 1\n')).toHaveLength(1);
    expect(checkExposition('# TYPE a gauge\na{x="1"} 1\na{x="1"} 2\n')).toHaveLength(1);
    expect(checkExposition('# TYPE a gauge\na{x=1} 1\n')).toHaveLength(1);
  });

  it('parses --metrics listen addresses and refuses bad ones with the expected form', () => {
    expect(parseMetricsListen('127.0.0.1:9786')).toEqual({ host: '127.0.0.1', port: 9786 });
    expect(parseMetricsListen('[::1]:9786')).toEqual({ host: '::1', port: 9786 });
    expect(parseMetricsListen('9786')).toEqual({ host: '127.0.0.1', port: 9786 });
    expect(() => parseMetricsListen('localhost')).toThrow(/ADDRESS:PORT/);
    expect(() => parseMetricsListen('127.0.0.1:70000')).toThrow(/ADDRESS:PORT/);
  });
});
