/**
 * CHILD SA negotiation shared by IKE_AUTH and CREATE_CHILD_SA (RFC 7296 1.3, 2.9, 2.17):
 * the initiator offers SA + TSi + TSr with its inbound SPI; the responder picks a child config and a proposal,
 * narrows the traffic selectors against its policy, allocates its own inbound SPI, and both derive KEYMAT from
 * SK_d (with g^ir when the CREATE_CHILD_SA exchange carried KE payloads: PFS).
 */
import { softLimit } from '../lifetimes.js';
import { ProtocolId, NotifyType, PayloadType, type Payload, type SaPayload, type TsPayload } from '../codec/types.js';
import type { ChildConfig } from '../config.js';
import type { EndpointContext } from '../context.js';
import { connOf, numberToSpi, requireKeyed, spiToNumber, type ChildSa, type IkeSa } from '../ike-sa.js';
import { deriveChildKeys } from '../keys.js';
import { acceptedProposal, explainMismatch, initiatorIkeProposals, selectProposalForKe, selectionToSaProposal, toSaProposals, type Selection } from '../negotiate.js';
import type { Proposal as ConfiguredProposal } from '../../crypto/proposals.js';
import { findPayload, hasNotify, notify, onlyProposal } from '../payload-util.js';
import { parseIp } from '../../net/ip-address.js';
import { formatTrafficSelector, isSubset, narrow, resolveConfigured, type TrafficSelector } from '../traffic-selector.js';
import { formatProposal } from '../../crypto/transforms.js';

function hostAddrs(address: string): Uint8Array[] {
  const ip = parseIp(address);
  return ip && ip.some((b) => b !== 0) ? [ip] : [];
}

/** Our selectors for a child, 'dynamic' resolved to the IKE SA's addresses (or our virtual IPs). */
export function childSelectors(sa: IkeSa, cfg: ChildConfig): { local: TrafficSelector[]; remote: TrafficSelector[] } {
  // Asking for a virtual IP, we do not know our address yet: offer the whole family and let the responder narrow
  // TSi to the address it assigns (RFC 7296 2.19, as strongSwan does).
  const localHosts = sa.requestingVips
    ? connOf(sa, 'childSelectors').vips.map((v) => new Uint8Array(parseIp(v)?.length ?? 4))
    : sa.virtualIps.length > 0
      ? sa.virtualIps.flatMap(ipBytes)
      : hostAddrs(sa.local.address);
  if (sa.requestingVips) {
    const open = localHosts.map((z) => ({ tsType: z.length === 4 ? 7 : 8, ipProtocol: 0, startPort: 0, endPort: 65535, startAddr: z, endAddr: new Uint8Array(z.length).fill(0xff) }));
    const local = cfg.localTs.flatMap((t) => ('dynamic' in t ? open.map((o) => ({ ...o, ipProtocol: t.ipProtocol, startPort: t.startPort, endPort: t.endPort })) : [t]));
    return { local, remote: resolveConfigured(cfg.remoteTs, hostAddrs(sa.remote.address)) };
  }
  const remoteHosts = sa.peerVirtualIps.length > 0 ? sa.peerVirtualIps.flatMap(ipBytes) : hostAddrs(sa.remote.address);
  return { local: resolveConfigured(cfg.localTs, localHosts), remote: resolveConfigured(cfg.remoteTs, remoteHosts) };
}

/** Initiator: the SA, TSi and TSr payloads offering `cfg` with inbound SPI `spiIn` (`ts` overrides, for rekeys). */
export function buildChildOffer(
  sa: IkeSa,
  cfg: ChildConfig,
  spiIn: number,
  opts: { stripKe: boolean; ts?: { local: readonly TrafficSelector[]; remote: readonly TrafficSelector[] } },
): { sa: Payload; tsi: Payload; tsr: Payload; localTs: TrafficSelector[]; remoteTs: TrafficSelector[] } {
  const ts = opts.ts ? { local: [...opts.ts.local], remote: [...opts.ts.remote] } : childSelectors(sa, cfg);
  return {
    localTs: ts.local,
    remoteTs: ts.remote,
    sa: { type: PayloadType.SA, critical: false, proposals: toSaProposals(childOfferProposals(cfg, opts.stripKe), ProtocolId.ESP, numberToSpi(spiIn), { stripKe: opts.stripKe }) },
    tsi: { type: PayloadType.TSi, critical: false, selectors: ts.local },
    tsr: { type: PayloadType.TSr, critical: false, selectors: ts.remote },
  };
}

