/**
 * strongSwan behind a NAT initiates to cygnet on the public side (real TUN). cygnet sees the NAT's public address
 * and a mapped port and sends ESP there. The NAT then forgets its mappings (new port range); strongSwan's next
 * authenticated request (a CHILD rekey) arrives from the new port, cygnet follows it (RFC 7296 2.23:
 * `ike-address-change`, outbound ESP SAs re-pointed) and a ping from cygnet's side is answered again.
 */
import assert from 'node:assert/strict';
import type { ScenarioContext } from '../lib/scenario.js';
import { mirror, pskSwanctlConf, type PskConnection } from '../lib/swanctl-conf.js';
import { natHosts, type TwoHosts } from '../lib/topology.js';
import { establishedCygnet, startCygnet } from './20-cygnet-psk-responder.js';

export const name = 'cygnet-nat-responder';
export const timeoutMs = 40_000;

export async function run(ctx: ScenarioContext): Promise<void> {
  const { left, right, nat } = await natHosts(ctx.lab);
  // strongSwan on the left (behind the NAT), cygnet on the right (public).
  const swanConn: PskConnection = {
    name: 'cyg',
    localAddrs: left.outer4,
    remoteAddrs: right.outer4,
    localId: 'swan@cygnet.test',
    remoteId: 'cygnet@cygnet.test',
    proposals: 'aes128gcm16-prfsha256-x25519',
    secret: 'nat-psk',
    child: { name: 'net', localTs: `${left.inner4}/32`, remoteTs: `${right.inner4}/32`, espProposals: 'aes128gcm16' },
    extra: { mobike: 'no' },
  };
  const cygConn = { ...mirror(swanConn), remoteAddrs: '%any' };
  const cyg = await startCygnet(ctx, { left: right, right: left } as TwoHosts, pskSwanctlConf(cygConn), ['--tun', 'cyg0']);
  const swan = await ctx.startStrongswan({ ns: left.ns, swanctlConf: pskSwanctlConf(swanConn) });
  await swan.loadAll();
  await swan.initiate('net');
  const [si, ci] = await Promise.all([swan.waitEstablished('cyg', 'net'), cyg.waitFor('SA established', establishedCygnet)]);
  assert.equal(si.natLocal, true, 'strongSwan detected the NAT in front of it');
  assert.equal(ci.natRemote, true, 'cygnet detected the NAT in front of strongSwan');
  const m1 = /^198\.51\.100\.1\[(\d+)\]$/.exec(ci.remote);
  assert.ok(m1 && Number(m1[1]) >= 20000 && Number(m1[1]) <= 20099, `cygnet sees the NAT's public address and a mapped port (${ci.remote})`);
  const p1 = await right.ns.ping(left.inner4, { count: 3, source: right.inner4 });
  assert.equal(p1.received, 3, `ping from cygnet's side through the NAT: ${p1.output}`);

  await nat.rebind([30000, 30099]);
  await swan.rekey({ child: 'net' });
  const moved = await cyg.waitFor('cygnet to follow the new NAT mapping', (s) => {
    const sa = establishedCygnet(s);
    const m = sa && /\[(\d+)\]$/.exec(sa.remote);
    return m && Number(m[1]) >= 30000 && Number(m[1]) <= 30099 ? sa : undefined;
  });
  ctx.log(`cygnet now sends to ${moved.remote}`);
  await cyg.peer.waitForLog(/ESP SAs of \d+ CHILD SA\(s\) follow/, 3000);
  const p2 = await right.ns.ping(left.inner4, { count: 3, source: right.inner4 });
  assert.equal(p2.received, 3, `ping from cygnet's side after the rebinding: ${p2.output}`);
}
