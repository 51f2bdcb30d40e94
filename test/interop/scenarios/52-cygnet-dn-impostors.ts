/**
 * Issue 11 against strongSwan: certificates from the CA cygnet trusts whose subjects print like the identity
 * cygnet expects, `remote { id = "C=CH, O=example, CN=gw.example" }`, but are different names. strongSwan
 * initiates each time; cygnet (responder) must refuse the impostors with AUTHENTICATION_FAILED and say why,
 * and still accept the genuine certificate.
 *
 *   1. genuine: `pki --issue --dn "C=CH, O=example, CN=gw.example"` establishes.
 *   2. `pki --issue --dn "/C=CH/O=example, CN=gw.example"`: strongSwan's slash form keeps the comma in the value,
 *      a two-RDN subject whose O is "example, CN=gw.example". strongSwan 5.9.8's pki has no RFC 4514 escapes
 *      (`\,` stays in the value, `+` and quotes are literal), so the slash form is how its pki makes this name,
 *      and `pki --print` shows it exactly like the genuine one. strongSwan sends the subject as IDi; cygnet finds
 *      no config for `C=CH, O=example\, CN=gw.example` and names the configured id.
 *   3. a multi-valued RDN `O=example+CN=gw.example` (OpenSSL `-multivalue-rdn`, signed with the same strongSwan
 *      CA key; strongSwan's pki cannot make one). strongSwan, which flattens RDN sets when it compares DNs
 *      (identification.c), takes it for `local { id = "C=CH, O=example, CN=gw.example" }` and sends that IDi;
 *      cygnet refuses because the certificate's subject is not that DN.
 *   4. embedded `=`: `pki --issue --dn "/C=CH, O=example/CN=gw.example"`, a two-RDN subject whose C value is
 *      "CH, O=example"; `pki --print` shows it like the genuine one; cygnet finds no config for it.
 *   5. spaces hiding a separator: OpenSSL `-subj "/C=CH/O=example , CN=gw.example "` (strongSwan's pki trims
 *      trailing spaces), two RDNs; cygnet prints it with RFC 4514 escapes and refuses it.
 *   6. genuine in other string types and case: OpenSSL's default UTF8String O and CN (strongSwan's pki writes
 *      PrintableString) with "Example" and "GW.example": the same name under RFC 5280 7.1, it establishes.
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run as exec } from '../lib/exec.js';
import { genKey, issue, makeCa, type Credential } from '../lib/pki.js';
import type { ScenarioContext } from '../lib/scenario.js';
import { swanctlConf, type PskConnection } from '../lib/swanctl-conf.js';
import { twoHosts, type TwoHosts } from '../lib/topology.js';
import { establishedCygnet } from './20-cygnet-psk-responder.js';
import { certConnection, credFiles, GCM, startCertCygnet, swanSide } from './30-cygnet-certs-swanpki.js';

export const name = 'cygnet-dn-impostors';
export const timeoutMs = 90_000;

const EXPECTED = 'C=CH, O=example, CN=gw.example';
const HQ = 'C=CH, O=example, CN=hq';

/** An OpenSSL-made certificate (`subj` in OpenSSL's slash form), signed by the strongSwan-made CA. */
async function openssl(dir: string, ca: Credential, name: string, subj: string, dn: string, serial: string, extra: string[] = []): Promise<Credential> {
  const keyFile = await genKey(dir, name, 'ecdsa256');
  const csr = join(dir, `${name}.csr`);
  const ext = join(dir, `${name}.ext`);
  const certFile = join(dir, `${name}.crt`);
  await exec('openssl', ['req', '-new', '-key', keyFile, '-subj', subj, ...extra, '-out', csr]);
  await writeFile(ext, 'keyUsage=critical,digitalSignature\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n');
  await exec('openssl', ['x509', '-req', '-in', csr, '-CA', ca.certFile, '-CAkey', ca.keyFile, '-set_serial', serial, '-days', '30', '-extfile', ext, '-out', certFile]);
  return { dn, keyType: 'ecdsa256', keyFile, certFile, keyPem: await readFile(keyFile, 'utf8'), certPem: await readFile(certFile, 'utf8') };
}

