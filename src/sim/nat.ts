/**
 * A UDP NAPT box for the simulated network, behaving as RFC 4787 describes: endpoint-independent mapping
 * (REQ-1), a configurable filtering behaviour (REQ-8), mapping lifetime refreshed by outbound traffic (REQ-5,
 * REQ-6), sequential port allocation. Tests use `rebind()` and `setPublicAddress()` to make the mapping change
 * under a running IKE SA, as real home routers do (RFC 7296 section 2.23, RFC 4555 MOBIKE).
 */
import { addressKey, canonicalAddress, canonicalHost, type SimAddress } from './address.js';
import { SimError } from './errors.js';

export type NatFiltering = 'endpoint-independent' | 'address-dependent' | 'address-and-port-dependent';

export interface NatOptions {
  /** The NAT's outside address. */
  publicAddress: string;
  /** IP addresses of the hosts behind the NAT. */
  inside: readonly string[];
  /** Ports handed out for mappings, inclusive. Default 40000..60000. */
  portRange?: readonly [number, number];
  /** Idle time after which a mapping is gone (ms). Default 120000 (RFC 4787 REQ-5 minimum). */
  mappingTimeout?: number;
  /** Which outside senders may use a mapping (RFC 4787 section 5). Default 'address-dependent'. */
  filtering?: NatFiltering;
  /** Whether inbound packets refresh a mapping (RFC 4787 REQ-6 makes outbound refresh mandatory only). */
  inboundRefresh?: boolean;
  /**
   * Static port forwards: an inside host:port reachable from anyone at the same port of the public address, and
   * seen from there (a responder behind a NAT, e.g. both MOBIKE peers behind NATs). Never expire or rebind.
   */
  forwards?: readonly SimAddress[];
}

export interface NatMapping {
  readonly inside: SimAddress;
  readonly external: SimAddress;
  readonly createdAt: number;
  lastUsed: number;
  /** Outside hosts (and host:port) this mapping has sent to: the filter state. */
  readonly peers: Set<string>;
}

export interface NatCounters {
  translatedOut: number;
  translatedIn: number;
  mappingsCreated: number;
  droppedNoMapping: number;
  droppedFiltered: number;
}

export class SimNat {
  readonly name: string;
  #publicAddress: string;
  readonly #inside: Set<string>;
  readonly #portLo: number;
  readonly #portHi: number;
  #nextPort: number;
  readonly mappingTimeout: number;
  readonly filtering: NatFiltering;
  readonly inboundRefresh: boolean;
  readonly #byInside = new Map<string, NatMapping>();
  readonly #byPort = new Map<number, NatMapping>();
  /** Port forwards by public port. */
  readonly #forwards = new Map<number, SimAddress>();
  readonly counters: NatCounters = { translatedOut: 0, translatedIn: 0, mappingsCreated: 0, droppedNoMapping: 0, droppedFiltered: 0 };

