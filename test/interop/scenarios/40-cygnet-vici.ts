/**
 * Debian's swanctl drives cygnet through its vici socket (`--uri unix:///var/run/cygnet.vici`, issue 7):
 * --version --daemon, --stats, --list-conns, --initiate --child (blocking, with cygnet's log lines), --list-sas
 * on both sides with the same SPIs, --rekey --child, --terminate --ike (Delete honoured by strongSwan).
 */
import assert from 'node:assert/strict';
import type { ScenarioContext } from '../lib/scenario.js';
import { mirror, pskSwanctlConf } from '../lib/swanctl-conf.js';
import { twoHosts } from '../lib/topology.js';
import { cygnetConnection } from './20-cygnet-psk-responder.js';

export const name = 'cygnet-vici';
export const timeoutMs = 40_000;

export async function run(ctx: ScenarioContext): Promise<void> {
  const h = await twoHosts(ctx.lab);
  const conn = cygnetConnection(h, { proposals: 'aes128gcm16-prfsha256-x25519', esp: 'aes128gcm16' });
  const swan = await ctx.startStrongswan({ ns: h.right.ns, swanctlConf: pskSwanctlConf(mirror(conn)) });
  await swan.loadAll();
  // ready: 'vici' = swanctl --stats answers on cygnet's socket.
  const cyg = await ctx.startCygnet({ ns: h.left.ns, config: pskSwanctlConf(conn), args: ['--tun', 'cyg0'], ready: 'vici' });

  const ver = await cyg.swanctl(['--version', '--daemon']);
  assert.match(ver.stdout, /cygnet/, `swanctl --version --daemon: ${ver.stdout}`);
  const stats = await cyg.swanctl(['--stats']);
  assert.match(stats.stdout, /IKE_SAs: 0 total/, stats.stdout);
  const conns = await cyg.swanctl(['--list-conns']);
  assert.match(conns.stdout, /cyg: IKEv2/, conns.stdout);
  assert.match(conns.stdout, /net: TUNNEL/, conns.stdout);

  const init = await cyg.initiate('net');
  assert.match(init.stdout, /CHILD_SA net\{1\} established/, `--initiate shows cygnet's log: ${init.stdout}`);
  const [ci, si] = await Promise.all([cyg.waitEstablished('cyg', 'net'), swan.waitEstablished('cyg', 'net')]);
  assert.equal(ci.initiatorSpi, si.initiatorSpi);
  assert.equal(ci.responderSpi, si.responderSpi);
  assert.equal(ci.suite, si.suite);
  const cc = ci.children[0]!;
  const sc = si.children[0]!;
  assert.equal(cc.spiIn, sc.spiOut);
  assert.equal(cc.spiOut, sc.spiIn);
  assert.equal(cc.suite, sc.suite);
  const ping = await h.left.ns.ping(h.right.inner4, { count: 3, source: h.left.inner4 });
  assert.equal(ping.received, 3, ping.output);
  const counted = await cyg.waitForSa((sas) => {
    const c = sas[0]?.children[0];
    return c && c.packetsOut >= 3 && c.packetsIn >= 3 ? c : undefined;
  }, 3000, 'ESP counters in cygnet --list-sas');
  ctx.log(`cygnet --list-sas: ${counted.packetsIn} packets in, ${counted.packetsOut} out`);

  await cyg.rekey({ child: 'net' });
  await cyg.waitForSa((sas) => sas[0]?.children.find((c) => c.state === 'INSTALLED' && c.spiIn !== cc.spiIn), 5000, 'rekeyed CHILD SA');
  await swan.waitForSa((sas) => sas[0]?.children.find((c) => c.state === 'INSTALLED' && c.spiOut !== sc.spiOut), 5000, 'strongSwan sees the rekeyed CHILD SA');

  await cyg.terminate('cyg');
  await Promise.all([cyg.waitNoSas(), swan.waitNoSas()]);
}
