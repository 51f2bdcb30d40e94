/**
 * RADIUS accounting for a client that vanishes (issue 14, RFC 2866 5.10, RFC 2869 5.16, RFC 2865 5.25): the lab of
 * scenario 87 with FreeRADIUS answering carol's Access-Accept with `Class = "staff"` and `Acct-Interim-Interval
 * = 2`, and the gateway with `accounting_send_class = yes` (no accounting_interval of its own) and `dpd_delay = 1s`.
 *
 * - The Access-Accept's attributes reach the accounting of the IKE SA it authenticated: Start and Interim-Updates
 *   echo the Class, Interim-Updates come every 2 s as the server asked, with the traffic so far.
 * - strongSwan is SIGKILLed (no Delete): cygnet's DPD gives up and the Stop says Acct-Terminate-Cause
 *   Lost-Service, with the final (non-zero) counters.
 */
import assert from 'node:assert/strict';
import { waitFor } from '../lib/exec.js';
import type { ScenarioContext } from '../lib/scenario.js';
import { establishedCygnet } from './20-cygnet-psk-responder.js';
import { eapRadiusSetup } from './87-eap-radius-gateway.js';

export const name = 'eap-radius-accounting-dpd';
export const timeoutMs = 90_000;

const PINGS = 4;
/** "staff" as FreeRADIUS' detail file prints an octets attribute (or as text). */
const STAFF = /^(staff|0x7374616666)$/;

export async function run(ctx: ScenarioContext): Promise<void> {
  const { h, fr, cyg, swan } = await eapRadiusSetup(ctx, {
    carolReply: ['Class = "staff"', 'Acct-Interim-Interval = 2'],
    radiusExtra: '      accounting_send_class = yes\n',
    charonExtra: '  retransmit_timeout = 0.5\n  retransmit_base = 1.4\n  retransmit_tries = 2\n',
    gatewayConnExtra: '    dpd_delay = 1s\n',
  });
  const { left, right } = h;
  const up = await swan.initiate('carol-net', { ike: 'carol', timeoutS: 20 });
  assert.equal(up.code, 0, `strongSwan brings up carol over EAP-MSCHAPv2 relayed to FreeRADIUS:\n${up.stdout}${up.stderr}`);
  await cyg.waitFor('SA established', establishedCygnet);
  await cyg.peer.waitForLog(/scheduling RADIUS Interim-Updates every 2s/, 5000);
  await cyg.peer.waitForLog(/installed route 10\.2\.0\.1\/32 dev cyg0/, 5000);
  const out = await left.ns.ping(right.inner4, { count: PINGS, source: left.inner4 });
  assert.equal(out.received, PINGS, `ping gateway -> client through the tunnel:\n${out.output}`);
  const back = await right.ns.ping(left.inner4, { count: PINGS, source: right.inner4 });
  assert.equal(back.received, PINGS, `ping client -> gateway through the tunnel:\n${back.output}`);

  type Rec = Record<string, string>;
  const recs = async (): Promise<Rec[]> => (await fr.detailRecords()).filter((r) => r['User-Name'] === 'carol');
  const ofType = async (t: string): Promise<Rec[]> => (await recs()).filter((r) => r['Acct-Status-Type'] === t);
  // Interim-Updates at the server's interval (two of them within ~5 s), the later one with the pings counted
  const interims = await waitFor('FreeRADIUS: two Interim-Updates for carol', async () => {
    const i = await ofType('Interim-Update');
    return i.length >= 2 && Number(i.at(-1)?.['Acct-Input-Octets'] ?? 0) > 0 ? i : undefined;
  }, 10_000, 200);
  const start = (await ofType('Start'))[0];
  assert.ok(start, 'FreeRADIUS recorded a Start');
  assert.match(start.Class ?? '', STAFF, `the Start echoes the Access-Accept's Class: ${JSON.stringify(start)}`);
  assert.match(interims.at(-1)?.Class ?? '', STAFF, 'Interim-Updates echo the Class');

  // the client dies without a Delete: DPD (1 s, then retransmissions) declares it dead
  const killedAt = Date.now();
  await swan.crash();
  await cyg.peer.waitForLog(/did not answer DPD/, 15_000);
  await cyg.waitFor('the dead SA removed', (s) => s.ikeSas.length === 0 || undefined, 5000);
  const stop = await waitFor('FreeRADIUS: Stop for carol', async () => (await ofType('Stop'))[0], 10_000, 200);
  assert.equal(stop['Acct-Session-Id'], start['Acct-Session-Id'], 'the Stop ends the Start session');
  assert.equal(stop['Acct-Terminate-Cause'], 'Lost-Service', `a dead peer is Lost-Service: ${JSON.stringify(stop)}`);
  assert.match(stop.Class ?? '', STAFF, 'the Stop echoes the Class');
  const inOctets = Number(stop['Acct-Input-Octets']);
  const outOctets = Number(stop['Acct-Output-Octets']);
  assert.equal(inOctets, 2 * PINGS * 84, `Acct-Input-Octets: every ping (${inOctets})`);
  assert.equal(outOctets, 2 * PINGS * 84, `Acct-Output-Octets: every ping (${outOctets})`);
  ctx.log(`dead peer: Stop ${((Date.now() - killedAt) / 1000).toFixed(1)} s after the kill, cause ${stop['Acct-Terminate-Cause']}, in ${inOctets} B, out ${outOctets} B, Class ${stop.Class}, ${interims.length} Interim-Updates before`);
}
