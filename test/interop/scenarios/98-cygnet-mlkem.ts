/**
 * Hybrid post-quantum IKE (issue 18): RFC 9370 additional key exchanges with ML-KEM in IKE_INTERMEDIATE (RFC 9242).
 *
 * 1. cygnet <-> cygnet with `x25519-ke1_mlkem768` (then a CHILD rekey with PFS x25519 and an IKE rekey, classic
 *    exchange only, and pings again), then `x25519-ke1_mlkem768-ke2_mlkem1024` (the ML-KEM-1024 key
 *    is fragmented, RFC 9242 3.4): both sides list the suite with KE1_ML_KEM_768 (strongSwan 6's name), the logs show
 *    the IKE_INTERMEDIATE exchanges and IKE_AUTH as message n+1, pings pass both ways through the tunnel.
 * 2. cygnet initiates `x25519-ke1_mlkem768-ke1_none` to strongSwan 5.9.8 (no RFC 9370): the ADDKE transforms are
 *    optional, so the SA comes up with x25519 alone and both print the classic suite.
 * 3. cygnet initiates `x25519-ke1_mlkem768` (required) to strongSwan 5.9.8: strongSwan refuses the proposal with a
 *    Transform Type it does not know (RFC 7296 3.3.6, its log: "no acceptable (6) found"), answers NO_PROPOSAL_CHOSEN,
 *    and cygnet says that its proposals require KE1_ML_KEM_768 and how to make it optional.
 */
import assert from 'node:assert/strict';
import type { ScenarioContext } from '../lib/scenario.js';
import { mirror, pskSwanctlConf, type PskConnection } from '../lib/swanctl-conf.js';
import { twoHosts, type TwoHosts } from '../lib/topology.js';
import { cygnetConnection, establishedCygnet, startCygnet } from './20-cygnet-psk-responder.js';

export const name = 'cygnet-mlkem';
export const timeoutMs = 120_000;

function responderSide(conn: PskConnection): string {
  const m = mirror(conn);
  return pskSwanctlConf({ ...m, child: { ...m.child, startAction: 'none' } });
}

async function cygnetPair(ctx: ScenarioContext, h: TwoHosts, proposals: string, suite: string, intermediates: number, rekey = false): Promise<void> {
  const base = cygnetConnection(h, { proposals, esp: 'aes256gcm16-x25519', startAction: 'start' });
  // With `rekey`: the initiator rekeys the IKE SA after 8 s and the CHILD SA after 5 s (both by CREATE_CHILD_SA; the
  // IKE rekey negotiates x25519 alone, IKE_FOLLOWUP_KE of RFC 9370 2.2.4 is not implemented).
  const conn: PskConnection = rekey
    ? { ...base, extra: { rekey_time: '8s', over_time: '30s', rand_time: '0' }, child: { ...base.child, extra: { rekey_time: '5s', life_time: '30s', rand_time: '0' } } }
    : base;
  const r = await startCygnet(ctx, { left: h.right, right: h.left } as TwoHosts, responderSide(base), ['--tun', 'cyg1', '--debug', 'any 1, ike 2']);
  const l = await startCygnet(ctx, h, pskSwanctlConf(conn), ['--tun', 'cyg0', '--debug', 'any 1, ike 2']);
  const [li, ri] = await Promise.all([l.waitFor(`left established (${proposals})`, establishedCygnet, 15_000), r.waitFor('right established', establishedCygnet, 15_000)]);
  ctx.log(`${proposals}: left ${li.suite} ${li.spiI}/${li.spiR}, right ${ri.suite}`);
  assert.equal(li.suite, suite, 'initiator suite names the additional key exchanges');
  assert.equal(ri.suite, suite, 'responder suite names the additional key exchanges');
  assert.equal(li.spiI, ri.spiI);
  assert.equal(li.children[0]!.spiIn, ri.children[0]!.spiOut);
  for (let n = 1; n <= intermediates; n++) {
    const line = await l.peer.waitForLog(new RegExp(`sending IKE_INTERMEDIATE request ${n} \\[ KE \\]`), 2000);
    ctx.log(`left: ${line}`);
  }
  await l.peer.waitForLog(new RegExp(`sending IKE_AUTH request ${intermediates + 1} `), 2000);
  await r.peer.waitForLog(/IKE SA keys updated \(RFC 9370 2\.2\.2\)/, 2000);
  await Promise.all([l.peer.waitForLog(/installed route 10\.2\.0\.1\/32 dev cyg0/, 5000), r.peer.waitForLog(/installed route 10\.1\.0\.1\/32 dev cyg1/, 5000)]);
  const p = await h.left.ns.ping(h.right.inner4, { count: 3, source: h.left.inner4 });
  assert.equal(p.received, 3, `ping left -> right: ${p.output}`);
  const b = await h.right.ns.ping(h.left.inner4, { count: 3, source: h.right.inner4 });
  assert.equal(b.received, 3, `ping right -> left: ${b.output}`);
  ctx.log(`${proposals}: 3/3 pings each way`);
  if (rekey) {
    const child0 = li.children[0]!;
    const c = await l.waitFor('CHILD SA rekeyed', (s) => { const sa = establishedCygnet(s); return sa && sa.children[0] && sa.children[0].spiIn !== child0.spiIn ? sa : undefined; }, 15_000);
    ctx.log(`CHILD rekey: ${child0.spiIn}/${child0.spiOut} -> ${c.children[0]!.spiIn}/${c.children[0]!.spiOut}`);
    const k = await l.waitFor('IKE SA rekeyed', (s) => { const sa = establishedCygnet(s); return sa && sa.spiI !== li.spiI ? sa : undefined; }, 15_000);
    const rk = await r.waitFor('responder on the new IKE SA', (s) => s.ikeSas.find((x) => x.state === 'ESTABLISHED' && x.spiI === k.spiI), 5000);
    ctx.log(`IKE rekey: ${li.spiI}_i -> ${k.spiI}_i, suite ${k.suite} (responder ${rk.suite})`);
    assert.equal(k.suite, 'AES_GCM_16-256/PRF_HMAC_SHA2_384/CURVE_25519', 'the rekeyed IKE SA names what it negotiated');
    assert.equal(rk.suite, k.suite);
    const q = await h.left.ns.ping(h.right.inner4, { count: 3, source: h.left.inner4 });
    assert.equal(q.received, 3, `ping after the rekeys: ${q.output}`);
    ctx.log('after CHILD and IKE rekey: 3/3 pings');
  }
  assert.equal(await l.peer.stop(5000), 0, 'left exits 0 on SIGTERM');
  await r.waitFor('right without SA after the Delete', (s) => s.ikeSas.length === 0 || undefined, 5000);
  await r.peer.stop(5000);
}

