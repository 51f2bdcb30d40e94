/**
 * Hybrid post-quantum IKE (issue 18): RFC 9370 additional key exchanges with ML-KEM in IKE_INTERMEDIATE (RFC 9242).
 *
 * 1. cygnet <-> cygnet with `x25519-ke1_mlkem768`, then `x25519-ke1_mlkem768-ke2_mlkem1024` (the ML-KEM-1024 key
 *    is fragmented, RFC 9242 3.4): both sides list the suite with KE1_ML_KEM_768 (strongSwan 6's name), the logs show
 *    the IKE_INTERMEDIATE exchanges and IKE_AUTH as message n+1, pings pass both ways through the tunnel. ESP
 *    proposals are `aes256gcm16-x25519-ke1_mlkem768` (the CHILD SA of IKE_AUTH has no key exchange, RFC 7296 1.2).
 *    Then rekeys (RFC 9370 2.2.4): the CHILD SA (PFS x25519 + ML-KEM-768) and the IKE SA (with ke1, and with ke1+ke2)
 *    each by CREATE_CHILD_SA followed by IKE_FOLLOWUP_KE exchanges, seen in both sides' logs; the rekeyed CHILD SA
 *    and IKE SA name KE1_ML_KEM_768 (and KE2_ML_KEM_1024) in their suites; pings pass after each rekey.
 * 2. cygnet initiates `x25519-ke1_mlkem768-ke1_none` to strongSwan 5.9.8 (no RFC 9370): the ADDKE transforms are
 *    optional, so the SA comes up with x25519 alone and both print the classic suite. The ESP proposal
 *    `aes256gcm16-x25519-ke1_mlkem768-ke1_none` is optional too: the CHILD rekey and the IKE rekey (CREATE_CHILD_SA
 *    offers, after the proposal with ADDKE, a copy without, which 5.9.8 takes) come up with x25519 PFS alone, no
 *    IKE_FOLLOWUP_KE.
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

const ESP = 'aes256gcm16-x25519-ke1_mlkem768';

async function cygnetPair(ctx: ScenarioContext, h: TwoHosts, proposals: string, suite: string, intermediates: number, rekey: 'ike+child' | 'ike'): Promise<void> {
  const base = cygnetConnection(h, { proposals, esp: ESP, startAction: 'start' });
  // The initiator rekeys the IKE SA after 8 s and (with 'ike+child') the CHILD SA after 5 s, both by CREATE_CHILD_SA
  // with their additional key exchanges in IKE_FOLLOWUP_KE (RFC 9370 2.2.4).
  const conn: PskConnection = {
    ...base,
    extra: { rekey_time: '8s', over_time: '30s', rand_time: '0' },
    ...(rekey === 'ike+child' ? { child: { ...base.child, extra: { rekey_time: '5s', life_time: '30s', rand_time: '0' } } } : {}),
  };
  const r = await startCygnet(ctx, { left: h.right, right: h.left } as TwoHosts, responderSide(base), ['--tun', 'cyg1', '--debug', 'any 1, ike 2']);
  const l = await startCygnet(ctx, h, pskSwanctlConf(conn), ['--tun', 'cyg0', '--debug', 'any 1, ike 2']);
  const [li, ri] = await Promise.all([l.waitFor(`left established (${proposals})`, establishedCygnet, 15_000), r.waitFor('right established', establishedCygnet, 15_000)]);
  ctx.log(`${proposals}: left ${li.suite} ${li.spiI}/${li.spiR}, right ${ri.suite}`);
  assert.equal(li.suite, suite, 'initiator suite names the additional key exchanges');
  assert.equal(ri.suite, suite, 'responder suite names the additional key exchanges');
  assert.equal(li.spiI, ri.spiI);
  // vici list-sas names them as strongSwan 6 does (ake1 = ML_KEM_768 ..., swanctl prints /KE1_ML_KEM_768).
  const [lv, rv] = await Promise.all([l.peer.listSas(), r.peer.listSas()]);
  assert.equal(lv[0]?.suite, suite, "left's vici list-sas suite (ake<n> keys)");
  assert.equal(rv[0]?.suite, suite, "right's vici list-sas suite (ake<n> keys)");
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
  // The CHILD SA of IKE_AUTH: no key exchange there (RFC 7296 1.2), so its suite has neither KE nor ADDKE.
  assert.equal(li.children[0]!.suite, 'AES_GCM_16-256');
  const ping = async (what: string): Promise<void> => {
    const q = await h.left.ns.ping(h.right.inner4, { count: 3, source: h.left.inner4 });
    assert.equal(q.received, 3, `ping after ${what}: ${q.output}`);
    const q2 = await h.right.ns.ping(h.left.inner4, { count: 3, source: h.right.inner4 });
    assert.equal(q2.received, 3, `ping back after ${what}: ${q2.output}`);
    ctx.log(`after ${what}: 3/3 pings each way`);
  };
  if (rekey === 'ike+child') {
    const child0 = li.children[0]!;
    const c = await l.waitFor('CHILD SA rekeyed', (s) => { const sa = establishedCygnet(s); return sa && sa.children[0] && sa.children[0].spiIn !== child0.spiIn ? sa : undefined; }, 15_000);
    const lf = await l.peer.waitForLog(/IKE_FOLLOWUP_KE 1 of 1 for CHILD_SA net\{\d+\} rekey: additional key exchange KE1_ML_KEM_768/, 5000);
    const rf = await r.peer.waitForLog(/IKE_FOLLOWUP_KE 1 of 1 for CHILD_SA net\{\d+\} rekey by the peer: additional key exchange KE1_ML_KEM_768 done/, 5000);
    ctx.log(`CHILD rekey: ${child0.spiIn}/${child0.spiOut} -> ${c.children[0]!.spiIn}/${c.children[0]!.spiOut}, suite ${c.children[0]!.suite}`);
    ctx.log(`left: ${lf}`);
    ctx.log(`right: ${rf}`);
    assert.equal(c.children[0]!.suite, 'AES_GCM_16-256/CURVE_25519/KE1_ML_KEM_768', 'the rekeyed CHILD SA names its PFS exchanges');
    const rc = await r.waitFor('responder on the new CHILD SA', (s) => s.ikeSas.flatMap((x) => x.children).find((x) => x.spiOut === c.children[0]!.spiIn), 5000);
    assert.equal(rc.suite, c.children[0]!.suite);
    await ping('the CHILD rekey');
  }
  const k = await l.waitFor('IKE SA rekeyed', (s) => { const sa = establishedCygnet(s); return sa && sa.spiI !== li.spiI ? sa : undefined; }, 20_000);
  const rk = await r.waitFor('responder on the new IKE SA', (s) => s.ikeSas.find((x) => x.state === 'ESTABLISHED' && x.spiI === k.spiI), 5000);
  ctx.log(`IKE rekey: ${li.spiI}_i -> ${k.spiI}_i, suite ${k.suite} (responder ${rk.suite})`);
  for (let n = 1; n <= intermediates; n++) {
    const lf = await l.peer.waitForLog(new RegExp(`IKE_FOLLOWUP_KE ${n} of ${intermediates} for IKE_SA cyg\\[\\d+\\] rekey: additional key exchange`), 5000);
    const rf = await r.peer.waitForLog(new RegExp(`IKE_FOLLOWUP_KE ${n} of ${intermediates} for IKE_SA cyg\\[\\d+\\] rekey by the peer: .* done`), 5000);
    ctx.log(`left: ${lf}`);
    ctx.log(`right: ${rf}`);
  }
  assert.equal(k.suite, suite, 'the rekeyed IKE SA names its additional key exchanges');
  assert.equal(rk.suite, k.suite);
  await ping('the IKE rekey');
  assert.equal(await l.peer.stop(5000), 0, 'left exits 0 on SIGTERM');
  await r.waitFor('right without SA after the Delete', (s) => s.ikeSas.length === 0 || undefined, 5000);
  await r.peer.stop(5000);
}

export async function run(ctx: ScenarioContext): Promise<void> {
  const h = await twoHosts(ctx.lab);

  // 1. cygnet <-> cygnet
  await cygnetPair(ctx, h, 'aes256gcm16-prfsha384-x25519-ke1_mlkem768', 'AES_GCM_16-256/PRF_HMAC_SHA2_384/CURVE_25519/KE1_ML_KEM_768', 1, 'ike+child');
  await cygnetPair(ctx, h, 'aes256gcm16-prfsha384-x25519-ke1_mlkem768-ke2_mlkem1024', 'AES_GCM_16-256/PRF_HMAC_SHA2_384/CURVE_25519/KE1_ML_KEM_768/KE2_ML_KEM_1024', 2, 'ike');

  // 2. strongSwan 5.9.8 responder, ADDKE optional: negotiated down to x25519.
  {
    const base = cygnetConnection(h, { proposals: 'aes256gcm16-prfsha384-x25519-ke1_mlkem768-ke1_none', esp: 'aes256gcm16-x25519-ke1_mlkem768-ke1_none', startAction: 'start' });
    const conn: PskConnection = { ...base, extra: { rekey_time: '8s', over_time: '30s', rand_time: '0' }, child: { ...base.child, extra: { rekey_time: '5s', life_time: '30s', rand_time: '0' } } };
    const swanConn = { ...base, proposals: 'aes256gcm16-prfsha384-x25519', child: { ...base.child, espProposals: 'aes256gcm16-x25519' } };
    const swan = await ctx.startStrongswan({ ns: h.right.ns, swanctlConf: responderSide(swanConn), label: 'right-optional' });
    await swan.loadAll();
    const cyg = await startCygnet(ctx, h, pskSwanctlConf(conn), ['--debug', 'any 1, ike 2']);
    const [ci, si] = await Promise.all([cyg.waitFor('established without ML-KEM', establishedCygnet, 15_000), swan.waitEstablished('cyg', 'net')]);
    ctx.log(`ke1_none vs strongSwan 5.9.8: cygnet ${ci.suite}, strongSwan ${si.suite}`);
    assert.equal(ci.suite, 'AES_GCM_16-256/PRF_HMAC_SHA2_384/CURVE_25519');
    assert.equal(si.suite, ci.suite);
    assert.equal(ci.spiI, si.initiatorSpi);
    const child0 = ci.children[0]!;
    const c = await cyg.waitFor('CHILD SA rekeyed with strongSwan', (st) => { const sa = establishedCygnet(st); return sa && sa.children[0] && sa.children[0].spiIn !== child0.spiIn ? sa : undefined; }, 15_000);
    const k = await cyg.waitFor('IKE SA rekeyed with strongSwan', (st) => { const sa = establishedCygnet(st); return sa && sa.spiI !== ci.spiI ? sa : undefined; }, 20_000);
    const sk = (await swan.listSas()).find((x) => x.initiatorSpi === k.spiI);
    ctx.log(`ke1_none vs strongSwan 5.9.8 after rekeys: CHILD ${c.children[0]!.suite}, IKE ${k.suite}, strongSwan IKE ${sk?.suite}, CHILD ${sk?.children[0]?.suite}`);
    assert.equal(c.children[0]!.suite, 'AES_GCM_16-256/CURVE_25519', 'CHILD rekey negotiated down to x25519 PFS');
    assert.equal(k.suite, 'AES_GCM_16-256/PRF_HMAC_SHA2_384/CURVE_25519', 'IKE rekey negotiated down to x25519');
    assert.equal(sk?.state, 'ESTABLISHED', 'strongSwan is on the rekeyed IKE SA');
    assert.ok((await cyg.peer.grep(/rekeying IKE_SA/)).length > 0, 'ike 1 lines are logged');
    assert.deepEqual(await cyg.peer.grep(/IKE_FOLLOWUP_KE/), [], 'no additional key exchange ran');
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
