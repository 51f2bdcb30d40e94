/**
 * An in-memory datagram network for driving sans-IO endpoints in virtual time (DESIGN.md section 5).
 *
 * 1. `send(from, to, bytes, now)` copies the datagram, applies NAT boxes, scripted drop rules, MTU, loss,
 *    duplication, delay, jitter and reordering, and queues it for `now + delay`.
 * 2. `poll(now)` (or `deliverDue(now)` to hand them to bound receivers) returns the datagrams due, ordered by
 *    delivery time and then by send order, so a run is a pure function of the seed and the script.
 * 3. Every random decision comes from the injected RandomSource, with a fixed number of draws per send: changing
 *    the loss rate does not shift the jitter of other packets, and a seed reproduces a run exactly.
 * 4. Counters and an optional capture log record what happened, for assertions.
 */
import type { RandomSource } from '../crypto/random.js';
import { addressKey, canonicalAddress, canonicalHost, type SimAddress } from './address.js';
import { SimError } from './errors.js';
import { SimNat, type NatOptions } from './nat.js';

export type { SimAddress } from './address.js';

export interface Impairment {
  /** Fixed one-way delay (ms). */
  delay: number;
  /** Extra uniform random delay in [0, jitter) ms per datagram (also reorders when larger than the gap). */
  jitter: number;
  /** Probability that a datagram is lost. */
  loss: number;
  /** Probability that a datagram is delivered twice (the copy gets its own jitter). */
  duplicate: number;
  /** Probability that a datagram is held back by an extra uniform [0, reorderDelay) ms. */
  reorder: number;
  reorderDelay: number;
  /** Datagrams larger than this are dropped ('too-big'); undefined means no limit. */
  mtu: number | undefined;
}

export const NO_IMPAIRMENT: Readonly<Impairment> = Object.freeze({
  delay: 0,
  jitter: 0,
  loss: 0,
  duplicate: 0,
  reorder: 0,
  reorderDelay: 10,
  mtu: undefined,
});

export interface Datagram {
  /** Send sequence number; a duplicate shares the id of its original. */
  readonly id: number;
  /** Source as seen by the receiver (after NAT). */
  readonly from: SimAddress;
  /** Destination as delivered (after NAT). */
  readonly to: SimAddress;
  readonly bytes: Uint8Array;
  readonly sentAt: number;
  readonly deliverAt: number;
  readonly duplicate: boolean;
  /** Addresses as the sender wrote them, before any NAT. */
  readonly origFrom: SimAddress;
  readonly origTo: SimAddress;
}

export type DropReason = 'loss' | 'filter' | 'too-big' | 'nat' | 'no-receiver';

export interface CaptureEntry {
  readonly time: number;
  readonly event: 'send' | 'deliver' | 'drop';
  readonly id: number;
  readonly from: SimAddress;
  readonly to: SimAddress;
  readonly bytes: Uint8Array;
  readonly reason?: DropReason;
  readonly duplicate?: boolean;
}

export interface NetworkCounters {
  sent: number;
  delivered: number;
  duplicated: number;
  reordered: number;
  bytesSent: number;
  bytesDelivered: number;
  dropped: Record<DropReason, number>;
}

/** What a drop rule sees: the datagram as sent (before NAT) and when. */
export interface SendInfo {
  readonly id: number;
  readonly from: SimAddress;
  readonly to: SimAddress;
  readonly bytes: Uint8Array;
  readonly now: number;
}

export interface DropRule {
  /** How many datagrams this rule has dropped. */
  readonly dropped: number;
  remove(): void;
}

export type Receiver = (d: Datagram, now: number) => void;

export interface SimNetworkOptions {
  random: RandomSource;
  /** Default impairment for every link. */
  impairment?: Partial<Impairment>;
  /** Keep a capture log (default true). */
  capture?: boolean;
}

interface RuleState {
  match: (p: SendInfo) => boolean;
  /** Drop only the nth match (1-based); undefined drops every match. */
  nth: number | undefined;
  matches: number;
  dropped: number;
  limit: number;
  removed: boolean;
}

