/**
 * Local addresses that are not on any interface yet (a concrete local_addrs entry on a link still coming up, a
 * DHCP lease, IPv6 DAD): the daemon starts without them and binds each one when it appears, as charon does when
 * kernel-netlink reports a new address. Node has no netlink events, so the driver polls the interface list
 * (os.networkInterfaces(), getifaddrs: cheap, no process spawn) every few seconds while something is pending or
 * local_addrs has a wildcard (new interface addresses are then bound too).
 */
import { networkInterfaces } from 'node:os';

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
