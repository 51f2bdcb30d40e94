/**
 * Prometheus metrics during a real tunnel (issue 16): cygnet (left, --tun, --metrics 127.0.0.1:9786 inside its
 * namespace) initiates to strongSwan; after pings both ways, `curl` on the endpoint shows non-zero IKE SA, CHILD SA,
 * setup and byte/packet counters that agree with strongSwan's own ESP counters, and Debian's `promtool check
 * metrics` accepts the exposition (exit 0, no finding).
 * A CHILD rekey by strongSwan is counted and the per-child counters keep growing across it.
 */
import assert from 'node:assert/strict';
import type { ScenarioContext } from '../lib/scenario.js';
import { mirror, pskSwanctlConf } from '../lib/swanctl-conf.js';
import { twoHosts } from '../lib/topology.js';
import { cygnetConnection, establishedCygnet, startCygnet } from './20-cygnet-psk-responder.js';

export const name = 'cygnet-metrics';
export const timeoutMs = 45_000;

function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

export async function run(ctx: ScenarioContext): Promise<void> {
  const h = await twoHosts(ctx.lab);
  const conn = cygnetConnection(h, { proposals: 'aes128gcm16-prfsha256-x25519', esp: 'aes128gcm16', startAction: 'start' });
  const theirs = mirror(conn);
  const swan = await ctx.startStrongswan({ ns: h.right.ns, swanctlConf: pskSwanctlConf({ ...theirs, child: { ...theirs.child, startAction: 'none' } }) });
  await swan.loadAll();
  const cyg = await startCygnet(ctx, h, pskSwanctlConf(conn), ['--tun', 'cyg0', '--metrics', '127.0.0.1:9786']);
  await cyg.peer.waitForLog(/metrics at http:\/\/127\.0\.0\.1:9786\/metrics/, 5000);
  const c0 = await cyg.waitFor('SA established', establishedCygnet);
  await swan.waitEstablished('cyg', 'net');
  await cyg.peer.waitForLog(/installed route 10\.2\.0\.1\/32 dev cyg0/, 3000);

  const out = await h.left.ns.ping(h.right.inner4, { count: 4, source: h.left.inner4 });
  assert.equal(out.received, 4, `ping through the tunnel:\n${out.output}`);
  const back = await h.right.ns.ping(h.left.inner4, { count: 3, source: h.right.inner4 });
  assert.equal(back.received, 3, `ping back through the tunnel:\n${back.output}`);

  const scrape = async (): Promise<string> => (await h.left.ns.exec('curl', ['-sS', '--fail', 'http://127.0.0.1:9786/metrics'])).stdout;
  let text = await scrape();
  ctx.log(text.split('\n').filter((l) => l.startsWith('cygnet_')).join('\n'));
  assert.equal(sample(text, 'cygnet_ike_sas{state="ESTABLISHED"}'), 1, 'one established IKE SA');
  assert.equal(sample(text, 'cygnet_child_sas{connection="cyg"}'), 1, 'one CHILD SA');
  assert.equal(sample(text, 'cygnet_ike_sa_setups_total{connection="cyg"}'), 1, 'one setup counted');
  const sc = (await swan.listSas())[0]?.children[0];
  assert.ok(sc, 'strongSwan has the CHILD SA');
  const pktsOut = sample(text, 'cygnet_child_sa_packets_total{connection="cyg",child="net",direction="out"}') ?? 0;
  const pktsIn = sample(text, 'cygnet_child_sa_packets_total{connection="cyg",child="net",direction="in"}') ?? 0;
  assert.ok(pktsOut >= 7 && pktsIn >= 7, `ESP packets counted both ways (${pktsIn} in, ${pktsOut} out)`);
  assert.equal(pktsOut, sc.packetsIn, 'what cygnet counts as sent, strongSwan counted as received');
  assert.ok((sample(text, 'cygnet_child_sa_bytes_total{connection="cyg",child="net",direction="out"}') ?? 0) > 0, 'bytes counted');
  assert.ok((sample(text, 'cygnet_datagrams_total{kind="ike",direction="out"}') ?? 0) >= 2, 'IKE datagrams counted');

  const lint = await h.left.ns.exec('promtool', ['check', 'metrics'], { input: text, allowFail: true });
  const findings = `${lint.stdout}${lint.stderr}`.split('\n').filter((l) => l.trim() !== '');
  assert.deepEqual(findings, [], 'promtool check metrics: no finding, no parse error');
  assert.equal(lint.code, 0, 'promtool check metrics exits 0');
  ctx.log(`promtool check metrics: exit ${lint.code}, 0 findings`);

  // strongSwan rekeys the CHILD SA; traffic continues on the new SA and the counters keep adding up.
  await swan.rekey({ child: 'net' });
  await cyg.waitFor('CHILD SA rekeyed', (s) => {
    const c = establishedCygnet(s)?.children;
    return c && c.length === 1 && c[0]!.spiIn !== c0.children[0]!.spiIn ? c : undefined;
  }, 10_000);
  const again = await h.left.ns.ping(h.right.inner4, { count: 2, source: h.left.inner4 });
  assert.equal(again.received, 2, 'ping after the rekey');
  text = await scrape();
  assert.equal(sample(text, 'cygnet_child_sa_rekeys_total{connection="cyg"}'), 1, 'the rekey is counted');
  const after = sample(text, 'cygnet_child_sa_packets_total{connection="cyg",child="net",direction="out"}') ?? 0;
  assert.ok(after >= pktsOut + 2, `per-child counters keep counting across the rekey (${pktsOut} -> ${after})`);
}
