/**
 * From the IKE core's views (src/ike/events.ts IkeSaInfo/ChildSaInfo, src/ike/config.ts IkeConnectionConfig) to the
 * vici records of backend.ts, so the daemon's ViciBackend is a few lines. Names are strongSwan's (the transform
 * tables in src/crypto/transforms.ts carry them); times become seconds relative to `now`, as charon reports them.
 */
import { readFileSync } from 'node:fs';
import type { ChildSaInfo, IkeSaInfo } from '../ike/events.js';
import type { ChildConfig, IkeConnectionConfig } from '../ike/config.js';
import type { ConfiguredTs } from '../ike/traffic-selector.js';
import { formatTrafficSelector } from '../ike/traffic-selector.js';
import { formatIdentity } from '../ike/identity.js';
import { encrTransforms, findEncr, findInteg, findKe, integTransforms, keTransforms, prfTransforms } from '../crypto/transforms.js';
import type { ViciAuthConf, ViciChildConf, ViciChildSa, ViciConn, ViciIkeSa } from './backend.js';

export interface SuiteNames {
  readonly encrAlg?: string;
  readonly encrKeySize?: number;
  readonly integAlg?: string;
  readonly prfAlg?: string;
  readonly dhGroup?: string;
  /** RFC 9370 additional key exchanges by number (1-7): strongSwan 6's vici `ake1`..`ake7`, e.g. { 1: 'ML_KEM_768' }. */
  readonly ake?: Readonly<Record<number, string>>;
  readonly esn: boolean;
}

const ENCR_NAMES = new Set(encrTransforms.map((t) => t.name));
const INTEG_NAMES = new Set(integTransforms.map((t) => t.name));
const PRF_NAMES = new Set(prfTransforms.map((t) => t.name));
const KE_NAMES = new Set(keTransforms.map((t) => t.name));

/**
 * Split a suite as src/crypto/transforms.ts formatProposal prints it (`AES_GCM_16-128/PRF_HMAC_SHA2_256/CURVE_25519`,
 * `AES_CBC-256/HMAC_SHA2_256_128/ESN`) into vici's encr-alg, encr-keysize, integ-alg, prf-alg, dh-group. Unknown
 * words are classified by prefix so a newer table never loses information.
 */
export function parseSuite(suite: string): SuiteNames {
  const out: { -readonly [K in keyof SuiteNames]: SuiteNames[K] } = { esn: false };
  for (const word of suite.split('/').filter((w) => w !== '')) {
    const m = /^(.*)-(\d+)$/.exec(word);
    const name = m ? m[1]! : word;
    const ake = /^KE([1-7])_(.+)$/.exec(word);
    if (ake) out.ake = { ...out.ake, [Number(ake[1])]: ake[2]! };
    else if (word === 'ESN' || word === 'EXT_SEQ') out.esn = true;
    else if (word === 'NO_EXT_SEQ') continue;
    else if (ENCR_NAMES.has(name) && out.encrAlg === undefined) {
      out.encrAlg = name;
      if (m) out.encrKeySize = Number(m[2]);
    } else if (PRF_NAMES.has(word) || word.startsWith('PRF_')) out.prfAlg = word;
    else if (INTEG_NAMES.has(word)) out.integAlg = word;
    else if (KE_NAMES.has(word) || /^(MODP|ECP|CURVE|ECP_\d+_BP)/.test(word)) out.dhGroup = word;
    else if (out.encrAlg === undefined) {
      out.encrAlg = name;
      if (m) out.encrKeySize = Number(m[2]);
    } else out.integAlg = word;
  }
  return out;
}

/** strongSwan's %R for a configured selector; `dynamic` keeps its protocol/port suffix. */
let services: Map<string, string> | undefined;

