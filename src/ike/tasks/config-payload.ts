/**
 * The configuration payload in IKE_AUTH (RFC 7296 2.19, 3.15):
 *
 *   HDR, SK {IDi, AUTH, CP(CFG_REQUEST){INTERNAL_IP4_ADDRESS(), INTERNAL_IP4_DNS(), INTERNAL_IP4_SUBNET()}, SAi2, TSi, TSr}  -->
 *      <--  HDR, SK {IDr, AUTH, CP(CFG_REPLY){INTERNAL_IP4_ADDRESS(a), INTERNAL_IP4_DNS(d), INTERNAL_IP4_NBNS(n),
 *                                              INTERNAL_IP4_NETMASK(m), INTERNAL_IP4_SUBNET(s/m)...}, SAr2, TSi, TSr}
 *
 * The initiator asks for an address per family in `vips` (0.0.0.0 / :: = any, or a specific one), the DNS servers,
 * and the protected subnets (RFC 7296 3.15.2, for split tunnels). The responder leases from the connection's pools
 * and sends each leasing pool's attributes (dns, nbns, netmask, subnet) whether asked or not, as strongSwan 5.9.8's
 * vici pools do. A client that asks for INTERNAL_IP4/6_SUBNET of a family no pool has a `subnet` for gets the
 * gateway's local_ts narrowed to the TSr of its request, as CIDR subnets (RFC 7296 3.15.2's example reply).
 */
import { CfgType, ConfigAttributeType, PayloadType, type ConfigAttribute, type CpPayload, type Payload, type TsPayload } from '../codec/types.js';
import type { IkeConnectionConfig } from '../config.js';
import type { IkeEvent } from '../events.js';
import { formatIdentity, type Identity } from '../identity.js';
import { formatIp, parseIp } from '../../net/ip-address.js';
import type { AddressPool, PoolSubnet } from '../pool.js';
import { narrow, prefixRange, TS_IPV4_ADDR_RANGE, TS_IPV6_ADDR_RANGE, type TrafficSelector } from '../traffic-selector.js';

const A = ConfigAttributeType;
/**
 * RFC 4306 3.15.1's INTERNAL_IP6_NETMASK (9) and INTERNAL_IP6_NBNS (11), left out of RFC 7296 (its table marks
 * them RESERVED) but still sent by strongSwan 5.9.8 for an IPv6 `netmask` / `nbns` in a pool; read and sent the same.
 */
const INTERNAL_IP6_NETMASK = 9;
const INTERNAL_IP6_NBNS = 11;

/** Attribute names as strongSwan logs them ("building INTERNAL_IP4_NBNS attribute"; an unknown type as "(28676)"). */
const NAMES = new Map<number, string>([
  ...Object.entries(ConfigAttributeType).map(([k, v]): [number, string] => [v, k]),
  [INTERNAL_IP6_NETMASK, 'INTERNAL_IP6_NETMASK'],
  [INTERNAL_IP6_NBNS, 'INTERNAL_IP6_NBNS'],
]);

export function attributeName(type: number): string {
  return NAMES.get(type) ?? `(${type})`;
}

/** `current`: the virtual IPs we hold (reauthentication asks for them again). */
export function buildCpRequest(conn: IkeConnectionConfig, current: readonly string[] = []): CpPayload | undefined {
  if (conn.vips.length === 0) return undefined;
  const attributes: ConfigAttribute[] = [];
  const families = new Set<number>();
  const wanted = conn.vips.map((v) => current.find((c) => (parseIp(c)?.length ?? 0) === (parseIp(v)?.length ?? -1)) ?? v);
  for (const v of wanted) {
    const ip = parseIp(v);
    if (!ip) continue;
    const any = ip.every((b) => b === 0);
    if (ip.length === 4) attributes.push({ type: A.INTERNAL_IP4_ADDRESS, value: any ? new Uint8Array(0) : ip });
    else attributes.push({ type: A.INTERNAL_IP6_ADDRESS, value: any ? new Uint8Array(0) : concat(ip, Uint8Array.of(128)) });
    families.add(ip.length);
  }
  // RFC 7296 3.15.2: an empty INTERNAL_IP4/6_SUBNET asks for the protected subnets (split tunnel routes); a
  // strongSwan gateway ignores the request and sends its pools' `subnet` regardless.
  if (families.has(4)) attributes.push({ type: A.INTERNAL_IP4_DNS, value: new Uint8Array(0) }, { type: A.INTERNAL_IP4_SUBNET, value: new Uint8Array(0) });
  if (families.has(16)) attributes.push({ type: A.INTERNAL_IP6_DNS, value: new Uint8Array(0) }, { type: A.INTERNAL_IP6_SUBNET, value: new Uint8Array(0) });
  return { type: PayloadType.CP, critical: false, cfgType: CfgType.CFG_REQUEST, attributes };
}

