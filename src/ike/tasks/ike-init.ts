/**
 * IKE_SA_INIT (RFC 7296 1.2, 2.6, 2.7, 2.10, 2.23):
 *
 *   HDR, SAi1, KEi, Ni, N(NAT_DETECTION_SOURCE_IP), N(NAT_DETECTION_DESTINATION_IP),
 *        N(IKEV2_FRAGMENTATION_SUPPORTED), N(SIGNATURE_HASH_ALGORITHMS)  -->
 *                  <--  HDR, SAr1, KEr, Nr, N(NAT_DETECTION_*), N(IKEV2_FRAGMENTATION_SUPPORTED), N(SIGNATURE_HASH_ALGORITHMS)
 *
 * Error paths: the responder may answer N(COOKIE) (retry with the cookie as the first payload, 2.6),
 * N(INVALID_KE_PAYLOAD) with the group it wants (retry with that group, 1.2), or N(NO_PROPOSAL_CHOSEN).
 */
import { isCryptoError } from '../../crypto/errors.js';
import { randomBytes } from '../../crypto/random.js';
import type { KeyExchange } from '../../crypto/types.js';
import { ProtocolId, NotifyType, PayloadType, ExchangeType, type IkeHeader, type Payload, type SaPayload, type KePayload, type NoncePayload } from '../codec/types.js';
import type { Address, ChildConfig, IkeConnectionConfig } from '../config.js';
import type { EndpointContext } from '../context.js';
import { exchangeName, fmt } from '../format.js';
import { transition } from '../sa-state.js';
import { connOf, setKeys, type IkeSa } from '../ike-sa.js';
import { deriveIkeKeys } from '../keys.js';
import { parseIp } from '../../net/ip-address.js';
import { evaluateNatDetection, natDetectionHash, remoteNatExplanation } from '../natd.js';
import { acceptedProposal, explainMismatch, initiatorIkeProposals, selectProposal, selectProposalForKe, selectionToSaProposal, toSaProposals, withoutIntermediate } from '../negotiate.js';
import { errorNotify, findPayload, hasNotify, notifies, notify, notifyName, onlyProposal, readU16be, u16be } from '../payload-util.js';
import { formatProposal } from '../../crypto/transforms.js';
import { encodePlainMessage, decodeIkeMessage } from '../wire.js';
import { checkPayloadRules } from '../codec/index.js';
import { intermediateSupportedRequest, intermediateSupportedResponse, requiredAddkeHint, taskAfterInit } from './ike-intermediate.js';
import { closeOnTimeout } from './common.js';
import type { Task, TaskStatus } from './task.js';
import { connectionsFor } from '../connection-select.js';
import { certreqPayload } from '../auth-pubkey.js';
import { parseSignatureHashes } from '../../pki/index.js';
import { usePpkRequest, usePpkResponse } from '../ppk-auth.js';

/** IKE_SA_INIT retries after INVALID_KE_PAYLOAD before giving up. */
const MAX_KE_RETRIES = 3;

/** RFC 7427 section 4 hash algorithm identifiers we can verify: SHA2-256, SHA2-384, SHA2-512, Identity. */
const SIGNATURE_HASHES = Uint8Array.of(0, 2, 0, 3, 0, 4, 0, 5);

