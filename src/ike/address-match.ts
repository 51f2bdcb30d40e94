/**
 * Matching a peer address against `local_addrs` / `remote_addrs` (strongSwan: addresses, FQDNs, CIDR subnets,
 * ranges, %any). Returns a score so the most specific connection wins: 0 no match, 1 %any, 2 subnet/range, 3 exact.
 */
import { parseIp } from '../net/ip-address.js';
import { compareAddr, prefixRange } from './traffic-selector.js';

export function addressMatches(list: readonly string[], address: string): number {
  const ip = parseIp(address);
  let best = 0;
  for (const raw of list.length ? list : ['%any']) {
    const entry = raw.trim();
    if (entry === '%any' || entry === '' || (entry === '%any4' && ip?.length === 4) || (entry === '%any6' && ip?.length === 16)) {
      best = Math.max(best, 1);
      continue;
    }
    if (!ip) {
      if (entry === address) best = Math.max(best, 3);
      continue;
    }
    const dash = entry.indexOf('-');
    const slash = entry.indexOf('/');
    if (slash > 0) {
      const base = parseIp(entry.slice(0, slash));
      const bits = Number(entry.slice(slash + 1));
      if (base && base.length === ip.length && Number.isInteger(bits)) {
        const r = prefixRange(base, bits);
        if (compareAddr(ip, r.start) >= 0 && compareAddr(ip, r.end) <= 0) best = Math.max(best, 2);
      }
    } else if (dash > 0) {
      const a = parseIp(entry.slice(0, dash));
      const b = parseIp(entry.slice(dash + 1));
      if (a && b && a.length === ip.length && compareAddr(ip, a) >= 0 && compareAddr(ip, b) <= 0) best = Math.max(best, 2);
    } else {
      const e = parseIp(entry);
      if (e && e.length === ip.length && compareAddr(e, ip) === 0) best = Math.max(best, 3);
    }
  }
  return best;
}
