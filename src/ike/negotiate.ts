/**
 * SA payload proposals <-> configured proposals, and proposal selection (RFC 7296 sections 2.7, 3.3).
 *
 * The responder walks its own configured proposals in order and takes the first that the peer also offered
 * (strongSwan's default, prefer_configured_proposals = yes). When nothing matches, `explainMismatch` says which
 * transform types have no algorithm in common and lists both offers: the diagnostic users miss most in strongSwan.
 */
import type { Proposal as ConfiguredProposal } from '../crypto/proposals.js';
import { ESN, INTEG, TransformType, findEncr, formatProposal, isAeadEncr, transformName, type TransformSet, type TransformTypeId } from '../crypto/transforms.js';
import { ProtocolId, type Proposal as SaProposal, type Transform } from './codec/types.js';
import { ADDKE_NONE, additionalKeName, additionalKeTypeName, isAdditionalKeType } from '../crypto/addke.js';
import { proposalAddke } from '../crypto/proposals.js';

/** Expands configured proposals into SA payload proposals (numbered from 1). `stripKe` for IKE_AUTH CHILD SAs. */
export function toSaProposals(
  configured: readonly ConfiguredProposal[],
  protocol: number,
  spi: Uint8Array,
  opts: { stripKe?: boolean } = {},
): SaProposal[] {
  return configured.map((p, i) => toSaProposal(p, i + 1, protocol, spi, opts));
}

/** One configured proposal as proposal number `num` (RFC 7296 3.3.1: numbered from 1). */
function toSaProposal(p: ConfiguredProposal, num: number, protocol: number, spi: Uint8Array, opts: { stripKe?: boolean }): SaProposal {
  const transforms: Transform[] = [];
  for (const e of p.encryption)
    transforms.push(findEncr(e.id)?.keyLengthAttribute && e.keyBits ? { type: TransformType.ENCR, id: e.id, keyLength: e.keyBits } : { type: TransformType.ENCR, id: e.id });
  if (protocol === ProtocolId.IKE) for (const id of p.prf) transforms.push({ type: TransformType.PRF, id });
  for (const id of p.integrity) transforms.push({ type: TransformType.INTEG, id });
  if (!opts.stripKe) for (const id of p.ke) transforms.push({ type: TransformType.KE, id });
  if (protocol === ProtocolId.ESP) for (const id of p.esn.length ? p.esn : [ESN.NONE]) transforms.push({ type: TransformType.ESN, id });
  // RFC 9370 2.2.1: ADDKE1-7 (Transform Types 6-12) follow the classic types; IKE_AUTH's CHILD SA has none.
  if (!opts.stripKe) proposalAddke(p).forEach((ids, i) => {
    for (const id of ids) transforms.push({ type: i + 6, id });
  });
  return { num, protocol, spi, transforms };
}

/**
 * What an IKE_SA_INIT initiator offers: the configured proposals, then, for each one whose additional key exchanges
 * are all optional (every ADDKE type lists NONE, RFC 9370 2.2.1), a copy without ADDKE transforms. A responder
 * without RFC 9370 must refuse a proposal with a Transform Type it does not know (RFC 7296 3.3.6; strongSwan 5.9
 * does: "received proposals: .../UNKNOWN_6_36/UNKNOWN_6_0 ... unacceptable"), so `ke1_none` alone would not let it
 * negotiate down; the copy, numbered after the configured ones, does. A copy equal to a configured proposal is left out.
 */
export function initiatorIkeProposals(configured: readonly ConfiguredProposal[]): ConfiguredProposal[] {
  const out = [...configured];
  for (const p of configured) {
    const lists = proposalAddke(p).filter((l) => l.length > 0);
    if (lists.length === 0 || !lists.every((l) => l.includes(ADDKE_NONE))) continue;
    const { addke: _dropped, ...legacy } = p;
    const text = formatConfiguredProposal(legacy, ProtocolId.IKE);
    if (!out.some((q) => formatConfiguredProposal(q, ProtocolId.IKE) === text)) out.push(legacy);
  }
  return out;
}

