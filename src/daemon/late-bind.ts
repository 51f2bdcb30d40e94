/**
 * Local addresses that are not on any interface yet (a concrete local_addrs entry on a link still coming up, a
 * DHCP lease, IPv6 DAD): the daemon starts without them and binds each one when it appears, as charon does when
 * kernel-netlink reports a new address. The driver (with watchAddresses, which `cygnet daemon` sets) hears
 * rtnetlink's RTM_NEWADDR/DELADDR and link changes through src/sys/netlink-monitor.ts and polls at once when an
 * address appears (`addressChange` below says what an event means); without the monitor (no `ip`, not Linux) it
 * polls the interface list (os.networkInterfaces(), getifaddrs: cheap, no process spawn) every few seconds while
 * something is pending or local_addrs has a wildcard (new interface addresses are then bound too).
 */
import { networkInterfaces } from 'node:os';
import type { NetlinkEvent } from '../sys/netlink-monitor.js';

/** How often the driver looks for late-appearing addresses. */
export const ADDRESS_POLL_MS = 5000;

export interface LateBindOptions {
  /** Addresses on the host's interfaces now. */
  readonly present: () => readonly string[];
  /** Binds every port on `address`; rejects (EADDRNOTAVAIL) when the kernel does not have it yet. */
  readonly bind: (address: string) => Promise<void>;
  readonly log: (level: number, message: string) => void;
}

export class LateBinder {
  private readonly pending = new Set<string>();
  private busy = false;

  constructor(private readonly opts: LateBindOptions) {}

  /** Remembers an address that could not be bound yet. */
  add(address: string): void {
    if (this.pending.has(address)) return;
    this.pending.add(address);
    this.opts.log(1, `local address ${address} is not present yet, binding it when it appears`);
  }

  get waiting(): readonly string[] {
    return [...this.pending];
  }

  /**
   * One poll: binds pending addresses that are now present, and `extra` ones (new interface addresses when
   * local_addrs has a wildcard) not bound yet. Returns the addresses bound.
   */
  async poll(extra: readonly string[] = [], bound: (a: string) => boolean = () => false): Promise<string[]> {
    if (this.busy) return [];
    this.busy = true;
    try {
      const present = new Set(this.opts.present());
      const done: string[] = [];
      for (const a of new Set([...this.pending, ...extra.filter((x) => !bound(x))])) {
        if (!present.has(a)) continue;
        try {
          await this.opts.bind(a);
          this.pending.delete(a);
          done.push(a);
          this.opts.log(1, `local address ${a} appeared, bound it`);
        } catch (e) {
          // Listed but not usable yet (IPv6 tentative address): stays pending, tried again at the next poll.
          this.pending.add(a);
          this.opts.log(2, `local address ${a} listed but not bindable yet: ${e instanceof Error ? e.message : String(e)}`);
        }
      }
      return done;
    } finally {
      this.busy = false;
    }
  }
}

/** Every address on the host's interfaces. */
export function interfaceAddresses(): string[] {
  return Object.values(networkInterfaces()).flatMap((l) => (l ?? []).map((i) => i.address));
}

/** What one rtnetlink event means for the daemon: addresses now usable, and addresses gone (with why). */
export interface AddressChange {
  readonly appeared: readonly string[];
  readonly gone: readonly string[];
  readonly why: string;
}

/**
 * An rtnetlink event (src/sys/netlink-monitor.ts) as addresses appeared or gone. A tentative IPv6 address is not
 * usable yet (RFC 4862 5.4: DAD runs; the kernel reports it again without the flag). Link-local addresses are
 * not bound (late-bind's extra addresses skip fe80::/10 too). A link going down takes its addresses with it for
 * IKE's purposes (charon's kernel-netlink treats it so for roaming); `linkAddresses` gives a link's addresses.
 */
export function addressChange(e: NetlinkEvent, linkAddresses: (ifname: string) => readonly string[] = interfaceAddressesOf): AddressChange | undefined {
  switch (e.type) {
    case 'address-added':
      if (e.tentative || e.scope === 'link' || e.scope === 'host') return undefined;
      return { appeared: [e.address], gone: [], why: `RTM_NEWADDR on ${e.ifname}` };
    case 'address-removed':
      if (e.scope === 'link' || e.scope === 'host') return undefined;
      return { appeared: [], gone: [e.address], why: `RTM_DELADDR on ${e.ifname}` };
    case 'link': {
      const addrs = linkAddresses(e.ifname).filter((a) => !a.toLowerCase().startsWith('fe80') && a !== '127.0.0.1' && a !== '::1');
      if (addrs.length === 0) return undefined;
      return e.up ? { appeared: addrs, gone: [], why: `link ${e.ifname} up` } : { appeared: [], gone: addrs, why: `link ${e.ifname} down` };
    }
    case 'link-removed':
      return undefined;
  }
}

/** The addresses os.networkInterfaces() lists for `ifname` (libuv lists only links that are up and running). */
export function interfaceAddressesOf(ifname: string): string[] {
  return (networkInterfaces()[ifname] ?? []).map((i) => i.address);
}

/**
 * The addresses of each link as rtnetlink reported them, seeded from the interface list while the links are up:
 * once a link is down os.networkInterfaces() no longer lists it (libuv skips links not up), but its IPv4
 * addresses are still configured, and they are what a link-down event must report gone.
 */
export class LinkAddresses {
  private readonly byLink = new Map<string, Set<string>>();

  constructor(seed: Readonly<Record<string, readonly { readonly address: string }[] | undefined>> = networkInterfaces()) {
    for (const [ifname, list] of Object.entries(seed)) for (const i of list ?? []) this.add(ifname, i.address);
  }

  /** Follows an address event (call after addressChange, so a link event sees the addresses it had). */
  apply(e: NetlinkEvent): void {
    if (e.type === 'address-added') this.add(e.ifname, e.address);
    else if (e.type === 'address-removed') this.byLink.get(e.ifname)?.delete(e.address);
    else if (e.type === 'link-removed') this.byLink.delete(e.ifname);
  }

  of(ifname: string): string[] {
    return [...(this.byLink.get(ifname) ?? [])];
  }

  private add(ifname: string, address: string): void {
    const set = this.byLink.get(ifname) ?? new Set<string>();
    set.add(address);
    this.byLink.set(ifname, set);
  }
}
