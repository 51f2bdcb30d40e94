/**
 * RFC 8784 post-quantum preshared keys (issue 18) in two namespaces:
 *
 *   HDR, SAi1, KEi, Ni, N(USE_PPK)  -->  <--  HDR, SAr1, KEr, Nr, N(USE_PPK)
 *   HDR, SK {IDi, AUTH, SAi2, TSi, TSr, N(PPK_IDENTITY), [N(NO_PPK_AUTH)]}  -->  <--  HDR, SK {IDr, AUTH, ..., N(PPK_IDENTITY)}
 *
 * 1. cygnet <-> cygnet, ppk_required = yes on both, real TUNs: up with the PPK on both (status file ppkId, logs,
 *    `swanctl --list-sas --raw` over cygnet's vici: ppk=yes ppk-id=pq1), pings both ways (the CHILD keys come from
 *    the PPK-mixed SK_d on both sides).
 * 2. cygnet <-> cygnet, optional on both with different PPK IDs: the responder knows no 'pq-left', takes NO_PPK_AUTH;
 *    up without a PPK, both sides say so.
 * 3. cygnet <-> cygnet, ppk_required = yes on the responder only, initiator without PPK: AUTHENTICATION_FAILED, the
 *    responder names the missing USE_PPK.
 * 4. cygnet -> strongSwan 5.9.8 (charon has RFC 8784 since 5.7: ppk_id, ppk_required, secrets ppk) with the PPK
 *    required on both: up, charon logs "using PPK for PPK_ID", same SPIs, pings through cygnet's TUN and charon's
 *    libipsec (CHILD keys from the mixed SK_d agree); charon rekeys the IKE SA, then the CHILD SA (both derive from
 *    the mixed SK_d, no PPK again): cygnet keeps the PPK ID on the new IKE SA and pings pass. strongSwan -> cygnet
 *    the same way.
 * 5. cygnet (ppk_required = no) -> strongSwan without any PPK: charon sends no USE_PPK, cygnet logs that it goes on
 *    without the PPK, the SA is up.
 * 6. NO_PPK_AUTH across implementations: optional PPK on both, each side knowing only its own PPK ID; cygnet ->
 *    charon (charon verifies cygnet's NO_PPK_AUTH) and charon -> cygnet (cygnet verifies charon's).
 */
import assert from 'node:assert/strict';
import type { ScenarioContext } from '../lib/scenario.js';
import { mirror, pskSwanctlConf, type PskConnection } from '../lib/swanctl-conf.js';
import { twoHosts, type TwoHosts } from '../lib/topology.js';
import { assertSameSa, cygnetConnection, establishedCygnet, startCygnet, type CygnetSide } from './20-cygnet-psk-responder.js';

export const name = 'cygnet-ppk';
export const timeoutMs = 180_000;

/** 32 random-looking octets, as RFC 8784 6 asks (256 bits). Test material only. */
const PPK = '0x6b1f0c4e9d2a7753c08e1f4d2a9b6c3e5f7a1d0b8c2e4f6a9d3b5c7e1f0a2b4c';
const OTHER_PPK = '0x1d2c3b4a59687766554433221100ffeeddccbbaa99887766554433221100ffee';

/** Adds PPK secrets to the configuration's secrets section (pskSwanctlConf writes one for the PSK). */
function withPpks(conf: string, ppks: readonly { id: string; secret: string }[]): string {
  const sections = ppks.map((p, i) => `  ppk-${i + 1} {\n    id = ${p.id}\n    secret = ${p.secret}\n  }\n`).join('');
  return conf.replace('secrets {\n', `secrets {\n${sections}`);
}

const base = (h: TwoHosts): PskConnection => cygnetConnection(h, { proposals: 'aes128gcm16-prfsha256-x25519', esp: 'aes128gcm16', startAction: 'start' });

interface Side {
  extra: Record<string, string>;
  ppks: { id: string; secret: string }[];
}