/**
 * Proposals without their ADDKE types (for an IKE_SA_INIT without IKE_INTERMEDIATE, below). IKE SA rekeys keep them:
 * their additional key exchanges run in IKE_FOLLOWUP_KE exchanges (RFC 9370 2.2.4, tasks/followup-ke.ts).
 */
export function withoutAddke(configured: readonly ConfiguredProposal[]): ConfiguredProposal[] {
  return configured.map((p) => {
    if (p.addke === undefined) return p;
    const { addke: _dropped, ...classic } = p;
    return classic;
  });
}

/**
 * Our IKE_SA_INIT proposals for an initiator that did not announce IKE_INTERMEDIATE (RFC 9242 3.2) and so cannot
 * run additional key exchanges: a proposal whose ADDKE types all allow NONE loses them (RFC 9370 2.2.1), one that
 * requires an additional key exchange is left out (never a silent downgrade of a required ML-KEM).
 */
export function withoutIntermediate(configured: readonly ConfiguredProposal[]): ConfiguredProposal[] {
  return withoutAddke(configured.filter((p) => proposalAddke(p).every((l) => l.length === 0 || l.includes(ADDKE_NONE))));
}

function typeIds(p: SaProposal, type: number): { id: number; keyLength?: number }[] {
  return p.transforms.filter((t) => t.type === type && (t.attributes === undefined || t.attributes.length === 0)).map((t) => ({ id: t.id, keyLength: t.keyLength }));
}

function configuredIds(p: ConfiguredProposal, type: number, protocol: number, stripKe: boolean): { id: number; keyLength?: number }[] {
  switch (type) {
    case TransformType.ENCR:
      return p.encryption.map((e) => ({ id: e.id, keyLength: findEncr(e.id)?.keyLengthAttribute ? e.keyBits : undefined }));
    case TransformType.PRF:
      return protocol === ProtocolId.IKE ? p.prf.map((id) => ({ id })) : [];
    case TransformType.INTEG:
      return p.integrity.map((id) => ({ id }));
    case TransformType.KE:
      return stripKe ? [] : p.ke.map((id) => ({ id }));
    case TransformType.ESN:
      return protocol === ProtocolId.ESP ? (p.esn.length ? p.esn : [ESN.NONE]).map((id) => ({ id })) : [];
  }
  return [];
}

export interface Selection {
  readonly set: TransformSet;
  /** The peer's proposal number to echo (RFC 7296 3.3.1). */
  readonly num: number;
  /** The peer's SPI from the chosen proposal (CHILD SAs: our outbound SPI; IKE rekey: the new IKE SPI). */
  readonly spi: Uint8Array;
}

const TYPES: readonly TransformTypeId[] = [1, 2, 3, 4, 5];

/**
 * RFC 7296 3.3.6: a proposal holding a Transform Type we do not understand is unacceptable. The RFC 9370 ADDKE
 * types (6-12) are understood: they are matched by selectProposal like the classic ones (addkeChoice).
 */
export function unacceptableTransformTypes(p: SaProposal): number[] {
  const bad = new Set<number>();
  for (const t of p.transforms) {
    if ((TYPES as readonly number[]).includes(t.type) || isAdditionalKeType(t.type)) continue;
    bad.add(t.type);
  }
  return [...bad];
}

const ADDKE_TYPES = [6, 7, 8, 9, 10, 11, 12] as const;

/**
 * RFC 9370 2.2.1 for one ADDKE type: a side that does not list the type takes part only with NONE, so the lists
 * are (ours or [NONE]) and (theirs or [NONE]); the first of ours the peer offers is chosen (NONE: no exchange).
 * `null` when nothing is common: the peer requires an exchange we do not offer, or the other way round.
 */
function addkeChoice(mine: readonly number[], peer: readonly number[]): number | null {
  const m = mine.length ? mine : [ADDKE_NONE];
  const p = peer.length ? peer : [ADDKE_NONE];
  return m.find((id) => p.includes(id)) ?? null;
}

function peerAddke(t: SaProposal, type: number): number[] {
  return typeIds(t, type).map((x) => x.id);
}

