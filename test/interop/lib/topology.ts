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

export interface NatTopology {
  /** Behind the NAT: outer4 is a private address (10.0.1.2), default route via the NAT. */
  left: Host;
  /** Public side (198.51.100.2). */
  right: Host;
  nat: {
    ns: Netns;
    inside: string;
    /** The address left's packets appear to come from. */
    outside: string;
    /** UDP source ports the NAT currently maps to (inclusive range). */
    portRange: readonly [number, number];
    /**
     * Simulate a NAT rebinding: move the UDP port range and forget all mappings, so the next packet from
     * left appears from a new port (RFC 3948 / RFC 7296 2.23: the peer must follow authenticated packets).
     */
    rebind(range: readonly [number, number]): Promise<void>;
    /** `conntrack -L` in the NAT namespace (current mappings, for diagnostics). */
    mappings(): Promise<string>;
  };
}

function natRuleset(range: readonly [number, number]): string {
  // UDP gets a port range far from 500/4500 so that port floating is visible; everything else plain masquerade.
  return `flush ruleset
table ip cygnat {
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    oifname "eth1" meta l4proto udp masquerade to :${range[0]}-${range[1]}
    oifname "eth1" masquerade
  }
}
`;
}

/**
 * left(eth0 10.0.1.2) <-> (eth0 10.0.1.1) nat (eth1 198.51.100.1) <-> right(eth0 198.51.100.2), IPv4 only,
 * nftables masquerade on nat/eth1 with UDP source ports mapped into `portRange` (default 20000-20099).
 * Inner addresses as in twoHosts: 10.1.0.1 (left), 10.2.0.1 (right).
 */
export async function natHosts(lab: NetnsLab, portRange: readonly [number, number] = [20000, 20099]): Promise<NatTopology> {
  const l = await lab.add('left');
  const n = await lab.add('nat');
  const r = await lab.add('right');
  await lab.veth({ ns: l, ifname: 'eth0', addrs: ['10.0.1.2/24'] }, { ns: n, ifname: 'eth0', addrs: ['10.0.1.1/24'] });
  await lab.veth({ ns: n, ifname: 'eth1', addrs: ['198.51.100.1/24'] }, { ns: r, ifname: 'eth0', addrs: ['198.51.100.2/24'] });
  await l.addRoute('default', ['via', '10.0.1.1']);
  await n.sysctl('net.ipv4.ip_forward', 1);
  const load = async (range: readonly [number, number]) => {
    await n.exec('nft', ['-f', '-'], { input: natRuleset(range) });
  };
  await load(portRange);
  const left: Host = { ns: l, outer4: '10.0.1.2', outer6: '', inner4: '10.1.0.1', inner6: 'fd00:1::1' };
  const right: Host = { ns: r, outer4: '198.51.100.2', outer6: '', inner4: '10.2.0.1', inner6: 'fd00:2::1' };
  for (const h of [left, right]) {
    await h.ns.addAddress('lo', `${h.inner4}/32`);
    await h.ns.addAddress('lo', `${h.inner6}/128`);
  }
  const nat: NatTopology['nat'] = {
    ns: n,
    inside: '10.0.1.1',
    outside: '198.51.100.1',
    portRange,
    async rebind(range) {
      await load(range);
      nat.portRange = range;
      await n.exec('conntrack', ['-D', '-p', 'udp'], { allowFail: true });
    },
    async mappings() {
      return (await n.exec('conntrack', ['-L'], { allowFail: true })).stdout;
    },
  };
  return { left, right, nat };
}
