/**
 * Shared by the MOBIKE and address-change scenarios (issue 15: 70-73): two hosts joined by two veths (a laptop's
 * two uplinks), a continuous ping through the tunnel, and when it resumed after an address change.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sleep } from './exec.js';
import type { Netns, NetnsLab } from './netns.js';
import { spawnInNetns } from './process.js';
import type { ScenarioContext } from './scenario.js';
import type { StrongswanPeer } from './strongswan.js';
import { mirror, pskSwanctlConf, type PskConnection } from './swanctl-conf.js';
import type { IkeSaInfo } from './swanctl-output.js';
import type { Host, TwoHosts } from './topology.js';
// The cygnet side of the PSK scenarios (the runner only runs scenario files' run(); their helpers are shared).
import { type CygnetSide, establishedCygnet, startCygnet } from '../scenarios/20-cygnet-psk-responder.js';

export interface MobikeHosts extends TwoHosts {
  /** The side with two uplinks (eth0 preferred, eth1 the fallback) to the other's fixed address. */
  mover: Host & { uplinks: readonly [string, string] };
  /** The other side: its IKE address (`outer4`) lives on lo, reached over either link. */
  fixed: Host;
}

/**
 * left and right joined by two veths (eth0: 192.0.2.0/24, eth1: 198.51.100.0/24). The fixed side's IKE address
 * (203.0.113.x on lo) is routed from the mover over eth0 (metric 100) and eth1 (metric 200); the mover's IKE
 * address is whichever uplink address the kernel picks. Inner addresses on lo: 10.1.0.1 (left), 10.2.0.1 (right).
 */
export async function mobikeHosts(lab: NetnsLab, mover: 'left' | 'right'): Promise<MobikeHosts> {
  const l = await lab.add('left');
  const r = await lab.add('right');
  await lab.veth({ ns: l, ifname: 'eth0', addrs: ['192.0.2.1/24'] }, { ns: r, ifname: 'eth0', addrs: ['192.0.2.2/24'] });
  await lab.veth({ ns: l, ifname: 'eth1', addrs: ['198.51.100.1/24'] }, { ns: r, ifname: 'eth1', addrs: ['198.51.100.2/24'] });
  const at = (ns: Netns, i: 1 | 2) => ({ ns, outer6: '', inner4: `10.${i}.0.1`, inner6: `fd00:${i}::1` });
  const moverNs = mover === 'left' ? l : r;
  const fixedNs = mover === 'left' ? r : l;
  const mi = mover === 'left' ? 1 : 2;
  const fi = mover === 'left' ? 2 : 1;
  const m = { ...at(moverNs, mi), outer4: `192.0.2.${mi}`, uplinks: [`192.0.2.${mi}`, `198.51.100.${mi}`] as const };
  const f = { ...at(fixedNs, fi), outer4: `203.0.113.${fi}` };
  await fixedNs.addAddress('lo', `${f.outer4}/32`);
  await moverNs.addRoute(`${f.outer4}/32`, ['via', `192.0.2.${fi}`, 'dev', 'eth0', 'metric', '100']);
  await moverNs.addRoute(`${f.outer4}/32`, ['via', `198.51.100.${fi}`, 'dev', 'eth1', 'metric', '200']);
  for (const h of [m, f]) {
    await h.ns.addAddress('lo', `${h.inner4}/32`);
    await h.ns.addAddress('lo', `${h.inner6}/128`);
  }
  const left = mover === 'left' ? m : f;
  const right = mover === 'left' ? f : m;
  return { left, right, mover: m, fixed: f };
}

/** `ping -D -i 0.1` in the background: the times (ms since epoch) replies came back. */
export interface ContinuousPing {
  /** Times of replies so far. */
  replies(): Promise<number[]>;
  stop(): Promise<void>;
}

export async function continuousPing(ctx: ScenarioContext, ns: Netns, source: string, dst: string, label: string): Promise<ContinuousPing> {
  const logFile = join(await ctx.subdir(label), 'ping.log');
  const proc = spawnInNetns(ns, 'ping', ['-n', '-D', '-i', '0.1', '-W', '1', '-I', source, dst], { logFile });
  const replies = async (): Promise<number[]> => {
    const text = await readFile(logFile, 'utf8').catch(() => '');
    return [...text.matchAll(/^\[(\d+\.\d+)\] \d+ bytes from/gm)].map((m) => Math.round(Number(m[1]) * 1000));
  };
  return { replies, stop: async () => void (await proc.stop(1000)) };
}

/** The first reply after `t` and how long after `t` it came (ms); also the longest gap between replies around it. */
export async function resumedAfter(ping: ContinuousPing, t: number, withinMs: number): Promise<{ afterMs: number; gapMs: number }> {
  const deadline = Date.now() + withinMs + 3000;
  for (;;) {
    const r = await ping.replies();
    const first = r.find((x) => x > t);
    if (first !== undefined) {
      const before = r.filter((x) => x <= t).at(-1) ?? t;
      return { afterMs: first - t, gapMs: first - before };
    }
    if (Date.now() > deadline) throw new Error(`no ping reply within ${withinMs + 3000} ms after the move (${r.length} replies before)`);
    await sleep(100);
  }
}

