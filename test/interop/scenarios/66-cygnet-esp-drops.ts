/**
 * ESP drops where users look, in a real daemon (issue 15): with a CHILD SA up between cygnet and strongSwan,
 * forged ESP-in-UDP datagrams reach cygnet's port 4500 from the right namespace: 5 with cygnet's inbound SPI and a
 * wrong ICV (RFC 4303 3.4.4), 3 with an SPI no SA has (3.4.2). cygnet counts them per SA and in total: swanctl
 * --counters over cygnet's vici shows esp-drop-icv-failure 5 and esp-drop-unknown-spi 3, the status file's CHILD SA
 * shows dropsIn icv-failure 5 (written without further input), and each kind is logged once at level 1 with the
 * cause and the fix. The tunnel itself keeps working (ping).
 */
import assert from 'node:assert/strict';
import type { ScenarioContext } from '../lib/scenario.js';
import { mirror, pskSwanctlConf } from '../lib/swanctl-conf.js';
import { twoHosts } from '../lib/topology.js';
import { cygnetConnection, establishedCygnet, startCygnet } from './20-cygnet-psk-responder.js';

export const name = 'cygnet-esp-drops';
export const timeoutMs = 40_000;

/** python3 in the sender's namespace: `count` datagrams of SPI | seq | 64 octets of zeros to dst:4500. */
function forge(dst: string, spiHex: string, count: number): string[] {
  const code = `import socket,struct
s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)
for i in range(${count}):
    s.sendto(struct.pack('!II',0x${spiHex},1000+i)+bytes(64),('${dst}',4500))`;
  return ['-c', code];
}

export async function run(ctx: ScenarioContext): Promise<void> {
  const h = await twoHosts(ctx.lab);
  const base = cygnetConnection(h, { proposals: 'aes128gcm16-prfsha256-x25519', esp: 'aes128gcm16', startAction: 'start' });
  const theirs = mirror(base);
  const swan = await ctx.startStrongswan({ ns: h.right.ns, swanctlConf: pskSwanctlConf({ ...theirs, child: { ...theirs.child, startAction: 'none' } }) });
  await swan.loadAll();
  const cyg = await startCygnet(ctx, h, pskSwanctlConf(base), ['--tun', 'cyg0']);
  const [ci] = await Promise.all([cyg.waitFor('SA established', establishedCygnet), swan.waitEstablished('cyg', 'net')]);
  const spiIn = ci.children[0]!.spiIn;
  const before = await h.left.ns.ping(h.right.inner4, { count: 2, source: h.left.inner4 });
  assert.equal(before.received, 2, `tunnel up: ${before.output}`);

  await h.right.ns.exec('python3', forge(h.left.outer4, spiIn, 5));
  await h.right.ns.exec('python3', forge(h.left.outer4, 'dead0001', 3));

  // The status file: per SA, written within a second without any further input to the daemon.
  const st = await cyg.waitFor('drops in the status file', (s) => {
    const c = s.ikeSas[0]?.children[0];
    return c?.dropsIn?.['icv-failure'] === 5 ? c : undefined;
  }, 5000);
  assert.deepEqual(st.dropsIn, { 'icv-failure': 5 }, 'only the ICV failures are on the SA (unknown SPIs have none)');
  // vici counters (swanctl --counters over cygnet's socket): the totals.
  const counters = (await cyg.peer.swanctl(['--counters'])).stdout;
  ctx.log(counters.split('\n').filter((l) => /esp-drop/.test(l)).join('; '));
  assert.match(counters, /esp-drop-icv-failure\s*:?\s*5\b/, counters);
  assert.match(counters, /esp-drop-unknown-spi\s*:?\s*3\b/, counters);
  // Logged once each at level 1 (01[ESP]), with the fix.
  const icv = await cyg.peer.grep(/dropping packets \(icv-failure\)/);
  assert.equal(icv.length, 1, icv.join('\n'));
  assert.match(icv[0]!, new RegExp(`01\\[ESP\\].*${spiIn}.*compare esp_proposals`));
  const unknown = await cyg.peer.grep(/dropping packets \(unknown-spi\)/);
  assert.equal(unknown.length, 1, unknown.join('\n'));
  assert.match(unknown[0]!, /SPI dead0001/);

  const after = await h.left.ns.ping(h.right.inner4, { count: 2, source: h.left.inner4 });
  assert.equal(after.received, 2, `the tunnel still works: ${after.output}`);
}
