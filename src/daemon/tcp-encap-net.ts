/**
 * The daemon's send and receive paths with RFC 9329 TCP encapsulation beside UDP: the gateway core's GatewayNet,
 * wrapping the UDP sockets (udp-sockets.ts). The core still speaks datagrams between addresses and ports; this
 * layer decides per peer whether a datagram goes out on UDP or framed on a TCP stream, and feeds frames read
 * from a stream into the same receive path as UDP port 4500 datagrams.
 *
 * - Initiator (`encap = tcp`): datagrams to the connection's remote address go on one TCP stream to its TCP port
 *   (tcp-encap-connector.ts), opened on first use; IKE_SA_INIT too (RFC 9329 section 6.1). The core believes it
 *   talks UDP: a frame read back enters as a datagram of the conversation the core sent that kind of message on:
 *   an IKE_SA_INIT response as one of its IKE_SA_INIT conversation (port 500: the non-ESP marker stripped), every
 *   other message as one of the NAT-T conversation it moved to after IKE_SA_INIT (the stream's `view`).
 * - Initiator (`encap = tcp-fallback`): UDP first (section 5.1: UDP is preferred); when the core retransmits an IKE
 *   message to the peer and nothing at all came back over UDP from it, the peer moves to TCP for good (this run)
 *   and the retransmission goes on the stream.
 * - Responder: streams accepted by tcp-encap-listener.ts enter as datagrams from the stream's TCP address and port
 *   to our NAT-T port, so the core answers that address and port and the answer finds the stream again.
 * - Reconnection (section 6.1): when an originator stream breaks while an IKE SA uses its path, it is opened
 *   again at once, then with backoff. The responder never connects; its datagrams for a stream that is gone go on
 *   the peer address's newest stream (the initiator's reconnection), or are dropped.
 * - MOBIKE (RFC 9329 section 7.1 with RFC 4555): an originator stream belongs to a path, our local address and the
 *   peer's, and is bound to that local address. When the core moves an IKE SA to a new local address it sends
 *   UPDATE_SA_ADDRESSES from there, so the update opens a NEW stream from the new address (the old one may be dead
 *   with the address). The responder's core takes the addresses the authenticated update came from: the new
 *   stream's TCP address and port, so IKE and ESP go on that stream. Once an IKE SA moved (saMoved), both sides
 *   close the stream of the old path if no IKE SA uses it any more; a stream closed so is not reconnected.
 * - NAT-keepalives are not sent over TCP (6.6), and an IKE retransmission is not repeated on a stream that already
 *   carried it (6.2): both are dropped at the stream.
 */
import type net from 'node:net';
import type { Address } from '../ike/config.js';
import { fmtAddr, type GatewayNet } from '../gateway/gateway.js';
import { hasNonEspMarker } from '../net/tcp-encap.js';
import type { Logger } from './logger.js';
import { ReconnectBackoff, connectStream } from './tcp-encap-connector.js';
import { TcpEncapListener } from './tcp-encap-listener.js';
import { TcpEncapStream } from './tcp-encap-stream.js';

export type TcpMode = 'tcp' | 'tcp-fallback';

/** A peer we initiate to over TCP (a remote address or DNS name of a connection with `encap = tcp|tcp-fallback`). */
export interface TcpPeer {
  /** A literal address, or a DNS name (`name`) matched against what the resolver gives for it now. */
  readonly address: string;
  readonly name?: boolean;
  readonly mode: TcpMode;
  /** The connection names, for logs. */
  readonly conns: readonly string[];
}

