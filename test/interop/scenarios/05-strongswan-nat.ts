/**
 * strongSwan behind an nftables masquerade NAT initiating to a public strongSwan: proves the NAT layout for the
 * cygnet NAT-T scenarios (issue 5).
 *
 * - RFC 7296 2.23: NAT_DETECTION_* hashes mismatch, the initiator knows it is behind the NAT, IKE floats to 4500.
 * - RFC 3948 4: NAT-keepalives (one 0xFF byte on UDP 4500) from the side behind the NAT, observed on the NAT's
 *   public link (strongSwan's keep_alive shortened to 1 s).
 * - NAT rebinding: after the mapping changes, the public side follows the new port (strongSwan updates the
 *   IKE SA's remote endpoint on an authenticated IKE request, here a CHILD rekey from the left; only with
 *   mobike = no, see below).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { sleep } from '../lib/exec.js';
import type { ScenarioContext } from '../lib/scenario.js';
import { mirror, pskSwanctlConf, type PskConnection } from '../lib/swanctl-conf.js';
import { natHosts } from '../lib/topology.js';
import { decodeCapture, startCapture } from '../lib/tshark.js';

export const name = 'strongswan-nat';
export const timeoutMs = 40_000;

export async function run(ctx: ScenarioContext): Promise<void> {
  const { left, right, nat } = await natHosts(ctx.lab);
  const conn: PskConnection = {
    name: 'nat',
    localAddrs: left.outer4,
    remoteAddrs: right.outer4,
    localId: 'left@cygnet.test',
    remoteId: 'right@cygnet.test',
    proposals: 'aes128gcm16-prfsha256-x25519',
    secret: 'nat-psk',
    child: { name: 'net', localTs: `${left.inner4}/32`, remoteTs: `${right.inner4}/32`, espProposals: 'aes128gcm16' },
    // With MOBIKE negotiated strongSwan does not float the peer's endpoint on authenticated requests (it waits
    // for UPDATE_SA_ADDRESSES, RFC 4555); without it, it follows the NAT mapping as RFC 7296 2.23 describes.
    extra: { mobike: 'no' },
  };
  const [l, r] = await Promise.all([
    ctx.startStrongswan({ ns: left.ns, swanctlConf: pskSwanctlConf(conn), charonOptions: 'keep_alive = 1s' }),
    // The responder accepts any address: it only ever sees the NAT's public address.
    ctx.startStrongswan({ ns: right.ns, swanctlConf: pskSwanctlConf({ ...mirror(conn), remoteAddrs: '%any' }) }),
  ]);
  await Promise.all([l.loadAll(), r.loadAll()]);
  const cap = await startCapture(nat.ns, 'eth1', join(ctx.dir, 'nat-eth1.pcapng'));
  ctx.logFiles.push({ label: 'tshark', path: `${cap.file}.log` });

  await l.initiate('net');
  const [li, ri] = await Promise.all([l.waitEstablished('nat', 'net'), r.waitEstablished('nat', 'net')]);
  assert.equal(li.natLocal, true, 'left detected that it is behind a NAT');
  assert.equal(ri.natRemote, true, 'right detected that left is behind a NAT');
  assert.equal(ri.remoteHost, nat.outside, 'right sees the NAT public address');
  assert.ok(ri.remotePort >= 20000 && ri.remotePort <= 20099, `right sees a NAT-mapped port (${ri.remotePort})`);
  assert.equal(li.localPort, 4500);
  const ping = await left.ns.ping(right.inner4, { count: 3 });
  assert.equal(ping.received, 3, ping.output);

  await sleep(2500); // idle: keep_alive = 1s makes left send NAT-keepalives
  await cap.stop();
  const keepalives = await decodeCapture(cap.file, {}, { displayFilter: 'udpencap.nat_keepalive' });
  assert.ok(keepalives.length >= 1, `NAT-keepalives seen on the public side: ${keepalives.length}`);
  assert.ok(keepalives.every((p) => p.src === nat.outside && p.dport === 4500));

  // Rebinding: new port range, mappings flushed; a liveness check from left reaches right from a new port.
  await nat.rebind([30000, 30099]);
  await l.rekey({ child: 'net' }); // any authenticated exchange from left carries the new mapping
  const moved = await r.waitForSa((sas) => {
    const s = sas.find((x) => x.name === 'nat');
    return s && s.remotePort >= 30000 && s.remotePort <= 30099 ? s : undefined;
  }, 10_000, 'right to follow the new NAT mapping');
  ctx.log(`right now sees ${moved.remoteHost}:${moved.remotePort}`);
  const ping2 = await left.ns.ping(right.inner4, { count: 3 });
  assert.equal(ping2.received, 3, `ping after rebinding: ${ping2.output}`);
}