/** `port/proto` -> service name from /etc/services (what getservbyport(3) reads); empty when there is none. */
function serviceNames(): Map<string, string> {
  if (services !== undefined) return services;
  services = new Map();
  try {
    for (const line of readFileSync('/etc/services', 'utf8').split('\n')) {
      const m = /^([A-Za-z0-9][\w.+-]*)\s+(\d+)\/(tcp|udp|sctp|dccp)\b/.exec(line);
      if (m && !services.has(`${m[2]}/${m[3]}`)) services.set(`${m[2]}/${m[3]}`, m[1]!);
    }
  } catch {
    // no /etc/services: ports stay numeric
  }
  return services;
}

/**
 * A single port by its service name, as charon's %R printer does (traffic_selector.c: getservbyport for one
 * port of tcp/udp): `10.1.0.0/24[tcp/443]` is listed as `10.1.0.0/24[tcp/https]`.
 */
export function withServiceName(ts: string): string {
  return ts.replace(/\[(tcp|udp)\/(\d+)\]$/, (all, proto: string, port: string) => {
    const name = serviceNames().get(`${port}/${proto}`);
    return name !== undefined ? `[${proto}/${name}]` : all;
  });
}

export function formatConfiguredTs(ts: ConfiguredTs): string {
  if (!('dynamic' in ts)) return withServiceName(formatTrafficSelector(ts));
  const any = formatTrafficSelector({
    tsType: 7,
    ipProtocol: ts.ipProtocol,
    startPort: ts.startPort,
    endPort: ts.endPort,
    startAddr: new Uint8Array([0, 0, 0, 0]),
    endAddr: new Uint8Array([255, 255, 255, 255]),
  });
  return withServiceName(`dynamic${any.slice('0.0.0.0/0'.length)}`);
}

export interface ChildSaExtras {
  /** Same clock as `installedAt` (ms). */
  readonly now?: number;
  readonly installedAt?: number;
  readonly rekeyAt?: number;
  readonly expiresAt?: number;
  readonly reqId?: number;
  readonly state?: string;
  readonly bytesIn?: number | bigint;
  readonly packetsIn?: number | bigint;
  readonly bytesOut?: number | bigint;
  readonly packetsOut?: number | bigint;
  /** When the last packet was seen, ms on the same clock. */
  readonly lastIn?: number;
  readonly lastOut?: number;
  /** Packets dropped on the inbound / outbound ESP SA by reason name (issue 15). */
  readonly dropsIn?: Readonly<Record<string, number>>;
  readonly dropsOut?: Readonly<Record<string, number>>;
}

/** The additional key exchanges a CHILD SA's suite names (`.../CURVE_25519/KE1_ML_KEM_768`), as vici's ake<n>. */
function akeOf(suite: string | undefined): { ake?: Readonly<Record<number, string>> } {
  const ake = suite === undefined ? undefined : parseSuite(suite).ake;
  return ake ? { ake } : {};
}

const secondsBetween = (from: number, to: number): number => Math.max(0, Math.round((to - from) / 1000));

