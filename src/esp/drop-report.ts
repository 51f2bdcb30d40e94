/**
 * Drop reports: what a dropped packet means and what to do about it, logged (through the logger the driver passes
 * to the engine) the first time a reason occurs on an SA, then at most once per interval while it goes on. A
 * one-way tunnel whose packets vanish at `esp 3` only is the failure this prevents (issue 15).
 *
 * Rate limiting is by the packet's own time (`now`, passed in): no timers, no clock. The state is allocated on an
 * SA's first drop only, so SAs that never drop carry none.
 */
import { DROP_REASON_COUNT, DROP_REASON_NAMES, DropReason } from './constants.js';

/** For one reason: the cause in words (with the RFC section that drops it) and the fix. */
interface DropAdvice {
  readonly what: string;
  readonly fix: string;
}

const ADVICE: Readonly<Partial<Record<DropReason, DropAdvice>>> = {
  [DropReason.Malformed]: {
    what: 'datagram too short for ESP or not a whole number of cipher blocks (RFC 4303 section 2)',
    fix: 'something that is not a working ESP peer sends to UDP 4500; look at the sender',
  },
  [DropReason.UnknownSpi]: {
    what: 'no inbound SA has this SPI (RFC 4303 section 3.4.2)',
    fix: 'the peer still uses an SA this side deleted or never installed (a restart or a lost Delete); DPD or a rekey recovers, or restart the SA on the peer',
  },
  [DropReason.Replay]: {
    what: 'sequence number already received or left of the anti-replay window (RFC 4303 section 3.4.3)',
    fix: 'duplicated or heavily reordered packets; raise replay_window for this CHILD SA if the path reorders',
  },
  [DropReason.IcvFailure]: {
    what: 'integrity check value did not verify (RFC 4303 section 3.4.4)',
    fix: 'the peers disagree on keys or algorithms (compare esp_proposals and the negotiated suite on both ends), or the path corrupts packets',
  },
  [DropReason.BadPadding]: {
    what: 'padding bytes are not 1, 2, 3, ... or the Pad Length does not fit (RFC 4303 section 2.4)',
    fix: 'if the peer is known to pad otherwise (the Linux kernel does not check padding values), set esp_padding_check = no for this CHILD SA',
  },
  [DropReason.BadNextHeader]: {
    what: 'Next Header is neither IPv4 (4) nor IPv6 (41) in tunnel mode (RFC 4303 section 2.6)',
    fix: 'the peer sends transport mode or another protocol; check mode on both ends',
  },
  [DropReason.PolicyViolation]: {
    what: "inner packet outside the CHILD SA's traffic selectors (RFC 4301 section 5.2)",
    fix: 'compare local_ts and remote_ts on both ends (a virtual IP or NAT inside the tunnel is the usual cause)',
  },
  [DropReason.BadInnerPacket]: {
    what: 'the decrypted inner packet is not a valid IP packet of the version Next Header announces',
    fix: "the peer's tunnel sends broken packets; check its MTU and TFC padding settings",
  },
  [DropReason.SaExpired]: {
    what: 'the SA reached its hard lifetime (bytes, packets or sequence numbers) and waits to be replaced',
    fix: 'rekeying did not finish in time: leave more room between rekey_* and life_* and check the IKE log',
  },
  [DropReason.PolicyDiscard]: {
    what: 'a discard policy matched',
    fix: 'configured on purpose (a drop policy); remove it if this traffic should pass',
  },
  [DropReason.BadOuterPacket]: {
    what: 'a packet from the TUN device is not IPv4/IPv6 or shorter than its header',
    fix: 'something on the host writes non-IP frames into the TUN device',
  },
  [DropReason.TooBig]: {
    what: 'the packet with ESP overhead does not fit the output buffer',
    fix: 'lower the TUN MTU (or clamp the TCP MSS) so packets plus ESP overhead fit',
  },
  [DropReason.CryptoError]: {
    what: 'the crypto backend failed',
    fix: 'a bug: report it with the log at esp 3 (CYGNET_CRYPTO_BACKEND_OPENSSL=0 switches to another backend)',
  },
  [DropReason.NoSa]: {
    what: 'the policy has no SA yet and an ACQUIRE is pending',
    fix: 'the CHILD SA is being negotiated; if this goes on, the IKE log says why it fails',
  },
  [DropReason.NoPolicy]: {
    what: 'no policy selects the outbound packet (RFC 4301 section 5.1: the default is discard)',
    fix: "route only traffic a CHILD SA's local_ts/remote_ts select into the TUN device",
  },
  [DropReason.TunFull]: {
    what: "the TUN device's queue is full: the host does not take packets as fast as they arrive",
    fix: 'raise the queue (ip link set <dev> txqueuelen N) or lower the load',
  },
};

/** The cause and the fix for `reason`, for logs and tests. */
export function dropAdvice(reason: DropReason): DropAdvice {
  return ADVICE[reason] ?? { what: DROP_REASON_NAMES[reason] ?? `reason ${reason}`, fix: 'see the esp 3 log' };
}

/** What `due` decided: the first report of a reason, or a summary of the drops since the last one. */
export interface DueReport {
  readonly first: boolean;
  /** Drops of this reason since the last report (all of them for the first). */
  readonly count: number;
  /** Time since the last report (0 for the first), ms. */
  readonly sinceMs: number;
  /** All drops of this reason so far. */
  readonly total: number;
}

/** Per SA (or per engine, for packets without one): when each reason was last reported and its count then. */
export class DropReports {
  private at: Float64Array | undefined;
  private countAt: Float64Array | undefined;

  /** Whether a drop that brought `reason`'s count to `total` at `now` is to be reported, and how. */
  due(reason: DropReason, total: number, now: number, intervalMs: number): DueReport | undefined {
    if (this.at === undefined || this.countAt === undefined) {
      this.at = new Float64Array(DROP_REASON_COUNT).fill(Number.NaN);
      this.countAt = new Float64Array(DROP_REASON_COUNT);
    }
    const last = this.at[reason]!;
    if (Number.isNaN(last)) {
      this.at[reason] = now;
      this.countAt[reason] = total;
      return { first: true, count: total, sinceMs: 0, total };
    }
    if (!(now - last >= intervalMs)) return undefined;
    const count = total - this.countAt[reason]!;
    this.at[reason] = now;
    this.countAt[reason] = total;
    return { first: false, count, sinceMs: now - last, total };
  }
}

/** What an SA looks like to a report. */
export interface ReportedSa {
  readonly spiHex: string;
  readonly direction: 'in' | 'out';
  readonly reqid: number;
}

/** The log line for a report: the SA, the reason's name, the cause and the fix (first), or a summary (later). */
export function dropReport(reason: DropReason, sa: ReportedSa | undefined, due: DueReport, spi?: number): string {
  const name = DROP_REASON_NAMES[reason] ?? `reason-${reason}`;
  const where = sa
    ? `ESP SA ${sa.spiHex} (${sa.direction}bound, reqid ${sa.reqid})`
    : spi !== undefined
      ? `ESP packet for SPI ${(spi >>> 0).toString(16).padStart(8, '0')}`
      : 'ESP';
  const a = dropAdvice(reason);
  if (due.first) return `${where}: dropping packets (${name}): ${a.what}; ${a.fix}`;
  const s = Math.round(due.sinceMs / 1000);
  return `${where}: ${due.count} more packet(s) dropped (${name}) in the last ${s} s, ${due.total} in all; ${a.fix}`;
}
