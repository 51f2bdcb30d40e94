/**
 * The HA driver (issue 20): the daemon's side of replication and takeover, around the sans-IO parts in src/ha.
 *
 *  - Active: every `tickMs` it collects the SAs that changed (HaNode.collect), writes one batch at a time to the
 *    store with its fencing token, and renews its lease every ttl/3. A store outage leaves the lease "in doubt":
 *    the node keeps forwarding and the replicator keeps the changes (coalesced) until the store is back. A store
 *    that lost everything (restarted without persistence) is seen as a missing lease: the node takes it again and
 *    writes its whole state. Told by the store that another node holds the lease, it is deposed: it drops the
 *    floating address and `onDeposed` ends the process, without Deletes (the SAs are the successor's now).
 *  - Standby: it polls the lease; once the TakeoverGuard allows it (lease expired with the store reachable all
 *    along), it takes the lease, restores the SAs (HaNode.takeover), adds the floating address (cygnet's own health
 *    signal moving it with `ip addr`, plus a gratuitous ARP) and becomes active.
 */
import { execFile } from 'node:child_process';
import { writeFileSync, renameSync } from 'node:fs';
import type { Daemon } from './driver.js';
import { HaStore } from './ha-store.js';
import { ActiveLease, TakeoverGuard } from '../ha/lease.js';
import { HaNode, type TakeoverReport } from '../ha/node.js';
import { SecretBox } from '../ha/seal.js';
import { checkSeqOptions, DEFAULT_SEQ, type SeqOptions } from '../ha/seq-marks.js';

export interface HaSettings {
  /** This node's name (in the lease). */
  readonly node: string;
  /** redis://host:port */
  readonly store: string;
  readonly cluster: string;
  /** AES-256-GCM key for the secrets at rest (src/ha/seal.ts). */
  readonly key: Uint8Array;
  readonly leaseMs: number;
  readonly tickMs: number;
  readonly seq: SeqOptions;
  /** The floating addresses this node adds when it becomes active: `192.0.2.1/24 dev eth0` (and an inner one). */
  readonly floating?: readonly { readonly cidr: string; readonly dev: string }[];
  /** Where `cygnet ha status` reads this node's view (JSON), rewritten every tick. */
  readonly statusFile?: string;
  /** Take over even if the store was unreachable after the active was last seen (the operator knows better). */
  readonly force?: boolean;
  /**
   * The start_action = start children, run by the node that becomes active (for those the store did not bring):
   * a standby that initiated them too would set up duplicate SAs once it holds the floating address.
   */
  readonly startChildren?: readonly { readonly conn: string; readonly child: string }[];
}

export const DEFAULT_HA = { cluster: 'default', leaseMs: 3000, tickMs: 100, seq: DEFAULT_SEQ } as const;

export type HaRole = 'starting' | 'standby' | 'active' | 'deposed';

export interface HaStatus {
  readonly node: string;
  readonly role: HaRole;
  readonly store: { readonly url: string; readonly reachable: boolean; readonly lastError?: string };
  readonly lease: string;
  readonly token?: number;
  readonly replication: { readonly pending: number; readonly inFlight: number; readonly lagMs: number; readonly lastSyncAgoMs?: number; readonly written: number; readonly failures: number };
  readonly takeover?: string;
  readonly lastTakeover?: { readonly ikeSas: number; readonly childSas: number; readonly failed: number; readonly tookMs: number };
  readonly writtenAt: number;
}

const errText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

export class HaDriver {
  readonly node: HaNode;
  private readonly store: HaStore;
  private readonly guard = new TakeoverGuard();
  private lease: ActiveLease | undefined;
  private role: HaRole = 'starting';
  private busy = false;
  private timer: NodeJS.Timeout | undefined;
  private reachable = false;
  private lastError: string | undefined;
  private lastConnError: string | undefined;
  private lastDecision: string | undefined;
  private lastTakeover: HaStatus['lastTakeover'];
  private lastStatusAt = 0;