function natdPayloads(ctx: EndpointContext, sa: IkeSa, conn: IkeConnectionConfig): Payload[] {
  // Forcing UDP encapsulation (encap = yes): a NAT_DETECTION_SOURCE_IP that cannot match makes the peer
  // believe we are behind a NAT, so both sides float to port 4500 (as strongSwan does).
  const src = conn.encap ? randomBytes(ctx.random, 20) : natDetectionHash(ctx.crypto, sa.spiI, sa.spiR, sa.local);
  // Initiating from an unspecified address (local_addrs %any and no route lookup by the driver), our source hash
  // covers 0.0.0.0 and cannot match: the peer will take it for a NAT. Said here so its "behind NAT" is explained.
  if (!conn.encap && parseIp(sa.local.address)?.every((b) => b === 0)) {
    ctx.log('ike', 1, sa, `our source address is unknown (${sa.local.address}): the peer will see our NAT_DETECTION_SOURCE_IP mismatch as a NAT (set local_addrs)`);
  }
  const dst = natDetectionHash(ctx.crypto, sa.spiI, sa.spiR, sa.remote);
  return [notify(NotifyType.NAT_DETECTION_SOURCE_IP, src), notify(NotifyType.NAT_DETECTION_DESTINATION_IP, dst)];
}

function capabilityNotifies(conn: IkeConnectionConfig): Payload[] {
  const out: Payload[] = [];
  if (conn.fragmentation) out.push(notify(NotifyType.IKEV2_FRAGMENTATION_SUPPORTED));
  out.push(notify(NotifyType.SIGNATURE_HASH_ALGORITHMS, SIGNATURE_HASHES));
  return out;
}

/** `spiR`: the SPIr of the message that carried the hashes (zero in the IKE_SA_INIT request, RFC 7296 2.23). */
function applyNatDetection(ctx: EndpointContext, sa: IkeSa, payloads: readonly Payload[], conn: IkeConnectionConfig, spiR: Uint8Array): void {
  const source = notifies(payloads, NotifyType.NAT_DETECTION_SOURCE_IP).map((n) => n.data);
  const destination = notifies(payloads, NotifyType.NAT_DETECTION_DESTINATION_IP).map((n) => n.data);
  if (source.length === 0 && destination.length === 0) return;
  const r = evaluateNatDetection(ctx.crypto, sa.spiI, spiR, { source, destination }, sa.local, sa.remote);
  sa.natLocal = r.localBehindNat || conn.encap;
  sa.natLocalReal = r.localBehindNat;
  sa.natRemote = r.remoteBehindNat;
  if (r.localBehindNat) ctx.log('ike', 1, sa, 'local host is behind NAT, sending keep alives');
  if (r.remoteBehindNat) {
    // Not logged when we know better (natd.ts); otherwise the peer's ID in IKE_AUTH may still tell.
    const why = remoteNatExplanation(sa.local, sa.remote);
    if (why) ctx.log('ike', 1, sa, why);
    else sa.natRemoteLogPending = true;
  }
  if (conn.encap && !r.localBehindNat) ctx.log('ike', 1, sa, 'faking NAT situation to enforce UDP encapsulation');
}

import { emitKeys } from './key-export.js';
export { emitKeys };

/**
 * The peer's SIGNATURE_HASH_ALGORITHMS (RFC 7427 4): undefined when it sent none, or why its data is malformed.
 * Checked before any key exchange work, so a malformed notify costs the responder no DH and the initiator no state.
 */
function peerSignatureHashes(payloads: readonly Payload[]): { ok: true; ids: number[] | undefined } | { ok: false; reason: string } {
  const n = notifies(payloads, NotifyType.SIGNATURE_HASH_ALGORITHMS)[0];
  if (!n) return { ok: true, ids: undefined };
  const r = parseSignatureHashes(n.data);
  return r.ok ? { ok: true, ids: r.ids } : { ok: false, reason: `${r.reason} (RFC 7427 4: a list of 2-octet hash algorithm identifiers)` };
}

/** What the peer announced in IKE_SA_INIT: fragmentation (RFC 7383), signature hashes (RFC 7427), CERTREQ, RFC 4739. */
function readCapabilities(sa: IkeSa, payloads: readonly Payload[], hashes: number[] | undefined): void {
  sa.peerFragmentation = hasNotify(payloads, NotifyType.IKEV2_FRAGMENTATION_SUPPORTED);
  sa.peerMultipleAuth = hasNotify(payloads, NotifyType.MULTIPLE_AUTH_SUPPORTED);
  if (hashes) sa.peerHashes = hashes;
  if (findPayload(payloads, PayloadType.CERTREQ)) sa.peerCertreq = true;
  sa.peerUsePpk = hasNotify(payloads, NotifyType.USE_PPK); // RFC 8784 3
}

