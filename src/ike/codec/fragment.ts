/**
 * IKEv2 message fragmentation (RFC 7383): splitting an SK message into SKF messages, and a bounded reassembler.
 *
 * Each fragment is a complete message `HDR, SKF {chunk}` with the same Message ID, encrypted and authenticated on
 * its own (RFC 7383 2.5), so a receiver can authenticate every fragment before storing it (2.6.1). Only the first
 * fragment's SKF carries the type of the first inner payload; the others carry 0.
 * Time-based expiry belongs to the caller (pass `now` in, ask isExpired()).
 */
import type { RandomSource } from '../../crypto/random.js';
import { decodePayloads, encodePayloads, SKF_EXTRA_BYTES } from './message.js';
import { openEncrypted, sealMessage, skOverhead } from './sk.js';
import {
  codecError,
  IKE_HEADER_BYTES,
  IkeEncodeError,
  ok,
  PAYLOAD_HEADER_BYTES,
  PayloadType,
  payloadTypeOf,
  type DecodedMessage,
  type IkeHeaderInit,
  type Payload,
  type Result,
  type SkKeys,
} from './types.js';

/**
 * Largest inner-plaintext chunk that fits a fragment of at most `maxMessageBytes` (the whole IKE message, without
 * IP/UDP headers or the non-ESP marker): room for header, SKF header, IV, padding + pad length, and ICV.
 */
export function fragmentCapacity(maxMessageBytes: number, keys: SkKeys): number {
  const { ivBytes, icvBytes, align } = skOverhead(keys);
  const avail = maxMessageBytes - IKE_HEADER_BYTES - PAYLOAD_HEADER_BYTES - SKF_EXTRA_BYTES - ivBytes - icvBytes;
  return Math.floor(avail / align) * align - 1;
}

/**
 * Encrypts `inner` as one or more SKF messages (RFC 7383 2.5), each no longer than `maxMessageBytes`.
 * RFC 7383 2.5.1 suggests 1280 - 48 (IPv6) or 576 - 28 (IPv4) bytes minus the non-ESP marker on port 4500.
 */
export function fragmentSK(
  header: IkeHeaderInit,
  inner: readonly Payload[],
  keys: SkKeys,
  random: RandomSource,
  maxMessageBytes: number,
): Uint8Array[] {
  const capacity = fragmentCapacity(maxMessageBytes, keys);
  if (capacity < 1) throw new IkeEncodeError(`fragments of ${maxMessageBytes} bytes leave no room for data`);
  const plaintext = encodePayloads(inner);
  const total = Math.max(1, Math.ceil(plaintext.length / capacity));
  if (total > 0xffff) throw new IkeEncodeError(`${total} fragments exceed the 16-bit Total Fragments field`);
  const [first] = inner;
  const firstInner = first === undefined ? PayloadType.NONE : payloadTypeOf(first);
  const out: Uint8Array[] = [];
  for (let i = 0; i < total; i++) {
    const chunk = plaintext.subarray(i * capacity, Math.min(plaintext.length, (i + 1) * capacity));
    out.push(sealMessage(header, i === 0 ? firstInner : PayloadType.NONE, chunk, keys, random, { fragment: { number: i + 1, total } }));
  }
  return out;
}

function spiKey(spi: Uint8Array): string {
  let s = '';
  for (const b of spi) s += b.toString(16).padStart(2, '0');
  return s;
}

export interface ReassemblyLimits {
  /** Most fragments one message may have (Total Fragments above this is FRAGMENT_LIMIT). */
  readonly maxFragments: number;
  /** Most decrypted bytes held for one message (beyond it the reassembly is abandoned, FRAGMENT_LIMIT). */
  readonly maxBytes: number;
}

export const DEFAULT_REASSEMBLY_LIMITS: ReassemblyLimits = { maxFragments: 64, maxBytes: 64 * 1024 };

export type ReassemblyProgress =
  | { readonly complete: false; readonly received: number; readonly total: number }
  | { readonly complete: true; readonly messageId: number; readonly payloads: Payload[]; readonly plaintext: Uint8Array; readonly firstInnerType: number };

interface Pending {
  readonly messageId: number;
  readonly exchangeType: number;
  readonly response: boolean;
  readonly spiI: string;
  readonly total: number;
  readonly startedAt: number;
  readonly chunks: (Uint8Array | undefined)[];
  firstInnerType: number | undefined;
  received: number;
  bytes: number;
}

/**
 * Reassembles the SKF fragments of one message at a time (one instance per IKE SA and direction: window size 1).
 * A fragment of a different IKE SA, Message ID, exchange or direction (request/response) replaces the pending one;
 * the caller validates Message IDs before feeding fragments in (RFC 7383 2.6.1).
 */