/** cygnet responder on the right (started first), cygnet initiator on the left; TUNs only when asked. */
async function cygnetPair(ctx: ScenarioContext, h: TwoHosts, left: Side, right: Side, tun: boolean): Promise<{ l: CygnetSide; r: CygnetSide }> {
  const conn = base(h);
  const theirs = mirror(conn);
  const rConf = withPpks(pskSwanctlConf({ ...theirs, extra: right.extra, child: { ...theirs.child, startAction: 'none' } }), right.ppks);
  const lConf = withPpks(pskSwanctlConf({ ...conn, extra: left.extra }), left.ppks);
  const r = await startCygnet(ctx, { left: h.right, right: h.left } as TwoHosts, rConf, tun ? ['--tun', 'cyg1'] : []);
  const l = await startCygnet(ctx, h, lConf, tun ? ['--tun', 'cyg0'] : []);
  return { l, r };
}

async function stopBoth(t: { l: CygnetSide; r: CygnetSide }): Promise<void> {
  assert.equal(await t.l.peer.stop(5000), 0, 'left exits 0 on SIGTERM');
  assert.equal(await t.r.peer.stop(5000), 0, 'right exits 0 on SIGTERM');
}

export async function run(ctx: ScenarioContext): Promise<void> {
  const h = await twoHosts(ctx.lab);
  const pq1 = [{ id: 'pq1', secret: PPK }];

  // 1. Required on both, with traffic.
  {
    const t = await cygnetPair(ctx, h, { extra: { ppk_id: 'pq1', ppk_required: 'yes' }, ppks: pq1 }, { extra: { ppk_required: 'yes' }, ppks: pq1 }, true);
    const [li, ri] = await Promise.all([t.l.waitFor('left established with PPK', establishedCygnet, 15_000), t.r.waitFor('right established with PPK', establishedCygnet, 15_000)]);
    assert.equal(li.spiI, ri.spiI);
    assert.equal(li.ppkId, 'pq1', 'left status: ppkId');
    assert.equal(ri.ppkId, 'pq1', 'right status: ppkId');
    await t.l.peer.waitForLog(/PPK 'pq1' used \(RFC 8784\)/, 2000);
    await t.r.peer.waitForLog(/PPK 'pq1' used \(RFC 8784\)/, 2000);
    await Promise.all([t.l.peer.waitForLog(/installed route 10\.2\.0\.1\/32 dev cyg0/, 5000), t.r.peer.waitForLog(/installed route 10\.1\.0\.1\/32 dev cyg1/, 5000)]);
    const p = await h.left.ns.ping(h.right.inner4, { count: 3, source: h.left.inner4 });
    assert.equal(p.received, 3, `ping left -> right with PPK-mixed CHILD keys: ${p.output}`);
    const b = await h.right.ns.ping(h.left.inner4, { count: 3, source: h.right.inner4 });
    assert.equal(b.received, 3, `ping right -> left: ${b.output}`);
    assert.equal((await t.l.peer.grep(PPK.slice(2))).length + (await t.r.peer.grep(PPK.slice(2))).length, 0, 'the PPK never appears in a log');
    // list-sas over cygnet's vici socket with Debian's swanctl: the raw message carries ppk = yes and ppk-id.
    const raw = await t.l.peer.swanctl(['--list-sas', '--raw']);
    assert.match(raw.stdout, /ppk=yes ppk-id=pq1/, `swanctl --list-sas --raw against cygnet:\n${raw.stdout}`);
    assert.doesNotMatch(raw.stdout, new RegExp(PPK.slice(2), 'i'), 'list-sas never shows the PPK');
    ctx.log(`1. required/required: IKE SA ${li.spiI} with PPK 'pq1' on both, pings 3/3 both ways`);
    await stopBoth(t);
  }

  // 2. Optional on both, different PPK IDs: NO_PPK_AUTH fallback.
  {
    const t = await cygnetPair(ctx, h, { extra: { ppk_id: 'pq-left' }, ppks: [{ id: 'pq-left', secret: PPK }] }, { extra: { ppk_id: 'pq-right' }, ppks: [{ id: 'pq-right', secret: OTHER_PPK }] }, false);
    const [li, ri] = await Promise.all([t.l.waitFor('left established', establishedCygnet, 15_000), t.r.waitFor('right established', establishedCygnet, 15_000)]);
    assert.equal(li.ppkId, undefined, 'no PPK on the left');
    assert.equal(ri.ppkId, undefined, 'no PPK on the right');
    const rl = await t.r.peer.waitForLog(/PPK 'pq-left' unknown here, authenticating the peer with NO_PPK_AUTH/, 2000);
    const ll = await t.l.peer.waitForLog(/peer did not use PPK 'pq-left' and accepted NO_PPK_AUTH/, 2000);
    ctx.log(`2. optional, mismatched IDs: up without PPK; responder: ${rl.trim()}; initiator: ${ll.trim()}`);
    await stopBoth(t);
  }

  // 3. Required on the responder, none on the initiator.
  {
    const t = await cygnetPair(ctx, h, { extra: {}, ppks: [] }, { extra: { ppk_required: 'yes' }, ppks: pq1 }, false);
    const rl = await t.r.peer.waitForLog(/PPK required but the initiator did not send USE_PPK/, 15_000);
    const ll = await t.l.peer.waitForLog(/AUTHENTICATION_FAILED/, 5000);
    assert.ok(!t.r.status()?.ikeSas.some((x) => x.state === 'ESTABLISHED'), 'no SA on the responder');
    ctx.log(`3. required on the responder only: refused; responder: ${rl.trim()}; initiator: ${ll.trim()}`);
    await stopBoth(t);
  }

  // 4. cygnet <-> strongSwan 5.9.8 with the PPK required on both, both directions.
  for (const cygnetInitiates of [true, false]) {
    const conn = cygnetConnection(h, { proposals: 'aes128gcm16-prfsha256-x25519', esp: 'aes128gcm16', startAction: cygnetInitiates ? 'start' : 'none' });
    const theirs = mirror(conn);
    const swanConf = withPpks(pskSwanctlConf({ ...theirs, extra: { ppk_id: 'pq1', ppk_required: 'yes' }, child: { ...theirs.child, startAction: 'none' } }), pq1);
    const swan = await ctx.startStrongswan({ ns: h.right.ns, swanctlConf: swanConf, label: `right-ppk-${cygnetInitiates ? 'r' : 'i'}` });
    await swan.loadAll();
    const cyg = await startCygnet(ctx, h, withPpks(pskSwanctlConf({ ...conn, extra: { ppk_id: 'pq1', ppk_required: 'yes' } }), pq1), ['--tun', 'cyg0']);
    await cyg.peer.waitForLog(/TUN device cyg0/, 5000);
    if (!cygnetInitiates) await swan.initiate('net');
    const [ci, si] = await Promise.all([cyg.waitFor('established with strongSwan', establishedCygnet, 15_000), swan.waitEstablished('cyg', 'net')]);
    assertSameSa(ci, si, { suite: 'AES_GCM_16-128/PRF_HMAC_SHA2_256/CURVE_25519', espSuite: 'AES_GCM_16-128', cygnetInitiated: cygnetInitiates, h });
    assert.equal(ci.ppkId, 'pq1', 'cygnet status: ppkId');
    const sl = await swan.waitForLog(/using PPK for PPK_ID 'pq1'/, 3000);
    await cyg.peer.waitForLog(/PPK 'pq1' used \(RFC 8784\)/, 2000);
    const ping = async (what: string): Promise<void> => {
      await cyg.peer.waitForLog(/installed route 10\.2\.0\.1\/32 dev cyg0/, 5000);
      const out = await h.left.ns.ping(h.right.inner4, { count: 3, source: h.left.inner4 });
      assert.equal(out.received, 3, `ping cygnet -> charon ${what}:\n${out.output}`);
    };
    await ping('with PPK-mixed CHILD keys');
    // IKE SA rekey by charon (RFC 7296 2.18: SKEYSEED from the old, PPK-mixed SK_d), then a CHILD SA rekey on it.
    await swan.rekey({ ike: 'cyg' });
    const c2 = await cyg.waitFor('IKE SA rekeyed by charon', (st) => {
      const x = establishedCygnet(st);
      return x && x.spiI !== ci.spiI ? x : undefined;
    }, 10_000);
    assert.equal(c2.ppkId, 'pq1', 'the rekeyed IKE SA keeps the PPK ID');
    await swan.rekey({ child: 'net' });
    const c3 = await cyg.waitFor('CHILD SA rekeyed by charon', (st) => {
      const x = establishedCygnet(st);
      return x && x.children.length === 1 && x.children[0]!.spiIn !== ci.children[0]!.spiIn ? x : undefined;
    }, 10_000);
    await ping('after the IKE and CHILD rekeys');
    ctx.log(`4. cygnet ${cygnetInitiates ? '->' : '<-'} strongSwan, PPK required on both: up, pings, IKE rekey ${ci.spiI} -> ${c2.spiI} (ppkId ${c2.ppkId}), CHILD rekey ${ci.children[0]!.spiIn} -> ${c3.children[0]!.spiIn}, pings; charon: ${sl.trim()}`);
    assert.equal(await cyg.peer.stop(5000), 0, 'cygnet exits 0');
    await swan.stop();
  }

  // 5. cygnet with ppk_required = no -> strongSwan without any PPK: no USE_PPK from charon, classic SA.
  {
    const conn = base(h);
    const theirs = mirror(conn);
    const swan = await ctx.startStrongswan({ ns: h.right.ns, swanctlConf: pskSwanctlConf({ ...theirs, child: { ...theirs.child, startAction: 'none' } }), label: 'right-no-ppk' });
    await swan.loadAll();
    const cyg = await startCygnet(ctx, h, withPpks(pskSwanctlConf({ ...conn, extra: { ppk_id: 'pq1', ppk_required: 'no' } }), pq1));
    const [ci, si] = await Promise.all([cyg.waitFor('established without PPK', establishedCygnet, 15_000), swan.waitEstablished('cyg', 'net')]);
    assertSameSa(ci, si, { suite: 'AES_GCM_16-128/PRF_HMAC_SHA2_256/CURVE_25519', espSuite: 'AES_GCM_16-128', cygnetInitiated: true, h });
    assert.equal(ci.ppkId, undefined, 'no PPK in the status');
    const cl = await cyg.peer.waitForLog(/peer did not send USE_PPK: not using PPK 'pq1'/, 2000);
    ctx.log(`5. cygnet (ppk_required = no) -> strongSwan without PPK: up without it; cygnet: ${cl.trim()}`);
    assert.equal(await cyg.peer.stop(5000), 0, 'cygnet exits 0');
    await swan.stop();
  }

  // 6. NO_PPK_AUTH both ways between cygnet and charon: each knows only its own PPK (so both send USE_PPK).
  for (const cygnetInitiates of [true, false]) {
    const conn = cygnetConnection(h, { proposals: 'aes128gcm16-prfsha256-x25519', esp: 'aes128gcm16', startAction: cygnetInitiates ? 'start' : 'none' });
    const theirs = mirror(conn);
    const swanConf = withPpks(pskSwanctlConf({ ...theirs, extra: cygnetInitiates ? {} : { ppk_id: 'pq-swan' }, child: { ...theirs.child, startAction: 'none' } }), [{ id: 'pq-swan', secret: OTHER_PPK }]);
    const swan = await ctx.startStrongswan({ ns: h.right.ns, swanctlConf: swanConf, label: `right-noppk-${cygnetInitiates ? 'r' : 'i'}` });
    await swan.loadAll();
    const cyg = await startCygnet(ctx, h, withPpks(pskSwanctlConf({ ...conn, extra: cygnetInitiates ? { ppk_id: 'pq-cyg' } : {} }), [{ id: 'pq-cyg', secret: PPK }]));
    if (!cygnetInitiates) await swan.initiate('net');
    const [ci, si] = await Promise.all([cyg.waitFor('established via NO_PPK_AUTH', establishedCygnet, 15_000), swan.waitEstablished('cyg', 'net')]);
    assertSameSa(ci, si, { suite: 'AES_GCM_16-128/PRF_HMAC_SHA2_256/CURVE_25519', espSuite: 'AES_GCM_16-128', cygnetInitiated: cygnetInitiates, h });
    assert.equal(ci.ppkId, undefined, 'no PPK in the status');
    if (cygnetInitiates) {
      const sl = await swan.waitForLog(/no PPK available, using NO_PPK_AUTH notify/, 3000);
      await cyg.peer.waitForLog(/peer did not use PPK 'pq-cyg' and accepted NO_PPK_AUTH/, 2000);
      ctx.log(`6. cygnet -> strongSwan, unknown PPK ID: charon accepted cygnet's NO_PPK_AUTH: ${sl.trim()}`);
    } else {
      const cl = await cyg.peer.waitForLog(/PPK 'pq-swan' unknown here, authenticating the peer with NO_PPK_AUTH/, 3000);
      ctx.log(`6. strongSwan -> cygnet, unknown PPK ID: cygnet accepted charon's NO_PPK_AUTH: ${cl.trim()}`);
    }
    assert.equal(await cyg.peer.stop(5000), 0, 'cygnet exits 0');
    await swan.stop();
  }
}
