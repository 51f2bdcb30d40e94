/**
 * Traffic selectors (RFC 7296 section 3.13.1) and their narrowing (section 2.9).
 * A selector is an address range, an IP protocol (0 = any) and a port range, in one address family.
 */
import { formatIp, parseIp } from '../net/ip-address.js';

export const TS_IPV4_ADDR_RANGE = 7;
export const TS_IPV6_ADDR_RANGE = 8;

export interface TrafficSelector {
  readonly tsType: number; // TS_IPV4_ADDR_RANGE or TS_IPV6_ADDR_RANGE
  readonly ipProtocol: number; // 0 = any
  readonly startPort: number;
  readonly endPort: number;
  readonly startAddr: Uint8Array;
  readonly endAddr: Uint8Array;
}

/** A configured selector may be 'dynamic': the SA's own address (or virtual IP) fills it in at negotiation. */
export type ConfiguredTs = TrafficSelector | { readonly dynamic: true; readonly ipProtocol: number; readonly startPort: number; readonly endPort: number };

export class TrafficSelectorError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TrafficSelectorError';
  }
}

const PROTOCOLS: Record<string, number> = { icmp: 1, tcp: 6, udp: 17, icmpv6: 58, 'ipv6-icmp': 58, sctp: 132, gre: 47, esp: 50 };

/**
 * Parses strongSwan's `local_ts`/`remote_ts` forms: `10.0.0.0/24`, `10.0.0.1`, `10.0.0.1-10.0.0.9`, `::/0`,
 * `dynamic`, with an optional `[proto/port]` suffix (`[tcp/80]`, `[udp]`, `[/53]`, `[tcp/1000-2000]`, `[tcp/%any]`).
 */
export function parseTrafficSelector(text: string): ConfiguredTs {
  const s = text.trim();
  let base = s;
  let ipProtocol = 0;
  let startPort = 0;
  let endPort = 65535;
  const br = s.indexOf('[');
  if (br >= 0) {
    if (!s.endsWith(']')) throw new TrafficSelectorError(`traffic selector '${text}': missing ']'`);
    base = s.slice(0, br);
    const inner = s.slice(br + 1, -1);
    const [proto = '', port] = inner.split('/');
    if (proto !== '' && proto !== '%any') {
      const p = PROTOCOLS[proto.toLowerCase()] ?? (/^\d+$/.test(proto) ? Number(proto) : NaN);
      if (!(p >= 0 && p <= 255)) throw new TrafficSelectorError(`traffic selector '${text}': unknown protocol '${proto}'`);
      ipProtocol = p;
    }
    if (port !== undefined && port !== '' && port !== '%any') {
      const m = /^(\d+)(?:-(\d+))?$/.exec(port);
      if (!m) throw new TrafficSelectorError(`traffic selector '${text}': bad port '${port}'`);
      startPort = Number(m[1]);
      endPort = m[2] !== undefined ? Number(m[2]) : startPort;
      if (startPort > 65535 || endPort > 65535 || startPort > endPort)
        throw new TrafficSelectorError(`traffic selector '${text}': bad port range '${port}'`);
    }
  }
  base = base.trim();
  if (base === 'dynamic') return { dynamic: true, ipProtocol, startPort, endPort };
  const range = addressRange(base, text);
  return { tsType: range.start.length === 4 ? TS_IPV4_ADDR_RANGE : TS_IPV6_ADDR_RANGE, ipProtocol, startPort, endPort, startAddr: range.start, endAddr: range.end };
}

function addressRange(base: string, text: string): { start: Uint8Array; end: Uint8Array } {
  const dash = base.indexOf('-');
  if (dash > 0) {
    const a = parseIp(base.slice(0, dash).trim());
    const b = parseIp(base.slice(dash + 1).trim());
    if (!a || !b || a.length !== b.length || compareAddr(a, b) > 0)
      throw new TrafficSelectorError(`traffic selector '${text}': bad address range`);
    return { start: a, end: b };
  }
  const slash = base.indexOf('/');
  const addr = parseIp(slash >= 0 ? base.slice(0, slash) : base);
  if (!addr) throw new TrafficSelectorError(`traffic selector '${text}': '${base}' is not an address, subnet or range`);
  const bits = addr.length * 8;
  const prefix = slash >= 0 ? Number(base.slice(slash + 1)) : bits;
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > bits)
    throw new TrafficSelectorError(`traffic selector '${text}': bad prefix length`);
  return prefixRange(addr, prefix);
}

export function prefixRange(addr: Uint8Array, prefix: number): { start: Uint8Array; end: Uint8Array } {
  const start = addr.slice();
  const end = addr.slice();
  for (const [i, byte] of addr.entries()) {
    const keep = Math.max(0, Math.min(8, prefix - i * 8));
    const mask = keep === 0 ? 0 : (0xff << (8 - keep)) & 0xff;
    start[i] = byte & mask;
    end[i] = (byte & mask) | (~mask & 0xff);
  }
  return { start, end };
}

