/**
 * Dead peer detection (RFC 7296 2.4) by strongSwan when cygnet dies: strongSwan (dpd_delay = 1s, dpd_action =
 * clear, retransmissions shortened in strongswan.conf) has an SA with cygnet; cygnet is SIGKILLed (no Delete).
 * strongSwan's empty INFORMATIONAL goes unanswered, it gives up after its retransmissions and clears the IKE and
 * CHILD SA, and does not initiate again (clear, not restart).
 *
 * Asserted on both sides before the kill (same SPIs), then strongSwan's log (DPD, retransmits, giving up) and
 * --list-sas (empty, and still empty a few seconds later).
 */
import assert from 'node:assert/strict';
import type { ScenarioContext } from '../lib/scenario.js';
import { mirror, pskSwanctlConf } from '../lib/swanctl-conf.js';
import { twoHosts } from '../lib/topology.js';
import { assertSameSa, cygnetConnection, establishedCygnet, startCygnet } from './20-cygnet-psk-responder.js';

export const name = 'cygnet-killed-dpd';
export const timeoutMs = 30_000;

export async function run(ctx: ScenarioContext): Promise<void> {
  const h = await twoHosts(ctx.lab);
  const conn = cygnetConnection(h, { proposals: 'aes128gcm16-prfsha256-x25519', esp: 'aes128gcm16', startAction: 'start' });
  const theirs = mirror(conn);
  const swan = await ctx.startStrongswan({
    ns: h.right.ns,
    swanctlConf: pskSwanctlConf({ ...theirs, extra: { dpd_delay: '1s' }, child: { ...theirs.child, startAction: 'none', extra: { dpd_action: 'clear' } } }),
    charonOptions: 'retransmit_timeout = 0.5\n  retransmit_base = 1.4\n  retransmit_tries = 2',
  });
  await swan.loadAll();
  const cyg = await startCygnet(ctx, h, pskSwanctlConf(conn));
  const [ci, si] = await Promise.all([cyg.waitFor('SA established', establishedCygnet), swan.waitEstablished('cyg', 'net')]);
  assertSameSa(ci, si, { suite: 'AES_GCM_16-128/PRF_HMAC_SHA2_256/CURVE_25519', espSuite: 'AES_GCM_16-128', cygnetInitiated: true, h });
  // Alive: strongSwan's DPD is answered while cygnet runs.
  await cyg.peer.waitForLog(/received INFORMATIONAL request \d+ \[\s*\]/, 5000);

  const killedAt = Date.now();
  await cyg.peer.crash();
  await swan.waitNoSas('cyg', 15_000);
  const cleared = (Date.now() - killedAt) / 1000;
  ctx.log(`strongSwan cleared the SA ${cleared.toFixed(1)} s after cygnet was killed`);
  await swan.waitForLog(/giving up after 2 retransmits/, 2000);
  const log = await swan.log();
  assert.match(log, /retransmit 1 of request with message ID \d+/, 'strongSwan retransmitted its DPD');
  assert.ok(cleared < 10, `cleared within dpd_delay + retransmissions (${cleared.toFixed(1)} s)`);
  // dpd_action = clear: nothing comes back by itself.
  await new Promise((r) => setTimeout(r, 3000));
  assert.equal((await swan.listSas()).length, 0, 'strongSwan stays clear');
  assert.equal((await swan.grep(/initiating IKE_SA/)).length, 0, 'strongSwan did not initiate again');
}
