/**
 * What a received UDP datagram is, by the port it arrived on and its first bytes (RFC 3948 section 2):
 *
 * - 4 zero bytes (the non-ESP marker, 2.2): IKE; the marker is stripped.
 * - a single 0xFF byte (NAT-keepalive, 2.3): nothing to do.
 * - on the IKE port (500): IKE without a marker.
 * - on the NAT-T port (4500): ESP (the first 4 bytes are the SPI, never 0).
 *
 * When the IKE port is not 500 (tests, or `local_port` set) the endpoint keeps IKE and ESP on that one port
 * (RFC 7296 2.23 floats only from 500), so both arrive there. IKE without a marker is then recognized by its
 * header: version 2.0 at byte 17 and the Length field at bytes 24-27 equal to the datagram length (RFC 7296
 * 3.1). An ESP packet matches both by chance with probability about 2^-40.
 */

export type DatagramKind =
  | { readonly kind: 'ike'; readonly data: Uint8Array }
  | { readonly kind: 'esp' }
  | { readonly kind: 'keepalive' }
  | { readonly kind: 'invalid'; readonly why: string };

export function classifyDatagram(data: Uint8Array, onIkePort: boolean, ikePortIs500: boolean): DatagramKind {
  if (data.length === 1 && data[0] === 0xff) return { kind: 'keepalive' };
  if (onIkePort && ikePortIs500) return { kind: 'ike', data };
  if (data.length >= 4 && data[0] === 0 && data[1] === 0 && data[2] === 0 && data[3] === 0) return { kind: 'ike', data: data.subarray(4) };
  if (data.length < 8) return { kind: 'invalid', why: `datagram of ${data.length} bytes is neither IKE nor ESP` };
  if (onIkePort && looksLikeIke(data)) return { kind: 'ike', data };
  return { kind: 'esp' };
}

/** An IKEv2 header whose Length field is this datagram's length (RFC 7296 section 3.1). */
export function looksLikeIke(d: Uint8Array): boolean {
  if (d.length < 28 || d[17] !== 0x20) return false;
  const len = ((d[24]! << 24) | (d[25]! << 16) | (d[26]! << 8) | d[27]!) >>> 0;
  return len === d.length;
}
