/**
 * Traffic through a cygnet <-> strongSwan tunnel: cygnet (left) runs with a real Linux TUN (`--tun cyg0`) and
 * initiates; strongSwan (right) uses kernel-libipsec. A ping 10.1.0.1 -> 10.2.0.1 leaves the left namespace
 * through cyg0, becomes ESP-in-UDP (RFC 3948) in cygnet's engine, is decrypted by strongSwan and answered the
 * same way back; then the other direction. Both sides' ESP counters must show the packets.
 *
 * cygnet routes the remote selector into its TUN itself (`10.2.0.1/32 dev cyg0 src 10.1.0.1`, the source being our
 * address inside the local selector, as charon chooses it) and removes the route on exit.
 */
import assert from 'node:assert/strict';
import type { ScenarioContext } from '../lib/scenario.js';
import { mirror, pskSwanctlConf } from '../lib/swanctl-conf.js';
import { twoHosts } from '../lib/topology.js';
import { assertSameSa, cygnetConnection, establishedCygnet, startCygnet } from './20-cygnet-psk-responder.js';

export const name = 'cygnet-tun-ping';
export const timeoutMs = 40_000;

export async function run(ctx: ScenarioContext): Promise<void> {
  const h = await twoHosts(ctx.lab);
  const conn = cygnetConnection(h, { proposals: 'aes128gcm16-prfsha256-x25519', esp: 'aes128gcm16', startAction: 'start' });
  const theirs = mirror(conn);
  const swan = await ctx.startStrongswan({ ns: h.right.ns, swanctlConf: pskSwanctlConf({ ...theirs, child: { ...theirs.child, startAction: 'none' } }) });
  await swan.loadAll();
  const cyg = await startCygnet(ctx, h, pskSwanctlConf(conn), ['--tun', 'cyg0']);
  await cyg.peer.waitForLog(/TUN device cyg0/, 5000);

  const [ci, si] = await Promise.all([cyg.waitFor('SA established', establishedCygnet), swan.waitEstablished('cyg', 'net')]);
  assertSameSa(ci, si, { suite: 'AES_GCM_16-128/PRF_HMAC_SHA2_256/CURVE_25519', espSuite: 'AES_GCM_16-128', cygnetInitiated: true, h });

  await cyg.peer.waitForLog(/installed route 10\.2\.0\.1\/32 dev cyg0 src 10\.1\.0\.1/, 3000);
  const out = await h.left.ns.ping(h.right.inner4, { count: 4, source: h.left.inner4 });
  assert.equal(out.received, 4, `ping left -> right through the tunnel:\n${out.output}`);
  const back = await h.right.ns.ping(h.left.inner4, { count: 3, source: h.right.inner4 });
  assert.equal(back.received, 3, `ping right -> left through the tunnel:\n${back.output}`);

  const sc = (await swan.listSas())[0]?.children[0];
  assert.ok(sc && sc.packetsIn >= 7 && sc.packetsOut >= 7, `strongSwan counted the ESP packets (${sc?.packetsIn} in, ${sc?.packetsOut} out)`);
  // SIGUSR1 makes cygnet rewrite its status file with the engine's counters.
  process.kill(cyg.peer.process.pid, 'SIGUSR1');
  const cc = await cyg.waitFor('ESP counters after SIGUSR1', (s) => {
    const c = establishedCygnet(s)?.children[0];
    return c && c.packetsIn !== undefined && c.packetsIn > 0 ? c : undefined;
  }, 3000);
  ctx.log(`cygnet counters: ${cc.packetsIn} packets in, ${cc.packetsOut} out`);
  assert.equal(cc.packetsIn, sc.packetsOut, 'what strongSwan sent, cygnet received');
  assert.equal(cc.packetsOut, sc.packetsIn, 'what cygnet sent, strongSwan received');
  assert.ok((await cyg.peer.grep(/status: 1 IKE SA/)).length > 0, 'SIGUSR1 logged the status');

  // SIGTERM: Delete sent, route removed, exit 0.
  assert.equal(await cyg.peer.stop(5000), 0, 'cygnet exits 0');
  await swan.waitNoSas('cyg', 5000);
  assert.ok((await cyg.peer.grep(/removed route 10\.2\.0\.1\/32 dev cyg0/)).length > 0, 'route removed on exit');
  const routes = await h.left.ns.ip(['route', 'show', 'table', 'main'], { allowFail: true });
  assert.doesNotMatch(routes.stdout, /10\.2\.0\.1/, 'no route left behind');
}
