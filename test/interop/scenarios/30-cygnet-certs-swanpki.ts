/**
 * Certificates made by strongSwan's `pki` (ECDSA P-256 CA and host certificates) accepted by cygnet, with each
 * side initiating (issue 6, "certificates made by strongSwan's pki are accepted by cygnet"):
 *
 *   initiator  HDR, SK {IDi, CERT, CERTREQ, [IDr,] AUTH, SAi2, TSi, TSr}  -->
 *              <--  HDR, SK {IDr, CERT, AUTH, SAr2, TSi, TSr}
 *
 * RFC 7296 2.15 / 3.6 / 3.7; the AUTH is an RFC 7427 digital signature (method 14, ECDSA with SHA-256) unless a
 * side asks for another scheme. Asserted on both sides: same IKE and CHILD SPIs, suites, selectors (swanctl
 * --list-sas there, cygnet's status file here), and each side's log naming the signature it verified.
 *
 * The helpers are exported for the other certificate scenarios (31-39).
 */
import assert from 'node:assert/strict';
import { issue, makeCa, type Credential, type KeyType } from '../lib/pki.js';
import type { ScenarioContext } from '../lib/scenario.js';
import { mirror, swanctlConf, type PskConnection } from '../lib/swanctl-conf.js';
import type { StrongswanPeer } from '../lib/strongswan.js';
import { twoHosts, type TwoHosts } from '../lib/topology.js';
import { assertSameSa, establishedCygnet, type CygnetSide } from './20-cygnet-psk-responder.js';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from '../lib/exec.js';
import type { DaemonStatus } from '../../../src/daemon/status.js';

export const name = 'cygnet-certs-swanpki';
export const timeoutMs = 30_000;

export const CYG_ID = 'cygnet@cygnet.test';
export const SWAN_ID = 'swan@cygnet.test';
export const GCM = { proposals: 'aes128gcm16-prfsha256-x25519', esp: 'aes128gcm16', suite: 'AES_GCM_16-128/PRF_HMAC_SHA2_256/CURVE_25519', espSuite: 'AES_GCM_16-128' };

/** The connection as cygnet (left) sees it: certificates `cygnet.crt` / `swan.crt`, ids from their SANs. */
export function certConnection(h: TwoHosts, o: { startAction?: string; localAuth?: string; remoteAuth?: string; remoteId?: string } = {}): PskConnection {
  return {
    name: 'cyg',
    localAddrs: h.left.outer4,
    remoteAddrs: h.right.outer4,
    localId: CYG_ID,
    remoteId: o.remoteId ?? SWAN_ID,
    proposals: GCM.proposals,
    certs: { local: 'cygnet.crt', peer: 'swan.crt' },
    localAuth: o.localAuth ?? 'pubkey',
    remoteAuth: o.remoteAuth ?? 'pubkey',
    child: { name: 'net', localTs: `${h.left.inner4}/32`, remoteTs: `${h.right.inner4}/32`, espProposals: GCM.esp, startAction: o.startAction ?? 'none' },
  };
}

/** strongSwan's side of `conn`: mirrored, only responding, `local.auth` picked by `localAuth` (default pubkey). */
export function swanSide(conn: PskConnection, o: { localAuth?: string; remoteAuth?: string; remoteId?: string } = {}): PskConnection {
  const m = mirror(conn);
  return {
    ...m,
    localAuth: o.localAuth ?? 'pubkey',
    remoteAuth: o.remoteAuth ?? 'pubkey',
    ...(o.remoteId ? { remoteId: o.remoteId } : {}),
    child: { ...m.child, startAction: 'none' },
  };
}

/** swanctl-layout files: own certificate and key, the CA (plus extra files such as x509crl/). */
export function credFiles(own: { certPem: string; keyPem: string }, ownName: string, caPem: string, extra: Record<string, string> = {}): Record<string, string> {
  return { [`x509/${ownName}.crt`]: own.certPem, [`private/${ownName}.key`]: own.keyPem, 'x509ca/ca.crt': caPem, ...extra };
}

/** Like 20's startCygnet, plus the credential files beside the configuration. */
export async function startCertCygnet(
  ctx: ScenarioContext,
  h: TwoHosts,
  conf: string,
  files: Record<string, string | Uint8Array>,
  label = 'cygnet-left',
  opts: { extraArgs?: readonly string[]; debug?: string } = {},
): Promise<CygnetSide> {
  const dir = await ctx.subdir(label);
  const statusFile = join(dir, 'status.json');
  const peer = await ctx.startCygnet({
    ns: h.left.ns,
    dir,
    label,
    config: conf,
    files,
    args: ['--status-file', statusFile, '--debug', opts.debug ?? 'ike 2, net 2, esp 1, dmn 2, cfg 2', ...(opts.extraArgs ?? [])],
    ready: /daemon running/,
  });
  const status = (): DaemonStatus | undefined => {
    if (!existsSync(statusFile)) return undefined;
    try {
      return JSON.parse(readFileSync(statusFile, 'utf8')) as DaemonStatus;
    } catch {
      return undefined;
    }
  };
  return {
    peer,
    statusFile,
    status,
    waitFor: (what, pred, ms = 10_000) =>
      waitFor(
        `cygnet: ${what}`,
        async () => {
          const s = status();
          const v = s ? pred(s) : undefined;
          return v === false || v === undefined ? undefined : v;
        },
        ms,
        100,
      ),
  };
}