/**
 * Chooses one transform per type. A type present on one side must be present on the other (so PFS only when both
 * want it), except: INTEG may be absent or NONE with an AEAD; KE is ignored when `stripKe` (IKE_AUTH, RFC 7296 1.2).
 * `preferOurs`: iterate our proposals first (responder); otherwise the peer's (initiator checking a response).
 */
export function selectProposal(
  ours: readonly ConfiguredProposal[],
  theirs: readonly SaProposal[],
  protocol: number,
  opts: { stripKe?: boolean; preferOurs?: boolean } = {},
): Selection | undefined {
  const stripKe = opts.stripKe ?? false;
  const pairs: [ConfiguredProposal, SaProposal][] = [];
  if (opts.preferOurs ?? true) for (const o of ours) for (const t of theirs) pairs.push([o, t]);
  else for (const t of theirs) for (const o of ours) pairs.push([o, t]);
  for (const [o, t] of pairs) {
    if (t.protocol !== protocol) continue;
    if (unacceptableTransformTypes(t).length > 0) continue;
    const chosen: Partial<Record<TransformTypeId, { id: number; keyLength?: number }>> = {};
    let okAll = true;
    for (const type of TYPES) {
      const mine = configuredIds(o, type, protocol, stripKe);
      let peer = typeIds(t, type);
      if (type === TransformType.KE && stripKe) peer = [];
      if (type === TransformType.INTEG) {
        // RFC 5282 8 / RFC 7296 3.3: with AEAD, integrity is absent or NONE.
        const aead = (chosen[1] && isAeadEncr(chosen[1].id)) ?? false;
        if (aead) {
          const peerNonNone = peer.filter((x) => x.id !== INTEG.NONE);
          if (peerNonNone.length > 0 && !mine.some((m) => peerNonNone.some((p) => p.id === m.id))) {
            okAll = false;
            break;
          }
          continue;
        }
      }
      if (mine.length === 0 && peer.length === 0) continue;
      const match = mine.find((m) => peer.some((p) => p.id === m.id && p.keyLength === m.keyLength));
      if (!match) {
        okAll = false;
        break;
      }
      chosen[type] = match;
    }
    if (!okAll || !chosen[1]) continue;
    const addke: { type: number; id: number }[] = [];
    for (const type of ADDKE_TYPES) {
      const mine = stripKe ? [] : (proposalAddke(o)[type - 6] ?? []);
      const id = addkeChoice(mine, stripKe ? [] : peerAddke(t, type));
      if (id === null) {
        okAll = false;
        break;
      }
      if (id !== ADDKE_NONE) addke.push({ type, id });
    }
    if (!okAll) continue;
    const set: TransformSet = {
      encr: chosen[1].id,
      keyBits: chosen[1].keyLength,
      integ: chosen[3]?.id,
      prf: chosen[2]?.id,
      ke: chosen[4]?.id,
      esn: chosen[5]?.id,
      ...(addke.length ? { addke } : {}),
    };
    if (protocol === ProtocolId.IKE && (set.prf === undefined || (!isAeadEncr(set.encr) && set.integ === undefined))) continue;
    if (protocol === ProtocolId.ESP && !isAeadEncr(set.encr) && set.integ === undefined) continue;
    return { set, num: t.num, spi: t.spi };
  }
  return undefined;
}

/**
 * Responder selection that avoids a needless INVALID_KE_PAYLOAD round trip: RFC 7296 3.4 requires that answer only
 * when the *selected* proposal's group differs from the KE payload's, so among acceptable proposals we first look
 * for one whose group is the one the peer already sent (as strongSwan does), and only then select as usual.
 */
export function selectProposalForKe(
  ours: readonly ConfiguredProposal[],
  theirs: readonly SaProposal[],
  protocol: number,
  keGroup: number | undefined,
  opts: { stripKe?: boolean } = {},
): Selection | undefined {
  if (keGroup !== undefined && !opts.stripKe) {
    const withGroup = ours.filter((p) => p.ke.includes(keGroup)).map((p) => ({ ...p, ke: [keGroup] }));
    const sel = withGroup.length > 0 ? selectProposal(withGroup, theirs, protocol, opts) : undefined;
    if (sel) return sel;
  }
  return selectProposal(ours, theirs, protocol, opts);
}

