/**
 * RFC 9329 TCP encapsulation, cygnet <-> cygnet (strongSwan has none) in two namespaces with real TUNs:
 *
 * 1. UDP reference: the same tunnel over UDP 500/4500, iperf3 left -> right.
 * 2. nftables drops UDP 500 and 4500 in both namespaces; `encap = tcp`: the IKE SA comes up on one TCP stream to
 *    port 4500 ("IKETCP" prefix), logged `established ... over TCP`, the status file shows transport tcp; pings
 *    both ways; `cygnet inspect` reads that much of the stream from a capture with the left's key log (IKE
 *    "over TCP", ESP-in-TCP, all decrypted); iperf3 left -> right, printed beside the UDP figure of step 1.
 * 3. The TCP connection is killed mid-transfer (`ss -K`, else an nftables `reject with tcp reset`): the initiator
 *    reconnects (RFC 9329 6.1), the transfer completes and pings pass again on the same IKE and CHILD SA.
 * (`encap = tcp-fallback` is scenario 96.) The helpers are exported for it.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { EspRecord, IkeRecord } from '../../../src/inspect/index.js';
import { cygnetInspect } from '../lib/inspect.js';
import { iperf3, type IperfResult } from '../lib/iperf.js';
import { startCapture } from '../lib/tshark.js';
import type { ScenarioContext } from '../lib/scenario.js';
import { mirror, pskSwanctlConf, type PskConnection } from '../lib/swanctl-conf.js';
import { twoHosts, type TwoHosts } from '../lib/topology.js';
import { cygnetConnection, establishedCygnet, startCygnet, type CygnetSide } from './20-cygnet-psk-responder.js';

export const name = 'cygnet-tcp-encap';
export const timeoutMs = 120_000;

const SECONDS = 3;

export async function tunnel(ctx: ScenarioContext, h: TwoHosts, encap: string | undefined, leftArgs: string[] = []): Promise<{ l: CygnetSide; r: CygnetSide }> {
  const base = cygnetConnection(h, { proposals: 'aes128gcm16-prfsha256-x25519', esp: 'aes128gcm16', startAction: 'start' });
  const conn: PskConnection = encap ? { ...base, extra: { encap } } : base;
  const theirs = mirror(conn);
  // The responder needs no `encap` of its own: TCP streams are accepted whenever the listener is up (--tcp-port).
  const r = await startCygnet(ctx, { left: h.right, right: h.left } as TwoHosts, pskSwanctlConf({ ...theirs, extra: {}, child: { ...theirs.child, startAction: 'none' } }), ['--tun', 'cyg1', '--tcp-port', '4500']);
  const l = await startCygnet(ctx, h, pskSwanctlConf(conn), ['--tun', 'cyg0', ...leftArgs]);
  await Promise.all([l.waitFor('left established', establishedCygnet, 15_000), r.waitFor('right established', establishedCygnet, 15_000)]);
  await Promise.all([l.peer.waitForLog(/installed route 10\.2\.0\.1\/32 dev cyg0/, 5000), r.peer.waitForLog(/installed route 10\.1\.0\.1\/32 dev cyg1/, 5000)]);
  return { l, r };
}

export async function pingBoth(h: TwoHosts, what: string): Promise<void> {
  const p = await h.left.ns.ping(h.right.inner4, { count: 3, source: h.left.inner4 });
  assert.equal(p.received, 3, `${what}: ping left -> right: ${p.output}`);
  const b = await h.right.ns.ping(h.left.inner4, { count: 3, source: h.right.inner4 });
  assert.equal(b.received, 3, `${what}: ping right -> left: ${b.output}`);
}

export async function stopBoth(t: { l: CygnetSide; r: CygnetSide }): Promise<void> {
  assert.equal(await t.l.peer.stop(5000), 0, 'left exits 0 on SIGTERM');
  assert.equal(await t.r.peer.stop(5000), 0, 'right exits 0 on SIGTERM');
}

/** iperf3 left -> right after a 1 s warm-up run (the first seconds of a fresh daemon run slower, UDP and TCP alike). */
async function measure(ctx: ScenarioContext, h: TwoHosts): Promise<IperfResult> {
  await iperf3(h.right.ns, h.left.ns, h.right.inner4, { seconds: 1, logDir: ctx.dir });
  return iperf3(h.right.ns, h.left.ns, h.right.inner4, { seconds: SECONDS, logDir: ctx.dir });
}

const fmt = (r: IperfResult): string => `${r.mbps.toFixed(1)} Mbit/s (${r.retransmits ?? '?'} retransmits)`;

