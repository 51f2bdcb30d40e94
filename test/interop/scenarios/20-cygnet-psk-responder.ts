/**
 * strongSwan initiates to cygnet (PSK, each of the four issue-4 suites in turn), over a veth between two namespaces:
 *
 *   right: strongSwan (initiator)  HDR, SAi1, KEi, Ni, N(NATD_S_IP), N(NATD_D_IP) ...  -->  left: cygnet daemon
 *                                  <--  HDR, SAr1, KEr, Nr, N(NATD_S_IP), N(NATD_D_IP) ...
 *                                  HDR, SK {IDi, AUTH, SAi2, TSi, TSr}  -->   (UDP 4500, non-ESP marker)
 *                                  <--  HDR, SK {IDr, AUTH, SAr2, TSi, TSr}
 *
 * Asserted on both sides: swanctl --list-sas there, cygnet's --status-file here (it has no vici socket yet):
 * the same IKE SPIs and suite, the CHILD SA's SPIs crosswise, the same ESP suite and mirrored selectors. Then
 * strongSwan deletes the IKE SA and cygnet must drop it too.
 *
 * The helpers are exported for the other cygnet scenarios (the runner only picks up scenario files).
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from '../lib/exec.js';
import type { CygnetPeer } from '../lib/cygnet.js';
import type { ScenarioContext } from '../lib/scenario.js';
import { mirror, pskSwanctlConf, type PskConnection } from '../lib/swanctl-conf.js';
import type { IkeSaInfo } from '../lib/swanctl-output.js';
import { twoHosts, type TwoHosts } from '../lib/topology.js';
import type { DaemonStatus, IkeSaStatus } from '../../../src/daemon/status.js';

export const name = 'cygnet-psk-responder';

/** cygnet on the left, strongSwan on the right; the connection as the LEFT (cygnet) side sees it. */
export function cygnetConnection(h: TwoHosts, o: { proposals: string; esp: string; startAction?: string; secret?: string }): PskConnection {
  return {
    name: 'cyg',
    localAddrs: h.left.outer4,
    remoteAddrs: h.right.outer4,
    localId: 'cygnet@cygnet.test',
    remoteId: 'swan@cygnet.test',
    proposals: o.proposals,
    secret: o.secret ?? 'interop-cygnet-psk',
    child: { name: 'net', localTs: `${h.left.inner4}/32`, remoteTs: `${h.right.inner4}/32`, espProposals: o.esp, startAction: o.startAction ?? 'none' },
  };
}

export interface CygnetSide {
  peer: CygnetPeer;
  statusFile: string;
  status(): DaemonStatus | undefined;
  /** Polls the status file until `pred` returns something. */
  waitFor<T>(what: string, pred: (s: DaemonStatus) => T | undefined | false, ms?: number): Promise<T>;
}

