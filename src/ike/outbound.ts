/**
 * Outbound messages of an IKE SA (RFC 7296 2.1, 2.2): requests numbered from 0 by each side (IKE_SA_INIT retries
 * reuse 0), sent and armed for retransmission by the side that started the exchange only; responses cached and
 * resent as they are when their request is retransmitted. The IKE_SA_INIT messages are kept as sent for the AUTH
 * payload (RealMessage1/2 of 2.15). Also the unauthenticated INVALID_MAJOR_VERSION answer (2.5).
 */
import { ExchangeType, NotifyType, type IkeCodecError, type IkeHeaderInit, type Payload } from './codec/types.js';
import { notifyForError } from './codec/index.js';
import type { Address } from './config.js';
import type { EndpointContext } from './context.js';
import { describePayloads, exchangeName, fmt } from './format.js';
import type { IkeSa } from './ike-sa.js';
import type { Task } from './tasks/task.js';
import { retransmissionTimeout } from './retransmit.js';
import { probePaths } from './tasks/ike-mobike.js';
import { encodeIkeMessage, encodePlainMessage } from './wire.js';

export interface OutboundHost {
  readonly ctx: EndpointContext;
  transmit(sa: IkeSa, data: Uint8Array): void;
  /** A uniform random number in [0, 1) (retransmission jitter). */
  random01(): number;
}

/** Sends `task`'s request on `sa` and arms its retransmission. */
export function sendRequest(h: OutboundHost, sa: IkeSa, task: Task, payloads: readonly Payload[], now: number): void {
  const { ctx } = h;
  const exchangeType = task.exchange;
  // Each side numbers its own requests from 0 (RFC 7296 2.2); IKE_SA_INIT retries reuse 0.
  const messageId = exchangeType === ExchangeType.IKE_SA_INIT ? 0 : sa.nextRequestId++;
  const datagrams = encodeAndSend(h, sa, exchangeType, messageId, false, payloads);
  const t = retransmissionTimeout(ctx.settings.retransmit, 0, h.random01()) ?? ctx.settings.retransmit.timeoutMs;
  sa.pending = { messageId, exchangeType, datagrams, attempt: 0, deadline: now + t, task };
}

/** Sends a response and keeps it for retransmitted requests (RFC 7296 2.1). */
export function sendResponse(h: OutboundHost, sa: IkeSa, exchangeType: number, messageId: number, payloads: readonly Payload[]): void {
  sa.lastResponse = { messageId, exchangeType, datagrams: encodeAndSend(h, sa, exchangeType, messageId, true, payloads) };
}

/** Builds, encodes (SK / fragments) and sends one message of `sa`; IKE_SA_INIT messages are kept for AUTH. */
function encodeAndSend(h: OutboundHost, sa: IkeSa, exchangeType: number, messageId: number, response: boolean, payloads: readonly Payload[]): Uint8Array[] {
  const header: IkeHeaderInit = { spiI: sa.spiI, spiR: sa.spiR, exchangeType, flags: { initiator: sa.initiator, response, version: false }, messageId };
  const datagrams = encodeIkeMessage(h.ctx, sa, header, payloads);
  const first = datagrams[0];
  if (exchangeType === ExchangeType.IKE_SA_INIT && first) {
    if (response) sa.initResponse = first;
    else sa.initRequest = first;
  }
  h.ctx.log('ike', 2, sa, `sending ${exchangeName(exchangeType)} ${response ? 'response' : 'request'} ${messageId} [ ${describePayloads(payloads)} ]`);
  for (const d of datagrams) h.transmit(sa, d);
  return datagrams;
}

/** The pending request of `sa` is due: retransmit it, or give up once the retransmission settings say so. */
export function retransmitDue(h: OutboundHost, sa: IkeSa, now: number): void {
  const p = sa.pending;
  if (!p || p.deadline > now) return;
  p.attempt++;
  const t = retransmissionTimeout(h.ctx.settings.retransmit, p.attempt, h.random01());
  if (t === undefined) {
    sa.pending = undefined;
    h.ctx.log('ike', 1, sa, `giving up after ${p.attempt - 1} retransmits`);
    p.task.timeout(now);
  } else {
    h.ctx.log('ike', 1, sa, `retransmit ${p.attempt} of request with message ID ${p.messageId}`);
    for (const d of p.datagrams) h.transmit(sa, d);
    // RFC 4555 3.5 (a MOBIKE initiator whose path may be dead while its addresses stay): copies over the other
    // paths, the same datagrams (same message ID: whichever arrives first is answered, the rest are
    // retransmissions to the responder, RFC 7296 2.1); an answer over another path moves the SA (ike-mobike.ts).
    for (const path of probePaths(h.ctx, sa, p.attempt, p.messageId)) {
      for (const d of p.datagrams) h.ctx.sendRaw(sa.encapsulated, d, path.local, path.remote);
    }
    p.deadline = now + t;
  }
}

/**
 * RFC 7296 2.5: a message of a higher major version is dropped, and the receiver SHOULD answer with an
 * unauthenticated INVALID_MAJOR_VERSION whose header carries the version it speaks. We answer only IKE_SA_INIT
 * requests (a peer probing for a newer IKE), never responses, and never anything else (that would be an answer
 * outside any SA: see the unknown-SPI decision in IkeEndpoint.receive()). IKEv1 (major 1) is dropped silently.
 */
export function answerMajorVersion(ctx: EndpointContext, data: Uint8Array, error: IkeCodecError, local: Address, remote: Address, marker: boolean): void {
  if (data.length < 28 || data[18] !== ExchangeType.IKE_SA_INIT || ((data[19] ?? 0) & 0x20) !== 0) return;
  const n = notifyForError(error, data);
  if (!n || n.notifyType !== NotifyType.INVALID_MAJOR_VERSION) return;
  const messageId = new DataView(data.buffer, data.byteOffset, data.byteLength).getUint32(20);
  ctx.log('net', 1, undefined, `IKE major version ${(data[17] ?? 0) >>> 4} from ${fmt(remote)}: answering INVALID_MAJOR_VERSION`);
  const header: IkeHeaderInit = { spiI: data.slice(0, 8), spiR: data.slice(8, 16), exchangeType: ExchangeType.IKE_SA_INIT, flags: { initiator: false, response: true, version: false }, messageId };
  ctx.sendRaw(marker, encodePlainMessage(header, [n]), local, remote);
}
