/**
 * The daemon's UDP sockets (node:dgram), one per bound address and port, as the gateway core's GatewayNet: IKE
 * datagrams sent one by one, ESP pushed into a per-socket sendmmsg batch (udp-batch-sender.ts) and flushed once per
 * engine batch; on the NAT-T port ESP is received with recvmmsg + UDP GRO (udp-batch-receiver.ts).
 */
import { execFileSync } from 'node:child_process';
import dgram from 'node:dgram';
import { networkInterfaces } from 'node:os';
import type { Address, IkeConnectionConfig } from '../ike/config.js';
import { fmtAddr, type GatewayNet } from '../gateway/gateway.js';
import type { Logger } from './logger.js';
import { UdpBatchSender } from './udp-batch-sender.js';
import { UdpBatchReceiver, type UdpRecvBatch } from './udp-batch-receiver.js';

export interface BoundSocket {
  readonly socket: dgram.Socket;
  readonly local: Address;
  readonly family: 4 | 6;
  batch?: UdpBatchSender;
  receiver?: UdpBatchReceiver;
}

export interface UdpSocketsOptions {
  readonly log: Logger;
  readonly nattPort: number;
  readonly batchSend?: boolean | undefined;
  readonly batchReceive?: boolean | undefined;
  /** A datagram from dgram (its own Buffer, so ESP can be decrypted in place). */
  readonly onDatagram: (s: BoundSocket, data: Uint8Array, address: string, port: number) => void;
  /** A recvmmsg batch: views into the receiver's arena, valid until the handler returns. */
  readonly onBatch: (s: BoundSocket, b: UdpRecvBatch) => void;
  /** A datagram that could not be sent (counted as sendErrors). */
  readonly onSendError: (n: number) => void;
  /** The kernel's source address for a peer (default kernelSource: `ip -j route get`); injectable for tests. */
  readonly resolveSource?: ((remote: string) => string | undefined) | undefined;
  /**
   * An already bound socket fd to use for address:port instead of binding one (worker threads, issue 17: the
   * SO_REUSEPORT group's socket of this thread, src/daemon/workers/reuseport.ts); undefined binds as usual.
   */
  readonly socketFd?: ((address: string, port: number) => number | undefined) | undefined;
}

/**
 * The source address the routing table gives for `remote` (`ip -j route get`, its `prefsrc`), as charon's
 * kernel_net.get_source_addr asks netlink. Synchronous: it runs once per initiation, never per packet.
 */
export function kernelSource(remote: string): string | undefined {
  try {
    const out = execFileSync('ip', ['-j', 'route', 'get', remote], { encoding: 'utf8', timeout: 2000, stdio: ['ignore', 'pipe', 'ignore'] });
    const routes = JSON.parse(out) as { prefsrc?: unknown }[];
    const src = routes[0]?.prefsrc;
    return typeof src === 'string' ? src : undefined;
  } catch {
    return undefined;
  }
}

/** True for an error dgram reports when the address to bind is not (yet) on any interface. */
export function isAddressNotAvailable(e: unknown): boolean {
  return e instanceof Error && /EADDRNOTAVAIL/.test(e.message);
}

/** Requested UDP socket buffer size (SO_RCVBUF/SO_SNDBUF). */
const SOCKET_BUFFER_BYTES = 4 * 1024 * 1024;

/** Addresses to bind: `bind`, else every concrete local_addrs entry, else every non-link-local interface address. */
export function bindAddresses(bind: readonly string[] | undefined, conns: readonly IkeConnectionConfig[]): string[] {
  if (bind && bind.length > 0) return [...bind];
  const concrete = new Set<string>();
  let wildcard = false;
  for (const c of conns)
    for (const a of c.localAddrs) {
      if (/^[0-9a-fA-F:.]+$/.test(a) && (a.includes('.') || a.includes(':'))) concrete.add(a);
      else wildcard = true;
    }
  if (wildcard || concrete.size === 0) {
    // dgram cannot tell which local address a datagram on a wildcard socket was sent to (no IP_PKTINFO), and
    // the endpoint needs it (NAT-D, the default local identity, dynamic traffic selectors): bind each one.
    for (const list of Object.values(networkInterfaces()))
      for (const i of list ?? []) if (!(i.family === 'IPv6' && i.address.toLowerCase().startsWith('fe80'))) concrete.add(i.address);
  }
  return [...concrete];
}

export class UdpSockets implements GatewayNet {
  readonly list: BoundSocket[] = [];
  /** Batch senders with datagrams pushed since the last flushEsp. */
  private readonly pending = new Set<UdpBatchSender>();

  constructor(private readonly opts: UdpSocketsOptions) {}

