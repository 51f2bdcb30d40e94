/**
 * RADIUS accounting (RFC 2866) for IKE SAs, as strongSwan's eap_radius_accounting.c: an Accounting-Request Start
 * when the IKE SA is up, Interim-Update every `accounting_interval` (or the server's Acct-Interim-Interval), and
 * Stop when it goes down, each with Acct-Session-Id "<prefix>-<IKE SA unique id>" (prefix: the daemon's start time
 * in seconds), User-Name (the EAP identity), the NAS/station attributes of src/radius/eap-server.ts and
 * Framed-IP-Address for each virtual IP; Interim and Stop add the traffic counters, Acct-Session-Time and (Stop)
 * Acct-Terminate-Cause (User-Request unless a cause was set: Session-Timeout for an expired SA, Lost-Service when
 * the peer stopped answering, as strongSwan's alert hook).
 *
 * The daemon drives it (src/daemon/radius-accounting-wiring.ts): start() on ike-up, interim() for each id dueInterims(now)
 * returns (poll at nextInterim()), stop() on ike-down, each with the IKE SA's summed CHILD SA counters.
 * Direction as strongSwan: Output = sent to the peer (our outbound ESP), Input = received from it.
 */
import type { RadiusClient, RadiusLog } from './client.js';
import { AcctStatus, Attr, RadiusCode, TerminateCause } from './constants.js';
import { sessionAttributes, type RadiusSessionContext } from './eap-server.js';
import { ipv4Attr, octetsAttr, textAttr, u32Attr, type RadiusAttribute } from './packet.js';

/** The counters of an IKE SA (all its CHILD SAs, rekeyed ones included), since it came up. */
export interface TrafficCounters {
  /** Bytes received from the peer (Acct-Input-Octets + Gigawords). */
  readonly bytesIn: number;
  /** Bytes sent to the peer (Acct-Output-Octets + Gigawords). */
  readonly bytesOut: number;
  readonly packetsIn: number;
  readonly packetsOut: number;
}

export interface AccountingSessionInfo extends RadiusSessionContext {
  readonly ikeSaUniqueId: number;
  /** The peer's EAP identity (or IKE identity): User-Name. */
  readonly userName: string;
  /** Virtual IPs assigned to the peer: one Framed-IP-Address each (IPv4). */
  readonly virtualIps?: readonly string[];
  /** Class attributes of the Access-Accept, echoed with accounting_send_class (RFC 2865 5.25). */
  readonly classes?: readonly Uint8Array[];
  /** The server's Acct-Interim-Interval (seconds), overriding accounting_interval. */
  readonly interimIntervalS?: number;
}

export interface AccountingResult {
  readonly ok: boolean;
  /** Why not: no answer (servers named) or an answer that is not an Accounting-Response. */
  readonly reason?: string;
}

export type TerminateCauseValue = (typeof TerminateCause)[keyof typeof TerminateCause];

interface Entry {
  info: AccountingSessionInfo;
  readonly sessionId: string;
  readonly createdAt: number;
  intervalMs: number;
  nextInterimAt: number | undefined;
  cause: TerminateCauseValue;
}

export interface RadiusAccountingOptions {
  readonly client: RadiusClient;
  /** Acct-Session-Id prefix: strongSwan uses the time the plugin loaded, in seconds since the epoch. */
  readonly sessionPrefix: number;
  /** accounting_interval in ms (0: none unless the server asks). */
  readonly intervalMs?: number;
  /** accounting_send_class. */
  readonly sendClass?: boolean;
  /** station_id_with_port. */
  readonly stationIdWithPort?: boolean;
  readonly log?: RadiusLog;
}

/** RFC 2866 5.3/5.4 with RFC 2869 5.1/5.2: a 64-bit count as Octets (low 32 bits) and Gigawords (the rest). */
function octetAttrs(octets: number, gigawords: number, total: number): RadiusAttribute[] {
  const n = Math.max(0, Math.floor(total));
  const high = Math.floor(n / 2 ** 32);
  const out = [u32Attr(octets, n % 2 ** 32)];
  if (high > 0) out.push(u32Attr(gigawords, high));
  return out;
}

