/**
 * Bringing up one CHILD SA of a connection (issue 15, strongSwan's charon.reuse_ikesa): `up`/vici initiate, an
 * ACQUIRE of a trapped child and start_action = start all come here. With reuse (strongSwan's default) a child of
 * a connection that already has an IKE SA is negotiated with CREATE_CHILD_SA on it (RFC 7296 1.3.1) instead of a
 * second IKE_SA_INIT; an IKE SA still being set up (or rekeyed) is waited for. Without reuse, every request starts
 * its own IKE SA, as charon does with reuse_ikesa = no (its ike_sa_manager checkout_by_config).
 *
 * Sans-IO: the gateway calls `settle(now)` after it handled the endpoint's events, which runs what became
 * possible (the IKE SA is up) or gives up (no IKE SA of the connection left) and says so in the log.
 */
import type { ChildSaInfo, IkeSaInfo, IkeSaState } from '../ike/events.js';

export interface ChildStarterHost {
  listSas(): readonly { readonly sa: IkeSaInfo; readonly children: readonly ChildSaInfo[] }[];
  /** CREATE_CHILD_SA for `child` on an established IKE SA; false when the endpoint refuses (state, unknown child). */
  createChild(ikeSaId: number, child: string, now: number): boolean;
  /** A new IKE SA for `conn` with `child` as its first CHILD SA (IKE_AUTH); throws when the connection cannot. */
  initiate(conn: string, child: string | undefined, now: number): number;
  log(group: string, level: number, message: string): void;
}

/** Why a child is brought up: the log names it, as charon's log names the trigger. */
export type StartReason = 'up' | 'start' | 'trap' | 'reload' | 'close';

/** What `start` did. */
export interface StartResult {
  readonly ikeSaId: number;
  /** CREATE_CHILD_SA sent on an established IKE SA, waiting for an IKE SA being set up, or a new IKE SA. */
  readonly how: 'create-child' | 'queued' | 'initiated';
}

/** IKE SA states a new CHILD SA can wait for: it will be ESTABLISHED (again) unless it fails. */
const PENDING: ReadonlySet<IkeSaState> = new Set(['CREATED', 'CONNECTING', 'REKEYING']);

interface Waiting {
  readonly conn: string;
  readonly child: string;
  ikeSaId: number;
}

export class ChildStarter {
  private readonly waiting: Waiting[] = [];

  constructor(
    private readonly host: ChildStarterHost,
    /** charon.reuse_ikesa (strongswan.conf), default yes. */
    public reuseIkeSa = true,
  ) {}

  /**
   * Brings `child` of `conn` up: on an IKE SA of the connection if reuse is on and there is one, else with a new
   * IKE SA. `child` undefined: the connection's first child (a new IKE SA picks it itself). Throws what initiate
   * throws (unknown connection, no address to initiate to).
   */
  start(conn: string, child: string | undefined, firstChild: string | undefined, now: number, reason: StartReason): StartResult {
    const name = child ?? firstChild;
    if (this.reuseIkeSa && name !== undefined) {
      const sas = this.host.listSas().filter(({ sa }) => sa.name === conn);
      const up = sas.find(({ sa }) => sa.state === 'ESTABLISHED');
      if (up && this.host.createChild(up.sa.id, name, now)) {
        this.host.log('cfg', 1, `${what(reason, conn, name)}: reusing IKE_SA ${conn}[${up.sa.id}] (CREATE_CHILD_SA)`);
        return { ikeSaId: up.sa.id, how: 'create-child' };
      }
      const pending = sas.find(({ sa }) => PENDING.has(sa.state));
      if (pending) {
        if (!this.isWaiting(conn, name, pending.sa.id)) this.waiting.push({ conn, child: name, ikeSaId: pending.sa.id });
        this.host.log('cfg', 1, `${what(reason, conn, name)}: queued on IKE_SA ${conn}[${pending.sa.id}] (${pending.sa.state}), CREATE_CHILD_SA once it is established`);
        return { ikeSaId: pending.sa.id, how: 'queued' };
      }
    }
    const ikeSaId = this.host.initiate(conn, child, now);
    this.host.log('cfg', 2, `${what(reason, conn, name ?? '(first)')}: new IKE_SA ${conn}[${ikeSaId}]${this.reuseIkeSa ? '' : ' (reuse_ikesa = no)'}`);
    return { ikeSaId, how: 'initiated' };
  }

  /** True while `child` of `conn` waits for an IKE SA (on `ikeSaId`, if given). */
  isWaiting(conn: string, child: string, ikeSaId?: number): boolean {
    return this.waiting.some((w) => w.conn === conn && w.child === child && (ikeSaId === undefined || w.ikeSaId === ikeSaId));
  }

  get waitingCount(): number {
    return this.waiting.length;
  }

  /**
   * After the endpoint's events: children whose IKE SA is now established get their CREATE_CHILD_SA; those whose
   * IKE SA went move to another IKE SA of the connection (the rekeyed one, a keyingtries retry) or are given up.
   * Returns the children given up, so their trap queues can be dropped.
   */
  settle(now: number): { conn: string; child: string }[] {
    if (this.waiting.length === 0) return [];
    const sas = this.host.listSas();
    const given: { conn: string; child: string }[] = [];
    for (let i = 0; i < this.waiting.length; ) {
      const w = this.waiting[i]!;
      let sa = sas.find(({ sa: s }) => s.id === w.ikeSaId)?.sa;
      if (!sa || !(sa.state === 'ESTABLISHED' || PENDING.has(sa.state))) {
        sa = (sas.find(({ sa: s }) => s.name === w.conn && s.state === 'ESTABLISHED') ?? sas.find(({ sa: s }) => s.name === w.conn && PENDING.has(s.state)))?.sa;
        if (sa) w.ikeSaId = sa.id;
      }
      if (sa?.state === 'ESTABLISHED') {
        this.waiting.splice(i, 1);
        if (this.host.createChild(sa.id, w.child, now)) this.host.log('cfg', 1, `IKE_SA ${w.conn}[${sa.id}] established: CREATE_CHILD_SA for child '${w.child}'`);
        else {
          this.host.log('cfg', 0, `IKE_SA ${w.conn}[${sa.id}] refused CREATE_CHILD_SA for child '${w.child}'`);
          given.push({ conn: w.conn, child: w.child });
        }
        continue;
      }
      if (!sa) {
        this.waiting.splice(i, 1);
        this.host.log('cfg', 1, `child '${w.child}' of '${w.conn}' not created: its IKE_SA failed and no other IKE_SA of '${w.conn}' is left`);
        given.push({ conn: w.conn, child: w.child });
        continue;
      }
      i++;
    }
    return given;
  }

  /** A connection was removed or changed: its waiting children go. */
  forget(conn: string): void {
    for (let i = this.waiting.length - 1; i >= 0; i--) if (this.waiting[i]!.conn === conn) this.waiting.splice(i, 1);
  }
}

function what(reason: StartReason, conn: string, child: string): string {
  const why = reason === 'up' ? 'initiate' : reason === 'trap' ? 'acquire' : reason === 'start' ? 'start_action = start' : reason === 'close' ? 'close_action = start' : 'reload';
  return `${why} '${conn}' child '${child}'`;
}
