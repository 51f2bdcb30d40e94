/**
 * Local addresses for the daemon driver (issue 15): binding the configured ones at start, late binding of those
 * not present yet and, with a wildcard local_addrs, of new interface addresses (late-bind.ts: an interface poll),
 * and rtnetlink events (src/sys/netlink-monitor.ts) that bind at once and report addresses that appear or go to
 * the core. Owns the poll interval and the monitor process; stop() ends both.
 */
import { NetlinkMonitor } from '../sys/netlink-monitor.js';
import { fmtAddr } from '../gateway/gateway.js';
import { ADDRESS_POLL_MS, addressChange, LateBinder, LinkAddresses } from './late-bind.js';
import type { Logger } from './logger.js';
import { isAddressNotAvailable, type UdpSockets } from './udp-sockets.js';

export interface AddressWatchOptions {
  readonly sockets: UdpSockets;
  readonly log: Logger;
  /** Addresses on the host's interfaces now. */
  readonly present: () => readonly string[];
  /** Binds every port (and the TCP listener) on an address; rejects with EADDRNOTAVAIL when it is not there yet. */
  readonly bind: (address: string) => Promise<void>;
  /** Poll interval, ms (default ADDRESS_POLL_MS). */
  readonly pollMs?: number | undefined;
  /** Whether the daemon runs (events before start or after stop are ignored). */
  readonly running: () => boolean;
  /** The core hears of an address that went or appeared (Gateway.localAddressGone/Added, run by the driver). */
  readonly gone: (address: string, why: string) => void;
  readonly appeared: (address: string, why: string) => void;
  /**
   * The set of addresses may have changed (an rtnetlink event was handled, late binding bound one): the driver
   * recomputes what it announces to MOBIKE peers (announce-addresses.ts, RFC 4555 3.6).
   */
  readonly changed?: () => void;
}

export class AddressWatch {
  private readonly late: LateBinder;
  private poll: NodeJS.Timeout | undefined;
  private monitor: NetlinkMonitor | undefined;

  constructor(private readonly o: AddressWatchOptions) {
    this.late = new LateBinder({ present: o.present, bind: o.bind, log: (level, message) => o.log.log('net', level, message) });
  }

  /** Local addresses waiting to appear (late-bind.ts). */
  get pending(): readonly string[] {
    return this.late.waiting;
  }

  /** Binds each address; one not on any interface yet does not stop the daemon: it is bound when it appears. */
  async bindAll(addresses: readonly string[]): Promise<void> {
    for (const address of addresses) {
      try {
        await this.o.bind(address);
      } catch (e) {
        if (!isAddressNotAvailable(e)) throw e;
        this.late.add(address);
      }
    }
  }

  /**
   * Polls for addresses still missing and, with `wildcard` (a %any local_addrs and no --bind), for new interface
   * addresses to bind too; with `netlink`, listens to rtnetlink as well.
   */
  async start(wildcard: boolean, netlink: boolean): Promise<void> {
    const extra = (): string[] => (wildcard ? this.o.present().filter((a) => !a.toLowerCase().startsWith('fe80')) : []);
    if (this.late.waiting.length > 0 || wildcard) {
      this.poll = setInterval(() => {
        if (this.o.running()) void this.bindLate(extra());
      }, this.o.pollMs ?? ADDRESS_POLL_MS);
      this.poll.unref();
    }
    if (netlink) await this.watch(extra);
  }

  stop(): void {
    if (this.poll) clearInterval(this.poll);
    this.poll = undefined;
    this.monitor?.stop();
    this.monitor = undefined;
  }

  private bindLate(extra: string[]): Promise<void> {
    return this.late.poll(extra, (a) => this.o.sockets.has(a)).then((done) => {
      if (done.length === 0) return;
      this.o.log.log('net', 1, `listening on ${this.o.sockets.list.map((s) => fmtAddr(s.local)).join(', ')}`);
      if (this.o.running()) this.o.changed?.();
    });
  }

  /**
   * rtnetlink events (issue 15): addresses that appear are bound at once (late-bind.ts) and, like those that go
   * or whose link goes down, reported to the core. Without `ip` the interface poll goes on alone.
   */
  private async watch(extra: () => string[]): Promise<void> {
    const monitor = new NetlinkMonitor({ log: (level, message) => this.o.log.log('knl', level, message) });
    // Each link's addresses, so a link that goes down reports the ones it had (late-bind.ts).
    const links = new LinkAddresses();
    if (!(await monitor.start())) {
      this.o.log.log('knl', 1, `not watching address changes (${monitor.failure}): polling the interface list instead`);
      return;
    }
    this.monitor = monitor;
    this.o.log.log('knl', 2, 'watching addresses and links (ip monitor: RTM_NEWADDR/RTM_DELADDR, RTM_NEWLINK)');
    monitor.onEvent((e) => {
      const c = this.o.running() ? addressChange(e, (ifname) => links.of(ifname)) : undefined;
      links.apply(e);
      if (!c) return;
      for (const a of c.gone) this.o.gone(a, c.why);
      for (const a of c.appeared) this.o.appeared(a, c.why);
      // Gone addresses leave the announced list now; new ones join it once bound (bindLate calls changed again).
      this.o.changed?.();
      if (c.appeared.length === 0 || (this.late.waiting.length === 0 && extra().length === 0)) return;
      void this.bindLate(extra());
    });
  }
}
