/**
 * The TCP responder side of RFC 9329: a listening socket per bound address on the TCP port (4500 unless
 * --tcp-port says otherwise, section 2 leaves it configurable). Every accepted connection becomes a responder
 * TcpEncapStream that must start with "IKETCP" (section 4); the peer is the TCP originator and the only side that
 * ever connects (section 6.1).
 */
import net from 'node:net';
import type { Address } from '../ike/config.js';
import { fmtAddr } from '../gateway/gateway.js';

export class TcpEncapListener {
  private readonly servers: { server: net.Server; local: Address }[] = [];

  constructor(
    private readonly port: number,
    private readonly onConnection: (socket: net.Socket, local: Address, remote: Address) => void,
  ) {}

  /** Addresses listened on. */
  get addresses(): Address[] {
    return this.servers.map((s) => s.local);
  }

  has(address: string): boolean {
    return this.servers.some((s) => s.local.address === address);
  }

  listen(address: string): Promise<void> {
    const local: Address = { address, port: this.port };
    const server = net.createServer({ noDelay: true }, (socket) => {
      // An address family mix-up (::ffff:a.b.c.d) cannot happen: the server is bound to one concrete address.
      const remote: Address = { address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 };
      this.onConnection(socket, { address, port: socket.localPort ?? this.port }, remote);
    });
    return new Promise((resolve, reject) => {
      const onError = (e: Error): void => reject(new Error(`cannot listen on TCP ${fmtAddr(local)}: ${e.message}`));
      server.once('error', onError);
      server.listen({ host: address, port: this.port, exclusive: true }, () => {
        server.off('error', onError);
        this.servers.push({ server, local });
        resolve();
      });
    });
  }

  async close(): Promise<void> {
    const all = this.servers.splice(0);
    await Promise.all(all.map(({ server }) => new Promise<void>((resolve) => server.close(() => resolve()))));
  }
}
