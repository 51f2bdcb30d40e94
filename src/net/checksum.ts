/**
 * The Internet checksum (RFC 1071) and its incremental update (RFC 1624), for IPv4 headers and TCP/UDP
 * segments. Used by MSS clamping (which rewrites a TCP option in flight) and by tests that verify packets.
 */

/**
 * One's-complement sum of `bytes` as big-endian 16-bit words (an odd trailing byte is padded with zero),
 * added to `initial`, folded to 16 bits but NOT complemented (RFC 1071 section 4.1 "sum").
 */
export function onesComplementSum(bytes: Uint8Array, initial = 0): number {
  let sum = initial;
  const n = bytes.length & ~1;
  for (let i = 0; i < n; i += 2) sum += (bytes[i]! << 8) | bytes[i + 1]!;
  if (bytes.length & 1) sum += bytes[bytes.length - 1]! << 8;
  // Fold often enough that the JS number never exceeds 2^53: with 16-bit words that is no concern below
  // 2^37 bytes, so folding once at the end is exact.
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return sum;
}

/** The Internet checksum of `bytes`: the complement of the one's-complement sum (RFC 1071). */
export function internetChecksum(bytes: Uint8Array, initial = 0): number {
  return ~onesComplementSum(bytes, initial) & 0xffff;
}

/**
 * RFC 1624 equation 3: HC' = ~(~HC + ~m + m'), the checksum after one 16-bit word changes from `oldWord`
 * to `newWord`. Unlike eqn. 2 of RFC 1141 it never produces 0xFFFF wrongly (RFC 1624 section 3).
 */
export function checksumAdjust(checksum: number, oldWord: number, newWord: number): number {
  let sum = (~checksum & 0xffff) + (~oldWord & 0xffff) + (newWord & 0xffff);
  sum = (sum & 0xffff) + (sum >>> 16);
  sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** Sum of the TCP/UDP pseudo-header (RFC 793 section 3.1 for IPv4, RFC 8200 section 8.1 for IPv6). */
export function pseudoHeaderSum(src: Uint8Array, dst: Uint8Array, protocol: number, length: number): number {
  let sum = onesComplementSum(src, 0);
  sum = onesComplementSum(dst, sum);
  sum += protocol;
  if (src.length === 16) sum += Math.floor(length / 0x10000) + (length & 0xffff);
  else sum += length & 0xffff;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}