/** What a CFG_REPLY gave us: the fields of the `vip-assigned` event, and what was malformed or not understood. */
export interface CpReply {
  readonly addresses: string[];
  readonly dns: string[];
  /** NetBIOS name servers (INTERNAL_IP4_NBNS, INTERNAL_IP6_NBNS). */
  readonly nbns: string[];
  /** INTERNAL_IP4_NETMASK, e.g. 255.255.255.0 (RFC 7296 3.15.1: one, only with an INTERNAL_IP4_ADDRESS). */
  readonly netmask?: string;
  /** Protected subnets in CIDR form, e.g. 10.1.0.0/16 (INTERNAL_IP4_SUBNET / INTERNAL_IP6_SUBNET): split tunnel routes. */
  readonly subnets: string[];
  /** One line per attribute that was skipped, naming it and why (for the log; never fatal). */
  readonly problems: string[];
}

/** Reads a CFG_REPLY: our virtual IPs, DNS and NBNS servers, netmask and protected subnets (RFC 7296 3.15.1). */
export function readCpReply(payloads: readonly Payload[]): CpReply {
  const cp = payloads.find((p): p is CpPayload => p.type === PayloadType.CP && p.cfgType === CfgType.CFG_REPLY);
  const out = { addresses: [] as string[], dns: [] as string[], nbns: [] as string[], netmask: undefined as string | undefined, subnets: [] as string[], problems: [] as string[] };
  const bad = (a: ConfigAttribute, why: string) => out.problems.push(`ignoring ${attributeName(a.type)} attribute of ${a.value.length} bytes in CFG_REPLY: ${why}`);
  for (const a of cp?.attributes ?? []) {
    const v = a.value;
    switch (a.type) {
      case A.INTERNAL_IP4_ADDRESS:
        if (v.length === 4) out.addresses.push(formatIp(v));
        else bad(a, 'expected a 4-byte address');
        break;
      case A.INTERNAL_IP6_ADDRESS:
        if (v.length === 17) out.addresses.push(formatIp(v.subarray(0, 16)));
        else bad(a, 'expected a 16-byte address and a prefix length');
        break;
      case A.INTERNAL_IP4_DNS:
      case A.INTERNAL_IP4_NBNS:
        if (v.length === 4) (a.type === A.INTERNAL_IP4_DNS ? out.dns : out.nbns).push(formatIp(v));
        else bad(a, 'expected a 4-byte address');
        break;
      case A.INTERNAL_IP6_DNS:
      case INTERNAL_IP6_NBNS:
        if (v.length === 16) (a.type === A.INTERNAL_IP6_DNS ? out.dns : out.nbns).push(formatIp(v));
        else bad(a, 'expected a 16-byte address');
        break;
      case A.INTERNAL_IP4_NETMASK: {
        const prefix = v.length === 4 ? maskPrefix(v) : undefined;
        if (prefix === undefined) bad(a, 'expected a 4-byte contiguous netmask');
        else if (out.netmask !== undefined) bad(a, 'only one netmask is allowed (RFC 7296 3.15.1)');
        else out.netmask = formatIp(v);
        break;
      }
      case A.INTERNAL_IP4_SUBNET: {
        // RFC 7296 3.15.1: four octets address, four octets netmask.
        const prefix = v.length === 8 ? maskPrefix(v.subarray(4)) : undefined;
        if (prefix === undefined) bad(a, 'expected a 4-byte address and a 4-byte contiguous netmask');
        else addUnique(out.subnets, cidr(v.subarray(0, 4), prefix));
        break;
      }
      case A.INTERNAL_IP6_SUBNET: {
        // RFC 7296 3.15.1: sixteen octets address, one octet prefix length.
        const prefix = v[16];
        if (v.length !== 17 || prefix === undefined || prefix > 128) bad(a, 'expected a 16-byte address and a prefix length of at most 128');
        else addUnique(out.subnets, cidr(v.subarray(0, 16), prefix));
        break;
      }
      default:
        // Anything else (DHCP, APPLICATION_VERSION, vendor attributes...) is not used by cygnet as a client.
        if (v.length > 0) out.problems.push(`ignoring ${attributeName(a.type)} attribute in CFG_REPLY: not used by cygnet`);
    }
  }
  const { netmask, ...rest } = out;
  return netmask === undefined ? rest : { ...rest, netmask };
}