// ---------------------------------------------------------------------------------------------- initiator

/**
 * IKE_INIT: the initiator's IKE_SA_INIT (RFC 7296 1.2), again with the COOKIE (2.6) or the group the responder asks
 * for (1.2) when it answers with one; once keys are derived, IKE_AUTH is queued first on the SA.
 */
export class IkeInitTask implements Task {
  readonly kind = 'IKE_INIT';
  readonly exchange = ExchangeType.IKE_SA_INIT;
  private ke: KeyExchange | undefined;

  constructor(
    private readonly ctx: EndpointContext,
    private readonly sa: IkeSa,
    readonly child: ChildConfig | undefined,
  ) {}

  build(): Payload[] | undefined {
    const { ctx, sa } = this;
    const conn = connOf(sa, 'IkeInitTask');
    if (!this.ke) {
      const group = conn.proposals[0]?.ke[0];
      if (group === undefined) {
        ctx.destroySa(sa, 'no-proposal', `connection '${conn.name}' has no key exchange method in its IKE proposals`);
        return undefined;
      }
      transition(ctx, sa, 'CONNECTING', 'sending IKE_SA_INIT');
      sa.Ni = randomBytes(ctx.random, ctx.settings.nonceBytes);
      this.ke = ctx.crypto.createKeyExchange(group, ctx.random);
      sa.ke = this.ke;
      ctx.log('ike', 0, sa, `initiating IKE_SA ${conn.name}[${sa.id}] to ${sa.remote.address}`);
    }
    const payloads: Payload[] = [];
    if (sa.cookie) payloads.push(notify(NotifyType.COOKIE, sa.cookie)); // RFC 7296 2.6: first payload
    payloads.push(
      { type: PayloadType.SA, critical: false, proposals: toSaProposals(initiatorIkeProposals(conn.proposals), ProtocolId.IKE, new Uint8Array(0)) },
      { type: PayloadType.KE, critical: false, group: this.ke.group, data: this.ke.publicValue },
      { type: PayloadType.NONCE, critical: false, data: sa.Ni },
      ...natdPayloads(ctx, sa, conn),
      ...capabilityNotifies(conn),
      ...intermediateSupportedRequest(conn),
      ...usePpkRequest(sa, conn),
    );
    return payloads;
  }

