/**
 * Virtual IP address pools for the configuration payload (RFC 7296 3.15, swanctl `pools`). Leases are kept per
 * peer identity, so a road warrior that reconnects gets its previous address back (strongSwan's behaviour).
 * A subnet leaves out its network and broadcast addresses, as strongSwan 5.9 does.
 */
import { formatIp, parseIp } from '../net/ip-address.js';
import { compareAddr, prefixRange } from './traffic-selector.js';

export interface AddressPoolConfig {
  readonly name: string;
  /** First and last address handed out (inclusive). */
  readonly first: Uint8Array;
  readonly last: Uint8Array;
  /** DNS servers announced with INTERNAL_IP4_DNS / INTERNAL_IP6_DNS. */
  readonly dns: readonly Uint8Array[];
  /**
   * The pool's other attributes (swanctl `nbns`, `netmask`, `subnet`), sent with every lease from this pool
   * whether or not the client asked for them, as strongSwan 5.9.8's vici pools do.
   */
  readonly nbns?: readonly Uint8Array[];
  readonly netmask?: readonly Uint8Array[];
  readonly subnets?: readonly PoolSubnet[];
}

/** A protected subnet (RFC 7296 3.15.2 INTERNAL_IP4_SUBNET / INTERNAL_IP6_SUBNET), network address masked. */
export interface PoolSubnet {
  readonly address: Uint8Array;
  readonly prefix: number;
}

/** swanctl pool keys beside `addrs` and `dns`, as written (lists of addresses or CIDR subnets). */
export interface PoolAttributeText {
  readonly nbns?: readonly string[];
  readonly netmask?: readonly string[];
  readonly subnet?: readonly string[];
}

export class PoolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PoolError';
  }
}

/** `10.3.0.0/24` (254 leases), `10.3.0.10-10.3.0.20`, or a single address. */
export function parsePool(name: string, addrs: string, dns: readonly string[] = [], attrs: PoolAttributeText = {}): AddressPoolConfig {
  const parseDns = dns.map((d) => parseIp(d) ?? fail(`pool ${name}: dns '${d}' is not an IP address`));
  const range = parseAddrs(name, addrs);
  const extra = parseAttributes(name, attrs);
  return { name, ...range, dns: parseDns, ...extra };
}

function parseAttributes(name: string, attrs: PoolAttributeText): Pick<AddressPoolConfig, 'nbns' | 'netmask' | 'subnets'> {
  const out: { nbns?: Uint8Array[]; netmask?: Uint8Array[]; subnets?: PoolSubnet[] } = {};
  if (attrs.nbns?.length) out.nbns = attrs.nbns.map((d) => parseIp(d.trim()) ?? fail(`pool ${name}: nbns '${d}' is not an IP address`));
  if (attrs.netmask?.length) out.netmask = attrs.netmask.map((m) => parseNetmask(name, m.trim()));
  if (attrs.subnet?.length) out.subnets = attrs.subnet.map((t) => parseSubnet(name, t.trim()));
  return out;
}

/** strongSwan takes any address as `netmask`; a mask that is not contiguous is a typo, so it is refused here. */
function parseNetmask(name: string, text: string): Uint8Array {
  const m = parseIp(text) ?? fail(`pool ${name}: netmask '${text}' is not an address like 255.255.255.0`);
  let seenZero = false;
  for (const byte of m)
    for (let bit = 7; bit >= 0; bit--) {
      const one = ((byte >> bit) & 1) === 1;
      if (one && seenZero) fail(`pool ${name}: netmask '${text}' is not contiguous (ones then zeros, like 255.255.255.0)`);
      if (!one) seenZero = true;
    }
  return m;
}

/** `10.1.0.0/16` (host bits are cleared, as strongSwan's host_create_from_subnet does); a bare address is a host. */
function parseSubnet(name: string, text: string): PoolSubnet {
  const slash = text.indexOf('/');
  const ip = parseIp(slash > 0 ? text.slice(0, slash) : text) ?? fail(`pool ${name}: subnet '${text}' is not a CIDR subnet like 10.1.0.0/16`);
  const prefix = slash > 0 ? Number(text.slice(slash + 1)) : ip.length * 8;
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > ip.length * 8 || (slash > 0 && !/^[0-9]+$/.test(text.slice(slash + 1))))
    fail(`pool ${name}: bad prefix in subnet '${text}'`);
  return { address: prefixRange(ip, prefix).start, prefix };
}

