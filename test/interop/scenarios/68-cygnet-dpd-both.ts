/**
 * Simultaneous DPD from both sides (issue 15, RFC 7296 2.4): cygnet and strongSwan both run dpd_delay = 2s. The
 * path is cut both ways (nftables in each namespace), so each side's liveness check goes unanswered and each
 * retransmits its own empty INFORMATIONAL request (own message IDs, RFC 7296 2.3). The path comes back before
 * either gives up (retransmissions 1 s x 1.4, 4 tries, about 11 s): the crossing requests are both answered,
 * and the IKE SA and CHILD SA survive on both sides with the same SPIs, with no Delete and no new IKE_SA_INIT.
 */
import assert from 'node:assert/strict';
import { waitFor } from '../lib/exec.js';
import type { ScenarioContext } from '../lib/scenario.js';
import { mirror, pskSwanctlConf } from '../lib/swanctl-conf.js';
import { twoHosts } from '../lib/topology.js';
import { assertSameSa, cygnetConnection, establishedCygnet, startCygnet } from './20-cygnet-psk-responder.js';

export const name = 'cygnet-dpd-both';
export const timeoutMs = 45_000;

export async function run(ctx: ScenarioContext): Promise<void> {
  const h = await twoHosts(ctx.lab);
  const base = cygnetConnection(h, { proposals: 'aes128gcm16-prfsha256-x25519', esp: 'aes128gcm16', startAction: 'start' });
  const conn = { ...base, extra: { dpd_delay: '2s' }, child: { ...base.child, extra: { dpd_action: 'restart' } } };
  const theirs = mirror(base);
  const swan = await ctx.startStrongswan({
    ns: h.right.ns,
    swanctlConf: pskSwanctlConf({ ...theirs, extra: { dpd_delay: '2s' }, child: { ...theirs.child, startAction: 'none', extra: { dpd_action: 'clear' } } }),
    charonOptions: 'retransmit_timeout = 1\n  retransmit_base = 1.4\n  retransmit_tries = 4',
  });
  await swan.loadAll();
  const cyg = await startCygnet(ctx, h, pskSwanctlConf(conn), ['--retransmit-timeout', '1', '--retransmit-base', '1.4', '--retransmit-tries', '4']);
  const [ci, si] = await Promise.all([cyg.waitFor('SA established', establishedCygnet), swan.waitEstablished('cyg', 'net')]);
  assertSameSa(ci, si, { suite: 'AES_GCM_16-128/PRF_HMAC_SHA2_256/CURVE_25519', espSuite: 'AES_GCM_16-128', cygnetInitiated: true, h });

  // Cut both ways: nothing from the other side reaches either peer.
  const unblock = [await h.left.ns.block(`ip saddr ${h.right.outer4}`), await h.right.ns.block(`ip saddr ${h.left.outer4}`)];
  const cutAt = Date.now();
  const RETRANSMIT = /retransmit 1 of request with message ID \d+/;
  const swanBefore = (await swan.grep(RETRANSMIT)).length;
  const cygBefore = (await cyg.peer.grep(RETRANSMIT)).length;
  // Each side's own liveness check is out and retransmitted at least once while the path is down.
  await cyg.peer.waitForLog(/sending DPD request/, 8000);
  await waitFor('strongSwan retransmits its DPD', async () => ((await swan.grep(RETRANSMIT)).length > swanBefore ? true : undefined), 8000, 100);
  await waitFor('cygnet retransmits its DPD', async () => ((await cyg.peer.grep(RETRANSMIT)).length > cygBefore ? true : undefined), 8000, 100);
  for (const u of unblock) await u();
  ctx.log(`path down for ${((Date.now() - cutAt) / 1000).toFixed(1)} s; both sides had sent and retransmitted a DPD request`);

  // Both checks answered: strongSwan parsed cygnet's empty request and its own empty response; cygnet too.
  await cyg.peer.waitForLog(/liveness check answered/, 10_000);
  await swan.waitForLog(/parsed INFORMATIONAL response \d+ \[\s*\]/, 10_000);
  assert.ok((await swan.grep(/parsed INFORMATIONAL request \d+ \[\s*\]/)).length > 0, "strongSwan received cygnet's DPD request");
  assert.ok((await cyg.peer.grep(/received INFORMATIONAL request \d+ \[\s*\]/)).length > 0, "cygnet received strongSwan's DPD request");
  assert.equal((await swan.grep(/giving up after/)).length, 0, 'strongSwan did not give up');
  assert.equal((await cyg.peer.grep(/giving up after|did not answer DPD/)).length, 0, 'cygnet did not give up');

  // The same SAs on both sides, nothing torn down or started again.
  const sAfter = await swan.waitEstablished('cyg', 'net');
  const cAfter = await cyg.waitFor('SA still established', establishedCygnet);
  assert.equal(sAfter.initiatorSpi, si.initiatorSpi, 'strongSwan: the same IKE SA');
  assert.equal(cAfter.spiI, ci.spiI, 'cygnet: the same IKE SA');
  assertSameSa(cAfter, sAfter, { suite: 'AES_GCM_16-128/PRF_HMAC_SHA2_256/CURVE_25519', espSuite: 'AES_GCM_16-128', cygnetInitiated: true, h });
  assert.equal((await swan.listSas()).length, 1, 'strongSwan: one IKE SA');
  assert.equal((await swan.grep(/parsed IKE_SA_INIT request/)).length, 1, 'no second IKE_SA_INIT');
  assert.equal((await swan.grep(/deleting IKE_SA|received DELETE/)).length, 0, 'no Delete');
}