/**
 * Initiator: the transform set of the single proposal a responder accepted, if it is one we offered. RFC 7296
 * 3.3.1: "the proposal number in the SA payload MUST match the number on the proposal sent that was accepted", so
 * the transforms must come from the proposal we sent under that number (our proposals are numbered from 1 in
 * configuration order by `toSaProposals`), not merely from any of our proposals.
 */
export function acceptedProposal(ours: readonly ConfiguredProposal[], got: SaProposal, protocol: number, opts: { stripKe?: boolean } = {}): TransformSet | undefined {
  const set = saProposalToSet(got);
  const sent = ours[got.num - 1];
  if (!set || !sent || got.protocol !== protocol) return undefined;
  const check = selectProposal([sent], [got], protocol, { ...opts, preferOurs: false });
  return check && formatProposal(check.set) === formatProposal(set) ? set : undefined;
}

/** The SA payload proposal that echoes a selection (RFC 7296 3.3.1: one proposal, the peer's number, our SPI). */
export function selectionToSaProposal(sel: TransformSet, num: number, protocol: number, spi: Uint8Array): SaProposal {
  const transforms: Transform[] = [];
  transforms.push(sel.keyBits && findEncr(sel.encr)?.keyLengthAttribute ? { type: 1, id: sel.encr, keyLength: sel.keyBits } : { type: 1, id: sel.encr });
  if (sel.prf !== undefined) transforms.push({ type: 2, id: sel.prf });
  if (sel.integ !== undefined) transforms.push({ type: 3, id: sel.integ });
  if (sel.ke !== undefined) transforms.push({ type: 4, id: sel.ke });
  if (sel.esn !== undefined) transforms.push({ type: 5, id: sel.esn });
  for (const a of sel.addke ?? []) transforms.push({ type: a.type, id: a.id });
  return { num, protocol, spi, transforms };
}

/** Reads the single proposal of a response back into a transform set (the initiator then checks it was offered). */
export function saProposalToSet(p: SaProposal): TransformSet | undefined {
  const one = (type: number): { id: number; keyLength?: number } | undefined => {
    const l = typeIds(p, type);
    return l.length === 1 ? l[0] : undefined;
  };
  const e = one(1);
  if (!e || p.transforms.filter((t) => t.type === 1).length !== 1) return undefined;
  for (const type of [2, 3, 4, 5, ...ADDKE_TYPES]) if (p.transforms.filter((t) => t.type === type).length > 1) return undefined;
  // RFC 9370 2.2.1: one transform per ADDKE type in the answer; NONE means that exchange does not happen.
  const addke = ADDKE_TYPES.map((type) => ({ type, id: one(type)?.id })).filter((a): a is { type: (typeof ADDKE_TYPES)[number]; id: number } => a.id !== undefined && a.id !== ADDKE_NONE);
  const set = { encr: e.id, keyBits: e.keyLength, prf: one(2)?.id, integ: one(3)?.id, ke: one(4)?.id, esn: one(5)?.id };
  return addke.length ? { ...set, addke } : set;
}

function protoLabel(protocol: number): string {
  return protocol === ProtocolId.IKE ? 'IKE' : protocol === ProtocolId.ESP ? 'ESP' : protocol === ProtocolId.AH ? 'AH' : `PROTO${protocol}`;
}

/** strongSwan's proposal printing: `IKE:AES_CBC_128/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_2048`. */
export function formatSaProposal(p: SaProposal): string {
  const names = p.transforms.map((t) => (isAdditionalKeType(t.type) ? additionalKeName(t.type, t.id) : transformName(t.type as TransformTypeId, t.id, t.keyLength)));
  return `${protoLabel(p.protocol)}:${names.join('/')}`;
}