  process(header: IkeHeader, payloads: readonly Payload[], now: number): TaskStatus {
    const { ctx, sa } = this;
    const ke = this.ke;
    if (!ke) return 'done'; // never built
    const conn = connOf(sa, 'IkeInitTask.process');
    const cookie = notifies(payloads, NotifyType.COOKIE)[0];
    if (cookie) {
      if (sa.cookie && sa.cookieRetries >= 3) {
        ctx.destroySa(sa, 'error', 'responder keeps demanding COOKIEs, giving up');
        return 'done';
      }
      ctx.log('ike', 1, sa, `received COOKIE from ${fmt(sa.remote)}, retrying IKE_SA_INIT with it (RFC 7296 2.6)`);
      sa.cookie = cookie.data;
      sa.cookieRetries++;
      return 'more';
    }
    const invalidKe = notifies(payloads, NotifyType.INVALID_KE_PAYLOAD)[0];
    if (invalidKe) {
      const wanted = readU16be(invalidKe.data) ?? -1;
      const offered = conn.proposals.some((p) => p.ke.includes(wanted));
      if (!offered || wanted === ke.group) {
        ctx.destroySa(sa, 'no-proposal', `peer requested key exchange method ${wanted}, which we did not propose`);
        return 'done';
      }
      // RFC 7296 1.2 expects one retry with the group the responder names; a responder that keeps naming other
      // groups would keep us retrying for ever (strongSwan caps these retries as well).
      if (++sa.keRetries > MAX_KE_RETRIES) {
        ctx.destroySa(sa, 'no-proposal', `peer keeps requesting other key exchange methods (last ${wanted}), giving up after ${MAX_KE_RETRIES} retries`);
        return 'done';
      }
      ctx.log('ike', 1, sa, `peer didn't accept DH group ${ke.group}, it requested ${wanted}`);
      ke.dispose();
      const retry = ctx.crypto.createKeyExchange(wanted, ctx.random);
      sa.ke = retry;
      this.ke = retry;
      return 'more';
    }
    const err = errorNotify(payloads);
    if (err) {
      const reason = err.notifyType === NotifyType.NO_PROPOSAL_CHOSEN ? 'no-proposal' : 'error';
      const detail =
        err.notifyType === NotifyType.NO_PROPOSAL_CHOSEN
          ? `peer ${fmt(sa.remote)} accepted none of our IKE proposals (${initiatorIkeProposals(conn.proposals).length} offered): check that both sides share an encryption, integrity/PRF and key exchange algorithm${requiredAddkeHint(conn)}`
          : `peer answered IKE_SA_INIT with ${notifyName(err.notifyType)}`;
      ctx.log('ike', 0, sa, `received ${notifyName(err.notifyType)} notify error`);
      ctx.destroySa(sa, reason, detail);
      return 'done';
    }
    const saP = findPayload(payloads, PayloadType.SA);
    const keP = findPayload(payloads, PayloadType.KE);
    const nonce = findPayload(payloads, PayloadType.NONCE);
    const chosen = onlyProposal(saP);
    if (!chosen || !keP || !nonce) {
      ctx.destroySa(sa, 'invalid-syntax', 'IKE_SA_INIT response lacks SA, KE or Nr (or has more than one proposal)');
      return 'done';
    }
    if (header.spiR.every((b) => b === 0)) {
      // RFC 7296 3.1: a responder that accepts the SA chooses a non-zero SPI (zero only in error/COOKIE answers).
      ctx.destroySa(sa, 'invalid-syntax', 'IKE_SA_INIT response accepting the SA with a zero responder SPI');
      return 'done';
    }
    const hashes = peerSignatureHashes(payloads);
    if (!hashes.ok) {
      // A response we cannot use ends the attempt (event and log naming the cause) before any key is derived.
      ctx.destroySa(sa, 'invalid-syntax', `invalid IKE_SA_INIT response from ${fmt(sa.remote)}: ${hashes.reason}`);
      return 'done';
    }
    // RFC 7296 3.3.1: the accepted proposal carries the number of the proposal we sent with these transforms.
    const set = acceptedProposal(initiatorIkeProposals(conn.proposals), chosen, ProtocolId.IKE);
    if (!set || set.ke !== keP.group || keP.group !== ke.group) {
      // e.g. a responder that drops ADDKE transforms it does not know instead of refusing the proposal (RFC 7296
      // 3.3.6 says refuse; strongSwan 5.9 does): the mismatch text names the exchange it dropped (RFC 9370 2.2.1).
      const why = set ? '' : `: ${explainMismatch(conn.proposals, [chosen], ProtocolId.IKE)}`;
      ctx.destroySa(sa, 'no-proposal', `responder chose a proposal we did not offer (proposal ${chosen.num})${why}`);
      return 'done';
    }
    sa.spiR = header.spiR;
    ctx.registerSa(sa);
    sa.set = set;
    sa.Nr = nonce.data;
    let gir: Uint8Array;
    try {
      gir = ke.computeSharedSecret(keP.data);
    } catch (e) {
      ctx.destroySa(sa, 'invalid-syntax', `invalid KE payload from peer: ${isCryptoError(e) ? e.message : String(e)}`);
      return 'done';
    }
    const ksa = setKeys(sa, deriveIkeKeys(ctx.crypto, set, { Ni: sa.Ni, Nr: sa.Nr, gir, spiI: sa.spiI, spiR: sa.spiR, initiator: true, exportKeys: ctx.settings.exportKeys }));
    emitKeys(ctx, sa);
    gir.fill(0);
    // SKEYSEED is derived: the private value has no further use (and held ~1.8 KB per SA for the SA's life).
    ke.dispose();
    sa.ke = undefined;
    this.ke = undefined;
    sa.nextRequestId = 1;
    readCapabilities(sa, payloads, hashes.ids);
    ctx.log('ike', 1, sa, `selected proposal: IKE:${formatProposal(set)}`);
    applyNatDetection(ctx, sa, payloads, conn, sa.spiR);
    if (sa.natLocal || sa.natRemote) {
      // RFC 7296 2.23: switch to port 4500 for everything after IKE_SA_INIT.
      sa.local = { address: sa.local.address, port: sa.local.port === 500 ? 4500 : sa.local.port };
      sa.remote = { address: sa.remote.address, port: sa.remote.port === 500 ? 4500 : sa.remote.port };
      sa.encapsulated = true;
    }
    // IKE_AUTH (or IKE_INTERMEDIATE first, RFC 9242/9370) follows at once, before anything else queued (RFC 7296 1.2).
    ctx.queueTask(sa, taskAfterInit(ctx, ksa, this.child, payloads), now, { first: true });
    return 'done';
  }