/** The log line's tail after "installing new virtual IP ": `10.3.0.1, DNS 10.1.0.53, NBNS 10.1.0.54, subnets 10.1.0.0/16, netmask 255.255.255.0`. */
export function describeCpReply(got: CpReply): string {
  // DNS first, right after the addresses, as the line read before NBNS, subnets and netmask were added.
  const parts = [got.addresses.join(', ')];
  if (got.dns.length) parts.push(`DNS ${got.dns.join(', ')}`);
  if (got.nbns.length) parts.push(`NBNS ${got.nbns.join(', ')}`);
  if (got.subnets.length) parts.push(`subnets ${got.subnets.join(', ')}`);
  if (got.netmask !== undefined) parts.push(`netmask ${got.netmask}`);
  return parts.join(', ');
}

/** The `vip-assigned` event for a CFG_REPLY (the driver adds the addresses and routes the split subnets). */
export function vipAssignedEvent(ikeSaId: number, got: CpReply): Extract<IkeEvent, { type: 'vip-assigned' }> {
  const { problems: _problems, ...fields } = got;
  return { type: 'vip-assigned', ikeSaId, ...fields };
}

/**
 * Responder: leases addresses for a CFG_REQUEST from the connection's pools. Returns the CFG_REPLY (or undefined
 * when nothing was requested), the leased addresses and the names of the attributes built (strongSwan logs
 * "building X attribute" at ike level 2); `failed` when an address was asked for and none could be given
 * (RFC 7296 3.10.1 INTERNAL_ADDRESS_FAILURE).
 */
export function answerCpRequest(
  req: readonly Payload[],
  conn: IkeConnectionConfig,
  pools: ReadonlyMap<string, AddressPool>,
  peer: Identity,
): { reply?: CpPayload; leased: { pool: AddressPool; address: string }[]; failed: boolean; built: string[] } {
  const cp = req.find((p): p is CpPayload => p.type === PayloadType.CP && p.cfgType === CfgType.CFG_REQUEST);
  if (!cp) return { leased: [], failed: false, built: [] };
  const attributes: ConfigAttribute[] = [];
  const leased: { pool: AddressPool; address: string }[] = [];
  let wanted = 0;
  for (const family of [4, 6] as const) {
    const type = family === 4 ? A.INTERNAL_IP4_ADDRESS : A.INTERNAL_IP6_ADDRESS;
    if (!cp.attributes.some((a) => a.type === type)) continue;
    wanted++;
    const asked = cp.attributes.find((a) => a.type === type && a.value.length >= (family === 4 ? 4 : 16));
    const requested = asked ? formatIp(asked.value.subarray(0, family === 4 ? 4 : 16)) : undefined;
    for (const name of conn.pools) {
      const pool = pools.get(name);
      if (!pool || pool.family !== family) continue;
      const addr = pool.acquire(formatIdentity(peer), requested);
      if (!addr) continue;
      const ip = parseIp(addr);
      if (!ip) {
        pool.release(addr);
        continue;
      }
      leased.push({ pool, address: addr });
      attributes.push({ type, value: family === 4 ? ip : concat(ip, Uint8Array.of(128)) });
      attributes.push(...poolAttributes(pool));
      break;
    }
  }
  if (wanted > 0 && leased.length === 0) return { leased, failed: true, built: [] };
  attributes.push(...derivedSubnets(cp, req, conn, attributes));
  return {
    reply: { type: PayloadType.CP, critical: false, cfgType: CfgType.CFG_REPLY, attributes },
    leased,
    failed: false,
    built: attributes.map((a) => attributeName(a.type)),
  };
}

/** A pool's dns, nbns, netmask and subnet values, each attribute type chosen by the value's family (as strongSwan). */
function poolAttributes(pool: AddressPool): ConfigAttribute[] {
  const c = pool.config;
  const out: ConfigAttribute[] = [];
  for (const d of c.dns) out.push({ type: d.length === 4 ? A.INTERNAL_IP4_DNS : A.INTERNAL_IP6_DNS, value: d });
  for (const n of c.nbns ?? []) out.push({ type: n.length === 4 ? A.INTERNAL_IP4_NBNS : INTERNAL_IP6_NBNS, value: n });
  for (const m of c.netmask ?? []) out.push({ type: m.length === 4 ? A.INTERNAL_IP4_NETMASK : INTERNAL_IP6_NETMASK, value: m });
  for (const s of c.subnets ?? []) out.push(subnetAttribute(s));
  return out;
}

