/**
 * The engine's Security Association Database (RFC 4301 section 4.4.2): inbound SAs by SPI, outbound SAs by SPI,
 * and per reqid the outbound SA carrying its traffic now; make-before-break rekeying (RFC 7296 2.8): outbound
 * rollover in one step, inbound retirement after a grace period.
 */
import type { RandomSource } from '../crypto/random.js';
import type { CryptoBackend } from '../crypto/types.js';
import { EspError } from './errors.js';
import { EspSa, hex, type Endpoint, type SaDirection, type SaParams } from './sa.js';

export class Sad {
  readonly inbound = new Map<number, EspSa>();
  readonly outbound = new Map<number, EspSa>();
  /** reqid -> the outbound SA currently carrying that reqid's traffic. */
  readonly activeOut = new Map<number, EspSa>();
  /** The inbound SA of the previous datagram: traffic comes in runs on one SA, so this skips most map lookups. */
  lastIn: EspSa | undefined;

  /** `activeChanged`: the reqid -> outbound SA map changed (the SPD re-binds its cached SAs). */
  constructor(
    private readonly backend: CryptoBackend,
    private readonly random: RandomSource,
    private readonly activeChanged: () => void,
  ) {}

  /** Installs an SA. An outbound SA becomes active for its reqid unless another one already is (see rollover). */
  install(p: SaParams): EspSa {
    const table = p.direction === 'in' ? this.inbound : this.outbound;
    if (table.has(p.spi >>> 0)) {
      throw new EspError('DUPLICATE_SPI', `ESP: ${p.direction}bound SA ${hex(p.spi)} is already installed`);
    }
    const sa = new EspSa(p, this.backend, this.random);
    table.set(sa.spi, sa);
    if (sa.direction === 'out') {
      // Active unless a usable SA already carries this reqid (then it waits for rolloverOutbound).
      const cur = this.activeOut.get(sa.reqid);
      if (!cur || cur.hardExpired) {
        this.activeOut.set(sa.reqid, sa);
        this.activeChanged();
      }
    }
    return sa;
  }

  get(spi: number, direction: SaDirection): EspSa | undefined {
    return (direction === 'in' ? this.inbound : this.outbound).get(spi >>> 0);
  }

  /** Removes an SA and wipes its keys. An active outbound SA is replaced by another one of its reqid, if any. */
  remove(spi: number, direction: SaDirection): void {
    const table = direction === 'in' ? this.inbound : this.outbound;
    const sa = table.get(spi >>> 0);
    if (!sa) throw new EspError('UNKNOWN_SPI', `ESP: no ${direction}bound SA ${hex(spi)}`);
    table.delete(sa.spi);
    if (this.lastIn === sa) this.lastIn = undefined;
    if (direction === 'out' && this.activeOut.get(sa.reqid) === sa) {
      this.activeOut.delete(sa.reqid);
      for (const o of this.outbound.values()) {
        if (o.reqid === sa.reqid && !o.hardExpired) {
          this.activeOut.set(o.reqid, o);
          break;
        }
      }
      this.activeChanged();
    }
    sa.dispose();
  }

  /**
   * Moves an SA's peer endpoint (NAT mapping change followed by IKE, RFC 7296 2.23) and, given, our own (MOBIKE,
   * RFC 4555 3.5: the outbound packets leave from the new address).
   */
  setRemote(spi: number, direction: SaDirection, remote: Endpoint, local?: Endpoint): void {
    const sa = this.get(spi, direction);
    if (!sa) throw new EspError('UNKNOWN_SPI', `no ${direction}bound SA with SPI ${hex(spi)}`);
    sa.remote = remote;
    if (local) sa.local = local;
  }

  /**
   * Make-before-break, outbound half: traffic of the old SA's reqid moves to `newSpi` in one step and the old
   * outbound SA is removed (no packet is in flight inside a synchronous engine).
   */
  rollover(oldSpi: number, newSpi: number): void {
    const old = this.outbound.get(oldSpi >>> 0);
    const neu = this.outbound.get(newSpi >>> 0);
    if (!old) throw new EspError('UNKNOWN_SPI', `ESP rollover: no outbound SA ${hex(oldSpi)}`);
    if (!neu) throw new EspError('UNKNOWN_SPI', `ESP rollover: no outbound SA ${hex(newSpi)}`);
    this.activeOut.set(old.reqid, neu);
    if (neu.reqid !== old.reqid && this.activeOut.get(neu.reqid) === undefined) this.activeOut.set(neu.reqid, neu);
    this.activeChanged();
    this.remove(oldSpi, 'out');
  }

  /**
   * Make-before-break, inbound half: the old inbound SA keeps accepting packets still in flight for `graceMs`,
   * then `handleTimeout` removes it (a 'removed' event).
   */
  retire(spi: number, graceMs: number, now: number): void {
    const sa = this.inbound.get(spi >>> 0);
    if (!sa) throw new EspError('UNKNOWN_SPI', `ESP retire: no inbound SA ${hex(spi)}`);
    if (!(graceMs >= 0)) throw new EspError('BAD_PARAMS', `ESP retire ${hex(spi)}: grace ${graceMs} ms`);
    sa.removeAt = now + graceMs;
  }

  /** The earliest time (ms) a retired inbound SA is due for removal, or undefined. */
  nextTimeout(): number | undefined {
    let t = Infinity;
    for (const sa of this.inbound.values()) if (sa.removeAt < t) t = sa.removeAt;
    return t === Infinity ? undefined : t;
  }

  /** Removes the retired inbound SAs whose grace period ended by `now`; returns them. */
  expire(now: number): EspSa[] {
    const gone: EspSa[] = [];
    for (const sa of [...this.inbound.values()]) {
      if (sa.removeAt <= now) {
        this.remove(sa.spi, 'in');
        gone.push(sa);
      }
    }
    return gone;
  }

  /** All installed SAs. */
  all(): EspSa[] {
    return [...this.inbound.values(), ...this.outbound.values()];
  }
}