export interface TcpEncapNetOptions {
  readonly udp: GatewayNet;
  readonly log: Logger;
  /** The IKE port (500 unless --port) and the NAT-T port (4500 unless --natt-port). */
  readonly ikePort: number;
  readonly nattPort: number;
  /** The TCP port to listen on and connect to (--tcp-port; default the NAT-T port, RFC 9329 section 2's 4500). */
  readonly tcpPort: number;
  /** A datagram read from a stream: as UDP's onDatagram (ESP is queued, the driver ends the batch with onIdle). */
  readonly onMessage: (data: Uint8Array, local: Address, remote: Address) => void;
  /** The end of one read's messages (the driver decapsulates the queued ESP). */
  readonly onIdle: () => void;
  /** Whether an IKE SA with the peer at `address` exists (reconnect only then, section 6.1). */
  readonly hasSa: (address: string) => boolean;
  /**
   * The addresses of every IKE SA now (MOBIKE: a stream no IKE SA uses after a move is closed, and an originator
   * stream is reconnected only while an IKE SA uses its path). Without it, any IKE SA with the peer address counts.
   */
  readonly sas?: () => readonly { readonly local: Address; readonly remote: Address }[];
  /** Monotonic ms. */
  readonly clock: () => number;
  /** The address a DNS name in remote_addrs resolves to now (the driver's resolver cache). */
  readonly lookup?: (name: string) => string | undefined;
  /** Accepted streams without an IKE SA to their peer are closed after this (default IDLE_STREAM_MS; tests). */
  readonly idleStreamMs?: number;
}

/** How many closed responder streams are remembered (their datagrams are never sent on UDP). */
const GONE_LIMIT = 4096;
/**
 * Accepted streams at most (RFC 9329 section 10: every stream holds memory and a socket an unauthenticated peer
 * chose to open); beyond it new connections are refused.
 */
export const MAX_INCOMING_STREAMS = 1024;
/** An accepted stream with no IKE SA to its peer address after this long is closed (section 6.1 lets the responder). */
export const IDLE_STREAM_MS = 30_000;

export class TcpEncapNet implements GatewayNet {
  readonly listener: TcpEncapListener;
  readonly counters = { streamsOpened: 0, streamsAccepted: 0, streamsClosed: 0, reconnects: 0, fallbacks: 0, dropped: 0 };
  private peers = new Map<string, TcpPeer & { switched: boolean; heardUdp: boolean; lastIke?: Uint8Array }>();
  /** Originator streams by path: pathKey(local address or '', remote address). */
  private readonly outgoing = new Map<string, TcpEncapStream>();
  /** The path of each originator stream (its key in `outgoing`, the local address it is bound to or ''). */
  private readonly paths = new Map<TcpEncapStream, { key: string; local: string }>();
  /** Originator streams closed because their IKE SA moved away (MOBIKE): not reconnected. */
  private readonly retired = new WeakSet<TcpEncapStream>();
  /** Reconnection pacing by path. */
  private readonly backoff = new Map<string, ReconnectBackoff>();
  /** Responder streams by "address|port" of the peer's end. */
  private readonly incoming = new Map<string, TcpEncapStream>();
  private readonly gone = new Set<string>();
  /** The UDP conversation the core last had with each TCP peer: a reconnected stream stands for it too. */
  private readonly views = new Map<string, Conversation>();
  /** The conversation of the core's last IKE_SA_INIT to each TCP peer (port 500, before RFC 7296 2.23's move). */
  private readonly initViews = new Map<string, Conversation>();
  private readonly pending = new Set<TcpEncapStream>();
  private closing = false;
  private hasNames = false;
  /** Reused for ESP read from a stream (the core does not keep ESP's addresses). */
  private readonly espLocal = { address: '', port: 0 };

  constructor(private readonly opts: TcpEncapNetOptions) {
    this.listener = new TcpEncapListener(opts.tcpPort, (socket, local, remote) => this.accept(socket, local, remote));
  }

  /** Peers to initiate to over TCP (from the configuration; replaced on reload). */
  setPeers(peers: readonly TcpPeer[]): void {
    const next = new Map<string, TcpPeer & { switched: boolean; heardUdp: boolean; lastIke?: Uint8Array }>();
    for (const p of peers) {
      const old = this.peers.get(p.address);
      next.set(p.address, { ...p, switched: old?.mode === p.mode ? old.switched : false, heardUdp: old?.heardUdp ?? false });
    }
    this.peers = next;
    this.hasNames = peers.some((p) => p.name === true);
  }

  /** Whether anything goes over TCP at all (fast path for ESP when not). */
  private get active(): boolean {
    return this.peers.size > 0 || this.incoming.size > 0 || this.gone.size > 0;
  }

  /** A UDP datagram came from `address`: a tcp-fallback peer that answers over UDP stays on UDP. */
  noteUdp(address: string): void {
    const p = this.peerFor(address);
    if (p && !p.heardUdp) p.heardUdp = true;
  }

