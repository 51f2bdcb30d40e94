/**
 * IP address text <-> bytes for configuration values: dotted quads (RFC 791 notation), IPv6 text forms of
 * RFC 4291 section 2.2 (including `::` and an embedded dotted quad), canonical output per RFC 5952, prefixes
 * and ranges. Strict: no zone ids, no leading sign, no shorthand like `10.1`.
 */

export type IpFamily = 4 | 6;

export interface IpAddress {
  readonly family: IpFamily;
  readonly bytes: Uint8Array;
  /** Canonical text (RFC 5952 for IPv6). */
  readonly text: string;
}

export function parseIPv4Bytes(s: string): Uint8Array | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (!/^[0-9]{1,3}$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    out[i] = n;
  }
  return out;
}

export function parseIPv6Bytes(s: string): Uint8Array | undefined {
  if (s.length < 2 || s.length > 45 || !/^[0-9a-fA-F:.]+$/.test(s)) return undefined;
  const dbl = s.indexOf('::');
  if (dbl !== -1 && s.indexOf('::', dbl + 1) !== -1) return undefined;
  const parseGroups = (part: string): number[] | undefined => {
    if (part === '') return [];
    const groups = part.split(':');
    const out: number[] = [];
    for (let i = 0; i < groups.length; i++) {
      const g = groups[i]!;
      if (i === groups.length - 1 && g.includes('.')) {
        const v4 = parseIPv4Bytes(g);
        if (v4 === undefined) return undefined;
        out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
        continue;
      }
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  let groups: number[];
  if (dbl === -1) {
    const g = parseGroups(s);
    if (g === undefined || g.length !== 8) return undefined;
    groups = g;
  } else {
    const head = parseGroups(s.slice(0, dbl));
    const tail = parseGroups(s.slice(dbl + 2));
    if (head === undefined || tail === undefined) return undefined;
    // a '.'-quad may only end the address
    if (s.slice(0, dbl).includes('.')) return undefined;
    const missing = 8 - head.length - tail.length;
    if (missing < 1) return undefined;
    groups = [...head, ...new Array<number>(missing).fill(0), ...tail];
  }
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 0xff;
  });
  return out;
}

export function formatIp(bytes: Uint8Array): string {
  if (bytes.length === 4) return Array.from(bytes).join('.');
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i]! << 8) | bytes[i + 1]!);
  // RFC 5952 4.2: compress the longest run (first if tied) of two or more zero groups
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart === -1) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

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
