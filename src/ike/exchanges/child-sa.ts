/**
 * CHILD SA negotiation shared by IKE_AUTH and CREATE_CHILD_SA (RFC 7296 1.3, 2.9, 2.17):
 * the initiator offers SA + TSi + TSr with its inbound SPI; the responder picks a proposal, narrows the traffic
 * selectors against its policy, allocates its own inbound SPI and both derive KEYMAT from SK_d.
 */
import { ProtocolId, NotifyType, PayloadType, type Payload, type TsPayload } from '../codec/types.js';
import type { ChildConfig } from '../config.js';
import type { EndpointContext } from '../endpoint.js';
import { numberToSpi, spiToNumber, type ChildSa, type IkeSa } from '../ike-sa.js';
import { deriveChildKeys } from '../keys.js';
import { explainMismatch, saProposalToSet, selectProposal, selectionToSaProposal, toSaProposals } from '../negotiate.js';
import { findPayload, hasNotify, notify } from '../payload-util.js';
import { parseIp } from '../../net/ip-address.js';
import { formatTrafficSelector, isSubset, narrow, resolveConfigured, type TrafficSelector } from '../traffic-selector.js';
import { formatProposal } from '../../crypto/transforms.js';

function hostAddr(address: string): Uint8Array[] {
  const ip = parseIp(address);
  return ip && ip.some((b) => b !== 0) ? [ip] : [];
}

/** Our selectors for a child, 'dynamic' resolved to the IKE SA's addresses. */
export function childSelectors(sa: IkeSa, cfg: ChildConfig): { local: TrafficSelector[]; remote: TrafficSelector[] } {
  return {
    local: resolveConfigured(cfg.localTs, hostAddr(sa.local.address)),
    remote: resolveConfigured(cfg.remoteTs, hostAddr(sa.remote.address)),
  };
}

/** Initiator: the SA, TSi and TSr payloads offering `cfg` with inbound SPI `spiIn`. */
export function buildChildOffer(sa: IkeSa, cfg: ChildConfig, spiIn: number, opts: { stripKe: boolean }): { payloads: Payload[]; localTs: TrafficSelector[]; remoteTs: TrafficSelector[] } {
  const ts = childSelectors(sa, cfg);
  return {
    localTs: ts.local,
    remoteTs: ts.remote,
    payloads: [
      { type: PayloadType.SA, critical: false, proposals: toSaProposals(cfg.espProposals, ProtocolId.ESP, numberToSpi(spiIn), opts) },
      { type: PayloadType.TSi, critical: false, selectors: ts.local },
      { type: PayloadType.TSr, critical: false, selectors: ts.remote },
    ],
  };
}

function install(ctx: EndpointContext, sa: IkeSa, cfg: ChildConfig, args: { spiIn: number; spiOut: number; set: ChildSa['set']; localTs: TrafficSelector[]; remoteTs: TrafficSelector[]; initiator: boolean; now: number; gir?: Uint8Array; Ni: Uint8Array; Nr: Uint8Array }): ChildSa {
  const keys = deriveChildKeys(sa.keys!.prf, sa.keys!.SK_d, args.set, { Ni: args.Ni, Nr: args.Nr, initiator: args.initiator, ...(args.gir ? { gir: args.gir } : {}) });
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
  sa.children.push(child);
  const hex = (n: number): string => n.toString(16).padStart(8, '0');
  ctx.log('ike', 0, sa, `CHILD_SA ${cfg.name}{${child.id}} established with SPIs ${hex(child.spiIn)}_i ${hex(child.spiOut)}_o and TS ${args.localTs.map(formatTrafficSelector).join(' ')} === ${args.remoteTs.map(formatTrafficSelector).join(' ')}`);
  ctx.log('chd', 1, sa, `CHILD_SA ${cfg.name}{${child.id}} uses ESP:${formatProposal(args.set)}`);
  ctx.emit({
    type: 'child-install',
    child: sa.childInfo(child),
    inbound: { spi: child.spiIn, encrKey: keys.inbound.encrKey, integKey: keys.inbound.integKey },
    outbound: { spi: child.spiOut, encrKey: keys.outbound.encrKey, integKey: keys.outbound.integKey },
  });
  return child;
}

export type ChildResponse = { ok: true; payloads: Payload[]; child: ChildSa } | { ok: false; payloads: Payload[]; notify: number; message: string };

/**
 * Responder: answers a CHILD SA request (SA, TSi, TSr in `req`). Picks the first child config whose selectors
 * overlap the request (strongSwan's child config lookup), then the first acceptable ESP proposal.
 */
