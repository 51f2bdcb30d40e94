/**
 * cygnet as the responder demands COOKIEs from strongSwan (RFC 7296 2.6), with strongSwan's cookie_threshold
 * semantics (issue 11, src/ike/limits.ts), and strongSwan's initiator accepts cygnet's cookie:
 *
 * 1. cygnet runs with `--settings` holding `charon { cookie_threshold = 1 }`.
 * 2. A deterministic half-open IKE SA on cygnet: strongSwan starts one from a second address (192.0.2.4) whose
 *    IKE_AUTH cygnet's namespace drops (nftables), so cygnet holds one half-open SA: the threshold is reached.
 * 3. strongSwan initiates the real connection from 192.0.2.2. cygnet answers `<-- HDR, N(COOKIE)` (logged
 *    "sending COOKIE notify"), strongSwan retries `HDR, N(COOKIE), SAi1, KEi, Ni -->`, and the SA comes up on both
 *    sides. The cookie (version | SHA-256(IPi | SPIi | secret), no Ni) is checked before anything is parsed.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ScenarioContext } from '../lib/scenario.js';
import { mirror, pskSwanctlConf, type PskConnection } from '../lib/swanctl-conf.js';
import { twoHosts } from '../lib/topology.js';
import { cygnetConnection, establishedCygnet, startCygnet } from './20-cygnet-psk-responder.js';

export const name = 'cygnet-cookie-responder';
export const timeoutMs = 40_000;

export async function run(ctx: ScenarioContext): Promise<void> {
  const h = await twoHosts(ctx.lab);
  await h.right.ns.addAddress('eth0', '192.0.2.4/24');
  const real = cygnetConnection(h, { proposals: 'aes128gcm16-prfsha256-x25519', esp: 'aes128gcm16' });
  const half: PskConnection = { ...real, name: 'half', remoteAddrs: '192.0.2.4', remoteId: 'half@cygnet.test', secret: 'interop-half-psk', child: { ...real.child, name: 'half-net' } };
  const settings = join(await ctx.subdir('settings'), 'strongswan.conf');
  await writeFile(settings, 'charon {\n  cookie_threshold = 1\n}\n');
  const cyg = await startCygnet(ctx, h, [real, half].map(pskSwanctlConf).join(''), ['--settings', settings]);
  const swan = await ctx.startStrongswan({ ns: h.right.ns, swanctlConf: [mirror(real), { ...mirror(half), localAddrs: '192.0.2.4' }].map(pskSwanctlConf).join('') });
  await swan.loadAll();

  // 2. One half-open IKE SA on cygnet: its IKE_AUTH (UDP 4500 from 192.0.2.4) never arrives.
  const unblock = await h.left.ns.block('ip saddr 192.0.2.4 udp dport 4500');
  ctx.defer(unblock);
  await swan.initiate('half-net', { allowFail: true, timeoutS: 1 });
  // (The status file is written on events; a half-open SA makes none, so its log line is the sign.)
  await cyg.peer.waitForLog(/192\.0\.2\.4\[500\] is initiating an IKE_SA/, 5000);

  // 3. The real connection gets a COOKIE first, retries with it and comes up.
  await swan.initiate('net');
  const [si, ci] = await Promise.all([swan.waitEstablished('cyg', 'net'), cyg.waitFor('IKE + CHILD SA established', establishedCygnet)]);
  ctx.log(`strongSwan ${si.initiatorSpi}/${si.responderSpi}; cygnet ${ci.spiI}/${ci.spiR}`);
  assert.equal(ci.spiI, si.initiatorSpi, 'IKE SPIi');
  assert.equal(ci.spiR, si.responderSpi, 'IKE SPIr');
  await cyg.peer.waitForLog(`sending COOKIE notify to ${h.right.outer4}`, 2000);
  const init = await swan.grep(/IKE_SA_INIT (request|response) 0 \[/);
  ctx.log(init.join('\n'));
  assert.ok(init.some((line) => /parsed IKE_SA_INIT response 0 \[ N\(COOKIE\) \]/.test(line)), 'strongSwan received the COOKIE');
  assert.ok(init.some((line) => /generating IKE_SA_INIT request 0 \[ N\(COOKIE\) SA KE No/.test(line)), 'strongSwan retried with the COOKIE first');
  await unblock();
  await swan.stop();
  await cyg.peer.stop();
}