  constructor(
    private readonly daemon: Daemon,
    private readonly s: HaSettings,
    private readonly log: (level: number, msg: string) => void,
    private readonly onDeposed: () => void,
  ) {
    checkSeqOptions(s.seq);
    this.node = new HaNode(daemon.gateway, { box: new SecretBox(s.key), seq: s.seq });
    daemon.onEvent((e) => this.node.handleEvent(e, daemon.now()));
    // A command may take a quarter of the lease at most: a renewal stuck behind a slow one must still land in time.
    this.store = new HaStore(s.store, s.cluster, {
      commandTimeoutMs: Math.max(200, Math.min(1000, Math.floor(s.leaseMs / 4))),
      // ioredis reports each failed reconnect (every 500 ms): log a message once, not every time.
      onError: (e) => {
        if (this.lastConnError !== e.message) this.log(1, `ha: store ${s.store}: ${e.message}`);
        this.lastConnError = e.message;
      },
    });
  }

  get currentRole(): HaRole {
    return this.role;
  }

  start(): void {
    this.role = 'standby';
    this.log(1, `ha: node ${this.s.node} starts as standby (store ${this.s.store}, cluster ${this.s.cluster}, lease ${this.s.leaseMs} ms)`);
    // A node killed while active left the floating address on its interface: a standby must not hold it (two
    // hosts answering ARP for it would split the peers' traffic).
    if (this.s.floating) void this.floating('del', true);
    this.timer = setInterval(() => void this.tick(), this.s.tickMs);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.store.close();
  }