  constructor(name: string, o: NatOptions) {
    this.name = name;
    this.#publicAddress = canonicalHost(o.publicAddress);
    this.#inside = new Set(o.inside.map(canonicalHost));
    const [lo, hi] = o.portRange ?? [40000, 60000];
    if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo < 1 || hi > 65535 || lo > hi) {
      throw new SimError('BAD_IMPAIRMENT', `NAT ${name}: port range ${lo}..${hi} is not within 1..65535`);
    }
    this.#portLo = lo;
    this.#portHi = hi;
    this.#nextPort = lo;
    this.mappingTimeout = o.mappingTimeout ?? 120_000;
    this.filtering = o.filtering ?? 'address-dependent';
    this.inboundRefresh = o.inboundRefresh ?? false;
    for (const f of o.forwards ?? []) {
      const inside = canonicalAddress(f);
      if (!this.#inside.has(inside.address)) throw new SimError('BAD_IMPAIRMENT', `NAT ${name}: forward to ${addressKey(inside)}, which is not inside`);
      if (this.#forwards.has(inside.port)) throw new SimError('BAD_IMPAIRMENT', `NAT ${name}: port ${inside.port} forwarded twice`);
      this.#forwards.set(inside.port, inside);
    }
  }

  get publicAddress(): string {
    return this.#publicAddress;
  }

  /** Whether `host` (an IP string, canonical) sits behind this NAT. */
  isInside(host: string): boolean {
    return this.#inside.has(host);
  }

  /** Live mappings at `now` (expired ones are removed first). */
  mappings(now?: number): NatMapping[] {
    if (now !== undefined) this.#expire(now);
    return [...this.#byInside.values()];
  }

  /** The external address a host:port currently appears as, if it has a live mapping. */
  externalOf(inside: SimAddress, now?: number): SimAddress | undefined {
    if (now !== undefined) this.#expire(now);
    return this.#byInside.get(addressKey(canonicalAddress(inside)))?.external;
  }

  /**
   * Forgets mappings (all, or those of one inside host or host:port) so the next outbound packet gets a new
   * external port: what a NAT reboot or a timed-out mapping looks like to the peer.
   */
  rebind(inside?: string | SimAddress): number {
    let n = 0;
    for (const [k, m] of this.#byInside) {
      const match =
        inside === undefined ||
        (typeof inside === 'string' ? m.inside.address === canonicalHost(inside) : addressKey(canonicalAddress(inside)) === k);
      if (match) {
        this.#byInside.delete(k);
        this.#byPort.delete(m.external.port);
        n++;
      }
    }
    return n;
  }

  /** Changes the outside address (e.g. a new DHCP lease); existing mappings are dropped. */
  setPublicAddress(address: string): void {
    this.#publicAddress = canonicalHost(address);
    this.rebind();
  }

  /** Outbound: rewrites the source of a packet from an inside host. Never fails (allocates a mapping). */
  translateOutbound(from: SimAddress, to: SimAddress, now: number): SimAddress {
    this.#expire(now);
    const fwd = this.#forwards.get(from.port);
    if (fwd && addressKey(fwd) === addressKey(from)) {
      this.counters.translatedOut++;
      return { address: this.#publicAddress, port: from.port };
    }
    const k = addressKey(from);
    let m = this.#byInside.get(k);
    if (!m) {
      const port = this.#allocatePort();
      m = { inside: from, external: { address: this.#publicAddress, port }, createdAt: now, lastUsed: now, peers: new Set() };
      this.#byInside.set(k, m);
      this.#byPort.set(port, m);
      this.counters.mappingsCreated++;
    }
    m.lastUsed = now;
    m.peers.add(to.address);
    m.peers.add(addressKey(to));
    this.counters.translatedOut++;
    return m.external;
  }

  /** Inbound to the public address: the inside destination, or undefined when there is no (permitted) mapping. */
  translateInbound(from: SimAddress, to: SimAddress, now: number): SimAddress | undefined {
    this.#expire(now);
    const fwd = this.#forwards.get(to.port);
    if (fwd) {
      this.counters.translatedIn++;
      return fwd;
    }
    const m = this.#byPort.get(to.port);
    if (!m) {
      this.counters.droppedNoMapping++;
      return undefined;
    }
    const allowed =
      this.filtering === 'endpoint-independent' ||
      (this.filtering === 'address-dependent' && m.peers.has(from.address)) ||
      (this.filtering === 'address-and-port-dependent' && m.peers.has(addressKey(from)));
    if (!allowed) {
      this.counters.droppedFiltered++;
      return undefined;
    }
    if (this.inboundRefresh) m.lastUsed = now;
    this.counters.translatedIn++;
    return m.inside;
  }

  #expire(now: number): void {
    for (const [k, m] of this.#byInside) {
      if (now - m.lastUsed >= this.mappingTimeout) {
        this.#byInside.delete(k);
        this.#byPort.delete(m.external.port);
      }
    }
  }

  #allocatePort(): number {
    const span = this.#portHi - this.#portLo + 1;
    for (let i = 0; i < span; i++) {
      const p = this.#nextPort;
      this.#nextPort = p === this.#portHi ? this.#portLo : p + 1;
      if (!this.#byPort.has(p)) return p;
    }
    throw new SimError('NAT_EXHAUSTED', `NAT ${this.name}: all ${span} ports are mapped`);
  }
}