function subnetAttribute(s: PoolSubnet): ConfigAttribute {
  if (s.address.length === 4) return { type: A.INTERNAL_IP4_SUBNET, value: concat(s.address, prefixMask(s.prefix)) };
  return { type: A.INTERNAL_IP6_SUBNET, value: concat(s.address, Uint8Array.of(s.prefix)) };
}

/**
 * RFC 7296 3.15.2: the client asked for the protected subnets of a family and no leasing pool configured any: the
 * connection's local_ts (its CHILD configs, `dynamic` left out: that is the gateway's own address, which IKE must
 * not be routed into the tunnel for) narrowed to the TSr of the request, as CIDR subnets. A range covering the
 * whole family says "everything", which is a full tunnel, not a split: nothing is sent for it.
 */
function derivedSubnets(cp: CpPayload, req: readonly Payload[], conn: IkeConnectionConfig, sent: readonly ConfigAttribute[]): ConfigAttribute[] {
  const out: ConfigAttribute[] = [];
  const tsr = req.find((p): p is TsPayload => p.type === PayloadType.TSr)?.selectors;
  for (const [type, tsType] of [
    [A.INTERNAL_IP4_SUBNET, TS_IPV4_ADDR_RANGE],
    [A.INTERNAL_IP6_SUBNET, TS_IPV6_ADDR_RANGE],
  ] as const) {
    if (!cp.attributes.some((a) => a.type === type) || sent.some((a) => a.type === type)) continue;
    let local: TrafficSelector[] = [];
    for (const child of conn.children) for (const ts of child.localTs) if (!('dynamic' in ts) && ts.tsType === tsType) local.push(ts);
    if (tsr) local = narrow(tsr, local);
    const seen: string[] = [];
    for (const ts of local) {
      if (isWholeFamily(ts)) continue;
      for (const s of rangeToCidrs(ts.startAddr, ts.endAddr)) {
        const a = subnetAttribute(s);
        if (addUnique(seen, cidr(s.address, s.prefix))) out.push(a);
      }
    }
  }
  return out;
}

function isWholeFamily(ts: TrafficSelector): boolean {
  return ts.startAddr.every((b) => b === 0) && ts.endAddr.every((b) => b === 0xff);
}

/** The smallest list of CIDR blocks covering start..end (inclusive), e.g. 10.0.0.1-10.0.0.6 -> .1/32 .2/31 .4/31 .6/32. */
export function rangeToCidrs(start: Uint8Array, end: Uint8Array): PoolSubnet[] {
  const bits = start.length * 8;
  const toBig = (a: Uint8Array) => a.reduce((n, b) => (n << 8n) | BigInt(b), 0n);
  const fromBig = (n: bigint) => {
    const o = new Uint8Array(start.length);
    for (let i = o.length - 1; i >= 0; i--, n >>= 8n) o[i] = Number(n & 0xffn);
    return o;
  };
  const out: PoolSubnet[] = [];
  let lo = toBig(start);
  const hi = toBig(end);
  while (lo <= hi) {
    // The largest block aligned at lo that stays inside lo..hi.
    let size = 0;
    while (size < bits && (lo & ((1n << BigInt(size + 1)) - 1n)) === 0n && lo + (1n << BigInt(size + 1)) - 1n <= hi) size++;
    out.push({ address: fromBig(lo), prefix: bits - size });
    lo += 1n << BigInt(size);
  }
  return out;
}

/** 24 for 255.255.255.0; undefined when the ones are not contiguous. */
function maskPrefix(mask: Uint8Array): number | undefined {
  let prefix = 0;
  let zero = false;
  for (const byte of mask)
    for (let bit = 7; bit >= 0; bit--) {
      if (((byte >> bit) & 1) === 1) {
        if (zero) return undefined;
        prefix++;
      } else zero = true;
    }
  return prefix;
}

function prefixMask(prefix: number): Uint8Array {
  return prefixRange(new Uint8Array(4).fill(0xff), prefix).start;
}

/** `10.1.0.0/16`: the address masked to its prefix (a host part from the peer is not trusted). */
function cidr(addr: Uint8Array, prefix: number): string {
  return `${formatIp(prefixRange(addr, prefix).start)}/${prefix}`;
}

function addUnique(list: string[], s: string): boolean {
  if (list.includes(s)) return false;
  list.push(s);
  return true;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const o = new Uint8Array(a.length + b.length);
  o.set(a);
  o.set(b, a.length);
  return o;
}
