/**
 * Dispatch of an inbound message of a known IKE SA (RFC 7296 2.1, window size 1): a response goes to the pending
 * request's callback, a request is checked against the expected message ID (a retransmission gets the cached
 * response again, 2.1; RFC 7383 2.6.1 for fragmented ones), then handed to the exchange that answers it. Both
 * follow the peer's address after NAT-T (2.23). Decoding and reassembly are inbound.ts's.
 */
import { ExchangeType, NotifyType, PayloadType, type IkeHeader } from './codec/types.js';
import type { Address } from './config.js';
import type { EndpointContext } from './context.js';
import { closeWithDelete } from './tasks/ike-auth.js';
import { responseArrived, type TaskHost } from './tasks/manager.js';
import { respond } from './tasks/responders.js';
import { describePayloads, exchangeName } from './format.js';
import { type IkeSa } from './ike-sa.js';
import { fragmentNumber, type Decoded } from './inbound.js';
import { hasNotify, notify } from './payload-util.js';
import { mobikeActive, noteRequestAddresses, responseArrivedOver } from './tasks/ike-mobike.js';

export interface DispatchHost {
  readonly ctx: EndpointContext;
  decode(sa: IkeSa, data: Uint8Array, header: IkeHeader): Decoded;
  /** Starts the next queued task of `sa` if its window is free. */
  kick(sa: IkeSa, now: number): void;
  readonly tasks: TaskHost;
  /** RFC 7296 2.23: the peer's address or port changed on an authenticated message. */
  followPeer(sa: IkeSa, remote: Address): void;
  transmit(sa: IkeSa, data: Uint8Array): void;
  /**
   * With MOBIKE, messages of `sa` sent until the next call go to `path` instead of the SA's addresses: a response
   * goes back where its request came from (RFC 7296 2.11), e.g. to the initiator probing a new path (RFC 4555 3.10).
   */
  replyVia(sa: IkeSa, path: { local: Address; remote: Address } | undefined): void;
}

export function handleResponse(h: DispatchHost, sa: IkeSa, data: Uint8Array, header: IkeHeader, local: Address, remote: Address, now: number): void {
  const p = sa.pending;
  if (!p || p.messageId !== header.messageId || p.exchangeType !== header.exchangeType) {
    h.ctx.log('net', 2, sa, `unexpected response with message ID ${header.messageId}, dropped`);
    return;
  }
  const d = h.decode(sa, data, header);
  if (d.kind === 'drop') return;
  if (d.kind === 'invalid') {
    // A malformed but authentic response ends the exchange; for IKE_SA_INIT/IKE_AUTH the SA cannot continue.
    sa.pending = undefined;
    h.ctx.log('ike', 0, sa, `invalid ${exchangeName(header.exchangeType)} response: ${d.message}`);
    // An authentic but malformed IKE_AUTH response: the responder holds an established IKE SA; delete it there.
    if (header.exchangeType === ExchangeType.IKE_AUTH && sa.state === 'CONNECTING') closeWithDelete(h.ctx, sa, 'invalid-syntax', `invalid IKE_AUTH response: ${d.message}`, now);
    else if (sa.state === 'CREATED' || sa.state === 'CONNECTING') h.ctx.destroySa(sa, 'invalid-syntax', `invalid ${exchangeName(header.exchangeType)} response: ${d.message}`);
    else {
      // On an established SA the exchange still ends through its own error path, as if the peer had answered
      // INVALID_SYNTAX: a CHILD SA being rekeyed or deleted, or our IKE rekey, must not stay half-way for ever.
      p.task.process(header, [notify(NotifyType.INVALID_SYNTAX)], now);
      h.kick(sa, now);
    }
    return;
  }
  const decoded = d.payloads;
  sa.lastInbound = now;
  // RealMessage2 of RFC 7296 2.15: the responder's AUTH covers the IKE_SA_INIT response exactly as received.
  if (header.exchangeType === ExchangeType.IKE_SA_INIT) {
    sa.initResponse = data.slice();
    // Initiating from a wildcard address: the datagram tells us which address we use (for NAT-D and TS).
    if (isUnspecified(sa.local.address) && !isUnspecified(local.address)) sa.local = { address: local.address, port: sa.local.port };
  }
  // RFC 7296 2.23: after NAT-T kicks in, follow the peer's address and port on authenticated messages. Not with
  // MOBIKE (RFC 4555 3.5: the initiator decides the addresses, through UPDATE_SA_ADDRESSES only; strongSwan too).
  if (sa.state === 'ESTABLISHED' && (remote.address !== sa.remote.address || remote.port !== sa.remote.port) && sa.encapsulated && !mobikeActive(sa)) {
    h.followPeer(sa, remote);
  }
  h.ctx.log('ike', 2, sa, `received ${exchangeName(header.exchangeType)} response ${header.messageId} [ ${describePayloads(decoded)} ]`);
  // RFC 4555 3.5: with MOBIKE, an initiator's authentic response over another path (a probe copy's) moves the SA.
  responseArrivedOver(h.ctx, sa, { local, remote }, now);
  responseArrived(h.tasks, sa, header, decoded, now);
  h.kick(sa, now);
}

