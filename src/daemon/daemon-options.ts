/** What `cygnet daemon`, the demo and tests give the daemon driver (driver.ts's Daemon). */
import type { CryptoBackend } from '../crypto/types.js';
import type { RandomSource } from '../crypto/random.js';
import type { RetransmitSettings } from '../ike/retransmit.js';
import type { TunDevice } from '../tun/types.js';
import type { GatewayOptions } from '../gateway/gateway.js';
import type { DaemonConfig } from './connections.js';
import type { Logger } from './logger.js';
import type { TunRoutes } from './routes.js';
import type { GlobalSettings } from './settings.js';

export interface DaemonOptions {
  readonly config: DaemonConfig;
  readonly logger: Logger;
  /** Addresses to bind. Default: every concrete local_addrs entry, else every non-link-local interface address. */
  readonly bind?: readonly string[];
  /** The IKE port (charon.port), default 500. Connections whose local_port is 500 use this one instead. */
  readonly port?: number;
  /** The NAT-T port (charon.port_nat_t), default 4500. */
  readonly nattPort?: number;
  /**
   * The TCP port of RFC 9329 TCP encapsulation (--tcp-port), default the NAT-T port. Given, the daemon listens on
   * it; otherwise only when a connection has `encap = tcp|tcp-fallback`.
   */
  readonly tcpPort?: number;
  readonly tun?: TunDevice;
  readonly statusFile?: string;
  /** TCP MSS clamping and a fixed --mtu: see GatewayOptions. */
  readonly mssClampMtu?: GatewayOptions['mssClampMtu'];
  readonly fixedMtu?: boolean;
  /** Routes for remote selectors into the TUN (with --tun, unless --no-routes). */
  readonly routes?: TunRoutes;
  readonly crypto?: CryptoBackend;
  readonly random?: RandomSource;
  /** Key log (--key-log FILE): one JSON line per IKE SA and ESP SA with its keys, for tshark (key-log.ts). Off by default. */
  readonly keyLog?: (line: string) => void;
  /** IKE retransmission flags (--retransmit-*): laid over charon.retransmit_* field by field. */
  readonly retransmit?: Partial<RetransmitSettings>;
  /** strongswan.conf's daemon-wide knobs (--settings FILE, settings.ts): endpoint settings and fragment_size. */
  readonly settings?: GlobalSettings;
  /** Batched ESP transmit with sendmmsg (udp-batch-sender.ts); default on where the platform allows it. */
  readonly batchSend?: boolean;
  /** Batched receive with recvmmsg and UDP GRO on the NAT-T port (udp-batch-receiver.ts); default on where possible. */
  readonly batchReceive?: boolean;
  /** Monotonic milliseconds; default performance.now(). */
  readonly clock?: () => number;
  /** The kernel's source address for a peer (initiating with local_addrs unset/%any); default `ip -j route get`. */
  readonly resolveSource?: (remote: string) => string | undefined;
  /** Addresses on the interfaces now (late binding, late-bind.ts); default os.networkInterfaces(). */
  readonly interfaceAddresses?: () => readonly string[];
  /** The interfaces and their addresses, for the list announced to MOBIKE peers (announce-addresses.ts); default os.networkInterfaces(). */
  readonly interfaceList?: () => import('./announce-addresses.js').InterfaceList;
  /** Poll interval for late-appearing local addresses, ms (default 5000). */
  readonly addressPollMs?: number;
  /**
   * Watch the host's addresses and links (rtnetlink through `ip monitor`, src/sys/netlink-monitor.ts): new
   * addresses are bound at once, vanished ones reported to the core (Gateway.localAddressGone). Off by default
   * (tests); `cygnet daemon` turns it on.
   */
  readonly watchAddresses?: boolean;
  /** Keep the IKE SAs' raw keys (HA replication, src/daemon/ha-driver.ts); the key log implies it. */
  readonly exportKeys?: boolean;
  /**
   * Data-plane worker threads (--workers N, src/daemon/workers/pool.ts's WorkerPool): the NAT-T sockets come from
   * it, it follows the SA changes, its counters join the status, and it stops after the sockets close.
   */
  readonly workers?: DataPlaneWorkers;
}

/** What the daemon driver needs of a worker pool (src/daemon/workers/pool.ts). */
export interface DataPlaneWorkers {
  socketFd(address: string, port: number): number | undefined;
  attach(host: { readonly engine: import('../esp/engine.js').EspEngine; onEvent(l: (e: import('../ike/events.js').IkeEvent) => void): void; withCore<T>(f: (gateway: import('../gateway/gateway.js').Gateway, now: number) => T): T; refreshStatus?(): void }): void;
  status(st: import('./status.js').DaemonStatus): import('./status.js').DaemonStatus;
  childExtras<T extends { bytesIn?: number; packetsIn?: number; bytesOut?: number; packetsOut?: number; dropsIn?: Record<string, number>; dropsOut?: Record<string, number> }>(x: T, spiIn: number, spiOut: number): T;
  stop(): Promise<void>;
}
