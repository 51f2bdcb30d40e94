/**
 * IKE header and payload chain (RFC 7296 3.1, 3.2): decodeHeader, decodeMessage, decodePayloads, encodeMessage.
 *
 * The chain is walked with the generic payload header; each body goes to its layout in payloads.ts.
 * RFC 7296 2.5: an unknown payload with the critical bit clear is kept as UnknownPayload and skipped; with the
 * critical bit set the whole message is rejected (UNSUPPORTED_CRITICAL_PAYLOAD, answer with that notify).
 * SK / SKF (RFC 7296 3.14, RFC 7383 2.5) must be the last payload; its sealed body is returned for sk.ts.
 */
import { put16, put32, u8, u16, u32 } from './bytes.js';
import { payloadTypeName } from './names.js';
import { decodePayloadBody, encodePayloadBody } from './payloads.js';
import {
  codecError,
  HeaderFlag,
  IKE_HEADER_BYTES,
  IKE_SPI_BYTES,
  IkeEncodeError,
  ok,
  PAYLOAD_HEADER_BYTES,
  PayloadType,
  payloadTypeOf,
  type DecodedMessage,
  type EncryptedPayload,
  type IkeHeader,
  type IkeHeaderInit,
  type Payload,
  type Result,
} from './types.js';

/** At most this many payloads in one chain (plaintext or inside SK): TOO_MANY_PAYLOADS beyond. */
export const MAX_PAYLOADS = 128;

/** The IKE major version we speak (RFC 7296 3.1). */
export const IKE_MAJOR_VERSION = 2;
export const IKE_MINOR_VERSION = 0;

/** SKF carries Fragment Number (2) and Total Fragments (2) before the IV (RFC 7383 2.5). */
export const SKF_EXTRA_BYTES = 4;

/**
 * Parses the 28-byte IKE header (RFC 7296 3.1). Checks only what the header alone can tell: size and major
 * version; use decodeMessage for the length field against the datagram.
 */
export function decodeHeader(buf: Uint8Array): Result<IkeHeader> {
  if (buf.length < IKE_HEADER_BYTES) {
    return codecError('TRUNCATED', `${buf.length} bytes is shorter than the ${IKE_HEADER_BYTES}-byte IKE header`, 0);
  }
  const version = u8(buf, 17);
  const majorVersion = version >>> 4;
  const minorVersion = version & 0x0f;
  // RFC 7296 2.5: a major version other than ours is not parsed further (answer INVALID_MAJOR_VERSION if higher).
  if (majorVersion !== IKE_MAJOR_VERSION) return codecError('BAD_VERSION', `IKE major version ${majorVersion}`, 17);
  const f = u8(buf, 19);
  return ok({
    spiI: buf.slice(0, 8),
    spiR: buf.slice(8, 16),
    nextPayload: u8(buf, 16),
    majorVersion,
    minorVersion,
    exchangeType: u8(buf, 18),
    flags: {
      initiator: (f & HeaderFlag.INITIATOR) !== 0,
      response: (f & HeaderFlag.RESPONSE) !== 0,
      version: (f & HeaderFlag.VERSION) !== 0,
    },
    messageId: u32(buf, 20),
    length: u32(buf, 24),
  });
}

type ChainResult = { payloads: Payload[]; encrypted?: EncryptedPayload };

/**
 * Walks a payload chain in buf[offset, end) starting with `firstType`.
 * `allowEncrypted` is true for the outer chain of a message (SK/SKF may end it) and false inside SK.
 */
