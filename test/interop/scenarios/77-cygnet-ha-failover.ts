/**
 * High availability (issue 20): two cygnet gateways share a floating address (192.0.2.1), replicate their SAs to
 * Redis, and a strongSwan site-to-site peer talks to whichever is active. During a continuous ping the active is
 * killed with SIGKILL: the standby takes the lease once it expires, restores the IKE and CHILD SAs, adds the
 * floating address (gratuitous ARP) and answers. strongSwan keeps its IKE SA (same SPIs, no new IKE_SA_INIT),
 * the ping resumes within 3 s, a CHILD and an IKE rekey by strongSwan work on the new active; then fail-back:
 * the old node returns as standby and a SIGTERM on the active hands the SAs over to it.
 *
 *   gwa (eth0 192.0.2.11 [+192.0.2.1], lo 10.1.0.1) ─┐
 *   gwb (eth0 192.0.2.12 [+192.0.2.1], lo 10.1.0.1) ─┼─ br0 (sw: 192.0.2.100, redis) ─ swan (192.0.2.2, lo 10.2.0.1)
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CygnetPeer } from '../lib/cygnet.js';
import { run as exec, waitFor } from '../lib/exec.js';
import type { Netns } from '../lib/netns.js';
import type { ScenarioContext } from '../lib/scenario.js';
import type { StrongswanPeer } from '../lib/strongswan.js';
import { KEY_LOG_LEVELS, keysFromCharonLog } from '../lib/keys.js';
import { decodeCapture, startCapture } from '../lib/tshark.js';
import { mirror, type PskConnection, pskSwanctlConf } from '../lib/swanctl-conf.js';

export const name = 'cygnet-ha-failover';
export const timeoutMs = 90_000;

export const FLOATING = '192.0.2.1';
const STORE = '192.0.2.100';
const HA_KEY = '5a'.repeat(32);

export interface HaLab {
  sw: Netns;
  gw: { a: Netns; b: Netns };
  swan: Netns;
  conn: PskConnection;
  /** With `lan`: a host behind the gateways (10.1.0.10, default route via the inner floating 10.1.0.1). */
  lan?: Netns;
}

/** The topology above; redis-server not yet started. */
export async function haLab(ctx: ScenarioContext, opts: { lan?: boolean } = {}): Promise<HaLab> {
  for (const bin of ['redis-server', 'arping']) {
    if ((await exec('sh', ['-c', `command -v ${bin}`], { allowFail: true })).code !== 0) ctx.skip(`${bin} is not installed (apt-get install redis-server iputils-arping; .ci/run does)`);
  }
  const sw = await ctx.lab.add('sw');
  await sw.ip(['link', 'add', 'br0', 'type', 'bridge']);
  await sw.addAddress('br0', `${STORE}/24`);
  await sw.up('br0');
  const a = await ctx.lab.add('gwa');
  const b = await ctx.lab.add('gwb');
  const swan = await ctx.lab.add('swan');
  for (const [ns, port, addr] of [[a, 'pa', '192.0.2.11'], [b, 'pb', '192.0.2.12'], [swan, 'ps', '192.0.2.2']] as const) {
    await ctx.lab.veth({ ns, ifname: 'eth0', addrs: [`${addr}/24`] }, { ns: sw, ifname: port, addrs: [] });
    await sw.ip(['link', 'set', port, 'master', 'br0']);
  }
  let lan: Netns | undefined;
  if (opts.lan) {
    // gwa/gwb eth1 (10.1.0.2, .3) and the LAN host on br1; the active adds 10.1.0.1, the LAN's default gateway.
    await sw.ip(['link', 'add', 'br1', 'type', 'bridge']);
    await sw.up('br1');
    lan = await ctx.lab.add('lan');
    for (const [ns, port, addr] of [[a, 'qa', '10.1.0.2'], [b, 'qb', '10.1.0.3'], [lan, 'ql', '10.1.0.10']] as const) {
      await ctx.lab.veth({ ns, ifname: ns === lan ? 'eth0' : 'eth1', addrs: [`${addr}/24`] }, { ns: sw, ifname: port, addrs: [] });
      await sw.ip(['link', 'set', port, 'master', 'br1']);
    }
    await lan.addRoute('default', ['via', '10.1.0.1']);
    for (const ns of [a, b]) await ns.sysctl('net.ipv4.ip_forward', 1);
  } else {
    await a.addAddress('lo', '10.1.0.1/32');
    await b.addAddress('lo', '10.1.0.1/32');
  }
  await swan.addAddress('lo', '10.2.0.1/32');
  const conn: PskConnection = {
    name: 'ha',
    localAddrs: FLOATING,
    remoteAddrs: '192.0.2.2',
    localId: 'gw@cygnet.test',
    remoteId: 'swan@cygnet.test',
    proposals: 'aes128gcm16-prfsha256-x25519',
    secret: 'interop-ha-psk',
    child: { name: 'net', localTs: opts.lan ? '10.1.0.0/24' : '10.1.0.1/32', remoteTs: '10.2.0.1/32', espProposals: 'aes128gcm16', startAction: 'none' },
  };
  return { sw, gw: { a, b }, swan, conn, ...(lan ? { lan } : {}) };
}

