/**
 * One ESP Security Association as the data plane holds it (RFC 4301 section 4.4.2, the SAD entry): SPI, keys
 * (inside the transform), sequence counter or replay window, selectors, lifetimes, endpoints, counters.
 */
import type { CryptoBackend } from '../crypto/types.js';
import type { RandomSource } from '../crypto/random.js';
import { DROP_REASON_COUNT, ESP_HEADER_BYTES, UDP_HEADER_BYTES } from './constants.js';
import { DropReports } from './drop-report.js';
import { EspError } from './errors.js';
import { DEFAULT_REPLAY_WINDOW, ReplayWindow } from './replay.js';
import { SelectorSet, type EspSelector } from './selector.js';
import { createEspTransform, type EspSuite, type EspTransform } from './transform.js';

export type SaDirection = 'in' | 'out';

/** An outer endpoint: address text as the UDP socket wants it, and the UDP port (RFC 3948: 4500). */
export interface Endpoint {
  readonly address: string;
  readonly port: number;
}

/**
 * Byte and packet lifetimes (RFC 4301 section 4.4.2.1). Time lifetimes belong to IKE, which has the clock.
 * 0 or absent = no limit. Bytes count inner (plaintext) packet bytes.
 */
export interface SaLifetime {
  readonly softBytes?: number;
  readonly hardBytes?: number;
  readonly softPackets?: number;
  readonly hardPackets?: number;
}

export interface SaParams {
  readonly spi: number;
  readonly direction: SaDirection;
  readonly suite: EspSuite;
  /** Encryption KEYMAT slice: cipher key then salt/nonce where the transform has one (RFC 4106 section 8.1). */
  readonly encKey: Uint8Array;
  /** Integrity KEYMAT slice; absent for AEAD. */
  readonly integKey?: Uint8Array;
  /** 64-bit Extended Sequence Numbers (RFC 4303 section 2.2.1). Default false. */
  readonly esn?: boolean;
  /** Inbound only: anti-replay window in packets, default 1024; 0 disables anti-replay. */
  readonly replayWindow?: number;
  /** Traffic selectors of the SA (TSi/TSr from our point of view): checked on inbound inner packets. */
  readonly localSelectors: readonly EspSelector[];
  readonly remoteSelectors: readonly EspSelector[];
  /** Links an outbound SA to its policies (as the kernel's reqid). Default 0. */
  readonly reqid?: number;
  /** Outer endpoints. `remote` is where outbound packets go. */
  readonly local?: Endpoint;
  readonly remote?: Endpoint;
  /** UDP encapsulation (RFC 3948), default true: userspace has no other way to carry ESP. */
  readonly udpEncap?: boolean;
  readonly lifetime?: SaLifetime;
  /** Outbound: pad every inner packet to at least this many bytes (RFC 4303 section 2.7 TFC padding); 0 = off. */
  readonly tfcPadTo?: number;
  /**
   * Inbound: check that the padding bytes are 1, 2, 3, ... (RFC 4303 section 2.4: the receiver SHOULD). Default
   * true; false accepts any padding values from peers known to send others (the Linux kernel does not check them),
   * still requiring a Pad Length that fits.
   */
  readonly paddingCheck?: boolean;
  /** Outbound: the last sequence number used (the next packet carries +1). Tests use it to reach 2^32. */
  readonly initialSeq?: { readonly hi: number; readonly lo: number };
}

/** Packets before the end of the sequence space at which the soft "sequence" expiry fires (rekey in time). */
export const SEQ_SOFT_MARGIN = 1 << 22;
/**
 * The last number a shared sequence counter (EspSa.sharedSeq) hands out: threads that raced past it stop at once,
 * so the 32-bit counter never wraps (RFC 4303 3.3.3) even with a few adds in flight.
 */
export const SHARED_SEQ_LAST = 0xffffffff - (1 << 20);

/**
 * A shared outbound SA's memory (8 bytes): [0] the last sequence number used (EspSa.sharedSeq, Uint32), [1] the
 * seal lock (EspSa.seqLock, Int32: the owner's mark or 0).
 */
export const SHARED_SA_BYTES = 8;

