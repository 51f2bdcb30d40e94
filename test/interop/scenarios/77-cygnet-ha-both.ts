/**
 * HA, the whole Must-show of issue 20 in one run: the cygnet pair (Redis store, floating 192.0.2.1 outside and
 * 10.1.0.1 inside, a LAN host 10.1.0.10 behind it) serves at the same time a strongSwan site-to-site peer (swan,
 * 10.2.0.1 behind it) and a strongSwan road warrior (rw, a virtual IP from the pair's pool). Both peers keep a
 * continuous ping to the LAN host and run iperf3 TCP in opposite directions (swan -> LAN, LAN -> rw) when the
 * active node is killed with SIGKILL. Then:
 * - each ping resumes within 3 s and each iperf3 stream finishes through the new active (stalls printed);
 * - each peer keeps its IKE SA (same SPIs) and CHILD SA, and sent only one IKE_SA_INIT in all (its log and the
 *   capture agree);
 * - captures on both peers, decrypted with the keys charon logged, show no ESP sequence number twice on the
 *   gateways' outbound SAs that survived the takeover (RFC 4303 3.3.3: a sender never reuses one under a key),
 *   and the jump past --ha-seq-gap where the new active took over;
 * - CHILD and IKE rekeys by both peers work on the new active, and its HA metrics pass `promtool check metrics`;
 * - fail-back: the old node returns as standby and a SIGTERM on the active hands both IKE SAs back to it.
 *
 *   gwa (eth0 192.0.2.11, eth1 10.1.0.2) ─┐            ┌─ swan (192.0.2.2, lo 10.2.0.1)
 *   gwb (eth0 192.0.2.12, eth1 10.1.0.3) ─┼─ br0 (sw) ─┼─ rw (192.0.2.3, virtual IP 10.3.0.x)
 *   lan (10.1.0.10) ── br1 (sw) ──────────┘ redis      └─ (both to the floating 192.0.2.1)
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { iperf3, type IperfResult } from '../lib/iperf.js';
import { KEY_LOG_LEVELS, keysFromCharonLog } from '../lib/keys.js';
import type { Netns } from '../lib/netns.js';
import type { ScenarioContext } from '../lib/scenario.js';
import type { StrongswanPeer } from '../lib/strongswan.js';
import type { IkeSaInfo } from '../lib/swanctl-output.js';
import { mirror, type PskConnection, pskSwanctlConf } from '../lib/swanctl-conf.js';
import { run as exec, waitFor } from '../lib/exec.js';
import { type Capture, decodeCapture, startCapture } from '../lib/tshark.js';
import { FLOATING, haLab, pingGap, startHaNode, startRedis, waitRedis, waitReplicated } from './77-cygnet-ha-failover.js';

export const name = 'cygnet-ha-both';
export const timeoutMs = 240_000;

const LAN_HOST = '10.1.0.10';
const IPERF_S = 14;
const KILL_AFTER_MS = 4000;

interface Interval {
  sum: { start: number; end: number; bits_per_second: number };
}

/** Longest run of iperf3 intervals below 1% of the peak, in seconds, and the per-second rates (Mbit/s). */
function stall(res: IperfResult): { stallS: number; rates: string; tailOk: boolean } {
  const intervals = ((res.json as { intervals?: Interval[] }).intervals ?? []).map((i) => i.sum);
  const peak = Math.max(...intervals.map((i) => i.bits_per_second));
  let longest = 0;
  let cur = 0;
  for (const i of intervals) {
    cur = i.bits_per_second < peak / 100 ? cur + (i.end - i.start) : 0;
    longest = Math.max(longest, cur);
  }
  const tail = intervals.slice(-3);
  return {
    stallS: longest,
    rates: intervals.map((i) => (i.bits_per_second / 1e6).toFixed(0)).join(' '),
    tailOk: tail.length === 3 && tail.every((i) => i.bits_per_second > peak / 100),
  };
}

/**
 * ESP sent by the gateways on `spi` in a capture: first every packet's sequence number from the headers alone
 * (tshark without keys: fast for the ~10^5 packets of the iperf run), then the packets around the takeover
 * decrypted with the key log (cut out with tshark -w), which proves they were sealed with the SA's keys.
 */
