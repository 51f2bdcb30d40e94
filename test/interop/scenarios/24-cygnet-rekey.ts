/**
 * Rekeying between cygnet (real TUN) and strongSwan with traffic flowing (RFC 7296 2.8, make-before-break):
 *
 * 1. strongSwan rekeys the CHILD SA (`swanctl --rekey --child`):  HDR, SK {N(REKEY_SA), SA, Ni, [KEi,] TSi, TSr} -->
 *    cygnet answers, installs the new SAs and moves outbound traffic over; both sides show the new SPIs.
 * 2. strongSwan rekeys the IKE SA (`swanctl --rekey --ike`): new IKE SPIs on both sides, the CHILD SA stays.
 * 3. cygnet rekeys the CHILD SA itself when its rekey_time (8 s) passes.
 * A ping runs all along; after each step a ping through the tunnel must still be answered.
 */
import assert from 'node:assert/strict';
import type { ScenarioContext } from '../lib/scenario.js';
import { mirror, pskSwanctlConf } from '../lib/swanctl-conf.js';
import { twoHosts } from '../lib/topology.js';
import { cygnetConnection, establishedCygnet, startCygnet } from './20-cygnet-psk-responder.js';

export const name = 'cygnet-rekey';
export const timeoutMs = 60_000;

export async function run(ctx: ScenarioContext): Promise<void> {
  const h = await twoHosts(ctx.lab);
  const base = cygnetConnection(h, { proposals: 'aes128gcm16-prfsha256-x25519', esp: 'aes128gcm16-x25519', startAction: 'start' });
  // cygnet rekeys its CHILD SA after 8 s (explicit life/rand: strongSwan's defaults are computed in whole seconds).
  const conn = { ...base, child: { ...base.child, extra: { rekey_time: '8s', life_time: '30s', rand_time: '0' } } };
  const theirs = mirror(base);
  const swan = await ctx.startStrongswan({ ns: h.right.ns, swanctlConf: pskSwanctlConf({ ...theirs, child: { ...theirs.child, startAction: 'none' } }) });
  await swan.loadAll();
  const cyg = await startCygnet(ctx, h, pskSwanctlConf(conn), ['--tun', 'cyg0']);
  await cyg.peer.waitForLog(/TUN device cyg0/, 5000);

  const [c0] = await Promise.all([cyg.waitFor('SA established', establishedCygnet), swan.waitEstablished('cyg', 'net')]);
  const ping = async (what: string): Promise<void> => {
    const p = await h.left.ns.ping(h.right.inner4, { count: 3, source: h.left.inner4, intervalS: 0.1 });
    assert.equal(p.received, 3, `ping after ${what}:\n${p.output}`);
  };
  await ping('establishment');
  // Background traffic through every step (loss is tolerated here; the pings after each step are asserted).
  const bg = h.left.ns.ping(h.right.inner4, { count: 120, source: h.left.inner4, intervalS: 0.1, waitS: 1 });

  // 1. strongSwan rekeys the CHILD SA (with PFS: x25519 in the ESP proposal).
  await swan.rekey({ child: 'net' });
  const c1 = await cyg.waitFor('CHILD SA rekeyed by strongSwan', (s) => {
    const sa = establishedCygnet(s);
    return sa && sa.children.length === 1 && sa.children[0]!.spiIn !== c0.children[0]!.spiIn ? sa : undefined;
  });
  const s1 = await swan.waitForSa((sas) => {
    const c = sas[0]?.children.find((x) => x.state === 'INSTALLED' && x.spiIn === c1.children[0]!.spiOut);
    return c ? sas[0] : undefined;
  }, 5000, 'strongSwan to show the rekeyed CHILD SA');
  assert.equal(s1.children.find((x) => x.state === 'INSTALLED')!.spiOut, c1.children[0]!.spiIn, 'new SPIs match crosswise');
  ctx.log(`CHILD rekey by strongSwan: ${c0.children[0]!.spiIn} -> ${c1.children[0]!.spiIn}`);
  await ping('the CHILD rekey by strongSwan');

  // 2. strongSwan rekeys the IKE SA.
  await swan.rekey({ ike: 'cyg' });
  const i2 = await cyg.waitFor('IKE SA rekeyed', (s) => {
    const sa = establishedCygnet(s);
    return sa && sa.spiI !== c0.spiI ? sa : undefined;
  });
  await swan.waitForSa((sas) => sas.find((s) => s.state === 'ESTABLISHED' && s.initiatorSpi === i2.spiI && s.responderSpi === i2.spiR), 5000, 'strongSwan to show the rekeyed IKE SA');
  ctx.log(`IKE rekey by strongSwan: ${c0.spiI} -> ${i2.spiI}`);
  await ping('the IKE rekey');

  // 3. cygnet rekeys the CHILD SA on its own schedule.
  const c3 = await cyg.waitFor(
    'CHILD SA rekeyed by cygnet',
    (s) => {
      const sa = establishedCygnet(s);
      return sa && sa.children.length === 1 && sa.children[0]!.spiIn !== c1.children[0]!.spiIn ? sa : undefined;
    },
    15_000,
  );
  await swan.waitForSa((sas) => sas[0]?.children.find((x) => x.state === 'INSTALLED' && x.spiOut === c3.children[0]!.spiIn), 5000, 'strongSwan to show the CHILD SA cygnet rekeyed');
  ctx.log(`CHILD rekey by cygnet: ${c1.children[0]!.spiIn} -> ${c3.children[0]!.spiIn}`);
  await ping("cygnet's CHILD rekey");

  const all = await bg;
  ctx.log(`background ping: ${all.received}/${all.transmitted} answered`);
  assert.ok(all.received >= all.transmitted - 2, `at most 2 pings lost across three rekeys (${all.received}/${all.transmitted})`);
}