/** cygnet (left, TUN cyg0) established with charon (right) over eth0, as roamingCygnet leaves them. */
export interface RoamingPair {
  h: MobikeHosts;
  swan: StrongswanPeer;
  cyg: CygnetSide;
  /** cygnet's status-file view and charon's --list-sas view of the IKE SA once established. */
  ci: NonNullable<ReturnType<typeof establishedCygnet>>;
  si: IkeSaInfo;
}

/**
 * mobikeHosts with cygnet the mover (left) initiating a PSK connection 'cyg' (child 'net', 10.1.0.1 <-> 10.2.0.1)
 * to charon at 203.0.113.2 (mobike = yes there): `mobike` on cygnet's side; `localAddrs` cygnet's local_addrs, or
 * none at all (strongSwan's default, %any). Returns once both sides list the SA on eth0 and cygnet's route is in.
 */
export async function roamingCygnet(
  ctx: ScenarioContext,
  o: { mobike: 'yes' | 'no'; localAddrs?: string; extra?: Record<string, string | number>; cygnetArgs?: readonly string[] },
): Promise<RoamingPair> {
  const h = await mobikeHosts(ctx.lab, 'left');
  const conn: PskConnection = {
    name: 'cyg',
    localAddrs: o.localAddrs ?? '%any',
    remoteAddrs: h.fixed.outer4,
    localId: 'cygnet@cygnet.test',
    remoteId: 'swan@cygnet.test',
    proposals: 'aes128gcm16-prfsha256-x25519',
    secret: 'mobike-psk',
    child: { name: 'net', localTs: `${h.left.inner4}/32`, remoteTs: `${h.right.inner4}/32`, espProposals: 'aes128gcm16', startAction: 'start' },
    extra: { mobike: o.mobike },
  };
  const theirs = mirror(conn);
  // Options of cygnet's side only (e.g. dpd_delay): charon's connection stays as mirror() makes it.
  if (o.extra) conn.extra = { ...conn.extra, ...o.extra };
  const swan = await ctx.startStrongswan({
    ns: h.right.ns,
    swanctlConf: pskSwanctlConf({ ...theirs, localAddrs: h.fixed.outer4, remoteAddrs: '%any', child: { ...theirs.child, startAction: 'none' }, extra: { mobike: 'yes' } }),
  });
  await swan.loadAll();
  const conf = pskSwanctlConf(conn);
  const cyg = await startCygnet(ctx, h, o.localAddrs === undefined ? conf.replace(/^\s*local_addrs = .*\n/m, '') : conf, ['--tun', 'cyg0', '--debug', 'ike 2, net 2, esp 2, dmn 2, knl 2', ...(o.cygnetArgs ?? [])]);
  const [ci, si] = await Promise.all([cyg.waitFor('SA established', establishedCygnet), swan.waitEstablished('cyg', 'net')]);
  assert.equal(ci.local, '192.0.2.1[4500]', 'cygnet starts on eth0');
  assert.equal(si.remoteHost, '192.0.2.1');
  assert.equal(ci.spiI, si.initiatorSpi);
  assert.equal(ci.spiR, si.responderSpi);
  await cyg.peer.waitForLog(/installed route 10\.2\.0\.1\/32 dev cyg0/, 3000);
  return { h, swan, cyg, ci, si };
}

/**
 * The PSK connection of the cygnet <-> cygnet MOBIKE scenarios (74, 95b), as the mover (left) initiates it to the
 * fixed side: ids left@ / right@cygnet.test, child 'net' between the inner addresses; `extra` its options
 * (mobike, encap).
 */
export function moverConnection(h: MobikeHosts, extra: Record<string, string>): PskConnection {
  return {
    name: 'cyg',
    localAddrs: '%any',
    remoteAddrs: h.fixed.outer4,
    localId: 'left@cygnet.test',
    remoteId: 'right@cygnet.test',
    proposals: 'aes128gcm16-prfsha256-x25519',
    secret: 'mobike-psk',
    child: { name: 'net', localTs: `${h.left.inner4}/32`, remoteTs: `${h.right.inner4}/32`, espProposals: 'aes128gcm16', startAction: 'start' },
    extra,
  };
}

/** An IKE SA's SPIs and its CHILD SAs' SPIs as one line: "the same SA" is the same line before and after a move. */
export function spiSummary(s: { spiI: string; spiR: string; children: readonly { spiIn: string; spiOut: string }[] }): string {
  return `${s.spiI}_i ${s.spiR}_r, CHILD ${s.children.map((c) => `${c.spiIn}_i ${c.spiOut}_o`).join(' ')}`;
}