/** A buffered stream of uniform floats in [0, 1) drawn from a RandomSource (32 bits each). */
class UniformStream {
  readonly #src: RandomSource;
  readonly #buf = new Uint8Array(1024);
  readonly #view = new DataView(this.#buf.buffer);
  #pos = this.#buf.length;
  constructor(src: RandomSource) {
    this.#src = src;
  }
  next(): number {
    if (this.#pos >= this.#buf.length) {
      this.#src.fill(this.#buf);
      this.#pos = 0;
    }
    const v = this.#view.getUint32(this.#pos, true);
    this.#pos += 4;
    return v / 0x1_0000_0000;
  }
}

function validateImpairment(i: Partial<Impairment>, where: string): void {
  for (const k of ['loss', 'duplicate', 'reorder'] as const) {
    const v = i[k];
    if (v !== undefined && !(v >= 0 && v <= 1)) throw new SimError('BAD_IMPAIRMENT', `${where}: ${k} ${v} is not a probability in [0, 1]`);
  }
  for (const k of ['delay', 'jitter', 'reorderDelay'] as const) {
    const v = i[k];
    if (v !== undefined && !(Number.isFinite(v) && v >= 0)) throw new SimError('BAD_IMPAIRMENT', `${where}: ${k} ${v} is not a time >= 0`);
  }
  if (i.mtu !== undefined && !(Number.isInteger(i.mtu) && i.mtu > 0)) throw new SimError('BAD_IMPAIRMENT', `${where}: mtu ${i.mtu} is not a positive integer`);
}

export class SimNetwork {
  readonly counters: NetworkCounters = {
    sent: 0,
    delivered: 0,
    duplicated: 0,
    reordered: 0,
    bytesSent: 0,
    bytesDelivered: 0,
    dropped: { loss: 0, filter: 0, 'too-big': 0, nat: 0, 'no-receiver': 0 },
  };
  /** Every send, delivery and drop, in order (when capture is on). */
  readonly capture: CaptureEntry[] = [];
  captureEnabled: boolean;

  readonly #rng: UniformStream;
  #defaults: Impairment;
  readonly #links = new Map<string, Partial<Impairment>>();
  readonly #rules: RuleState[] = [];
  readonly #nats: SimNat[] = [];
  readonly #receivers = new Map<string, Receiver>();
  /** Pending deliveries sorted by (deliverAt, seq). */
  readonly #queue: Array<{ d: Datagram; seq: number }> = [];
  #seq = 0;
  #nextId = 1;

  constructor(o: SimNetworkOptions) {
    this.#rng = new UniformStream(o.random);
    validateImpairment(o.impairment ?? {}, 'network defaults');
    this.#defaults = { ...NO_IMPAIRMENT, ...o.impairment };
    this.captureEnabled = o.capture ?? true;
  }

  /** Replaces (merges into) the default impairment of every link. */
  setImpairment(i: Partial<Impairment>): void {
    validateImpairment(i, 'network defaults');
    this.#defaults = { ...this.#defaults, ...i };
  }

  /**
   * Overrides the impairment from host `from` to host `to` (IP strings, or '*' for any), merged over the
   * defaults; `undefined` removes the override. With `bidirectional` the reverse direction gets the same.
   * The most specific override wins: from->to, then from->*, then *->to.
   */
  setLink(from: string, to: string, i: Partial<Impairment> | undefined, opts: { bidirectional?: boolean } = {}): void {
    if (i) validateImpairment(i, `link ${from} -> ${to}`);
    const f = from === '*' ? '*' : canonicalHost(from);
    const t = to === '*' ? '*' : canonicalHost(to);
    const set = (a: string, b: string): void => {
      if (i) this.#links.set(`${a}>${b}`, i);
      else this.#links.delete(`${a}>${b}`);
    };
    set(f, t);
    if (opts.bidirectional) set(t, f);
  }