export function startRedis(ctx: ScenarioContext, lab: HaLab, dir: string) {
  return ctx.spawn(lab.sw, 'redis-server', ['--bind', STORE, '--port', '6379', '--protected-mode', 'no', '--save', '', '--appendonly', 'no', '--dir', dir], { label: 'redis' });
}

export async function waitRedis(lab: HaLab): Promise<void> {
  await waitFor('redis answers', async () => ((await lab.sw.exec('redis-cli', ['-h', STORE, 'ping'], { allowFail: true })).stdout.includes('PONG') ? true : undefined), 20_000);
}

/** Until the store holds `ikeSas` IKE SA records with `childSas` CHILD SAs in all (what a takeover would restore). */
export async function waitReplicated(lab: HaLab, ikeSas: number, childSas = ikeSas): Promise<void> {
  await waitFor(`${ikeSas} IKE SA(s) with ${childSas} CHILD SA(s) in the store`, async () => {
    const r = await lab.sw.exec('redis-cli', ['-h', STORE, 'hgetall', 'cygnet:default:data'], { allowFail: true });
    const recs = r.stdout.split('\n').filter((l) => l.startsWith('{"v":'));
    const children = recs.reduce((n, l) => n + ((JSON.parse(l) as { children?: unknown[] }).children?.length ?? 0), 0);
    return recs.length === ikeSas && children === childSas ? true : undefined;
  }, 10_000);
}

export interface HaNodeHandle {
  peer: CygnetPeer;
  statusFile: string;
  haFile: string;
  ha(): Record<string, unknown> | undefined;
}

export async function startHaNode(ctx: ScenarioContext, lab: HaLab, node: 'a' | 'b', extra: readonly string[] = [], leaseMs = 2000, config = pskSwanctlConf(lab.conn)): Promise<HaNodeHandle> {
  const dir = await ctx.subdir(`cygnet-${node}-${Date.now()}`);
  const statusFile = join(dir, 'status.json');
  const haFile = join(dir, 'ha.json');
  const peer = await ctx.startCygnet({
    ns: lab.gw[node],
    dir,
    label: `cygnet-${node}`,
    config,
    files: { 'ha.key': HA_KEY },
    args: [
      '--status-file', statusFile, '--debug', 'ike 1, net 1, esp 1, dmn 2', '--tun', 'cyg0', '--no-vici',
      '--ha-store', `redis://${STORE}:6379`, '--ha-node', `gw${node}`, '--ha-key-file', join(dir, 'ha.key'),
      '--ha-floating', lab.lan ? `${FLOATING}/24@eth0,10.1.0.1/24@eth1` : `${FLOATING}/24@eth0`, '--ha-lease-ms', String(leaseMs), '--ha-seq-every', '256', '--ha-seq-gap', '65536',
      '--ha-status', haFile, ...extra,
    ],
    ready: /ha: node gw. starts as standby/,
  });
  return {
    peer,
    statusFile,
    haFile,
    ha: () => {
      if (!existsSync(haFile)) return undefined;
      try {
        return JSON.parse(readFileSync(haFile, 'utf8')) as Record<string, unknown>;
      } catch {
        return undefined;
      }
    },
  };
}

