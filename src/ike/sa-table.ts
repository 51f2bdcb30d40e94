/**
 * The endpoint's IKE SAs, indexed so that per-datagram work does not grow with their number (issue 11): by our
 * SPI, by id, by (SPIi, remote) for the responder's retransmission check (RFC 7296 2.1), CHILD SAs by SPI and id,
 * and the half-open and established SAs with per-address half-open counts kept incrementally.
 *
 * Exchanges change SA state through transition() (src/ike/sa-state.ts), so the derived sets are brought up to date by `sync(sa)`,
 * which the endpoint calls for every SA an operation touched, before it returns to the driver.
 *
 * Half-open also counts "charges": IKE_SA_INIT requests that cost a key exchange but left no SA behind (they failed
 * after it). Each is held for half_open_timeout like the SA it would have been, so requests that fail late cannot
 * slip past cookie_threshold and the other limits (strongSwan counts unprocessed IKE_SA_INITs for the same reason).
 */
import type { Address } from './config.js';
import { spiHex, type ChildSa, type IkeSa } from './ike-sa.js';

export function initKey(spiI: Uint8Array, remote: Address): string {
  return `${spiHex(spiI)}|${remote.address}|${remote.port}`;
}

export class SaTable {
  private readonly bySpi = new Map<string, IkeSa>();
  private readonly byId = new Map<number, IkeSa>();
  /**
   * Responder SAs by initKey. The key each was filed under is kept on the SA (IkeSa.tableInitKey: its remote
   * port may move to 4500 later, RFC 7296 2.23), not in a second map (one hash entry per SA less, issue 17).
   */
  private readonly byInit = new Map<string, IkeSa>();
  private readonly childIn = new Map<number, IkeSa>();
  private readonly childOut = new Map<number, IkeSa>();
  private readonly childId = new Map<number, IkeSa>();
  /**
   * Established SAs by connection and by (connection, peer identity): INITIAL_CONTACT, unique IDs and the restart
   * checks look there instead of scanning every SA (at 100k SAs the scans took 83% of the responder's time).
   */
  private readonly byConn = new Map<string, Set<IkeSa>>();
  /** One SA per (connection, peer) is the rule: it is kept without a Set of its own (~180 bytes per SA, issue 17). */
  private readonly byPeer = new Map<string, IkeSa | Set<IkeSa>>();
  // The byPeer key each filed SA is under, `${conn}\u0000${peerKey}` (connection names hold no NUL), is kept on the
  // SA (IkeSa.tablePeerKey), not in a map of its own.
  /** Half-open responder SAs with the address they are counted under. */
  private readonly halfOpen = new Map<IkeSa, string>();
  private readonly perAddress = new Map<string, number>();
  /** Charged IKE_SA_INIT requests without an SA, by initKey, in expiry order (a FIFO: one timeout for all). */
  private readonly charges = new Map<string, { address: string; until: number }>();
  private chargeQueue: { key: string; until: number }[] = [];
  private chargeHead = 0;

  get size(): number {
    return this.bySpi.size;
  }

  values(): IterableIterator<IkeSa> {
    return this.bySpi.values();
  }

  has(sa: IkeSa): boolean {
    return this.byId.get(sa.id) === sa;
  }

  bySpiHex(spi: string): IkeSa | undefined {
    return this.bySpi.get(spi);
  }

  spiInUse(spi: string): boolean {
    return this.bySpi.has(spi);
  }

  byIdOf(id: number): IkeSa | undefined {
    return this.byId.get(id);
  }

  byInitKey(key: string): IkeSa | undefined {
    return this.byInit.get(key);
  }

  add(sa: IkeSa): void {
    this.bySpi.set(spiHex(sa.localSpi), sa);
    this.byId.set(sa.id, sa);
    if (!sa.initiator && sa.tableInitKey === undefined) {
      const key = initKey(sa.spiI, sa.remote);
      this.byInit.set(key, sa);
      sa.tableInitKey = key;
      this.uncharge(key);
    }
    this.sync(sa);
  }

  remove(sa: IkeSa): void {
    const spi = spiHex(sa.localSpi);
    if (this.bySpi.get(spi) === sa) this.bySpi.delete(spi);
    if (this.byId.get(sa.id) === sa) this.byId.delete(sa.id);
    const key = sa.tableInitKey;
    if (key !== undefined) {
      sa.tableInitKey = undefined;
      if (this.byInit.get(key) === sa) this.byInit.delete(key);
    }
    for (const c of sa.children) this.unindexChild(sa, c);
    this.unfile(sa);
    this.setHalfOpen(sa, false);
  }

  /** Brings the derived sets in line with the SA's current state and children. O(children of sa). */
  sync(sa: IkeSa): void {
    if (!this.has(sa)) return;
    this.setHalfOpen(sa, !sa.initiator && sa.state === 'CONNECTING');
    // Established SAs are filed by connection and peer below; no separate set of them (one hash entry per SA less).
    if (sa.state === 'ESTABLISHED') this.file(sa);
    else this.unfile(sa);
    for (const c of sa.children) {
      this.childIn.set(c.spiIn, sa);
      this.childOut.set(c.spiOut, sa);
      this.childId.set(c.id, sa);
    }
  }

  unindexChild(sa: IkeSa, c: ChildSa): void {
    if (this.childIn.get(c.spiIn) === sa) this.childIn.delete(c.spiIn);
    if (this.childOut.get(c.spiOut) === sa) this.childOut.delete(c.spiOut);
    if (this.childId.get(c.id) === sa) this.childId.delete(c.id);
  }

