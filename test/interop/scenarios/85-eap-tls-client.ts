/**
 * cygnet as the EAP-TLS road warrior (issue 14; RFC 7296 2.16, RFC 5216): cygnet (left, real TUN) has `local {
 * auth = eap-tls; certs = carol.crt }`, strongSwan 5.9.8 (right) is the gateway with `local { auth = pubkey }` and
 * `remote { auth = eap-tls }`. cygnet leaves AUTH out of its first IKE_AUTH, verifies the gateway's certificate
 * AUTH, answers EAP-TLS Start with a ClientHello offering TLS 1.2 and 1.3 (node:tls); strongSwan's libtls picks
 * TLS 1.2 (5.9.8's default maximum), which both logs show; cygnet checks the gateway's TLS certificate against its
 * CA and gw@cygnet.test, then sends the AUTH made with the MSK; ping crosses both ways. A gateway whose certificate
 * comes from a CA cygnet does not trust is refused by cygnet with a log line naming the reason, and strongSwan
 * keeps no SA.
 */
import assert from 'node:assert/strict';
import { issue, makeCa, type Credential } from '../lib/pki.js';
import type { ScenarioContext } from '../lib/scenario.js';
import { twoHosts } from '../lib/topology.js';
import { establishedCygnet } from './20-cygnet-psk-responder.js';
import { startCertCygnet } from './30-cygnet-certs-swanpki.js';
import { EAP_TLS_PLUGINS } from './84-eap-tls-gateway.js';

export const name = 'eap-tls-client';
export const timeoutMs = 60_000;

const PROPOSALS = 'aes128gcm16-prfsha256-x25519';

function cygnetConf(left: string, right: string, leftInner: string, rightInner: string): string {
  return `connections {
  rw {
    local_addrs = ${left}
    remote_addrs = ${right}
    proposals = ${PROPOSALS}
    local {
      auth = eap-tls
      certs = carol.crt
      id = carol@cygnet.test
    }
    remote {
      auth = pubkey
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
`;
}

const swanGateway = (right: string, rightInner: string, leftInner: string, aaaId?: string): string => `connections {
  rw {
    local_addrs = ${right}
    remote_addrs = %any
    proposals = ${PROPOSALS}
    local {
      auth = pubkey
      certs = gw.crt
      id = gw@cygnet.test
    }
    remote {
      auth = eap-tls
      id = %any${aaaId ? `\n      aaa_id = ${aaaId}` : ''}
    }
    children {
      net {
        local_ts = ${rightInner}/32
        remote_ts = ${leftInner}/32
        esp_proposals = aes128gcm16
      }
    }
  }
}
`;