/**
 * The ESP proposals an initiator offers: in CREATE_CHILD_SA, after one whose ADDKE types all allow NONE, a copy
 * without them (RFC 9370 2.2.1), since a peer without RFC 9370 (strongSwan 5.9) refuses a proposal with Transform
 * Types it does not know (RFC 7296 3.3.6), as for IKE proposals (negotiate.ts). IKE_AUTH strips KE and ADDKE anyway.
 */
export function childOfferProposals(cfg: ChildConfig, stripKe: boolean): readonly ConfiguredProposal[] {
  return stripKe ? cfg.espProposals : initiatorIkeProposals(cfg.espProposals);
}

/** The first PFS group of a child's ESP proposals (0/undefined = no PFS). */
export function pfsGroup(cfg: ChildConfig): number | undefined {
  for (const p of cfg.espProposals) for (const g of p.ke) if (g !== 0) return g;
  return undefined;
}

export interface ChildChoice {
  readonly cfg: ChildConfig;
  readonly sel: Selection;
  readonly localTs: TrafficSelector[];
  readonly remoteTs: TrafficSelector[];
}

export type ChooseResult = ({ ok: true } & ChildChoice) | { ok: false; notify: number; message: string };

/**
 * Responder: picks the first child config (of `configs`, default all of the connection's) whose selectors overlap
 * the request (strongSwan's child config lookup), then the first acceptable ESP proposal.
 */
export function chooseChild(sa: IkeSa, req: readonly Payload[], opts: { stripKe: boolean; configs?: readonly ChildConfig[]; keGroup?: number }): ChooseResult {
  const saP = findPayload(req, PayloadType.SA);
  const tsi = findPayload(req, PayloadType.TSi) as TsPayload | undefined;
  const tsr = findPayload(req, PayloadType.TSr) as TsPayload | undefined;
  if (!saP || !tsi || !tsr) return { ok: false, notify: NotifyType.INVALID_SYNTAX, message: 'CHILD SA request lacks SA, TSi or TSr' };
  const conn = connOf(sa, 'chooseChild');
  let tsMatched = false;
  let lastMismatch = '';
  for (const cfg of opts.configs ?? conn.children) {
    const ours = childSelectors(sa, cfg);
    // TSi is the initiator's side: our remote. TSr is the responder's side: our local.
    const remoteTs = narrow(tsi.selectors, ours.remote);
    const localTs = narrow(tsr.selectors, ours.local);
    if (remoteTs.length === 0 || localTs.length === 0) continue;
    tsMatched = true;
    const sel = selectProposalForKe(cfg.espProposals, saP.proposals, ProtocolId.ESP, opts.keGroup, { stripKe: opts.stripKe });
    if (!sel) {
      lastMismatch = explainMismatch(cfg.espProposals, saP.proposals, ProtocolId.ESP, { stripKe: opts.stripKe });
      continue;
    }
    if (sel.spi.length !== 4) return { ok: false, notify: NotifyType.INVALID_SYNTAX, message: 'ESP proposal SPI is not 4 bytes' };
    return { ok: true, cfg, sel, localTs, remoteTs };
  }
  if (!tsMatched) {
    const msg = `traffic selectors ${tsi.selectors.map(formatTrafficSelector).join(' ')} === ${tsr.selectors.map(formatTrafficSelector).join(' ')} unacceptable for connection '${conn.name}'`;
    return { ok: false, notify: NotifyType.TS_UNACCEPTABLE, message: msg };
  }
  return { ok: false, notify: NotifyType.NO_PROPOSAL_CHOSEN, message: lastMismatch };
}