/** An OpenSSL-made certificate with a multi-valued RDN (strongSwan's pki cannot make one). */
function multiValued(dir: string, ca: Credential): Promise<Credential> {
  return openssl(dir, ca, 'mv', '/C=CH/O=example+CN=gw.example', 'C=CH, O=example+CN=gw.example', '0x5201', ['-multivalue-rdn']);
}

async function subjectAsPrinted(cred: Credential): Promise<string> {
  const out = (await exec('pki', ['--print', '--in', cred.certFile])).stdout;
  return /subject:\s+"(.*)"/.exec(out)?.[1] ?? '';
}

/** cygnet responds with `remote { id = EXPECTED }`; strongSwan initiates with `swan`'s certificate. */
async function attempt(ctx: ScenarioContext, h: TwoHosts, label: string, ca: Credential, cyg: Credential, swan: Credential, claim?: string) {
  const base = certConnection(h);
  const cygConn: PskConnection = { ...base, localId: undefined as unknown as string, remoteId: `"${EXPECTED}"` };
  const swanConn: PskConnection = { ...swanSide(base), localId: (claim ? `"${claim}"` : undefined) as unknown as string, remoteId: `"${HQ}"` };
  const s = await ctx.startStrongswan({ ns: h.right.ns, swanctlConf: swanctlConf(swanConn), files: credFiles(swan, 'swan', ca.certPem), label: `right-${label}` });
  await s.loadAll();
  const c = await startCertCygnet(ctx, h, swanctlConf(cygConn), credFiles(cyg, 'cygnet', ca.certPem), `cygnet-${label}`);
  const res = await s.initiate('net', { allowFail: true, timeoutS: 10 });
  return { swan: s, cyg: c, ok: res.code === 0 };
}