function parseAddrs(name: string, addrs: string): { first: Uint8Array; last: Uint8Array } {
  const s = addrs.trim();
  const dash = s.indexOf('-');
  if (dash > 0) {
    const a = parseIp(s.slice(0, dash).trim());
    const b = parseIp(s.slice(dash + 1).trim());
    if (!a || !b || a.length !== b.length || compareAddr(a, b) > 0) fail(`pool ${name}: bad range '${s}'`);
    return { first: a, last: b };
  }
  const slash = s.indexOf('/');
  const base = parseIp(slash > 0 ? s.slice(0, slash) : s) ?? fail(`pool ${name}: '${s}' is not an address, subnet or range`);
  if (slash < 0) return { first: base, last: base };
  const bits = Number(s.slice(slash + 1));
  if (!Number.isInteger(bits) || bits < 0 || bits > base.length * 8) fail(`pool ${name}: bad prefix in '${s}'`);
  const r = prefixRange(base, bits);
  if (base.length * 8 - bits >= 2) {
    increment(r.start, 1);
    increment(r.end, -1);
  }
  return { first: r.start, last: r.end };
}

function fail(msg: string): never {
  throw new PoolError(msg);
}

/** Adds `by` to the address in place, carrying (or borrowing) from the last byte up; wraps at the ends. */
function increment(a: Uint8Array, by: 1 | -1): void {
  for (let i = a.length - 1; i >= 0; i--) {
    // i is inside 0..length-1 by the loop bounds: the ?? 0 never applies.
    const v = (a[i] ?? 0) + by;
    a[i] = v & 0xff;
    if (v >= 0 && v <= 0xff) return;
  }
}

/** Allocation state of one pool. */
export class AddressPool {
  private readonly leases = new Map<string, string>(); // identity key -> address
  /** Addresses in use, with how many IKE SAs hold each (a reauthenticating peer holds its address twice). */
  private readonly online = new Map<string, number>();
  private cursor: Uint8Array;

  constructor(readonly config: AddressPoolConfig) {
    this.cursor = config.first.slice();
  }

  get family(): 4 | 6 {
    return this.config.first.length === 4 ? 4 : 6;
  }

  /**
   * Leases an address to `identity`: its previous one when free or when the peer asks for exactly that address
   * (a reauthentication keeps its address), else the next free one; undefined when the pool is exhausted.
   */
  acquire(identity: string, requested?: string): string | undefined {
    const prev = this.leases.get(identity);
    if (prev && (!this.online.has(prev) || prev === requested)) {
      this.take(prev);
      return prev;
    }
    const used = new Set(this.leases.values());
    const start = this.cursor.slice();
    for (;;) {
      const a = formatIp(this.cursor);
      const next = this.cursor.slice();
      if (compareAddr(next, this.config.last) >= 0) this.cursor = this.config.first.slice();
      else {
        increment(next, 1);
        this.cursor = next;
      }
      if (!used.has(a) && !this.online.has(a)) {
        this.leases.set(identity, a);
        this.take(a);
        return a;
      }
      if (compareAddr(this.cursor, start) === 0) break;
    }
    // Every address has a lease: reuse one whose owner is offline.
    for (const [id, a] of this.leases)
      if (!this.online.has(a)) {
        this.leases.delete(id);
        this.leases.set(identity, a);
        this.take(a);
        return a;
      }
    return undefined;
  }

  private take(a: string): void {
    this.online.set(a, (this.online.get(a) ?? 0) + 1);
  }

  release(address: string): void {
    const n = (this.online.get(address) ?? 0) - 1;
    if (n > 0) this.online.set(address, n);
    else this.online.delete(address);
  }

  /** Online / offline / size, as `swanctl --list-pools` reports them. */
  stats(): { size: number; online: number; offline: number } {
    const size = sizeOf(this.config.first, this.config.last);
    return { size, online: this.online.size, offline: this.leases.size - [...this.leases.values()].filter((a) => this.online.has(a)).length };
  }
}

/** Addresses in first..last inclusive: exact up to 2^48 (a larger IPv6 pool is counted by its low 48 bits only). */
function sizeOf(first: Uint8Array, last: Uint8Array): number {
  return low48(last) - low48(first) + 1;
}

function low48(a: Uint8Array): number {
  let n = 0;
  for (const byte of a.subarray(-6)) n = n * 256 + byte;
  return n;
}
