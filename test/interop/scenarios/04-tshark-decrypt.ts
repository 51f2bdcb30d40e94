/**
 * The capture-decoding helper, proven on strongSwan <-> strongSwan: keys come from the initiator's charon log
 * (ike/chd level 4), tshark decrypts IKE_AUTH and the ESP-in-UDP pings with them, and the decoded view agrees
 * with swanctl (SPIs) and with RFC 7296 1.2 (the IKE_AUTH request carries IDi, AUTH, SAi2, TSi, TSr).
 * Suites: AES-GCM (AEAD) and AES-CBC + HMAC-SHA2-256 (separate integrity keys).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { KEY_LOG_LEVELS, keysFromCharonLog, keysFromJsonLines } from '../lib/keys.js';
import type { ScenarioContext } from '../lib/scenario.js';
import type { IkeSaInfo } from '../lib/swanctl-output.js';
import { mirror, pskSwanctlConf, type PskConnection } from '../lib/swanctl-conf.js';
import { twoHosts } from '../lib/topology.js';
import { decodeCapture, startCapture } from '../lib/tshark.js';

export const name = 'tshark-decrypt';
export const timeoutMs = 40_000;

const SUITES = [
  ['aes128gcm16-prfsha256-x25519', 'aes128gcm16'],
  ['aes256-sha256-modp2048', 'aes256-sha256'],
] as const;

export async function run(ctx: ScenarioContext): Promise<void> {
  const { left, right } = await twoHosts(ctx.lab);
  const conns: PskConnection[] = SUITES.map(([ike, esp], i) => ({
    name: `d${i}`,
    localAddrs: left.outer4,
    remoteAddrs: right.outer4,
    localId: `left${i}@cygnet.test`,
    remoteId: `right${i}@cygnet.test`,
    proposals: ike,
    secret: `decrypt-${i}`,
    child: { name: `c${i}`, localTs: `${left.inner4}/32`, remoteTs: `${right.inner4}/32`, espProposals: esp },
  }));
  const [l, r] = await Promise.all([
    ctx.startStrongswan({ ns: left.ns, swanctlConf: conns.map(pskSwanctlConf).join(''), logLevels: KEY_LOG_LEVELS }),
    ctx.startStrongswan({ ns: right.ns, swanctlConf: conns.map((c) => pskSwanctlConf(mirror(c))).join('') }),
  ]);
  await Promise.all([l.loadAll(), r.loadAll()]);
  const cap = await startCapture(left.ns, 'eth0', join(ctx.dir, 'left-eth0.pcapng'));
  ctx.logFiles.push({ label: 'tshark', path: `${cap.file}.log` });

  const seen: IkeSaInfo[] = [];
  for (let i = 0; i < SUITES.length; i++) {
    await l.initiate(`c${i}`);
    seen.push(await l.waitEstablished(`d${i}`, `c${i}`));
    const ping = await left.ns.ping(right.inner4, { count: 2 });
    assert.equal(ping.received, 2, ping.output);
    await l.terminate(`d${i}`);
    await r.waitNoSas(`d${i}`);
  }
  await cap.stop();

  const keys = keysFromCharonLog(await l.log(), seen);
  assert.equal(keys.ike.length, 2, 'IKE keys for both SAs found in the log');
  assert.equal(keys.esp.length, 4, 'ESP keys for both directions of both CHILD SAs');
  // Round-trip through the JSON-lines key-log format proposed for cygnet's own export, and decode with that.
  const jsonl = [...keys.ike.map((k) => JSON.stringify({ type: 'ike', ...k })), ...keys.esp.map((k) => JSON.stringify({ type: 'esp', ...k }))].join('\n');
  const parsed = keysFromJsonLines(jsonl);
  assert.deepEqual(parsed.errors, []);
  assert.deepEqual(JSON.parse(JSON.stringify({ ike: parsed.ike, esp: parsed.esp })), JSON.parse(JSON.stringify(keys)));
  const packets = await decodeCapture(cap.file, parsed);
  ctx.log(packets.map((p) => `${p.frame} ${p.kind} ${p.exchange ?? ''} ${p.payloads.join(' ')} ${p.inner ? `${p.inner.src}>${p.inner.dst}` : ''}`).join('\n'));

  for (const [i, sa] of seen.entries()) {
    const child = sa.children[0];
    assert.ok(child);
    const ikeOfSa = packets.filter((p) => p.kind === 'IKE' && p.ispi === sa.initiatorSpi);
    const authReq = ikeOfSa.find((p) => p.exchange === 'IKE_AUTH' && !p.response);
    assert.ok(authReq, `suite ${i}: IKE_AUTH request captured`);
    assert.ok(authReq.decrypted, `suite ${i}: IKE_AUTH request decrypted`);
    for (const pl of ['IDi', 'AUTH', 'SA', 'TSi', 'TSr', 'N(INITIAL_CONTACT)']) assert.ok(authReq.payloads.includes(pl), `suite ${i}: IKE_AUTH has ${pl}: ${authReq.payloads.join(' ')}`);
    // Not necessarily the first INFORMATIONAL: the responder sometimes sends one of its own (MOBIKE) first.
    const infos = ikeOfSa.filter((p) => p.exchange === 'INFORMATIONAL' && !p.response);
    assert.ok(
      infos.some((p) => p.payloads.includes('D')),
      `suite ${i}: Delete payload visible in a decrypted INFORMATIONAL: ${infos.map((p) => p.payloads.join(' ')).join(' / ')}`,
    );
    for (const [spi, src, dst] of [
      [child.spiOut, left.inner4, right.inner4],
      [child.spiIn, right.inner4, left.inner4],
    ] as const) {
      const esp = packets.filter((p) => p.kind === 'ESP' && p.espSpi === spi);
      assert.equal(esp.length, 2, `suite ${i}: two ESP packets with SPI ${spi}`);
      for (const p of esp) {
        assert.equal(p.sport, 4500, 'ESP in UDP 4500 (RFC 3948)');
        assert.ok(p.decrypted && p.inner, `suite ${i}: ESP ${spi} decrypted`);
        assert.deepEqual([p.inner.src, p.inner.dst], [src, dst]);
      }
    }
  }
}