export async function startCygnet(ctx: ScenarioContext, h: TwoHosts, conf: string, extraArgs: readonly string[] = []): Promise<CygnetSide> {
  const dir = await ctx.subdir('cygnet-left');
  const statusFile = join(dir, 'status.json');
  const peer = await ctx.startCygnet({
    ns: h.left.ns,
    dir,
    config: conf,
    args: ['--status-file', statusFile, '--debug', 'ike 2, net 2, esp 2, dmn 2', ...extraArgs],
    ready: /daemon running/,
  });
  const status = (): DaemonStatus | undefined => {
    if (!existsSync(statusFile)) return undefined;
    try {
      return JSON.parse(readFileSync(statusFile, 'utf8')) as DaemonStatus;
    } catch {
      return undefined; // mid-rename: try again
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

export function establishedCygnet(s: DaemonStatus): IkeSaStatus | undefined {
  return s.ikeSas.find((x) => x.state === 'ESTABLISHED' && x.children.length > 0);
}

/** Both sides agree on SPIs, suites and selectors (swanctl prints SPIs as 16 / 8 hex digits, as cygnet does). */
export function assertSameSa(cyg: IkeSaStatus, swan: IkeSaInfo, o: { suite: string; espSuite: string; cygnetInitiated: boolean; h: TwoHosts }): void {
  assert.equal(cyg.initiator, o.cygnetInitiated, 'cygnet role');
  assert.equal(swan.initiator, !o.cygnetInitiated, 'strongSwan role');
  assert.equal(cyg.spiI, swan.initiatorSpi, 'IKE SPIi');
  assert.equal(cyg.spiR, swan.responderSpi, 'IKE SPIr');
  assert.equal(swan.suite, o.suite, 'strongSwan IKE suite');
  assert.equal(cyg.suite, o.suite, 'cygnet IKE suite');
  assert.equal(cyg.localId, 'cygnet@cygnet.test');
  assert.equal(cyg.remoteId, 'swan@cygnet.test');
  assert.equal(swan.remotePort, 4500, 'IKE floated to 4500 (forced encapsulation)');
  const cc = cyg.children[0]!;
  const sc = swan.children.find((c) => c.name === 'net');
  assert.ok(sc, 'strongSwan has the CHILD SA');
  assert.equal(cc.spiIn, sc.spiOut, 'cygnet inbound SPI = strongSwan outbound SPI');
  assert.equal(cc.spiOut, sc.spiIn, 'cygnet outbound SPI = strongSwan inbound SPI');
  assert.equal(sc.suite, o.espSuite, 'strongSwan ESP suite');
  assert.equal(cc.suite, o.espSuite, 'cygnet ESP suite');
  assert.equal(sc.encap, true, 'ESP in UDP');
  assert.deepEqual(cc.localTs, [`${o.h.left.inner4}/32`]);
  assert.deepEqual(cc.remoteTs, [`${o.h.right.inner4}/32`]);
  assert.deepEqual(sc.localTs, cc.remoteTs);
  assert.deepEqual(sc.remoteTs, cc.localTs);
}

/** The issue-4 suites: IKE proposal, ESP proposal, and the names both sides must print for them. */
export const ISSUE4_SUITES = [
  { ike: 'aes128gcm16-prfsha256-x25519', esp: 'aes128gcm16', suite: 'AES_GCM_16-128/PRF_HMAC_SHA2_256/CURVE_25519', espSuite: 'AES_GCM_16-128' },
  { ike: 'aes256gcm16-prfsha384-ecp384', esp: 'aes256gcm16', suite: 'AES_GCM_16-256/PRF_HMAC_SHA2_384/ECP_384', espSuite: 'AES_GCM_16-256' },
  { ike: 'aes256-sha256-modp2048', esp: 'aes256-sha256', suite: 'AES_CBC-256/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_2048', espSuite: 'AES_CBC-256/HMAC_SHA2_256_128' },
  { ike: 'chacha20poly1305-prfsha256-x25519', esp: 'chacha20poly1305', suite: 'CHACHA20_POLY1305/PRF_HMAC_SHA2_256/CURVE_25519', espSuite: 'CHACHA20_POLY1305' },
] as const;

export const timeoutMs = 60_000;

export async function run(ctx: ScenarioContext): Promise<void> {
  const h = await twoHosts(ctx.lab);
  for (const s of ISSUE4_SUITES) {
    const conn = cygnetConnection(h, { proposals: s.ike, esp: s.esp });
    const cyg = await startCygnet(ctx, h, pskSwanctlConf(conn));
    const swan = await ctx.startStrongswan({ ns: h.right.ns, swanctlConf: pskSwanctlConf(mirror(conn)), label: `right-${s.esp}` });
    await swan.loadAll();

    await swan.initiate('net');
    const [si, ci] = await Promise.all([swan.waitEstablished('cyg', 'net'), cyg.waitFor('IKE + CHILD SA established', establishedCygnet)]);
    ctx.log(`strongSwan ${si.suite} ${si.initiatorSpi}/${si.responderSpi}; cygnet ${ci.suite} ${ci.spiI}/${ci.spiR}`);
    assertSameSa(ci, si, { suite: s.suite, espSuite: s.espSuite, cygnetInitiated: false, h });
    await cyg.peer.waitForLog(/IKE_SA cyg\[\d+\] established between 192\.0\.2\.1\[cygnet@cygnet\.test\]\.\.\.192\.0\.2\.2\[swan@cygnet\.test\]/, 2000);
    await cyg.peer.waitForLog(`established with SPIs ${ci.children[0]!.spiIn}_i ${ci.children[0]!.spiOut}_o`, 2000);

    // Delete from strongSwan (RFC 7296 1.4.1): cygnet answers and forgets the SA.
    await swan.terminate('cyg');
    await swan.waitNoSas();
    await cyg.waitFor('no IKE SA after the Delete', (st) => st.ikeSas.length === 0 || undefined, 5000);
    assert.ok((await cyg.peer.grep(/received DELETE for IKE_SA cyg/)).length > 0, 'cygnet logged the Delete');
    await swan.stop();
    await cyg.peer.stop();
  }
}