async function espFromGateways(ctx: ScenarioContext, file: string, spi: string, keys: ReturnType<typeof keysFromCharonLog>, what: string): Promise<number[]> {
  const hdr = await exec('tshark', ['-r', file, '-n', '-Y', `esp.spi == 0x${spi} && ip.src == ${FLOATING}`, '-T', 'fields', '-e', 'frame.number', '-e', 'esp.sequence'], { timeoutMs: 120_000 });
  const rows = hdr.stdout.trim().split('\n').filter(Boolean).map((l) => l.split('\t').map(Number) as [number, number]);
  const seqs = rows.map((r) => r[1]);
  assert.ok(seqs.length > 50, `${what}: ESP from the gateways on ${spi} captured (${seqs.length})`);
  const dup = seqs.length - new Set(seqs).size;
  assert.equal(dup, 0, `${what}: no ESP sequence number sent twice on ${spi} (${dup} repeated)`);
  // The new active starts at the last replicated mark + --ha-seq-gap (65536): a jump no capture loss explains.
  const jump = seqs.findIndex((v, i) => i > 0 && v > (seqs[i - 1] ?? 0) + 32768);
  assert.ok(jump > 0, `${what}: the takeover shows as a jump of the sequence numbers past the gap`);
  const backwards = seqs.filter((v, i) => i > jump && v < (seqs[jump] ?? 0)).length;
  assert.equal(backwards, 0, `${what}: after the takeover no number below the new active's first one`);
  const sent = (seqs[jump - 1] ?? 0) - (seqs[0] ?? 0) + 1 + (seqs[seqs.length - 1] ?? 0) - (seqs[jump] ?? 0) + 1;
  const dumpcap = (await readFile(`${file}.log`, 'utf8').catch(() => '')).match(/Packets received\/dropped[^\n]*/)?.[0] ?? 'no dumpcap statistics';
  // Every number of both ranges should be in the capture (GSO cut at the gateways, dumpcap with a large buffer), so
  // that "none repeated" speaks for (nearly) every packet sent; a few may be lost on a loaded veth.
  assert.ok(seqs.length >= 0.99 * sent, `${what}: the capture holds ${seqs.length} of the ${sent} sequence numbers sent (>= 99%)`);
  ctx.log(`${what}: ESP ${spi}: ${seqs.length} packets from the gateways captured of ${sent} numbers in the two ranges, seq ${seqs[0]}..${seqs[jump - 1]} from gwa, then ${seqs[jump]}..${seqs[seqs.length - 1]} from gwb, none repeated (dumpcap: ${dumpcap})`);
  // Decrypt 100 frames either side of the jump.
  const from = rows[Math.max(0, jump - 100)]?.[0] ?? 1;
  const to = rows[Math.min(rows.length - 1, jump + 100)]?.[0] ?? from;
  const cut = `${file}.takeover.pcap`;
  await exec('tshark', ['-r', file, '-Y', `frame.number >= ${from} && frame.number <= ${to}`, '-w', cut], { timeoutMs: 120_000 });
  const packets = await decodeCapture(cut, keys);
  const mine = packets.filter((p) => p.kind === 'ESP' && p.src === FLOATING && p.espSpi === spi);
  const bad = mine.filter((p) => !p.decrypted);
  assert.ok(mine.length >= 100, `${what}: frames around the takeover decoded (${mine.length})`);
  assert.equal(bad.length, 0, `${what}: every ESP packet of the gateways around the takeover decrypts with the SA's keys (${bad.length} did not: seq ${bad.slice(0, 5).map((p) => p.espSeq).join(', ')})`);
  ctx.log(`${what}: ${mine.length} ESP packets around the takeover (gwa and gwb) decrypted with the logged keys`);
  return seqs;
}

async function addRoadWarriorNs(ctx: ScenarioContext, sw: Netns): Promise<Netns> {
  const rw = await ctx.lab.add('rw');
  await ctx.lab.veth({ ns: rw, ifname: 'eth0', addrs: ['192.0.2.3/24'] }, { ns: sw, ifname: 'pr', addrs: [] });
  await sw.ip(['link', 'set', 'pr', 'master', 'br0']);
  return rw;
}