export class RadiusAccounting {
  private readonly sessions = new Map<number, Entry>();
  private readonly log: RadiusLog;

  constructor(private readonly opts: RadiusAccountingOptions) {
    this.log = opts.log ?? (() => {});
  }

  /** The Acct-Session-Id of an IKE SA ("%u-%u" of prefix and unique id, as strongSwan). */
  sessionId(ikeSaUniqueId: number): string {
    return `${this.opts.sessionPrefix >>> 0}-${ikeSaUniqueId >>> 0}`;
  }

  /** Sessions started and not stopped. */
  get active(): readonly number[] {
    return [...this.sessions.keys()];
  }

  /** Acct-Status-Type = Start (RFC 2866 5.1) for an IKE SA that came up; a second start for one id is ignored. */
  async start(info: AccountingSessionInfo, now: number): Promise<AccountingResult> {
    if (this.sessions.has(info.ikeSaUniqueId)) return { ok: true };
    const intervalMs = info.interimIntervalS !== undefined && info.interimIntervalS > 0 ? info.interimIntervalS * 1000 : (this.opts.intervalMs ?? 0);
    const entry: Entry = { info, sessionId: this.sessionId(info.ikeSaUniqueId), createdAt: now, intervalMs, nextInterimAt: intervalMs > 0 ? now + intervalMs : undefined, cause: TerminateCause.USER_REQUEST };
    this.sessions.set(info.ikeSaUniqueId, entry);
    if (intervalMs > 0) this.log('cfg', 1, `scheduling RADIUS Interim-Updates every ${Math.round(intervalMs / 1000)}s`);
    return this.send(entry, AcctStatus.START, []);
  }

  /**
   * The IKE SA was rekeyed (RFC 7296 2.18): its session continues under the new SA's unique id with the same
   * Acct-Session-Id and start time, as strongSwan's ike_rekey hook; the Interim-Update schedule restarts.
   */
  rekeyed(oldId: number, newId: number, now: number): boolean {
    const e = this.sessions.get(oldId);
    if (!e || oldId === newId || this.sessions.has(newId)) return false;
    this.sessions.delete(oldId);
    e.info = { ...e.info, ikeSaUniqueId: newId };
    if (e.intervalMs > 0) e.nextInterimAt = now + e.intervalMs;
    this.sessions.set(newId, e);
    return true;
  }

  /** The cause the Stop will carry (default User-Request). */
  setTerminateCause(ikeSaUniqueId: number, cause: TerminateCauseValue): void {
    const e = this.sessions.get(ikeSaUniqueId);
    if (e) e.cause = cause;
  }

  /** The earliest Interim-Update due, if any. */
  nextInterim(): number | undefined {
    let d: number | undefined;
    for (const e of this.sessions.values()) if (e.nextInterimAt !== undefined && (d === undefined || e.nextInterimAt < d)) d = e.nextInterimAt;
    return d;
  }

  /** IKE SAs whose Interim-Update is due at `now`: call interim() for each with its counters. */
  dueInterims(now: number): number[] {
    return [...this.sessions.values()].filter((e) => e.nextInterimAt !== undefined && e.nextInterimAt <= now).map((e) => e.info.ikeSaUniqueId);
  }

  /** Moves a due Interim-Update one interval on without sending it (no counters to report this time). */
  deferInterim(ikeSaUniqueId: number, now: number): void {
    const e = this.sessions.get(ikeSaUniqueId);
    if (e && e.intervalMs > 0) e.nextInterimAt = now + e.intervalMs;
  }