/** Installs a CHILD SA, schedules its lifetimes and tells the driver (child-install). */
export function installChild(
  ctx: EndpointContext,
  sa: IkeSa,
  cfg: ChildConfig,
  args: { spiIn: number; spiOut: number; set: ChildSa['set']; localTs: TrafficSelector[]; remoteTs: TrafficSelector[]; initiator: boolean; now: number; gir?: Uint8Array; additional?: readonly Uint8Array[]; Ni: Uint8Array; Nr: Uint8Array; replaces?: ChildSa },
): ChildSa {
  // CHILD SAs are created in IKE_AUTH or CREATE_CHILD_SA, both protected by the IKE SA's keys (RFC 7296 2.17).
  const ike = requireKeyed(sa, 'CHILD SA key derivation').keys;
  const keys = deriveChildKeys(ike.prf, ike.SK_d, args.set, { Ni: args.Ni, Nr: args.Nr, initiator: args.initiator, ...(args.gir ? { gir: args.gir } : {}), ...(args.additional ? { additional: args.additional } : {}) });
  const child: ChildSa = {
    id: ctx.nextChildId(),
    name: cfg.name,
    config: cfg,
    spiIn: args.spiIn,
    spiOut: args.spiOut,
    set: args.set,
    localTs: args.localTs,
    remoteTs: args.remoteTs,
    state: 'INSTALLED',
    installedAt: args.now,
  };
  // A rekey responder keeps sending on the old SA until it is deleted (see events.ts child-install).
  const outboundActive = !(args.replaces && !args.initiator);
  if (!outboundActive) child.outboundDeferredFrom = args.replaces;
  // Reauthentication (make-before-break): the CHILD SA of the same config on the old IKE SA is replaced too, so
  // the data plane moves traffic now and keeps the old inbound SA for packets still in flight.
  const predecessor = args.replaces ? { owner: sa, child: args.replaces } : reauthPredecessor(sa, cfg);
  // RFC 7296 2.8 / strongSwan: rekey at rekey_time minus a random part of rand_time; hard expiry at life_time.
  if (cfg.rekeyTimeMs > 0) child.rekeyAt = args.now + softLimit(ctx, cfg.rekeyTimeMs, cfg.randTimeMs);
  if (cfg.lifeTimeMs > 0) child.expireAt = args.now + cfg.lifeTimeMs;
  sa.children.push(child);
  const hex = (n: number): string => n.toString(16).padStart(8, '0');
  ctx.log('ike', 0, sa, `CHILD_SA ${cfg.name}{${child.id}} established with SPIs ${hex(child.spiIn)}_i ${hex(child.spiOut)}_o and TS ${args.localTs.map(formatTrafficSelector).join(' ')} === ${args.remoteTs.map(formatTrafficSelector).join(' ')}`);
  ctx.log('chd', 1, sa, `CHILD_SA ${cfg.name}{${child.id}} uses ESP:${formatProposal(args.set)}`);
  const softBytes = cfg.rekeyBytes > 0 ? softLimit(ctx, cfg.rekeyBytes, (cfg.lifeBytes || cfg.rekeyBytes) - cfg.rekeyBytes) : 0;
  const softPackets = cfg.rekeyPackets > 0 ? softLimit(ctx, cfg.rekeyPackets, (cfg.lifePackets || cfg.rekeyPackets) - cfg.rekeyPackets) : 0;
  ctx.emit({
    type: 'child-install',
    child: sa.childInfo(child),
    inbound: { spi: child.spiIn, encrKey: keys.inbound.encrKey, integKey: keys.inbound.integKey },
    outbound: { spi: child.spiOut, encrKey: keys.outbound.encrKey, integKey: keys.outbound.integKey },
    lifetimes: { softBytes, hardBytes: cfg.lifeBytes, softPackets, hardPackets: cfg.lifePackets },
    ...(predecessor ? { replaces: predecessor.owner.childInfo(predecessor.child) } : {}),
    outboundActive,
  });
  return child;
}

