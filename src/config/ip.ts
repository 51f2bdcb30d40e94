/**
 * IP address text <-> bytes for configuration values: dotted quads (RFC 791 notation), IPv6 text forms of
 * RFC 4291 section 2.2 (including `::` and an embedded dotted quad), canonical output per RFC 5952, prefixes
 * and ranges. Strict: no zone ids, no leading sign, no shorthand like `10.1`.
 */

import { formatIp, parseIpv4 as parseIPv4Bytes, parseIpv6Strict as parseIPv6Bytes } from '../net/ip-address.js';

export type IpFamily = 4 | 6;

export interface IpAddress {
  readonly family: IpFamily;
  readonly bytes: Uint8Array;
  /** Canonical text (RFC 5952 for IPv6). */
  readonly text: string;
}

// The text <-> bytes conversions are the shared ones of src/net/ip-address.ts (issue 12: one IP helper); the
// strict IPv6 form is the one for configuration values.
export { formatIp, parseIpv4 as parseIPv4Bytes, parseIpv6Strict as parseIPv6Bytes } from '../net/ip-address.js';

export function parseIp(s: string): IpAddress | undefined {
  const v4 = parseIPv4Bytes(s);
  if (v4 !== undefined) return { family: 4, bytes: v4, text: formatIp(v4) };
  const v6 = parseIPv6Bytes(s);
  if (v6 !== undefined) return { family: 6, bytes: v6, text: formatIp(v6) };
  return undefined;
}

export function ipFromBytes(bytes: Uint8Array): IpAddress {
  return { family: bytes.length === 4 ? 4 : 6, bytes, text: formatIp(bytes) };
}

export interface IpSubnet {
  /** The network address (host bits cleared). */
  readonly network: IpAddress;
  readonly prefix: number;
  /** Lowest and highest address of the subnet. */
  readonly first: IpAddress;
  readonly last: IpAddress;
}

/** `addr/prefix` (or a bare address, as a host prefix). Host bits are cleared, as strongSwan does. */
export function parseSubnet(s: string): IpSubnet | undefined {
  const slash = s.indexOf('/');
  const addrText = slash === -1 ? s : s.slice(0, slash);
  const addr = parseIp(addrText);
  if (addr === undefined) return undefined;
  const max = addr.family === 4 ? 32 : 128;
  let prefix = max;
  if (slash !== -1) {
    const p = s.slice(slash + 1);
    if (!/^[0-9]{1,3}$/.test(p)) return undefined;
    prefix = Number(p);
    if (prefix > max) return undefined;
  }
  const first = new Uint8Array(addr.bytes);
  const last = new Uint8Array(addr.bytes);
  for (let bit = prefix; bit < max; bit++) {
    const i = bit >> 3;
    const m = 0x80 >> (bit & 7);
    first[i]! &= ~m;
    last[i]! |= m;
  }
  return { network: ipFromBytes(first), prefix, first: ipFromBytes(first), last: ipFromBytes(new Uint8Array(last)) };
}

export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i] !== b[i]) return a[i]! - b[i]!;
  }
  return a.length - b.length;
}

export interface IpRange {
  readonly first: IpAddress;
  readonly last: IpAddress;
}

/** `from-to` with both ends of one family and from <= to. */
export function parseRange(s: string): IpRange | undefined {
  const dash = s.indexOf('-');
  if (dash === -1) return undefined;
  const a = parseIp(s.slice(0, dash).trim());
  const b = parseIp(s.slice(dash + 1).trim());
  if (a === undefined || b === undefined || a.family !== b.family) return undefined;
  if (compareBytes(a.bytes, b.bytes) > 0) return undefined;
  return { first: a, last: b };
}

/** Whether two inclusive ranges of one family overlap. */
export function rangesOverlap(a: IpRange, b: IpRange): boolean {
  if (a.first.family !== b.first.family) return false;
  return compareBytes(a.first.bytes, b.last.bytes) <= 0 && compareBytes(b.first.bytes, a.last.bytes) <= 0;
}