  /** Acct-Status-Type = Interim-Update with the counters so far; schedules the next one. */
  async interim(ikeSaUniqueId: number, counters: TrafficCounters, now: number): Promise<AccountingResult> {
    const e = this.sessions.get(ikeSaUniqueId);
    if (!e) return { ok: false, reason: `no RADIUS accounting session for IKE SA ${ikeSaUniqueId}` };
    if (e.intervalMs > 0) e.nextInterimAt = now + e.intervalMs;
    return this.send(e, AcctStatus.INTERIM_UPDATE, [...this.counterAttrs(counters), u32Attr(Attr.ACCT_SESSION_TIME, Math.floor((now - e.createdAt) / 1000))]);
  }

  /** Acct-Status-Type = Stop with the final counters, session time and terminate cause; forgets the session. */
  async stop(ikeSaUniqueId: number, counters: TrafficCounters, now: number, cause?: TerminateCauseValue): Promise<AccountingResult> {
    const e = this.sessions.get(ikeSaUniqueId);
    if (!e) return { ok: false, reason: `no RADIUS accounting session for IKE SA ${ikeSaUniqueId}` };
    this.sessions.delete(ikeSaUniqueId);
    return this.send(e, AcctStatus.STOP, [
      ...this.counterAttrs(counters),
      u32Attr(Attr.ACCT_SESSION_TIME, Math.floor((now - e.createdAt) / 1000)),
      u32Attr(Attr.ACCT_TERMINATE_CAUSE, cause ?? e.cause),
    ]);
  }

  private counterAttrs(c: TrafficCounters): RadiusAttribute[] {
    return [
      ...octetAttrs(Attr.ACCT_OUTPUT_OCTETS, Attr.ACCT_OUTPUT_GIGAWORDS, c.bytesOut),
      u32Attr(Attr.ACCT_OUTPUT_PACKETS, Math.max(0, Math.floor(c.packetsOut)) % 2 ** 32),
      ...octetAttrs(Attr.ACCT_INPUT_OCTETS, Attr.ACCT_INPUT_GIGAWORDS, c.bytesIn),
      u32Attr(Attr.ACCT_INPUT_PACKETS, Math.max(0, Math.floor(c.packetsIn)) % 2 ** 32),
    ];
  }

  private async send(e: Entry, status: number, extra: readonly RadiusAttribute[]): Promise<AccountingResult> {
    const { info } = e;
    const attrs: RadiusAttribute[] = [u32Attr(Attr.ACCT_STATUS_TYPE, status), textAttr(Attr.ACCT_SESSION_ID, e.sessionId)];
    if (this.opts.sendClass) for (const c of info.classes ?? []) attrs.push(octetsAttr(Attr.CLASS, c));
    // add_ike_sa_parameters(): the session attributes without Acct-Session-Id (already first) or a stale virtual IP
    const ctx: RadiusSessionContext = {
      ikeSaUniqueId: info.ikeSaUniqueId,
      ...(info.connectionName !== undefined ? { connectionName: info.connectionName } : {}),
      ...(info.local ? { local: info.local } : {}),
      ...(info.remote ? { remote: info.remote } : {}),
    };
    try {
      attrs.push(...sessionAttributes(info.userName, ctx, this.opts.stationIdWithPort ?? true));
      for (const vip of info.virtualIps ?? []) if (!vip.includes(':')) attrs.push(ipv4Attr(Attr.FRAMED_IP_ADDRESS, vip));
    } catch (e) {
      return { ok: false, reason: `cannot build the Accounting-Request: ${e instanceof Error ? e.message : String(e)}` };
    }
    attrs.push(...extra);
    const outcome = await this.opts.client.request({ code: RadiusCode.ACCOUNTING_REQUEST, attributes: attrs });
    if (outcome.kind === 'timeout') return { ok: false, reason: outcome.reason };
    if (outcome.response.code !== RadiusCode.ACCOUNTING_RESPONSE) return { ok: false, reason: `server '${outcome.server}' answered with code ${outcome.response.code}` };
    return { ok: true };
  }
}