export async function startSwan(ctx: ScenarioContext, lab: HaLab, opts: { keyLog?: boolean } = {}): Promise<StrongswanPeer> {
  const theirs = mirror(lab.conn);
  const swan = await ctx.startStrongswan({ ns: lab.swan, swanctlConf: pskSwanctlConf({ ...theirs, child: { ...theirs.child, startAction: 'none' } }), ...(opts.keyLog ? { logLevels: KEY_LOG_LEVELS } : {}) });
  await swan.loadAll();
  return swan;
}

/** Longest run of missing replies in a `ping -i 0.1` transcript, in seconds, and the replies counted. */
export function pingGap(output: string, intervalS: number): { gapS: number; replies: number; last: number } {
  const seqs = [...output.matchAll(/icmp_seq=(\d+)/g)].map((m) => Number(m[1]));
  let gap = 0;
  for (let i = 1; i < seqs.length; i++) gap = Math.max(gap, (seqs[i] ?? 0) - (seqs[i - 1] ?? 0) - 1);
  return { gapS: gap * intervalS, replies: seqs.length, last: seqs[seqs.length - 1] ?? 0 };
}

export async function run(ctx: ScenarioContext): Promise<void> {
  const lab = await haLab(ctx);
  startRedis(ctx, lab, await ctx.subdir('redis'));
  await waitRedis(lab);
  const a = await startHaNode(ctx, lab, 'a');
  await a.peer.waitForLog(/ha: active with token 1/, 15_000);
  await a.peer.waitForLog(/floating address 192\.0\.2\.1\/24 added/, 5000);
  const b = await startHaNode(ctx, lab, 'b');
  // charon logs the keys (KEY_LOG_LEVELS): the capture is decrypted with them below.
  const swan = await startSwan(ctx, lab, { keyLog: true });
  const capture = await startCapture(lab.swan, 'eth0', join(await ctx.subdir('capture'), 'swan.pcap'), { captureFilter: 'udp' });
  await swan.initiate('net', { ike: 'ha' });
  const before = await swan.waitEstablished('ha', 'net');
  ctx.log(`IKE SA ${before.initiatorSpi}_i ${before.responderSpi}_r, CHILD ${before.children[0]?.spiIn}/${before.children[0]?.spiOut}`);
  // The standby reports it and refuses to take over while the lease is held.
  await waitFor('standby view', async () => (b.ha()?.role === 'standby' ? true : undefined), 5000);
  await waitReplicated(lab, 1);

  // Continuous ping through the tunnel (10 per second); the active dies 2 s in.
  const ping = ctx.spawn(lab.swan, 'ping', ['-n', '-i', '0.1', '-c', '120', '-W', '1', '-I', '10.2.0.1', '10.1.0.1'], { label: 'ping' });
  await new Promise((r) => setTimeout(r, 2000));
  await a.peer.process.kill('SIGKILL');
  const killedAt = Date.now();
  await b.peer.waitForLog(/ha: active with token 2: took over 1 IKE SA\(s\), 1 CHILD SA\(s\)/, 10_000);
  ctx.log(`takeover logged ${Date.now() - killedAt} ms after the kill`);
  await ping.exited;
  const p = pingGap(await ping.output(), 0.1);
  ctx.log(`ping: ${p.replies} replies of 120, longest gap ${p.gapS.toFixed(1)} s`);
  assert.ok(p.gapS <= 3, `traffic resumed within 3 s (longest gap ${p.gapS.toFixed(1)} s)`);
  assert.ok(p.last >= 110, 'the ping ran to its end through the new active');

  // strongSwan kept its IKE SA: same SPIs, only one, and it saw no new IKE_SA_INIT.
  const after = await swan.listSas();
  assert.equal(after.length, 1, 'one IKE SA on strongSwan');
  assert.equal(after[0]?.initiatorSpi, before.initiatorSpi, 'SPIi unchanged');
  assert.equal(after[0]?.responderSpi, before.responderSpi, 'SPIr unchanged');
  assert.equal(after[0]?.children[0]?.spiIn, before.children[0]?.spiIn, 'CHILD SA unchanged');
  assert.equal((await swan.grep(/initiating IKE_SA ha\[/)).length, 1, 'strongSwan initiated exactly one IKE SA');

  // Rekeys on the new active: CHILD, then IKE (strongSwan initiates both), then traffic.
  await swan.rekey({ child: 'net' });
  await swan.waitForSa((s) => s[0]?.children.find((c) => c.state === 'INSTALLED' && c.spiIn !== before.children[0]?.spiIn), 10_000, 'CHILD SA rekeyed');
  await swan.rekey({ ike: 'ha' });
  const rekeyed = await swan.waitForSa((s) => s.find((x) => x.state === 'ESTABLISHED' && x.initiatorSpi !== before.initiatorSpi), 10_000, 'IKE SA rekeyed');
  ctx.log(`after rekeys: IKE SA ${rekeyed.initiatorSpi}_i ${rekeyed.responderSpi}_r`);
  const r1 = await lab.swan.ping('10.1.0.1', { count: 3, source: '10.2.0.1' });
  assert.equal(r1.received, 3, 'ping after the rekeys on the new active');

  // From the capture, decrypted with the keys from charon's log: the first CHILD SA's outbound SPI (the gateways'
  // side) carried packets from both gateways, every one decrypts to the tunnelled ping reply, and no sequence
  // number appeared twice on it; one IKE_SA_INIT exchange in all.
  const packets = await decodeCapture(await capture.stop(), keysFromCharonLog(await swan.log(), [before]));
  const firstOut = before.children[0]?.spiIn ?? '';
  const fromGw = packets.filter((x) => x.kind === 'ESP' && x.src === FLOATING && x.espSpi?.replace(/^0x/, '') === firstOut.replace(/^0x/, ''));
  // (tshark sometimes shows no inner header for the first packet after the takeover, a 282-byte one: it is still
  // decrypted with the SA's keys, which is the point here.)
  const undecrypted = fromGw.filter((x) => !x.decrypted || (x.inner !== undefined && (x.inner.src !== '10.1.0.1' || x.inner.dst !== '10.2.0.1')));
  assert.equal(undecrypted.length, 0, `every ESP packet from the gateways decrypts with the SA's keys (to 10.1.0.1 > 10.2.0.1) (${undecrypted.length} did not: ${undecrypted.map((x) => `seq ${x.espSeq} ${x.decrypted} ${x.inner?.src}>${x.inner?.dst} ${x.inner?.protocol} ${x.info}`).join("; ")})`);
  const seqs = fromGw.map((x) => x.espSeq ?? -1);
  assert.ok(seqs.length > 20, `ESP from the gateways on ${firstOut} captured (${seqs.length})`);
  assert.equal(new Set(seqs).size, seqs.length, 'no ESP sequence number sent twice on the CHILD SA that survived the takeover');
  const jump = seqs.findIndex((v, i) => i > 0 && v > (seqs[i - 1] ?? 0) + 1000);
  ctx.log(`ESP ${firstOut}: ${seqs.length} packets, seq ${seqs[0]}..${seqs[jump - 1]} from gwa, then ${seqs[jump]}.. from gwb`);
  assert.ok(jump > 0, 'the takeover shows as a jump of the sequence numbers past the gap');
  assert.equal(packets.filter((x) => x.exchange === 'IKE_SA_INIT').length, 2, 'one IKE_SA_INIT request and response in all');
  const deletesBefore = (await swan.grep(/received DELETE|deleting IKE_SA/)).length;

  // Fail-back: gwa returns as standby; SIGTERM on gwb hands over (no Deletes), gwa takes over.
  const a2 = await startHaNode(ctx, lab, 'a');
  await waitFor('gwa standby', async () => (a2.ha()?.role === 'standby' ? true : undefined), 5000);
  await waitReplicated(lab, 1);
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(await b.peer.stop(5000), 0, 'gwb exits 0 after the hand-over');
  await a2.peer.waitForLog(/ha: active with token 3: took over 1 IKE SA\(s\), 1 CHILD SA\(s\)/, 10_000);
  const r2 = await lab.swan.ping('10.1.0.1', { count: 5, source: '10.2.0.1', intervalS: 0.2 });
  assert.ok(r2.received >= 4, `ping after fail-back (${r2.received}/5)`);
  const back = await swan.listSas();
  assert.equal(back.length, 1, 'still one IKE SA on strongSwan after fail-back');
  assert.equal(back[0]?.initiatorSpi, rekeyed.initiatorSpi, 'fail-back kept the rekeyed IKE SA');
  assert.equal((await swan.grep(/received DELETE|deleting IKE_SA/)).length, deletesBefore, 'the hand-over sent strongSwan no Delete');
}
