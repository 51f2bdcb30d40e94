/**
 * Site-to-site in containers (docker/compose.yml, s2s-*): cygnet and strongSwan as gateways, each in its own
 * container with a LAN behind it and a host on that LAN; PSK, aes256gcm16-prfsha384-ecp384, cygnet initiates
 * (start_action = start):
 *
 *   s2s-host-left 10.71.1.10 -- s2s-cygnet ==ESP-in-UDP (172.31.71.0/24)== s2s-strongswan -- s2s-host-right 10.71.2.10
 *
 * Asserted: every container turns healthy (each health check pings across the tunnel); both gateways agree on the
 * IKE SPIs, the suite, the CHILD SPIs crosswise and the subnets; host-to-host pings both ways arrive with TTL 62
 * (forwarded by both gateways) and are counted on both sides' CHILD SAs, as are gateway-to-far-host pings;
 * `docker stop` on cygnet (SIGTERM) deletes the SAs at strongSwan.
 */
import assert from 'node:assert/strict';
import { ComposeStack, childCounters, ikeSpis } from '../lib/docker.js';
import type { ScenarioContext } from '../lib/scenario.js';

export const name = 'docker-site-to-site';
export const timeoutMs = 90_000;

export async function run(ctx: ScenarioContext): Promise<void> {
  const t0 = Date.now();
  const s = await ComposeStack.up(ctx, ['s2s-strongswan', 's2s-cygnet', 's2s-host-left', 's2s-host-right']);
  await s.waitHealthy(45_000);
  ctx.log(`up and healthy in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

  const [sa] = await s.swanSas('s2s-strongswan');
  assert.ok(sa, 'strongSwan has an IKE SA');
  assert.equal(sa.state, 'ESTABLISHED');
  assert.equal(sa.initiator, false, 'cygnet initiated (start_action = start)');
  assert.equal(sa.remoteId, 'cygnet.s2s.test');
  assert.equal(sa.suite, 'AES_GCM_16-256/PRF_HMAC_SHA2_384/ECP_384');
  const child = sa.children[0];
  assert.ok(child, 'strongSwan has a CHILD SA');
  assert.equal(child.state, 'INSTALLED');
  assert.equal(child.suite, 'AES_GCM_16-256');
  assert.deepEqual(child.localTs, ['10.71.2.0/24']);
  assert.deepEqual(child.remoteTs, ['10.71.1.0/24']);

  const cygText = await s.listSasText('s2s-cygnet', 'cygnet');
  const cygIke = ikeSpis(cygText);
  assert.equal(cygIke.state, 'ESTABLISHED');
  assert.deepEqual([cygIke.spiI, cygIke.spiR], [sa.initiatorSpi, sa.responderSpi], 'same IKE SPIs both sides');
  assert.match(cygText, /local\s+10\.71\.1\.0\/24\s*\n\s*remote\s+10\.71\.2\.0\/24/, "cygnet's selectors");
  const before = { swan: childCounters(await s.listSasText('s2s-strongswan', 'strongswan')), cyg: childCounters(cygText) };
  assert.equal(before.cyg.spiIn, before.swan.spiOut, 'CHILD SPIs crosswise');
  assert.equal(before.cyg.spiOut, before.swan.spiIn, 'CHILD SPIs crosswise');
  await s.waitForLog('s2s-cygnet', /installed route 10\.71\.2\.0\/24 dev cyg0/);

  // Host to host: two forwarding gateways on the way back, so TTL 64 - 2.
  const lr = await s.ping('s2s-host-left', '10.71.2.10', { count: 5 });
  assert.equal(lr.received, 5, `host-left -> host-right: ${lr.output}`);
  assert.deepEqual([...new Set(lr.ttls)], [62], `replies crossed both gateways: ${lr.output}`);
  const rl = await s.ping('s2s-host-right', '10.71.1.10', { count: 5 });
  assert.equal(rl.received, 5, `host-right -> host-left: ${rl.output}`);
  assert.deepEqual([...new Set(rl.ttls)], [62], `replies crossed both gateways: ${rl.output}`);
  // Each gateway to the host behind the other one (its own LAN address as the source).
  const cg = await s.ping('s2s-cygnet', '10.71.2.10', { count: 3, source: '10.71.1.2' });
  assert.equal(cg.received, 3, `cygnet -> host-right: ${cg.output}`);
  const sg = await s.ping('s2s-strongswan', '10.71.1.10', { count: 3 });
  assert.equal(sg.received, 3, `strongSwan -> host-left: ${sg.output}`);

  const after = {
    swan: childCounters(await s.listSasText('s2s-strongswan', 'strongswan')),
    cyg: childCounters(await s.listSasText('s2s-cygnet', 'cygnet')),
  };
  // 16 requests and 16 replies crossed; health checks add more, never fewer.
  for (const side of ['swan', 'cyg'] as const) {
    const dIn = after[side].packetsIn - before[side].packetsIn;
    const dOut = after[side].packetsOut - before[side].packetsOut;
    assert.ok(dIn >= 16 && dOut >= 16, `${side}'s CHILD SA carried the pings (${dIn} in, ${dOut} out)`);
  }
  ctx.log(`counters: strongSwan ${after.swan.packetsIn} in / ${after.swan.packetsOut} out, cygnet ${after.cyg.packetsIn} in / ${after.cyg.packetsOut} out`);

  // docker stop = SIGTERM to cygnet (PID 1 of its container): it deletes its SAs on the way out.
  await s.stop('s2s-cygnet');
  await s.waitForLog('s2s-strongswan', /received DELETE for IKE_SA s2s\[\d+\]/, 5000);
  assert.equal((await s.swanSas('s2s-strongswan')).length, 0, 'strongSwan holds no SA after cygnet stopped');
}