function reauthPredecessor(sa: IkeSa, cfg: ChildConfig): { owner: IkeSa; child: ChildSa } | undefined {
  const old = sa.reauthOf;
  if (!old) return undefined;
  const child = old.children.find((c) => c.config === cfg && !sa.reauthClaimed.has(c));
  if (!child) return undefined;
  sa.reauthClaimed.add(child);
  return { owner: old, child };
}

/** Responder side of accepting a choice: allocate our SPI, install, and build SA + TSi + TSr for the response. */
export function acceptChild(
  ctx: EndpointContext,
  sa: IkeSa,
  choice: ChildChoice,
  now: number,
  opts: { Ni: Uint8Array; Nr: Uint8Array; gir?: Uint8Array; additional?: readonly Uint8Array[]; replaces?: ChildSa; spiIn?: number },
): { child: ChildSa; sa: SaPayload; tsi: TsPayload; tsr: TsPayload; payloads: Payload[] } {
  // With IKE_FOLLOWUP_KE (RFC 9370 2.2.4) the SPI was allocated for the CREATE_CHILD_SA response already.
  const spiIn = opts.spiIn ?? ctx.allocateChildSpi();
  const child = installChild(ctx, sa, choice.cfg, {
    spiIn,
    spiOut: spiToNumber(choice.sel.spi),
    set: choice.sel.set,
    localTs: choice.localTs,
    remoteTs: choice.remoteTs,
    initiator: false,
    now,
    Ni: opts.Ni,
    Nr: opts.Nr,
    ...(opts.gir ? { gir: opts.gir } : {}),
    ...(opts.additional ? { additional: opts.additional } : {}),
    ...(opts.replaces ? { replaces: opts.replaces } : {}),
  });
  return { child, ...childResponsePayloads(choice, spiIn) };
}

/** The SA (our inbound SPI), TSi and TSr payloads answering a choice (RFC 7296 1.3.1). */
export function childResponsePayloads(choice: ChildChoice, spiIn: number): { sa: SaPayload; tsi: TsPayload; tsr: TsPayload; payloads: Payload[] } {
  const saP: SaPayload = { type: PayloadType.SA, critical: false, proposals: [selectionToSaProposal(choice.sel.set, choice.sel.num, ProtocolId.ESP, numberToSpi(spiIn))] };
  const tsi: TsPayload = { type: PayloadType.TSi, critical: false, selectors: choice.remoteTs };
  const tsr: TsPayload = { type: PayloadType.TSr, critical: false, selectors: choice.localTs };
  return { sa: saP, tsi, tsr, payloads: [saP, tsi, tsr] };
}

export type ChildResponse = { ok: true; payloads: Payload[]; child: ChildSa } | { ok: false; payloads: Payload[]; notify: number; message: string };

/** Responder for the CHILD SA inside IKE_AUTH (no KE there: RFC 7296 1.2). */
export function respondChild(ctx: EndpointContext, sa: IkeSa, req: readonly Payload[], now: number, opts: { Ni: Uint8Array; Nr: Uint8Array }): ChildResponse {
  const choice = chooseChild(sa, req, { stripKe: true });
  if (!choice.ok) return { ok: false, payloads: [notify(choice.notify)], notify: choice.notify, message: choice.message };
  if (hasNotify(req, NotifyType.USE_TRANSPORT_MODE)) {
    // RFC 7296 1.3.1: we only do tunnel mode; answering without USE_TRANSPORT_MODE means tunnel mode.
    ctx.log('chd', 1, sa, `peer requested transport mode for ${choice.cfg.name}; only tunnel mode is supported, answering in tunnel mode`);
  }
  const r = acceptChild(ctx, sa, choice, now, opts);
  return { ok: true, ...r };
}