export function formatConfiguredProposal(p: ConfiguredProposal, protocol: number, stripKe = false): string {
  return formatSaProposal(toSaProposal(p, 1, protocol, new Uint8Array(0), { stripKe }));
}

const TYPE_LABEL: Record<number, string> = { 1: 'encryption', 2: 'PRF', 3: 'integrity', 4: 'key exchange', 5: 'ESN' };

/**
 * Why no proposal matched: the transform types with nothing in common, and both sides' offers. Returns a message
 * such as: `no acceptable proposal: key exchange differs (we offer ECP_384, peer offers CURVE_25519); ...`.
 */
export function explainMismatch(ours: readonly ConfiguredProposal[], theirs: readonly SaProposal[], protocol: number, opts: { stripKe?: boolean } = {}): string {
  const stripKe = opts.stripKe ?? false;
  const differing: string[] = [];
  const refused = new Set<string>();
  for (const t of theirs) {
    if (t.protocol !== protocol) continue;
    for (const type of unacceptableTransformTypes(t)) {
      const ids = t.transforms.filter((x) => x.type === type).map((x) => (isAdditionalKeType(type) ? additionalKeName(type, x.id) : `${type}/${x.id}`));
      refused.add(`unknown transform type ${ids.join(', ')}`);
    }
  }
  if (refused.size > 0) differing.push(`peer proposals need ${[...refused].join('; ')} (RFC 7296 3.3.6)`);
  if (!stripKe) {
    for (const type of ADDKE_TYPES) {
      // RFC 9370 2.2.1: an absent ADDKE type counts as NONE; a side without NONE requires the exchange.
      const mine = new Set<number>();
      const peer = new Set<number>();
      for (const o of ours) for (const id of proposalAddke(o)[type - 6]?.length ? proposalAddke(o)[type - 6]! : [ADDKE_NONE]) mine.add(id);
      for (const t of theirs) if (t.protocol === protocol) for (const id of peerAddke(t, type).length ? peerAddke(t, type) : [ADDKE_NONE]) peer.add(id);
      if ([...mine].some((id) => peer.has(id))) continue;
      const names = (ids: Set<number>) => [...ids].map((id) => additionalKeName(type, id)).join(', ');
      const req = (ids: Set<number>) => (ids.has(ADDKE_NONE) ? '' : ' (required)');
      differing.push(`additional key exchange ${additionalKeTypeName(type)} differs (we offer ${names(mine)}${req(mine)}, peer offers ${names(peer)}${req(peer)}; RFC 9370 2.2.1)`);
    }
  }
  for (const type of TYPES) {
    if (type === TransformType.KE && stripKe) continue;
    const mine = new Map<string, string>();
    const peer = new Map<string, string>();
    for (const o of ours) for (const x of configuredIds(o, type, protocol, stripKe)) mine.set(`${x.id}/${x.keyLength ?? ''}`, transformName(type, x.id, x.keyLength));
    for (const t of theirs) if (t.protocol === protocol) for (const x of typeIds(t, type)) peer.set(`${x.id}/${x.keyLength ?? ''}`, transformName(type, x.id, x.keyLength));
    if (type === TransformType.INTEG) {
      mine.delete(`${INTEG.NONE}/`);
      peer.delete(`${INTEG.NONE}/`);
    }
    if (mine.size === 0 && peer.size === 0) continue;
    if (![...mine.keys()].some((k) => peer.has(k)))
      differing.push(`${TYPE_LABEL[type]} differs (we offer ${[...mine.values()].join(', ') || 'none'}, peer offers ${[...peer.values()].join(', ') || 'none'})`);
  }
  const reason = differing.length > 0 ? differing.join('; ') : 'every transform type has a common algorithm, but no single proposal combines them';
  const oursText = ours.map((p) => formatConfiguredProposal(p, protocol, stripKe)).join(', ');
  const theirsText = theirs.map(formatSaProposal).join(', ');
  return `no acceptable ${protoLabel(protocol)} proposal: ${reason}; received proposals: ${theirsText || 'none'}; configured proposals: ${oursText || 'none'}`;
}

export { formatProposal };