  private async tick(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      if (this.role === 'active') await this.activeTick();
      else if (this.role === 'standby') await this.standbyTick();
    } catch (e) {
      this.log(1, `ha: ${errText(e)}`);
    } finally {
      this.busy = false;
      this.writeStatus();
    }
  }

  /**
   * Hand over (SIGTERM on the active node, fail-back): write what is pending, release the lease so the other node
   * takes over at its next poll, drop the floating address. The SAs are not deleted: the successor continues them.
   */
  async handover(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    while (this.busy) await new Promise((r) => setTimeout(r, 10));
    const lease = this.lease;
    if (this.role === 'active' && lease) {
      this.node.collect(this.daemon.now());
      for (let b = this.node.replicator.takeBatch(1024); b; b = this.node.replicator.takeBatch(1024)) {
        const r = await this.store.write(this.s.node, lease.token, b).catch((e: unknown) => ({ ok: false as const, holder: errText(e), token: -1 }));
        if (!r.ok) {
          this.log(0, `ha: hand-over: the last changes could not be written (${r.holder}); the successor will restore what the store has`);
          break;
        }
        this.node.replicator.ack(this.daemon.now());
      }
      this.node.deactivate();
      await this.store.release(lease.token).catch(() => false);
      await this.floating('del');
      this.role = 'standby';
      this.lease = undefined;
      this.log(0, `ha: handed over: lease ${lease.token} released, SAs left for the successor`);
    }
    this.writeStatus(true);
    await this.store.close();
  }

  private async activeTick(): Promise<void> {
    const lease = this.lease;
    if (!lease) return;
    this.node.collect(this.daemon.now());
    // Holding: the renewal goes first, so a burst of writes on a slow store cannot starve it and lose the lease.
    // In doubt (after an outage): the backlog goes first and the lease is renewed only once it is written, since
    // a renewed lease tells the standby that the replicated state is whole again (TakeoverGuard).
    if (lease.status === 'holding' && !(await this.renewIfDue(lease))) return;
    if (!(await this.writeBacklog(lease))) return;
    if (lease.status === 'in-doubt' && this.node.replicator.stats(this.daemon.now()).pending > 0) return;
    await this.renewIfDue(lease);
  }

  /** Writes up to 8 batches; false when the tick should end (store unreachable, or this node was deposed). */
  private async writeBacklog(lease: ActiveLease): Promise<boolean> {
    const rep = this.node.replicator;
    for (let n = 0; n < 8; n++) {
      const batch = rep.takeBatch(256);
      if (!batch) break;
      try {
        const r = await this.store.write(this.s.node, lease.token, batch);
        this.reachable = true;
        if (!r.ok) {
          rep.fail();
          await this.handleLost(r.holder, r.token);
          return false;
        }
        rep.ack(this.daemon.now());
      } catch (e) {
        rep.fail();
        this.unreachable(e);
        return false;
      }
    }
    return true;
  }

  /** Renews the lease when due; false when the tick should end (store unreachable, or this node was deposed). */
  private async renewIfDue(lease: ActiveLease): Promise<boolean> {
    if (!lease.renewDue(this.daemon.now())) return true;
    try {
      const r = await this.store.renew(lease.token, this.s.leaseMs);
      this.reachable = true;
      this.lastConnError = undefined;
      if (!r.ok) {
        await this.handleLost(r.holder, r.token);
        return false;
      }
      if (lease.status === 'in-doubt') this.log(1, `ha: store reachable again; backlog written, lease ${lease.token} renewed`);
      lease.renewed(this.daemon.now());
      return true;
    } catch (e) {
      this.unreachable(e);
      return false;
    }
  }

  private unreachable(e: unknown): void {
    const was = this.reachable;
    this.reachable = false;
    this.lastError = errText(e);
    if (this.lease && this.lease.status === 'holding') this.log(1, `ha: store unreachable (${this.lastError}): still forwarding, changes queued`);
    this.lease?.unreachable(this.daemon.now());
    if (was && !this.lease) this.log(1, `ha: store unreachable (${this.lastError}): takeover impossible until it returns`);
  }

  /** The lease has another token: a successor (deposed), or nobody because the store lost it (take it again). */
  private async handleLost(holder: string, token: number): Promise<void> {
    if (holder === '' || token === 0) {
      const r = await this.store.acquire(this.s.node, this.s.leaseMs);
      if (r.ok) {
        this.log(1, `ha: the store lost its state (restarted without persistence?): lease taken again with token ${r.token}, writing every SA anew`);
        this.lease = new ActiveLease(r.token, this.s.leaseMs, this.daemon.now());
        this.node.activate();
        return;
      }
      holder = r.holder;
    }
    this.role = 'deposed';
    this.lease?.deposed(holder);
    this.node.deactivate();
    this.log(0, `ha: deposed: node ${holder} holds the lease now; leaving the floating address and stopping without Deletes`);
    await this.floating('del');
    this.writeStatus();
    this.onDeposed();
  }

  private async standbyTick(): Promise<void> {
    const now = this.daemon.now();
    try {
      const l = await this.store.lease();
      this.reachable = true;
      this.lastConnError = undefined;
      this.guard.observe({ reachable: true, lease: l }, now);
    } catch (e) {
      this.unreachable(e);
      this.guard.observe({ reachable: false, error: errText(e) }, now);
    }
    const d = this.guard.decide(now, { maxPollAgeMs: 4 * this.s.tickMs + 1000, force: this.s.force === true });
    if (!d.ok) {
      if (d.reason !== this.lastDecision && !/held by/.test(d.reason)) this.log(1, `ha: takeover refused: ${d.reason}`);
      this.lastDecision = d.reason;
      return;
    }
    await this.takeover();
  }

  private async takeover(): Promise<void> {
    const t0 = this.daemon.now();
    const got = await this.store.acquire(this.s.node, this.s.leaseMs);
    if (!got.ok) return;
    const records = await this.store.records();
    // The addresses first: routes of the restored CHILD SAs may name an inner floating address as their source.
    await this.floating('add');
    let report: TakeoverReport | undefined;
    try {
      report = this.daemon.withCore((_g, now) => this.node.takeover(records, now));
    } catch (e) {
      this.log(0, `ha: takeover failed: ${errText(e)}; releasing the lease`);
      await this.floating('del');
      await this.store.release(got.token);
      return;
    }
    this.lease = new ActiveLease(got.token, this.s.leaseMs, this.daemon.now());
    this.role = 'active';
    const tookMs = Math.round(this.daemon.now() - t0);
    this.lastTakeover = { ikeSas: report.ikeSas, childSas: report.childSas, failed: report.failed.length, tookMs };
    this.log(0, `ha: active with token ${got.token}: took over ${report.ikeSas} IKE SA(s), ${report.childSas} CHILD SA(s) in ${tookMs} ms${report.failed.length ? `; not restored: ${report.failed.map((f) => f.error).join('; ')}` : ''}`);
    for (const s of report.seq) if (s.rekey) this.log(1, `ha: ESP SA ${s.spi.toString(16)} out: ${s.rekey}; rekeying it`);
    this.startMissing();
  }

  /** start_action = start on the new active: each configured child that no restored SA carries is initiated. */
  private startMissing(): void {
    const sas = this.daemon.endpoint.listSas();
    for (const { conn, child } of this.s.startChildren ?? []) {
      if (sas.some(({ sa, children }) => sa.name === conn && children.some((c) => c.name === child))) continue;
      this.log(1, `ha: initiating '${conn}' child '${child}' (start_action = start, now that this node is active)`);
      this.daemon.withCore((g, now) => g.initiate(conn, now, child));
    }
  }

  private async floating(op: 'add' | 'del', quiet = false): Promise<void> {
    for (const f of this.s.floating ?? []) await this.oneFloating(f, op, quiet);
  }

  private async oneFloating(f: { readonly cidr: string; readonly dev: string }, op: 'add' | 'del', quiet: boolean): Promise<void> {
    const run = (cmd: string, args: string[]): Promise<string | undefined> => new Promise((resolve) => execFile(cmd, args, { timeout: 3000 }, (err, _o, stderr) => resolve(err ? String(stderr || err.message).trim() : undefined)));
    const err = await run('ip', ['addr', op, f.cidr, 'dev', f.dev]);
    if (err && /already assigned|File exists|Cannot assign|not found/.test(err)) {
      if (!quiet) this.log(1, `ha: floating address ${f.cidr} ${op === 'add' ? 'was already on' : 'was not on'} ${f.dev}`);
    } else if (err) this.log(0, `ha: ip addr ${op} ${f.cidr} dev ${f.dev}: ${err}`);
    else this.log(1, `ha: floating address ${f.cidr} ${op === 'add' ? 'added to' : 'removed from'} ${f.dev}`);
    // Neighbours still have the dead node's MAC for the address: a gratuitous ARP moves them (iputils-arping).
    if (op === 'add') void run('arping', ['-U', '-c', '2', '-I', f.dev, f.cidr.split('/')[0] ?? f.cidr]);
  }

  status(): HaStatus {
    const now = this.daemon.now();
    const st = this.node.replicator.stats(now);
    return {
      node: this.s.node,
      role: this.role,
      store: { url: this.s.store, reachable: this.reachable, ...(this.lastError && !this.reachable ? { lastError: this.lastError } : {}) },
      lease: this.lease ? this.lease.describe(now) : (this.lastDecision ?? 'not held'),
      ...(this.lease ? { token: this.lease.token } : {}),
      replication: { pending: st.pending, inFlight: st.inFlight, lagMs: Math.round(st.lagMs), ...(st.lastSyncAt !== undefined ? { lastSyncAgoMs: Math.round(now - st.lastSyncAt) } : {}), written: st.written, failures: st.failures },
      ...(this.role === 'standby' && this.lastDecision ? { takeover: this.lastDecision } : {}),
      ...(this.lastTakeover ? { lastTakeover: this.lastTakeover } : {}),
      writtenAt: Date.now(),
    };
  }

  private writeStatus(force = false): void {
    const file = this.s.statusFile;
    const now = Date.now();
    if (!file || (!force && now - this.lastStatusAt < 500)) return;
    this.lastStatusAt = now;
    try {
      writeFileSync(`${file}.tmp`, `${JSON.stringify(this.status(), null, 1)}\n`);
      renameSync(`${file}.tmp`, file);
    } catch (e) {
      this.log(1, `ha: status file ${file}: ${errText(e)}`);
    }
  }
}