export function viciChildSa(c: ChildSaInfo, x: ChildSaExtras = {}): ViciChildSa {
  const encr = findEncr(c.encrId);
  const integ = c.integId ? findInteg(c.integId) : undefined;
  const ke = c.keGroup ? findKe(c.keGroup) : undefined;
  const now = x.now;
  return {
    name: c.name,
    uniqueId: c.id,
    reqId: x.reqId ?? c.id,
    state: x.state ?? 'INSTALLED',
    mode: c.mode.toUpperCase(),
    protocol: c.protocol.toUpperCase(),
    encap: c.encapsulated,
    spiIn: c.spiIn,
    spiOut: c.spiOut,
    ...(encr ? { encrAlg: encr.name } : {}),
    ...(encr && c.encrKeyBits ? { encrKeySize: c.encrKeyBits } : {}),
    ...(integ && integ.name !== 'NONE' ? { integAlg: integ.name } : {}),
    ...(ke && ke.name !== 'NONE' ? { dhGroup: ke.name } : {}),
    ...akeOf(c.suite),
    esn: c.esn,
    bytesIn: x.bytesIn ?? 0,
    packetsIn: x.packetsIn ?? 0,
    bytesOut: x.bytesOut ?? 0,
    packetsOut: x.packetsOut ?? 0,
    ...(now !== undefined && x.lastIn !== undefined ? { useIn: secondsBetween(x.lastIn, now) } : {}),
    ...(now !== undefined && x.lastOut !== undefined ? { useOut: secondsBetween(x.lastOut, now) } : {}),
    ...(now !== undefined && x.rekeyAt !== undefined ? { rekeyTime: secondsBetween(now, x.rekeyAt) } : {}),
    ...(now !== undefined && x.expiresAt !== undefined ? { lifeTime: secondsBetween(now, x.expiresAt) } : {}),
    installTime: now !== undefined && x.installedAt !== undefined ? secondsBetween(x.installedAt, now) : 0,
    localTs: c.localTs.map(formatTrafficSelector),
    remoteTs: c.remoteTs.map(formatTrafficSelector),
    ...(x.dropsIn && Object.keys(x.dropsIn).length > 0 ? { dropsIn: x.dropsIn } : {}),
    ...(x.dropsOut && Object.keys(x.dropsOut).length > 0 ? { dropsOut: x.dropsOut } : {}),
  };
}

export interface IkeSaExtras {
  /** Same clock as IkeSaInfo.establishedAt (ms). */
  readonly now?: number;
  readonly rekeyAt?: number;
  readonly reauthAt?: number;
  readonly localVips?: readonly string[];
  readonly remoteVips?: readonly string[];
  /** 'tcp' when the SA rides an RFC 9329 TCP stream. */
  readonly transport?: 'tcp';
  /** Per-CHILD_SA extras (counters from the ESP engine, install time). */
  readonly child?: (c: ChildSaInfo) => ChildSaExtras | undefined;
}

export function viciIkeSa(sa: IkeSaInfo, children: readonly ChildSaInfo[], x: IkeSaExtras = {}): ViciIkeSa {
  const s = parseSuite(sa.suite);
  const now = x.now;
  const nat = sa.natDetected.local || sa.natDetected.remote;
  return {
    name: sa.name,
    uniqueId: sa.id,
    version: 2,
    state: sa.state,
    localHost: sa.local.address,
    localPort: sa.local.port,
    localId: sa.localId,
    remoteHost: sa.remote.address,
    remotePort: sa.remote.port,
    remoteId: sa.remoteId,
    initiator: sa.initiator,
    spiI: sa.spiI,
    spiR: sa.spiR,
    natLocal: sa.natDetected.local,
    natRemote: sa.natDetected.remote,
    // cygnet forces UDP encapsulation with a NAT-D hash that cannot match (strongSwan's encap=yes: COND_NAT_FAKE).
    natFake: sa.encapsulated && !nat,
    natAny: sa.encapsulated || nat,
    ...(sa.ppkId !== undefined ? { ppkId: sa.ppkId } : {}),
    ...(s.encrAlg !== undefined ? { encrAlg: s.encrAlg } : {}),
    ...(s.encrKeySize !== undefined ? { encrKeySize: s.encrKeySize } : {}),
    ...(s.integAlg !== undefined ? { integAlg: s.integAlg } : {}),
    ...(s.prfAlg !== undefined ? { prfAlg: s.prfAlg } : {}),
    ...(s.dhGroup !== undefined ? { dhGroup: s.dhGroup } : {}),
    ...(s.ake !== undefined ? { ake: s.ake } : {}),
    ...(now !== undefined && sa.establishedAt !== undefined && sa.state === 'ESTABLISHED' ? { established: secondsBetween(sa.establishedAt, now) } : {}),
    ...(now !== undefined && x.rekeyAt !== undefined ? { rekeyTime: secondsBetween(now, x.rekeyAt) } : {}),
    ...(now !== undefined && x.reauthAt !== undefined ? { reauthTime: secondsBetween(now, x.reauthAt) } : {}),
    ...(x.localVips ? { localVips: x.localVips } : {}),
    ...(x.remoteVips ? { remoteVips: x.remoteVips } : {}),
    ...(x.transport ? { transport: x.transport } : {}),
    children: children.map((c) => viciChildSa(c, { ...(now !== undefined ? { now } : {}), ...(x.child?.(c) ?? {}) })),
  };
}

