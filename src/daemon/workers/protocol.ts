/**
 * Messages between the main thread (pool.ts) and the data-plane workers (data-worker.ts), issue 17 and
 * docs/PERFORMANCE.md sections 2 and 7. Everything is structured-clone data: IKE events carry plain objects and
 * Uint8Array keys, and the outbound sequence counter travels as its SharedArrayBuffer (RFC 4303 3.3.3: one counter
 * per outbound SA, however many threads seal on it).
 */
import type { IkeEvent } from '../../ike/events.js';

/** What a worker is started with (workerData). */
export interface WorkerInit {
  readonly role: 'cygnet-data-worker';
  /** 1..count: the worker's socket index in every SO_REUSEPORT group (0 is the main thread's). */
  readonly index: number;
  readonly count: number;
  /** The multi-queue TUN device to attach a queue of, or undefined (no TUN: ESP is counted undeliverable). */
  readonly tunName: string | undefined;
  readonly offload: boolean;
  readonly headroom: number;
  readonly mtu: number;
  readonly nattPort: number;
  /** TCP MSS clamping: an inner MTU, 'tun' for the device's MTU, undefined for off (as GatewayOptions.mssClampMtu). */
  readonly mssMtu: number | 'tun' | undefined;
  readonly batchSend: boolean;
  readonly batchReceive: boolean;
}

/** The IKE events a worker applies to its own EspEngine (its ChildSaInstaller handles exactly these). */
export type SaEvent = Extract<IkeEvent, { type: 'child-install' | 'child-outbound' | 'child-remove' | 'ike-address-change' }>;

export type ToWorker =
  /** The worker's socket of the SO_REUSEPORT group on address:port (the fd is process-wide). */
  | { readonly t: 'socket'; readonly seq: number; readonly address: string; readonly port: number; readonly fd: number }
  /**
   * An SA change, in the order IKE made them: per MessagePort order, an outbound switch (child-outbound or a
   * rekey's child-install) always reaches a worker after the install of the SA it switches to.
   */
  | {
      readonly t: 'sa';
      readonly seq: number;
      readonly event: SaEvent;
      /** child-install: the outbound SA's shared memory (sa.ts SHARED_SA_BYTES: [last number used, seal lock]). */
      readonly sharedSeq?: SharedArrayBuffer;
      readonly replayWindow?: number;
      readonly paddingCheck?: boolean;
    }
  | { readonly t: 'mtu'; readonly mtu: number }
  | { readonly t: 'stop' };

/** Per-worker counters (as the gateway's, for the data path) and per-SA ESP counters. */
export interface WorkerStats {
  readonly index: number;
  readonly counters: Readonly<Record<string, number>>;
  /** By SPI and direction ('in:1a2b3c4d'): bytes, packets and non-zero drops by reason name. */
  readonly sas: Readonly<Record<string, { bytes: number; packets: number; drops: Readonly<Record<string, number>> }>>;
}

export type FromWorker =
  | { readonly t: 'ready'; readonly error?: string; readonly tun?: string }
  | { readonly t: 'ack'; readonly seq: number; readonly error?: string }
  | { readonly t: 'log'; readonly group: string; readonly level: number; readonly message: string }
  /** ESP arrived on this inbound SA (at most once a second per SA): DPD's liveness (RFC 7296 2.4). */
  | { readonly t: 'activity'; readonly spiIn: number }
  /** A byte/packet lifetime ran out on this worker's replica (RFC 4301 4.4.2.1). */
  | { readonly t: 'expired'; readonly spi: number; readonly kind: 'soft' | 'hard' }
  | { readonly t: 'stats'; readonly stats: WorkerStats }
  /**
   * A TUN packet no policy of this worker selects (trap policies live on the main thread): copied with the TUN's
   * headroom and tailroom around it, so the main thread's gateway can seal it in place once an ACQUIRE brought an SA.
   */
  | { readonly t: 'unprotected'; readonly packet: Uint8Array }
  | { readonly t: 'stopped' };

export const WORKER_ROLE = 'cygnet-data-worker';
