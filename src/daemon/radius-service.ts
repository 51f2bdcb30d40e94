/**
 * What the daemon holds when strongswan.conf configures `charon.plugins.eap-radius` (GlobalSettings.radius): the
 * UDP driver and its client, a factory for EAP-RADIUS sessions (one per IKE_AUTH that authenticates with
 * `eap-radius`), and, with `accounting = yes`, RADIUS accounting with its Interim-Update timer.
 *
 * Wiring (the gateway's events, radius-accounting-wiring.ts):
 *   ike-up   -> ikeUp({ ikeSaUniqueId, userName: EAP identity, local, remote, virtualIps, classes, interimIntervalS })
 *   ike-down -> ikeDown(ikeSaUniqueId, counters, cause?)   (counters: the IKE SA's CHILD SAs summed, rekeyed ones too)
 *   interim  -> the timer here asks `counters(ikeSaUniqueId)` (given to the constructor) when one is due
 * A failed accounting request is logged; strongSwan can then close the IKE SA (accounting_close_on_timeout), which
 * is the daemon's call: ikeUp/ikeDown return the result.
 */
import { systemRandom, type RandomSource } from '../crypto/random.js';
import { RadiusAccounting, type AccountingResult, type AccountingSessionInfo, type TerminateCauseValue, type TrafficCounters } from '../radius/accounting.js';
import type { RadiusLog } from '../radius/client.js';
import type { RadiusSettings } from '../radius/config.js';
import { RadiusEapServer, type RadiusSessionContext } from '../radius/eap-server.js';
import { RadiusSocketDriver } from './radius-socket.js';

export interface RadiusServiceOptions {
  readonly log?: RadiusLog;
  readonly random?: RandomSource;
  readonly now?: () => number;
  /** Acct-Session-Id prefix; default the current time in seconds, as strongSwan's plugin load time. */
  readonly sessionPrefix?: number;
  /** The traffic counters of a live IKE SA, for Interim-Updates; undefined when it is gone. */
  readonly counters?: (ikeSaUniqueId: number) => TrafficCounters | undefined;
}

/** How a RADIUS session is found again when its IKE SA comes up: connection, peer "ip[port]" and IKE identity. */
function sessionKey(connection: string | undefined, remote: { address: string; port: number } | undefined, ikeIdentity: string): string {
  return `${connection ?? ''}\u0000${remote ? `${remote.address}[${remote.port}]` : ''}\u0000${ikeIdentity}`;
}

/** EAP-RADIUS sessions kept for the ike-up that follows them (a peer that never finishes IKE_AUTH is dropped first). */
const MAX_REMEMBERED_SESSIONS = 1024;

export class RadiusService {
  readonly driver: RadiusSocketDriver;
  /** Present with `accounting = yes`. */
  readonly accounting: RadiusAccounting | undefined;
  private interimTimer: NodeJS.Timeout | undefined;
  private readonly now: () => number;
  private readonly log: RadiusLog;
  private counters: ((ikeSaUniqueId: number) => TrafficCounters | undefined) | undefined;
  /** The latest EAP-RADIUS session per connection, peer and IKE identity (sessionKey), until its IKE SA is up. */
  private readonly recent = new Map<string, RadiusEapServer>();

  constructor(
    readonly settings: RadiusSettings,
    opts: RadiusServiceOptions = {},
  ) {
    this.now = opts.now ?? Date.now;
    this.log = opts.log ?? (() => {});
    this.driver = new RadiusSocketDriver({ servers: settings.servers, log: this.log, random: opts.random ?? systemRandom, now: this.now });
    this.accounting = settings.accounting
      ? new RadiusAccounting({
          client: this.driver.client,
          sessionPrefix: opts.sessionPrefix ?? Math.floor(this.now() / 1000),
          intervalMs: settings.accountingIntervalMs,
          sendClass: settings.accountingSendClass,
          stationIdWithPort: settings.stationIdWithPort,
          log: this.log,
        })
      : undefined;
    this.counters = opts.counters;
    this.log('cfg', 1, `loaded ${settings.servers.length} RADIUS server configuration${settings.servers.length === 1 ? '' : 's'}`);
  }