/** The two views of a shared outbound SA's memory (SHARED_SA_BYTES; a 4-byte buffer has no lock). */
export function sharedSaViews(sab: SharedArrayBuffer): { sharedSeq: Uint32Array; seqLock: Int32Array | undefined } {
  return { sharedSeq: new Uint32Array(sab, 0, 1), seqLock: sab.byteLength >= SHARED_SA_BYTES ? new Int32Array(sab, 4, 1) : undefined };
}

/** The next number of a shared counter (EspSa.sharedSeq), or -1 once its space is used up. */
export function takeSharedSeq(counter: Uint32Array): number {
  const lo = Atomics.add(counter, 0, 1) + 1;
  return lo > SHARED_SEQ_LAST ? -1 : lo;
}

export class EspSa {
  readonly spi: number;
  readonly direction: SaDirection;
  readonly suite: EspSuite;
  readonly esn: boolean;
  readonly reqid: number;
  private localEp: Endpoint | undefined;
  private remoteEp: Endpoint | undefined;
  /** UDP ports for the RFC 3948 header, kept as numbers for the hot path (4500 when no endpoint is given). */
  localPort = 4500;
  remotePort = 4500;
  readonly udpEncap: boolean;
  readonly tfcPadTo: number;
  readonly transform: EspTransform;
  /** Bytes an in-place seal needs in front of the payload (UDP header when encapsulated, ESP header, IV). */
  readonly headBytes: number;
  /** Most bytes an in-place seal writes behind the payload (TFC padding aside): padding, trailer, ICV. */
  readonly tailBytes: number;
  readonly selectors: SelectorSet;
  /** Inbound only. */
  readonly replay: ReplayWindow | undefined;

  // Outbound sequence counter: last number used, as two unsigned 32-bit halves.
  seqHi = 0;
  seqLo = 0;
  /**
   * Outbound, with worker threads (src/daemon/workers, issue 17): the counter every thread sealing on this SA shares,
   * a Uint32Array [last number used] on a SharedArrayBuffer. Each packet takes its number with one Atomics.add, so no
   * two threads send the same one; the space ends at SHARED_SEQ_LAST (the ESN high half stays 0). Undefined: seqLo.
   */
  sharedSeq: Uint32Array | undefined = undefined;
  /**
   * Outbound, with worker threads: the seal lock beside sharedSeq ([owner], 0 = free). A thread holds it from the
   * first number it takes in a batch until that batch's datagrams are with the kernel (EspEngine.releaseSealLocks),
   * so the numbers leave in order whichever thread sealed them: without it a thread descheduled between taking
   * numbers and sending them put its packets behind more than the peer's replay window (RFC 4303 3.4.3).
   */
  seqLock: Int32Array | undefined = undefined;
  /** This replica's engine holds seqLock (cleared by releaseSealLocks). */
  seqLockHeld = false;

  /**
   * `now` (ms) of the last packet sealed or delivered on this SA; -Infinity before the first. IKE reads it to send
   * liveness checks only when no protected traffic arrived (RFC 7296 section 2.4).
   */
  lastUsed = -Infinity;
  /** Statistics. `bytes` counts inner packet bytes. */
  packets = 0;
  bytes = 0;
  readonly drops = new Float64Array(DROP_REASON_COUNT);
  /** When each reason was last reported (drop-report.ts). */
  readonly dropReports = new DropReports();
  /** Inbound: see SaParams.paddingCheck. */
  readonly paddingCheck: boolean;
  /** Inbound: packets delivered although their padding values were not 1, 2, 3, ... (paddingCheck off). */
  paddingIgnored = 0;

  readonly softBytes: number;
  readonly hardBytes: number;
  readonly softPackets: number;
  readonly hardPackets: number;
  /** The smaller of the soft and hard limits: below both, the per-packet lifetime check is one comparison each. */
  readonly lifetimeCheckAt: number;
  readonly lifetimeBytesCheckAt: number;
  softFired = false;
  hardExpired = false;
  /** Inbound retirement (make-before-break): removed at this time (ms); Infinity = not retiring. */
  removeAt = Infinity;

