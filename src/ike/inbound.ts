/**
 * Decoding and opening of inbound IKE messages of an SA, with RFC 7383 reassembly and its memory bounds.
 *
 * Integrity first (RFC 7296 2.21.2): anything unauthenticated is dropped silently; an authentic message that is
 * malformed comes back as `invalid` with the notify to answer: UNSUPPORTED_CRITICAL_PAYLOAD for an unknown
 * critical payload (2.5), INVALID_SYNTAX otherwise. Reassembly (RFC 7383 2.6) authenticates and stores each
 * fragment; besides FragmentReassembler's per-SA bounds (fragments, bytes), a reassembly older than
 * reassembly.timeoutMs is abandoned (a peer that lost a fragment retransmits the whole message anyway), and all
 * SAs together hold at most reassembly.maxTotalBytes.
 */
import { ExchangeType, NotifyType, PayloadType, type IkeCodecError, type IkeHeader, type Payload } from './codec/types.js';
import { checkPayloadRules, decodePayloads, FragmentReassembler, openEncrypted } from './codec/index.js';
import { allowedPayloadTypes } from './codec/rules.js';
import { payloadTypeName } from './codec/names.js';
import type { EndpointSettings } from './config.js';
import type { LogGroup } from './events.js';
import { exchangeName } from './format.js';
import type { IkeSa } from './ike-sa.js';
import { decodeIkeMessage } from './wire.js';
import { keepIntermediateInbound } from './tasks/ike-intermediate.js';

export type Decoded =
  | { kind: 'ok'; payloads: readonly Payload[] }
  | { kind: 'drop' }
  | { kind: 'invalid'; notifyType: number; data: Uint8Array; message: string };

export interface InboundHost {
  readonly settings: EndpointSettings;
  log(group: LogGroup, level: number, sa: IkeSa | undefined, message: string): void;
}

export class InboundDecoder {
  /** Bytes held by RFC 7383 reassembly across all SAs. */
  private reassemblyBytes = 0;

  constructor(private readonly host: InboundHost) {}