export async function run(ctx: ScenarioContext): Promise<void> {
  const h = await twoHosts(ctx.lab);
  const dir = await ctx.subdir('pki');
  const ca = await makeCa(dir, 'ca', { dn: 'C=CH, O=example, CN=example CA' });
  const [cyg, genuine, comma, mv, equals, spaces, utf8] = await Promise.all([
    issue(dir, 'cygnet', ca, { dn: HQ }),
    issue(dir, 'genuine', ca, { dn: EXPECTED }),
    issue(dir, 'comma', ca, { dn: '/C=CH/O=example, CN=gw.example' }),
    multiValued(dir, ca),
    issue(dir, 'equals', ca, { dn: '/C=CH, O=example/CN=gw.example' }),
    openssl(dir, ca, 'spaces', '/C=CH/O=example , CN=gw.example ', 'C=CH, O=example \\, CN=gw.example\\ ', '0x5202'),
    openssl(dir, ca, 'utf8', '/C=CH/O=Example/CN=GW.example', 'C=CH, O=Example, CN=GW.example', '0x5203'),
  ]);
  // The premise: strongSwan prints these subjects alike.
  for (const c of [genuine, comma, mv, equals]) assert.equal(await subjectAsPrinted(c), EXPECTED, `pki --print of ${c.certFile}`);
  assert.equal(await subjectAsPrinted(spaces), 'C=CH, O=example , CN=gw.example ', `pki --print of ${spaces.certFile}`);

  // 1. The genuine certificate establishes.
  {
    const t = await attempt(ctx, h, 'genuine', ca, cyg, genuine);
    assert.ok(t.ok, 'strongSwan initiate succeeds');
    const [ci, si] = await Promise.all([t.cyg.waitFor('established', establishedCygnet), t.swan.waitEstablished('cyg', 'net')]);
    assert.equal(ci.spiI, si.initiatorSpi);
    assert.equal(si.suite, GCM.suite);
    assert.equal(ci.remoteId, EXPECTED);
    assert.equal(si.remoteId, HQ);
    const line = await t.cyg.peer.waitForLog(new RegExp(`authentication of '${EXPECTED}' with .* successful`), 3000);
    ctx.log(`1: cygnet: ${line.trim()}`);
    await Promise.all([t.swan.stop(), t.cyg.peer.stop()]);
  }

  // 2. Comma inside the O value: strongSwan sends its subject (two RDNs) as IDi.
  {
    const t = await attempt(ctx, h, 'comma', ca, cyg, comma);
    assert.ok(!t.ok, 'strongSwan initiate fails');
    await t.swan.waitForLog(/received AUTHENTICATION_FAILED notify error/, 5000);
    const why = await t.cyg.peer.waitForLog(/no matching peer config found/, 3000);
    ctx.log(`2: cygnet: ${why.trim()}`);
    assert.ok(why.includes(`no matching peer config found for 'C=CH, O=example\\, CN=gw.example'`), 'names the received DN with its escape');
    assert.ok(why.includes(`configured remote ids: '${EXPECTED}'`), 'names the configured DN');
    assert.equal(t.cyg.status()?.ikeSas.filter((s) => s.state === 'ESTABLISHED').length ?? 0, 0);
    await Promise.all([t.swan.stop(), t.cyg.peer.stop()]);
  }

  // 3. Multi-valued RDN: strongSwan claims the expected DN as IDi with it.
  {
    const t = await attempt(ctx, h, 'multivalued', ca, cyg, mv, EXPECTED);
    assert.ok(!t.ok, 'strongSwan initiate fails');
    await t.swan.waitForLog(/received AUTHENTICATION_FAILED notify error/, 5000);
    const why = await t.cyg.peer.waitForLog(/is not confirmed by certificate/, 3000);
    ctx.log(`3: cygnet: ${why.trim()}`);
    assert.ok(why.includes(`authentication of '${EXPECTED}' failed: identity '${EXPECTED}' is not confirmed by certificate "C=CH, O=example+CN=gw.example"`), 'names the ID and the certificate subject');
    assert.ok(why.includes('neither its subject nor a subjectAltName matches'), 'says the subject/SANs did not match');
    assert.ok(why.includes(`configured remote id '${EXPECTED}'`), 'names the configured id');
    assert.equal(t.cyg.status()?.ikeSas.filter((s) => s.state === 'ESTABLISHED').length ?? 0, 0);
    await Promise.all([t.swan.stop(), t.cyg.peer.stop()]);
  }

  // 4 and 5. Embedded '=' and spaces around a separator: strongSwan sends each subject (two RDNs) as IDi.
  for (const [n, cred, printed] of [
    [4, equals, 'C=CH\\, O=example, CN=gw.example'],
    [5, spaces, 'C=CH, O=example \\, CN=gw.example\\ '],
  ] as const) {
    const t = await attempt(ctx, h, `impostor-${n}`, ca, cyg, cred);
    assert.ok(!t.ok, `${n}: strongSwan initiate fails`);
    await t.swan.waitForLog(/received AUTHENTICATION_FAILED notify error/, 5000);
    const why = await t.cyg.peer.waitForLog(/no matching peer config found/, 3000);
    ctx.log(`${n}: cygnet: ${why.trim()}`);
    assert.ok(why.includes(`no matching peer config found for '${printed}'`), `${n}: names the received DN with its escapes`);
    assert.ok(why.includes(`configured remote ids: '${EXPECTED}'`), `${n}: names the configured DN`);
    assert.equal(t.cyg.status()?.ikeSas.filter((s) => s.state === 'ESTABLISHED').length ?? 0, 0);
    await Promise.all([t.swan.stop(), t.cyg.peer.stop()]);
  }

  // 6. The expected DN in UTF8String and other case, claimed as the configured text: the same name, established.
  {
    const t = await attempt(ctx, h, 'utf8', ca, cyg, utf8, EXPECTED);
    assert.ok(t.ok, '6: strongSwan initiate succeeds');
    const [ci] = await Promise.all([t.cyg.waitFor('established', establishedCygnet), t.swan.waitEstablished('cyg', 'net')]);
    assert.equal(ci.remoteId, EXPECTED);
    const line = await t.cyg.peer.waitForLog(new RegExp(`authentication of '${EXPECTED}' with .* successful`), 3000);
    ctx.log(`6: cygnet: ${line.trim()}`);
    await Promise.all([t.swan.stop(), t.cyg.peer.stop()]);
  }
}
