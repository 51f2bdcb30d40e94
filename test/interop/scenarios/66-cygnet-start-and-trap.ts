/**
 * Two children of one connection, one start_action = start and one trap (issue 15): before, the trapped one never
 * came up once the IKE SA was up for the other (packets to its subnet vanished without a log line). cygnet (real
 * TUN) brings 'a' up at start; the first ping to the trapped subnet (THIRD) hits b's trap, and b's CHILD SA is
 * negotiated with CREATE_CHILD_SA over the existing IKE SA: strongSwan lists one IKE SA with a and b, the pings are
 * answered (the one that triggered the ACQUIRE was queued and sent), no trapped packet was counted unhandled.
 */
import assert from 'node:assert/strict';
import type { ScenarioContext } from '../lib/scenario.js';
import type { IkeSaInfo } from '../lib/swanctl-output.js';
import { twoHosts } from '../lib/topology.js';
import { startCygnet } from './20-cygnet-psk-responder.js';
import { THIRD, twoChildConf } from './65-cygnet-reuse-ikesa.js';

export const name = 'cygnet-start-and-trap';
export const timeoutMs = 40_000;

export async function run(ctx: ScenarioContext): Promise<void> {
  const h = await twoHosts(ctx.lab);
  await h.right.ns.addAddress('lo', `${THIRD}/32`);
  const swan = await ctx.startStrongswan({ ns: h.right.ns, swanctlConf: twoChildConf(h, 'right', { a: 'none', b: 'none' }) });
  await swan.loadAll();
  const cyg = await startCygnet(ctx, h, twoChildConf(h, 'left', { a: 'start', b: 'trap' }), ['--tun', 'cyg0']);
  await swan.waitEstablished('cyg', 'a');
  await cyg.peer.waitForLog(/installed trap policy for 'cyg' child 'b'/, 5000);
  await cyg.waitFor('child a installed', (s) => s.ikeSas.find((x) => x.state === 'ESTABLISHED' && x.children.some((c) => c.name === 'a')));
  assert.equal((await swan.listSas())[0]?.children.length, 1, 'only child a before traffic to the trapped subnet');

  const ping = await h.left.ns.ping(THIRD, { count: 3, source: h.left.inner4, waitS: 3 });
  assert.equal(ping.received, 3, `the first ping to ${THIRD} brings b up over the IKE SA and is answered: ${ping.output}`);
  await cyg.peer.waitForLog(/acquire for 'cyg' child 'b' \(start_action = trap\): initiating/, 1000);
  await cyg.peer.waitForLog(/acquire 'cyg' child 'b': reusing IKE_SA cyg\[\d+\] \(CREATE_CHILD_SA\)/, 1000);
  const [sa]: IkeSaInfo[] = await swan.waitForSa((sas) => (sas.length === 1 && sas[0]!.children.filter((c) => c.state === 'INSTALLED').length === 2 ? sas : undefined), 5000, 'one IKE SA with a and b');
  assert.ok(sa);
  assert.deepEqual(sa.children.map((c) => c.name).sort(), ['a', 'b']);
  assert.equal((await swan.grep(/parsed IKE_SA_INIT request/)).length, 1, 'strongSwan saw one IKE_SA_INIT');
  const b = sa.children.find((c) => c.name === 'b');
  assert.ok(b && b.packetsIn >= 3, `strongSwan received the pings on b: ${JSON.stringify(b)}`);
  const st = await cyg.waitFor('status with both children', (s) => (s.ikeSas.length === 1 && s.ikeSas[0]!.children.length === 2 ? s : undefined));
  assert.equal(st.counters.trapUnhandled ?? 0, 0, 'no trapped packet left unhandled');
}
