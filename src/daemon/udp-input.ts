/**
 * Datagrams from the UDP sockets into the gateway core (ARCHITECTURE.md "A packet's path"): a recvmmsg batch
 * (udp-batch-receiver.ts) or dgram's one-by-one messages. ESP is queued and decapsulated as one batch (one engine
 * call, one TUN write), as wireguard-go's receive path batches; anything else is handled at once and its events
 * drained. Source addresses are noted for RFC 9329's TCP fallback (tcp-encap-net.ts).
 */
import type { Address } from '../ike/config.js';
import type { Gateway } from '../gateway/gateway.js';
import type { UdpRecvBatch } from './udp-batch-receiver.js';
import type { BoundSocket } from './udp-sockets.js';
import type { TcpEncapNet } from './tcp-encap-net.js';

export interface UdpInputOptions {
  readonly gateway: () => Gateway;
  readonly tcp: () => TcpEncapNet;
  readonly clock: () => number;
  /** The daemon has stopped: datagrams are ignored. */
  readonly stopped: () => boolean;
  /** Drains the core's events (driver.ts drain). */
  readonly drain: () => void;
  /** One input: clock read, core called, events drained (driver.ts run). */
  readonly run: (f: (now: number) => void) => void;
}

export class UdpInput {
  /** The source of ESP datagrams in a receive batch, reused (no object per datagram). */
  private readonly batchFrom: Address & { address: string; port: number } = { address: '', port: 0 };
  private espScheduled = false;

  constructor(private readonly o: UdpInputOptions) {}

  /** A recvmmsg batch (views into the receiver's arena, valid until this returns): ESP is decapsulated before returning. */
  batch(s: BoundSocket, b: UdpRecvBatch): void {
    const { o } = this;
    if (o.stopped()) return;
    const now = o.clock();
    const from = this.batchFrom;
    const gateway = o.gateway();
    const tcp = o.tcp();
    if (tcp.watchingUdp) for (let i = 0; i < b.count; i++) tcp.noteUdp(b.address[i]!);
    for (let i = 0; i < b.count; i++) {
      const d = b.data[i]!;
      // ESP (a non-zero SPI, RFC 3948 2.2) is queued as a view with a reused source address (ESP does not keep it);
      // anything else is copied with an address of its own (the core may keep both: IKE, rare).
      const esp = d.length > 4 && (d[0]! | d[1]! | d[2]! | d[3]!) !== 0;
      from.address = b.address[i]!;
      from.port = b.port[i]!;
      if (!gateway.receiveDatagram(esp ? d : Uint8Array.from(d), s.local, esp ? from : { ...from }, now)) o.drain();
    }
    o.run((t) => gateway.processEsp(t));
  }

  /** One datagram (dgram's 'message'). */
  one(s: BoundSocket, data: Uint8Array, address: string, port: number): void {
    const { o } = this;
    if (o.stopped()) return;
    const tcp = o.tcp();
    if (tcp.watchingUdp) tcp.noteUdp(address);
    // dgram hands each datagram its own Buffer, so ESP can be decrypted in place and batched without a copy. Queued
    // ESP is decapsulated as one batch at the end of this event-loop turn.
    if (!o.gateway().receiveDatagram(data, s.local, { address, port }, o.clock())) o.drain();
    else if (!this.espScheduled) {
      this.espScheduled = true;
      setImmediate(() => {
        this.espScheduled = false;
        if (!o.stopped()) o.run((now) => o.gateway().processEsp(now));
      });
    }
  }
}
