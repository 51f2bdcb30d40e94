/**
 * cygnet initiates to strongSwan (PSK, start_action = start), for the four suites of issue 4:
 *
 *   left: cygnet (initiator)  HDR, SAi1, KEi, Ni, N(NATD_S_IP), N(NATD_D_IP), N(FRAG_SUP), N(HASH_ALG)  -->
 *                             <--  HDR, SAr1, KEr, Nr, N(NATD_S_IP), N(NATD_D_IP) ...        right: strongSwan
 *                             HDR, SK {IDi, N(INIT_CONTACT), IDr, AUTH, SAi2, TSi, TSr}  -->   (UDP 4500)
 *                             <--  HDR, SK {IDr, AUTH, SAr2, TSi, TSr}
 *
 * Both sides show the same SPIs and suites; then SIGTERM on cygnet sends INFORMATIONAL {D} (RFC 7296 1.4.1),
 * strongSwan drops the SA and cygnet exits 0.
 */
import assert from 'node:assert/strict';
import type { ScenarioContext } from '../lib/scenario.js';
import { mirror, pskSwanctlConf } from '../lib/swanctl-conf.js';
import { twoHosts } from '../lib/topology.js';
import { assertSameSa, cygnetConnection, establishedCygnet, startCygnet } from './20-cygnet-psk-responder.js';

export const name = 'cygnet-psk-initiator';
export const timeoutMs = 60_000;

const SUITES = [
  { proposals: 'aes128gcm16-prfsha256-x25519', esp: 'aes128gcm16', suite: 'AES_GCM_16-128/PRF_HMAC_SHA2_256/CURVE_25519', espSuite: 'AES_GCM_16-128' },
  { proposals: 'aes256gcm16-prfsha384-ecp384', esp: 'aes256gcm16', suite: 'AES_GCM_16-256/PRF_HMAC_SHA2_384/ECP_384', espSuite: 'AES_GCM_16-256' },
  { proposals: 'aes256-sha256-modp2048', esp: 'aes256-sha256', suite: 'AES_CBC-256/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_2048', espSuite: 'AES_CBC-256/HMAC_SHA2_256_128' },
  { proposals: 'chacha20poly1305-prfsha256-x25519', esp: 'chacha20poly1305', suite: 'CHACHA20_POLY1305/PRF_HMAC_SHA2_256/CURVE_25519', espSuite: 'CHACHA20_POLY1305' },
];

export async function run(ctx: ScenarioContext): Promise<void> {
  const h = await twoHosts(ctx.lab);
  for (const s of SUITES) {
    const conn = cygnetConnection(h, { proposals: s.proposals, esp: s.esp, startAction: 'start' });
    // The responder first, so cygnet's first IKE_SA_INIT finds it listening.
    // mirror() copies start_action: strongSwan must only respond here.
    const theirs = mirror(conn);
    const swan = await ctx.startStrongswan({ ns: h.right.ns, swanctlConf: pskSwanctlConf({ ...theirs, child: { ...theirs.child, startAction: 'none' } }), label: `right-${s.esp}` });
    await swan.loadAll();
    const cyg = await startCygnet(ctx, h, pskSwanctlConf(conn));

    const [ci, si] = await Promise.all([cyg.waitFor(`${s.suite} established`, establishedCygnet), swan.waitEstablished('cyg', 'net')]);
    ctx.log(`${s.proposals}: cygnet ${ci.spiI}/${ci.spiR} ${ci.children[0]!.spiIn}/${ci.children[0]!.spiOut}`);
    assertSameSa(ci, si, { suite: s.suite, espSuite: s.espSuite, cygnetInitiated: true, h });

    // SIGTERM: cygnet deletes the IKE SA, strongSwan confirms, cygnet exits 0.
    const code = await cyg.peer.stop(5000);
    assert.equal(code, 0, 'cygnet exits 0 after SIGTERM');
    await swan.waitNoSas('cyg', 5000);
    assert.ok((await swan.grep(/received DELETE for IKE_SA cyg/)).length > 0, 'strongSwan logged the Delete from cygnet');
    await swan.stop();
  }
}
