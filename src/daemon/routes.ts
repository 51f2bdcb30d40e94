/**
 * Routes for the remote traffic selectors of installed CHILD SAs into the TUN device, so traffic for the peer's
 * subnets enters cygnet (what strongSwan's kernel-libipsec does with its `ipsec0` routes). The preferred source
 * is one of our own addresses inside the local selectors, as charon picks it, so a plain `ping PEER_SUBNET_HOST`
 * leaves with an address the peer's policy accepts.
 *
 * Routes are reference-counted by (prefix, source): a rekeyed CHILD SA with the same selectors keeps the route;
 * the last CHILD SA that needs it removes it. `ip` runs are serialized in one promise chain, so an add and a
 * remove of the same route never overtake each other. Virtual IPs assigned by the peer go on the device first
 * and are the preferred source. A remote selector that contains the peer's own outer
 * address is not routed (IKE and ESP to the peer would loop into the tunnel); that needs policy routing
 * (issue 7) and is logged.
 */
import { networkInterfaces } from 'node:os';
import type { ChildSaInfo } from '../ike/events.js';
import { compareAddr, type TrafficSelector } from '../ike/traffic-selector.js';
import { formatIp, parseIp } from '../net/ip-address.js';
import { addAddress, addRoute, removeAddress, removeRoute, runIp, type IpRunner } from '../tun/linux-net.js';
import type { Logger } from './logger.js';

/** The fewest CIDR prefixes that cover exactly [start, end] (both the same family, start <= end). */
export function rangeToPrefixes(start: Uint8Array, end: Uint8Array): string[] {
  const bits = start.length * 8;
  let cur = toBig(start);
  const last = toBig(end);
  const out: string[] = [];
  while (cur <= last) {
    // The largest block aligned at `cur` that does not run past `last`.
    let size = 0;
    while (size < bits && (cur & ((1n << BigInt(size + 1)) - 1n)) === 0n && cur + (1n << BigInt(size + 1)) - 1n <= last) size++;
    out.push(`${formatIp(fromBig(cur, start.length))}/${bits - size}`);
    cur += 1n << BigInt(size);
  }
  return out;
}

function toBig(b: Uint8Array): bigint {
  let v = 0n;
  for (const x of b) v = (v << 8n) | BigInt(x);
  return v;
}

function fromBig(v: bigint, len: number): Uint8Array {
  const b = new Uint8Array(len);
  for (let i = len - 1; i >= 0; i--) {
    b[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return b;
}

function inTs(addr: Uint8Array, ts: TrafficSelector): boolean {
  return addr.length === ts.startAddr.length && compareAddr(addr, ts.startAddr) >= 0 && compareAddr(addr, ts.endAddr) <= 0;
}

/** Our interface addresses (non-link-local), as bytes. */
export function interfaceAddresses(): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const list of Object.values(networkInterfaces()))
    for (const i of list ?? []) {
      const b = parseIp(i.address.split('%')[0]!);
      if (b && !(b.length === 16 && b[0] === 0xfe && (b[1]! & 0xc0) === 0x80)) out.push(b);
    }
  return out;
}

interface RouteKey {
  readonly prefix: string;
  readonly src: string | undefined;
}

export class TunRoutes {
  private readonly refs = new Map<string, { key: RouteKey; count: number }>();
  /** Virtual IPs put on the device (RFC 7296 3.15 INTERNAL_IP4/6_ADDRESS), preferred as route sources. */
  private readonly vips: Uint8Array[] = [];
  /** Route ids per owner (`child:<id>` or `trap:<conn>/<child>`). */
  private readonly byChild = new Map<string, string[]>();
  private readonly addresses: string[] = [];
  private chain: Promise<void> = Promise.resolve();

  constructor(
    readonly device: string,
    private readonly log: Logger,
    private readonly run: IpRunner = runIp,
    private readonly localAddresses: () => Uint8Array[] = interfaceAddresses,
  ) {}

  /** The routes a CHILD SA needs: its remote selectors as prefixes, with a source inside its local selectors. */
  routesFor(c: ChildSaInfo): RouteKey[] {
    return this.routesForSelectors(c.localTs, c.remoteTs, c.remote.address);
  }