export function respondChild(ctx: EndpointContext, sa: IkeSa, req: readonly Payload[], now: number, opts: { stripKe: boolean; Ni: Uint8Array; Nr: Uint8Array; gir?: Uint8Array }): ChildResponse {
  const saP = findPayload(req, PayloadType.SA);
  const tsi = findPayload(req, PayloadType.TSi) as TsPayload | undefined;
  const tsr = findPayload(req, PayloadType.TSr) as TsPayload | undefined;
  if (!saP || !tsi || !tsr) return fail(NotifyType.INVALID_SYNTAX, 'CHILD SA request lacks SA, TSi or TSr');
  const conn = sa.conn!;
  let tsMatched = false;
  let lastMismatch = '';
  for (const cfg of conn.children) {
    const ours = childSelectors(sa, cfg);
    // TSi is the initiator's side: our remote. TSr is the responder's side: our local.
    const remoteTs = narrow(tsi.selectors, ours.remote);
    const localTs = narrow(tsr.selectors, ours.local);
    if (remoteTs.length === 0 || localTs.length === 0) continue;
    tsMatched = true;
    const sel = selectProposal(cfg.espProposals, saP.proposals, ProtocolId.ESP, { stripKe: opts.stripKe });
    if (!sel) {
      lastMismatch = explainMismatch(cfg.espProposals, saP.proposals, ProtocolId.ESP, { stripKe: opts.stripKe });
      continue;
    }
    if (sel.spi.length !== 4) return fail(NotifyType.INVALID_SYNTAX, 'ESP proposal SPI is not 4 bytes');
    if (hasNotify(req, NotifyType.USE_TRANSPORT_MODE)) {
      // RFC 7296 1.3.1: we only do tunnel mode; answering without USE_TRANSPORT_MODE means tunnel mode.
      ctx.log('chd', 1, sa, `peer requested transport mode for ${cfg.name}; only tunnel mode is supported, answering in tunnel mode`);
    }
    const spiIn = ctx.allocateChildSpi();
    const child = install(ctx, sa, cfg, { spiIn, spiOut: spiToNumber(sel.spi), set: sel.set, localTs, remoteTs, initiator: false, now, Ni: opts.Ni, Nr: opts.Nr, ...(opts.gir ? { gir: opts.gir } : {}) });
    return {
      ok: true,
      child,
      payloads: [
        { type: PayloadType.SA, critical: false, proposals: [selectionToSaProposal(sel.set, sel.num, ProtocolId.ESP, numberToSpi(spiIn))] },
        { type: PayloadType.TSi, critical: false, selectors: remoteTs },
        { type: PayloadType.TSr, critical: false, selectors: localTs },
      ],
    };
  }
  if (!tsMatched) {
    const msg = `traffic selectors ${tsi.selectors.map(formatTrafficSelector).join(' ')} === ${tsr.selectors.map(formatTrafficSelector).join(' ')} unacceptable for connection '${conn.name}'`;
    return fail(NotifyType.TS_UNACCEPTABLE, msg);
  }
  return fail(NotifyType.NO_PROPOSAL_CHOSEN, lastMismatch);

  function fail(n: number, message: string): ChildResponse {
    return { ok: false, payloads: [notify(n)], notify: n, message };
  }
}

/** Initiator: checks the responder's SA/TSi/TSr against what we offered and installs the CHILD SA. */
export function processChildResponse(
  ctx: EndpointContext,
  sa: IkeSa,
  offer: { config: ChildConfig; spiIn: number; localTs: TrafficSelector[]; remoteTs: TrafficSelector[] },
  resp: readonly Payload[],
  now: number,
  opts: { stripKe: boolean; Ni: Uint8Array; Nr: Uint8Array; gir?: Uint8Array },
): { ok: true; child: ChildSa } | { ok: false; message: string } {
  const saP = findPayload(resp, PayloadType.SA);
  const tsi = findPayload(resp, PayloadType.TSi) as TsPayload | undefined;
  const tsr = findPayload(resp, PayloadType.TSr) as TsPayload | undefined;
  if (!saP || !tsi || !tsr || saP.proposals.length !== 1) return { ok: false, message: 'CHILD SA response lacks SA, TSi or TSr' };
  const set = saProposalToSet(saP.proposals[0]!);
  const check = set && selectProposal(offer.config.espProposals, saP.proposals, ProtocolId.ESP, { stripKe: opts.stripKe, preferOurs: false });
  if (!set || !check || formatProposal(check.set) !== formatProposal(set)) return { ok: false, message: 'responder chose an ESP proposal we did not offer' };
  const spi = saP.proposals[0]!.spi;
  if (spi.length !== 4) return { ok: false, message: 'ESP SPI in response is not 4 bytes' };
  // RFC 7296 2.9: the responder may narrow, never widen.
  const within = (got: readonly TrafficSelector[], offered: readonly TrafficSelector[]): boolean => got.length > 0 && got.every((g) => offered.some((o) => isSubset(g, o)));
  if (!within(tsi.selectors, offer.localTs) || !within(tsr.selectors, offer.remoteTs)) {
    return { ok: false, message: `responder returned traffic selectors outside our proposal: ${tsi.selectors.map(formatTrafficSelector).join(' ')} === ${tsr.selectors.map(formatTrafficSelector).join(' ')}` };
  }
  const child = install(ctx, sa, offer.config, { spiIn: offer.spiIn, spiOut: spiToNumber(spi), set, localTs: [...tsi.selectors], remoteTs: [...tsr.selectors], initiator: true, now, Ni: opts.Ni, Nr: opts.Nr, ...(opts.gir ? { gir: opts.gir } : {}) });
  return { ok: true, child };
}