export async function run(ctx: ScenarioContext): Promise<void> {
  const h = await twoHosts(ctx.lab);
  const { left, right } = h;
  const dir = await ctx.subdir('pki');
  const [ca, rogue] = await Promise.all([makeCa(dir, 'ca', { dn: 'C=CH, O=cygnet, CN=cygnet EAP-TLS CA' }), makeCa(dir, 'rogue', { dn: 'C=CH, O=elsewhere, CN=Another CA' })]);
  const gwDn = 'C=CH, O=cygnet, CN=gw.cygnet.test';
  const impostorDn = 'C=CH, O=elsewhere, CN=gw.cygnet.test';
  const [gw, carol, impostor] = await Promise.all([
    issue(dir, 'gw', ca, { dn: gwDn, san: ['gw@cygnet.test'], flags: ['serverAuth'] }),
    issue(dir, 'carol', ca, { dn: 'C=CH, O=cygnet, CN=carol', san: ['carol@cygnet.test'], flags: ['clientAuth'] }),
    issue(dir, 'impostor', rogue, { dn: impostorDn, san: ['gw@cygnet.test'], flags: ['serverAuth'] }),
  ]);
  const cygFiles = { 'x509/carol.crt': carol.certPem, 'private/carol.key': carol.keyPem, 'x509ca/ca.crt': ca.certPem };
  const swanFiles = (own: Credential, cas: readonly Credential[]): Record<string, string> => ({
    'x509/gw.crt': own.certPem,
    'private/gw.key': own.keyPem,
    ...Object.fromEntries(cas.map((c, i) => [`x509ca/ca${i}.crt`, c.certPem])),
  });
  const logLevels = { default: 1, ike: 2, cfg: 2, enc: 1, net: 1, knl: 1, tls: 2 };

  const swan = await ctx.startStrongswan({ ns: right.ns, swanctlConf: swanGateway(right.outer4, right.inner4, left.inner4), files: swanFiles(gw, [ca]), plugins: EAP_TLS_PLUGINS, logLevels });
  await swan.loadAll();
  const cyg = await startCertCygnet(ctx, h, cygnetConf(left.outer4, right.outer4, left.inner4, right.inner4), cygFiles, 'cygnet-client', { extraArgs: ['--tun', 'cyg0'] });
  await Promise.all([cyg.waitFor('SA established', establishedCygnet, 20_000), swan.waitEstablished('rw', 'net', 20_000)]);
  // strongSwan 5.9.8's libtls stops at TLS 1.2 (RFC 5216); both ends name the same version and suite
  const ours = await cyg.peer.waitForLog(/EAP-TLS as 'carol@cygnet\.test' with 'gw@cygnet\.test': negotiated TLS 1\.2 using suite (TLS_\w+)/, 5000);
  const suite = /using suite (TLS_\w+)/.exec(ours)?.[1] ?? '?';
  await swan.waitForLog(`negotiated TLS 1.2 using suite ${suite}`, 5000);
  await cyg.peer.waitForLog(/EAP method EAP-tls succeeded, MSK established/, 5000);
  await cyg.peer.waitForLog(/authentication of 'gw@cygnet\.test' with EAP MSK successful/, 5000);
  await swan.waitForLog(/EAP method EAP_TLS succeeded, MSK established/, 5000);
  await swan.waitForLog(/authentication of 'carol@cygnet\.test' with EAP successful/, 5000);
  await cyg.peer.waitForLog(/installed route 10\.2\.0\.1\/32 dev cyg0/, 5000);
  const out = await left.ns.ping(right.inner4, { count: 3, source: left.inner4 });
  assert.equal(out.received, 3, `ping client -> gateway through the tunnel:\n${out.output}`);
  const back = await right.ns.ping(left.inner4, { count: 3, source: right.inner4 });
  assert.equal(back.received, 3, `ping gateway -> client through the tunnel:\n${back.output}`);
  assert.equal(await cyg.peer.stop(5000), 0, 'cygnet exits 0');
  await swan.waitNoSas('rw', 5000);
  await swan.stop(5000);

  // A gateway whose TLS certificate comes from a CA cygnet does not trust (same subjectAltName gw@cygnet.test):
  // strongSwan's eap-tls server picks its certificate by aaa_id (eap_authenticator.c: the AAA identity replaces
  // the server's IKE identity), so IKE still authenticates with the trusted gw.crt and only EAP-TLS meets the
  // impostor. cygnet refuses it in the TLS handshake with a log line naming EAP-TLS, carol and the reason; strongSwan
  // keeps no SA.
  const fake = await ctx.startStrongswan({
    ns: right.ns,
    label: 'right-impostor',
    swanctlConf: swanGateway(right.outer4, right.inner4, left.inner4, `"${impostorDn}"`),
    files: { ...swanFiles(gw, [ca, rogue]), 'x509/impostor.crt': impostor.certPem, 'private/impostor.key': impostor.keyPem },
    plugins: EAP_TLS_PLUGINS,
    logLevels,
  });
  await fake.loadAll();
  const wrong = await startCertCygnet(ctx, h, cygnetConf(left.outer4, right.outer4, left.inner4, right.inner4), cygFiles, 'cygnet-wrong', { extraArgs: ['--no-tun', '--no-vici'] });
  const refusal = await wrong.peer.waitForLog(/EAP-TLS authentication of 'carol@cygnet\.test' failed: .*\(sending fatal TLS alert 48\)/, 15_000);
  ctx.log(`cygnet refused the impostor's TLS certificate: ${refusal.trim()}`);
  assert.match(refusal, /the server certificate is not trusted: certificate "C=CH, O=elsewhere, CN=gw\.cygnet\.test" was issued by "C=CH, O=elsewhere, CN=Another CA"/);
  // the TLS alert reached strongSwan before cygnet sent any certificate; it ends the conversation at once
  await fake.waitForLog(/received fatal TLS alert 'unknown ca'/, 5000);
  await fake.waitForLog(/EAP method EAP_TLS failed for peer carol@cygnet\.test/, 5000);
  await fake.waitNoSas('rw', 5000);
  await wrong.waitFor('no IKE SA left after the refusal', (s) => (s.ikeSas.length === 0 ? s : undefined), 5000);
  await wrong.peer.stop(3000);
}
