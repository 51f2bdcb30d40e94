/**
 * Ready-made namespace layouts for scenarios.
 *
 * Inner (tunnelled) addresses live on `lo`: this kernel has no `dummy` link type. kernel-libipsec installs a
 * route to the remote selector via its TUN in table 220 with `src` = our inner address, so a plain ping from one
 * namespace to the other's inner address travels through the tunnel without any extra routing.
 */
import type { Netns, NetnsLab } from './netns.js';

export interface Host {
  ns: Netns;
  /** Address on the shared link (IKE/ESP endpoint). */
  outer4: string;
  outer6: string;
  /** Addresses behind the gateway (on lo), covered by the traffic selectors. */
  inner4: string;
  inner6: string;
}

export interface TwoHosts {
  left: Host;
  right: Host;
}

/** left(eth0 192.0.2.1, 2001:db8:1::1) <-veth-> right(eth0 192.0.2.2, 2001:db8:1::2); inner 10.1.0.1 / 10.2.0.1. */
export async function twoHosts(lab: NetnsLab): Promise<TwoHosts> {
  const l = await lab.add('left');
  const r = await lab.add('right');
  const left: Host = { ns: l, outer4: '192.0.2.1', outer6: '2001:db8:1::1', inner4: '10.1.0.1', inner6: 'fd00:1::1' };
  const right: Host = { ns: r, outer4: '192.0.2.2', outer6: '2001:db8:1::2', inner4: '10.2.0.1', inner6: 'fd00:2::1' };
  await lab.veth(
    { ns: l, ifname: 'eth0', addrs: [`${left.outer4}/24`, `${left.outer6}/64`] },
    { ns: r, ifname: 'eth0', addrs: [`${right.outer4}/24`, `${right.outer6}/64`] },
  );
  for (const h of [left, right]) {
    await h.ns.addAddress('lo', `${h.inner4}/32`);
    await h.ns.addAddress('lo', `${h.inner6}/128`);
  }
  return { left, right };
}
