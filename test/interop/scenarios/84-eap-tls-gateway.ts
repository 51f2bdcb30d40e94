/**
 * EAP-TLS road warrior against a cygnet gateway (issue 14; RFC 7296 2.16, RFC 5216): strongSwan 5.9.8 (right) is
 * the client with `local { auth = eap-tls; certs = carol.crt }`, cygnet (left, real TUN) the gateway with
 * `local { auth = pubkey; certs = gw.crt }` and `remote { auth = eap-tls; id = %any }`. One CA (strongSwan's `pki`)
 * issued both certificates. cygnet authenticates itself with its certificate in IKE, then runs the TLS handshake
 * inside EAP (node:tls, src/eap-tls) with the same certificate, checks carol's certificate against the CA and her
 * IKE identity, and both compute the last AUTHs from the MSK (RFC 5216 2.3). strongSwan 5.9.8's libtls tops out
 * at TLS 1.2 by default, so that is the version both logs must show; ping crosses both ways. A client certificate
 * from another CA (dave) gets AUTHENTICATION_FAILED, both logs name EAP-TLS and the identity, and nothing is left
 * half-open on the gateway.
 */
import assert from 'node:assert/strict';
import { issue, makeCa } from '../lib/pki.js';
import type { ScenarioContext } from '../lib/scenario.js';
import { DEFAULT_PLUGINS } from '../lib/strongswan.js';
import { twoHosts } from '../lib/topology.js';
import { establishedCygnet } from './20-cygnet-psk-responder.js';
import { startCertCygnet } from './30-cygnet-certs-swanpki.js';

export const name = 'eap-tls-gateway';
export const timeoutMs = 60_000;

const PROPOSALS = 'aes128gcm16-prfsha256-x25519';
/** strongSwan's eap-tls needs its libtls crypto from these (openssl is among the defaults). */
export const EAP_TLS_PLUGINS = [...DEFAULT_PLUGINS, 'eap-tls'];