  /** Whether tcp-fallback peers wait for their first UDP answer (the driver calls noteUdp only then). */
  get watchingUdp(): boolean {
    for (const p of this.peers.values()) if (p.mode === 'tcp-fallback' && !p.heardUdp && !p.switched) return true;
    return false;
  }

  /** 'tcp' when datagrams to `remote` go on a TCP stream now, else 'udp' (status, list-sas, logs). */
  transportOf(remote: Address): 'tcp' | 'udp' {
    const r = this.route(remote, 'peek');
    return r === undefined ? 'udp' : 'tcp';
  }

  /** The stream datagrams to `remote` take now, if any (status: its TCP addresses). */
  streamOf(remote: Address): TcpEncapStream | undefined {
    const r = this.route(remote, 'peek');
    return r === undefined || r === 'drop' ? undefined : r;
  }

  listen(address: string): Promise<void> {
    return this.listener.has(address) ? Promise.resolve() : this.listener.listen(address);
  }

  // ------------------------------------------------------------------ GatewayNet

  sendIke(local: Address, remote: Address, data: Uint8Array): void {
    if (this.active) {
      this.watchFallback(remote, data);
      const s = this.route(remote, 'ike', local);
      if (s === 'drop') {
        this.counters.dropped++;
        this.opts.log.log('net', 2, `no TCP stream to ${fmtAddr(remote)} (the peer reconnects, RFC 9329 6.1): IKE message dropped`);
        return;
      }
      if (s) {
        if (s.role === 'originator') this.noteConversation(s, { local: { ...local }, remote: { ...remote } }, isIkeSaInit(data));
        if (s.queueIke(data, hasNonEspMarker(data))) this.opts.log.log('net', 2, `sending packet: from ${fmtAddr(local)} to ${fmtAddr(remote)} over TCP ${s.name} (${data.length} bytes)`);
        s.flush();
        return;
      }
    }
    this.opts.udp.sendIke(local, remote, data);
  }

  sendEsp(buf: Uint8Array, off: number, len: number, local: Address, remote: Address): void {
    const s = this.active ? this.route(remote, 'esp', local) : undefined;
    if (s === undefined) this.opts.udp.sendEsp(buf, off, len, local, remote);
    else if (s === 'drop' || !s.queueEsp(buf, off, len)) {
      this.counters.dropped++;
    } else this.pending.add(s);
  }

  flushEsp(): void {
    for (const s of this.pending) s.flush();
    this.pending.clear();
    this.opts.udp.flushEsp();
  }

  sourceFor(remote: string): string | undefined {
    return this.opts.udp.sourceFor?.(remote);
  }

  // ------------------------------------------------------------------ routing

  /**
   * Where a datagram from `local` to `remote` goes: a stream, 'drop' (a TCP peer with no stream now), or undefined
   * for UDP. An originator stream is the one of the path (local address, remote address), opened when there is
   * none for an IKE message, and for ESP outside a reconnect backoff; 'peek' (status displays, no local address)
   * takes the newest stream to the peer and never opens one.
   */
  private route(remote: Address, intent: 'ike' | 'esp' | 'peek', local?: Address): TcpEncapStream | 'drop' | undefined {
    if (this.incoming.size > 0) {
      const s = this.incoming.get(key(remote));
      if (s) return s;
    }
    const p = this.peerFor(remote.address);
    if (p && (p.mode === 'tcp' || p.switched)) {
      if (intent === 'peek') return this.newestTo(remote.address) ?? 'drop';
      const from = bindable(local?.address);
      const k = pathKey(from, remote.address);
      const s = this.outgoing.get(k);
      if (s) return s;
      if (this.closing) return 'drop';
      if (intent === 'esp' && this.backoff.get(k)?.waiting) return 'drop';
      return this.open(remote.address, from, p.conns);
    }
    if (this.gone.has(key(remote))) return this.newestFrom(remote.address) ?? 'drop';
    return undefined;
  }

