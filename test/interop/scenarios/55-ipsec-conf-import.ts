/**
 * The seeds' ipsec.conf setups as strongSwan users bring them (issue 13): cygnet runs `daemon --ipsec-conf` on
 * the seed's own ipsec.conf + ipsec.secrets (certificates in ipsec.d/ beside it), strongSwan runs the same seed
 * mirrored (left* and right* swapped, auto=start made auto=add so only cygnet initiates) and converted by
 * `cygnet import` to swanctl.conf. Both sides must agree on the SAs.
 *
 * - 000 IPFire net-to-net: the PSK tunnel (modp4096, two local subnets, auto=start) carries pings both ways
 *   through cygnet's TUN; the certificate tunnel (rsasig, DN identities) comes up when swanctl initiates it.
 * - 004 Openswan: the PSK tunnel (aes256-sha1;modp1024!, phase2alg) comes up; its documentation addresses are
 *   replaced by this topology's.
 * - 001 ArchWiki road-warrior server: cygnet serves its IKEv2 certificate connection (IPSec-IKEv2) to a strongSwan
 *   client made from the mirrored seed (the server's address for right=%any, the page's ClientCert.pem as leftcert;
 *   no routes: its remote selector is 0.0.0.0/0). IPSec-IKEv2-EAP is carried (EAP-MSCHAPv2, scenarios 82/83 run
 *   EAP) but not run here; not carried: rightsourceip=%dhcp (no DHCP in cygnet), CiscoIPSec (IKEv1 with XAUTH).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CYGNET_MAIN, CYGNET_VICI_URI, REPO_ROOT } from '../lib/cygnet.js';
import { issue, makeCa } from '../lib/pki.js';
import { spawnIsolated } from '../lib/process.js';
import type { ScenarioContext } from '../lib/scenario.js';
import { DaemonPeer } from '../lib/swanctl.js';
import { twoHosts, type TwoHosts } from '../lib/topology.js';
import { convertIpsecConf } from '../../../src/config/ipsec-conf/index.js';

export const name = 'ipsec-conf-import';
export const timeoutMs = 90_000;

const SEEDS = join(REPO_ROOT, 'test/fixtures/ipsec-conf');

/** The other end of an ipsec.conf: left* <-> right*, and only we initiate. */
export function mirrorIpsecConf(text: string): string {
  return text
    .replace(/^(\s+)(left|right)(\w*)(\s*=)/gm, (_m, sp: string, side: string, rest: string, eq: string) => `${sp}${side === 'left' ? 'right' : 'left'}${rest}${eq}`)
    .replace(/^(\s+)auto=start\b/gm, '$1auto=add');
}

/** A seed copied into `dir` (its includes too) with its addresses replaced. */
async function placeSeed(seed: string, dir: string, rewrite: (t: string) => string = (t) => t): Promise<string> {
  await cp(join(SEEDS, seed), dir, { recursive: true });
  const conf = join(dir, 'ipsec.conf');
  await writeFile(conf, rewrite(await readFile(conf, 'utf8')));
  return conf;
}

async function startCygnetIpsecConf(ctx: ScenarioContext, h: TwoHosts, conf: string, dir: string, args: readonly string[] = []): Promise<DaemonPeer> {
  const label = `cygnet-${h.left.ns.role}`;
  const logFile = join(dir, `${label}.log`);
  ctx.logFiles.push({ label, path: logFile });
  const proc = spawnIsolated(h.left.ns, process.execPath, ['--import', 'tsx', CYGNET_MAIN, 'daemon', '--ipsec-conf', conf, '--debug', 'cfg 1, ike 1', ...args, ...(args.includes('--tun') ? [] : ['--no-tun'])], { logFile, cwd: REPO_ROOT, env: process.env });
  const peer = new DaemonPeer(h.left.ns, label, dir, proc, CYGNET_VICI_URI);
  ctx.defer(() => proc.stop());
  await peer.waitReady(proc, 'node', 20_000);
  return peer;
}

/** strongSwan with the mirrored seed converted by `cygnet import`. */
async function startMirror(ctx: ScenarioContext, h: TwoHosts, seedDir: string, files: Record<string, string>, adapt: (t: string) => string = (t) => t, charonOptions?: string) {
  const dir = await ctx.subdir('mirror');
  await cp(seedDir, dir, { recursive: true });
  await writeFile(join(dir, 'ipsec.conf'), adapt(mirrorIpsecConf(await readFile(join(dir, 'ipsec.conf'), 'utf8'))));
  const io = { readFile: (f: string) => readFileSync(f, 'utf8'), listDir: (d: string) => readdirSync(d) };
  const converted = convertIpsecConf(join(dir, 'ipsec.conf'), io, { secretsFile: join(dir, 'ipsec.secrets') });
  await writeFile(join(dir, 'swanctl.conf'), converted.text);
  const swan = await ctx.startStrongswan({ ns: h.right.ns, swanctlConf: converted.text, files, ...(charonOptions !== undefined ? { charonOptions } : {}) });
  await swan.loadAll();
  return swan;
}

