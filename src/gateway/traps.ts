/**
 * Trap policies (start_action/dpd_action/close_action = trap, vici install) and their ACQUIRE queues, for the
 * gateway core (gateway.ts): an SPD entry with no SA (RFC 4301 5.2's "no SA yet") makes the engine report an
 * ACQUIRE; the connection is initiated once per child and the packets wait in a bounded queue (issue 7) that is
 * sent once the CHILD SA is up, or dropped, counted and logged when it fails.
 */
import type { IkeConnectionConfig } from '../ike/config.js';
import { compareAddr, type TrafficSelector } from '../ike/traffic-selector.js';
import type { EspEngine, PacketRef } from '../esp/engine.js';
import type { EspSelector } from '../esp/selector.js';
import type { ChildRef, GatewayLog, GatewayResolver, GatewayRoutes } from './contracts.js';
import { RateLimitedLog } from './rate-limit.js';
import { isDnsName } from './remote-address.js';
import { ReqidAllocator } from './reqids.js';

/** Packets held per trapped CHILD SA while it is negotiated (issue 7: "a bounded queue"). */
export const TRAP_QUEUE_LIMIT = 64;
/** Priority of trap policies in the engine's SPD: installed SAs' policies (lower numbers) run first. */
const TRAP_POLICY_PRIORITY = 100;

interface TrapPolicy {
  readonly conn: string;
  readonly child: string;
  readonly local: readonly TrafficSelector[];
  readonly remote: readonly TrafficSelector[];
  readonly policyId: number;
}

/** What the trap table needs from the gateway core. */
export interface TrapHost {
  connections(): readonly IkeConnectionConfig[];
  readonly reqids: ReqidAllocator;
  readonly engine: EspEngine;
  readonly routes: GatewayRoutes | undefined;
  readonly resolver: GatewayResolver | undefined;
  readonly counters: { trapQueueDropped: number; trapUnhandled: number };
  readonly log: GatewayLog;
  /** Whether the IKE SA with this id still exists (a map lookup: runs for every packet queued). */
  ikeSaExists(id: number): boolean;
  /** Brings the child up for an ACQUIRE (sets `negotiating`); throws when it cannot. */
  initiate(conn: string, child: string, now: number): void;
  /** Seals and sends packets (the outbound ESP pipeline). */
  send(refs: readonly PacketRef[], now: number): void;
}

export class TrapPolicies {
  /** Trap policies by reqid. */
  private readonly byReqid = new Map<number, TrapPolicy>();
  /** Packets that triggered (or followed) an ACQUIRE, per trapped conn/child, until the CHILD SA is up. */
  private readonly queue = new Map<string, Uint8Array[]>();
  /** Children (conn\0child) whose CHILD SA is being negotiated, with their IKE SA's id: one ACQUIRE each. */
  readonly negotiating = new Map<string, number>();
  /** Log lines about trapped packets that cannot be handled: the first of a kind, then rate limited. */
  private readonly trapLog = new RateLimitedLog(10_000);

  constructor(private readonly host: TrapHost) {}

  /** Trap policies installed: connection, child, reqid and the selectors of its config. */
  list(): { conn: string; child: string; reqid: number; local: readonly TrafficSelector[]; remote: readonly TrafficSelector[] }[] {
    return [...this.byReqid].map(([reqid, t]) => ({ conn: t.conn, child: t.child, reqid, local: t.local, remote: t.remote }));
  }

  /** The reqid of the trap of conn/child, if there is one (an SA of a trapped child takes it, as strongSwan's acquire). */
  reqidOf(conn: string, child: string): number | undefined {
    for (const [reqid, t] of this.byReqid) if (t.conn === conn && t.child === child) return reqid;
    return undefined;
  }

  /** Packets waiting in the ACQUIRE queue of a trapped child. */
  queuedFor(conn: string, child: string): number {
    return this.queue.get(`${conn}\0${child}`)?.length ?? 0;
  }

  /** A trap policy (start_action/dpd_action/close_action = trap, vici install): protect with no SA -> ACQUIRE -> initiate. */
  install({ conn, child }: ChildRef): boolean {
    if ([...this.byReqid.values()].some((t) => t.conn === conn && t.child === child)) return true;
    const h = this.host;
    const cfg = h.connections().find((x) => x.name === conn);
    const c = cfg?.children.find((x) => x.name === child);
    if (!c) return false;
    // 'dynamic' needs the SA's address; only fully configured selectors can be trapped before an SA exists.
    const local = c.localTs.filter((t): t is TrafficSelector => !('dynamic' in t));
    const remote = c.remoteTs.filter((t): t is TrafficSelector => !('dynamic' in t));
    if (local.length === 0 || remote.length === 0) {
      h.log('cfg', 1, `'${conn}' child '${child}': trap needs explicit local_ts and remote_ts, not trapped`);
      return false;
    }
    const reqid = h.reqids.acquire(ReqidAllocator.key(conn, child, local, remote));
    const policyId = h.engine.installPolicy({ local: local as EspSelector[], remote: remote as EspSelector[], reqid, priority: TRAP_POLICY_PRIORITY });
    this.byReqid.set(reqid, { conn, child, local, remote, policyId });
    // The peer's address keeps a selector that covers it out of the TUN routes; a remote_addrs name counts with
    // the address it resolves to (resolved before start by the driver).
    const remoteAddrs = cfg?.remoteAddrs ?? [];
    const named = remoteAddrs.find(isDnsName);
    const peer = remoteAddrs.find((a) => /^[0-9a-fA-F:.]+$/.test(a)) ?? (named !== undefined ? h.resolver?.lookup(named) : undefined);
    h.routes?.trapUp(`${conn}/${child}`, local, remote, peer);
    h.log('cfg', 1, `installed trap policy for '${conn}' child '${child}'`);
    return true;
  }

