/**
 * An in-memory TUN device with the TunDevice interface, for tests and the no-root demo (wireguard-go's
 * `tun/tuntest` is the model). The "host" handle plays the operating system: what it injects, the device reads;
 * what the device writes, the host observes. Two devices can also be wired back to back (createMemoryTunPair).
 */
import { checkMtu, emptyTunStats, TunError, type PacketBatchHandler, type TunDevice, type TunStats } from './types.js';

export interface MemoryTunOptions {
  name?: string;
  mtu?: number;
  /** Packets per batch handed to onPackets (default 64, as LinuxTun). */
  batchSize?: number;
  /** Packets held for the reader before new ones are dropped (default 4096). */
  queueLimit?: number;
  headroom?: number;
  /**
   * 'async' (default): onPackets runs on a later event-loop turn (setImmediate), as with a real device.
   * 'sync': onPackets runs inside inject()/writeBatch() of the other side, for virtual-time simulations.
   */
  delivery?: 'async' | 'sync';
}

/** The operating system's side of a MemoryTun. */
export interface TunHost {
  /** Packets from the OS into the tunnel: they become reads on the device (copied). */
  inject(packets: Uint8Array | readonly Uint8Array[]): void;
  /**
   * Receives packets the device writes (towards the OS). Without a handler they are kept until take().
   * The packets are copies owned by the receiver.
   */
  onWrite(handler: ((packets: readonly Uint8Array[]) => void) | undefined): void;
  /** Removes and returns the packets written so far (when no onWrite handler is set). */
  take(): Uint8Array[];
}

export class MemoryTun implements TunDevice {
  readonly name: string;
  readonly headroom: number;
  readonly stats: TunStats = emptyTunStats();
  #mtu: number;
  readonly #batchSize: number;
  readonly #queueLimit: number;
  readonly #delivery: 'async' | 'sync';
  /** Packets waiting to be read, each already placed `headroom` bytes into its own buffer. */
  #rx: Uint8Array[] = [];
  #rxHead = 0;
  #handler: PacketBatchHandler | undefined;
  #scheduled = false;
  #closed = false;
  #delivering = false;
  /** Where writes go: the host handle or the peer device. */
  #sink: (packets: Uint8Array[]) => void = () => {};

  constructor(o: MemoryTunOptions = {}) {
    this.name = o.name ?? 'memtun0';
    this.#mtu = o.mtu ?? 1400;
    checkMtu(this.#mtu, `memory TUN ${this.name}`);
    this.#batchSize = o.batchSize ?? 64;
    this.#queueLimit = o.queueLimit ?? 4096;
    this.headroom = o.headroom ?? 0;
    this.#delivery = o.delivery ?? 'async';
    if (!(this.#batchSize >= 1) || !(this.#queueLimit >= 1) || !(this.headroom >= 0)) {
      throw new TunError('BAD_OPTION', `memory TUN ${this.name}: batchSize, queueLimit must be >= 1 and headroom >= 0`);
    }
  }

  get mtu(): number {
    return this.#mtu;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Packets waiting to be read. */
  get pending(): number {
    return this.#rx.length - this.#rxHead;
  }

  onPackets(handler: PacketBatchHandler): void {
    this.#handler = handler;
    this.#kick();
  }

  readBatch(max = this.#batchSize): Uint8Array[] {
    if (this.#closed) return [];
    const n = Math.min(max, this.pending);
    const out = this.#rx.slice(this.#rxHead, this.#rxHead + n);
    this.#rxHead += n;
    if (this.#rxHead > 1024 && this.#rxHead * 2 > this.#rx.length) {
      this.#rx = this.#rx.slice(this.#rxHead);
      this.#rxHead = 0;
    }
    for (const p of out) {
      this.stats.rxPackets++;
      this.stats.rxBytes += p.length;
    }
    return out;
  }

  writeBatch(packets: readonly Uint8Array[]): number {
    if (this.#closed) {
      this.stats.txDropped += packets.length;
      return 0;
    }
    const copies = packets.map((p) => p.slice());
    for (const p of copies) {
      this.stats.txPackets++;
      this.stats.txBytes += p.length;
    }
    this.#sink(copies);
    return packets.length;
  }

  async setMtu(mtu: number): Promise<void> {
    checkMtu(mtu, `memory TUN ${this.name}`);
    this.#mtu = mtu;
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#handler = undefined;
    this.#rx = [];
    this.#rxHead = 0;
  }

  /** Internal: packets arriving from the OS side. */
  _receive(packets: readonly Uint8Array[]): void {
    if (this.#closed) return;
    for (const p of packets) {
      if (this.pending >= this.#queueLimit) {
        this.stats.rxDropped++;
        continue;
      }
      const buf = new Uint8Array(this.headroom + p.length);
      buf.set(p, this.headroom);
      this.#rx.push(buf.subarray(this.headroom));
    }
    this.#kick();
  }

  /** Internal: where writeBatch() sends packets. */
  _setSink(sink: (packets: Uint8Array[]) => void): void {
    this.#sink = sink;
  }

  #kick(): void {
    if (!this.#handler || this.pending === 0) return;
    if (this.#delivery === 'sync') {
      this.#deliver();
      return;
    }
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      // One batch per turn, like the Linux device, so a flood cannot starve timers.
      const h = this.#handler;
      if (!h || this.#closed) return;
      const batch = this.readBatch(this.#batchSize);
      if (batch.length > 0) h(batch);
      this.#kick();
    });
  }

  #deliver(): void {
    // A handler that writes into a looped-back peer would re-enter here: let the outer loop drain instead.
    if (this.#delivering) return;
    this.#delivering = true;
    try {
      while (this.#handler && this.pending > 0 && !this.#closed) this.#handler(this.readBatch(this.#batchSize));
    } finally {
      this.#delivering = false;
    }
  }
}

/** A memory TUN and the host handle that plays the OS behind it. */
export function createMemoryTun(o: MemoryTunOptions = {}): { tun: MemoryTun; host: TunHost } {
  const tun = new MemoryTun(o);
  let written: Uint8Array[] = [];
  let onWrite: ((p: readonly Uint8Array[]) => void) | undefined;
  tun._setSink((packets) => {
    if (onWrite) onWrite(packets);
    else written.push(...packets);
  });
  const host: TunHost = {
    inject(packets) {
      tun._receive(packets instanceof Uint8Array ? [packets] : packets);
    },
    onWrite(handler) {
      onWrite = handler;
      if (handler && written.length > 0) {
        const w = written;
        written = [];
        handler(w);
      }
    },
    take() {
      const w = written;
      written = [];
      return w;
    },
  };
  return { tun, host };
}

/** Two memory TUNs wired back to back: what one writes, the other reads. */
export function createMemoryTunPair(a: MemoryTunOptions = {}, b: MemoryTunOptions = {}): [MemoryTun, MemoryTun] {
  const ta = new MemoryTun({ name: 'memtun0', ...a });
  const tb = new MemoryTun({ name: 'memtun1', ...b });
  ta._setSink((p) => tb._receive(p));
  tb._setSink((p) => ta._receive(p));
  return [ta, tb];
}
