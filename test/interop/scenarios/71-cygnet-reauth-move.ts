/**
 * An address change without MOBIKE (issue 15): cygnet has `mobike = no`, strongSwan 5.9.8 mobike = yes, so MOBIKE
 * is not negotiated (RFC 4555 3.1). The topology of 70/72 (cygnet with two uplinks, charon at 203.0.113.2):
 * the address the IKE SA uses, 192.0.2.1, is deleted while 198.51.100.1 remains. An IKE SA that cannot move is
 * re-created from the address that remains, as strongSwan does on a roam without MOBIKE (ike_sa.c roam(): "no
 * MOBIKE, reauthenticating"): cygnet reauthenticates (RFC 7296 2.8.3, make-before-break, cygnet's and charon
 * 5.9's default): a new IKE SA from 198.51.100.1 with the CHILD SA, then the old IKE SA is deleted. Asserted:
 * cygnet's log says why, charon ends with exactly one IKE SA (new SPIs, at 198.51.100.1) with its CHILD SA, and a
 * ping through the tunnel passes again.
 *
 * The old IKE SA's Delete leaves from 198.51.100.1 (its own address is gone), so charon first applies an implicit
 * address update to it (RFC 7296 2.23, 'remote endpoint changed') and, kernel-libipsec being unable to move an ESP
 * SA, queues a CHILD rekey on it; cygnet answers that TEMPORARY_FAILURE (the SA is being deleted) and the Delete
 * ends it. Harmless, logged on both sides.
 */
import assert from 'node:assert/strict';
import { continuousPing, resumedAfter, roamingCygnet } from '../lib/mobike.js';
import type { ScenarioContext } from '../lib/scenario.js';
import { establishedCygnet } from './20-cygnet-psk-responder.js';

export const name = 'cygnet-reauth-move';
export const timeoutMs = 60_000;

export async function run(ctx: ScenarioContext): Promise<void> {
  const { h, swan, cyg, si } = await roamingCygnet(ctx, { mobike: 'no' });
  assert.equal((await swan.grep(/peer supports MOBIKE/)).length, 0, 'cygnet did not offer MOBIKE (mobike = no)');

  const ping = await continuousPing(ctx, h.left.ns, h.left.inner4, h.right.inner4, 'ping-left');
  try {
    await resumedAfter(ping, Date.now(), 3000);
    const t = Date.now();
    await h.left.ns.ip(['addr', 'del', '192.0.2.1/24', 'dev', 'eth0']);
    await cyg.peer.waitForLog(/local address 192\.0\.2\.1 gone, no MOBIKE: reauthenticating from 198\.51\.100\.1/, 3000);
    // charon: the new IKE SA from 198.51.100.1 with its CHILD SA, and only that one (the old one deleted).
    const after = await swan.waitForSa(
      (sas) => sas.length === 1 && sas[0]?.remoteHost === '198.51.100.1' && sas[0].state === 'ESTABLISHED' && sas[0].children.some((c) => c.state === 'INSTALLED') && sas[0],
      10_000,
      'charon to have exactly one IKE SA, the new one from 198.51.100.1',
    );
    assert.notEqual(after.initiatorSpi, si.initiatorSpi, 'a new IKE SA (reauthentication), not the old one moved');
    // Replies after the new SA is up (one in flight when the address went would prove nothing).
    const up = Date.now();
    const r = await resumedAfter(ping, up, 3000);
    const gap = Math.max(...(await ping.replies()).filter((x) => x > t - 1000).map((x, i, a) => (i > 0 ? x - (a[i - 1] ?? x) : 0)));
    ctx.log(`192.0.2.1 deleted: reauthenticated from 198.51.100.1 in ${up - t} ms, ping replies again (longest gap ${gap} ms)`);
    assert.ok(r.afterMs < 3000, 'the ping passes again over the new IKE SA');
    const c = await cyg.waitFor('one IKE SA at 198.51.100.1', (s) => {
      const e = establishedCygnet(s);
      return s.ikeSas.length === 1 && e?.local === '198.51.100.1[4500]' && e.spiI === after.initiatorSpi && e;
    });
    assert.equal(c.children.length, 1, 'cygnet: the CHILD SA on the new IKE SA');
    await cyg.peer.waitForLog(/reauthentication of IKE_SA cyg\[\d+\] complete, deleting it/, 2000);
    assert.equal((await swan.listSas()).length, 1, 'charon still has one IKE SA');
  } finally {
    await ping.stop();
  }
}
