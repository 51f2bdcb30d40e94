/**
 * IKE SA lifecycle references for issue 5, strongSwan <-> strongSwan:
 *
 * 1. CHILD SA rekey started by each side (RFC 7296 1.3.3, `HDR, SK {N(REKEY_SA), SA, Ni, TSi, TSr} -->`): new
 *    SPIs on both sides, still crosswise equal, traffic keeps flowing.
 * 2. IKE SA rekey (RFC 7296 1.3.2, 2.18): new IKE SPIs, the CHILD SA moves to the new IKE SA.
 * 3. DPD: the left crashes (SIGKILL, no Delete); the right's liveness check (dpd_delay = 1s) runs out of
 *    retransmissions (shortened: timeout 0.5 s, base 1.4, 2 tries) and clears the SA (dpd_action = clear).
 */
import assert from 'node:assert/strict';
import type { ScenarioContext } from '../lib/scenario.js';
import type { IkeSaInfo } from '../lib/swanctl-output.js';
import { mirror, swanctlConf, type PskConnection } from '../lib/swanctl-conf.js';
import { twoHosts } from '../lib/topology.js';

export const name = 'strongswan-lifecycle';
export const timeoutMs = 40_000;

const FAST_RETRANSMIT = 'retransmit_timeout = 0.5\n  retransmit_base = 1.4\n  retransmit_tries = 2';

export async function run(ctx: ScenarioContext): Promise<void> {
  const { left, right } = await twoHosts(ctx.lab);
  const conn: PskConnection = {
    name: 'life',
    localAddrs: left.outer4,
    remoteAddrs: right.outer4,
    localId: 'left@cygnet.test',
    remoteId: 'right@cygnet.test',
    proposals: 'aes128gcm16-prfsha256-x25519',
    secret: 'lifecycle-psk',
    child: { name: 'net', localTs: `${left.inner4}/32`, remoteTs: `${right.inner4}/32`, espProposals: 'aes128gcm16-x25519', extra: { dpd_action: 'clear' } },
    extra: { dpd_delay: '1s' },
  };
  const [l, r] = await Promise.all([
    ctx.startStrongswan({ ns: left.ns, swanctlConf: swanctlConf(conn), charonOptions: FAST_RETRANSMIT }),
    ctx.startStrongswan({ ns: right.ns, swanctlConf: swanctlConf(mirror(conn)), charonOptions: FAST_RETRANSMIT }),
  ]);
  await Promise.all([l.loadAll(), r.loadAll()]);
  await l.initiate('net');
  let [li, ri] = await Promise.all([l.waitEstablished('life', 'net'), r.waitEstablished('life', 'net')]);

  const child = (sa: IkeSaInfo) => sa.children.find((c) => c.name === 'net' && c.state === 'INSTALLED');
  const pairOk = async (why: string) => {
    const ping = await left.ns.ping(right.inner4, { count: 2 });
    assert.equal(ping.received, 2, `${why}: ${ping.output}`);
  };
  await pairOk('before rekeys');

  // 1. CHILD rekeys, from the left then from the right; PFS group x25519 in the ESP proposal.
  for (const [who, peer] of [['left', l], ['right', r]] as const) {
    const before = child(who === 'left' ? li : ri)?.spiIn;
    await peer.rekey({ child: 'net' });
    // The old CHILD SA stays listed (not INSTALLED) for charon.delete_rekeyed_delay (5 s): do not wait for it.
    const after = await peer.waitForSa(
      (sas) => sas.find((s) => s.name === 'life')?.children.find((x) => x.state === 'INSTALLED' && x.spiIn !== before),
      10_000,
      `${who}-initiated CHILD rekey`,
    );
    [li, ri] = await Promise.all([l.waitEstablished('life', 'net'), r.waitEstablished('life', 'net')]);
    const lc = child(li);
    const rc = child(ri);
    assert.ok(lc && rc && lc.spiIn === rc.spiOut && lc.spiOut === rc.spiIn, `${who} CHILD rekey: SPIs crosswise equal`);
    assert.equal(after.suite, 'AES_GCM_16-128/CURVE_25519', 'PFS group shown in the rekeyed CHILD suite');
    await pairOk(`after ${who}-initiated CHILD rekey`);
  }

  // 2. IKE rekey from the right.
  const oldSpi = ri.initiatorSpi;
  await r.rekey({ ike: 'life' });
  ri = await r.waitForSa((sas) => sas.find((s) => s.name === 'life' && s.state === 'ESTABLISHED' && s.initiatorSpi !== oldSpi && child(s)), 10_000, 'IKE rekey');
  li = await l.waitForSa((sas) => sas.length === 1 && sas[0]?.initiatorSpi === ri.initiatorSpi ? sas[0] : undefined, 10_000, 'left on the new IKE SA only');
  assert.equal(li.responderSpi, ri.responderSpi);
  assert.equal(ri.initiator, true, 'the rekeying side is the initiator of the new IKE SA');
  assert.ok(child(li), 'CHILD SA moved to the new IKE SA');
  await pairOk('after IKE rekey');

  // 3. DPD after a crash of the left.
  await l.crash();
  await r.waitNoSas('life', 15_000);
  await r.waitForLog(/giving up after \d+ retransmits/);
}
