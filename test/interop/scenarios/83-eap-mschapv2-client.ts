/**
 * cygnet as the EAP-MSCHAPv2 road warrior (issue 14, RFC 7296 2.16): cygnet (left, real TUN) has `local { auth =
 * eap-mschapv2; eap_id = carol }`, strongSwan 5.9.8 (right) is the gateway with `remote { auth = eap-mschapv2;
 * eap_id = %any }` and authenticates itself with a pre-shared key. cygnet leaves AUTH out of its first IKE_AUTH,
 * answers EAP-Identity and MSCHAPv2 (checking the gateway's authenticator response), then sends the AUTH made with
 * the MSK; strongSwan's last AUTH verifies with it; ping crosses both ways. With a wrong password cygnet reports
 * the refusal naming the method and identity, and strongSwan keeps no SA.
 */
import assert from 'node:assert/strict';
import type { ScenarioContext } from '../lib/scenario.js';
import { DEFAULT_PLUGINS } from '../lib/strongswan.js';
import { twoHosts } from '../lib/topology.js';
import { establishedCygnet, startCygnet } from './20-cygnet-psk-responder.js';

export const name = 'eap-mschapv2-client';
export const timeoutMs = 60_000;

const PROPOSALS = 'aes128gcm16-prfsha256-x25519';
const IKE_PSK = 'gateway-authenticates-itself-with-this-psk';

function cygnetConf(left: string, right: string, leftInner: string, rightInner: string, password: string): string {
  return `connections {
  rw {
    local_addrs = ${left}
    remote_addrs = ${right}
    proposals = ${PROPOSALS}
    local {
      auth = eap-mschapv2
      id = carol@cygnet.test
      eap_id = carol
    }
    remote {
      auth = psk
      id = gw@cygnet.test
    }
    children {
      net {
        local_ts = ${leftInner}/32
        remote_ts = ${rightInner}/32
        esp_proposals = aes128gcm16
        start_action = start
      }
    }
  }
}
secrets {
  ike-gw {
    id-1 = gw@cygnet.test
    id-2 = carol@cygnet.test
    secret = "${IKE_PSK}"
  }
  eap-carol {
    id = carol
    secret = "${password}"
  }
}
`;
}

export async function run(ctx: ScenarioContext): Promise<void> {
  const h = await twoHosts(ctx.lab);
  const { left, right } = h;
  const gateway = `connections {
  rw {
    local_addrs = ${right.outer4}
    remote_addrs = %any
    proposals = ${PROPOSALS}
    local {
      auth = psk
      id = gw@cygnet.test
    }
    remote {
      auth = eap-mschapv2
      eap_id = %any
    }
    children {
      net {
        local_ts = ${right.inner4}/32
        remote_ts = ${left.inner4}/32
        esp_proposals = aes128gcm16
      }
    }
  }
}
secrets {
  ike-gw {
    id-1 = gw@cygnet.test
    id-2 = carol@cygnet.test
    secret = "${IKE_PSK}"
  }
  eap-carol {
    id = carol
    secret = "carol's password"
  }
}
`;
  const swan = await ctx.startStrongswan({ ns: right.ns, swanctlConf: gateway, plugins: [...DEFAULT_PLUGINS, 'md4', 'md5', 'eap-mschapv2', 'eap-identity'] });
  await swan.loadAll();
  const cyg = await startCygnet(ctx, h, cygnetConf(left.outer4, right.outer4, left.inner4, right.inner4, "carol's password"), ['--tun', 'cyg0']);
  await Promise.all([cyg.waitFor('SA established', establishedCygnet, 20_000), swan.waitEstablished('rw', 'net', 20_000)]);
  await cyg.peer.waitForLog(/EAP method EAP-mschapv2 succeeded, MSK established/, 5000);
  await cyg.peer.waitForLog(/authentication of 'gw@cygnet\.test' with EAP MSK successful/, 5000);
  await swan.waitForLog(/EAP method EAP_MSCHAPV2 succeeded, MSK established/, 5000);
  await cyg.peer.waitForLog(/installed route 10\.2\.0\.1\/32 dev cyg0/, 5000);
  const out = await left.ns.ping(right.inner4, { count: 3, source: left.inner4 });
  assert.equal(out.received, 3, `ping client -> gateway through the tunnel:\n${out.output}`);
  const back = await right.ns.ping(left.inner4, { count: 3, source: right.inner4 });
  assert.equal(back.received, 3, `ping gateway -> client through the tunnel:\n${back.output}`);
  assert.equal(await cyg.peer.stop(5000), 0, 'cygnet exits 0');
  await swan.waitNoSas('rw', 5000);

  // A wrong password: strongSwan answers with an MSCHAPv2 failure and AUTHENTICATION_FAILED; no SA stays.
  const dir = await ctx.subdir('cygnet-wrong');
  const wrong = await ctx.startCygnet({
    ns: left.ns,
    dir,
    config: cygnetConf(left.outer4, right.outer4, left.inner4, right.inner4, 'not the password'),
    args: ['--no-tun', '--debug', 'ike 2, net 1', '--no-vici'],
    ready: /daemon running/,
  });
  await wrong.waitForLog(/EAP-mschapv2 authentication of 'carol' failed|rejected our authentication \(AUTHENTICATION_FAILED\): the EAP server refused us \(EAP-mschapv2 as 'carol'/i, 15_000);
  await swan.waitForLog(/EAP-MS-CHAPv2 verification failed/, 5000);
  await swan.waitNoSas('rw', 10_000);
  await wrong.stop(3000);
}
