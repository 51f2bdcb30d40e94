/**
 * EAP-MSCHAPv2 road warrior against a cygnet gateway (issue 14, RFC 7296 2.16): strongSwan 5.9.8 (right) is the
 * client with `auth = eap-mschapv2`, cygnet (left, real TUN) the gateway with `remote { auth = eap-mschapv2;
 * eap_id = %any }` and the user in swanctl.conf `secrets { eap-carol { ... } }`. The gateway authenticates itself
 * with a pre-shared key (the first round of the responder), asks for the EAP identity, runs MSCHAPv2, and both
 * compute the last AUTHs from the MSK: strongSwan accepts cygnet's, cygnet strongSwan's; ping crosses both ways.
 * A second user with a wrong password gets AUTHENTICATION_FAILED; both logs name the method and the identity;
 * nothing is left half-open on the gateway.
 */
import assert from 'node:assert/strict';
import type { ScenarioContext } from '../lib/scenario.js';
import { DEFAULT_PLUGINS } from '../lib/strongswan.js';
import { twoHosts } from '../lib/topology.js';
import { establishedCygnet, startCygnet } from './20-cygnet-psk-responder.js';

export const name = 'eap-mschapv2-gateway';
export const timeoutMs = 60_000;

const PROPOSALS = 'aes128gcm16-prfsha256-x25519';
const IKE_PSK = 'gateway-authenticates-itself-with-this-psk';

export async function run(ctx: ScenarioContext): Promise<void> {
  const h = await twoHosts(ctx.lab);
  const { left, right } = h;
  const gateway = `connections {
  rw {
    local_addrs = ${left.outer4}
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
        local_ts = ${left.inner4}/32
        remote_ts = ${right.inner4}/32
        esp_proposals = aes128gcm16
      }
    }
  }
}
secrets {
  ike-gw {
    id-1 = gw@cygnet.test
    id-2 = carol@cygnet.test
    id-3 = dave@cygnet.test
    secret = "${IKE_PSK}"
  }
  eap-carol {
    id = carol
    secret = "carol's password"
  }
  eap-dave {
    id = dave
    secret = "dave's real password"
  }
}
`;
  const client = (conn: string, ikeId: string, eapId: string): string => `  ${conn} {
    local_addrs = ${right.outer4}
    remote_addrs = ${left.outer4}
    proposals = ${PROPOSALS}
    local {
      auth = eap-mschapv2
      id = ${ikeId}
      eap_id = ${eapId}
    }
    remote {
      auth = psk
      id = gw@cygnet.test
    }
    children {
      ${conn}-net {
        local_ts = ${right.inner4}/32
        remote_ts = ${left.inner4}/32
        esp_proposals = aes128gcm16
        start_action = none
      }
    }
  }
`;
  const swanConf = `connections {
${client('carol', 'carol@cygnet.test', 'carol')}${client('dave', 'dave@cygnet.test', 'dave')}}
secrets {
  ike-gw {
    id-1 = gw@cygnet.test
    id-2 = carol@cygnet.test
    id-3 = dave@cygnet.test
    secret = "${IKE_PSK}"
  }
  eap-carol {
    id = carol
    secret = "carol's password"
  }
  eap-dave {
    id = dave
    secret = "not dave's password"
  }
}
`;
  const cyg = await startCygnet(ctx, h, gateway, ['--tun', 'cyg0']);
  const swan = await ctx.startStrongswan({ ns: right.ns, swanctlConf: swanConf, plugins: [...DEFAULT_PLUGINS, 'md4', 'md5', 'eap-mschapv2', 'eap-identity'] });
  await swan.loadAll();

  const up = await swan.initiate('carol-net', { ike: 'carol', timeoutS: 20 });
  assert.equal(up.code, 0, `strongSwan brings up carol over EAP-MSCHAPv2:\n${up.stdout}${up.stderr}`);
  await cyg.waitFor('SA established', establishedCygnet);
  await cyg.peer.waitForLog(/EAP method EAP-mschapv2 succeeded for 'carol', MSK established/, 5000);
  await cyg.peer.waitForLog(/authentication of 'carol@cygnet\.test' with EAP MSK successful/, 5000);
  await swan.waitForLog(/authentication of 'gw@cygnet\.test' with EAP successful/, 5000);
  await cyg.peer.waitForLog(/installed route 10\.2\.0\.1\/32 dev cyg0/, 5000);
  const out = await left.ns.ping(right.inner4, { count: 3, source: left.inner4 });
  assert.equal(out.received, 3, `ping gateway -> client through the tunnel:\n${out.output}`);
  const back = await right.ns.ping(left.inner4, { count: 3, source: right.inner4 });
  assert.equal(back.received, 3, `ping client -> gateway through the tunnel:\n${back.output}`);

  // Wrong password: MSCHAPv2 Failure (E=691) and AUTHENTICATION_FAILED; nothing stays on the gateway.
  const bad = await swan.initiate('dave-net', { ike: 'dave', timeoutS: 20, allowFail: true });
  assert.notEqual(bad.code, 0, 'dave with a wrong password does not come up');
  await swan.waitForLog(/received AUTHENTICATION_FAILED|EAP_MSCHAPV2 .*failed|EAP method EAP_MSCHAPV2 failed/i, 5000);
  await cyg.peer.waitForLog(/EAP-mschapv2 authentication of 'dave' failed/i, 5000);
  const sas = await swan.listSas();
  assert.deepEqual(sas.map((s) => s.name), ['carol'], `strongSwan holds only carol's IKE SA: ${JSON.stringify(sas.map((s) => s.name))}`);
  await cyg.waitFor('only carol\'s IKE SA left on the gateway', (s) => (s.ikeSas.length === 1 && s.ikeSas[0]?.state === 'ESTABLISHED' ? s : undefined), 10_000);
}