export async function run(ctx: ScenarioContext): Promise<void> {
  const lab = await haLab(ctx, { lan: true });
  const lan = lab.lan;
  assert.ok(lan);
  const rwNs = await addRoadWarriorNs(ctx, lab.sw);
  // cygnet sends runs of ESP datagrams as one UDP GSO message (UDP_SEGMENT); over veth such a super-packet stays whole
  // until the receiver's UDP layer, so a capture on the peer would show one ESP header per run. gso_max_segs 1 makes
  // the kernel cut it at the gateways' eth0 (software GSO, nothing changes for cygnet): every ESP datagram is seen.
  for (const gw of [lab.gw.a, lab.gw.b]) await gw.ip(['link', 'set', 'dev', 'eth0', 'gso_max_segs', '1']);
  const s2s: PskConnection = lab.conn;
  const rwGw: PskConnection = {
    name: 'rw',
    localAddrs: FLOATING,
    remoteAddrs: '%any',
    localId: 'gw@cygnet.test',
    remoteId: 'rw@cygnet.test',
    proposals: 'aes128gcm16-prfsha256-x25519',
    secret: 'interop-ha-rw',
    extra: { pools: 'rwpool' },
    child: { name: 'net', localTs: '10.1.0.0/24', remoteTs: 'dynamic', espProposals: 'aes128gcm16', startAction: 'none' },
  };
  const gwConf = `${pskSwanctlConf(s2s)}${pskSwanctlConf(rwGw)}pools {\n  rwpool {\n    addrs = 10.3.0.0/28\n  }\n}\n`;
  const rwConf: PskConnection = {
    ...mirror(rwGw),
    localAddrs: '192.0.2.3',
    remoteAddrs: FLOATING,
    extra: { vips: '0.0.0.0' },
    child: { name: 'net', localTs: 'dynamic', remoteTs: '10.1.0.0/24', espProposals: 'aes128gcm16', startAction: 'none' },
  };

  startRedis(ctx, lab, await ctx.subdir('redis'));
  await waitRedis(lab);
  const metrics = ['--metrics', '127.0.0.1:9786'];
  const a = await startHaNode(ctx, lab, 'a', metrics, 2000, gwConf);
  await a.peer.waitForLog(/ha: active with token 1/, 15_000);
  const b = await startHaNode(ctx, lab, 'b', metrics, 2000, gwConf);

  const theirs = mirror(s2s);
  const swan = await ctx.startStrongswan({ ns: lab.swan, label: 'swan', swanctlConf: pskSwanctlConf({ ...theirs, child: { ...theirs.child, startAction: 'none' } }), logLevels: KEY_LOG_LEVELS });
  await swan.loadAll();
  const rw = await ctx.startStrongswan({ ns: rwNs, label: 'rw', swanctlConf: pskSwanctlConf(rwConf), logLevels: KEY_LOG_LEVELS });
  await rw.loadAll();
  const capDir = await ctx.subdir('capture');
  const caps: Record<'swan' | 'rw', Capture> = {
    swan: await startCapture(lab.swan, 'eth0', join(capDir, 'swan.pcap'), { captureFilter: 'udp', bufferMiB: 64 }),
    rw: await startCapture(rwNs, 'eth0', join(capDir, 'rw.pcap'), { captureFilter: 'udp', bufferMiB: 64 }),
  };
  await swan.initiate('net', { ike: 'ha' });
  await rw.initiate('net', { ike: 'rw' });
  const before: Record<'swan' | 'rw', IkeSaInfo> = { swan: await swan.waitEstablished('ha', 'net'), rw: await rw.waitEstablished('rw', 'net') };
  const vip = (before.rw.children[0]?.localTs[0] ?? '').replace(/\/32$/, '');
  assert.match(vip, /^10\.3\.0\.\d+$/, `the road warrior got a virtual IP from the pool (${vip})`);
  for (const k of ['swan', 'rw'] as const) {
    const s = before[k];
    ctx.log(`${k}: IKE SA ${s.initiatorSpi}_i ${s.responderSpi}_r, CHILD in ${s.children[0]?.spiIn} out ${s.children[0]?.spiOut}`);
  }
  await waitReplicated(lab, 2);
  await waitFor('standby view', async () => (b.ha()?.role === 'standby' ? true : undefined), 5000);
  for (const [ns, src] of [[lab.swan, '10.2.0.1'], [rwNs, vip]] as const) {
    const r = await ns.ping(LAN_HOST, { count: 2, source: src });
    assert.equal(r.received, 2, `the LAN host answers ${src} through the active gateway`);
  }

  // Pings from both peers (10/s) and iperf3 both ways: swan sends to the LAN host, the LAN host sends to rw.
  const pings = {
    swan: ctx.spawn(lab.swan, 'ping', ['-n', '-i', '0.1', '-c', String(IPERF_S * 10 + 20), '-W', '1', '-I', '10.2.0.1', LAN_HOST], { label: 'ping-swan' }),
    rw: ctx.spawn(rwNs, 'ping', ['-n', '-i', '0.1', '-c', String(IPERF_S * 10 + 20), '-W', '1', '-I', vip, LAN_HOST], { label: 'ping-rw' }),
  };
  const logDir = await ctx.subdir('iperf');
  const up = iperf3(lan, lab.swan, LAN_HOST, { seconds: IPERF_S, logDir, port: 5201 });
  const down = iperf3(lan, rwNs, LAN_HOST, { seconds: IPERF_S, logDir, port: 5202, reverse: true });
  await new Promise((r) => setTimeout(r, KILL_AFTER_MS));
  await a.peer.process.kill('SIGKILL');
  const killedAt = Date.now();
  await b.peer.waitForLog(/ha: active with token 2: took over 2 IKE SA\(s\), 2 CHILD SA\(s\)/, 10_000);
  ctx.log(`takeover logged ${Date.now() - killedAt} ms after the SIGKILL`);
  const [upRes, downRes] = await Promise.all([up, down]);
  for (const [k, res, dir] of [['swan', upRes, 'swan 10.2.0.1 -> LAN 10.1.0.10'], ['rw', downRes, `LAN 10.1.0.10 -> rw ${vip}`]] as const) {
    const s = stall(res);
    ctx.log(`iperf3 TCP ${dir}: ${res.mbps.toFixed(1)} Mbit/s overall, longest stall ${s.stallS.toFixed(1)} s; per second: ${s.rates}`);
    console.log(`    iperf3 ${k} (${dir}): ${res.mbps.toFixed(1)} Mbit/s, stall ${s.stallS.toFixed(1)} s; per second: ${s.rates}`);
    assert.ok(s.tailOk, `${k}: the stream flows again through the new active at the end of the run (${s.rates})`);
    assert.ok(s.stallS <= 5, `${k}: the TCP stream stalled ${s.stallS.toFixed(1)} s at most (takeover + TCP backoff)`);
  }
  for (const k of ['swan', 'rw'] as const) {
    await pings[k].exited;
    const p = pingGap(await pings[k].output(), 0.1);
    ctx.log(`ping ${k} -> LAN: ${p.replies} replies of ${IPERF_S * 10 + 20}, longest gap ${p.gapS.toFixed(1)} s`);
    console.log(`    ping ${k}: ${p.replies} replies, longest gap ${p.gapS.toFixed(1)} s`);
    assert.ok(p.gapS <= 3, `${k}: traffic resumed within 3 s (longest gap ${p.gapS.toFixed(1)} s)`);
    assert.ok(p.last >= IPERF_S * 10 + 10, `${k}: the ping ran to its end through the new active`);
  }

  // Both peers kept their IKE and CHILD SAs and initiated exactly one IKE SA.
  const peers: Record<'swan' | 'rw', StrongswanPeer> = { swan, rw };
  const ikeName = { swan: 'ha', rw: 'rw' } as const;
  for (const k of ['swan', 'rw'] as const) {
    const after = await peers[k].listSas();
    assert.equal(after.length, 1, `${k}: one IKE SA`);
    assert.equal(after[0]?.initiatorSpi, before[k].initiatorSpi, `${k}: SPIi unchanged`);
    assert.equal(after[0]?.responderSpi, before[k].responderSpi, `${k}: SPIr unchanged`);
    assert.equal(after[0]?.children[0]?.spiIn, before[k].children[0]?.spiIn, `${k}: CHILD SA unchanged`);
    assert.equal((await peers[k].grep(new RegExp(`initiating IKE_SA ${ikeName[k]}\\[`))).length, 1, `${k}: initiated exactly one IKE SA`);
    ctx.log(`${k}: after the takeover IKE SA ${after[0]?.initiatorSpi}_i ${after[0]?.responderSpi}_r (same), CHILD ${after[0]?.children[0]?.spiIn} (same)`);
  }
  assert.equal(after2vip(await rw.listSas()), `${vip}/32`, 'rw: same virtual IP');

  // The sequence-number check, on the gateways' outbound SA towards each peer (the peer's inbound SPI).
  const files = { swan: await caps.swan.stop(), rw: await caps.rw.stop() };
  for (const k of ['swan', 'rw'] as const) {
    const keys = keysFromCharonLog(await peers[k].log(), [before[k]]);
    await espFromGateways(ctx, files[k], (before[k].children[0]?.spiIn ?? '').replace(/^0x/, ''), keys, k);
    const init = await decodeCapture(files[k], {}, { displayFilter: 'isakmp.exchangetype == 34' });
    assert.equal(init.length, 2, `${k}: one IKE_SA_INIT request and response in the capture`);
  }

  // The new active's HA metrics: role active, store up, caught up; the exposition passes promtool.
  const scrape = (await lab.gw.b.exec('curl', ['-sS', '--fail', 'http://127.0.0.1:9786/metrics'])).stdout;
  const ha = scrape.split('\n').filter((l) => l.startsWith('cygnet_ha_'));
  ctx.log(`gwb metrics: ${ha.join('; ')}`);
  assert.ok(ha.includes('cygnet_ha_role{role="active"} 1'), 'gwb: cygnet_ha_role{role="active"} 1');
  assert.ok(ha.includes('cygnet_ha_store_up 1'), 'gwb: cygnet_ha_store_up 1');
  const lint = await lab.gw.b.exec('promtool', ['check', 'metrics'], { input: scrape, allowFail: true });
  const findings = `${lint.stdout}${lint.stderr}`.split('\n').filter((l) => l.trim() !== '');
  assert.deepEqual(findings, [], 'promtool check metrics: no finding');
  assert.equal(lint.code, 0, 'promtool check metrics exits 0');
  ctx.log(`promtool check metrics on gwb: exit ${lint.code}, ${findings.length} findings, ${ha.length} cygnet_ha_ samples`);

  // Rekeys by both peers on the new active: CHILD, then IKE; traffic after them.
  const rekeyed: Partial<Record<'swan' | 'rw', IkeSaInfo>> = {};
  for (const k of ['swan', 'rw'] as const) {
    const p = peers[k];
    await p.rekey({ child: 'net' });
    await p.waitForSa((s) => s[0]?.children.find((c) => c.state === 'INSTALLED' && c.spiIn !== before[k].children[0]?.spiIn), 10_000, `${k}: CHILD SA rekeyed on gwb`);
    await p.rekey({ ike: ikeName[k] });
    rekeyed[k] = await p.waitForSa((s) => s.find((x) => x.state === 'ESTABLISHED' && x.initiatorSpi !== before[k].initiatorSpi), 10_000, `${k}: IKE SA rekeyed on gwb`);
    ctx.log(`${k}: rekeyed on gwb: IKE SA ${rekeyed[k]?.initiatorSpi}_i ${rekeyed[k]?.responderSpi}_r`);
  }
  await waitReplicated(lab, 2);
  for (const [ns, src] of [[lab.swan, '10.2.0.1'], [rwNs, vip]] as const) {
    const r = await ns.ping(LAN_HOST, { count: 3, source: src });
    assert.equal(r.received, 3, `ping ${src} -> LAN after the rekeys on gwb`);
  }

  // Fail-back: gwa returns as standby; SIGTERM on gwb hands both IKE SAs to it without Deletes.
  const deletes = { swan: (await swan.grep(/received DELETE|deleting IKE_SA/)).length, rw: (await rw.grep(/received DELETE|deleting IKE_SA/)).length };
  const a2 = await startHaNode(ctx, lab, 'a', [], 2000, gwConf);
  await waitFor('gwa standby', async () => (a2.ha()?.role === 'standby' ? true : undefined), 5000);
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(await b.peer.stop(5000), 0, 'gwb exits 0 after the hand-over');
  await a2.peer.waitForLog(/ha: active with token 3: took over 2 IKE SA\(s\), 2 CHILD SA\(s\)/, 10_000);
  for (const [k, ns, src] of [['swan', lab.swan, '10.2.0.1'], ['rw', rwNs, vip]] as const) {
    const r = await ns.ping(LAN_HOST, { count: 5, source: src, intervalS: 0.2 });
    assert.ok(r.received >= 4, `${k}: ping after fail-back (${r.received}/5)`);
    const back = await peers[k].listSas();
    assert.equal(back.length, 1, `${k}: still one IKE SA after fail-back`);
    assert.equal(back[0]?.initiatorSpi, rekeyed[k]?.initiatorSpi, `${k}: fail-back kept the rekeyed IKE SA`);
    assert.equal((await peers[k].grep(/received DELETE|deleting IKE_SA/)).length, deletes[k], `${k}: the hand-over sent no Delete`);
  }
  ctx.log('fail-back to gwa (token 3): both IKE SAs kept, pings pass, no Delete');
}

function after2vip(sas: readonly IkeSaInfo[]): string | undefined {
  return sas[0]?.children[0]?.localTs[0];
}