export async function run(ctx: ScenarioContext): Promise<void> {
  const h = await twoHosts(ctx.lab);

  // 1. cygnet <-> cygnet
  await cygnetPair(ctx, h, 'aes256gcm16-prfsha384-x25519-ke1_mlkem768', 'AES_GCM_16-256/PRF_HMAC_SHA2_384/CURVE_25519/KE1_ML_KEM_768', 1, true);
  await cygnetPair(ctx, h, 'aes256gcm16-prfsha384-x25519-ke1_mlkem768-ke2_mlkem1024', 'AES_GCM_16-256/PRF_HMAC_SHA2_384/CURVE_25519/KE1_ML_KEM_768/KE2_ML_KEM_1024', 2);

  // 2. strongSwan 5.9.8 responder, ADDKE optional: negotiated down to x25519.
  {
    const conn = cygnetConnection(h, { proposals: 'aes256gcm16-prfsha384-x25519-ke1_mlkem768-ke1_none', esp: 'aes256gcm16', startAction: 'start' });
    const swan = await ctx.startStrongswan({ ns: h.right.ns, swanctlConf: responderSide({ ...conn, proposals: 'aes256gcm16-prfsha384-x25519' }), label: 'right-optional' });
    await swan.loadAll();
    const cyg = await startCygnet(ctx, h, pskSwanctlConf(conn));
    const [ci, si] = await Promise.all([cyg.waitFor('established without ML-KEM', establishedCygnet, 15_000), swan.waitEstablished('cyg', 'net')]);
    ctx.log(`ke1_none vs strongSwan 5.9.8: cygnet ${ci.suite}, strongSwan ${si.suite}`);
    assert.equal(ci.suite, 'AES_GCM_16-256/PRF_HMAC_SHA2_384/CURVE_25519');
    assert.equal(si.suite, ci.suite);
    assert.equal(ci.spiI, si.initiatorSpi);
    assert.equal(await cyg.peer.stop(5000), 0);
    await swan.stop();
  }

  // 3. strongSwan 5.9.8 responder, ML-KEM required: refused with the reason.
  {
    const conn = cygnetConnection(h, { proposals: 'aes256gcm16-prfsha384-x25519-ke1_mlkem768', esp: 'aes256gcm16', startAction: 'start' });
    const swan = await ctx.startStrongswan({ ns: h.right.ns, swanctlConf: responderSide({ ...conn, proposals: 'aes256gcm16-prfsha384-x25519' }), label: 'right-required' });
    await swan.loadAll();
    const cyg = await startCygnet(ctx, h, pskSwanctlConf(conn));
    const line = await cyg.peer.waitForLog(/every proposal requires additional key exchanges/, 10_000);
    ctx.log(`ML-KEM required vs strongSwan 5.9.8: cygnet says: ${line}`);
    assert.match(line, /accepted none of our IKE proposals \(1 offered\).*requires additional key exchanges \(KE1_ML_KEM_768\).*without RFC 9370 support/);
    const swanLine = await swan.waitForLog(/received proposals unacceptable/);
    ctx.log(`strongSwan: ${swanLine}; ${(await swan.grep(/no acceptable \(6\) found/))[0] ?? ''}`);
    assert.deepEqual((cyg.status()?.ikeSas ?? []).filter((s) => s.state === 'ESTABLISHED'), []);
    await cyg.peer.stop(5000);
    await swan.stop();
  }
}