export interface CertPairOptions {
  label: string;
  cygConn: PskConnection;
  swanConn: PskConnection;
  cygFiles: Record<string, string | Uint8Array>;
  swanFiles: Record<string, string | Uint8Array>;
  /** What cygnet logs for strongSwan's AUTH, e.g. /RFC 7427 signature \(ECDSA with SHA256\)/. */
  cygAuth: RegExp;
  /** What strongSwan logs for cygnet's AUTH, e.g. /ECDSA_WITH_SHA256_DER/. */
  swanAuth: RegExp;
  /** Extra lines inside strongSwan's `charon { }` (e.g. `signature_authentication = no`). */
  charonOptions?: string;
  /** More checks while each tunnel is up. */
  each?: (t: { swan: StrongswanPeer; cyg: CygnetSide; cygnetInitiates: boolean }) => Promise<void>;
}

/** The n-th (0-based) log line matching `re`, waiting for it. */
async function nthLine(peer: { grep(re: RegExp): Promise<string[]> }, re: RegExp, n: number, what: string): Promise<string> {
  return waitFor(what, async () => (await peer.grep(re))[n], 3000, 100);
}

/**
 * One strongSwan and one cygnet daemon; a tunnel initiated by cygnet (swanctl --initiate over cygnet's vici),
 * then one initiated by strongSwan, each asserted on both sides (same SPIs, suites, selectors, the signature each
 * side verified) and deleted by its initiator before the next.
 */
export async function certBothWays(ctx: ScenarioContext, h: TwoHosts, o: CertPairOptions): Promise<void> {
  const swan = await ctx.startStrongswan({ ns: h.right.ns, swanctlConf: swanctlConf(o.swanConn), files: o.swanFiles, label: `right-${o.label}`, ...(o.charonOptions ? { charonOptions: o.charonOptions } : {}) });
  await swan.loadAll();
  const cygConn = { ...o.cygConn, child: { ...o.cygConn.child, startAction: 'none' } };
  const cyg = await startCertCygnet(ctx, h, swanctlConf(cygConn), o.cygFiles, `cygnet-${o.label}`);
  const cygRe = new RegExp(`authentication of '${SWAN_ID}' with .* successful`);
  const swanRe = new RegExp(`authentication of '${CYG_ID}' with .* successful`);
  for (const [n, cygnetInitiates] of [true, false].entries()) {
    const label = `${o.label}, ${cygnetInitiates ? 'cygnet' : 'strongSwan'} initiates`;
    await (cygnetInitiates ? cyg.peer : swan).initiate('net');
    const [ci, si] = await Promise.all([cyg.waitFor(`${label}: established`, establishedCygnet), swan.waitEstablished('cyg', 'net')]);
    assertSameSa(ci, si, { suite: GCM.suite, espSuite: GCM.espSuite, cygnetInitiated: cygnetInitiates, h });
    const cygLine = await nthLine(cyg.peer, cygRe, n, `${label}: cygnet's authentication line`);
    const swanLine = await nthLine(swan, swanRe, n, `${label}: strongSwan's authentication line`);
    ctx.log(`${label}: cygnet: ${cygLine.trim()} | strongSwan: ${swanLine.trim()}`);
    assert.match(cygLine, o.cygAuth, `${label}: cygnet verified strongSwan's AUTH`);
    assert.match(swanLine, o.swanAuth, `${label}: strongSwan verified cygnet's AUTH`);
    const cc = ci.children[0]!;
    await cyg.peer.waitForLog(new RegExp(`CHILD_SA net\\{\\d+\\} established with SPIs ${cc.spiIn}_i ${cc.spiOut}_o`), 2000);
    await o.each?.({ swan, cyg, cygnetInitiates });
    // The initiator deletes (RFC 7296 1.4.1); both forget the SA.
    await (cygnetInitiates ? cyg.peer : swan).terminate('cyg');
    await swan.waitNoSas('cyg', 5000);
    await cyg.waitFor(`${label}: no SA after the Delete`, (s) => s.ikeSas.length === 0 || undefined, 5000);
  }
  assert.equal(await cyg.peer.stop(5000), 0, 'cygnet exits 0');
  await swan.stop();
}

/** A strongSwan-`pki` PKI for the pair: CA plus one certificate each (SAN = the IKE identity). */
export async function swanPki(ctx: ScenarioContext, keyType: KeyType, caType: KeyType = keyType): Promise<{ ca: Credential; cyg: Credential; swan: Credential }> {
  const dir = await ctx.subdir(`pki-${keyType}`);
  const ca = await makeCa(dir, 'ca', { keyType: caType });
  const [cyg, swan] = await Promise.all([
    issue(dir, 'cygnet', ca, { dn: 'C=CH, O=cygnet, CN=cygnet', keyType, san: [CYG_ID] }),
    issue(dir, 'swan', ca, { dn: 'C=CH, O=cygnet, CN=swan', keyType, san: [SWAN_ID] }),
  ]);
  return { ca, cyg, swan };
}

export async function run(ctx: ScenarioContext): Promise<void> {
  const h = await twoHosts(ctx.lab);
  const p = await swanPki(ctx, 'ecdsa256');
  const cygFiles = credFiles(p.cyg, 'cygnet', p.ca.certPem);
  const swanFiles = credFiles(p.swan, 'swan', p.ca.certPem);
  const conn = certConnection(h);
  await certBothWays(ctx, h, {
    label: 'ecdsa',
    cygConn: conn,
    swanConn: swanSide(conn),
    cygFiles,
    swanFiles,
    cygAuth: /RFC 7427 signature \(ECDSA with SHA256\)/,
    swanAuth: /ECDSA_WITH_SHA256_DER/,
    // strongSwan saw cygnet's certificate from the CERT payload and trusted it through the CA.
    each: async ({ swan }) => assert.ok((await swan.grep(/received end entity cert "C=CH, O=cygnet, CN=cygnet"/)).length > 0, 'strongSwan received cygnet certificate'),
  });
}