  timeout(): void {
    closeOnTimeout(this.ctx, this.sa, this.exchange);
  }
}

// ---------------------------------------------------------------------------------------------- responder

export function respondIkeSaInit(ctx: EndpointContext, data: Uint8Array, header: IkeHeader, local: Address, remote: Address, now: number, marker = false): void {
  // A retransmitted IKE_SA_INIT gets the same response again (RFC 7296 2.1).
  const existing = ctx.findSaBySpiI(header.spiI, remote);
  if (existing) {
    if (existing.lastResponse && existing.lastResponse.messageId === 0 && equalBytes(existing.initRequest, data)) {
      ctx.log('net', 1, existing, 'received retransmit of IKE_SA_INIT request, retransmitting response');
      for (const d of existing.lastResponse.datagrams) ctx.sendRaw(marker, d, local, remote);
    }
    return;
  }
  // RFC 7296 3.1: the initiator's SPI MUST NOT be zero; SPIr and the message ID are zero in IKE_SA_INIT (2.2).
  if (header.messageId !== 0 || header.spiR.some((b) => b !== 0) || header.spiI.every((b) => b === 0)) {
    ctx.log('net', 2, undefined, `IKE_SA_INIT request from ${fmt(remote)} with zero SPIi, non-zero SPIr or non-zero message ID, dropped`);
    return;
  }
  const m = decodeIkeMessage(data);
  const answer = (payloads: Payload[]): void => {
    ctx.sendRaw(marker, encodePlainMessage({ spiI: header.spiI, spiR: new Uint8Array(8), exchangeType: ExchangeType.IKE_SA_INIT, flags: { initiator: false, response: true, version: false }, messageId: 0 }, payloads), local, remote);
  };
  if (!m.ok) {
    ctx.log('enc', 1, undefined, `invalid IKE_SA_INIT request from ${fmt(remote)}: ${m.error.message}`);
    if (m.error.code === 'UNSUPPORTED_CRITICAL_PAYLOAD') answer([notify(NotifyType.UNSUPPORTED_CRITICAL_PAYLOAD, Uint8Array.of(m.error.payloadType ?? 0))]);
    else if (m.error.code === 'INVALID_SYNTAX') answer([notify(NotifyType.INVALID_SYNTAX)]);
    return;
  }
  const payloads = m.value.payloads;
  ctx.log('ike', 2, undefined, `received IKE_SA_INIT request 0 from ${fmt(remote)}`);
  const rules = checkPayloadRules(ExchangeType.IKE_SA_INIT, false, payloads, false);
  if (!rules.ok || m.value.encrypted) {
    ctx.log('ike', 1, undefined, `invalid IKE_SA_INIT request from ${fmt(remote)}: ${rules.ok ? 'encrypted payload' : rules.error.message}; answering INVALID_SYNTAX`);
    answer([notify(NotifyType.INVALID_SYNTAX)]);
    return;
  }
  const saP = findPayload(payloads, PayloadType.SA) as SaPayload | undefined;
  const keP = findPayload(payloads, PayloadType.KE) as KePayload | undefined;
  const nonce = findPayload(payloads, PayloadType.NONCE) as NoncePayload | undefined;
  if (!saP || !keP || !nonce) {
    ctx.log('ike', 1, undefined, `IKE_SA_INIT request from ${fmt(remote)} lacks SA, KE or Ni: answering INVALID_SYNTAX`);
    answer([notify(NotifyType.INVALID_SYNTAX)]);
    return;
  }
  const hashes = peerSignatureHashes(payloads);
  if (!hashes.ok) {
    // RFC 7296 2.21: a malformed request gets INVALID_SYNTAX, and no state or key exchange is spent on it.
    ctx.log('ike', 1, undefined, `invalid IKE_SA_INIT request from ${fmt(remote)}: ${hashes.reason}; answering INVALID_SYNTAX`);
    answer([notify(NotifyType.INVALID_SYNTAX)]);
    return;
  }
  const candidates = connectionsFor(ctx, local, remote);
  if (candidates.length === 0) {
    ctx.log('cfg', 0, undefined, `no IKE config found for ${local.address}...${remote.address}, sending NO_PROPOSAL_CHOSEN`);
    answer([notify(NotifyType.NO_PROPOSAL_CHOSEN)]);
    return;
  }
  let conn: IkeConnectionConfig | undefined;
  let sel: ReturnType<typeof selectProposal>;
  // RFC 9242 3.2 / RFC 9370 2.2.1: additional key exchanges need IKE_INTERMEDIATE, which an initiator that did not
  // announce it cannot run: our proposals requiring one are left out, optional ones lose their ADDKE types.
  const intermediate = hasNotify(payloads, NotifyType.INTERMEDIATE_EXCHANGE_SUPPORTED);
  for (const c of candidates) {
    sel = selectProposalForKe(intermediate ? c.proposals : withoutIntermediate(c.proposals), saP.proposals, ProtocolId.IKE, keP.group);
    if (sel) {
      conn = c;
      break;
    }
  }
  if (!conn || !sel) {
    const first = candidates[0];
    if (first) ctx.log('cfg', 0, undefined, explainMismatch(first.proposals, saP.proposals, ProtocolId.IKE) + (intermediate ? '' : ' (the peer did not announce IKE_INTERMEDIATE, RFC 9242 3.2: our proposals that require an additional key exchange cannot be used)'));
    ctx.log('ike', 0, undefined, `received proposals unacceptable, sending NO_PROPOSAL_CHOSEN to ${fmt(remote)}`);
    answer([notify(NotifyType.NO_PROPOSAL_CHOSEN)]);
    return;
  }
  const group = sel.set.ke;
  if (group === undefined) {
    // IKE proposals always carry a key exchange method (RFC 7296 3.3.3); one without is unusable.
    answer([notify(NotifyType.NO_PROPOSAL_CHOSEN)]);
    return;
  }
  if (group !== keP.group) {
    // RFC 7296 1.2: the KE payload's group is not the one we selected: ask for ours.
    ctx.log('ike', 1, undefined, `DH group ${keP.group} unacceptable, requesting ${group} from ${fmt(remote)}`);
    answer([notify(NotifyType.INVALID_KE_PAYLOAD, u16be(group))]);
    return;
  }
  // Cookies (RFC 7296 2.6) and the half-open limits were checked by the endpoint before this request was parsed
  // (src/ike/limits.ts, strongSwan's order): nothing past a limit gets this far.
  const sa = ctx.newSa(false, header.spiI, local, remote);
  sa.conn = conn;
  transition(ctx, sa, 'CONNECTING', 'answering IKE_SA_INIT');
  sa.spiR = ctx.newIkeSpi();
  sa.set = sel.set;
  sa.Ni = nonce.data;
  sa.Nr = randomBytes(ctx.random, ctx.settings.nonceBytes);
  sa.initRequest = data;
  sa.expectedRequestId = 1;
  sa.halfOpenDeadline = now + ctx.settings.halfOpenTimeoutMs;
  // An IKE_SA_INIT on the NAT-T port (a peer reauthenticating after NAT-T, or forcing encapsulation from the
  // start) is answered there, with the non-ESP marker on every message of this SA (RFC 3948 2.2).
  sa.encapsulated = marker;
  sa.ke = ctx.crypto.createKeyExchange(group, ctx.random);
  let gir: Uint8Array;
  try {
    gir = sa.ke.computeSharedSecret(keP.data);
  } catch (e) {
    ctx.log('ike', 0, undefined, `invalid KE payload from ${fmt(remote)}: ${isCryptoError(e) ? e.message : String(e)}; answering INVALID_SYNTAX`);
    sa.ke.dispose();
    answer([notify(NotifyType.INVALID_SYNTAX)]);
    return;
  }
  sa.keys = deriveIkeKeys(ctx.crypto, sel.set, { Ni: sa.Ni, Nr: sa.Nr, gir, spiI: sa.spiI, spiR: sa.spiR, initiator: false, exportKeys: ctx.settings.exportKeys });
  emitKeys(ctx, sa);
  gir.fill(0);
  readCapabilities(sa, payloads, hashes.ids);
  ctx.registerSa(sa);
  ctx.log('ike', 0, sa, `${fmt(remote)} is initiating an IKE_SA`);
  ctx.log('ike', 1, sa, `selected proposal: IKE:${formatProposal(sel.set)}`);
  applyNatDetection(ctx, sa, payloads, conn, header.spiR);
  const response: Payload[] = [
    { type: PayloadType.SA, critical: false, proposals: [selectionToSaProposal(sel.set, sel.num, ProtocolId.IKE, new Uint8Array(0))] },
    { type: PayloadType.KE, critical: false, group: sa.ke.group, data: sa.ke.publicValue },
    { type: PayloadType.NONCE, critical: false, data: sa.Nr },
    ...natdPayloads(ctx, sa, conn),
    ...capabilityNotifies(conn),
    ...intermediateSupportedResponse(sa, payloads),
    ...usePpkResponse(ctx, sa, conn, payloads),
    // RFC 4739 3.1: announced when the connection has a second authentication round for the initiator.
    ...(conn.moreRemote?.length ? [notify(NotifyType.MULTIPLE_AUTH_SUPPORTED)] : []),
  ];
  // strongSwan asks for certificates already in the IKE_SA_INIT response (RFC 7296 1.2 allows CERTREQ there).
  const certreq = certreqPayload(ctx.credentials, conn);
  if (certreq) response.splice(3, 0, certreq);
  ctx.sendResponse(sa, ExchangeType.IKE_SA_INIT, 0, response);
  // SKEYSEED is derived and the response (kept for retransmissions) sent: the private value goes.
  sa.ke.dispose();
  sa.ke = undefined;
  if (sa.natLocal || sa.natRemote) {
    // The initiator will continue on 4500; we follow when its IKE_AUTH arrives there.
    ctx.log('ike', 2, sa, `expecting ${exchangeName(ExchangeType.IKE_AUTH)} on port 4500`);
  }
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
