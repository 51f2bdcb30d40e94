/**
 * RADIUS accounting (RFC 2866) driven by the daemon's IKE events, as strongSwan's eap_radius_accounting.c listener:
 *
 *   ike-up (we are the responder)  -> Accounting Start: User-Name = the EAP identity of the RADIUS session that
 *                                     authenticated the peer (else its IKE identity, as get_other_eap_id()), the
 *                                     Access-Accept's Class attributes and Acct-Interim-Interval;
 *   interim timer (RadiusService)  -> Interim-Update with the IKE SA's counters;
 *   ike-rekeyed                    -> the session (and its CHILD SAs' counters) moves to the new IKE SA;
 *   ike-down (not a rekey)         -> Stop with the final counters and Acct-Terminate-Cause.
 *
 * strongSwan starts accounting for every IKE SA it answers IKE_AUTH for once `accounting = yes` (its message hook
 * fires on the outgoing IKE_AUTH response), not only for eap-radius rounds; so does this.
 *
 * Counters: an IKE SA's traffic is the sum over every CHILD SA it ever had (rekeyed and deleted ones included,
 * strongSwan keeps them in its `cached`/`migrated` lists). The gateway removes an outbound ESP SA before its
 * child-remove event reaches the daemon, so reading the engine then would lose it; instead the engine's SA objects
 * are kept from child-install on (their byte and packet fields are live and keep their final values after
 * removal) until the IKE SA goes. Direction as strongSwan: Output = sent to the peer (outbound ESP), Input =
 * received from it.
 */
import type { ChildSaInfo, IkeDownReason, IkeEvent, IkeSaInfo } from '../ike/events.js';
import type { TerminateCauseValue, TrafficCounters } from '../radius/accounting.js';
import { TerminateCause } from '../radius/constants.js';
import type { RadiusService } from './radius-service.js';

/** An ESP SA's counters as the engine keeps them (src/esp/engine.ts EspSa). */
export interface EspSaCounters {
  readonly bytes: number;
  readonly packets: number;
}

/** What the wiring needs of the daemon (Daemon has both). */
export interface AccountingEventSource {
  onEvent(listener: (e: IkeEvent) => void): void;
  readonly engine: { getSa(spi: number, direction: 'in' | 'out'): EspSaCounters | undefined };
}

interface ChildRefs {
  readonly inbound: EspSaCounters | undefined;
  readonly outbound: EspSaCounters | undefined;
}

/**
 * The Acct-Terminate-Cause of an IKE SA that went down (RFC 2866 5.10), as strongSwan's alert hook: the peer
 * stopped answering -> Lost-Service; an expired SA -> Session-Timeout; anything else User-Request.
 */
export function terminateCause(reason: IkeDownReason, message: string): TerminateCauseValue {
  if (reason === 'timeout') return TerminateCause.LOST_SERVICE;
  if (/\bexpired?\b|lifetime/i.test(message)) return TerminateCause.SESSION_TIMEOUT;
  return TerminateCause.USER_REQUEST;
}

export class RadiusAccountingWiring {
  /** CHILD SAs' ESP counters per IKE SA unique id, every CHILD SA it had (id -> refs). */
  private readonly children = new Map<number, Map<number, ChildRefs>>();
  /** IKE SAs with an accounting session (Start sent). */
  private readonly accounted = new Set<number>();

  constructor(
    private readonly source: AccountingEventSource,
    private readonly radius: RadiusService,
  ) {
    radius.setCounterSource((id) => (this.accounted.has(id) ? this.counters(id) : undefined));
    source.onEvent((e) => this.onEvent(e));
  }

  /** The summed counters of an IKE SA's CHILD SAs (zero when it has none). */
  counters(ikeSaId: number): TrafficCounters {
    let bytesIn = 0;
    let bytesOut = 0;
    let packetsIn = 0;
    let packetsOut = 0;
    for (const c of this.children.get(ikeSaId)?.values() ?? []) {
      bytesIn += c.inbound?.bytes ?? 0;
      packetsIn += c.inbound?.packets ?? 0;
      bytesOut += c.outbound?.bytes ?? 0;
      packetsOut += c.outbound?.packets ?? 0;
    }
    return { bytesIn, bytesOut, packetsIn, packetsOut };
  }

  private onEvent(e: IkeEvent): void {
    switch (e.type) {
      case 'child-install':
        this.track(e.child);
        break;
      case 'ike-up':
        this.up(e.sa);
        break;
      case 'ike-rekeyed':
        this.rekeyed(e.old.id, e.sa.id);
        break;
      case 'ike-down':
        // A rekeyed IKE SA's session lives on in its successor (ike-rekeyed moves it).
        if (e.reason !== 'rekeyed') this.down(e.sa, e.reason, e.message);
        break;
      default:
        break;
    }
  }

  private track(c: ChildSaInfo): void {
    let m = this.children.get(c.ikeSaId);
    if (!m) this.children.set(c.ikeSaId, (m = new Map()));
    if (!m.has(c.id)) m.set(c.id, { inbound: this.source.engine.getSa(c.spiIn, 'in'), outbound: this.source.engine.getSa(c.spiOut, 'out') });
  }

  private up(sa: IkeSaInfo): void {
    if (!this.radius.accounting || sa.initiator || this.accounted.has(sa.id)) return;
    const session = this.radius.takeSession(sa.name, sa.remote, sa.remoteId);
    const accepted = session?.accepted;
    this.accounted.add(sa.id);
    void this.radius.ikeUp({
      ikeSaUniqueId: sa.id,
      userName: session?.identity ?? sa.remoteId,
      connectionName: sa.name,
      local: { address: sa.local.address, port: sa.local.port },
      remote: { address: sa.remote.address, port: sa.remote.port },
      ...(accepted?.classes.length ? { classes: accepted.classes } : {}),
      ...(accepted?.interimIntervalS !== undefined ? { interimIntervalS: accepted.interimIntervalS } : {}),
    });
  }

  private rekeyed(oldId: number, newId: number): void {
    const old = this.children.get(oldId);
    if (old) {
      const m = this.children.get(newId) ?? new Map<number, ChildRefs>();
      for (const [id, refs] of old) if (!m.has(id)) m.set(id, refs);
      this.children.set(newId, m);
      this.children.delete(oldId);
    }
    if (this.accounted.delete(oldId)) {
      this.accounted.add(newId);
      this.radius.ikeRekeyed(oldId, newId);
    }
  }

  private down(sa: IkeSaInfo, reason: IkeDownReason, message: string): void {
    const counters = this.counters(sa.id);
    this.children.delete(sa.id);
    if (!this.accounted.delete(sa.id)) return;
    void this.radius.ikeDown(sa.id, counters, terminateCause(reason, message));
  }
}