export async function run(ctx: ScenarioContext): Promise<void> {
  const h = await twoHosts(ctx.lab);

  // 1. UDP, the reference figure of this run.
  const udp = await tunnel(ctx, h, undefined);
  const udpRate = await measure(ctx, h);
  await stopBoth(udp);

  // 2. UDP blocked in both namespaces; encap = tcp.
  for (const host of [h.left, h.right]) await host.ns.block('udp dport { 500, 4500 }');
  // Captured on the left until the pings are through, for `cygnet inspect` with the left's key log (below).
  const cap = await startCapture(h.left.ns, 'eth0', join(ctx.dir, 'left-tcp.pcapng'), { captureFilter: 'tcp port 4500' });
  const keyFile = join(ctx.dir, 'left.keys');
  const tcp = await tunnel(ctx, h, 'tcp', ['--key-log', keyFile]);
  const [ls, rs] = [tcp.l.status(), tcp.r.status()];
  const lsa = ls && establishedCygnet(ls);
  const rsa = rs && establishedCygnet(rs);
  assert.equal(lsa?.transport, 'tcp', 'left status: transport tcp');
  assert.equal(rsa?.transport, 'tcp', 'right status: transport tcp');
  ctx.log(`left IKE SA over TCP ${lsa?.tcp}; right ${rsa?.tcp}`);
  await tcp.l.peer.waitForLog(/IKE_SA cyg\[\d+\] established between 192\.0\.2\.1\[cygnet@cygnet\.test\]\.\.\.192\.0\.2\.2\[swan@cygnet\.test\] over TCP 192\.0\.2\.1\[\d+\]-192\.0\.2\.2\[4500\]/, 2000);
  await tcp.r.peer.waitForLog(/TCP connection from 192\.0\.2\.1\[\d+\] to 192\.0\.2\.2\[4500\] accepted/, 2000);
  await pingBoth(h, 'over TCP');
  await cap.stop();
  const { records, stderr } = await cygnetInspect(cap.file, [keyFile]);
  const ikeRecs = records.filter((r): r is IkeRecord => r.kind === 'ike');
  const espRecs = records.filter((r): r is EspRecord => r.kind === 'esp');
  const m0 = `cygnet inspect of the TCP capture: ${ikeRecs.length} IKE messages (${ikeRecs.filter((r) => r.transport === 'tcp').length} over TCP, ${ikeRecs.filter((r) => r.decrypted).length} decrypted), ${espRecs.length} ESP (${espRecs.filter((r) => r.encap === 'tcp').length} ESP-in-TCP, ${espRecs.filter((r) => r.decrypted).length} decrypted)`;
  ctx.log(m0);
  console.log(`    ${m0}`);
  assert.equal(stderr, '', 'cygnet inspect: no warnings');
  assert.deepEqual(ikeRecs.map((r) => r.exchange).slice(0, 4), ['IKE_SA_INIT', 'IKE_SA_INIT', 'IKE_AUTH', 'IKE_AUTH'], 'inspect finds the IKE exchanges in the TCP stream');
  assert.ok(ikeRecs.every((r) => r.transport === 'tcp'), 'every IKE message is named as carried over TCP');
  assert.ok(ikeRecs.filter((r) => r.exchange === 'IKE_AUTH').every((r) => r.decrypted), 'IKE_AUTH decrypted with the key log');
  assert.ok(espRecs.length >= 12 && espRecs.every((r) => r.encap === 'tcp' && r.decrypted), 'the pings as ESP-in-TCP, all decrypted');
  const tcpRate = await measure(ctx, h);
  const msg = `iperf3 cygnet <-> cygnet left->right: UDP ${fmt(udpRate)}, TCP (RFC 9329) ${fmt(tcpRate)}, TCP/UDP ${(tcpRate.mbps / udpRate.mbps).toFixed(2)}`;
  ctx.log(msg);
  console.log(`    ${msg}`);
  assert.ok(udpRate.mbps > 1 && tcpRate.mbps > 1, 'bulk TCP through the tunnel over UDP and over TCP');

  // 3. The TCP connection killed mid-transfer: the initiator reconnects and the transfer completes.
  const ikeSpi = lsa?.spiI;
  const transfer = iperf3(h.right.ns, h.left.ns, h.right.inner4, { seconds: 5, logDir: ctx.dir, port: 5202 });
  await new Promise((r) => setTimeout(r, 1500));
  const killed = await h.left.ns.exec('ss', ['-K', 'dst', h.right.outer4, 'dport', '=', '4500'], { allowFail: true });
  let how = 'ss -K';
  const closed = await tcp.l.peer.waitForLog(/TCP connection 192\.0\.2\.1\[\d+\]-192\.0\.2\.2\[4500\] .*reconnecting/, 1500).catch(() => undefined);
  if (!closed) {
    // No SOCK_DESTROY in this kernel (ss -K printed nothing useful): the responder's namespace answers with RSTs.
    how = 'nft reject with tcp reset';
    ctx.log(`ss -K did not close the stream (${killed.code}: ${killed.stderr.trim()}); using nft reject with tcp reset`);
    await h.right.ns.nft('table inet cygreset {\n  chain input {\n    type filter hook input priority filter; policy accept;\n    tcp dport 4500 reject with tcp reset\n  }\n}\n');
    await tcp.l.peer.waitForLog(/TCP connection 192\.0\.2\.1\[\d+\]-192\.0\.2\.2\[4500\] .*reconnecting/, 3000);
    await h.right.ns.exec('nft', ['delete', 'table', 'inet', 'cygreset']);
  }
  await tcp.l.peer.waitForLog(/TCP connection 192\.0\.2\.1\[\d+\]-192\.0\.2\.2\[4500\] established/, 5000);
  const during = await transfer;
  const reconnected = (await tcp.r.peer.log()).split('\n').filter((l) => /TCP connection from .* accepted/.test(l)).length;
  const m2 = `TCP stream killed with ${how} mid-transfer: initiator reconnected (responder accepted ${reconnected} streams), iperf3 over the break ${fmt(during)}`;
  ctx.log(m2);
  console.log(`    ${m2}`);
  assert.ok(reconnected >= 2, 'the responder accepted a second stream');
  assert.ok(during.mbps > 0.5, 'the transfer went on after the reset');
  await pingBoth(h, 'after the reconnection');
  const after = tcp.l.status();
  assert.equal(after && establishedCygnet(after)?.spiI, ikeSpi, 'the same IKE SA carries on');
  await stopBoth(tcp);
}
