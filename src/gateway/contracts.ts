/**
 * What the gateway core (gateway.ts) asks of its driver and gives back: the driver's UDP side, resolver, TUN and
 * routes as the core sees them, its configuration and options, and its events. Types only, so the sans-IO core
 * does not depend on the driver layer (.dependency-cruiser.cjs); src/daemon implements them.
 */
import type { CryptoBackend } from '../crypto/types.js';
import type { RandomSource } from '../crypto/random.js';
import type { EapProvider } from '../ike/eap-provider.js';
import type { Address, Credentials, EndpointSettings, IkeConnectionConfig } from '../ike/config.js';
import type { ChildSaInfo, IkeEvent } from '../ike/events.js';
import type { TrafficSelector } from '../ike/traffic-selector.js';
import type { AddressPoolConfig } from '../ike/pool.js';

/** Log lines of the core: strongSwan's groups (dmn, cfg, knl, net, esp...) and levels. */
export type GatewayLog = (group: string, level: number, message: string, fields?: { ikeSaId: number }) => void;

/** The driver's UDP side. ESP buffers are the engine's: valid until sendEsp returns, so batch or copy them. */
export interface GatewayNet {
  sendEsp(buf: Uint8Array, offset: number, length: number, local: Address, remote: Address): void;
  /** The end of one ESP batch (one sendmmsg per socket). */
  flushEsp(): void;
  /** An IKE datagram (non-ESP marker already prepended on the NAT-T port, RFC 3948 2.2). */
  sendIke(local: Address, remote: Address, data: Uint8Array): void;
  /**
   * The local address to initiate from when local_addrs is unset or %any: the source the host's routing table
   * gives for `remote` (strongSwan asks the kernel the same way, kernel_net.get_source_addr), if a socket is bound
   * to it. Optional: without it the endpoint leaves the address unspecified.
   */
  sourceFor?(remote: string): string | undefined;
}

/**
 * DNS names in remote_addrs (issue 15): the driver resolves them (src/daemon/resolve.ts, getaddrinfo so /etc/hosts
 * counts, as charon's host_create_from_dns) and the core reads the answers synchronously from its cache.
 */
export interface GatewayResolver {
  /**
   * The address `name` resolves to now, from the driver's cache (an expired entry is still returned while a fresh
   * resolution runs). undefined when the name was never resolved: the driver calls Gateway.namesResolved(now)
   * once it has an answer, and start_action = start initiations that waited for it run then.
   */
  lookup(name: string): string | undefined;
  /** Why `name` has no address (the resolver's last error), for the log. */
  failure?(name: string): string | undefined;
  /**
   * Asks for a fresh resolution (an initiation towards the name is coming); the answer arrives later. `force`
   * resolves even within the cached answer's lifetime: a restart after the peer stopped answering (DPD,
   * keyingtries), when a moved name matters most, re-resolves as charon does on every attempt. Returns the
   * resolution under way, if one runs: a restart waits for it (IkeEndpoint's PendingRemote).
   */
  refresh?(name: string, o?: { force?: boolean }): Promise<void> | undefined | void;
}

/**
 * The TUN as the core uses it: src/tun's TunDevice fits (written out here so the sans-IO core does not depend on
 * the driver layer; see .dependency-cruiser.cjs).
 */
export interface GatewayTun {
  readonly name: string;
  readonly mtu: number;
  /** Free bytes in front of / behind every packet read, so ESP is sealed in place. */
  readonly headroom: number;
  readonly tailroom?: number;
  readonly closed: boolean;
  writeBatch(packets: readonly Uint8Array[]): number;
  setMtu(mtu: number): Promise<void>;
}

/** Routes and addresses on the host for the tunnel (src/daemon/routes.ts's TunRoutes fits). */
export interface GatewayRoutes {
  readonly device: string;
  childUp(c: ChildSaInfo): void;
  childDown(c: ChildSaInfo): void;
  trapUp(name: string, localTs: readonly TrafficSelector[], remoteTs: readonly TrafficSelector[], peerAddress: string | undefined): void;
  trapDown(name: string): void;
  addVirtualIp(address: string): void;
}

export interface ChildRef {
  readonly conn: string;
  readonly child: string;
}

/** What the core runs: connections (ports already applied), credentials, trap and start lists, pools. */
export interface GatewayConfig {
  readonly connections: readonly IkeConnectionConfig[];
  /** Looked up per authentication, so a reload replaces them under running SAs. */
  readonly credentials: Credentials;
  readonly trapChildren: readonly ChildRef[];
  readonly startChildren: readonly ChildRef[];
  readonly pools?: readonly AddressPoolConfig[];
}

export interface GatewayOptions {
  readonly config: GatewayConfig;
  readonly settings?: Partial<EndpointSettings>;
  readonly crypto: CryptoBackend;
  readonly random: RandomSource;
  readonly net: GatewayNet;
  readonly log: GatewayLog;
  readonly tun?: GatewayTun | undefined;
  readonly routes?: GatewayRoutes | undefined;
  /** The NAT-T port (RFC 3948): datagrams to it are ESP unless they start with the non-ESP marker. Default 4500. */
  readonly nattPort?: number | undefined;
  /** TCP MSS clamping (issue 7): SYNs both ways lowered to fit this inner MTU. Default: the TUN's MTU; false: off. */
  readonly mssClampMtu?: number | false | undefined;
  /** The TUN's MTU was fixed (--mtu): it does not follow the negotiated ESP overhead. */
  readonly fixedMtu?: boolean | undefined;
  /**
   * charon.reuse_ikesa (strongswan.conf, default yes): further CHILD SAs of a connection with an IKE SA are
   * CREATE_CHILD_SA on it (RFC 7296 1.3.1), from `up`, start_action = start and trap ACQUIREs alike.
   */
  readonly reuseIkeSa?: boolean | undefined;
  /** DNS names in remote_addrs; without it, initiating to a name fails with a clear error. */
  readonly resolver?: GatewayResolver | undefined;
  /** EAP sessions for IKE_AUTH (RFC 7296 2.16); default: the built-in methods without user secrets. */
  readonly eap?: EapProvider | undefined;
  /** Asynchronous work (EAP, RADIUS) completed: call handleTimeout(now) soon (IkeEndpointOptions.wake). */
  readonly wake?: (() => void) | undefined;
}

/** Events of the core besides IkeEvents. */
export type GatewayEvent =
  | IkeEvent
  | { readonly type: 'ike-message'; readonly dir: 'in' | 'out' | 'invalid'; readonly data: Uint8Array }
  /** The set of SAs changed (status files). */
  | { readonly type: 'sa-changed' }
  /**
   * A local address appeared or went (the driver's netlink monitor, src/sys/netlink-monitor.ts), with the IKE SAs
   * whose local address it is. What MOBIKE (RFC 4555 3.5) or a reauthentication will act on; today logged only.
   */
  | { readonly type: 'local-address'; readonly address: string; readonly present: boolean; readonly why: string; readonly ikeSaIds: readonly number[] }
  | { readonly type: 'fault'; readonly what: string; readonly error: unknown };
