/**
 * NAT-T keepalives (RFC 3948 section 4) from cygnet behind a NAT: with `--settings` charon.keep_alive = 2s,
 * cygnet (initiator, NAT detected locally by NAT-D, RFC 7296 2.23) sends a one-byte 0xFF UDP datagram from its
 * port 4500 to strongSwan's 4500 every 2 s while it sends nothing else, so the NAT mapping stays open.
 *
 * Captured on the NAT's inside veth (cygnet's own addresses, before translation): at least three keepalives in
 * ~7 s, 1.6-2.6 s apart, all 10.0.1.2:4500 -> 198.51.100.2:4500, payload exactly ff; none from strongSwan (not
 * behind a NAT). Both sides still hold the same SA, and the keepalives did not disturb it: a ping goes through.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run as exec } from '../lib/exec.js';
import type { ScenarioContext } from '../lib/scenario.js';
import { mirror, pskSwanctlConf, type PskConnection } from '../lib/swanctl-conf.js';
import { natHosts, type TwoHosts } from '../lib/topology.js';
import { startCapture } from '../lib/tshark.js';
import { establishedCygnet, startCygnet } from './20-cygnet-psk-responder.js';

export const name = 'cygnet-nat-keepalive';
export const timeoutMs = 30_000;

export async function run(ctx: ScenarioContext): Promise<void> {
  const { left, right, nat } = await natHosts(ctx.lab);
  const conn: PskConnection = {
    name: 'cyg',
    localAddrs: left.outer4,
    remoteAddrs: right.outer4,
    localId: 'cygnet@cygnet.test',
    remoteId: 'swan@cygnet.test',
    proposals: 'aes128gcm16-prfsha256-x25519',
    secret: 'keepalive-psk',
    child: { name: 'net', localTs: `${left.inner4}/32`, remoteTs: `${right.inner4}/32`, espProposals: 'aes128gcm16', startAction: 'start' },
    extra: { mobike: 'no' },
  };
  const theirs = mirror(conn);
  const swan = await ctx.startStrongswan({ ns: right.ns, swanctlConf: pskSwanctlConf({ ...theirs, remoteAddrs: '%any', child: { ...theirs.child, startAction: 'none' } }) });
  await swan.loadAll();
  const settings = join(await ctx.subdir('settings'), 'strongswan.conf');
  await writeFile(settings, 'charon {\n  keep_alive = 2s\n}\n');
  const cyg = await startCygnet(ctx, { left, right } as TwoHosts, pskSwanctlConf(conn), ['--settings', settings, '--tun', 'cyg0']);
  await cyg.peer.waitForLog(`loaded settings from ${settings}: keepaliveMs 2000`, 1000);

  const [ci, si] = await Promise.all([cyg.waitFor('SA established', establishedCygnet), swan.waitEstablished('cyg', 'net')]);
  assert.equal(ci.natLocal, true, 'cygnet detected the NAT in front of it');
  assert.equal(si.natRemote, true, 'strongSwan detected the NAT in front of cygnet');
  assert.equal(si.natLocal, false, 'strongSwan is not behind a NAT');
  assert.equal(ci.spiI, si.initiatorSpi);

  // Quiet tunnel: nothing but keepalives should leave cygnet for a while.
  const cap = await startCapture(nat.ns, 'eth0', join(await ctx.subdir('capture'), 'inside.pcap'), { captureFilter: 'udp' });
  await new Promise((r) => setTimeout(r, 7000));
  await cap.stop();
  const r = await exec('tshark', ['-r', cap.file, '-n', '-Y', 'udp.length == 9', '-T', 'fields', '-e', 'frame.time_relative', '-e', 'ip.src', '-e', 'udp.srcport', '-e', 'ip.dst', '-e', 'udp.dstport', '-e', 'udp.payload']);
  const kas = r.stdout.trim().split('\n').filter((l) => l).map((l) => {
    const [t, src, sport, dst, dport, payload] = l.split('\t');
    return { t: Number(t), src: src!, sport: Number(sport), dst: dst!, dport: Number(dport), payload: (payload ?? '').replace(/:/g, '') };
  });
  ctx.log(`keepalives: ${kas.map((k) => `${k.t.toFixed(2)}s ${k.src}:${k.sport}->${k.dst}:${k.dport} ${k.payload}`).join(', ')}`);
  const fromCyg = kas.filter((k) => k.src === left.outer4);
  assert.ok(fromCyg.length >= 3, `at least 3 keepalives from cygnet in ~7 s (got ${fromCyg.length})`);
  for (const k of fromCyg) {
    assert.equal(k.payload, 'ff', 'a NAT-keepalive is the single octet 0xFF (RFC 3948 2.3)');
    assert.equal(k.sport, 4500, 'from the NAT-T port');
    assert.equal(k.dst, right.outer4);
    assert.equal(k.dport, 4500, "to strongSwan's NAT-T port");
  }
  const gaps = fromCyg.slice(1).map((k, i) => k.t - fromCyg[i]!.t);
  for (const g of gaps) assert.ok(g >= 1.6 && g <= 2.6, `keepalives ~2 s apart (gaps ${gaps.map((x) => x.toFixed(2)).join(', ')})`);
  assert.equal(kas.filter((k) => k.src === right.outer4).length, 0, 'strongSwan (not behind a NAT) sends none');

  // The SA is untouched on both sides, and traffic still flows through the NAT mapping the keepalives held.
  const after = await swan.waitEstablished('cyg', 'net');
  assert.equal(after.initiatorSpi, ci.spiI);
  assert.equal(cyg.status()?.ikeSas.length, 1);
  const ping = await left.ns.ping(right.inner4, { count: 2, source: left.inner4 });
  assert.equal(ping.received, 2, `ping through the NAT: ${ping.output}`);
}
