/**
 * The IKE/ESP suites issue 4 requires against strongSwan, run strongSwan <-> strongSwan first: proves the plugin
 * list loads every group (ECP via openssl, MODP via openssl, x25519 via curve25519) and records the suite strings
 * swanctl prints for each, which the cygnet scenarios compare against.
 */
import assert from 'node:assert/strict';
import type { ScenarioContext } from '../lib/scenario.js';
import { mirror, pskSwanctlConf, type PskConnection } from '../lib/swanctl-conf.js';
import { twoHosts } from '../lib/topology.js';

export const name = 'strongswan-suites';
export const timeoutMs = 40_000;

/** [ike proposal, esp proposal, expected IKE suite, expected ESP suite] as swanctl --list-sas prints them. */
export const SUITES: ReadonlyArray<readonly [string, string, string, string]> = [
  ['aes128gcm16-prfsha256-x25519', 'aes128gcm16', 'AES_GCM_16-128/PRF_HMAC_SHA2_256/CURVE_25519', 'AES_GCM_16-128'],
  ['aes256gcm16-prfsha384-ecp384', 'aes256gcm16', 'AES_GCM_16-256/PRF_HMAC_SHA2_384/ECP_384', 'AES_GCM_16-256'],
  ['aes256-sha256-modp2048', 'aes256-sha256', 'AES_CBC-256/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_2048', 'AES_CBC-256/HMAC_SHA2_256_128'],
  ['chacha20poly1305-prfsha256-x25519', 'chacha20poly1305', 'CHACHA20_POLY1305/PRF_HMAC_SHA2_256/CURVE_25519', 'CHACHA20_POLY1305'],
];

export async function run(ctx: ScenarioContext): Promise<void> {
  const { left, right } = await twoHosts(ctx.lab);
  // One connection per suite, each on its own pair of inner addresses would need more routes; instead the
  // connections share addresses and are told apart by IDs (the responder picks the config by IDr/IDi).
  const conns: PskConnection[] = SUITES.map(([ike, esp], i) => ({
    name: `s${i}`,
    localAddrs: left.outer4,
    remoteAddrs: right.outer4,
    localId: `left${i}@cygnet.test`,
    remoteId: `right${i}@cygnet.test`,
    proposals: ike,
    secret: `suite-${i}-psk`,
    child: { name: `c${i}`, localTs: `${left.inner4}/32`, remoteTs: `${right.inner4}/32`, espProposals: esp },
  }));
  const [l, r] = await Promise.all([
    ctx.startStrongswan({ ns: left.ns, swanctlConf: conns.map(pskSwanctlConf).join('') }),
    ctx.startStrongswan({ ns: right.ns, swanctlConf: conns.map((c) => pskSwanctlConf(mirror(c))).join('') }),
  ]);
  await Promise.all([l.loadAll(), r.loadAll()]);
  for (const [i, [ike, , ikeSuite, espSuite]] of SUITES.entries()) {
    await l.initiate(`c${i}`);
    const [li, ri] = await Promise.all([l.waitEstablished(`s${i}`, `c${i}`), r.waitEstablished(`s${i}`, `c${i}`)]);
    assert.equal(li.suite, ikeSuite, `${ike}: left IKE suite`);
    assert.equal(ri.suite, ikeSuite, `${ike}: right IKE suite`);
    const lc = li.children[0];
    const rc = ri.children[0];
    assert.ok(lc && rc);
    assert.equal(lc.suite, espSuite, `${ike}: ESP suite`);
    assert.equal(rc.suite, espSuite);
    assert.equal(lc.spiIn, rc.spiOut);
    const ping = await left.ns.ping(right.inner4, { count: 2 });
    assert.equal(ping.received, 2, `${ike}: ping: ${ping.output}`);
    await r.terminate(`s${i}`); // responder-side Delete this time
    await Promise.all([l.waitNoSas(`s${i}`), r.waitNoSas(`s${i}`)]);
    ctx.log(`${ike}: ${ikeSuite} / ${espSuite} ok`);
  }
}