/** A selector covering exactly one host address (used for 'dynamic'). */
export function hostSelector(addr: Uint8Array, ipProtocol = 0, startPort = 0, endPort = 65535): TrafficSelector {
  return { tsType: addr.length === 4 ? TS_IPV4_ADDR_RANGE : TS_IPV6_ADDR_RANGE, ipProtocol, startPort, endPort, startAddr: addr, endAddr: addr };
}

/** Resolves 'dynamic' against the given host address(es). */
export function resolveConfigured(list: readonly ConfiguredTs[], hosts: readonly Uint8Array[]): TrafficSelector[] {
  const out: TrafficSelector[] = [];
  for (const c of list) {
    if ('dynamic' in c) for (const h of hosts) out.push(hostSelector(h, c.ipProtocol, c.startPort, c.endPort));
    else out.push(c);
  }
  return out;
}

/**
 * Orders addresses byte by byte in network order (negative: a first). Callers compare one family; should the
 * lengths differ, the shorter sorts first where it runs out, so the order stays total (never NaN).
 */
export function compareAddr(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i];
    const y = b[i];
    // Both are defined (i < n); the check narrows the types without an assertion.
    if (x !== y && x !== undefined && y !== undefined) return x - y;
  }
  return a.length - b.length;
}

/** The intersection of two selectors, or undefined when they do not overlap (RFC 7296 2.9 narrowing). */
export function intersect(a: TrafficSelector, b: TrafficSelector): TrafficSelector | undefined {
  if (a.tsType !== b.tsType) return undefined;
  if (a.ipProtocol !== 0 && b.ipProtocol !== 0 && a.ipProtocol !== b.ipProtocol) return undefined;
  const startAddr = compareAddr(a.startAddr, b.startAddr) >= 0 ? a.startAddr : b.startAddr;
  const endAddr = compareAddr(a.endAddr, b.endAddr) <= 0 ? a.endAddr : b.endAddr;
  if (compareAddr(startAddr, endAddr) > 0) return undefined;
  const startPort = Math.max(a.startPort, b.startPort);
  const endPort = Math.min(a.endPort, b.endPort);
  if (startPort > endPort) {
    // RFC 4301 OPAQUE ports (start 65535, end 0) only intersect with "any port".
    return undefined;
  }
  return { tsType: a.tsType, ipProtocol: a.ipProtocol || b.ipProtocol, startPort, endPort, startAddr, endAddr };
}

export function isSubset(inner: TrafficSelector, outer: TrafficSelector): boolean {
  const i = intersect(inner, outer);
  return i !== undefined && tsEquals(i, inner);
}

export function tsEquals(a: TrafficSelector, b: TrafficSelector): boolean {
  return (
    a.tsType === b.tsType && a.ipProtocol === b.ipProtocol && a.startPort === b.startPort && a.endPort === b.endPort &&
    compareAddr(a.startAddr, b.startAddr) === 0 && compareAddr(a.endAddr, b.endAddr) === 0
  );
}

/**
 * Responder-side narrowing (RFC 7296 2.9): the selectors the responder accepts are the intersections of what the
 * initiator proposed with what the responder's policy allows, keeping the proposal's order and dropping duplicates.
 * An empty result means TS_UNACCEPTABLE.
 */
export function narrow(proposed: readonly TrafficSelector[], allowed: readonly TrafficSelector[]): TrafficSelector[] {
  const out: TrafficSelector[] = [];
  for (const p of proposed)
    for (const a of allowed) {
      const i = intersect(p, a);
      if (i && !out.some((o) => tsEquals(o, i))) out.push(i);
    }
  return out;
}

/** Prints like strongSwan: `10.0.0.0/24`, `10.0.0.1/32[tcp/80]`, `10.1.0.1..10.1.0.9`. */
export function formatTrafficSelector(ts: TrafficSelector): string {
  const bits = ts.startAddr.length * 8;
  let prefix = -1;
  for (let p = 0; p <= bits; p++) {
    const r = prefixRange(ts.startAddr, p);
    if (compareAddr(r.start, ts.startAddr) === 0 && compareAddr(r.end, ts.endAddr) === 0) {
      prefix = p;
      break;
    }
  }
  let s = prefix >= 0 ? `${formatIp(ts.startAddr)}/${prefix}` : `${formatIp(ts.startAddr)}..${formatIp(ts.endAddr)}`;
  const anyPort = ts.startPort === 0 && ts.endPort === 65535;
  if (ts.ipProtocol !== 0 || !anyPort) {
    const proto = Object.entries(PROTOCOLS).find(([, v]) => v === ts.ipProtocol)?.[0] ?? String(ts.ipProtocol);
    const port = anyPort ? '' : ts.startPort === ts.endPort ? `/${ts.startPort}` : `/${ts.startPort}-${ts.endPort}`;
    s += `[${ts.ipProtocol === 0 ? '' : proto}${port}]`;
  }
  return s;
}
