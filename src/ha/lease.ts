/**
 * Who may send (issue 20: split-brain safety), sans-IO.
 *
 * ActiveLease is the active node's view of its lease in the store: it renews every ttl/3. When the store answers
 * with another token the node was deposed: it stops sending at once (`mayForward` false) and must not write again
 * (the store fences it anyway). When the store does not answer the lease is "in doubt": the active keeps
 * forwarding (nobody can take the lease from an unreachable store, and the standby's TakeoverGuard refuses to
 * take over from state it saw go stale), and renews as soon as the store is back.
 *
 * TakeoverGuard is the standby's: it polls the lease and allows a takeover only when
 *  - the store answers (the lease is taken there, with a new fencing token),
 *  - the lease has expired by the store's clock (or was released), and
 *  - the standby watched it expire with the store reachable all along since it last saw the lease alive: if the
 *    store was unreachable after that, the active may have kept forwarding without replicating (sequence numbers,
 *    rekeys), so the replicated state may be stale and taking over could reuse keys or sequence numbers. Such a
 *    takeover is refused until the active is seen alive again (or the operator forces it, knowing the risk).
 *  - a standby that never saw the lease alive (it just started) takes an expired lease only when it expired
 *    recently (`freshMs`): an old expiry says the active died long ago, possibly during a store outage.
 *  - a released lease (hand-over, the holder wrote everything first) is free to take whenever it was released.
 * Polls that fail before the store ever answered (the connection being set up at start) say nothing about a
 * period in which an active was watched, so they do not count as an outage.
 */
export interface LeaseView {
  readonly node: string;
  readonly token: number;
  /** ms until expiry by the store's clock (<= 0: expired). */
  readonly remainingMs: number;
  /** Given up by a hand-over (its holder wrote everything first): free to take, whenever it was. */
  readonly released?: boolean;
}

export type Poll = { readonly reachable: false; readonly error: string } | { readonly reachable: true; readonly lease: LeaseView | undefined };

export type ActiveState = 'holding' | 'in-doubt' | 'deposed';

export class ActiveLease {
  private state: ActiveState = 'holding';
  private lastRenewed: number;
  private doubtSince: number | undefined;
  private holderSeen: string | undefined;

  constructor(
    readonly token: number,
    readonly ttlMs: number,
    now: number,
  ) {
    this.lastRenewed = now;
  }

  get status(): ActiveState {
    return this.state;
  }

  /** Forward and answer IKE: false only once the store said another node holds the lease. */
  get mayForward(): boolean {
    return this.state !== 'deposed';
  }

  renewDue(now: number): boolean {
    return this.state !== 'deposed' && now - this.lastRenewed >= this.ttlMs / 3;
  }

  renewed(now: number): void {
    if (this.state === 'deposed') return;
    this.state = 'holding';
    this.lastRenewed = now;
    this.doubtSince = undefined;
  }

  unreachable(now: number): void {
    if (this.state === 'holding') {
      this.state = 'in-doubt';
      this.doubtSince = now;
    }
  }

  /** The store holds another token: stop sending with every SA (they are the successor's now). */
  deposed(holder: string): void {
    this.state = 'deposed';
    this.holderSeen = holder;
  }

  describe(now: number): string {
    if (this.state === 'deposed') return `deposed (lease taken by ${this.holderSeen ?? '?'})`;
    if (this.state === 'in-doubt') return `in doubt for ${Math.round((now - (this.doubtSince ?? now)) / 1000)} s (store unreachable, still forwarding)`;
    return `holding token ${this.token}`;
  }
}

export type Decision = { readonly ok: true } | { readonly ok: false; readonly reason: string };

export class TakeoverGuard {
  private lastAlive: number | undefined;
  private lastUnreachable: number | undefined;
  private last: Poll | undefined;
  private lastPollAt: number | undefined;
  private everReachable = false;

  /** Records one poll of the store's lease. */
  observe(p: Poll, now: number): void {
    this.last = p;
    this.lastPollAt = now;
    if (!p.reachable) {
      if (this.everReachable) this.lastUnreachable = now;
    } else {
      this.everReachable = true;
      if (p.lease && p.lease.remainingMs > 0) this.lastAlive = now;
    }
  }

  /** May this node take over now? `force` skips the staleness rules (the operator's --ha-force), never the others. */
  decide(now: number, opts: { force?: boolean; maxPollAgeMs?: number; freshMs?: number } = {}): Decision {
    const p = this.last;
    if (!p || this.lastPollAt === undefined) return { ok: false, reason: 'the store has not been polled yet' };
    if (now - this.lastPollAt > (opts.maxPollAgeMs ?? 5000)) return { ok: false, reason: `the last poll of the store is ${now - this.lastPollAt} ms old` };
    if (!p.reachable) return { ok: false, reason: `the store is unreachable (${p.error}): no lease can be taken and the replicated state may be stale` };
    const l = p.lease;
    if (l && l.remainingMs > 0 && !l.released) return { ok: false, reason: `the lease is held by ${l.node} (token ${l.token}) for another ${l.remainingMs} ms` };
    if (!l || l.released || opts.force) return { ok: true };
    const force = '(takeover refused; starting this node with --ha-force overrides, for an operator who knows the active is gone)';
    if (this.lastUnreachable !== undefined && (this.lastAlive === undefined || this.lastUnreachable > this.lastAlive)) {
      return { ok: false, reason: `the store was unreachable after the active node was last seen alive: it may have forwarded and rekeyed without replicating, so the state may be stale ${force}` };
    }
    if (this.lastAlive === undefined && -l.remainingMs > (opts.freshMs ?? 5000)) {
      return { ok: false, reason: `the lease of ${l.node} expired ${Math.round(-l.remainingMs / 1000)} s ago, before this node watched it: the active may have died during a store outage, so the state may be stale ${force}` };
    }
    return { ok: true };
  }
}
