/**
 * Two DoS/size mechanisms issue 4/5 test against strongSwan, set up strongSwan <-> strongSwan first so the knobs
 * are known to work here:
 *
 * 1. IKE fragmentation (RFC 7383): both sides `fragmentation = yes`, the initiator's `fragment_size = 200`, so
 *    the IKE_AUTH request goes out as `HDR, SKF {...}` fragments (seen decoded in the capture) and the responder
 *    reassembles it.
 * 2. COOKIE (RFC 7296 2.6): strongSwan only demands cookies while it holds >= cookie_threshold half-open IKE SAs.
 *    A deterministic half-open SA: a second left address (192.0.2.3) starts an IKE SA whose IKE_AUTH the right
 *    drops (nftables). With cookie_threshold = 1 the next IKE_SA_INIT is answered `<-- HDR, N(COOKIE)`, and the
 *    initiator retries `HDR, N(COOKIE), SAi1, KEi, Ni -->`.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { ScenarioContext } from '../lib/scenario.js';
import { mirror, pskSwanctlConf, type PskConnection } from '../lib/swanctl-conf.js';
import { twoHosts } from '../lib/topology.js';
import { decodeCapture, startCapture } from '../lib/tshark.js';

export const name = 'strongswan-cookie-frag';
export const timeoutMs = 40_000;

const LOG = { default: 1, ike: 2, cfg: 1, enc: 1, net: 2, knl: 1 };

export async function run(ctx: ScenarioContext): Promise<void> {
  const { left, right } = await twoHosts(ctx.lab);
  await left.ns.addAddress('eth0', '192.0.2.3/24');
  const base = (name: string, localAddrs: string, extra: Record<string, string> = {}): PskConnection => ({
    name,
    localAddrs,
    remoteAddrs: right.outer4,
    localId: `${name}@left.test`,
    remoteId: `${name}@right.test`,
    proposals: 'aes128gcm16-prfsha256-x25519',
    secret: `${name}-psk`,
    child: { name: `${name}-net`, localTs: `${left.inner4}/32`, remoteTs: `${right.inner4}/32`, espProposals: 'aes128gcm16' },
    extra,
  });
  const frag = base('frag', left.outer4, { fragmentation: 'yes' });
  const half = base('half', '192.0.2.3');
  const cookie = base('cookie', left.outer4);
  const conns = [frag, half, cookie];
  const [l, r] = await Promise.all([
    ctx.startStrongswan({ ns: left.ns, swanctlConf: conns.map(pskSwanctlConf).join(''), charonOptions: 'fragment_size = 200', logLevels: LOG }),
    ctx.startStrongswan({
      ns: right.ns,
      swanctlConf: conns.map((c) => pskSwanctlConf({ ...mirror(c), remoteAddrs: '%any' })).join(''),
      charonOptions: 'cookie_threshold = 1',
      logLevels: LOG,
    }),
  ]);
  await Promise.all([l.loadAll(), r.loadAll()]);

  // 1. Fragmented IKE_AUTH.
  const cap = await startCapture(left.ns, 'eth0', join(ctx.dir, 'frag.pcapng'));
  ctx.logFiles.push({ label: 'tshark', path: `${cap.file}.log` });
  await l.initiate('frag-net');
  await Promise.all([l.waitEstablished('frag', 'frag-net'), r.waitEstablished('frag', 'frag-net')]);
  await cap.stop();
  await l.waitForLog(/splitting IKE message \(\d+ bytes\) into \d+ fragments/);
  await r.waitForLog(/reassembled fragmented IKE message/);
  const fragments = (await decodeCapture(cap.file)).filter((p) => p.exchange === 'IKE_AUTH' && !p.response);
  assert.ok(fragments.length >= 2, `IKE_AUTH request in >= 2 packets, got ${fragments.length}`);
  assert.ok(fragments.every((p) => p.payloads[0] === 'SKF'), `every fragment is HDR, SKF: ${fragments.map((p) => p.payloads.join(' ')).join(' / ')}`);
  await l.terminate('frag');
  await r.waitNoSas('frag');

  // 2. COOKIE: hold one half-open IKE SA on the right, then initiate for real.
  const unblock = await right.ns.block('ip saddr 192.0.2.3 udp dport 4500');
  ctx.defer(unblock);
  await l.initiate('half-net', { allowFail: true, timeoutS: 1 }); // IKE_AUTH never arrives: stays half-open
  await r.waitForSa((sas) => sas.some((s) => s.state === 'CONNECTING'), 5000, 'a half-open IKE SA on the right');
  await l.initiate('cookie-net');
  await Promise.all([l.waitEstablished('cookie', 'cookie-net'), r.waitEstablished('cookie', 'cookie-net')]);
  await r.waitForLog(/sending COOKIE notify/);
  const init = await l.grep(/IKE_SA_INIT (request|response) 0 \[/);
  ctx.log(init.join('\n'));
  assert.ok(init.some((line) => /parsed IKE_SA_INIT response 0 \[ N\(COOKIE\) \]/.test(line)), 'left received the COOKIE');
  assert.ok(init.some((line) => /generating IKE_SA_INIT request 0 \[ N\(COOKIE\) SA KE No/.test(line)), 'left retried with the COOKIE first');
  await unblock();
}
