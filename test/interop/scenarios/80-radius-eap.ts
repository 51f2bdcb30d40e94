/**
 * EAP relayed to a real FreeRADIUS 3 (issue 14, EAP-RADIUS): cygnet's RadiusEapServer (src/radius) over the UDP
 * driver (src/daemon/radius-socket.ts) against `freeradius -X` on loopback, with a test EAP peer answering
 * FreeRADIUS' EAP-Requests.
 *
 * - EAP-MSCHAPv2: Access-Request (EAP-Identity) -> Access-Challenge (MSCHAPv2 Challenge) -> ... -> Access-Accept;
 *   the MSK from MS-MPPE-Recv-Key || MS-MPPE-Send-Key is 64 octets and its halves are the RFC 3079 keys the peer
 *   derives from its own NT-Response (so decryption with the secret and Request Authenticator is right).
 * - A wrong password: Access-Reject -> 'failure' naming the server.
 * - EAP-MD5 (FreeRADIUS proposes MSCHAPv2, the peer Naks to MD5): Access-Accept without keys, no MSK.
 * - Failover: the preferred server does not answer; after its retransmissions the request goes to FreeRADIUS.
 * - A wrong shared secret: FreeRADIUS drops the request (bad Message-Authenticator), the session fails with
 *   "no answer from RADIUS server 'wrong-secret'".
 * - Accounting (RFC 2866): Start, Interim-Update and Stop for one session land in FreeRADIUS' detail file with the
 *   same Acct-Session-Id, the counters (Gigawords above 4 GiB), session time and terminate cause.
 */
import assert from 'node:assert/strict';
import { RadiusSocketDriver } from '../../../src/daemon/radius-socket.js';
import { RadiusAccounting } from '../../../src/radius/accounting.js';
import { radiusServer, type RadiusServerConfig } from '../../../src/radius/config.js';
import { RadiusEapServer, type RadiusSessionContext } from '../../../src/radius/eap-server.js';
import type { EapStep } from '../../../src/eap/types.js';
import { mschapv2ServerKeys, startFreeradius, TestEapPeer } from '../lib/freeradius.js';
import type { ScenarioContext } from '../lib/scenario.js';

export const name = 'radius-eap';
export const timeoutMs = 40_000;

const SECRET = 'cygnet-radius-secret';
const enc = new TextEncoder();

async function converse(server: RadiusEapServer, peer: TestEapPeer): Promise<EapStep> {
  let step = await server.start();
  for (let i = 0; step.kind === 'send' && i < 10; i++) step = await server.process(peer.respond(step.eap));
  return step;
}