  /** The impairment that applies from host `from` to host `to` right now. */
  impairmentFor(from: string, to: string): Impairment {
    const o = this.#links.get(`${from}>${to}`) ?? this.#links.get(`${from}>*`) ?? this.#links.get(`*>${to}`);
    return o ? { ...this.#defaults, ...o } : this.#defaults;
  }

  /**
   * Scripted loss: drops datagrams for which `pred` returns true, up to `limit` of them (default unlimited).
   * `pred` sees the datagram as sent (before NAT). Rules act before random loss, on the sender's side.
   */
  dropIf(pred: (p: SendInfo) => boolean, opts: { limit?: number } = {}): DropRule {
    return this.#addRule({ match: pred, nth: undefined, matches: 0, dropped: 0, limit: opts.limit ?? Infinity, removed: false });
  }

  /**
   * Drops only the n-th (1-based) datagram that satisfies `match`; the others pass. "Drop the 2nd IKE_AUTH
   * response": `dropNth(p => isIkeAuthResponse(p.bytes), 2)`.
   */
  dropNth(match: (p: SendInfo) => boolean, n: number): DropRule {
    return this.#addRule({ match, nth: n, matches: 0, dropped: 0, limit: 1, removed: false });
  }

  #addRule(r: RuleState): DropRule {
    this.#rules.push(r);
    return {
      get dropped() {
        return r.dropped;
      },
      remove: () => {
        r.removed = true;
      },
    };
  }

  /** Puts hosts behind a NAT box; returns it for inspection and for scripted rebinding. */
  addNat(name: string, o: NatOptions): SimNat {
    const nat = new SimNat(name, o);
    this.#nats.push(nat);
    return nat;
  }

