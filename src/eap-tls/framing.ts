/**
 * EAP-TLS framing (RFC 5216 3.1, 3.2): Flags (L = length included, M = more fragments, S = start), the 4-octet
 * TLS Message Length when L is set, then TLS record bytes. A TLS flight longer than one EAP packet is cut into
 * fragments; each fragment is acknowledged by an EAP-TLS packet without data (RFC 5216 2.1.5).
 */
import { EapError } from '../eap/errors.js';
import { EapType, encodeEap } from '../eap/packet.js';

export const TlsFlag = { Length: 0x80, More: 0x40, Start: 0x20 } as const;

/**
 * strongSwan's charon.plugins.eap-tls.fragment_size default: 1024 octets per EAP packet, which leaves 1014 octets
 * of TLS data in a first fragment (5 EAP header octets, Flags, 4 TLS Message Length octets).
 */
export const DEFAULT_FRAGMENT_SIZE = 1024;
/** The largest reassembled TLS message accepted: strongSwan's TLS_MAX_MESSAGE_LEN, 4 * (2^14 + 2048) (RFC 5246 6.2.3). */
export const MAX_TLS_MESSAGE = 4 * (16384 + 2048);
/** strongSwan's charon.plugins.eap-tls.max_message_count default: EAP-TLS packets one side processes at most. */
export const DEFAULT_MAX_MESSAGE_COUNT = 32;

export interface TlsFrame {
  readonly identifier: number;
  readonly flags: number;
  readonly totalLength: number | undefined;
  readonly data: Uint8Array;
}

/** Reads the EAP-TLS fields of an EAP Request/Response of Type 13 (its EAP header already checked). */
export function parseTlsFrame(eap: Uint8Array): TlsFrame {
  const length = ((eap[2] ?? 0) << 8) | (eap[3] ?? 0);
  if (length < 6) throw new EapError('truncated', 'EAP-TLS packet has no Flags octet (offset 5)');
  const flags = eap[5] ?? 0;
  let offset = 6;
  let totalLength: number | undefined;
  if ((flags & TlsFlag.Length) !== 0) {
    if (length < 10) throw new EapError('truncated', 'EAP-TLS packet with the L flag has no 4-octet TLS Message Length (offset 6)');
    totalLength = (((eap[6] ?? 0) << 24) | ((eap[7] ?? 0) << 16) | ((eap[8] ?? 0) << 8) | (eap[9] ?? 0)) >>> 0;
    offset = 10;
    if (totalLength > MAX_TLS_MESSAGE) {
      throw new EapError('bad-length', `EAP-TLS Message Length ${totalLength} (offset 6) exceeds the ${MAX_TLS_MESSAGE}-byte limit`);
    }
    if (totalLength < length - offset) {
      throw new EapError('bad-length', `EAP-TLS Message Length ${totalLength} (offset 6) is less than the ${length - offset} bytes in this fragment`);
    }
  }
  return { identifier: eap[1] ?? 0, flags, totalLength, data: eap.slice(offset, length) };
}

export function buildTlsFrame(code: 1 | 2, identifier: number, flags: number, data: Uint8Array = new Uint8Array(0), totalLength?: number): Uint8Array {
  const withLength = totalLength !== undefined;
  const body = new Uint8Array(1 + (withLength ? 4 : 0) + data.length);
  body[0] = flags | (withLength ? TlsFlag.Length : 0);
  if (withLength) new DataView(body.buffer).setUint32(1, totalLength);
  body.set(data, withLength ? 5 : 1);
  return encodeEap(code, identifier, EapType.Tls, body);
}

/** Collects the fragments of one TLS message (RFC 5216 2.1.5). */
export class Reassembler {
  private parts: Uint8Array[] = [];
  private size = 0;
  private expected: number | undefined;

  /** Adds a fragment; returns the whole message when this was the last one, else undefined (ACK it). */
  add(frame: TlsFrame): Uint8Array | undefined {
    if (this.parts.length === 0) this.expected = frame.totalLength;
    this.parts.push(frame.data);
    this.size += frame.data.length;
    if (this.size > MAX_TLS_MESSAGE) throw new EapError('bad-length', `EAP-TLS fragments add up to more than ${MAX_TLS_MESSAGE} bytes`);
    if (this.expected !== undefined && this.size > this.expected) {
      throw new EapError('bad-length', `EAP-TLS fragments carry ${this.size} bytes, more than the announced Message Length ${this.expected}`);
    }
    if ((frame.flags & TlsFlag.More) !== 0) return undefined;
    if (this.expected !== undefined && this.size !== this.expected) {
      throw new EapError('bad-length', `EAP-TLS message ended after ${this.size} bytes, the first fragment announced ${this.expected}`);
    }
    const whole = new Uint8Array(this.size);
    let o = 0;
    for (const p of this.parts) {
      whole.set(p, o);
      o += p.length;
    }
    this.parts = [];
    this.size = 0;
    this.expected = undefined;
    return whole;
  }

  get pending(): boolean {
    return this.parts.length > 0;
  }
}

/**
 * Cuts one outgoing TLS flight into EAP-TLS packets of at most `fragmentSize` octets each. Like strongSwan's
 * tls_eap.c with its eap-tls include_length default (yes), an unfragmented message carries the L flag and length
 * too (FreeRADIUS warns when it is missing); only ACKs go without.
 */
export class Fragmenter {
  private offset = 0;
  constructor(
    private readonly message: Uint8Array,
    private readonly fragmentSize: number,
    private readonly includeLength = true,
  ) {
    if (fragmentSize < 16) throw new RangeError(`EAP-TLS fragment size ${fragmentSize} is too small`);
  }

  get done(): boolean {
    return this.offset >= this.message.length;
  }

  /** The next packet: the first fragment of a split message carries L and the total length; all but the last M. */
  next(code: 1 | 2, identifier: number): Uint8Array {
    const first = this.offset === 0;
    const whole = first && this.message.length + (this.includeLength ? 10 : 6) <= this.fragmentSize;
    if (whole) {
      this.offset = this.message.length;
      return buildTlsFrame(code, identifier, 0, this.message, this.includeLength ? this.message.length : undefined);
    }
    const room = this.fragmentSize - (first ? 10 : 6);
    const chunk = this.message.subarray(this.offset, this.offset + room);
    this.offset += chunk.length;
    const more = this.offset < this.message.length ? TlsFlag.More : 0;
    return buildTlsFrame(code, identifier, more, chunk, first ? this.message.length : undefined);
  }
}
