/**
 * cygnet behind a NAT (nftables masquerade, UDP ports mapped into 20000-20099) initiating to strongSwan:
 * NAT-D shows the NAT on both sides (RFC 7296 2.23), IKE floats to 4500 and strongSwan sees the NAT's public
 * address and a mapped port; pings cross the tunnel both ways. Then the NAT forgets its mappings and moves to
 * 30000-30099: cygnet's next authenticated exchange (its own CHILD rekey) comes from the new port, strongSwan
 * follows it (mobike = no, see 05-strongswan-nat), and traffic flows again.
 */
import assert from 'node:assert/strict';
import type { ScenarioContext } from '../lib/scenario.js';
import { mirror, pskSwanctlConf, type PskConnection } from '../lib/swanctl-conf.js';
import { natHosts, type TwoHosts } from '../lib/topology.js';
import { establishedCygnet, startCygnet } from './20-cygnet-psk-responder.js';

export const name = 'cygnet-nat';
export const timeoutMs = 45_000;

export async function run(ctx: ScenarioContext): Promise<void> {
  const { left, right, nat } = await natHosts(ctx.lab);
  const conn: PskConnection = {
    name: 'cyg',
    localAddrs: left.outer4,
    remoteAddrs: right.outer4,
    localId: 'cygnet@cygnet.test',
    remoteId: 'swan@cygnet.test',
    proposals: 'aes128gcm16-prfsha256-x25519',
    secret: 'nat-psk',
    child: {
      name: 'net',
      localTs: `${left.inner4}/32`,
      remoteTs: `${right.inner4}/32`,
      espProposals: 'aes128gcm16',
      startAction: 'start',
      // cygnet rekeys every 6 s, so an authenticated exchange follows the NAT rebinding below.
      extra: { rekey_time: '6s', life_time: '60s', rand_time: '0' },
    },
    extra: { mobike: 'no' },
  };
  const theirs = mirror(conn);
  const swan = await ctx.startStrongswan({
    ns: right.ns,
    swanctlConf: pskSwanctlConf({ ...theirs, remoteAddrs: '%any', child: { ...theirs.child, startAction: 'none', extra: {} } }),
  });
  await swan.loadAll();
  const cyg = await startCygnet(ctx, { left, right } as TwoHosts, pskSwanctlConf(conn), ['--tun', 'cyg0']);

  const [ci, si] = await Promise.all([cyg.waitFor('SA established', establishedCygnet), swan.waitEstablished('cyg', 'net')]);
  assert.equal(ci.natLocal, true, 'cygnet detected the NAT in front of it');
  assert.equal(si.natRemote, true, 'strongSwan detected the NAT in front of cygnet');
  assert.equal(si.remoteHost, nat.outside, 'strongSwan sees the public address');
  assert.ok(si.remotePort >= 20000 && si.remotePort <= 20099, `strongSwan sees a mapped port (${si.remotePort})`);
  assert.equal(ci.local, `${left.outer4}[4500]`, 'cygnet floated to 4500');
  assert.equal(ci.spiI, si.initiatorSpi);
  const p1 = await left.ns.ping(right.inner4, { count: 3, source: left.inner4 });
  assert.equal(p1.received, 3, `ping through the NAT: ${p1.output}`);
  const b1 = await right.ns.ping(left.inner4, { count: 2, source: right.inner4 });
  assert.equal(b1.received, 2, `ping from the public side: ${b1.output}`);

  await nat.rebind([30000, 30099]);
  const moved = await swan.waitForSa((sas) => {
    const s = sas.find((x) => x.name === 'cyg' && x.state === 'ESTABLISHED');
    return s && s.remotePort >= 30000 && s.remotePort <= 30099 ? s : undefined;
  }, 15_000, 'strongSwan to follow the new NAT mapping after cygnet rekeys');
  ctx.log(`strongSwan now sees ${moved.remoteHost}:${moved.remotePort}`);
  const p2 = await left.ns.ping(right.inner4, { count: 3, source: left.inner4 });
  assert.equal(p2.received, 3, `ping after the rebinding: ${p2.output}`);
}
