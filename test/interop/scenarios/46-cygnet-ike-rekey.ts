/**
 * cygnet rekeys the IKE SA itself (RFC 7296 1.3.2 / 2.18) on its connection's rekey_time (6 s, over_time and
 * rand_time explicit), with a real TUN and traffic flowing:
 *
 *   cygnet   HDR, SK {SA, Ni, KEi}  -->                       (CREATE_CHILD_SA, new IKE SPIs in the proposal)
 *            <--  HDR, SK {SA, Nr, KEr}
 *            HDR, SK {D}  -->  (the old IKE SA deleted; the CHILD SA moves to the new one)
 *
 * Asserted twice (two scheduled rekeys): new IKE SPIs on both sides (cygnet's status file, strongSwan's
 * --list-sas), cygnet still the initiator of the new SA, the same CHILD SA SPIs on both sides, a ping answered
 * after each rekey and at most 2 pings lost in the background.
 */
import assert from 'node:assert/strict';
import type { ScenarioContext } from '../lib/scenario.js';
import { mirror, pskSwanctlConf } from '../lib/swanctl-conf.js';
import { twoHosts } from '../lib/topology.js';
import type { IkeSaStatus } from '../../../src/daemon/status.js';
import { cygnetConnection, establishedCygnet, startCygnet } from './20-cygnet-psk-responder.js';

export const name = 'cygnet-ike-rekey';
export const timeoutMs = 45_000;

export async function run(ctx: ScenarioContext): Promise<void> {
  const h = await twoHosts(ctx.lab);
  const base = cygnetConnection(h, { proposals: 'aes128gcm16-prfsha256-x25519', esp: 'aes128gcm16', startAction: 'start' });
  const conn = { ...base, extra: { rekey_time: '6s', over_time: '30s', rand_time: '0' } };
  const theirs = mirror(base);
  const swan = await ctx.startStrongswan({ ns: h.right.ns, swanctlConf: pskSwanctlConf({ ...theirs, child: { ...theirs.child, startAction: 'none' } }) });
  await swan.loadAll();
  const cyg = await startCygnet(ctx, h, pskSwanctlConf(conn), ['--tun', 'cyg0']);
  await cyg.peer.waitForLog(/TUN device cyg0/, 5000);

  const [c0, s0] = await Promise.all([cyg.waitFor('SA established', establishedCygnet), swan.waitEstablished('cyg', 'net')]);
  assert.equal(c0.spiI, s0.initiatorSpi);
  const child0 = c0.children[0]!;
  const ping = async (what: string): Promise<void> => {
    const p = await h.left.ns.ping(h.right.inner4, { count: 3, source: h.left.inner4, intervalS: 0.1 });
    assert.equal(p.received, 3, `ping after ${what}:\n${p.output}`);
  };
  await ping('establishment');
  const bg = h.left.ns.ping(h.right.inner4, { count: 140, source: h.left.inner4, intervalS: 0.1, waitS: 1 });

  let prev: IkeSaStatus = c0;
  for (const n of [1, 2]) {
    const c = await cyg.waitFor(
      `IKE SA rekey #${n} by cygnet`,
      (s) => {
        const sa = establishedCygnet(s);
        return sa && sa.spiI !== prev.spiI && sa.spiR !== prev.spiR ? sa : undefined;
      },
      12_000,
    );
    const s = await swan.waitForSa(
      (sas) => sas.find((x) => x.state === 'ESTABLISHED' && x.initiatorSpi === c.spiI && x.responderSpi === c.spiR),
      5000,
      `strongSwan to show the IKE SA cygnet rekeyed (#${n})`,
    );
    assert.equal(c.initiator, true, 'cygnet initiated the rekey, so it is the initiator of the new IKE SA (RFC 7296 2.18)');
    assert.equal(s.initiator, false, 'strongSwan is the responder of the new IKE SA');
    assert.equal(s.suite, 'AES_GCM_16-128/PRF_HMAC_SHA2_256/CURVE_25519');
    // The CHILD SA moved to the new IKE SA unchanged.
    assert.equal(c.children.length, 1);
    assert.equal(c.children[0]!.spiIn, child0.spiIn, 'cygnet kept the CHILD SA');
    const sc = s.children.find((x) => x.state === 'INSTALLED');
    assert.ok(sc, 'strongSwan moved the CHILD SA to the new IKE SA');
    assert.equal(sc.spiIn, child0.spiOut, 'strongSwan kept the CHILD SA');
    await swan.waitForSa((sas) => !sas.some((x) => x.initiatorSpi === prev.spiI) || undefined, 5000, `the old IKE SA gone on strongSwan (#${n})`);
    ctx.log(`IKE rekey #${n} by cygnet: ${prev.spiI}_i ${prev.spiR}_r -> ${c.spiI}_i ${c.spiR}_r`);
    await ping(`IKE rekey #${n}`);
    prev = c;
  }
  assert.ok((await cyg.peer.grep(/rekeying IKE_SA cyg\[\d+\]/)).length >= 2, 'cygnet logged starting both rekeys');
  assert.ok((await cyg.peer.grep(new RegExp(`IKE_SA cyg\\[\\d+\\] rekeyed to \\[\\d+\\] with SPIs ${prev.spiI}_i ${prev.spiR}_r`))).length > 0, 'cygnet logged the new SPIs');
  assert.ok((await swan.grep(/received DELETE for IKE_SA cyg\[\d+\]/)).length >= 2, 'strongSwan received the Deletes of the old IKE SAs');

  const all = await bg;
  ctx.log(`background ping: ${all.received}/${all.transmitted} answered`);
  assert.ok(all.received >= all.transmitted - 2, `at most 2 pings lost across two IKE rekeys (${all.received}/${all.transmitted})`);
}
