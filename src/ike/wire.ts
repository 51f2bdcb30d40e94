/**
 * The endpoint's view of the codec: plaintext IKE_SA_INIT messages, SK-protected messages for everything after
 * it (RFC 7296 3.14), and opening received SK payloads. Fragmentation (RFC 7383) plugs in here.
 */
import { decodeHeader, decodeMessage, encodeMessage, encryptSK, fragmentSK } from './codec/index.js';
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

/**
 * Encodes a message of `sa`: in the clear for IKE_SA_INIT, inside SK with our outbound keys otherwise, and as SKF
 * fragments (RFC 7383) when both sides support fragmentation and the datagram would exceed fragment_size.
 */
export function encodeIkeMessage(ctx: { readonly random: RandomSource }, sa: IkeSa, header: IkeHeaderInit, payloads: readonly Payload[]): Uint8Array[] {
  if (header.exchangeType === ExchangeType.IKE_SA_INIT) return [encodeMessage(header, payloads)];
  if (!sa.keys) throw new Error('encrypted message requested before the IKE SA has keys');
  const whole = encryptSK(header, payloads, sa.keys.out, ctx.random);
  const conn = sa.conn;
  if (!conn || !conn.fragmentation || !sa.peerFragmentation) return [whole];
  const max = maxIkeMessageBytes(conn.fragmentSize, sa.remote.address.includes(':'), sa.encapsulated);
  if (whole.length <= max) return [whole];
  return fragmentSK(header, payloads, sa.keys.out, ctx.random, max);
}

/**
 * strongSwan's fragment_size is the whole IP datagram (default 1280); the IKE message gets what is left after the
 * IP header, the UDP header and, on port 4500, the non-ESP marker (RFC 7383 2.5.1).
 */
export function maxIkeMessageBytes(fragmentSize: number, ipv6: boolean, nonEspMarker: boolean): number {
  return fragmentSize - (ipv6 ? 40 : 20) - 8 - (nonEspMarker ? 4 : 0);
}