  /**
   * An EAP-RADIUS session for one IKE_AUTH: `identity` is the peer's EAP identity (or IKE identity),
   * `eapIdentifier` the Identifier of the EAP-Identity exchange if the gateway ran one.
   */
  eapServer(identity: string, context: RadiusSessionContext, eapIdentifier?: number): RadiusEapServer {
    const acctSessionId = this.accounting && context.ikeSaUniqueId !== undefined ? this.accounting.sessionId(context.ikeSaUniqueId) : undefined;
    const server = new RadiusEapServer({
      client: this.driver.client,
      identity,
      context: acctSessionId !== undefined && context.acctSessionId === undefined ? { ...context, acctSessionId } : context,
      eapStart: this.settings.eapStart,
      idPrefix: this.settings.idPrefix,
      stationIdWithPort: this.settings.stationIdWithPort,
      ...(eapIdentifier !== undefined ? { eapIdentifier } : {}),
      log: this.log,
    });
    const key = sessionKey(context.connectionName, context.remote, identity);
    this.recent.delete(key);
    this.recent.set(key, server);
    for (const k of this.recent.keys()) {
      if (this.recent.size <= MAX_REMEMBERED_SESSIONS) break;
      this.recent.delete(k);
    }
    return server;
  }

  /**
   * The EAP-RADIUS session that authenticated the peer of an IKE SA that just came up (the IKE core does not yet
   * tell which EAP session belongs to which IKE SA: matched by connection, peer address and IKE identity), if it
   * ended with an Access-Accept. Forgotten once taken.
   */
  takeSession(connection: string, remote: { address: string; port: number }, ikeIdentity: string): RadiusEapServer | undefined {
    const key = sessionKey(connection, remote, ikeIdentity);
    const s = this.recent.get(key);
    if (!s) return undefined;
    this.recent.delete(key);
    return s.accepted ? s : undefined;
  }

  /** Where Interim-Updates get an IKE SA's counters (the daemon's accounting wiring, radius-accounting-wiring.ts). */
  setCounterSource(counters: (ikeSaUniqueId: number) => TrafficCounters | undefined): void {
    this.counters = counters;
  }

  /** An IKE SA with an accounting session was rekeyed: the session continues under the new id. */
  ikeRekeyed(oldId: number, newId: number): void {
    if (this.accounting?.rekeyed(oldId, newId, this.now())) this.armInterim();
  }

  /** Accounting Start for an IKE SA that came up (no-op without `accounting = yes`). */
  async ikeUp(info: AccountingSessionInfo): Promise<AccountingResult | undefined> {
    if (!this.accounting) return undefined;
    const r = await this.accounting.start(info, this.now());
    if (!r.ok) this.log('cfg', 1, `RADIUS Accounting-Request Start for '${info.userName}' failed: ${r.reason ?? ''}`);
    this.armInterim();
    return r;
  }

  /** Accounting Stop with the IKE SA's final counters. */
  async ikeDown(ikeSaUniqueId: number, counters: TrafficCounters, cause?: TerminateCauseValue): Promise<AccountingResult | undefined> {
    if (!this.accounting) return undefined;
    const r = await this.accounting.stop(ikeSaUniqueId, counters, this.now(), cause);
    if (!r.ok) this.log('cfg', 1, `RADIUS Accounting-Request Stop for IKE SA ${ikeSaUniqueId} failed: ${r.reason ?? ''}`);
    this.armInterim();
    return r;
  }

  close(): void {
    if (this.interimTimer) clearTimeout(this.interimTimer);
    this.interimTimer = undefined;
    this.driver.close();
  }

  private armInterim(): void {
    if (this.interimTimer) clearTimeout(this.interimTimer);
    this.interimTimer = undefined;
    const next = this.accounting?.nextInterim();
    if (next === undefined) return;
    this.interimTimer = setTimeout(() => void this.runInterims(), Math.max(0, next - this.now()));
    this.interimTimer.unref?.();
  }

  private async runInterims(): Promise<void> {
    const acct = this.accounting;
    if (!acct) return;
    const now = this.now();
    const due = acct.dueInterims(now);
    const sends: Promise<unknown>[] = [];
    for (const id of due) {
      const c = this.counters?.(id);
      if (!c) {
        // no counters (SA gone without ikeDown, or no source wired): send nothing false, try next interval
        acct.deferInterim(id, now);
        continue;
      }
      sends.push(
        acct.interim(id, c, now).then((r) => {
          if (!r.ok) this.log('cfg', 1, `RADIUS Interim-Update for IKE SA ${id} failed: ${r.reason ?? ''}`);
        }),
      );
    }
    this.armInterim();
    await Promise.all(sends);
  }
}
