/**
 * strongSwan <-> strongSwan failure cases, to pin down exactly what strongSwan logs and sends, so the cygnet
 * scenarios can assert the same notifies on the strongSwan side:
 *
 * 1. wrong PSK (RFC 7296 2.21.2): the responder cannot verify AUTH and answers IKE_AUTH with
 *    `<-- HDR, SK {N(AUTHENTICATION_FAILED)}`; the initiator logs `received AUTHENTICATION_FAILED notify error`.
 * 2. proposal mismatch (RFC 7296 2.7): `<-- HDR, N(NO_PROPOSAL_CHOSEN)` in the IKE_SA_INIT response; the responder
 *    logs both offers (`received proposals: ...`, `configured proposals: ...`).
 */
import assert from 'node:assert/strict';
import type { ScenarioContext } from '../lib/scenario.js';
import type { StrongswanPeer } from '../lib/strongswan.js';
import { mirror, pskSwanctlConf, type PskConnection } from '../lib/swanctl-conf.js';
import { twoHosts, type TwoHosts } from '../lib/topology.js';

export const name = 'strongswan-failures';
export const timeoutMs = 30_000;

async function pair(ctx: ScenarioContext, hosts: TwoHosts, leftConn: PskConnection, rightConn: PskConnection): Promise<[StrongswanPeer, StrongswanPeer]> {
  const [l, r] = await Promise.all([
    ctx.startStrongswan({ ns: hosts.left.ns, label: `left-${leftConn.name}`, swanctlConf: pskSwanctlConf(leftConn) }),
    ctx.startStrongswan({ ns: hosts.right.ns, label: `right-${rightConn.name}`, swanctlConf: pskSwanctlConf(rightConn) }),
  ]);
  await Promise.all([l.loadAll(), r.loadAll()]);
  return [l, r];
}

export async function run(ctx: ScenarioContext): Promise<void> {
  const hosts = await twoHosts(ctx.lab);
  const { left, right } = hosts;
  const base: PskConnection = {
    name: 'neg',
    localAddrs: left.outer4,
    remoteAddrs: right.outer4,
    localId: 'left@cygnet.test',
    remoteId: 'right@cygnet.test',
    proposals: 'aes128gcm16-prfsha256-x25519',
    secret: 'the-right-secret',
    child: { name: 'net', localTs: `${left.inner4}/32`, remoteTs: `${right.inner4}/32`, espProposals: 'aes128gcm16' },
  };

  // 1. Wrong PSK.
  {
    const [l, r] = await pair(ctx, hosts, { ...base, name: 'badpsk' }, { ...mirror(base), name: 'badpsk', secret: 'a-wrong-secret' });
    const res = await l.initiate('net', { allowFail: true, timeoutS: 10 });
    assert.notEqual(res.code, 0, 'initiate must fail with a wrong PSK');
    await l.waitForLog(/received AUTHENTICATION_FAILED notify error/);
    await r.waitForLog(/MAC mismatched/);
    assert.ok((await r.notifies()).inMessages.includes('AUTH_FAILED'), 'right sent N(AUTH_FAILED)');
    assert.deepEqual((await l.listSas()).filter((s) => s.state === 'ESTABLISHED'), []);
    assert.deepEqual((await r.listSas()).filter((s) => s.state === 'ESTABLISHED'), []);
    await Promise.all([l.stop(), r.stop()]);
  }

  // 2. Proposal mismatch.
  {
    const [l, r] = await pair(ctx, hosts, { ...base, name: 'noprop' }, { ...mirror(base), name: 'noprop', proposals: 'aes256-sha256-modp2048' });
    const res = await l.initiate('net', { allowFail: true, timeoutS: 10 });
    assert.notEqual(res.code, 0, 'initiate must fail without a common proposal');
    await l.waitForLog(/received NO_PROPOSAL_CHOSEN notify error/);
    await r.waitForLog(/received proposals: IKE:AES_GCM_16_128\/PRF_HMAC_SHA2_256\/CURVE_25519/);
    await r.waitForLog(/configured proposals: IKE:AES_CBC_256\/HMAC_SHA2_256_128\/PRF_HMAC_SHA2_256\/MODP_2048/);
    assert.ok((await r.notifies()).inMessages.includes('NO_PROP'), 'right sent N(NO_PROP)');
    assert.deepEqual(await l.listSas(), []);
    assert.deepEqual(await r.listSas(), []);
  }
}
