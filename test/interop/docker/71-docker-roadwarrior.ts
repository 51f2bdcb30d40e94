/**
 * Road warrior in containers (docker/compose.yml, rw-*): a strongSwan client asks for a virtual IP
 * (vips = 0.0.0.0, RFC 7296 3.15 CP(CFG_REQUEST)) from cygnet's pool (10.72.100.0/24, DNS 10.72.1.53) and
 * reaches the LAN behind cygnet:
 *
 *   rw-strongswan 172.31.72.20 [VIP] ==ESP-in-UDP== rw-cygnet 172.31.72.10 / 10.72.1.2 -- rw-host 10.72.1.10
 *
 * Asserted: every container turns healthy (pings across the tunnel); strongSwan installs the leased address and
 * uses it as its selector, and got the DNS server; cygnet logs the lease and narrows the peer's selector to it;
 * pings from the virtual IP to the host (TTL 63: forwarded by cygnet) and from the host to the virtual IP are
 * counted on both CHILD SAs; `docker stop` on the client (charon's SIGTERM Delete) clears cygnet's SA.
 */
import assert from 'node:assert/strict';
import { ComposeStack, childCounters, ikeSpis } from '../lib/docker.js';
import type { ScenarioContext } from '../lib/scenario.js';
import { waitFor } from '../lib/exec.js';

export const name = 'docker-roadwarrior';
export const timeoutMs = 90_000;

export async function run(ctx: ScenarioContext): Promise<void> {
  const t0 = Date.now();
  const s = await ComposeStack.up(ctx, ['rw-cygnet', 'rw-host', 'rw-strongswan']);
  await s.waitHealthy(45_000);
  ctx.log(`up and healthy in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

  const [sa] = await s.swanSas('rw-strongswan');
  assert.ok(sa, 'strongSwan has an IKE SA');
  assert.equal(sa.state, 'ESTABLISHED');
  assert.equal(sa.initiator, true, 'the client initiated');
  assert.equal(sa.suite, 'AES_GCM_16-128/PRF_HMAC_SHA2_256/CURVE_25519');
  const child = sa.children[0];
  assert.ok(child, 'strongSwan has a CHILD SA');
  const vipTs = child.localTs[0] ?? '';
  assert.match(vipTs, /^10\.72\.100\.\d+\/32$/, `strongSwan's selector is a lease from cygnet's pool (${child.localTs.join(' ')})`);
  assert.deepEqual(child.remoteTs, ['10.72.1.0/24']);
  const vip = vipTs.replace(/\/32$/, '');
  const esc = vip.replace(/\./g, '\\.');
  await s.waitForLog('rw-strongswan', new RegExp(`installing new virtual IP ${esc}`));
  await s.waitForLog('rw-strongswan', /installing DNS server 10\.72\.1\.53/);
  const addrs = (await s.exec('rw-strongswan', ['ip', '-4', '-o', 'addr'])).stdout;
  assert.match(addrs, new RegExp(`inet ${esc}/32`), `the virtual IP is on an interface of the client:\n${addrs}`);

  await s.waitForLog('rw-cygnet', new RegExp(`assigning virtual IP ${esc} to peer 'client\\.rw\\.test'`));
  await s.waitForLog('rw-cygnet', new RegExp(`installed route ${esc}/32 dev cyg0`));
  const cygText = await s.listSasText('rw-cygnet', 'cygnet');
  const cygIke = ikeSpis(cygText);
  assert.deepEqual([cygIke.spiI, cygIke.spiR], [sa.initiatorSpi, sa.responderSpi], 'same IKE SPIs both sides');
  assert.match(cygText, new RegExp(`local\\s+10\\.72\\.1\\.0/24\\s*\\n\\s*remote\\s+${esc}/32`), `cygnet narrowed the peer's selector to the lease:\n${cygText}`);
  const before = { swan: childCounters(await s.listSasText('rw-strongswan', 'strongswan')), cyg: childCounters(cygText) };
  assert.equal(before.cyg.spiIn, before.swan.spiOut, 'CHILD SPIs crosswise');
  assert.equal(before.cyg.spiOut, before.swan.spiIn, 'CHILD SPIs crosswise');

  // From the virtual IP (kernel-libipsec's route has it as source) to the host behind cygnet, and back.
  const out = await s.ping('rw-strongswan', '10.72.1.10', { count: 5 });
  assert.equal(out.received, 5, `client -> rw-host: ${out.output}`);
  assert.deepEqual([...new Set(out.ttls)], [63], `replies were forwarded by cygnet: ${out.output}`);
  const back = await s.ping('rw-host', vip, { count: 5 });
  assert.equal(back.received, 5, `rw-host -> virtual IP: ${back.output}`);
  const after = {
    swan: childCounters(await s.listSasText('rw-strongswan', 'strongswan')),
    cyg: childCounters(await s.listSasText('rw-cygnet', 'cygnet')),
  };
  for (const side of ['swan', 'cyg'] as const) {
    const dIn = after[side].packetsIn - before[side].packetsIn;
    const dOut = after[side].packetsOut - before[side].packetsOut;
    assert.ok(dIn >= 10 && dOut >= 10, `${side}'s CHILD SA carried the pings (${dIn} in, ${dOut} out)`);
  }
  ctx.log(`${vip}: strongSwan ${after.swan.packetsIn} in / ${after.swan.packetsOut} out, cygnet ${after.cyg.packetsIn} in / ${after.cyg.packetsOut} out`);

  // The client leaves (charon deletes on SIGTERM): cygnet drops the SA and the route to the lease.
  await s.stop('rw-strongswan');
  await waitFor('cygnet to hold no SA', async () => (/ESTABLISHED/.test(await s.listSasText('rw-cygnet', 'cygnet')) ? undefined : true), 5000, 250);
  await s.waitForLog('rw-cygnet', new RegExp(`removed route ${esc}/32 dev cyg0`), 5000);
}