function walkChain(buf: Uint8Array, firstType: number, offset: number, end: number, allowEncrypted: boolean): Result<ChainResult> {
  const payloads: Payload[] = [];
  let type = firstType;
  let o = offset;
  while (type !== PayloadType.NONE) {
    if (payloads.length >= MAX_PAYLOADS) return codecError('TOO_MANY_PAYLOADS', `more than ${MAX_PAYLOADS} payloads`, o);
    if (end - o < PAYLOAD_HEADER_BYTES) {
      return codecError('TRUNCATED', `${payloadTypeName(type)} payload header truncated`, o, type);
    }
    const next = u8(buf, o);
    const critical = (u8(buf, o + 1) & 0x80) !== 0;
    const len = u16(buf, o + 2);
    if (len < PAYLOAD_HEADER_BYTES) return codecError('BAD_LENGTH', `${payloadTypeName(type)} payload length ${len} < 4`, o + 2, type);
    if (o + len > end) {
      return codecError('BAD_LENGTH', `${payloadTypeName(type)} payload length ${len} runs past the end (${end - o} left)`, o + 2, type);
    }
    if (type === PayloadType.SK || type === PayloadType.SKF) {
      if (!allowEncrypted) return codecError('INVALID_SYNTAX', `${payloadTypeName(type)} inside an encrypted payload`, o, type);
      // RFC 7296 3.14: "the Encrypted payload, if present in a message, MUST be the last payload in the message".
      if (o + len !== end) return codecError('INVALID_SYNTAX', `${payloadTypeName(type)} is not the last payload`, o, type);
      let ivOffset = o + PAYLOAD_HEADER_BYTES;
      let fragment: { fragmentNumber: number; totalFragments: number } | undefined;
      if (type === PayloadType.SKF) {
        if (len < PAYLOAD_HEADER_BYTES + SKF_EXTRA_BYTES) return codecError('BAD_LENGTH', `SKF payload length ${len} < 8`, o + 2, type);
        const fragmentNumber = u16(buf, ivOffset);
        const totalFragments = u16(buf, ivOffset + 2);
        // RFC 7383 2.5: numbering starts at 1 and cannot exceed Total Fragments.
        if (fragmentNumber === 0 || totalFragments === 0 || fragmentNumber > totalFragments) {
          return codecError('INVALID_SYNTAX', `SKF fragment ${fragmentNumber} of ${totalFragments}`, ivOffset, type);
        }
        fragment = { fragmentNumber, totalFragments };
        ivOffset += SKF_EXTRA_BYTES;
      }
      const encrypted: EncryptedPayload = {
        type,
        critical,
        firstInnerType: next,
        headerOffset: o,
        ivOffset,
        body: buf.subarray(ivOffset, o + len),
        ...fragment,
      };
      return ok({ payloads, encrypted });
    }
    const decoded = decodePayloadBody(type, critical, buf, o + PAYLOAD_HEADER_BYTES, o + len);
    if (decoded === undefined) {
      if (critical) {
        return codecError('UNSUPPORTED_CRITICAL_PAYLOAD', `unknown critical ${payloadTypeName(type)}`, o, type);
      }
      payloads.push({ type: 'unknown', payloadType: type, critical, body: buf.slice(o + PAYLOAD_HEADER_BYTES, o + len) });
    } else {
      if (!decoded.ok) return decoded;
      payloads.push(decoded.value);
    }
    o += len;
    type = next;
  }
  if (o !== end) return codecError('BAD_LENGTH', `${end - o} bytes after the last payload`, o);
  return ok({ payloads });
}

/**
 * Decodes a payload chain that must not contain SK/SKF (the plaintext of an Encrypted payload, RFC 7296 3.14).
 * Offsets in errors are relative to `buf`.
 */
export function decodePayloads(buf: Uint8Array, firstType: number, offset = 0, end = buf.length): Result<Payload[]> {
  if (offset < 0 || end > buf.length || offset > end) return codecError('BAD_LENGTH', 'payload range outside the buffer', offset);
  const r = walkChain(buf, firstType, offset, end, false);
  return r.ok ? ok(r.value.payloads) : r;
}

/**
 * Decodes a whole IKE message (a UDP payload without the non-ESP marker). Returns the header, the plaintext
 * payloads, and the still-sealed SK/SKF payload if there is one. Never throws.
 */