  /** Registers the receiver for datagrams delivered to `addr` by deliverDue(). Returns an unbind function. */
  bind(addr: SimAddress, receiver: Receiver): () => void {
    const k = addressKey(canonicalAddress(addr));
    this.#receivers.set(k, receiver);
    return () => {
      if (this.#receivers.get(k) === receiver) this.#receivers.delete(k);
    };
  }

  /** Sends a datagram (copied: the caller may reuse its buffer). Returns its id. */
  send(fromIn: SimAddress, toIn: SimAddress, bytes: Uint8Array, now: number): number {
    const origFrom = canonicalAddress(fromIn);
    const origTo = canonicalAddress(toIn);
    const id = this.#nextId++;
    const copy = bytes.slice();
    this.counters.sent++;
    this.counters.bytesSent += copy.length;
    // Fixed draws per datagram (point 3 above), taken before any decision.
    const rLoss = this.#rng.next();
    const rDup = this.#rng.next();
    const rReorder = this.#rng.next();
    const rJitter = this.#rng.next();
    const rReorderDelay = this.#rng.next();
    const rDupJitter = this.#rng.next();

    // NAT: outbound source rewrite, then inbound destination rewrite (so two NATs in a row work).
    let from = origFrom;
    let to = origTo;
    for (const nat of this.#nats) {
      if (nat.isInside(from.address) && !nat.isInside(to.address)) from = nat.translateOutbound(from, to, now);
    }
    let natDrop = false;
    for (const nat of this.#nats) {
      if (to.address === nat.publicAddress) {
        const inside = nat.translateInbound(from, to, now);
        if (!inside) {
          natDrop = true;
          break;
        }
        to = inside;
      }
    }
    this.#log({ time: now, event: 'send', id, from, to, bytes: copy });
    if (natDrop) return this.#drop(now, id, from, to, copy, 'nat');

    const info: SendInfo = { id, from: origFrom, to: origTo, bytes: copy, now };
    let filtered = false;
    for (const r of this.#rules) {
      // Every live rule sees every datagram, so a dropNth count is not disturbed by another rule's drop.
      if (r.removed || r.dropped >= r.limit || !r.match(info)) continue;
      r.matches++;
      if (r.nth === undefined || r.matches === r.nth) {
        r.dropped++;
        filtered = true;
      }
    }
    if (filtered) return this.#drop(now, id, from, to, copy, 'filter');

    const imp = this.impairmentFor(origFrom.address, to.address);
    if (imp.mtu !== undefined && copy.length > imp.mtu) return this.#drop(now, id, from, to, copy, 'too-big');
    if (rLoss < imp.loss) return this.#drop(now, id, from, to, copy, 'loss');

    let at = now + imp.delay + rJitter * imp.jitter;
    if (rReorder < imp.reorder) {
      at += rReorderDelay * imp.reorderDelay;
      this.counters.reordered++;
    }
    this.#enqueue({ id, from, to, bytes: copy, sentAt: now, deliverAt: at, duplicate: false, origFrom, origTo });
    if (rDup < imp.duplicate) {
      this.counters.duplicated++;
      const at2 = now + imp.delay + rDupJitter * imp.jitter;
      this.#enqueue({ id, from, to, bytes: copy.slice(), sentAt: now, deliverAt: at2, duplicate: true, origFrom, origTo });
    }
    return id;
  }

  /** Time of the earliest pending delivery, or undefined when nothing is in flight. */
  nextDeliveryTime(): number | undefined {
    return this.#queue[0]?.d.deliverAt;
  }

  /** Datagrams in flight. */
  get inFlight(): number {
    return this.#queue.length;
  }

  /** Removes and returns every datagram due at `now`, ordered by delivery time then send order. */
  poll(now: number): Datagram[] {
    let n = 0;
    while (n < this.#queue.length && this.#queue[n]!.d.deliverAt <= now) n++;
    if (n === 0) return [];
    const due = this.#queue.splice(0, n).map((e) => e.d);
    for (const d of due) {
      this.counters.delivered++;
      this.counters.bytesDelivered += d.bytes.length;
      this.#log({ time: now, event: 'deliver', id: d.id, from: d.from, to: d.to, bytes: d.bytes, duplicate: d.duplicate });
    }
    return due;
  }

  /**
   * Delivers every due datagram to its bound receiver, in poll() order; datagrams to unbound addresses are
   * counted as 'no-receiver' drops. Returns how many were handed to receivers.
   */
  deliverDue(now: number): number {
    let handed = 0;
    for (const d of this.poll(now)) {
      const r = this.#receivers.get(addressKey(d.to));
      if (r) {
        r(d, now);
        handed++;
      } else {
        this.counters.delivered--;
        this.counters.bytesDelivered -= d.bytes.length;
        this.#drop(now, d.id, d.from, d.to, d.bytes, 'no-receiver');
      }
    }
    return handed;
  }

  /** Capture entries filtered by event and/or endpoints (for assertions). */
  captured(f: { event?: CaptureEntry['event']; from?: Partial<SimAddress>; to?: Partial<SimAddress> } = {}): CaptureEntry[] {
    const m = (a: SimAddress, p?: Partial<SimAddress>): boolean =>
      !p || ((p.address === undefined || canonicalHost(p.address) === a.address) && (p.port === undefined || p.port === a.port));
    return this.capture.filter((e) => (f.event === undefined || e.event === f.event) && m(e.from, f.from) && m(e.to, f.to));
  }

  #enqueue(d: Datagram): void {
    const seq = this.#seq++;
    // Binary search for the first entry that must come after (deliverAt, seq): stable FIFO for equal times.
    let lo = 0;
    let hi = this.#queue.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#queue[mid]!.d.deliverAt <= d.deliverAt) lo = mid + 1;
      else hi = mid;
    }
    this.#queue.splice(lo, 0, { d, seq });
  }

  #drop(now: number, id: number, from: SimAddress, to: SimAddress, bytes: Uint8Array, reason: DropReason): number {
    this.counters.dropped[reason]++;
    this.#log({ time: now, event: 'drop', id, from, to, bytes, reason });
    return id;
  }

  #log(e: CaptureEntry): void {
    if (this.captureEnabled) this.capture.push(e);
  }
}
