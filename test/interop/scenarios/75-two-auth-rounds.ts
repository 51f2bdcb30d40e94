/**
 * Two authentication rounds (RFC 4739; issue 14): strongSwan 5.9.8 (right) is the road warrior with a machine
 * certificate in `local-1` and a user password in `local-2 { auth = eap-mschapv2 }`; cygnet (left, real TUN) is the
 * gateway with `remote-1 { auth = pubkey }` and `remote-2 { auth = eap-mschapv2; eap_id = %any }`. cygnet announces
 * MULTIPLE_AUTH_SUPPORTED in IKE_SA_INIT; strongSwan's first IKE_AUTH carries its certificate AUTH and
 * ANOTHER_AUTH_FOLLOWS; cygnet answers with its own certificate AUTH only; the second round opens with strongSwan's
 * second IDi and runs EAP-MSCHAPv2; the last AUTHs are made from the MSK; the CHILD SA comes up; ping crosses.
 * The same machine certificate with a wrong user password is refused with AUTHENTICATION_FAILED.
 */
import assert from 'node:assert/strict';
import { issue, makeCa } from '../lib/pki.js';
import type { ScenarioContext } from '../lib/scenario.js';
import { DEFAULT_PLUGINS } from '../lib/strongswan.js';
import { twoHosts } from '../lib/topology.js';
import { establishedCygnet } from './20-cygnet-psk-responder.js';
import { startCertCygnet } from './30-cygnet-certs-swanpki.js';

export const name = 'two-auth-rounds';
export const timeoutMs = 60_000;

const PROPOSALS = 'aes128gcm16-prfsha256-x25519';

export async function run(ctx: ScenarioContext): Promise<void> {
  const h = await twoHosts(ctx.lab);
  const { left, right } = h;
  const dir = await ctx.subdir('pki');
  const ca = await makeCa(dir, 'ca', { dn: 'C=CH, O=cygnet, CN=cygnet Machine CA' });
  const [gw, laptop] = await Promise.all([
    issue(dir, 'gw', ca, { dn: 'C=CH, O=cygnet, CN=gw.cygnet.test', san: ['gw@cygnet.test'], flags: ['serverAuth'] }),
    issue(dir, 'laptop', ca, { dn: 'C=CH, O=cygnet, CN=laptop.cygnet.test', san: ['laptop@cygnet.test'], flags: ['clientAuth'] }),
  ]);
  const gateway = `connections {
  rw {
    local_addrs = ${left.outer4}
    remote_addrs = %any
    proposals = ${PROPOSALS}
    local {
      auth = pubkey
      certs = gw.crt
      id = gw@cygnet.test
    }
    remote-1 {
      auth = pubkey
      id = laptop@cygnet.test
    }
    remote-2 {
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
  eap-carol {
    id = carol
    secret = "carol's password"
  }
}
`;
  const client = (conn: string): string => `  ${conn} {
    local_addrs = ${right.outer4}
    remote_addrs = ${left.outer4}
    proposals = ${PROPOSALS}
    local-1 {
      auth = pubkey
      certs = laptop.crt
      id = laptop@cygnet.test
    }
    local-2 {
      auth = eap-mschapv2
      eap_id = carol
    }
    remote {
      auth = pubkey
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
  const swanConf = (password: string): string => `connections {
${client('rw')}}
secrets {
  eap-carol {
    id = carol
    secret = "${password}"
  }
}
`;
  const cyg = await startCertCygnet(ctx, h, gateway, { 'x509/gw.crt': gw.certPem, 'private/gw.key': gw.keyPem, 'x509ca/ca.crt': ca.certPem }, 'cygnet-gw', { extraArgs: ['--tun', 'cyg0'] });
  const files = { 'x509/laptop.crt': laptop.certPem, 'private/laptop.key': laptop.keyPem, 'x509ca/ca.crt': ca.certPem };
  const plugins = [...DEFAULT_PLUGINS, 'md4', 'md5', 'eap-mschapv2', 'eap-identity'];
  const swan = await ctx.startStrongswan({ ns: right.ns, swanctlConf: swanConf("carol's password"), files, plugins });
  await swan.loadAll();

  const up = await swan.initiate('rw-net', { ike: 'rw', timeoutS: 20 });
  assert.equal(up.code, 0, `strongSwan brings up rw with a certificate, then EAP-MSCHAPv2:\n${up.stdout}${up.stderr}`);
  await cyg.waitFor('SA established', establishedCygnet);
  await swan.waitForLog(/N\(MULT_AUTH\)/, 3000);
  await cyg.peer.waitForLog(/received IKE_AUTH request 1 \[.*N\(AUTH_FOLLOWS\)/, 3000);
  await cyg.peer.waitForLog(/authentication of 'laptop@cygnet\.test' with .*successful/, 3000);
  await cyg.peer.waitForLog(/initiating EAP-mschapv2 for .* in a second round \(RFC 4739\)/, 3000);
  await cyg.peer.waitForLog(/EAP method EAP-mschapv2 succeeded for 'carol', MSK established/, 3000);
  await cyg.peer.waitForLog(/installed route 10\.2\.0\.1\/32 dev cyg0/, 5000);
  const out = await left.ns.ping(right.inner4, { count: 3, source: left.inner4 });
  assert.equal(out.received, 3, `ping gateway -> client:\n${out.output}`);
  const back = await right.ns.ping(left.inner4, { count: 3, source: right.inner4 });
  assert.equal(back.received, 3, `ping client -> gateway:\n${back.output}`);
  await swan.terminate('rw', { timeoutS: 10 });
  await cyg.waitFor('SA gone', (s) => (s.ikeSas.length === 0 ? s : undefined), 10_000);

  // The machine certificate checks out, the user's password does not: refused in the second round.
  await swan.stop();
  const wrong = await ctx.startStrongswan({ ns: right.ns, label: 'swan-wrong', swanctlConf: swanConf('not the password'), files, plugins });
  await wrong.loadAll();
  const bad = await wrong.initiate('rw-net', { ike: 'rw', timeoutS: 20, allowFail: true });
  assert.notEqual(bad.code, 0, 'a wrong user password in the second round does not come up');
  await cyg.peer.waitForLog(/EAP-mschapv2 authentication of 'carol' failed/i, 5000);
  await cyg.waitFor('nothing left on the gateway', (s) => (s.ikeSas.length === 0 ? s : undefined), 10_000);
}