  /** Decodes `data` (a message of `sa` with this header) and opens its SK or SKF payload; `now` ages reassembly. */
  decode(sa: IkeSa, data: Uint8Array, header: IkeHeader, now: number): Decoded {
    const m = decodeIkeMessage(data);
    if (!m.ok) {
      this.host.log('enc', 1, sa, `invalid ${exchangeName(header.exchangeType)} message: ${m.error.message}, dropped`);
      return { kind: 'drop' };
    }
    let payloads: readonly Payload[];
    let encrypted = false;
    if (header.exchangeType === ExchangeType.IKE_SA_INIT) {
      payloads = m.value.payloads;
    } else if (m.value.encrypted?.type === PayloadType.SKF && sa.keys && m.value.payloads.length === 0) {
      // RFC 7383 2.6: authenticate and store each fragment; act once all are in.
      const dir = header.flags.response ? 'response' : 'request';
      const limits = this.host.settings.reassembly;
      const r = (sa.reassembly[dir] ??= new FragmentReassembler({ maxFragments: limits.maxFragments, maxBytes: limits.maxBytes }));
      this.expire(sa, now);
      const held = r.heldBytes;
      const res = r.add(data, m.value, sa.keys.in, now);
      this.reassemblyBytes += r.heldBytes - held;
      if (this.reassemblyBytes > limits.maxTotalBytes) {
        // Across all SAs: the fragment that would exceed the cap drops its own SA's reassembly, not others'.
        this.host.log('enc', 1, sa, `IKE fragment of message ${header.messageId} dropped: fragments held for all IKE SAs would exceed ${limits.maxTotalBytes} bytes, reassembly abandoned`);
        this.reassemblyBytes -= r.heldBytes;
        r.reset();
        return { kind: 'drop' };
      }
      if (!res.ok) {
        this.host.log('enc', 1, sa, `IKE fragment of message ${header.messageId} dropped: ${res.error.message}`);
        return { kind: 'drop' };
      }
      if (!res.value.complete) {
        this.host.log('enc', 2, sa, `received fragment ${m.value.encrypted.fragmentNumber} of ${m.value.encrypted.totalFragments} of message ${header.messageId}, waiting for ${res.value.total - res.value.received} more`);
        return { kind: 'drop' };
      }
      this.host.log('enc', 1, sa, `IKE message ${header.messageId} reassembled from ${m.value.encrypted.totalFragments} fragments`);
      payloads = res.value.payloads;
      encrypted = true;
      // RFC 9242 3.3.2: IntAuth covers an IKE_INTERMEDIATE message's plaintext as if it was not fragmented (3.4).
      if (header.exchangeType === ExchangeType.IKE_INTERMEDIATE) keepIntermediateInbound(sa, data, res.value.firstInnerType, res.value.plaintext);
    } else {
      const enc = m.value.encrypted;
      if (!sa.keys || !enc || enc.type !== PayloadType.SK || m.value.payloads.length > 0) {
        this.host.log('enc', 1, sa, `${exchangeName(header.exchangeType)} message ${header.messageId} without a usable SK payload, dropped`);
        return { kind: 'drop' };
      }
      const opened = openEncrypted(data, enc, sa.keys.in);
      if (!opened.ok) {
        this.host.log('enc', 1, sa, `${exchangeName(header.exchangeType)} message ${header.messageId}: ${opened.error.message}, dropped`);
        return { kind: 'drop' };
      }
      const inner = decodePayloads(opened.value.plaintext, opened.value.firstInnerType);
      if (!inner.ok) return invalidFrom(inner.error);
      payloads = inner.value;
      encrypted = true;
      // RFC 9242 3.3.2: IntAuth covers the IKE_INTERMEDIATE plaintext exactly as received.
      if (header.exchangeType === ExchangeType.IKE_INTERMEDIATE) keepIntermediateInbound(sa, data, opened.value.firstInnerType, opened.value.plaintext);
    }
    // Be liberal (issue 15): a known payload this exchange does not use is ignored with a log line, unless its
    // sender marked it critical (then RFC 7296 2.5 applies as for any payload we cannot process).
    const allowed = allowedPayloadTypes(header.exchangeType, header.flags.response);
    if (allowed && (encrypted || header.exchangeType === ExchangeType.IKE_SA_INIT)) {
      const extra = payloads.filter((p) => p.type !== 'unknown' && !allowed.has(p.type) && !p.critical);
      if (extra.length > 0) {
        this.host.log('enc', 2, sa, `ignoring ${extra.map((p) => payloadTypeName(p.type as number)).join(', ')} in ${exchangeName(header.exchangeType)} ${header.flags.response ? 'response' : 'request'} ${header.messageId} (not used by this exchange)`);
        payloads = payloads.filter((p) => !extra.includes(p));
      }
    }
    const rules = checkPayloadRules(header.exchangeType, header.flags.response, payloads, encrypted);
    if (!rules.ok) return invalidFrom(rules.error);
    return { kind: 'ok', payloads };
  }

  /** Abandons reassemblies of `sa` older than reassembly.timeoutMs. */
  expire(sa: IkeSa, now: number): void {
    const timeoutMs = this.host.settings.reassembly.timeoutMs;
    for (const dir of ['request', 'response'] as const) {
      const r = sa.reassembly[dir];
      if (r && r.isExpired(now, timeoutMs)) {
        this.host.log('enc', 1, sa, `dropping incomplete fragmented IKE message ${r.messageId ?? ''} after ${timeoutMs} ms`);
        this.reassemblyBytes -= r.heldBytes;
        r.reset();
      }
    }
  }

  /** Releases everything `sa` holds (the SA is going). */
  drop(sa: IkeSa): void {
    for (const r of [sa.reassembly.request, sa.reassembly.response]) {
      if (!r) continue;
      this.reassemblyBytes -= r.heldBytes;
      r.reset();
    }
  }
}

function invalidFrom(e: IkeCodecError): Decoded {
  return e.code === 'UNSUPPORTED_CRITICAL_PAYLOAD'
    ? { kind: 'invalid', notifyType: NotifyType.UNSUPPORTED_CRITICAL_PAYLOAD, data: Uint8Array.of(e.payloadType ?? 0), message: e.message }
    : { kind: 'invalid', notifyType: NotifyType.INVALID_SYNTAX, data: new Uint8Array(0), message: e.message };
}

/** The Fragment Number of an SKF message whose first payload is SKF (RFC 7383 2.5), or 0. */
export function fragmentNumber(data: Uint8Array): number {
  return data.length >= 34 ? ((data[32] ?? 0) << 8) | (data[33] ?? 0) : 0;
}