export function decodeMessage(buf: Uint8Array): Result<DecodedMessage> {
  const h = decodeHeader(buf);
  if (!h.ok) return h;
  const header = h.value;
  if (header.length < IKE_HEADER_BYTES) return codecError('BAD_LENGTH', `IKE length field ${header.length} < 28`, 24);
  if (header.length > buf.length) {
    return codecError('TRUNCATED', `IKE length field ${header.length} but the datagram has ${buf.length} bytes`, 24);
  }
  if (header.length < buf.length) {
    return codecError('BAD_LENGTH', `IKE length field ${header.length} but the datagram has ${buf.length} bytes`, 24);
  }
  const r = walkChain(buf, header.nextPayload, IKE_HEADER_BYTES, header.length, true);
  if (!r.ok) return r;
  return ok(r.value.encrypted ? { header, payloads: r.value.payloads, encrypted: r.value.encrypted } : { header, payloads: r.value.payloads });
}

// ---------------------------------------------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------------------------------------------

function checkSpi(spi: Uint8Array, name: string): void {
  if (spi.length !== IKE_SPI_BYTES) throw new IkeEncodeError(`${name} must be ${IKE_SPI_BYTES} bytes, got ${spi.length}`);
}

/** Writes the 28-byte IKE header into `out` at 0. */
export function writeHeader(out: Uint8Array, h: IkeHeaderInit, nextPayload: number, length: number): void {
  checkSpi(h.spiI, 'SPIi');
  checkSpi(h.spiR, 'SPIr');
  const major = h.majorVersion ?? IKE_MAJOR_VERSION;
  const minor = h.minorVersion ?? IKE_MINOR_VERSION;
  if (major < 0 || major > 15 || minor < 0 || minor > 15) throw new IkeEncodeError('version nibble out of range');
  if (!Number.isInteger(h.exchangeType) || h.exchangeType < 0 || h.exchangeType > 255) throw new IkeEncodeError('exchange type out of range');
  if (!Number.isInteger(h.messageId) || h.messageId < 0 || h.messageId > 0xffffffff) throw new IkeEncodeError('message ID out of range');
  out.set(h.spiI, 0);
  out.set(h.spiR, 8);
  out[16] = nextPayload;
  out[17] = (major << 4) | minor;
  out[18] = h.exchangeType;
  out[19] =
    (h.flags.initiator ? HeaderFlag.INITIATOR : 0) | (h.flags.response ? HeaderFlag.RESPONSE : 0) | (h.flags.version ? HeaderFlag.VERSION : 0);
  put32(out, 20, h.messageId);
  put32(out, 24, length);
}

/**
 * Encodes a payload chain: each payload's generic header carries the type of the one after it and its own length.
 * `lastNext` is the Next Payload of the final payload (NONE normally; SK when an Encrypted payload follows).
 */
export function encodePayloads(payloads: readonly Payload[], lastNext: number = PayloadType.NONE): Uint8Array {
  const encoded = payloads.map((p) => ({ type: payloadTypeOf(p), critical: p.critical, body: encodePayloadBody(p) }));
  let total = 0;
  for (const { body } of encoded) {
    const len = body.length + PAYLOAD_HEADER_BYTES;
    if (len > 0xffff) throw new IkeEncodeError(`payload of ${len} bytes exceeds the 16-bit length field`);
    total += len;
  }
  const out = new Uint8Array(total);
  let o = 0;
  for (const [i, { critical, body }] of encoded.entries()) {
    // RFC 7296 3.2: Next Payload is the type of the payload after this one; the last carries `lastNext`.
    const after = encoded[i + 1];
    out[o] = after === undefined ? lastNext : after.type;
    out[o + 1] = critical ? 0x80 : 0;
    put16(out, o + 2, body.length + PAYLOAD_HEADER_BYTES);
    out.set(body, o + PAYLOAD_HEADER_BYTES);
    o += body.length + PAYLOAD_HEADER_BYTES;
  }
  return out;
}

/** Encodes a plaintext message: header (next payload and length derived) then the payload chain. */
export function encodeMessage(header: IkeHeaderInit, payloads: readonly Payload[]): Uint8Array {
  const chain = encodePayloads(payloads);
  const out = new Uint8Array(IKE_HEADER_BYTES + chain.length);
  const [first] = payloads;
  writeHeader(out, header, first === undefined ? PayloadType.NONE : payloadTypeOf(first), out.length);
  out.set(chain, IKE_HEADER_BYTES);
  return out;
}