  /**
   * What the core just sent on an originator stream: its IKE_SA_INIT conversation (answers to IKE_SA_INIT go back
   * there) or its NAT-T one (everything else). Before anything but IKE_SA_INIT was sent, the NAT-T conversation is
   * where the core will move after IKE_SA_INIT: port 500 becomes 4500 (RFC 7296 2.23, as ike-sa-init.ts does).
   */
  private noteConversation(s: TcpEncapStream, c: Conversation, init: boolean): void {
    const address = c.remote.address;
    if (init) {
      this.initViews.set(address, c);
      if (this.views.has(address)) return;
      const float = (a: Address): Address => ({ address: a.address, port: a.port === 500 ? 4500 : a.port });
      s.view = { local: float(c.local), remote: float(c.remote) };
    } else {
      s.view = c;
      this.views.set(address, c);
    }
  }

  /** The TCP peer `address` belongs to: by the address itself, else by a name that resolves to it now. */
  private peerFor(address: string): (TcpPeer & { switched: boolean; heardUdp: boolean; lastIke?: Uint8Array }) | undefined {
    const p = this.peers.get(address);
    if (p || !this.hasNames) return p;
    for (const q of this.peers.values()) if (q.name && this.opts.lookup?.(q.address) === address) return q;
    return undefined;
  }

  /** The newest originator stream to `address` (status: after a MOBIKE move, the new path's). */
  private newestTo(address: string): TcpEncapStream | undefined {
    let best: TcpEncapStream | undefined;
    for (const s of this.outgoing.values()) if (s.remote.address === address && (!best || s.openedAt >= best.openedAt)) best = s;
    return best;
  }

  private newestFrom(address: string): TcpEncapStream | undefined {
    let best: TcpEncapStream | undefined;
    for (const s of this.incoming.values()) if (s.remote.address === address && (!best || s.openedAt >= best.openedAt)) best = s;
    return best;
  }

  /** tcp-fallback: a retransmitted IKE message to a peer that never answered over UDP moves it to TCP (5.1). */
  private watchFallback(remote: Address, data: Uint8Array): void {
    const p = this.peerFor(remote.address);
    if (!p || p.mode !== 'tcp-fallback' || p.switched || p.heardUdp) return;
    if (p.lastIke && equalBytes(p.lastIke, data)) {
      p.switched = true;
      p.lastIke = undefined;
      this.counters.fallbacks++;
      this.opts.log.log('net', 0, `no answer from ${remote.address} over UDP, retransmitting over TCP port ${this.opts.tcpPort} (encap = tcp-fallback, RFC 9329 5.1)`);
      return;
    }
    p.lastIke = data.slice();
  }

  // ------------------------------------------------------------------ streams

  /** An originator stream for the path from `local` ('' : the kernel picks) to `address`, bound to `local`. */
  private open(address: string, local: string, conns: readonly string[]): TcpEncapStream {
    const remote = { address, port: this.opts.tcpPort };
    const now = this.opts.clock();
    const view = this.views.get(address) ?? { local: { address: local, port: this.opts.ikePort }, remote: { address, port: this.opts.ikePort } };
    const k = pathKey(local, address);
    const b = this.backoff.get(k) ?? new ReconnectBackoff();
    this.backoff.set(k, b);
    b.attempt();
    const s = connectStream(remote, (socket) => new TcpEncapStream(socket, 'originator', { address: '', port: 0 }, remote, view, this.streamEvents, now), local || undefined);
    this.outgoing.set(k, s);
    this.paths.set(s, { key: k, local });
    this.counters.streamsOpened++;
    this.opts.log.log('net', 1, `connecting to ${fmtAddr(remote)}${local ? ` from ${local}` : ''} over TCP for ${conns.join(', ')} (RFC 9329)`);
    return s;
  }

  /** Whether an IKE SA runs between `local` ('' : any) and `remote` (its port too when `port`). */
  private used(local: string, remote: Address, port: boolean): boolean {
    const sas = this.opts.sas?.();
    if (!sas) return this.opts.hasSa(remote.address);
    return sas.some((sa) => sa.remote.address === remote.address && (!port || sa.remote.port === remote.port) && (local === '' || bindable(sa.local.address) === local));
  }