export class FragmentReassembler {
  readonly limits: ReassemblyLimits;
  private pending: Pending | undefined;

  constructor(limits: Partial<ReassemblyLimits> = {}) {
    this.limits = { ...DEFAULT_REASSEMBLY_LIMITS, ...limits };
  }

  /** Message ID being reassembled, if any. */
  get messageId(): number | undefined {
    return this.pending?.messageId;
  }

  /** `now` of the first fragment stored for the pending message. */
  get startedAt(): number | undefined {
    return this.pending?.startedAt;
  }

  /** Bytes held right now (for memory accounting). */
  get heldBytes(): number {
    return this.pending?.bytes ?? 0;
  }

  /** True when a reassembly is pending and started more than `maxAge` before `now`. */
  isExpired(now: number, maxAge: number): boolean {
    return this.pending !== undefined && now - this.pending.startedAt > maxAge;
  }

  reset(): void {
    this.pending = undefined;
  }

  /**
   * Authenticates and decrypts one SKF message and stores it. Returns the inner payloads once all fragments are in.
   * Errors: INTEGRITY_CHECK_FAILED (fragment dropped, state kept), FRAGMENT_INVALID (dropped), FRAGMENT_LIMIT.
   */
  add(message: Uint8Array, decoded: DecodedMessage, keys: SkKeys, now: number): Result<ReassemblyProgress> {
    const enc = decoded.encrypted;
    if (!enc || enc.type !== PayloadType.SKF || enc.fragmentNumber === undefined || enc.totalFragments === undefined) {
      return codecError('FRAGMENT_INVALID', 'not an SKF message', IKE_HEADER_BYTES);
    }
    const number = enc.fragmentNumber;
    const total = enc.totalFragments;
    if (total > this.limits.maxFragments) {
      return codecError('FRAGMENT_LIMIT', `${total} fragments exceed the limit of ${this.limits.maxFragments}`, enc.ivOffset - 2, PayloadType.SKF);
    }
    // RFC 7383 2.6.1: authenticate each fragment before it is kept.
    const opened = openEncrypted(message, enc, keys);
    if (!opened.ok) return opened;
    const { header } = decoded;
    let p = this.pending;
    const spiI = spiKey(header.spiI);
    if (p && (p.messageId !== header.messageId || p.exchangeType !== header.exchangeType || p.response !== header.flags.response || p.spiI !== spiI)) {
      p = undefined;
    }
    if (p && total !== p.total) {
      // RFC 7383 2.6: a larger Total Fragments means the sender re-fragmented (smaller PMTU): start over with it;
      // a smaller one is a stale fragment: drop it.
      if (total < p.total) {
        return codecError('FRAGMENT_INVALID', `Total Fragments ${total} below the ${p.total} already seen`, enc.ivOffset - 2, PayloadType.SKF);
      }
      p = undefined;
    }
    if (!p) {
      p = {
        messageId: header.messageId,
        exchangeType: header.exchangeType,
        response: header.flags.response,
        spiI,
        total,
        startedAt: now,
        chunks: new Array<Uint8Array | undefined>(total).fill(undefined),
        firstInnerType: undefined,
        received: 0,
        bytes: 0,
      };
    }
    this.pending = p;
    if (p.chunks[number - 1] !== undefined) return ok({ complete: false, received: p.received, total: p.total });
    const chunk = opened.value.plaintext;
    if (p.bytes + chunk.length > this.limits.maxBytes) {
      this.pending = undefined;
      return codecError('FRAGMENT_LIMIT', `reassembly would hold more than ${this.limits.maxBytes} bytes`, enc.ivOffset, PayloadType.SKF);
    }
    p.chunks[number - 1] = chunk.slice();
    p.bytes += chunk.length;
    p.received++;
    if (number === 1) p.firstInnerType = opened.value.firstInnerType;
    if (p.received < p.total) return ok({ complete: false, received: p.received, total: p.total });
    this.pending = undefined;
    const plaintext = new Uint8Array(p.bytes);
    let o = 0;
    for (const c of p.chunks) {
      // received === total and each slot is filled once (the duplicate check above), so every chunk is here.
      if (c === undefined) return codecError('FRAGMENT_INVALID', 'reassembly complete with a fragment missing', enc.ivOffset, PayloadType.SKF);
      plaintext.set(c, o);
      o += c.length;
    }
    const payloads = decodePayloads(plaintext, p.firstInnerType ?? PayloadType.NONE);
    if (!payloads.ok) return payloads;
    return ok({ complete: true, messageId: p.messageId, payloads: payloads.value, plaintext, firstInnerType: p.firstInnerType ?? PayloadType.NONE });
  }
}