const UNIQUE: Record<IkeConnectionConfig['unique'], string> = { no: 'UNIQUE_NO', never: 'UNIQUE_NEVER', keep: 'UNIQUE_KEEP', replace: 'UNIQUE_REPLACE' };
const AUTH_CLASS: Record<string, string> = { psk: 'pre-shared key', pubkey: 'public key', eap: 'EAP' };
/**
 * charon's action_names (5.9 child_cfg.h action_t: ACTION_NONE, ACTION_TRAP, ACTION_START) as list-conn sends
 * them: dpd_action clear and close_action clear are ACTION_NONE, dpd_action restart is ACTION_START.
 */
const ACTION_NAME: Record<string, string> = { none: 'none', clear: 'none', trap: 'trap', restart: 'start', start: 'start' };

/**
 * One auth round as charon's list-conn shows it (vici_query.c build_auth_cfgs): `id` only when one is set
 * (a remote %any has none; a local one left out is the certificate's subject, as charon takes it when loading),
 * `certs` the configured certificate(s) by subject (not the intermediates cygnet sends along), `cacerts` by
 * subject.
 */
function authConf(a: IkeConnectionConfig['local'], side: 'local' | 'remote'): ViciAuthConf {
  const own = side === 'local' ? (a.certs ?? []).slice(0, 1) : (a.certs ?? []);
  const configured = formatIdentity(a.id);
  const id = configured === '%any' && own[0] !== undefined && side === 'local' ? own[0].subject.text : configured;
  const methods = a.eap?.methods ?? [];
  const eapType = a.method === 'eap' && methods.length === 1 ? `EAP_${(methods[0] ?? '').toUpperCase()}` : undefined;
  return {
    class: AUTH_CLASS[a.method] ?? a.method,
    ...(eapType ? { eapType } : {}),
    ...(id !== '%any' ? { id } : {}),
    ...(a.eap?.eapId !== undefined ? { eapId: a.eap.eapId } : {}),
    ...(own.length > 0 ? { certs: own.map((c) => c.subject.text) } : {}),
    ...(a.cacerts?.length ? { cacerts: a.cacerts.map((c) => c.subject.text) } : {}),
  };
}

function childConf(c: ChildConfig): ViciChildConf {
  return {
    name: c.name,
    mode: c.mode.toUpperCase(),
    rekeyTime: Math.round(c.rekeyTimeMs / 1000),
    rekeyBytes: c.rekeyBytes,
    rekeyPackets: c.rekeyPackets,
    dpdAction: ACTION_NAME[c.dpdAction] ?? c.dpdAction,
    closeAction: ACTION_NAME[c.closeAction] ?? c.closeAction,
    startAction: c.startAction,
    localTs: c.localTs.map(formatConfiguredTs),
    remoteTs: c.remoteTs.map(formatConfiguredTs),
  };
}

export function viciConn(c: IkeConnectionConfig): ViciConn {
  return {
    name: c.name,
    localAddrs: c.localAddrs,
    remoteAddrs: c.remoteAddrs,
    version: 'IKEv2',
    reauthTime: Math.round(c.reauthTimeMs / 1000),
    rekeyTime: Math.round(c.rekeyTimeMs / 1000),
    unique: UNIQUE[c.unique],
    ...(c.dpdDelayMs ? { dpdDelay: Math.round(c.dpdDelayMs / 1000) } : {}),
    local: [authConf(c.local, 'local')],
    remote: [authConf(c.remote, 'remote')],
    children: c.children.map(childConf),
  };
}