  /**
   * An IKE SA moved from `from` to `to` (MOBIKE, RFC 4555 3.5/3.6; or a NAT rebinding): over TCP the IKE SA and
   * its ESP now ride the stream of the new path (RFC 9329 section 7.1), and the stream of the old path is closed
   * when no IKE SA uses it any more: the responder's accepted stream from the old TCP address and port, the
   * initiator's streams to the peer from local addresses no IKE SA has (the old one, and probes of other paths).
   */
  saMoved(from: { local: Address; remote: Address }, to: { local: Address; remote: Address }): void {
    if (!this.active) return;
    const where = `${fmtAddr(to.local)}-${fmtAddr(to.remote)}`;
    const old = this.incoming.get(key(from.remote));
    if (old && key(from.remote) !== key(to.remote) && !this.used('', from.remote, true)) old.close(`closed: IKE SA moved to ${where} (MOBIKE, RFC 9329 7.1)`);
    const keep = pathKey(bindable(to.local.address), to.remote.address);
    for (const [k, s] of [...this.outgoing]) {
      const local = this.paths.get(s)?.local ?? '';
      if (k === keep || s.remote.address !== from.remote.address || local === '' || this.used(local, s.remote, false)) continue;
      this.retired.add(s);
      s.close(`closed: IKE SA moved to ${where} (MOBIKE, RFC 9329 7.1)`);
    }
  }

  private accept(socket: net.Socket, local: Address, remote: Address): void {
    if (this.closing || this.incoming.size >= MAX_INCOMING_STREAMS) {
      if (!this.closing) this.opts.log.log('net', 1, `TCP connection from ${fmtAddr(remote)} refused: ${MAX_INCOMING_STREAMS} streams open`);
      socket.destroy();
      return;
    }
    const view = { local: { address: local.address, port: this.opts.nattPort }, remote };
    const s = new TcpEncapStream(socket, 'responder', local, remote, view, this.streamEvents, this.opts.clock());
    this.incoming.set(key(remote), s);
    this.gone.delete(key(remote));
    this.counters.streamsAccepted++;
    this.opts.log.log('net', 1, `TCP connection from ${fmtAddr(remote)} to ${fmtAddr(local)} accepted (RFC 9329)`);
    const idleMs = this.opts.idleStreamMs ?? IDLE_STREAM_MS;
    const idle = setInterval(() => {
      if (s.closed) clearInterval(idle);
      else if (!this.opts.hasSa(remote.address)) {
        clearInterval(idle);
        s.close(`closed: no IKE SA with ${remote.address} after ${idleMs} ms`);
      }
    }, idleMs);
    idle.unref();
  }

  private readonly streamEvents = {
    onOpen: (s: TcpEncapStream): void => {
      this.backoff.get(this.paths.get(s)?.key ?? '')?.succeeded();
      this.opts.log.log('net', 1, `TCP connection ${s.name} established, "IKETCP" sent`);
    },
    onMessages: (s: TcpEncapStream, messages: Uint8Array[]): void => this.deliver(s, messages),
    onClose: (s: TcpEncapStream, why: string): void => this.closed(s, why),
  };

  private deliver(s: TcpEncapStream, messages: Uint8Array[]): void {
    const { local, remote } = s.view;
    const initView = s.role === 'originator' ? this.initViews.get(s.remote.address) : undefined;
    for (const m of messages) {
      if (hasNonEspMarker(m)) {
        // IKE: a copy of the addresses (the core may keep them); without the marker where the core speaks port 500.
        const c = initView && isIkeSaInit(m) ? initView : s.view;
        const port500 = s.role === 'originator' && c.local.port === 500;
        this.opts.onMessage(port500 ? m.subarray(4) : m, { ...c.local }, { ...c.remote });
      } else {
        this.espLocal.address = local.address;
        this.espLocal.port = local.port === 500 ? this.opts.nattPort : local.port;
        this.opts.onMessage(m, this.espLocal, remote);
      }
    }
    this.opts.onIdle();
  }