/** Initiator: checks the responder's SA/TSi/TSr against what we offered and installs the CHILD SA. */
export function processChildResponse(
  ctx: EndpointContext,
  sa: IkeSa,
  offer: { config: ChildConfig; spiIn: number; localTs: readonly TrafficSelector[]; remoteTs: readonly TrafficSelector[] },
  resp: readonly Payload[],
  now: number,
  opts: { stripKe: boolean; Ni: Uint8Array; Nr: Uint8Array; gir?: Uint8Array; additional?: readonly Uint8Array[]; replaces?: ChildSa; keGroup?: number },
): { ok: true; child: ChildSa } | { ok: false; message: string } {
  const saP = findPayload(resp, PayloadType.SA);
  const tsi = findPayload(resp, PayloadType.TSi) as TsPayload | undefined;
  const tsr = findPayload(resp, PayloadType.TSr) as TsPayload | undefined;
  const chosen = onlyProposal(saP);
  if (!chosen || !tsi || !tsr) return { ok: false, message: 'CHILD SA response lacks SA, TSi or TSr' };
  // RFC 7296 3.3.1: the accepted proposal carries the number of the proposal we sent with these transforms.
  const set = acceptedProposal(childOfferProposals(offer.config, opts.stripKe), chosen, ProtocolId.ESP, { stripKe: opts.stripKe });
  if (!set) return { ok: false, message: `responder chose an ESP proposal we did not offer (proposal ${chosen.num})` };
  if (!opts.stripKe && (set.ke ?? 0) !== (opts.keGroup ?? 0)) return { ok: false, message: `responder chose PFS group ${set.ke ?? 'none'}, our KE payload was for ${opts.keGroup ?? 'none'}` };
  const spi = chosen.spi;
  if (spi.length !== 4) return { ok: false, message: 'ESP SPI in response is not 4 bytes' };
  // RFC 7296 2.9: the responder may narrow, never widen.
  const within = (got: readonly TrafficSelector[], offered: readonly TrafficSelector[]): boolean => got.length > 0 && got.every((g) => offered.some((o) => isSubset(g, o)));
  if (!within(tsi.selectors, offer.localTs) || !within(tsr.selectors, offer.remoteTs)) {
    return { ok: false, message: `responder returned traffic selectors outside our proposal: ${tsi.selectors.map(formatTrafficSelector).join(' ')} === ${tsr.selectors.map(formatTrafficSelector).join(' ')}` };
  }
  const child = installChild(ctx, sa, offer.config, {
    spiIn: offer.spiIn,
    spiOut: spiToNumber(spi),
    set,
    localTs: [...tsi.selectors],
    remoteTs: [...tsr.selectors],
    initiator: true,
    now,
    Ni: opts.Ni,
    Nr: opts.Nr,
    ...(opts.gir ? { gir: opts.gir } : {}),
    ...(opts.additional ? { additional: opts.additional } : {}),
    ...(opts.replaces ? { replaces: opts.replaces } : {}),
  });
  return { ok: true, child };
}

/**
 * RFC 7296 2.8.1: of two colliding rekey exchanges, the one holding the lowest of the four nonces produced the
 * redundant SA. "Lowest" is an octet-by-octet comparison, a nonce that is a prefix of the other being lower.
 * Returns true when `ours` (Ni, Nr of our exchange) holds the lowest nonce, i.e. our exchange lost.
 */
export function ourExchangeLost(ours: { Ni: Uint8Array; Nr: Uint8Array }, theirs: { Ni: Uint8Array; Nr: Uint8Array }): boolean {
  const min = (a: Uint8Array, b: Uint8Array): Uint8Array => (compareNonces(a, b) <= 0 ? a : b);
  return compareNonces(min(ours.Ni, ours.Nr), min(theirs.Ni, theirs.Nr)) < 0;
}

export function compareNonces(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i] ?? 0; // i < both lengths: never the default
    const y = b[i] ?? 0;
    if (x !== y) return x - y;
  }
  return a.length - b.length;
}

/** A virtual IP as address bytes, none if it does not parse (leases and CP replies are checked before). */
function ipBytes(a: string): Uint8Array[] {
  const b = parseIp(a);
  return b ? [b] : [];
}
