/** Transport addresses of the simulated network: an IPv4/IPv6 address string and a UDP port. */
import { formatIp, parseIp } from '../net/ip-address.js';
import { SimError } from './errors.js';

export interface SimAddress {
  readonly address: string;
  readonly port: number;
}

const canonicalCache = new Map<string, string>();

/** Canonical text of an IP address (so '2001:DB8:0::1' and '2001:db8::1' are one host). */
export function canonicalHost(address: string): string {
  let c = canonicalCache.get(address);
  if (c === undefined) {
    const b = parseIp(address);
    if (!b) throw new SimError('BAD_ADDRESS', `'${address}' is not an IPv4 or IPv6 address`);
    c = formatIp(b);
    if (canonicalCache.size > 10_000) canonicalCache.clear();
    canonicalCache.set(address, c);
  }
  return c;
}

export function canonicalAddress(a: SimAddress): SimAddress {
  if (!Number.isInteger(a.port) || a.port < 0 || a.port > 65535) {
    throw new SimError('BAD_ADDRESS', `port ${a.port} of ${a.address} is not an integer in 0..65535`);
  }
  const address = canonicalHost(a.address);
  return address === a.address ? a : { address, port: a.port };
}

/** Map key for an address; expects canonical input. IPv6 in brackets as in URLs. */
export function addressKey(a: SimAddress): string {
  return a.address.includes(':') ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
}

export function sameAddress(a: SimAddress, b: SimAddress): boolean {
  return a.port === b.port && canonicalHost(a.address) === canonicalHost(b.address);
}
