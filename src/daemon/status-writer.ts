/**
 * The daemon's status file (--status-file; status.ts has its format): the gateway's SAs with each IKE SA's
 * transport (UDP or an RFC 9329 TCP stream), rewritten when the SA set changes and, at most once a second, when
 * ESP drops moved (issue 15: the file shows them while they happen). Drops held back by that limit are written
 * at the end of the second by a timer of this writer's own, so the file is current also when the daemon has no
 * further input for a while (an idle tunnel whose last packets were dropped).
 */
import type { TunStats } from '../tun/types.js';
import type { Gateway } from '../gateway/gateway.js';
import type { Logger } from './logger.js';
import { gatewayStatus, writeStatusFile, type DaemonStatus } from './status.js';
import type { TcpEncapNet } from './tcp-encap-net.js';

/** The gateway's status with each IKE SA's transport: its datagrams' way to the peer now, and the TCP stream's addresses. */
export function daemonStatus(gateway: Gateway, state: DaemonStatus['state'], tun: TunStats | undefined, tcp: TcpEncapNet): DaemonStatus {
  const st = gatewayStatus(gateway, state, tun);
  const remotes = new Map(gateway.endpoint.listSas().map(({ sa }) => [sa.id, sa.remote] as const));
  const ikeSas = st.ikeSas.map((sa) => {
    const remote = remotes.get(sa.id);
    const s = remote && tcp.streamOf(remote);
    return s ? { ...sa, transport: 'tcp' as const, tcp: s.name } : { ...sa, transport: 'udp' as const };
  });
  return { ...st, ikeSas, counters: { ...st.counters, ...tcp.stats() } };
}

export interface StatusWriterOptions {
  /** The file; undefined: no status file, every call is a no-op. */
  readonly file: string | undefined;
  readonly status: () => DaemonStatus;
  /** The ESP engine's drop totals per reason. */
  readonly drops: () => ArrayLike<number>;
  readonly clock: () => number;
  readonly log: Logger;
}

/** At most one status file write per this many ms for moving drop counters. */
export const DROPS_WRITE_INTERVAL_MS = 1000;

export class StatusWriter {
  private drops = 0;
  private dropsAt = Number.NEGATIVE_INFINITY;
  /** The write at the end of the interval for drops the limit held back. */
  private trailing: NodeJS.Timeout | undefined;

  constructor(private readonly o: StatusWriterOptions) {}

  /**
   * New ESP drops since the status file was last written, at most once a second: a sum of the engine's
   * per-reason totals per drain, nothing per packet. Drops within the second are written when it ends.
   */
  dropsMoved(): boolean {
    if (!this.o.file) return false;
    const n = this.dropTotal();
    if (n === this.drops) return false;
    const now = this.o.clock();
    const wait = this.dropsAt + DROPS_WRITE_INTERVAL_MS - now;
    if (wait > 0) {
      if (this.trailing === undefined) {
        this.trailing = setTimeout(() => {
          this.trailing = undefined;
          if (this.dropsMoved()) this.write();
        }, Math.ceil(wait));
        // Never what keeps the daemon alive; stop() writes the final status itself.
        this.trailing.unref();
      }
      return false;
    }
    this.drops = n;
    this.dropsAt = now;
    return true;
  }

  /** Rewrites the file; a failure is logged (dmn 0), never thrown. The file then shows every drop so far. */
  write(): void {
    if (!this.o.file) return;
    if (this.trailing !== undefined) {
      clearTimeout(this.trailing);
      this.trailing = undefined;
    }
    this.drops = this.dropTotal();
    try {
      writeStatusFile(this.o.file, this.o.status());
    } catch (e) {
      this.o.log.log('dmn', 0, `cannot write status file ${this.o.file}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  private dropTotal(): number {
    let n = 0;
    const drops = this.o.drops();
    for (let i = 0; i < drops.length; i++) n += drops[i] ?? 0;
    return n;
  }
}
