/**
 * The configuration payload in IKE_AUTH (RFC 7296 2.19, 3.15):
 *
 *   HDR, SK {IDi, AUTH, CP(CFG_REQUEST){INTERNAL_IP4_ADDRESS(), INTERNAL_IP4_DNS()}, SAi2, TSi, TSr}  -->
 *                 <--  HDR, SK {IDr, AUTH, CP(CFG_REPLY){INTERNAL_IP4_ADDRESS(a), INTERNAL_IP4_DNS(d)}, SAr2, TSi, TSr}
 *
 * The initiator asks for an address per family in `vips` (0.0.0.0 / :: = any, or a specific one); the responder
 * leases from the connection's pools and announces the pool's DNS servers.
 */
import { CfgType, ConfigAttributeType, PayloadType, type ConfigAttribute, type CpPayload, type Payload } from '../codec/types.js';
import type { IkeConnectionConfig } from '../config.js';
import { formatIdentity, type Identity } from '../identity.js';
import { formatIp, parseIp } from '../../net/ip-address.js';
import type { AddressPool } from '../pool.js';

const A = ConfigAttributeType;

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
  if (families.has(4)) attributes.push({ type: A.INTERNAL_IP4_DNS, value: new Uint8Array(0) });
  if (families.has(16)) attributes.push({ type: A.INTERNAL_IP6_DNS, value: new Uint8Array(0) });
  return { type: PayloadType.CP, critical: false, cfgType: CfgType.CFG_REQUEST, attributes };
}

/** Reads a CFG_REPLY: our virtual IPs and DNS servers. */
export function readCpReply(payloads: readonly Payload[]): { addresses: string[]; dns: string[] } {
  const cp = payloads.find((p): p is CpPayload => p.type === PayloadType.CP && p.cfgType === CfgType.CFG_REPLY);
  const addresses: string[] = [];
  const dns: string[] = [];
  for (const a of cp?.attributes ?? []) {
    if (a.type === A.INTERNAL_IP4_ADDRESS && a.value.length === 4) addresses.push(formatIp(a.value));
    else if (a.type === A.INTERNAL_IP6_ADDRESS && a.value.length === 17) addresses.push(formatIp(a.value.subarray(0, 16)));
    else if (a.type === A.INTERNAL_IP4_DNS && a.value.length === 4) dns.push(formatIp(a.value));
    else if (a.type === A.INTERNAL_IP6_DNS && a.value.length === 16) dns.push(formatIp(a.value));
  }
  return { addresses, dns };
}

/**
 * Responder: leases addresses for a CFG_REQUEST from the connection's pools. Returns the CFG_REPLY (or undefined
 * when nothing was requested) and the leased addresses; `failed` when an address was asked for and none could be
 * given (RFC 7296 3.10.1 INTERNAL_ADDRESS_FAILURE).
 */
export function answerCpRequest(
  req: readonly Payload[],
  conn: IkeConnectionConfig,
  pools: ReadonlyMap<string, AddressPool>,
  peer: Identity,
): { reply?: CpPayload; leased: { pool: AddressPool; address: string }[]; failed: boolean } {
  const cp = req.find((p): p is CpPayload => p.type === PayloadType.CP && p.cfgType === CfgType.CFG_REQUEST);
  if (!cp) return { leased: [], failed: false };
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
      leased.push({ pool, address: addr });
      const ip = parseIp(addr)!;
      attributes.push({ type, value: family === 4 ? ip : concat(ip, Uint8Array.of(128)) });
      for (const d of pool.config.dns) attributes.push({ type: d.length === 4 ? A.INTERNAL_IP4_DNS : A.INTERNAL_IP6_DNS, value: d });
      break;
    }
  }
  if (wanted > 0 && leased.length === 0) return { leased, failed: true };
  return { reply: { type: PayloadType.CP, critical: false, cfgType: CfgType.CFG_REPLY, attributes }, leased, failed: false };
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const o = new Uint8Array(a.length + b.length);
  o.set(a);
  o.set(b, a.length);
  return o;
}
