/**
 * Dead peer detection (RFC 7296 2.4) in the cygnet daemon against strongSwan:
 * cygnet (dpd_delay = 1s, dpd_action = restart, keyingtries = 0, retransmissions shortened with
 * --retransmit-timeout 0.5 --retransmit-base 1.4 --retransmit-tries 2) loses its peer to a crash (SIGKILL, no
 * Delete): its liveness checks go unanswered, it declares the SA dead, removes it and, as dpd_action = restart
 * says, initiates again until a new strongSwan answers; the new SAs match on both sides.
 */
import assert from 'node:assert/strict';
import type { ScenarioContext } from '../lib/scenario.js';
import { mirror, pskSwanctlConf } from '../lib/swanctl-conf.js';
import { twoHosts } from '../lib/topology.js';
import { cygnetConnection, establishedCygnet, startCygnet } from './20-cygnet-psk-responder.js';

export const name = 'cygnet-dpd';
export const timeoutMs = 45_000;

export async function run(ctx: ScenarioContext): Promise<void> {
  const h = await twoHosts(ctx.lab);
  const base = cygnetConnection(h, { proposals: 'aes128gcm16-prfsha256-x25519', esp: 'aes128gcm16', startAction: 'start' });
  const conn = { ...base, extra: { dpd_delay: '1s', keyingtries: 0 }, child: { ...base.child, extra: { dpd_action: 'restart' } } };
  const theirs = mirror(base);
  const swanConf = pskSwanctlConf({ ...theirs, child: { ...theirs.child, startAction: 'none' } });
  const swan1 = await ctx.startStrongswan({ ns: h.right.ns, swanctlConf: swanConf, label: 'right-1' });
  await swan1.loadAll();
  const cyg = await startCygnet(ctx, h, pskSwanctlConf(conn), ['--retransmit-timeout', '0.5', '--retransmit-base', '1.4', '--retransmit-tries', '2']);
  const [c1] = await Promise.all([cyg.waitFor('SA established', establishedCygnet), swan1.waitEstablished('cyg', 'net')]);

  await swan1.crash();
  // A new strongSwan comes up at once; it knows nothing of the old SA, so cygnet's DPD still goes unanswered.
  // (It is started before cygnet gives up: cygnet's restart is a single attempt here, see the report on
  // keyingtries = 0.)
  const swan2 = await ctx.startStrongswan({ ns: h.right.ns, swanctlConf: swanConf, label: 'right-2' });
  await swan2.loadAll();
  await cyg.peer.waitForLog(/did not answer DPD/, 10_000);
  await cyg.waitFor('the dead SA removed', (s) => !s.ikeSas.some((x) => x.spiI === c1.spiI) || undefined, 5000);
  ctx.log('cygnet declared the peer dead');
  const [c2, s2] = await Promise.all([cyg.waitFor('SA re-established (dpd_action = restart)', (s) => {
    const sa = establishedCygnet(s);
    return sa && sa.spiI !== c1.spiI ? sa : undefined;
  }, 20_000), swan2.waitEstablished('cyg', 'net', 20_000)]);
  assert.equal(c2.spiI, s2.initiatorSpi);
  assert.equal(c2.children[0]!.spiIn, s2.children[0]!.spiOut);
}
