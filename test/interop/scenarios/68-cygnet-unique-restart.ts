/**
 * cygnet's `unique` against a strongSwan peer that is killed and restarted (issue 15; RFC 7296 2.4; strongSwan's
 * check_uniqueness): cygnet responds, strongSwan initiates and, holding no SA after its restart, sends
 * INITIAL_CONTACT. With unique = keep and replace cygnet drops the stale IKE and CHILD SA at once and takes the
 * new one (keep used to refuse it with AUTHENTICATION_FAILED, locking the peer out until DPD); with unique = never
 * INITIAL_CONTACT is ignored and both stay, as strongSwan does. (unique = no: 68-cygnet-peer-restart.)
 */
import assert from 'node:assert/strict';
import type { ScenarioContext } from '../lib/scenario.js';
import type { StrongswanPeer } from '../lib/strongswan.js';
import { mirror, pskSwanctlConf } from '../lib/swanctl-conf.js';
import { twoHosts } from '../lib/topology.js';
import { cygnetConnection, startCygnet } from './20-cygnet-psk-responder.js';

export const name = 'cygnet-unique-restart';
export const timeoutMs = 90_000;

export async function run(ctx: ScenarioContext): Promise<void> {
  const h = await twoHosts(ctx.lab);
  const base = cygnetConnection(h, { proposals: 'aes128gcm16-prfsha256-x25519', esp: 'aes128gcm16', startAction: 'none' });
  const swanConf = pskSwanctlConf(mirror(base));
  for (const unique of ['keep', 'replace', 'never'] as const) {
    const cyg = await startCygnet(ctx, h, pskSwanctlConf({ ...base, extra: { unique } }));
    const start = async (label: string): Promise<{ swan: StrongswanPeer; spi: string }> => {
      const swan = await ctx.startStrongswan({ ns: h.right.ns, swanctlConf: swanConf, label });
      await swan.loadAll();
      await swan.initiate('net');
      return { swan, spi: (await swan.waitEstablished('cyg', 'net')).initiatorSpi };
    };
    const first = await start(`right-${unique}-1`);
    await cyg.waitFor(`${unique}: first SA`, (s) => s.ikeSas.some((x) => x.spiI === first.spi && x.children.length === 1));
    await first.swan.crash();
    const second = await start(`right-${unique}-2`);
    assert.ok((await second.swan.grep(/generating IKE_AUTH request 1 \[.*N\(INIT_CONTACT\)/)).length > 0, `${unique}: strongSwan sent INITIAL_CONTACT`);
    if (unique === 'never') {
      const st = await cyg.waitFor('never: both SAs', (s) => (s.ikeSas.some((x) => x.spiI === second.spi) ? s : undefined), 3000);
      assert.deepEqual(st.ikeSas.map((x) => x.spiI).sort(), [first.spi, second.spi].sort(), 'unique = never: INITIAL_CONTACT ignored, the stale SA stays');
    } else {
      const st = await cyg.waitFor(`${unique}: only the new SA`, (s) => (s.ikeSas.length === 1 && s.ikeSas[0]!.spiI === second.spi && s.ikeSas[0]!.children.length === 1 ? s : undefined), 3000);
      assert.equal(st.ikeSas[0]!.state, 'ESTABLISHED');
      await cyg.peer.waitForLog(/deleting stale IKE_SA cyg\[\d+\]: peer sent INITIAL_CONTACT/, 1000);
      assert.equal((await cyg.peer.grep(/rejecting the new one/)).length, 0, `${unique}: the new SA was not refused`);
    }
    ctx.log(`unique = ${unique}: ${unique === 'never' ? 'both SAs kept' : 'stale SA gone at once, new one up'}`);
    await second.swan.crash();
    // No Delete to send (the peer is gone): a kill is the quick way to the next round.
    await cyg.peer.crash();
  }
}
