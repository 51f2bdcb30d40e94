/**
 * One RFC 9329 TCP stream (node:net socket) carrying IKE and ESP for a peer: frames out through a TcpFrameBatch
 * (one socket write per engine batch), frames in through a TcpDeframer (src/net/tcp-encap.ts). Both roles:
 * the originator (our initiator, tcp-encap-connector.ts) sends "IKETCP" first; the responder (accepted by
 * tcp-encap-listener.ts) expects it.
 *
 * The IKE core speaks UDP datagrams between addresses and ports; `view` is the UDP conversation this stream stands
 * for (what the core sends from and to), so inbound frames enter the core as if they were datagrams of that
 * conversation (tcp-encap-net.ts).
 */
import type { Socket } from 'node:net';
import type { Address } from '../ike/config.js';
import { fmtAddr } from '../gateway/gateway.js';
import { TcpDeframer, TcpEncapError, TcpFrameBatch } from '../net/tcp-encap.js';

export type StreamRole = 'originator' | 'responder';

export interface TcpEncapStreamEvents {
  /** Messages (UDP-4500 datagrams: IKE with the non-ESP marker, or ESP) read from the stream, in order. */
  readonly onMessages: (s: TcpEncapStream, messages: Uint8Array[]) => void;
  /** The stream is gone (reset, end, error, bad framing, or closed by us): `why` says which. */
  readonly onClose: (s: TcpEncapStream, why: string) => void;
  /** The originator's connection is up (prefix and queued frames written). */
  readonly onOpen?: (s: TcpEncapStream) => void;
}

/**
 * ESP is dropped, not queued, once this much is waiting in the socket: a full TCP send buffer is the UDP socket's
 * full queue, and the tunnelled TCP flows back off on the loss instead of on a growing delay (RFC 9329 section 9:
 * TCP-in-TCP). IKE messages are always queued.
 */
export const ESP_QUEUE_LIMIT_BYTES = 1024 * 1024;

export class TcpEncapStream {
  /** TCP addresses of the stream (local filled in when connected). */
  local: Address;
  readonly remote: Address;
  /** The UDP conversation the IKE core has with the peer through this stream. */
  view: { local: Address; remote: Address };
  open: boolean;
  closed = false;
  readonly openedAt: number;
  readonly counters = { framesIn: 0, framesOut: 0, bytesIn: 0, bytesOut: 0, espDropped: 0, retransmitsSuppressed: 0 };
  /** The last IKE message written on this stream: a retransmission of it is not written again (RFC 9329 6.2). */
  private lastIke: Uint8Array | undefined;
  private readonly batch: TcpFrameBatch;
  private readonly deframer: TcpDeframer;

  constructor(
    readonly socket: Socket,
    readonly role: StreamRole,
    local: Address,
    remote: Address,
    view: { local: Address; remote: Address },
    private readonly events: TcpEncapStreamEvents,
    now: number,
  ) {
    this.local = local;
    this.remote = remote;
    this.view = view;
    this.openedAt = now;
    this.open = role === 'responder';
    this.batch = new TcpFrameBatch({ prefix: role === 'originator' });
    this.deframer = new TcpDeframer({ expectPrefix: role === 'responder' });
    // Frames are batched here; Nagle would hold IKE messages and the tail of each batch.
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (e) => this.close(`error: ${e.message}`));
    socket.on('end', () => this.close('closed by the peer'));
    socket.on('close', () => this.close('closed'));
    if (role === 'originator')
      socket.once('connect', () => {
        this.local = { address: socket.localAddress ?? '', port: socket.localPort ?? 0 };
        this.open = true;
        this.flush();
        this.events.onOpen?.(this);
      });
  }

  get name(): string {
    return `${this.local.address === '' ? '(connecting)' : fmtAddr(this.local)}-${fmtAddr(this.remote)}`;
  }

  /**
   * Queues an IKE message (as the core sent it: with the marker, or without on port 500) for the next flush.
   * False when it was not queued: a NAT-keepalive (RFC 9329 6.6) or a retransmission on a stream that already
   * carried it (RFC 9329 6.2: TCP delivers it or the stream breaks; a new stream gets the retransmission).
   */
  queueIke(data: Uint8Array, withMarker: boolean): boolean {
    if (this.closed) return false;
    if (this.lastIke && equalBytes(this.lastIke, data)) {
      this.counters.retransmitsSuppressed++;
      return false;
    }
    if (!this.batch.add(data, 0, data.length, !withMarker)) return false;
    this.lastIke = data.slice();
    return true;
  }

  /** Queues an ESP packet (copied into the batch); false when dropped because the socket is backed up. */
  queueEsp(buf: Uint8Array, off: number, len: number): boolean {
    if (this.closed || this.socket.writableLength + this.batch.length + len > ESP_QUEUE_LIMIT_BYTES) {
      this.counters.espDropped++;
      return false;
    }
    return this.batch.add(buf, off, len);
  }

  /** One socket write for everything queued (after the connection is up). */
  flush(): void {
    if (!this.open || this.closed) return;
    const frames = this.batch.frames;
    const bytes = this.batch.take();
    if (!bytes) return;
    this.counters.framesOut += frames;
    this.counters.bytesOut += bytes.length;
    // The batch's buffer goes to the socket as is and comes back for reuse once the kernel has it.
    this.socket.write(bytes, () => this.batch.recycle(bytes));
  }

  close(why: string, reset = false): void {
    if (this.closed) return;
    this.closed = true;
    this.open = false;
    if (reset) this.socket.resetAndDestroy();
    else this.socket.destroy();
    this.events.onClose(this, why);
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    this.counters.bytesIn += chunk.length;
    let messages: Uint8Array[];
    try {
      messages = this.deframer.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length));
    } catch (e) {
      // A broken stream cannot be resynchronised: close it (the originator reconnects, RFC 9329 6.1).
      this.close(e instanceof TcpEncapError ? `${e.code}: ${e.message}` : `error: ${String(e)}`, true);
      return;
    }
    if (messages.length === 0) return;
    this.counters.framesIn += messages.length;
    this.events.onMessages(this, messages);
  }
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
