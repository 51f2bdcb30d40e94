/**
 * No local_addrs on either side (issue 13), cygnet initiating: each namespace has loopback (127.0.0.1, ::1), an
 * inner address on lo and the outer one on eth0, so cygnet binds all of them. The initiator must send from the
 * source the routing table gives for the peer (192.0.2.1, as charon's get_source_addr), not from the first
 * socket (127.0.0.1: EINVAL). SA up, ping through the TUN, strongSwan's list-sas shows the outer addresses.
 * 63-no-local-addrs-responder runs the other direction; the helpers are exported for it.
 */
import assert from 'node:assert/strict';
import type { ScenarioContext } from '../lib/scenario.js';
import { mirror, pskSwanctlConf, type PskConnection } from '../lib/swanctl-conf.js';
import type { IkeSaInfo } from '../lib/swanctl-output.js';
import { twoHosts, type TwoHosts } from '../lib/topology.js';
import { establishedCygnet, startCygnet, type CygnetSide } from './20-cygnet-psk-responder.js';

export const name = 'cygnet-no-local-addrs-initiator';
export const timeoutMs = 40_000;

/** The connection as cygnet (left) sees it; swanctl.conf text with the local_addrs line removed. */
export function noLocalAddrs(h: TwoHosts, cygnetStarts: boolean): { cygnet: string; strongswan: string } {
  const conn: PskConnection = {
    name: 'cyg',
    localAddrs: '',
    remoteAddrs: h.right.outer4,
    localId: 'cygnet@cygnet.test',
    remoteId: 'swan@cygnet.test',
    proposals: 'aes128gcm16-prfsha256-x25519',
    secret: 'no-local-addrs',
    child: { name: 'net', localTs: `${h.left.inner4}/32`, remoteTs: `${h.right.inner4}/32`, espProposals: 'aes128gcm16', startAction: cygnetStarts ? 'start' : 'none' },
  };
  const theirs = mirror(conn);
  const strip = (text: string): string => {
    const out = text.replace(/^\s*local_addrs = .*\n/m, '');
    assert.doesNotMatch(out, /local_addrs/, 'no local_addrs in the generated config');
    return out;
  };
  return {
    cygnet: strip(pskSwanctlConf(conn)),
    strongswan: strip(pskSwanctlConf({ ...theirs, remoteAddrs: h.left.outer4, child: { ...theirs.child, startAction: cygnetStarts ? 'none' : 'start' } })),
  };
}

/** Both sides on the outer addresses, ping through cygnet's TUN both ways, no send failure in cygnet's log. */
export async function assertOuterAndPing(h: TwoHosts, cyg: CygnetSide, si: IkeSaInfo, cygnetInitiated: boolean): Promise<void> {
  const ci = await cyg.waitFor('SA established', establishedCygnet);
  assert.equal(ci.initiator, cygnetInitiated, 'cygnet role');
  assert.equal(si.localHost, h.right.outer4, 'strongSwan local host');
  assert.equal(si.remoteHost, h.left.outer4, 'strongSwan sees cygnet on its outer address');
  assert.match(ci.local, new RegExp(`^${h.left.outer4.replaceAll('.', '\\.')}\\[`), 'cygnet local address');
  assert.match(ci.remote, new RegExp(`^${h.right.outer4.replaceAll('.', '\\.')}\\[`), 'cygnet remote address');
  await cyg.peer.waitForLog(new RegExp(`installed route ${h.right.inner4.replaceAll('.', '\\.')}/32 dev cyg0`), 5000);
  const p = await h.left.ns.ping(h.right.inner4, { count: 2, source: h.left.inner4 });
  assert.equal(p.received, 2, `ping ${h.left.inner4} -> ${h.right.inner4}: ${p.output}`);
  const b = await h.right.ns.ping(h.left.inner4, { count: 2, source: h.right.inner4 });
  assert.equal(b.received, 2, `ping ${h.right.inner4} -> ${h.left.inner4}: ${b.output}`);
  const log = await cyg.peer.log();
  assert.doesNotMatch(log, /EINVAL|no socket for|sending to .* failed/, 'cygnet sent every IKE datagram');
}

export async function run(ctx: ScenarioContext): Promise<void> {
  const h = await twoHosts(ctx.lab);
  const conf = noLocalAddrs(h, true);
  const swan = await ctx.startStrongswan({ ns: h.right.ns, swanctlConf: conf.strongswan });
  await swan.loadAll();
  const cyg = await startCygnet(ctx, h, conf.cygnet, ['--tun', 'cyg0']);
  // cygnet bound loopback and the inner address too: the case where the first socket was the wrong one.
  await cyg.peer.waitForLog(/listening on .*127\.0\.0\.1\[500\]/, 3000);
  const si = await swan.waitEstablished('cyg', 'net');
  assert.equal(si.initiator, false, 'strongSwan responded');
  await assertOuterAndPing(h, cyg, si, true);
  ctx.log(`cygnet initiated from ${h.left.outer4} without local_addrs; strongSwan ${si.localHost} <-> ${si.remoteHost}`);
}