  constructor(p: SaParams, backend: CryptoBackend, random: RandomSource) {
    if (!Number.isInteger(p.spi) || p.spi < 256 || p.spi > 0xffffffff) {
      // RFC 4303 section 2.1: SPI values 1-255 are reserved by IANA and 0 is local-use only (and the RFC 3948
      // non-ESP marker).
      throw new EspError('BAD_PARAMS', `SA spi ${p.spi}: must be an integer in 256..2^32-1`);
    }
    if (p.direction !== 'in' && p.direction !== 'out') throw new EspError('BAD_PARAMS', `SA ${hex(p.spi)}: direction '${String(p.direction)}'`);
    this.spi = p.spi;
    this.direction = p.direction;
    this.suite = p.suite;
    this.esn = p.esn ?? false;
    this.reqid = p.reqid ?? 0;
    this.local = p.local;
    this.remote = p.remote;
    this.udpEncap = p.udpEncap ?? true;
    this.tfcPadTo = p.tfcPadTo ?? 0;
    this.paddingCheck = p.paddingCheck ?? true;
    if (!(this.tfcPadTo >= 0 && this.tfcPadTo <= 65535)) throw new EspError('BAD_PARAMS', `SA ${hex(p.spi)}: tfcPadTo ${this.tfcPadTo}`);
    try {
      this.selectors = new SelectorSet(p.localSelectors ?? [], p.remoteSelectors ?? []);
    } catch (e) {
      throw new EspError('BAD_PARAMS', `SA ${hex(p.spi)}: ${(e as Error).message}`);
    }
    if (p.direction === 'in') {
      try {
        this.replay = new ReplayWindow(p.replayWindow ?? DEFAULT_REPLAY_WINDOW);
      } catch (e) {
        throw new EspError('BAD_PARAMS', `SA ${hex(p.spi)}: ${(e as Error).message}`);
      }
    }
    if (p.initialSeq) {
      const { hi, lo } = p.initialSeq;
      if (!isU32(hi) || !isU32(lo) || (!this.esn && hi !== 0)) {
        throw new EspError('BAD_PARAMS', `SA ${hex(p.spi)}: initialSeq ${hi}:${lo} out of range`);
      }
      this.seqHi = hi;
      this.seqLo = lo;
    }
    const lt = p.lifetime ?? {};
    this.softBytes = limit(lt.softBytes);
    this.hardBytes = limit(lt.hardBytes);
    this.softPackets = limit(lt.softPackets);
    this.hardPackets = limit(lt.hardPackets);
    this.lifetimeCheckAt = Math.min(this.softPackets, this.hardPackets);
    this.lifetimeBytesCheckAt = Math.min(this.softBytes, this.hardBytes);
    this.transform = createEspTransform(p.suite, p.encKey, p.integKey, backend, random);
    this.headBytes = (this.udpEncap ? UDP_HEADER_BYTES : 0) + ESP_HEADER_BYTES + this.transform.ivBytes;
    this.tailBytes = this.transform.padAlign + 1 + this.transform.icvBytes;
  }

  /** Where outbound packets leave from; MOBIKE moves it when our address changes (RFC 4555 3.5). */
  get local(): Endpoint | undefined {
    return this.localEp;
  }

  set local(ep: Endpoint | undefined) {
    this.localEp = ep;
    this.localPort = ep?.port ?? 4500;
  }

  /** Where outbound packets go; IKE moves it when the peer's NAT mapping changes (RFC 7296 2.23). */
  get remote(): Endpoint | undefined {
    return this.remoteEp;
  }

  set remote(ep: Endpoint | undefined) {
    this.remoteEp = ep;
    this.remotePort = ep?.port ?? 4500;
  }

  /** The SPI as 8 hex digits (for messages and logs). */
  get spiHex(): string {
    return hex(this.spi);
  }

  dispose(): void {
    this.transform.dispose();
  }
}

function limit(v: number | undefined): number {
  return v === undefined || v <= 0 ? Infinity : v;
}

function isU32(v: number): boolean {
  return Number.isInteger(v) && v >= 0 && v <= 0xffffffff;
}

export function hex(spi: number): string {
  return (spi >>> 0).toString(16).padStart(8, '0');
}
