/**
 * ESP packet framing (RFC 4303 section 2), in place:
 *
 *   espOff                    payloadOff
 *   | SPI | Seq | IV ........ | payload | TFC pad | padding 1,2,3.. | Pad Length | Next Header | ICV |
 *                             |<----------------- encrypted ----------------------------------->|
 *
 * `espSeal` writes the header in front of a payload that already sits in the buffer (the caller leaves headroom)
 * and the trailer behind it (tailroom), so an inner packet becomes an ESP packet without being copied.
 */
import { ESP_HEADER_BYTES } from './constants.js';
import type { EspTransform } from './transform.js';

/** Bytes needed in front of the payload: SPI + Seq + IV. */
export function espHeadroom(t: EspTransform): number {
  return ESP_HEADER_BYTES + t.ivBytes;
}

/** Most bytes `espSeal` may write after the payload (TFC padding excluded): padding + 2-byte trailer + ICV. */
export function espTailroom(t: EspTransform): number {
  return t.padAlign - 1 + 2 + t.icvBytes;
}

/**
 * Seals buf[payloadOff, payloadOff + payloadLen) into an ESP packet that starts at payloadOff - espHeadroom(t).
 * Returns the end offset (exclusive) of the packet. The caller guarantees headroom and tailroom.
 * (hi, lo) is the 64-bit sequence number; only lo is sent, hi enters the ICV when `esn` (RFC 4303 section 2.2.1).
 */
export function espSeal(
  t: EspTransform,
  buf: Uint8Array,
  payloadOff: number,
  payloadLen: number,
  nextHeader: number,
  spi: number,
  esn: boolean,
  seqHi: number,
  seqLo: number,
  tfcPadTo = 0,
  iv?: Uint8Array,
  padLengthOverride?: number,
): number {
  const ivOff = payloadOff - t.ivBytes;
  const espOff = ivOff - ESP_HEADER_BYTES;
  buf[espOff] = spi >>> 24;
  buf[espOff + 1] = spi >>> 16;
  buf[espOff + 2] = spi >>> 8;
  buf[espOff + 3] = spi;
  buf[espOff + 4] = seqLo >>> 24;
  buf[espOff + 5] = seqLo >>> 16;
  buf[espOff + 6] = seqLo >>> 8;
  buf[espOff + 7] = seqLo;
  if (iv) buf.set(iv, ivOff);
  else t.writeIv(buf, ivOff, seqHi, seqLo);
  let p = payloadOff + payloadLen;
  if (tfcPadTo > payloadLen) {
    // RFC 4303 section 2.7: TFC padding follows the payload; the inner IP header tells the receiver its length.
    buf.fill(0, p, payloadOff + tfcPadTo);
    p = payloadOff + tfcPadTo;
  }
  // RFC 4303 section 2.4: payload + padding + 2 trailer bytes fill whole cipher blocks (at least 4-byte aligned);
  // the padding bytes are 1, 2, 3, ...
  const align = t.padAlign;
  let padLen = (align - ((p - payloadOff + 2) % align)) % align;
  if (padLengthOverride !== undefined) padLen = padLengthOverride;
  for (let i = 1; i <= padLen; i++) buf[p++] = i;
  buf[p++] = padLen;
  buf[p++] = nextHeader;
  t.seal(buf, espOff, p, esn, seqHi);
  return p + t.icvBytes;
}

/**
 * Checks the decrypted trailer of buf[ptOff, ptEnd) (payload | padding | Pad Length | Next Header).
 * Returns the payload length, or -1 when the padding is not 1, 2, 3, ... or longer than the data
 * (RFC 4303 section 2.4: the receiver SHOULD inspect the padding).
 */
export function espPayloadLength(buf: Uint8Array, ptOff: number, ptEnd: number): number {
  const n = ptEnd - ptOff;
  if (n < 2) return -1;
  const padLen = buf[ptEnd - 2]!;
  const payloadLen = n - 2 - padLen;
  if (payloadLen < 0) return -1;
  return espPaddingValuesOk(buf, ptOff + payloadLen, padLen) ? payloadLen : -1;
}

/** True when buf[padStart, padStart + padLen) holds 1, 2, 3, ... (RFC 4303 section 2.4's default padding). */
export function espPaddingValuesOk(buf: Uint8Array, padStart: number, padLen: number): boolean {
  let bad = 0;
  for (let i = 0; i < padLen; i++) bad |= buf[padStart + i]! ^ ((i + 1) & 0xff);
  return bad === 0;
}
