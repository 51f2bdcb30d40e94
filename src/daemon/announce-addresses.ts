/**
 * Which of the host's addresses cygnet announces to MOBIKE peers as ADDITIONAL_IP4/6_ADDRESS (RFC 4555 3.4; issue
 * 15): those that could carry IKE to the peer, as charon's ADDR_TYPE_REGULAR enumeration (kernel-netlink) picks
 * them. Not loopback, not link-local (fe80::/10, 169.254.0.0/16: RFC 4291 2.5.6, RFC 3927, valid on one link only),
 * not our own TUN device's addresses nor the virtual IPs we were assigned (both are inside the tunnel: a path
 * through them needs the path that failed), and only addresses we have IKE sockets on (`bound`): the peer would
 * probe the others in vain. Interfaces that are down are not listed by os.networkInterfaces() at all (libuv
 * lists links that are up and running).
 */
import { networkInterfaces } from 'node:os';

/** One interface address as os.networkInterfaces() gives it (the fields used here). */
export interface InterfaceAddress {
  readonly address: string;
  readonly internal: boolean;
}

export type InterfaceList = Readonly<Record<string, readonly InterfaceAddress[] | undefined>>;

export interface AnnounceFilter {
  /** The daemon's TUN device (its addresses are inside the tunnel). */
  readonly tun?: string | undefined;
  /** Virtual IPs assigned to us (configuration payload, RFC 7296 3.15). */
  readonly virtual: ReadonlySet<string>;
  /** An IKE socket is bound to this address. */
  readonly bound: (address: string) => boolean;
}

/** fe80::/10 and 169.254.0.0/16. */
export function isLinkLocal(address: string): boolean {
  const a = address.toLowerCase();
  return /^fe[89ab][0-9a-f]:/.test(a) || a.startsWith('169.254.');
}

/** The addresses to announce, in interface order, without duplicates. */
export function announcedAddresses(list: InterfaceList, f: AnnounceFilter): string[] {
  const out = new Set<string>();
  for (const [ifname, addrs] of Object.entries(list)) {
    if (ifname === f.tun) continue;
    for (const i of addrs ?? []) {
      if (i.internal || isLinkLocal(i.address) || f.virtual.has(i.address) || !f.bound(i.address)) continue;
      out.add(i.address);
    }
  }
  return [...out];
}

/** The host's interfaces now (os.networkInterfaces()). */
export function hostInterfaces(): InterfaceList {
  return networkInterfaces();
}
