/**
 * RFC 9329 TCP encapsulation as the daemon driver uses it beside UDP (tcp-encap-net.ts has the send path and the
 * streams): when a listener is wanted, starting it on the bound addresses after a reload, and naming the
 * transport in charon's "IKE_SA ... established between ..." line.
 */
import type { IkeEndpoint } from '../ike/endpoint.js';
import type { DaemonConfig } from './connections.js';
import type { Logger } from './logger.js';
import type { TcpEncapNet } from './tcp-encap-net.js';

/** A TCP listener beside the UDP sockets when a connection uses TCP or --tcp-port asks for one. */
export function wantsTcp(tcpPort: number | undefined, config: DaemonConfig): boolean {
  return tcpPort !== undefined || (config.tcpEncap?.size ?? 0) > 0;
}

/** "IKE_SA ... established between ..." names the transport when it is TCP. */
export function overTcp(message: string, ikeSaId: number | undefined, endpoint: IkeEndpoint, tcp: TcpEncapNet): string {
  if (ikeSaId === undefined || !/IKE_SA \S+ established between /.test(message)) return message;
  const sa = endpoint.listSas().find((x) => x.sa.id === ikeSaId)?.sa;
  const s = sa && tcp.streamOf(sa.remote);
  return s ? `${message} over TCP ${s.name}` : message;
}

/** A reload that brings the first encap = tcp connection starts the TCP listener on the bound addresses. */
export function listenOnBound(tcp: TcpEncapNet, addresses: Iterable<string>, log: Logger): void {
  for (const address of new Set(addresses))
    if (!tcp.listener.has(address))
      tcp.listen(address).then(
        () => log.log('net', 1, `listening on TCP ${address}[${tcp.listener.addresses[0]?.port}] (RFC 9329 TCP encapsulation)`),
        (e: unknown) => log.log('net', 0, e instanceof Error ? e.message : String(e)),
      );
}
