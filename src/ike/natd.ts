/**
 * NAT detection (RFC 7296 section 2.23): each side sends SHA-1(SPIi | SPIr | IP | Port) of the source and of the
 * destination address it sees. A mismatch on receipt means a NAT rewrote that address.
 */
import type { CryptoBackend } from '../crypto/types.js';
import { parseIp } from '../net/ip-address.js';
import type { Address } from './config.js';

export function natDetectionHash(crypto: CryptoBackend, spiI: Uint8Array, spiR: Uint8Array, addr: Address): Uint8Array {
  const ip = parseIp(addr.address) ?? new Uint8Array(4);
  const port = Uint8Array.of(addr.port >> 8, addr.port & 0xff);
  return crypto.hash('sha1', [spiI, spiR, ip, port]);
}

export interface NatDetectionResult {
  /** Our address was rewritten: we are behind a NAT (the peer's DESTINATION hash did not match what we see). */
  readonly localBehindNat: boolean;
  /** The peer's address was rewritten (none of its SOURCE hashes matched). */
  readonly remoteBehindNat: boolean;
}

/**
 * Evaluates the peer's NAT_DETECTION_SOURCE_IP hashes (any may match: a host with several addresses sends one
 * per address) and its NAT_DETECTION_DESTINATION_IP hash, against the addresses of the datagram that carried them.
 */
export function evaluateNatDetection(
  crypto: CryptoBackend,
  spiI: Uint8Array,
  spiR: Uint8Array,
  received: { readonly source: readonly Uint8Array[]; readonly destination: readonly Uint8Array[] },
  local: Address,
  remote: Address,
): NatDetectionResult {
  const srcExpected = natDetectionHash(crypto, spiI, spiR, remote);
  const dstExpected = natDetectionHash(crypto, spiI, spiR, local);
  const eq = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((x, i) => x === b[i]);
  return {
    remoteBehindNat: received.source.length > 0 && !received.source.some((h) => eq(h, srcExpected)),
    localBehindNat: received.destination.length > 0 && !received.destination.some((h) => eq(h, dstExpected)),
  };
}
