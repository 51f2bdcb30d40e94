/**
 * cygnet's own EAP peer (src/eap EapPeer, EAP-MSCHAPv2) through cygnet's RADIUS relay (src/radius
 * RadiusEapServer) to a real FreeRADIUS 3: the road-warrior's side and the gateway's side of an EAP-RADIUS login
 * end with the same 64-octet MSK, which is what both sign IKE_AUTH's AUTH payload with (RFC 7296 2.16). The peer
 * also checks FreeRADIUS' MSCHAPv2 authenticator response (mutual authentication). A wrong password ends in
 * Access-Reject on the gateway and an EAP-Failure at the peer.
 */
import assert from 'node:assert/strict';
import { systemRandom } from '../../../src/crypto/random.js';
import { RadiusSocketDriver } from '../../../src/daemon/radius-socket.js';
import { EapPeer } from '../../../src/eap/peer.js';
import type { EapStep } from '../../../src/eap/types.js';
import { radiusServer } from '../../../src/radius/config.js';
import { RadiusEapServer } from '../../../src/radius/eap-server.js';
import { startFreeradius } from '../lib/freeradius.js';
import type { ScenarioContext } from '../lib/scenario.js';

export const name = 'radius-eap-peer';
export const timeoutMs = 30_000;

const SECRET = 'peer-scenario-secret';

/** Runs gateway and peer against each other; returns both ends' last steps. */
async function login(gw: RadiusEapServer, peer: EapPeer): Promise<{ gw: EapStep; peer: EapStep | undefined }> {
  let g = await gw.start();
  let p: EapStep | undefined;
  for (let i = 0; g.kind === 'send' && i < 10; i++) {
    p = await peer.process(g.eap);
    if (p.kind !== 'send') break;
    g = await gw.process(p.eap);
  }
  // the gateway's EAP-Success / EAP-Failure goes to the peer last
  if (g.kind !== 'send' && g.eap) p = await peer.process(g.eap);
  return { gw: g, peer: p };
}

export async function run(ctx: ScenarioContext): Promise<void> {
  const fr = await startFreeradius(ctx, { clients: [{ address: '127.0.0.1', secret: SECRET }], users: [{ name: 'carol', password: 'Carol-Pw-9' }], defaultEapType: 'mschapv2' });
  const driver = new RadiusSocketDriver({ servers: [radiusServer({ name: 'fr', address: '127.0.0.1', authPort: fr.authPort, acctPort: fr.acctPort, secret: new TextEncoder().encode(SECRET) })] });
  ctx.defer(() => driver.close());
  const context = { local: { address: '192.0.2.1', port: 4500 }, remote: { address: '192.0.2.2', port: 4500 }, ikeSaUniqueId: 1, connectionName: 'rw' };
  const peerFor = (password: string) =>
    new EapPeer({ identity: 'carol', serverIdentity: 'gw.example.org', methods: ['mschapv2'], random: systemRandom, secrets: () => ({ kind: 'password', password }) });

  const ok = await login(new RadiusEapServer({ client: driver.client, identity: 'carol', context }), peerFor('Carol-Pw-9'));
  assert.equal(ok.gw.kind, 'success', `gateway: ${JSON.stringify(ok.gw)}`);
  assert.equal(ok.peer?.kind, 'success', `peer: ${JSON.stringify(ok.peer)}`);
  const gwMsk = ok.gw.kind === 'success' ? ok.gw.msk : undefined;
  const peerMsk = ok.peer?.kind === 'success' ? ok.peer.msk : undefined;
  assert.ok(gwMsk && peerMsk, 'both ends have an MSK');
  assert.equal(gwMsk.length, 64);
  assert.deepEqual(gwMsk, peerMsk, "the gateway's MSK (from FreeRADIUS' MPPE keys) is the peer's MSK");
  ctx.log(`carol: both ends MSK ${Buffer.from(gwMsk.subarray(0, 8)).toString('hex')}...`);

  const bad = await login(new RadiusEapServer({ client: driver.client, identity: 'carol', context }), peerFor('wrong'));
  assert.equal(bad.gw.kind, 'failure');
  assert.match(bad.gw.kind === 'failure' ? bad.gw.reason : '', /Access-Reject from RADIUS server 'fr'/);
  assert.equal(bad.peer?.kind, 'failure', `peer: ${JSON.stringify(bad.peer)}`);
  ctx.log(`wrong password: gateway "${bad.gw.kind === 'failure' ? bad.gw.reason : ''}", peer "${bad.peer?.kind === 'failure' ? bad.peer.reason : ''}"`);
}