  bind(address: string, port: number): Promise<void> {
    const family: 4 | 6 = address.includes(':') ? 6 : 4;
    // Large socket buffers absorb bursts while the event loop is busy encrypting (the kernel caps them at
    // net.core.rmem_max / wmem_max); overflow shows up as TCP retransmits inside the tunnel.
    const socket = dgram.createSocket({ type: family === 6 ? 'udp6' : 'udp4', recvBufferSize: SOCKET_BUFFER_BYTES, sendBufferSize: SOCKET_BUFFER_BYTES });
    const bound: BoundSocket = { socket, local: { address, port }, family };
    const o = this.opts;
    return new Promise((resolve, reject) => {
      const onError = (e: Error): void => (socket.close(), reject(new Error(`cannot bind UDP ${fmtAddr(bound.local)}: ${e.message}`)));
      socket.once('error', onError);
      let fd: number | undefined;
      try {
        fd = o.socketFd?.(address, port);
      } catch (e) {
        // A worker pool's SO_REUSEPORT group refused (workers/reuseport.ts names the call and the errno).
        onError(e instanceof Error ? e : new Error(String(e)));
        return;
      }
      // dgram wraps an existing fd with bind({ fd }): address and port are the ones it was bound to.
      socket.bind(fd !== undefined ? { fd, exclusive: true } : { address, port, exclusive: true }, () => {
        socket.off('error', onError);
        socket.on('error', (e) => o.log.log('net', 1, `socket ${fmtAddr(bound.local)}: ${e.message}`));
        socket.on('message', (msg, rinfo) => o.onDatagram(bound, new Uint8Array(msg.buffer, msg.byteOffset, msg.length), rinfo.address, rinfo.port));
        // Measured with bench/tunnel: +23% throughput, -11% CPU per Mbit/s against a dgram send per datagram.
        if (o.batchSend !== false) {
          const batch = UdpBatchSender.create(socket, { fallback: (d, p, a) => socket.send(d, p, a) });
          if (batch) bound.batch = batch;
        }
        // ESP arrives on the NAT-T port: one recvmmsg per wake-up, GRO buffers split, no Buffer per datagram.
        if (port === o.nattPort && o.batchReceive !== false) {
          const receiver = UdpBatchReceiver.create(socket, { onBatch: (b) => o.onBatch(bound, b) });
          if (receiver) bound.receiver = receiver;
        }
        this.list.push(bound);
        resolve();
      });
    });
  }

  /** Whether a socket is bound to `address` (any port). */
  has(address: string): boolean {
    return this.list.some((s) => s.local.address === address);
  }

  /** GatewayNet.sourceFor: the kernel's source for `remote`, if one of our sockets is bound to it. */
  sourceFor(remote: string): string | undefined {
    const src = (this.opts.resolveSource ?? kernelSource)(remote);
    if (src === undefined) return undefined;
    if (this.has(src)) return src;
    this.opts.log.log('net', 1, `source ${src} for ${remote} is not bound (bound: ${[...new Set(this.list.map((s) => s.local.address))].join(', ')})`);
    return undefined;
  }

  private socketFor(local: Address, remote: Address): BoundSocket | undefined {
    const exact = this.list.find((s) => s.local.port === local.port && s.local.address === local.address);
    if (exact) return exact;
    // An unspecified local address: any socket of the family, but never a loopback one for a remote elsewhere
    // (the kernel refuses that with EINVAL).
    const family = remote.address.includes(':') ? 6 : 4;
    const candidates = this.list.filter((s) => s.local.port === local.port && s.family === family);
    return candidates.find((s) => isLoopback(s.local.address) === isLoopback(remote.address)) ?? candidates[0];
  }

  sendIke(local: Address, remote: Address, data: Uint8Array): void {
    const s = this.socketFor(local, remote);
    if (!s) {
      this.opts.onSendError(1);
      this.opts.log.log('net', 1, `no socket for ${fmtAddr(local)} to send to ${fmtAddr(remote)}`);
      return;
    }
    s.socket.send(data, remote.port, remote.address, (err) => {
      if (!err) return;
      this.opts.onSendError(1);
      this.opts.log.log('net', 2, `sending to ${fmtAddr(remote)} failed: ${err.message}`);
    });
  }

  sendEsp(buf: Uint8Array, off: number, len: number, local: Address, remote: Address): void {
    const b = this.socketFor(local, remote)?.batch;
    if (b && b.push(buf, off, len, remote.address, remote.port)) this.pending.add(b);
    // dgram may send after this turn; the TUN and pool buffers are reused, so the datagram is copied.
    else this.sendIke(local, remote, Buffer.from(buf.subarray(off, off + len)));
  }

  /** One sendmmsg per socket for the whole batch; the engine's buffers may be reused once this returns. */
  flushEsp(): void {
    for (const b of this.pending) {
      const before = b.stats.dropped;
      b.flush();
      if (b.stats.dropped > before) this.opts.onSendError(b.stats.dropped - before);
    }
    this.pending.clear();
  }

  async close(): Promise<void> {
    for (const s of this.list) {
      s.batch?.close();
      // The receiver's poll() must end before dgram closes the fd it watches.
      await s.receiver?.close();
      s.socket.close();
    }
    this.list.length = 0;
  }
}

function isLoopback(a: string): boolean {
  return a.startsWith('127.') || a === '::1';
}
