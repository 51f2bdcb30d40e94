/**
 * A strongSwan peer killed and restarted (issue 15; RFC 7296 2.4), cygnet the responder with the default
 * unique = no:
 *  1. strongSwan's new IKE_AUTH carries INITIAL_CONTACT (it holds no IKE SA with cygnet): cygnet deletes the old
 *     IKE SA and its CHILD SA at once, before the new one is even up;
 *  2. restarted again with `unique = never` there, strongSwan sends no INITIAL_CONTACT: cygnet keeps the stale SA
 *     until its DPD (dpd_delay = 2 s, retransmissions 0.5 s x 1.4, 2 tries) finds the old peer gone, within
 *     dpd_delay + the retransmission timeout.
 * Each time no SA is orphaned: cygnet ends with exactly the IKE SA and CHILD SA strongSwan has, same SPIs.
 */
import assert from 'node:assert/strict';
import type { ScenarioContext } from '../lib/scenario.js';
import { mirror, pskSwanctlConf } from '../lib/swanctl-conf.js';
import type { StrongswanPeer } from '../lib/strongswan.js';
import type { IkeSaInfo } from '../lib/swanctl-output.js';
import { twoHosts } from '../lib/topology.js';
import type { DaemonStatus } from '../../../src/daemon/status.js';
import { cygnetConnection, startCygnet, type CygnetSide } from './20-cygnet-psk-responder.js';

export const name = 'cygnet-peer-restart';
export const timeoutMs = 60_000;

/** cygnet's DPD timings: dpd_delay 2 s, then retransmissions at 0.5, 0.5 x 1.4 ... for 2 tries, then dead. */
const DPD_DELAY_MS = 2000;
const RETRANSMIT_TOTAL_MS = 500 + 700 + 980;

/** cygnet holds exactly strongSwan's IKE SA and CHILD SA, nothing else. */
function assertNoOrphans(st: DaemonStatus, swan: IkeSaInfo, what: string): void {
  assert.equal(st.ikeSas.length, 1, `${what}: one IKE SA at cygnet, got ${st.ikeSas.map((s) => `${s.name}[${s.id}] ${s.state}`).join(', ')}`);
  const sa = st.ikeSas[0]!;
  assert.equal(sa.spiI, swan.initiatorSpi, `${what}: the IKE SA is strongSwan's current one`);
  assert.equal(sa.children.length, 1, `${what}: one CHILD SA at cygnet`);
  assert.equal(sa.children[0]!.spiIn, swan.children[0]!.spiOut, `${what}: its CHILD SA is strongSwan's current one`);
}

export async function run(ctx: ScenarioContext): Promise<void> {
  const h = await twoHosts(ctx.lab);
  const base = cygnetConnection(h, { proposals: 'aes128gcm16-prfsha256-x25519', esp: 'aes128gcm16', startAction: 'none' });
  const conn = { ...base, extra: { dpd_delay: '2s' }, child: { ...base.child, extra: { dpd_action: 'clear' } } };
  const theirs = mirror(base);
  const swanConf = pskSwanctlConf(theirs);
  const swanNever = pskSwanctlConf({ ...theirs, extra: { unique: 'never' } });
  const cyg: CygnetSide = await startCygnet(ctx, h, pskSwanctlConf(conn), ['--retransmit-timeout', '0.5', '--retransmit-base', '1.4', '--retransmit-tries', '2']);

  let swan: StrongswanPeer | undefined;
  const start = async (label: string, conf: string): Promise<IkeSaInfo> => {
    swan = await ctx.startStrongswan({ ns: h.right.ns, swanctlConf: conf, label });
    await swan.loadAll();
    await swan.initiate('net');
    return swan.waitEstablished('cyg', 'net');
  };
  const swanOf = (): StrongswanPeer => {
    assert.ok(swan, 'strongSwan started');
    return swan;
  };

  // 0. The first SA.
  const s1 = await start('right-1', swanConf);
  const st1 = await cyg.waitFor('first SA', (s) => (s.ikeSas.some((x) => x.spiI === s1.initiatorSpi && x.children.length === 1) ? s : undefined));
  assertNoOrphans(st1, s1, 'first SA');

  // 1. Killed and restarted: INITIAL_CONTACT clears the old SAs at once.
  await swanOf().crash();
  const s2 = await start('right-2', swanConf);
  assert.ok((await swanOf().grep(/generating IKE_AUTH request 1 \[.*N\(INIT_CONTACT\)/)).length > 0, 'strongSwan sent INITIAL_CONTACT');
  const old1 = s1.initiatorSpi;
  const st2 = await cyg.waitFor('old SA gone at once', (s) => (!s.ikeSas.some((x) => x.spiI === old1) && s.ikeSas.some((x) => x.spiI === s2.initiatorSpi && x.children.length === 1) ? s : undefined), 2000);
  assertNoOrphans(st2, s2, 'after INITIAL_CONTACT');
  await cyg.peer.waitForLog(/deleting stale IKE_SA cyg\[\d+\]: peer sent INITIAL_CONTACT/, 1000);

  // 2. Killed and restarted with unique = never: no INITIAL_CONTACT, cygnet's DPD clears the stale SA.
  await swanOf().crash();
  const s3 = await start('right-3', swanNever);
  const upAt = Date.now();
  assert.equal((await swanOf().grep(/N\(INIT_CONTACT\)/)).length, 0, 'strongSwan (unique = never) sent no INITIAL_CONTACT');
  const old2 = s2.initiatorSpi;
  const both = await cyg.waitFor('new SA beside the stale one', (s) => (s.ikeSas.some((x) => x.spiI === s3.initiatorSpi) ? s : undefined), 2000);
  assert.ok(both.ikeSas.some((x) => x.spiI === old2) || Date.now() - upAt > DPD_DELAY_MS, 'without INITIAL_CONTACT the stale SA stays until DPD');
  const budget = DPD_DELAY_MS + RETRANSMIT_TOTAL_MS + 2500;
  const st3 = await cyg.waitFor('stale SA cleared by DPD', (s) => (!s.ikeSas.some((x) => x.spiI === old2) ? s : undefined), budget);
  const took = Date.now() - upAt;
  ctx.log(`stale SA cleared ${(took / 1000).toFixed(1)} s after the new one came up (dpd_delay ${DPD_DELAY_MS / 1000} s + retransmissions ${RETRANSMIT_TOTAL_MS / 1000} s)`);
  await cyg.peer.waitForLog(/did not answer DPD/, 1000);
  assertNoOrphans(st3, s3, 'after DPD');
  // The live SA survives its own DPD rounds (strongSwan answers them).
  await new Promise((r) => setTimeout(r, DPD_DELAY_MS + 1000));
  const [s3now] = await swanOf().listSas();
  assert.ok(s3now, 'strongSwan still has its SA');
  assertNoOrphans(cyg.status()!, s3now, 'a DPD round later');
}