export function handleRequest(h: DispatchHost, sa: IkeSa, data: Uint8Array, header: IkeHeader, local: Address, remote: Address, now: number, marker: boolean): void {
  const mid = header.messageId;
  // RFC 7296 2.1: a retransmission is the same request: same message ID and exchange type.
  if (sa.lastResponse && mid === sa.lastResponse.messageId && header.exchangeType === sa.lastResponse.exchangeType && mid + 1 === sa.expectedRequestId) {
    // RFC 7383 2.6.1: a retransmitted fragmented request is answered once, on its first fragment.
    if (header.nextPayload === PayloadType.SKF && fragmentNumber(data) !== 1) return;
    h.ctx.log('net', 1, sa, `received retransmit of request with ID ${mid}, retransmitting response`);
    if (mobikeActive(sa)) h.replyVia(sa, { local, remote });
    for (const d of sa.lastResponse.datagrams) h.transmit(sa, d);
    h.replyVia(sa, undefined);
    return;
  }
  if (mid !== sa.expectedRequestId) {
    h.ctx.log('net', 2, sa, `request with message ID ${mid} outside the window (expected ${sa.expectedRequestId}), dropped`);
    return;
  }
  const d = h.decode(sa, data, header);
  if (d.kind === 'drop') return;
  if (d.kind === 'invalid') {
    // RFC 7296 2.21.2 / 3.10.1: answer an authentic malformed request with the error notify.
    sa.expectedRequestId = mid + 1;
    h.ctx.log('ike', 1, sa, `invalid ${exchangeName(header.exchangeType)} request ${mid}: ${d.message}; answering ${d.notifyType === NotifyType.INVALID_SYNTAX ? 'INVALID_SYNTAX' : 'UNSUPPORTED_CRITICAL_PAYLOAD'}`);
    h.ctx.sendResponse(sa, header.exchangeType, mid, [notify(d.notifyType, d.data)]);
    if (sa.state !== 'ESTABLISHED' && sa.state !== 'DELETING' && sa.state !== 'REKEYING') h.ctx.destroySa(sa, 'invalid-syntax', `invalid ${exchangeName(header.exchangeType)} request: ${d.message}`);
    return;
  }
  const decoded = d.payloads;
  sa.lastInbound = now;
  noteRequestAddresses(sa, local, remote);
  // RFC 4555 3.6: an address update moves the SA itself (ike-mobike.ts); other requests follow 2.23, unless MOBIKE
  // was negotiated: then only UPDATE_SA_ADDRESSES moves it (3.5), and a request from another path (the initiator
  // probing it, 3.10) is answered there without moving the SA.
  const update = hasNotify(decoded, NotifyType.UPDATE_SA_ADDRESSES);
  const mobike = mobikeActive(sa);
  if (!update && !mobike && sa.encapsulated && sa.state === 'ESTABLISHED' && (remote.port !== sa.remote.port || remote.address !== sa.remote.address)) h.followPeer(sa, remote);
  if (marker && !sa.encapsulated) {
    // The initiator moved to the NAT-T port (RFC 7296 2.23): answer from there, with the marker.
    sa.local = local;
    sa.remote = remote;
    sa.encapsulated = true;
  }
  sa.expectedRequestId = mid + 1;
  h.ctx.log('ike', 2, sa, `received ${exchangeName(header.exchangeType)} request ${mid} [ ${describePayloads(decoded)} ]`);
  if (mobike) h.replyVia(sa, { local, remote });
  try {
    respond(h.ctx, sa, header.exchangeType, decoded, mid, now);
  } finally {
    h.replyVia(sa, undefined);
  }
  h.kick(sa, now);
}

function isUnspecified(a: string): boolean {
  return a === '0.0.0.0' || a === '::' || a === '';
}
