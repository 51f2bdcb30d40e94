/**
 * reuse_ikesa (issue 15, strongSwan's charon.reuse_ikesa default yes): cygnet brings up child 'a' of connection
 * 'cyg' (start_action = start), then `swanctl --initiate --child b` over cygnet's vici: the second CHILD SA is
 * negotiated with CREATE_CHILD_SA on the existing IKE SA (RFC 7296 1.3.1), not a second IKE_SA_INIT. strongSwan
 * lists one IKE SA with two CHILD SAs, their SPIs crosswise with cygnet's.
 *
 * The two-children configuration is exported for 66 (start + trap children of one connection).
 */
import assert from 'node:assert/strict';
import type { ScenarioContext } from '../lib/scenario.js';
import type { IkeSaInfo } from '../lib/swanctl-output.js';
import type { TwoHosts } from '../lib/topology.js';
import { twoHosts } from '../lib/topology.js';
import { startCygnet } from './20-cygnet-psk-responder.js';

export const name = 'cygnet-reuse-ikesa';
export const timeoutMs = 40_000;

/** The second remote subnet (on right's lo): child 'b' protects 10.1.0.1 <-> THIRD. */
export const THIRD = '10.3.0.1';

/**
 * Connection 'cyg' with children 'a' (left inner <-> right inner) and 'b' (left inner <-> THIRD), as `side` sees
 * it: cygnet is left, strongSwan right. start actions per child.
 */
export function twoChildConf(h: TwoHosts, side: 'left' | 'right', start: { a: string; b: string }): string {
  const me = side === 'left' ? h.left : h.right;
  const peer = side === 'left' ? h.right : h.left;
  const ids = side === 'left' ? ['cygnet@cygnet.test', 'swan@cygnet.test'] : ['swan@cygnet.test', 'cygnet@cygnet.test'];
  const [lts, rtsA, rtsB] = side === 'left' ? [`${h.left.inner4}/32`, `${h.right.inner4}/32`, `${THIRD}/32`] : ['', `${h.left.inner4}/32`, `${h.left.inner4}/32`];
  const ltsA = side === 'left' ? lts : `${h.right.inner4}/32`;
  const ltsB = side === 'left' ? lts : `${THIRD}/32`;
  return `connections {
  cyg {
    version = 2
    local_addrs = ${me.outer4}
    remote_addrs = ${peer.outer4}
    proposals = aes128gcm16-prfsha256-x25519
    local {
      auth = psk
      id = ${ids[0]}
    }
    remote {
      auth = psk
      id = ${ids[1]}
    }
    children {
      a {
        local_ts = ${ltsA}
        remote_ts = ${rtsA}
        esp_proposals = aes128gcm16
        start_action = ${start.a}
      }
      b {
        local_ts = ${ltsB}
        remote_ts = ${rtsB}
        esp_proposals = aes128gcm16
        start_action = ${start.b}
      }
    }
  }
}
secrets {
  ike-cyg {
    id-local = ${ids[0]}
    id-remote = ${ids[1]}
    secret = "interop-reuse-ikesa"
  }
}
`;
}

export async function run(ctx: ScenarioContext): Promise<void> {
  const h = await twoHosts(ctx.lab);
  await h.right.ns.addAddress('lo', `${THIRD}/32`);
  const swan = await ctx.startStrongswan({ ns: h.right.ns, swanctlConf: twoChildConf(h, 'right', { a: 'none', b: 'none' }) });
  await swan.loadAll();
  const cyg = await startCygnet(ctx, h, twoChildConf(h, 'left', { a: 'start', b: 'none' }));
  await swan.waitEstablished('cyg', 'a');
  await cyg.waitFor('child a installed', (s) => s.ikeSas.find((x) => x.state === 'ESTABLISHED' && x.children.some((c) => c.name === 'a')));

  // swanctl over cygnet's vici: --initiate --child b waits for the CHILD SA and succeeds.
  const r = await cyg.peer.initiate('b', { ike: 'cyg' });
  assert.match(r.stdout, /initiate completed successfully/, r.stdout + r.stderr);
  const [sa]: IkeSaInfo[] = await swan.waitForSa((sas) => (sas.length === 1 && sas[0]!.children.filter((c) => c.state === 'INSTALLED').length === 2 ? sas : undefined), 10_000, 'one IKE SA with children a and b');
  assert.ok(sa);
  assert.deepEqual(sa.children.map((c) => c.name).sort(), ['a', 'b'], 'strongSwan: both CHILD SAs under the one IKE SA');
  const st = await cyg.waitFor('two children on one IKE SA', (s) => (s.ikeSas.length === 1 && s.ikeSas[0]!.children.length === 2 ? s : undefined));
  const ike = st.ikeSas[0]!;
  assert.equal(ike.spiI, sa.initiatorSpi, 'the same IKE SA on both sides');
  for (const child of ['a', 'b']) {
    const cc = ike.children.find((c) => c.name === child);
    const sc: IkeSaInfo['children'][number] | undefined = sa.children.find((c) => c.name === child);
    assert.ok(cc && sc, `child ${child} on both sides`);
    assert.equal(cc.spiIn, sc.spiOut, `${child}: cygnet inbound SPI = strongSwan outbound SPI`);
    assert.equal(cc.spiOut, sc.spiIn, `${child}: cygnet outbound SPI = strongSwan inbound SPI`);
  }
  // On the wire: one IKE_SA_INIT from cygnet, and strongSwan answered a CREATE_CHILD_SA for b.
  assert.equal((await swan.grep(/parsed IKE_SA_INIT request/)).length, 1, 'strongSwan saw one IKE_SA_INIT');
  assert.ok((await swan.grep(/parsed CREATE_CHILD_SA request/)).length >= 1, 'strongSwan saw a CREATE_CHILD_SA request');
  await cyg.peer.waitForLog(/initiate 'cyg' child 'b': reusing IKE_SA cyg\[\d+\] \(CREATE_CHILD_SA\)/, 1000);
}
