/**
 * NAT detection (RFC 7296 section 2.23): each side sends SHA-1(SPIi | SPIr | IP | Port) of the source and of the
 * destination address it sees. A mismatch on receipt means a NAT rewrote that address.
 */
import type { CryptoBackend } from '../crypto/types.js';
import { parseIp } from '../net/ip-address.js';
import type { Address } from './config.js';
import { IdType, type Identity } from './identity.js';

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

/**
 * Why a peer's NAT_DETECTION_SOURCE_IP mismatch is not a NAT, or undefined when a NAT is the likely cause.
 * RFC 7296 2.23 gives no way to tell a NAT from a peer that sends a hash that cannot match to force UDP
 * encapsulation (strongSwan's encap = yes, cygnet's default, kernel-libipsec): both just mismatch. Two things we
 * know can rule the NAT out: the peer sends from our own address (two sockets of one host: nothing can translate
 * between them), or its ID is an IP address equal to the one it sends from (strongSwan's default ID is the host's
 * address; behind a NAT it would claim the private one). Our own encap = yes is no reason: it fakes the hash we
 * send, never the one we receive.
 */
export function remoteNatExplanation(local: Address, remote: Address, remoteId?: Identity): string | undefined {
  const ip = parseIp(remote.address);
  const ours = parseIp(local.address);
  const same = (a: Uint8Array | undefined, b: Uint8Array | undefined): boolean => !!a && !!b && a.length === b.length && a.every((x, i) => x === b[i]);
  const forcing = 'it fakes NAT detection to force UDP encapsulation (RFC 7296 2.23)';
  if (same(ip, ours)) return `remote host ${remote.address} shares our address, so no NAT is between us: ${forcing}`;
  if (remoteId && (remoteId.type === IdType.ID_IPV4_ADDR || remoteId.type === IdType.ID_IPV6_ADDR) && same(remoteId.data, ip)) {
    return `remote host claims the address it sends from (${remote.address}), so it is not behind NAT: ${forcing}`;
  }
  return undefined;
}