export async function run(ctx: ScenarioContext): Promise<void> {
  const h = await twoHosts(ctx.lab);

  // --- 000 IPFire: PSK and certificate tunnels; the seed's hosts are this topology's 192.0.2.1 and .2 already.
  const pkiDir = await ctx.subdir('pki');
  const ca = await makeCa(pkiDir, 'ca', { keyType: 'rsa2048', dn: 'C=CH, O=IPFire, CN=IPFire Root CA' });
  const ipfire1 = await issue(pkiDir, 'hostcert', ca, { dn: 'C=CH, O=IPFire1, CN=ipfire1.example.org', keyType: 'rsa2048' });
  const ipfire2 = await issue(pkiDir, 'IPFire2Host', ca, { dn: 'C=CH, O=IPFire2, CN=ipfire2.example.org', keyType: 'rsa2048' });
  const cygDir = await ctx.subdir('cygnet-000');
  const conf000 = await placeSeed('000-ipfire-net2net', cygDir);
  // ipsec.d/ beside ipsec.conf, as strongSwan's starter keeps credentials (the seed names /var/ipfire/certs/...)
  for (const d of ['certs', 'cacerts', 'private']) await mkdir(join(cygDir, 'ipsec.d', d), { recursive: true });
  await writeFile(join(cygDir, 'ipsec.d/certs/hostcert.pem'), ipfire1.certPem);
  await writeFile(join(cygDir, 'ipsec.d/certs/IPFire2Host.pem'), ipfire2.certPem);
  await writeFile(join(cygDir, 'ipsec.d/cacerts/ca.pem'), ca.certPem);
  await writeFile(join(cygDir, 'ipsec.d/private/hostkey.pem'), ipfire1.keyPem);
  const swan000 = await startMirror(ctx, h, join(SEEDS, '000-ipfire-net2net'), {
    'x509/hostcert.pem': ipfire1.certPem,
    'x509/IPFire2Host.pem': ipfire2.certPem,
    'x509ca/ca.pem': ca.certPem,
    'private/IPFire2HostKey.pem': ipfire2.keyPem,
  });
  const cyg000 = await startCygnetIpsecConf(ctx, h, conf000, cygDir, ['--tun', 'cyg0']);
  const [ci, si] = await Promise.all([cyg000.waitEstablished('IPFire2', 'IPFire2', 30_000), swan000.waitEstablished('IPFire2', 'IPFire2', 30_000)]);
  assert.equal(ci.initiatorSpi, si.initiatorSpi);
  assert.equal(ci.suite, si.suite);
  assert.match(si.suite, /MODP_4096/, `the seed's ike=...-modp4096 first: ${si.suite}`);
  assert.deepEqual([...si.children[0]!.remoteTs].sort(), ['10.1.0.0/24', '10.3.0.0/24']);
  assert.deepEqual([...si.children[0]!.localTs], ['10.2.0.0/24']);
  ctx.log(`000 PSK: ${si.suite}; ${si.children[0]!.suite}`);
  await cyg000.waitForLog(/installed route 10\.2\.0\.0\/24 dev cyg0/, 5000);
  for (const [from, to, src] of [[h.left, h.right.inner4, h.left.inner4], [h.right, h.left.inner4, h.right.inner4]] as const) {
    const p = await from.ns.ping(to, { count: 3, source: src });
    assert.equal(p.received, 3, p.output);
  }
  // the certificate tunnel: auto=add on both sides, so swanctl on cygnet's vici starts it. Its remote subnet is
  // the PSK tunnel's too: kernel-libipsec cannot route 10.1.0.0/24 twice, so the PSK tunnel goes first.
  await cyg000.terminate('IPFire2');
  await swan000.waitNoSas('IPFire2', 10_000);
  // charon routes the selectors from an address inside its local one (10.4.0.0/24 here)
  await h.right.ns.addAddress('lo', '10.4.0.1/32');
  const init = await cyg000.initiate('IPFire2Cert', { ike: 'IPFire2Cert', allowFail: true });
  assert.equal(init.code, 0, `initiate IPFire2Cert: ${init.stdout}${init.stderr}`);
  const cs = await swan000.waitEstablished('IPFire2Cert', 'IPFire2Cert', 20_000);
  assert.match(cs.remoteId ?? '', /CN=ipfire1\.example\.org/, JSON.stringify(cs));
  ctx.log(`000 certificates: ${cs.suite}; peer ${cs.remoteId}`);
  await cyg000.process.stop();
  await swan000.stop();

  // --- 004 Openswan: documentation addresses replaced by the topology's
  const cyg4Dir = await ctx.subdir('cygnet-004');
  const to4 = (t: string) => t.replace(/198\.51\.100\.1/g, h.left.outer4).replace(/203\.0\.113\.2/g, h.right.outer4);
  const conf004 = await placeSeed('004-openswan-psk', cyg4Dir, to4);
  const seed4Mirror = await ctx.subdir('seed-004');
  await placeSeed('004-openswan-psk', seed4Mirror, to4);
  await h.right.ns.addAddress('lo', '10.20.0.1/32');
  const swan004 = await startMirror(ctx, h, seed4Mirror, {});
  const cyg004 = await startCygnetIpsecConf(ctx, h, conf004, cyg4Dir);
  const [c4, s4] = await Promise.all([cyg004.waitEstablished('State-Secrets', 'State-Secrets', 30_000), swan004.waitEstablished('State-Secrets', 'State-Secrets', 30_000)]);
  assert.equal(c4.responderSpi, s4.responderSpi);
  assert.match(s4.suite, /AES_CBC-256\/HMAC_SHA1_96\/PRF_HMAC_SHA1\/MODP_1024/, s4.suite);
  assert.deepEqual([...s4.children[0]!.remoteTs], ['192.168.1.0/24']);
  ctx.log(`004 PSK: ${s4.suite}; ${s4.children[0]!.suite}`);
  await cyg004.process.stop();
  await swan004.stop();

  // --- 001 ArchWiki: cygnet is the road-warrior server of the seed, strongSwan its client
  const ca1 = await makeCa(pkiDir, 'strongswanCert', { keyType: 'rsa2048', dn: 'C=CH, O=strongSwan, CN=strongSwan Root CA' });
  const host1 = await issue(pkiDir, 'vpnHostCert', ca1, { dn: 'C=CH, O=strongSwan, CN=vpn.example.org', san: ['vpn.example.org'], keyType: 'rsa2048' });
  const client1 = await issue(pkiDir, 'ClientCert', ca1, { dn: 'C=CH, O=strongSwan, CN=myself@example.com', san: ['myself@example.com'], keyType: 'rsa2048' });
  const cyg1Dir = await ctx.subdir('cygnet-001');
  const conf001 = await placeSeed('001-archwiki-roadwarrior', cyg1Dir);
  for (const d of ['certs', 'cacerts', 'private']) await mkdir(join(cyg1Dir, 'ipsec.d', d), { recursive: true });
  await writeFile(join(cyg1Dir, 'ipsec.d/certs/vpnHostCert.pem'), host1.certPem);
  await writeFile(join(cyg1Dir, 'ipsec.d/cacerts/strongswanCert.pem'), ca1.certPem);
  await writeFile(join(cyg1Dir, 'ipsec.d/private/ClientKey.pem'), host1.keyPem); // the seed's `: RSA ClientKey.pem`
  const client = (t: string) =>
    t
      .replace(/^(\s+)right=%any$/m, `$1right=${h.left.outer4}`)
      .replace(/^conn %default$/m, 'conn %default\n  leftcert=ClientCert.pem')
      .replace(/^\s+leftsourceip=%dhcp$/m, '');
  const swan001 = await startMirror(ctx, h, join(SEEDS, '001-archwiki-roadwarrior'), {
    'x509/ClientCert.pem': client1.certPem,
    'x509/vpnHostCert.pem': host1.certPem,
    'x509ca/strongswanCert.pem': ca1.certPem,
    'private/ClientKey.pem': client1.keyPem,
  }, client, 'install_routes = no');
  const cyg001 = await startCygnetIpsecConf(ctx, h, conf001, cyg1Dir);
  const up = await swan001.initiate('IPSec-IKEv2', { ike: 'IPSec-IKEv2', allowFail: true });
  assert.equal(up.code, 0, `strongSwan client initiating IPSec-IKEv2: ${up.stdout}${up.stderr}`);
  const [c1, s1] = await Promise.all([cyg001.waitEstablished('IPSec-IKEv2', 'IPSec-IKEv2', 20_000), swan001.waitEstablished('IPSec-IKEv2', 'IPSec-IKEv2', 20_000)]);
  assert.equal(c1.initiatorSpi, s1.initiatorSpi);
  assert.match(s1.suite, /ECP_256/, `the seed's first ike proposal (aes128-sha256-ecp256): ${s1.suite}`);
  assert.deepEqual([...s1.children[0]!.remoteTs], ['0.0.0.0/0']);
  assert.match(c1.remoteId, /CN=myself@example.com/);
  ctx.log(`001 road warrior: ${s1.suite}; client ${c1.remoteId}`);
}
