/**
 * cygnet's own key log (`--key-log FILE`, JSON lines) decrypts a capture of cygnet <-> strongSwan with tshark
 * (no charon debug logs needed): cygnet's IKE_AUTH request shows IDi, AUTH, SA, TSi, TSr inside SK; the Delete at
 * SIGTERM is visible; the ping's ESP packets decrypt to 10.1.0.1 <-> 10.2.0.1 in both directions. GCM and
 * CBC + HMAC suites.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { keysFromJsonLines } from '../lib/keys.js';
import type { ScenarioContext } from '../lib/scenario.js';
import { mirror, pskSwanctlConf } from '../lib/swanctl-conf.js';
import { twoHosts } from '../lib/topology.js';
import { decodeCapture, startCapture } from '../lib/tshark.js';
import { cygnetConnection, establishedCygnet, startCygnet } from './20-cygnet-psk-responder.js';

export const name = 'cygnet-tshark';
export const timeoutMs = 45_000;

const SUITES = [
  ['aes128gcm16-prfsha256-x25519', 'aes128gcm16'],
  ['aes256-sha256-modp2048', 'aes256-sha256'],
] as const;

export async function run(ctx: ScenarioContext): Promise<void> {
  const h = await twoHosts(ctx.lab);
  for (const [ike, esp] of SUITES) {
    const conn = cygnetConnection(h, { proposals: ike, esp, startAction: 'start' });
    const theirs = mirror(conn);
    const swan = await ctx.startStrongswan({ ns: h.right.ns, swanctlConf: pskSwanctlConf({ ...theirs, child: { ...theirs.child, startAction: 'none' } }), label: `right-${esp}` });
    await swan.loadAll();
    const cap = await startCapture(h.left.ns, 'eth0', join(ctx.dir, `left-${esp}.pcapng`));
    ctx.logFiles.push({ label: 'tshark', path: `${cap.file}.log` });
    const keyFile = join(ctx.dir, `cygnet-${esp}.keys`);
    const cyg = await startCygnet(ctx, h, pskSwanctlConf(conn), ['--tun', 'cyg0', '--key-log', keyFile]);
    const sa = await cyg.waitFor('SA established', establishedCygnet);
    await swan.waitEstablished('cyg', 'net');
    const ping = await h.left.ns.ping(h.right.inner4, { count: 2, source: h.left.inner4 });
    assert.equal(ping.received, 2, ping.output);
    assert.equal(await cyg.peer.stop(5000), 0);
    await swan.waitNoSas('cyg', 5000);
    await cap.stop();
    await swan.stop();

    const keys = keysFromJsonLines(readFileSync(keyFile, 'utf8'));
    assert.deepEqual(keys.errors, []);
    assert.equal(keys.ike.length, 1, 'one IKE SA in the key log');
    assert.equal(keys.esp.length, 2, 'both ESP SAs in the key log');
    const packets = await decodeCapture(cap.file, keys);
    ctx.log(`${esp}: ${packets.map((p) => `${p.kind} ${p.exchange ?? p.espSpi ?? ''} ${p.decrypted ? p.payloads.join(' ') : '(encrypted)'}`).join(' | ')}`);

    const ikeOfSa = packets.filter((p) => p.kind === 'IKE' && p.ispi === sa.spiI);
    const authReq = ikeOfSa.find((p) => p.exchange === 'IKE_AUTH' && !p.response);
    assert.ok(authReq?.decrypted, `${esp}: cygnet's IKE_AUTH request decrypted`);
    for (const pl of ['IDi', 'AUTH', 'SA', 'TSi', 'TSr']) assert.ok(authReq.payloads.includes(pl), `${esp}: IKE_AUTH has ${pl}: ${authReq.payloads.join(' ')}`);
    assert.ok(
      ikeOfSa.some((p) => p.exchange === 'INFORMATIONAL' && !p.response && p.decrypted && p.payloads.includes('D')),
      `${esp}: cygnet's Delete visible`,
    );
    const child = sa.children[0]!;
    for (const [spi, src, dst] of [
      [child.spiOut, h.left.inner4, h.right.inner4],
      [child.spiIn, h.right.inner4, h.left.inner4],
    ] as const) {
      const espPackets = packets.filter((p) => p.kind === 'ESP' && p.espSpi === spi);
      assert.ok(espPackets.length >= 2, `${esp}: ESP packets with SPI ${spi} captured (${espPackets.length})`);
      for (const p of espPackets) {
        assert.ok(p.decrypted && p.inner, `${esp}: ESP ${spi} decrypted`);
        assert.deepEqual([p.inner.src, p.inner.dst], [src, dst]);
      }
    }
  }
}
