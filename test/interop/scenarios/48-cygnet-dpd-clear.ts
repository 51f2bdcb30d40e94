/**
 * Dead peer detection (RFC 7296 2.4) in cygnet with dpd_action = clear (43 covers restart): strongSwan is
 * SIGKILLed (no Delete); cygnet (dpd_delay = 1s, retransmissions shortened by --settings charon.retransmit_*)
 * sends its liveness check, retransmits, declares the peer dead, removes the IKE and CHILD SA and stays clear:
 * no new IKE_SA_INIT, even once a new strongSwan is listening.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ScenarioContext } from '../lib/scenario.js';
import { mirror, pskSwanctlConf } from '../lib/swanctl-conf.js';
import { twoHosts } from '../lib/topology.js';
import { assertSameSa, cygnetConnection, establishedCygnet, startCygnet } from './20-cygnet-psk-responder.js';

export const name = 'cygnet-dpd-clear';
export const timeoutMs = 30_000;

export async function run(ctx: ScenarioContext): Promise<void> {
  const h = await twoHosts(ctx.lab);
  const base = cygnetConnection(h, { proposals: 'aes128gcm16-prfsha256-x25519', esp: 'aes128gcm16', startAction: 'start' });
  const conn = { ...base, extra: { dpd_delay: '1s' }, child: { ...base.child, extra: { dpd_action: 'clear' } } };
  const theirs = mirror(base);
  const swanConf = pskSwanctlConf({ ...theirs, child: { ...theirs.child, startAction: 'none' } });
  const swan1 = await ctx.startStrongswan({ ns: h.right.ns, swanctlConf: swanConf, label: 'right-1' });
  await swan1.loadAll();
  // The retransmission knobs come from a strongswan.conf-syntax settings file this time (cygnet daemon --settings).
  const settings = join(await ctx.subdir('settings'), 'strongswan.conf');
  await writeFile(settings, 'charon {\n  retransmit_timeout = 0.5\n  retransmit_base = 1.4\n  retransmit_tries = 2\n}\n');
  const cyg = await startCygnet(ctx, h, pskSwanctlConf(conn), ['--settings', settings]);
  const [ci, si] = await Promise.all([cyg.waitFor('SA established', establishedCygnet), swan1.waitEstablished('cyg', 'net')]);
  assertSameSa(ci, si, { suite: 'AES_GCM_16-128/PRF_HMAC_SHA2_256/CURVE_25519', espSuite: 'AES_GCM_16-128', cygnetInitiated: true, h });
  await cyg.peer.waitForLog(`loaded settings from ${settings}`, 1000);

  const killedAt = Date.now();
  await swan1.crash();
  const swan2 = await ctx.startStrongswan({ ns: h.right.ns, swanctlConf: swanConf, label: 'right-2' });
  await swan2.loadAll();
  await cyg.peer.waitForLog(/did not answer DPD/, 10_000);
  await cyg.waitFor('the dead SA removed', (s) => s.ikeSas.length === 0 || undefined, 5000);
  ctx.log(`cygnet cleared the SA ${((Date.now() - killedAt) / 1000).toFixed(1)} s after strongSwan was killed`);
  const retransmits = await cyg.peer.grep(/retransmit \d+ of request with message ID \d+/);
  assert.ok(retransmits.length >= 2, `cygnet retransmitted its DPD (${retransmits.length} lines)`);

  // dpd_action = clear: no new SA from either side, a few seconds on.
  await new Promise((r) => setTimeout(r, 4000));
  assert.equal(cyg.status()?.ikeSas.length, 0, 'cygnet stays clear');
  assert.equal((await cyg.peer.grep(/initiating IKE_SA/)).length, 1, 'cygnet initiated only the first SA');
  assert.equal((await swan2.listSas()).length, 0, 'the new strongSwan saw no IKE_SA_INIT');
  assert.equal((await swan2.grep(/is initiating an IKE_SA/)).length, 0, 'the new strongSwan was not contacted');
}