  /** The IKE SA holding the CHILD SA with this inbound (or, with `either`, outbound) SPI, and the child. */
  childBySpi(spi: number, either = false): { sa: IkeSa; child: ChildSa } | undefined {
    for (const m of either ? [this.childIn, this.childOut] : [this.childIn]) {
      const sa = m.get(spi);
      const child = sa?.children.find((c) => c.spiIn === spi || (either && c.spiOut === spi));
      if (sa && child) return { sa, child };
    }
    return undefined;
  }

  childById(id: number): { sa: IkeSa; child: ChildSa } | undefined {
    const sa = this.childId.get(id);
    const child = sa?.children.find((c) => c.id === id);
    return sa && child ? { sa, child } : undefined;
  }

  /** Established SAs of connection `conn`, with peer identity `peer` (its text key, peerKey()) if given. */
  establishedWith(conn: string, peer?: string): ReadonlySet<IkeSa> {
    if (peer === undefined) return this.byConn.get(conn) ?? EMPTY;
    const v = this.byPeer.get(`${conn}\u0000${peer}`);
    return v === undefined ? EMPTY : v instanceof Set ? v : new Set([v]);
  }

  private file(sa: IkeSa): void {
    const conn = sa.conn?.name;
    if (conn === undefined || sa.tablePeerKey !== undefined) return;
    const peer = `${conn}\u0000${peerKey(sa.remoteId)}`;
    sa.tablePeerKey = peer;
    add(this.byConn, conn, sa);
    const v = this.byPeer.get(peer);
    if (v === undefined) this.byPeer.set(peer, sa);
    else if (v instanceof Set) v.add(sa);
    else if (v !== sa) this.byPeer.set(peer, new Set([v, sa]));
  }

  private unfile(sa: IkeSa): void {
    const peer = sa.tablePeerKey;
    if (peer === undefined) return;
    sa.tablePeerKey = undefined;
    del(this.byConn, peer.slice(0, peer.indexOf('\u0000')), sa);
    const v = this.byPeer.get(peer);
    if (v === sa) this.byPeer.delete(peer);
    else if (v instanceof Set) {
      v.delete(sa);
      if (v.size === 0) this.byPeer.delete(peer);
    }
  }

  halfOpenCount(): number {
    return this.halfOpen.size + this.charges.size;
  }

  halfOpenFrom(address: string): number {
    return this.perAddress.get(address) ?? 0;
  }

  /** Counts a request that cost work but left no SA as half-open until `until` (see the header comment). */
  charge(key: string, address: string, until: number): void {
    if (this.charges.has(key)) return;
    this.charges.set(key, { address, until });
    this.chargeQueue.push({ key, until });
    this.bump(address, 1);
  }

  charged(key: string): boolean {
    return this.charges.has(key);
  }

  /** The earliest expiry of a charge. */
  nextChargeExpiry(): number | undefined {
    return this.firstLiveCharge()?.until;
  }

  /** The queue's first entry still matching its charge, skipping (and passing) stale ones; undefined at the end. */
  private firstLiveCharge(): { key: string; until: number } | undefined {
    for (;;) {
      const e = this.chargeQueue[this.chargeHead];
      if (e === undefined || this.charges.get(e.key)?.until === e.until) return e;
      this.chargeHead++;
    }
  }

  /** Releases charges due at `now`. Returns how many. */
  expireCharges(now: number): number {
    let n = 0;
    for (let e = this.firstLiveCharge(); e !== undefined && e.until <= now; e = this.firstLiveCharge()) {
      this.uncharge(e.key);
      this.chargeHead++;
      n++;
    }
    if (this.chargeHead > 1024 && this.chargeHead * 2 > this.chargeQueue.length) {
      this.chargeQueue = this.chargeQueue.slice(this.chargeHead);
      this.chargeHead = 0;
    }
    return n;
  }

  private uncharge(key: string): void {
    const c = this.charges.get(key);
    if (!c) return;
    this.charges.delete(key);
    this.bump(c.address, -1);
  }

  private setHalfOpen(sa: IkeSa, on: boolean): void {
    const counted = this.halfOpen.get(sa);
    if (on && counted === undefined) {
      this.halfOpen.set(sa, sa.remote.address);
      this.bump(sa.remote.address, 1);
    } else if (!on && counted !== undefined) {
      this.halfOpen.delete(sa);
      this.bump(counted, -1);
    }
  }

  private bump(address: string, d: number): void {
    const n = (this.perAddress.get(address) ?? 0) + d;
    if (n <= 0) this.perAddress.delete(address);
    else this.perAddress.set(address, n);
  }
}

const EMPTY: ReadonlySet<IkeSa> = new Set();

/** An identity as an index key: its type and bytes. */
export function peerKey(id: { readonly type: number; readonly data: Uint8Array }): string {
  return `${id.type}:${Buffer.from(id.data).toString('hex')}`;
}

function add(m: Map<string, Set<IkeSa>>, k: string, sa: IkeSa): void {
  const s = m.get(k);
  if (s) s.add(sa);
  else m.set(k, new Set([sa]));
}

function del(m: Map<string, Set<IkeSa>>, k: string, sa: IkeSa): void {
  const s = m.get(k);
  if (!s) return;
  s.delete(sa);
  if (s.size === 0) m.delete(k);
}