export async function run(ctx: ScenarioContext): Promise<void> {
  const h = await twoHosts(ctx.lab);
  const { left, right } = h;
  const dir = await ctx.subdir('pki');
  const [ca, rogue] = await Promise.all([makeCa(dir, 'ca', { dn: 'C=CH, O=cygnet, CN=cygnet EAP-TLS CA' }), makeCa(dir, 'rogue', { dn: 'C=CH, O=elsewhere, CN=Another CA' })]);
  const [gw, carol, dave] = await Promise.all([
    issue(dir, 'gw', ca, { dn: 'C=CH, O=cygnet, CN=gw.cygnet.test', san: ['gw@cygnet.test'], flags: ['serverAuth'] }),
    issue(dir, 'carol', ca, { dn: 'C=CH, O=cygnet, CN=carol', san: ['carol@cygnet.test'], flags: ['clientAuth'] }),
    issue(dir, 'dave', rogue, { dn: 'C=CH, O=elsewhere, CN=dave', san: ['dave@cygnet.test'], flags: ['clientAuth'] }),
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
    remote {
      auth = eap-tls
      id = %any
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
`;
  const client = (conn: string, cert: string): string => `  ${conn} {
    local_addrs = ${right.outer4}
    remote_addrs = ${left.outer4}
    proposals = ${PROPOSALS}
    local {
      auth = eap-tls
      certs = ${cert}.crt
      id = ${conn}@cygnet.test
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
  const swanConf = `connections {
${client('carol', 'carol')}${client('dave', 'dave')}}
`;
  const cyg = await startCertCygnet(ctx, h, gateway, { 'x509/gw.crt': gw.certPem, 'private/gw.key': gw.keyPem, 'x509ca/ca.crt': ca.certPem }, 'cygnet-gw', {
    extraArgs: ['--tun', 'cyg0'],
  });
  const swan = await ctx.startStrongswan({
    ns: right.ns,
    swanctlConf: swanConf,
    files: {
      'x509/carol.crt': carol.certPem,
      'private/carol.key': carol.keyPem,
      'x509/dave.crt': dave.certPem,
      'private/dave.key': dave.keyPem,
      'x509ca/ca.crt': ca.certPem,
    },
    plugins: EAP_TLS_PLUGINS,
    logLevels: { default: 1, ike: 2, cfg: 2, enc: 1, net: 1, knl: 1, tls: 2 },
  });
  await swan.loadAll();

  const up = await swan.initiate('carol-net', { ike: 'carol', timeoutS: 20 });
  assert.equal(up.code, 0, `strongSwan brings up carol over EAP-TLS:\n${up.stdout}${up.stderr}`);
  await cyg.waitFor('SA established', establishedCygnet);
  // strongSwan 5.9.8's libtls stops at TLS 1.2 (RFC 5216); both ends name the same version and suite
  const ours = await cyg.peer.waitForLog(/EAP-TLS with 'carol@cygnet\.test': negotiated TLS 1\.2 using suite (TLS_\w+)/, 5000);
  const suite = /using suite (TLS_\w+)/.exec(ours)?.[1] ?? '?';
  await cyg.peer.waitForLog(/EAP method EAP-tls succeeded for 'carol@cygnet\.test', MSK established/, 5000);
  await cyg.peer.waitForLog(/authentication of 'carol@cygnet\.test' with EAP MSK successful/, 5000);
  await swan.waitForLog(`negotiated TLS 1.2 using suite ${suite}`, 5000);
  await swan.waitForLog(/EAP method EAP_TLS succeeded, MSK established/, 5000);
  await swan.waitForLog(/authentication of 'gw@cygnet\.test' with EAP successful/, 5000);
  await cyg.peer.waitForLog(/installed route 10\.2\.0\.1\/32 dev cyg0/, 5000);
  const out = await left.ns.ping(right.inner4, { count: 3, source: left.inner4 });
  assert.equal(out.received, 3, `ping gateway -> client through the tunnel:\n${out.output}`);
  const back = await right.ns.ping(left.inner4, { count: 3, source: right.inner4 });
  assert.equal(back.received, 3, `ping client -> gateway through the tunnel:\n${back.output}`);

  // dave's certificate comes from a CA the gateway does not trust: EAP-Failure and AUTHENTICATION_FAILED.
  const bad = await swan.initiate('dave-net', { ike: 'dave', timeoutS: 20, allowFail: true });
  assert.notEqual(bad.code, 0, 'dave with a certificate from another CA does not come up');
  const refusal = await cyg.peer.waitForLog(/EAP-tls authentication of 'dave@cygnet\.test' failed: .*the client certificate is not trusted/i, 5000);
  assert.match(refusal, /certificate "C=CH, O=elsewhere, CN=dave" was issued by "C=CH, O=elsewhere, CN=Another CA"/, 'the gateway says which certificate and issuer');
  await cyg.peer.waitForLog(/\[rw\|\d+\] sending IKE_AUTH response \d+ \[ N\(AUTH_FAILED\) EAP \]/, 5000);
  // charon names the method, the certificate it sent (CN=dave) and the refusal, each under the dave connection
  await swan.waitForLog(/<dave\|\d+> server requested EAP_TLS authentication/, 5000);
  await swan.waitForLog(/<dave\|\d+> sending TLS client certificate 'C=CH, O=elsewhere, CN=dave'/, 5000);
  await swan.waitForLog(/<dave\|\d+> received AUTHENTICATION_FAILED notify error/, 5000);
  const sas = await swan.listSas();
  assert.deepEqual(sas.map((s) => s.name), ['carol'], `strongSwan holds only carol's IKE SA: ${JSON.stringify(sas.map((s) => s.name))}`);
  await cyg.waitFor("only carol's IKE SA left on the gateway", (s) => (s.ikeSas.length === 1 && s.ikeSas[0]?.state === 'ESTABLISHED' ? s : undefined), 10_000);
}
