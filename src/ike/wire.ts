/**
 * The endpoint's view of the codec: plaintext IKE_SA_INIT messages, SK-protected messages for everything after
 * it (RFC 7296 3.14), and opening received SK payloads. Fragmentation (RFC 7383) plugs in here.
 */
import { decodeHeader, decodeMessage, encodeMessage, encryptSK } from './codec/index.js';
import { ExchangeType, type DecodedMessage, type IkeHeader, type IkeHeaderInit, type Payload, type Result } from './codec/types.js';
import type { RandomSource } from '../crypto/random.js';
import type { IkeSa } from './ike-sa.js';

export function decodeIkeHeader(buf: Uint8Array): Result<IkeHeader> {
  return decodeHeader(buf);
}

export function decodeIkeMessage(buf: Uint8Array): Result<DecodedMessage> {
  return decodeMessage(buf);
}

export function encodePlainMessage(header: IkeHeaderInit, payloads: readonly Payload[]): Uint8Array {
  return encodeMessage(header, payloads);
}

/** Encodes a message of `sa`: in the clear for IKE_SA_INIT, inside SK with our outbound keys otherwise. */
export function encodeIkeMessage(ctx: { readonly random: RandomSource }, sa: IkeSa, header: IkeHeaderInit, payloads: readonly Payload[]): Uint8Array[] {
  if (header.exchangeType === ExchangeType.IKE_SA_INIT) return [encodeMessage(header, payloads)];
  if (!sa.keys) throw new Error('encrypted message requested before the IKE SA has keys');
  return [encryptSK(header, payloads, sa.keys.out, ctx.random)];
}