  private closed(s: TcpEncapStream, why: string): void {
    this.pending.delete(s);
    this.counters.streamsClosed++;
    const c = s.counters;
    const stats = `${c.framesIn} frames in, ${c.framesOut} out${c.espDropped > 0 ? `, ${c.espDropped} ESP dropped` : ''}${c.retransmitsSuppressed > 0 ? `, ${c.retransmitsSuppressed} IKE retransmissions not repeated` : ''}`;
    if (s.role === 'responder') {
      if (this.incoming.get(key(s.remote)) === s) this.incoming.delete(key(s.remote));
      this.gone.add(key(s.remote));
      if (this.gone.size > GONE_LIMIT) this.gone.delete(this.gone.values().next().value ?? '');
      this.opts.log.log('net', 1, `TCP connection ${s.name} ${why} (${stats})`);
      return;
    }
    const path = this.paths.get(s) ?? { key: pathKey('', s.remote.address), local: '' };
    this.paths.delete(s);
    if (this.outgoing.get(path.key) === s) this.outgoing.delete(path.key);
    if (this.closing) return;
    const address = s.remote.address;
    // Only a path an IKE SA still uses is reconnected (not one MOBIKE moved away from, RFC 9329 7.1).
    const again = !this.retired.has(s) && this.used(path.local, s.remote, false) && this.peerFor(address) !== undefined;
    const b = this.backoff.get(path.key);
    if (!again && b && !b.waiting) this.backoff.delete(path.key);
    const delay = b?.failed() ?? 0;
    this.opts.log.log('net', 1, `TCP connection ${s.name} ${why} (${stats})${again ? `, reconnecting${delay > 0 ? ` in ${delay} ms` : ''} (RFC 9329 6.1)` : ''}`);
    if (!again) return;
    b?.schedule(delay, () => {
      if (this.closing || this.outgoing.has(path.key) || !this.used(path.local, s.remote, false)) return;
      const p = this.peerFor(address);
      if (!p) return;
      this.counters.reconnects++;
      this.open(address, path.local, p.conns);
    });
  }

  /** Counts for status and metrics. */
  stats(): Record<string, number> {
    return { tcpStreams: this.outgoing.size + this.incoming.size, ...prefixed(this.counters) };
  }

  async close(): Promise<void> {
    this.closing = true;
    for (const b of this.backoff.values()) b.cancel();
    for (const s of [...this.outgoing.values(), ...this.incoming.values()]) {
      s.flush();
      s.close('closed (daemon stopping)');
    }
    await this.listener.close();
  }
}

interface Conversation {
  local: Address;
  remote: Address;
}

/** IKE_SA_INIT (exchange type 34, RFC 7296 3.1), with or without the non-ESP marker in front. */
function isIkeSaInit(d: Uint8Array): boolean {
  const at = hasNonEspMarker(d) ? 4 : 0;
  return d.length >= at + 28 && d[at + 18] === 34;
}

function key(a: Address): string {
  return `${a.address}|${a.port}`;
}

/** An originator stream's path: our local address ('' when unbound) and the peer's. */
function pathKey(local: string, remote: string): string {
  return `${local}|${remote}`;
}

/** The local address an originator stream is bound to: none for an unknown or wildcard one (the kernel picks). */
function bindable(address: string | undefined): string {
  return address === undefined || address === '' || address === '0.0.0.0' || address === '::' || address.startsWith('%') ? '' : address;
}

function prefixed(c: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(c).map(([k, v]) => [`tcp${k[0]?.toUpperCase()}${k.slice(1)}`, v]));
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The peers to reach over TCP: every literal remote address of a connection with `encap = tcp|tcp-fallback`, and
 * every DNS name when `isName` says it is one (ranges, subnets and %any are not peers one can connect to).
 */
export function tcpPeers(conns: readonly { name: string; remoteAddrs: readonly string[] }[], modes: ReadonlyMap<string, TcpMode> | undefined, isName?: (a: string) => boolean): TcpPeer[] {
  const out = new Map<string, { address: string; name?: boolean; mode: TcpMode; conns: string[] }>();
  for (const c of conns) {
    const mode = modes?.get(c.name);
    if (!mode) continue;
    for (const a of c.remoteAddrs) {
      const literal = /^[0-9a-fA-F:.]+$/.test(a) && (a.includes('.') || a.includes(':'));
      const name = !literal && isName?.(a) === true;
      if (!literal && !name) continue;
      const p = out.get(a);
      if (p) {
        p.conns.push(c.name);
        // One connection insisting on TCP puts the address on TCP.
        if (mode === 'tcp') p.mode = 'tcp';
      } else out.set(a, { address: a, ...(name ? { name: true } : {}), mode, conns: [c.name] });
    }
  }
  return [...out.values()];
}
