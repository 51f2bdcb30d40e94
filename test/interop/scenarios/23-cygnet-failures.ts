/**
 * Failures between cygnet and strongSwan, each side saying the right thing (issue 4):
 *
 * 1. Wrong PSK, strongSwan initiates: cygnet's AUTH check fails, it answers N(AUTHENTICATION_FAILED) and names
 *    the identities and the key; strongSwan logs `received AUTHENTICATION_FAILED notify error`.
 * 2. Wrong PSK, cygnet initiates: strongSwan logs `MAC mismatched` and sends N(AUTH_FAILED); cygnet says the
 *    pre-shared key differs or the peer expects other identities.
 * 3. Proposal mismatch, cygnet initiates: strongSwan answers N(NO_PROP); cygnet logs the notify.
 * 4. Proposal mismatch, strongSwan initiates: cygnet answers NO_PROPOSAL_CHOSEN and says which transform types
 *    differ, listing both offers; strongSwan logs `received NO_PROPOSAL_CHOSEN notify error`.
 * No side keeps an SA in any case.
 */
import assert from 'node:assert/strict';
import type { ScenarioContext } from '../lib/scenario.js';
import { mirror, pskSwanctlConf, type PskConnection } from '../lib/swanctl-conf.js';
import { twoHosts, type TwoHosts } from '../lib/topology.js';
import { cygnetConnection, startCygnet } from './20-cygnet-psk-responder.js';

export const name = 'cygnet-failures';
export const timeoutMs = 60_000;

/** strongSwan's side of `conn`, only responding. */
function swanSide(conn: PskConnection, over: Partial<PskConnection> = {}): string {
  const m = mirror(conn);
  return pskSwanctlConf({ ...m, ...over, child: { ...m.child, startAction: 'none' } });
}

async function pairUp(ctx: ScenarioContext, h: TwoHosts, cygConn: PskConnection, swanConf: string, label: string) {
  const swan = await ctx.startStrongswan({ ns: h.right.ns, swanctlConf: swanConf, label: `right-${label}` });
  await swan.loadAll();
  const cyg = await startCygnet(ctx, h, pskSwanctlConf(cygConn));
  return { swan, cyg };
}

export async function run(ctx: ScenarioContext): Promise<void> {
  const h = await twoHosts(ctx.lab);
  const gcm = { proposals: 'aes128gcm16-prfsha256-x25519', esp: 'aes128gcm16' };

  // 1. Wrong PSK, strongSwan initiates.
  {
    const conn = cygnetConnection(h, gcm);
    const { swan, cyg } = await pairUp(ctx, h, conn, swanSide(conn, { secret: 'not-the-same-secret' }), 'psk1');
    const res = await swan.initiate('net', { allowFail: true, timeoutS: 10 });
    assert.notEqual(res.code, 0, 'strongSwan initiate fails');
    await swan.waitForLog(/received AUTHENTICATION_FAILED notify error/);
    const line = await cyg.peer.waitForLog(/pre-shared key|AUTHENTICATION_FAILED/i, 3000);
    ctx.log(`cygnet (responder, wrong PSK): ${line}`);
    assert.match(line, /swan@cygnet\.test/, 'cygnet names the peer identity');
    assert.deepEqual((await swan.listSas()).filter((s) => s.state === 'ESTABLISHED'), []);
    assert.deepEqual(cyg.status()?.ikeSas ?? [], []);
    await Promise.all([swan.stop(), cyg.peer.stop()]);
  }

  // 2. Wrong PSK, cygnet initiates.
  {
    const conn = cygnetConnection(h, { ...gcm, startAction: 'start' });
    const { swan, cyg } = await pairUp(ctx, h, conn, swanSide(conn, { secret: 'not-the-same-secret' }), 'psk2');
    await swan.waitForLog(/MAC mismatched/);
    const line = await cyg.peer.waitForLog(/AUTHENTICATION_FAILED/, 5000);
    ctx.log(`cygnet (initiator, wrong PSK): ${line}`);
    assert.match(line, /pre-shared key for 'cygnet@cygnet\.test' <-> 'swan@cygnet\.test' differs/, 'cygnet explains the failure');
    assert.ok((await swan.notifies()).inMessages.includes('AUTH_FAILED'), 'strongSwan sent N(AUTH_FAILED)');
    await cyg.waitFor('no SA', (s) => s.ikeSas.length === 0 || undefined, 3000);
    assert.deepEqual((await swan.listSas()).filter((s) => s.state === 'ESTABLISHED'), []);
    await Promise.all([swan.stop(), cyg.peer.stop()]);
  }

  // 3. Proposal mismatch, cygnet initiates.
  {
    const conn = cygnetConnection(h, { ...gcm, startAction: 'start' });
    const { swan, cyg } = await pairUp(ctx, h, conn, swanSide(conn, { proposals: 'aes256-sha256-modp2048' }), 'prop3');
    await swan.waitForLog(/received proposals: IKE:AES_GCM_16_128\/PRF_HMAC_SHA2_256\/CURVE_25519/);
    await swan.waitForLog(/configured proposals: IKE:AES_CBC_256\/HMAC_SHA2_256_128\/PRF_HMAC_SHA2_256\/MODP_2048/);
    assert.ok((await swan.notifies()).inMessages.includes('NO_PROP'), 'strongSwan sent N(NO_PROP)');
    const line = await cyg.peer.waitForLog(/NO_PROPOSAL_CHOSEN/, 5000);
    ctx.log(`cygnet (initiator, no proposal): ${line}`);
    await cyg.waitFor('no SA', (s) => s.ikeSas.length === 0 || undefined, 3000);
    assert.deepEqual(await swan.listSas(), []);
    await Promise.all([swan.stop(), cyg.peer.stop()]);
  }

  // 4. Proposal mismatch, strongSwan initiates.
  {
    const conn = cygnetConnection(h, gcm);
    const { swan, cyg } = await pairUp(ctx, h, conn, swanSide(conn, { proposals: 'aes256-sha256-modp2048' }), 'prop4');
    const res = await swan.initiate('net', { allowFail: true, timeoutS: 10 });
    assert.notEqual(res.code, 0, 'strongSwan initiate fails');
    await swan.waitForLog(/received NO_PROPOSAL_CHOSEN notify error/);
    const why = await cyg.peer.waitForLog(/differs \(we offer/, 3000);
    ctx.log(`cygnet (responder, no proposal): ${why}`);
    assert.match(why, /AES_GCM_16/, 'our offer listed');
    assert.match(why, /AES_CBC/, "the peer's offer listed");
    await cyg.peer.waitForLog(/sending NO_PROPOSAL_CHOSEN/, 3000);
    assert.deepEqual(cyg.status()?.ikeSas ?? [], []);
    await Promise.all([swan.stop(), cyg.peer.stop()]);
  }
}