export async function run(ctx: ScenarioContext): Promise<void> {
  const fr = await startFreeradius(ctx, {
    clients: [{ address: '127.0.0.1', secret: SECRET }],
    users: [
      { name: 'alice', password: 'alice-pw-1', reply: ['Framed-IP-Address = 10.3.0.7', 'Class = "staff"'] },
      { name: 'bob', password: 'bob-pw-2' },
    ],
    defaultEapType: 'mschapv2',
  });
  ctx.log(`FreeRADIUS on 127.0.0.1 auth ${fr.authPort} acct ${fr.acctPort}`);
  const live = radiusServer({ name: 'fr', address: '127.0.0.1', authPort: fr.authPort, acctPort: fr.acctPort, secret: enc.encode(SECRET) });
  const logs: string[] = [];
  const driver = (servers: RadiusServerConfig[]): RadiusSocketDriver => {
    const d = new RadiusSocketDriver({ servers, log: (_g, _l, m) => logs.push(m) });
    ctx.defer(() => d.close());
    return d;
  };
  const context: RadiusSessionContext = {
    local: { address: '192.0.2.1', port: 4500 },
    remote: { address: '198.51.100.7', port: 4500 },
    ikeSaUniqueId: 7,
    connectionName: 'rw-eap',
  };

  // EAP-MSCHAPv2 relayed: MSK from the MPPE keys
  const main = driver([live]);
  const alice = new TestEapPeer('alice', 'alice-pw-1', 'mschapv2');
  const aliceSession = new RadiusEapServer({ client: main.client, identity: 'alice', context });
  const ok = await converse(aliceSession, alice);
  assert.equal(ok.kind, 'success', `alice: ${JSON.stringify(ok)}`);
  assert.ok(ok.kind === 'success' && ok.msk, 'Access-Accept carried MPPE keys');
  const msk = ok.msk;
  assert.equal(msk.length, 64, 'MSK is 64 octets');
  const nt = alice.lastNtResponse;
  assert.ok(nt, 'the peer answered an MSCHAPv2 challenge');
  const keys = mschapv2ServerKeys('alice-pw-1', nt);
  assert.deepEqual(msk.subarray(0, 16), keys.recv, 'MSK starts with the server receive key (MS-MPPE-Recv-Key)');
  assert.deepEqual(msk.subarray(16, 32), keys.send, 'then the server send key (MS-MPPE-Send-Key)');
  assert.ok(msk.subarray(32).every((b) => b === 0), 'zero-padded to 64');
  assert.ok(ok.eap && ok.eap[0] === 3, 'EAP-Success relayed');
  assert.equal(aliceSession.method, 'mschapv2');
  assert.equal(aliceSession.accepted?.framedIp, '10.3.0.7', 'Framed-IP-Address surfaced');
  assert.deepEqual(aliceSession.accepted?.classes.map((c) => Buffer.from(c).toString()), ['staff'], 'Class surfaced');
  assert.ok(alice.serverMessages.some((m) => m.includes('S=')), 'MSCHAPv2 Success-Request came through');
  ctx.log(`alice: MSCHAPv2 accepted, MSK ${Buffer.from(msk.subarray(0, 8)).toString('hex')}..., Framed-IP ${aliceSession.accepted?.framedIp}`);

  // wrong password: Access-Reject
  const bad = await converse(new RadiusEapServer({ client: main.client, identity: 'bob', context }), new TestEapPeer('bob', 'not-bobs', 'mschapv2'));
  assert.equal(bad.kind, 'failure');
  assert.match(bad.kind === 'failure' ? bad.reason : '', /Access-Reject from RADIUS server 'fr'/);
  ctx.log(`bob with a wrong password: ${bad.kind === 'failure' ? bad.reason : ''}`);

  // EAP-MD5 after a Nak: accepted, no keys
  const md5 = await converse(new RadiusEapServer({ client: main.client, identity: 'bob', context }), new TestEapPeer('bob', 'bob-pw-2', 'md5'));
  assert.equal(md5.kind, 'success', `bob md5: ${JSON.stringify(md5)}`);
  assert.equal(md5.kind === 'success' ? md5.msk : 'x', undefined, 'EAP-MD5 derives no MSK');

  // failover: the preferred server is silent (nothing listens on its port)
  const silent = radiusServer({ name: 'silent', address: '127.0.0.1', authPort: 9, acctPort: 9, secret: enc.encode(SECRET), preference: 50, retransmitTries: 2, retransmitTimeoutMs: 300 });
  const fo = driver([silent, { ...live, name: 'fr-backup' }]);
  const t0 = Date.now();
  const viaBackup = await converse(new RadiusEapServer({ client: fo.client, identity: 'alice', context }), new TestEapPeer('alice', 'alice-pw-1', 'mschapv2'));
  assert.equal(viaBackup.kind, 'success', `failover: ${JSON.stringify(viaBackup)}`);
  assert.ok(logs.some((l) => l.includes("trying RADIUS server 'fr-backup' instead of 'silent'")), 'failover logged');
  ctx.log(`failover to fr-backup after ${Date.now() - t0} ms`);

  // wrong shared secret: FreeRADIUS drops it (bad Message-Authenticator), we time out naming the server
  const wrong = driver([radiusServer({ name: 'wrong-secret', address: '127.0.0.1', authPort: fr.authPort, acctPort: fr.acctPort, secret: enc.encode('not-the-secret'), retransmitTries: 2, retransmitTimeoutMs: 300 })]);
  const ws = await converse(new RadiusEapServer({ client: wrong.client, identity: 'alice', context }), alice);
  assert.equal(ws.kind, 'failure');
  assert.match(ws.kind === 'failure' ? ws.reason : '', /no answer from RADIUS server 'wrong-secret'/);

  // accounting: Start, Interim-Update, Stop in the detail file
  const acct = new RadiusAccounting({ client: main.client, sessionPrefix: 1_700_000_000 });
  const start = Date.now();
  const info = { ...context, ikeSaUniqueId: 7, userName: 'alice', virtualIps: ['10.3.0.7'] };
  assert.deepEqual(await acct.start(info, start), { ok: true });
  assert.deepEqual(await acct.interim(7, { bytesIn: 1000, bytesOut: 2000, packetsIn: 10, packetsOut: 20 }, start + 1500), { ok: true });
  const stop = await acct.stop(7, { bytesIn: 123_456, bytesOut: 5 * 2 ** 32 + 789, packetsIn: 321, packetsOut: 654 }, start + 3500);
  assert.deepEqual(stop, { ok: true });
  const recs = (await fr.detailRecords()).filter((r) => r['Acct-Session-Id'] === '1700000000-7');
  const byType = (t: string) => recs.find((r) => r['Acct-Status-Type'] === t);
  const [s, i, e] = [byType('Start'), byType('Interim-Update'), byType('Stop')];
  assert.ok(s && i && e, `Start, Interim-Update and Stop recorded: ${JSON.stringify(recs)}`);
  assert.equal(s['User-Name'], 'alice');
  assert.equal(s['Framed-IP-Address'], '10.3.0.7');
  assert.equal(s['NAS-Port-Type'], 'Virtual');
  assert.equal(s['Calling-Station-Id'], '198.51.100.7[4500]');
  assert.equal(s['Called-Station-Id'], '192.0.2.1[4500]');
  assert.equal(i['Acct-Input-Octets'], '1000');
  assert.equal(e['Acct-Input-Octets'], '123456');
  assert.equal(e['Acct-Output-Octets'], '789');
  assert.equal(e['Acct-Output-Gigawords'], '5');
  assert.equal(e['Acct-Input-Packets'], '321');
  assert.equal(e['Acct-Output-Packets'], '654');
  assert.equal(e['Acct-Session-Time'], '3');
  assert.equal(e['Acct-Terminate-Cause'], 'User-Request');
  ctx.log(`detail: Start/Interim/Stop for ${e['Acct-Session-Id']}, Stop in ${e['Acct-Input-Octets']} out ${e['Acct-Output-Gigawords']}G+${e['Acct-Output-Octets']}`);
}
