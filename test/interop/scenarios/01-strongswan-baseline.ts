/**
 * strongSwan <-> strongSwan over a veth: proves the harness (namespaces, private mounts, kernel-libipsec
 * routing, swanctl parsing) before cygnet is put on one side.
 *
 *   left (initiator)  HDR, SAi1, KEi, Ni  -->          right (responder)
 *                     <--  HDR, SAr1, KEr, Nr
 *                     HDR, SK {IDi, AUTH, SAi2, TSi, TSr}  -->   (UDP 4500: kernel-libipsec forces encapsulation)
 *                     <--  HDR, SK {IDr, AUTH, SAr2, TSi, TSr}
 *   ping 10.1.0.1 -> 10.2.0.1 through ESP-in-UDP, then INFORMATIONAL {D} from left; both sides empty.
 */
import assert from 'node:assert/strict';
import { iperf3 } from '../lib/iperf.js';
import type { ScenarioContext } from '../lib/scenario.js';
import { mirror, pskSwanctlConf, type PskConnection } from '../lib/swanctl-conf.js';
import { twoHosts } from '../lib/topology.js';

export const name = 'strongswan-baseline';
export const timeoutMs = 30_000;

export async function run(ctx: ScenarioContext): Promise<void> {
  const { left, right } = await twoHosts(ctx.lab);
  const conn: PskConnection = {
    name: 'base',
    localAddrs: left.outer4,
    remoteAddrs: right.outer4,
    localId: 'left@cygnet.test',
    remoteId: 'right@cygnet.test',
    proposals: 'aes128gcm16-prfsha256-x25519',
    secret: 'interop-baseline-psk',
    child: { name: 'net', localTs: `${left.inner4}/32`, remoteTs: `${right.inner4}/32`, espProposals: 'aes128gcm16' },
  };
  const [l, r] = await Promise.all([
    ctx.startStrongswan({ ns: left.ns, swanctlConf: pskSwanctlConf(conn) }),
    ctx.startStrongswan({ ns: right.ns, swanctlConf: pskSwanctlConf(mirror(conn)) }),
  ]);
  await Promise.all([l.loadAll(), r.loadAll()]);

  await l.initiate('net');
  const [li, ri] = await Promise.all([l.waitEstablished('base', 'net'), r.waitEstablished('base', 'net')]);
  ctx.log(`left ${li.suite} ${li.initiatorSpi}/${li.responderSpi}; right ${ri.suite}`);

  // IKE SA: same SPI pair and suite on both sides, roles right.
  assert.equal(li.initiator, true, 'left initiated');
  assert.equal(ri.initiator, false, 'right responded');
  assert.equal(li.initiatorSpi, ri.initiatorSpi);
  assert.equal(li.responderSpi, ri.responderSpi);
  assert.equal(li.suite, 'AES_GCM_16-128/PRF_HMAC_SHA2_256/CURVE_25519');
  assert.equal(ri.suite, li.suite);
  assert.equal(li.localId, conn.localId);
  assert.equal(li.remoteId, conn.remoteId);
  assert.equal(li.remotePort, 4500, 'kernel-libipsec forces UDP encapsulation, so IKE floats to 4500');

  // CHILD SA: one side's inbound SPI is the other's outbound; same ESP suite and selectors mirrored.
  const lc = li.children.find((c) => c.name === 'net');
  const rc = ri.children.find((c) => c.name === 'net');
  assert.ok(lc && rc);
  assert.match(lc.spiIn, /^[0-9a-f]{8}$/);
  assert.equal(lc.spiIn, rc.spiOut);
  assert.equal(lc.spiOut, rc.spiIn);
  assert.equal(lc.suite, 'AES_GCM_16-128');
  assert.equal(rc.suite, lc.suite);
  assert.equal(lc.mode, 'TUNNEL');
  assert.equal(lc.encap, true);
  assert.deepEqual(lc.localTs, ['10.1.0.1/32']);
  assert.deepEqual(lc.remoteTs, ['10.2.0.1/32']);
  assert.deepEqual(rc.localTs, lc.remoteTs);

  // Traffic through the tunnel (kernel-libipsec routes 10.2.0.1 via ipsec0, table 220, src 10.1.0.1).
  const ping = await left.ns.ping(right.inner4, { count: 4, source: left.inner4 });
  assert.equal(ping.received, 4, `ping through the tunnel: ${ping.output}`);
  const after = await l.waitForSa((sas) => {
    const c = sas.find((s) => s.name === 'base')?.children[0];
    return c && c.packetsOut >= 4 && c.packetsIn >= 4 ? c : undefined;
  }, 5000, 'ESP counters to show the pings');
  assert.ok(after.bytesOut > 0 && after.bytesIn > 0);
  const rAfter = (await r.listSas())[0]?.children[0];
  assert.ok(rAfter && rAfter.packetsIn >= 4 && rAfter.packetsOut >= 4, 'right counted the pings too');

  // A short bulk transfer both ways (kernel-libipsec manages ~50-70 Mbit/s here; only sanity is asserted).
  const up = await iperf3(right.ns, left.ns, right.inner4, { seconds: 1, logDir: ctx.dir });
  const down = await iperf3(right.ns, left.ns, right.inner4, { seconds: 1, reverse: true, logDir: ctx.dir });
  ctx.log(`iperf3 through strongSwan: ${up.mbps.toFixed(1)} Mbit/s up, ${down.mbps.toFixed(1)} Mbit/s down`);
  assert.ok(up.mbps > 1 && down.mbps > 1, 'bulk TCP flows through the tunnel both ways');

  // Delete from the initiator; the responder must drop everything too.
  await l.terminate('base');
  await Promise.all([l.waitNoSas(), r.waitNoSas()]);
  assert.ok((await r.grep(/deleting IKE_SA base/)).length > 0, 'right logged the Delete it received');
  const gone = await left.ns.ping(right.inner4, { count: 1, waitS: 1 });
  assert.equal(gone.received, 0, 'no tunnel, no reply');
}
