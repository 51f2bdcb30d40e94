/**
 * RADIUS accounting across rekeys (issue 14, RFC 2866; RFC 7296 2.8 and 2.18): the lab of scenario 87 (strongSwan
 * EAP-MSCHAPv2 client -> cygnet eap-radius gateway -> FreeRADIUS with `accounting = yes`). carol's tunnel carries
 * pings, strongSwan rekeys the CHILD SA, more pings, strongSwan rekeys the IKE SA, more pings, then deletes it.
 *
 * FreeRADIUS has exactly one Start and one Stop for one Acct-Session-Id (the session follows the IKE rekey, as
 * strongSwan's ike_rekey hook), and the Stop counts every ping of the three CHILD SA generations: the ESP SAs
 * retired by the rekeys are counted as well (each ping crossing the gateway is one 84-byte IPv4 packet).
 */
import assert from 'node:assert/strict';
import { waitFor } from '../lib/exec.js';
import type { ScenarioContext } from '../lib/scenario.js';
import { establishedCygnet } from './20-cygnet-psk-responder.js';
import { eapRadiusSetup } from './87-eap-radius-gateway.js';

export const name = 'eap-radius-accounting-rekey';
export const timeoutMs = 90_000;

const PINGS = 3;
/** An IPv4 ICMP echo with ping's default 56 data bytes. */
const PING_PACKET = 84;

export async function run(ctx: ScenarioContext): Promise<void> {
  const { h, fr, cyg, swan } = await eapRadiusSetup(ctx);
  const { left, right } = h;
  const up = await swan.initiate('carol-net', { ike: 'carol', timeoutS: 20 });
  assert.equal(up.code, 0, `strongSwan brings up carol over EAP-MSCHAPv2 relayed to FreeRADIUS:\n${up.stdout}${up.stderr}`);
  await cyg.waitFor('SA established', establishedCygnet);
  await cyg.peer.waitForLog(/installed route 10\.2\.0\.1\/32 dev cyg0/, 5000);

  let rounds = 0;
  const pingBoth = async (when: string): Promise<void> => {
    const out = await left.ns.ping(right.inner4, { count: PINGS, source: left.inner4 });
    assert.equal(out.received, PINGS, `ping gateway -> client ${when}:\n${out.output}`);
    const back = await right.ns.ping(left.inner4, { count: PINGS, source: right.inner4 });
    assert.equal(back.received, PINGS, `ping client -> gateway ${when}:\n${back.output}`);
    rounds++;
  };
  const carol = async () => (await swan.listSas()).find((s) => s.name === 'carol');
  await pingBoth('on the first CHILD SA');

  // CHILD SA rekey by strongSwan (RFC 7296 2.8): a new SPI pair; the old ESP SAs go
  const before = (await carol())?.children[0];
  assert.ok(before, 'strongSwan lists carol\'s CHILD SA');
  await swan.rekey({ child: 'carol-net' });
  await waitFor('strongSwan: CHILD SA rekeyed', async () => {
    const c = (await carol())?.children;
    return c?.length === 1 && c[0]?.spiIn !== before.spiIn && c[0]?.state === 'INSTALLED' ? true : undefined;
  }, 10_000, 200);
  await cyg.peer.waitForLog(/removed ESP SAs .*rekeyed|removed ESP SAs .*deleted/, 5000);
  await pingBoth('after the CHILD SA rekey');

  // IKE SA rekey by strongSwan (RFC 7296 2.18): the accounting session moves to the new IKE SA
  const ikeBefore = await carol();
  assert.ok(ikeBefore, 'strongSwan lists carol\'s IKE SA');
  await swan.rekey({ ike: 'carol' });
  await waitFor('strongSwan: IKE SA rekeyed', async () => {
    const s = await carol();
    return s && s.state === 'ESTABLISHED' && s.initiatorSpi !== ikeBefore.initiatorSpi ? true : undefined;
  }, 10_000, 200);
  await cyg.peer.waitForLog(/event ike-rekeyed/, 5000);
  await cyg.waitFor('one IKE SA on the gateway after the rekey', (s) => (s.ikeSas.length === 1 && s.ikeSas[0]?.state === 'ESTABLISHED' ? true : undefined), 10_000);
  await pingBoth('after the IKE SA rekey');

  const down = await swan.terminate('carol', { timeoutS: 10 });
  assert.equal(down.code, 0, `strongSwan deletes carol's IKE SA:\n${down.stdout}${down.stderr}`);
  await cyg.waitFor('no IKE SA left on the gateway', (s) => s.ikeSas.length === 0, 10_000);
  type Rec = Record<string, string>;
  const recs = async (): Promise<Rec[]> => (await fr.detailRecords()).filter((r) => r['User-Name'] === 'carol');
  const stop = await waitFor('FreeRADIUS: Stop for carol', async () => (await recs()).find((r) => r['Acct-Status-Type'] === 'Stop'), 10_000, 200);
  const all = await recs();
  const starts = all.filter((r) => r['Acct-Status-Type'] === 'Start');
  const stops = all.filter((r) => r['Acct-Status-Type'] === 'Stop');
  assert.equal(starts.length, 1, `one Start across the rekeys: ${JSON.stringify(all, null, 2)}`);
  assert.equal(stops.length, 1, `one Stop: ${JSON.stringify(all, null, 2)}`);
  assert.equal(stop['Acct-Session-Id'], starts[0]?.['Acct-Session-Id'], 'the Stop continues the Start session through the IKE rekey');
  // each round: PINGS requests and PINGS replies in each direction
  const packets = rounds * 2 * PINGS;
  assert.equal(Number(stop['Acct-Input-Packets']), packets, `Acct-Input-Packets counts all three CHILD SAs: ${JSON.stringify(stop)}`);
  assert.equal(Number(stop['Acct-Output-Packets']), packets, `Acct-Output-Packets counts all three CHILD SAs: ${JSON.stringify(stop)}`);
  assert.equal(Number(stop['Acct-Input-Octets']), packets * PING_PACKET, 'Acct-Input-Octets: every ping');
  assert.equal(Number(stop['Acct-Output-Octets']), packets * PING_PACKET, 'Acct-Output-Octets: every ping');
  assert.equal(stop['Acct-Terminate-Cause'], 'User-Request');
  ctx.log(`accounting across a CHILD and an IKE rekey: session ${stop['Acct-Session-Id']}, Stop in ${stop['Acct-Input-Octets']} B / ${stop['Acct-Input-Packets']} pkts, out ${stop['Acct-Output-Octets']} B / ${stop['Acct-Output-Packets']} pkts (${packets} pings each way)`);
}