  private routesForSelectors(localTs: readonly TrafficSelector[], remoteTs: readonly TrafficSelector[], peerAddress: string | undefined): RouteKey[] {
    const peer = peerAddress !== undefined ? parseIp(peerAddress) : undefined;
    // A virtual IP inside the local selectors is the source to use (it is what the peer's policy allows).
    const locals = [...this.vips, ...this.localAddresses()];
    const out: RouteKey[] = [];
    for (const ts of remoteTs) {
      if (peer && inTs(peer, ts)) {
        this.log.log('knl', 1, `not routing ${formatIp(ts.startAddr)}-${formatIp(ts.endAddr)} into ${this.device}: it contains the peer ${peerAddress} (needs policy routing)`);
        continue;
      }
      const srcBytes = locals.find((a) => a.length === ts.startAddr.length && localTs.some((l) => inTs(a, l)));
      const src = srcBytes ? formatIp(srcBytes) : undefined;
      for (const prefix of rangeToPrefixes(ts.startAddr, ts.endAddr)) out.push({ prefix, src });
    }
    return out;
  }

  childUp(c: ChildSaInfo): void {
    this.add(`child:${c.id}`, this.routesFor(c));
  }

  /** Routes for a trap policy (start_action = trap), so the first packet reaches the TUN and triggers ACQUIRE. */
  trapUp(name: string, localTs: readonly TrafficSelector[], remoteTs: readonly TrafficSelector[], peerAddress: string | undefined): void {
    this.add(`trap:${name}`, this.routesForSelectors(localTs, remoteTs, peerAddress));
  }

  trapDown(name: string): void {
    this.removeOwner(`trap:${name}`);
  }

  private add(owner: string, keys: readonly RouteKey[]): void {
    if (this.byChild.has(owner)) return;
    const ids: string[] = [];
    for (const key of keys) {
      const id = `${key.prefix}|${key.src ?? ''}`;
      ids.push(id);
      const r = this.refs.get(id);
      if (r) r.count++;
      else {
        this.refs.set(id, { key, count: 1 });
        this.enqueue(`installed route ${key.prefix} dev ${this.device}${key.src ? ` src ${key.src}` : ''}`, () => addRoute(key.prefix, this.device, key.src ? { src: key.src } : {}, this.run));
      }
    }
    this.byChild.set(owner, ids);
  }

  private removeOwner(owner: string): void {
    const ids = this.byChild.get(owner);
    if (!ids) return;
    this.byChild.delete(owner);
    for (const id of ids) this.release(id);
  }

  /**
   * Puts a virtual IP on the device (host prefix), queued before any route that uses it as its source; removed
   * on cleanup (issue 7: "addresses for virtual IPs ... are installed and removed on exit").
   */
  addVirtualIp(address: string): void {
    const b = parseIp(address);
    if (!b || this.vips.some((v) => compareAddr(v, b) === 0 && v.length === b.length)) return;
    this.vips.push(b);
    const cidr = `${formatIp(b)}/${b.length * 8}`;
    this.enqueue(`installed virtual IP ${cidr} on ${this.device}`, () => addAddress(this.device, cidr, this.run, { nodad: true }));
    this.addresses.push(cidr);
  }

  childDown(c: ChildSaInfo): void {
    this.removeOwner(`child:${c.id}`);
  }

  /** Removes every route still installed and waits for all `ip` runs to finish. */
  async cleanup(): Promise<void> {
    for (const id of [...this.refs.keys()]) {
      const r = this.refs.get(id)!;
      r.count = 1;
      this.release(id);
    }
    this.byChild.clear();
    for (const cidr of this.addresses.splice(0)) this.enqueue(`removed virtual IP ${cidr} from ${this.device}`, () => removeAddress(this.device, cidr, this.run));
    this.vips.length = 0;
    await this.chain;
  }

  /** Resolves when every queued `ip` command has run. */
  settled(): Promise<void> {
    return this.chain;
  }

  private release(id: string): void {
    const r = this.refs.get(id);
    if (!r) return;
    if (--r.count > 0) return;
    this.refs.delete(id);
    const { key } = r;
    this.enqueue(`removed route ${key.prefix} dev ${this.device}`, () => removeRoute(key.prefix, this.device, key.src ? { src: key.src } : {}, this.run));
  }

  private enqueue(what: string, f: () => Promise<unknown>): void {
    this.chain = this.chain.then(
      () =>
        f().then(
          () => this.log.log('knl', 1, what),
          (e: unknown) => this.log.log('knl', 0, `${what} failed: ${e instanceof Error ? e.message : String(e)}`),
        ),
      () => undefined,
    );
  }
}