  /** vici uninstall: removes the trap policy of `child` (of `conn`, if given). False when there is none. */
  uninstall(child: string, conn?: string): boolean {
    let found = false;
    for (const [reqid, t] of [...this.byReqid])
      if (t.child === child && (conn === undefined || t.conn === conn)) {
        this.remove(reqid, t);
        found = true;
      }
    return found;
  }

  /** A reload removed or changed these connections: their traps go (reinstalled from the new config). */
  removeConnections(conns: ReadonlySet<string>): void {
    for (const [reqid, t] of [...this.byReqid]) if (conns.has(t.conn)) this.remove(reqid, t);
  }

  private remove(reqid: number, t: TrapPolicy): void {
    this.host.engine.removePolicy(t.policyId);
    this.byReqid.delete(reqid);
    this.host.reqids.release(reqid);
    this.host.routes?.trapDown(`${t.conn}/${t.child}`);
  }

  /**
   * ACQUIRE for a trap policy (RFC 4301 5.2's "no SA yet"): initiate the connection unless an IKE SA for it
   * exists already, and keep the packet in a bounded queue that is sent once the CHILD SA is up.
   */
  acquire(dst: Uint8Array, now: number, reqid: number | undefined, packet: Uint8Array): void {
    const h = this.host;
    const byReqid = reqid !== undefined ? this.byReqid.get(reqid) : undefined;
    for (const t of byReqid ? [byReqid] : this.byReqid.values()) {
      if (!byReqid && !t.remote.some((ts) => ts.startAddr.length === dst.length && compareAddr(dst, ts.startAddr) >= 0 && compareAddr(dst, ts.endAddr) <= 0)) continue;
      const key = `${t.conn}\0${t.child}`;
      const q = this.queue.get(key) ?? [];
      if (q.length < TRAP_QUEUE_LIMIT) q.push(packet.slice());
      else {
        h.counters.trapQueueDropped++;
        this.trapLog.note(`full\0${key}`, now, (n) => h.log('knl', 1, `'${t.conn}' child '${t.child}': ${TRAP_QUEUE_LIMIT} packets already wait for its CHILD SA, dropping more${n ? ` (${n} more since the last line)` : ''}`));
      }
      this.queue.set(key, q);
      // One ACQUIRE per child: later packets only queue while its CHILD SA is negotiated.
      const pending = this.negotiating.get(key);
      // (A map lookup, not listSas(): this runs for every packet queued meanwhile.)
      if (pending !== undefined && h.ikeSaExists(pending)) return;
      h.log('knl', 1, `acquire for '${t.conn}' child '${t.child}' (start_action = trap): initiating`);
      try {
        h.initiate(t.conn, t.child, now);
      } catch (e) {
        this.negotiating.delete(key);
        this.unhandled(key, q.length, now, `cannot initiate '${t.conn}': ${e instanceof Error ? e.message : String(e)}`);
        this.queue.delete(key);
      }
      return;
    }
    // A packet the engine held for a trap that is gone (uninstalled meanwhile), or for an SA policy whose SA went.
    this.unhandled('no-trap', 1, now, `no trap policy for a packet to ${dstText(dst)} any more`);
  }

  /** Packets of a trap that cannot be handled: counted, and logged once per kind (then rate limited). */
  private unhandled(kind: string, packets: number, now: number, why: string): void {
    this.host.counters.trapUnhandled += packets;
    this.trapLog.note(kind, now, (n) => this.host.log('knl', 1, `dropped ${packets} packet(s) that hit a trap: ${why}${n ? ` (${n} more such since the last line)` : ''}`));
  }

  /** The CHILD SA a trap waited for is up: send what queued meanwhile, in order. */
  release(conn: string | undefined, child: string, now: number): void {
    if (conn === undefined) return;
    const key = `${conn}\0${child}`;
    const q = this.queue.get(key);
    if (!q) return;
    this.queue.delete(key);
    this.host.log('knl', 2, `sending ${q.length} packet(s) queued for '${conn}' child '${child}'`);
    this.host.send(q.map((p) => ({ buffer: p, offset: 0, length: p.length })), now);
  }

  /** The connection (or one child of it) failed: packets waiting for it are dropped, counted and logged. */
  drop(conn: string, child?: string, why = 'its IKE_SA went down', now = 0): void {
    for (const [key, q] of [...this.queue])
      if (child === undefined ? key.startsWith(`${conn}\0`) : key === `${conn}\0${child}`) {
        this.host.counters.trapQueueDropped += q.length;
        this.queue.delete(key);
        this.negotiating.delete(key);
        this.unhandled(`failed\0${key}`, q.length, now, `'${conn}' child '${key.slice(conn.length + 1)}' not established (${why})`);
      }
  }

  /** The IKE SA `id` went: children it was negotiating may ACQUIRE again. */
  forgetIke(id: number): void {
    for (const [key, ikeId] of [...this.negotiating]) if (ikeId === id) this.negotiating.delete(key);
  }
}

function dstText(dst: Uint8Array): string {
  if (dst.length === 4) return dst.join('.');
  const parts: string[] = [];
  for (let i = 0; i + 1 < dst.length; i += 2) parts.push(((dst[i]! << 8) | dst[i + 1]!).toString(16));
  return parts.join(':');
}
