/**
 * The TUN device as the daemon sees it: batches of IP packets in and out (DESIGN.md section 4; wireguard-go
 * `tun/tun.go` is the model). Two implementations: LinuxTun (koffi, /dev/net/tun) and MemoryTun (tests, demo).
 *
 * Buffer ownership: packets handed to a reader are views into the device's buffer pool and stay valid only
 * until the handler returns (onPackets) or the next readBatch() call; copy what must outlive that. Each view
 * starts `headroom` bytes into its buffer, so the ESP engine can write outer headers in front without a copy:
 * `new Uint8Array(p.buffer, p.byteOffset - tun.headroom, tun.headroom + p.length)`.
 * Packets passed to writeBatch() may be reused by the caller as soon as it returns.
 */
import { CodedError } from '../util/coded-error.js';

export interface TunStats {
  rxPackets: number;
  rxBytes: number;
  txPackets: number;
  txBytes: number;
  /** Packets the device could not hand to the reader (queue full) or the OS refused (write errors). */
  rxDropped: number;
  txDropped: number;
  /** Read/write errors other than "would block". */
  errors: number;
}

export type PacketBatchHandler = (packets: readonly Uint8Array[]) => void;

export interface TunDevice {
  /** Interface name as the OS knows it (e.g. 'cyg0'). */
  readonly name: string;
  readonly mtu: number;
  /** Free bytes in front of every packet read (see the ownership note above). */
  readonly headroom: number;
  /**
   * Free bytes guaranteed after every packet read (default 0), so the ESP trailer can be written in place: a
   * packet p may be used as `new Uint8Array(p.buffer, p.byteOffset - headroom, headroom + p.length + tailroom)`.
   */
  readonly tailroom?: number;
  readonly stats: TunStats;
  readonly closed: boolean;
  /**
   * Starts push delivery: `handler` receives batches of at most the device's batch size (64 by default) per
   * event-loop turn, as packets arrive. One handler per device; calling again replaces it.
   */
  onPackets(handler: PacketBatchHandler): void;
  /** Pull: up to `max` packets available right now, without waiting; [] when none. */
  readBatch(max?: number): Uint8Array[];
  /** Writes packets towards the OS. Returns how many were accepted; the rest are counted in txDropped. */
  writeBatch(packets: readonly Uint8Array[]): number;
  /** Changes the MTU (the OS interface's too, for LinuxTun). */
  setMtu(mtu: number): Promise<void>;
  /** Stops reading, releases the device. Idempotent. */
  close(): Promise<void>;
}

export function emptyTunStats(): TunStats {
  return { rxPackets: 0, rxBytes: 0, txPackets: 0, txBytes: 0, rxDropped: 0, txDropped: 0, errors: 0 };
}

export type TunErrorCode = 'UNSUPPORTED' | 'OPEN_FAILED' | 'IOCTL_FAILED' | 'READ_FAILED' | 'WRITE_FAILED' | 'BAD_OPTION' | 'CLOSED' | 'COMMAND_FAILED';

export class TunError extends CodedError<TunErrorCode> {
  /** errno of the failing system call, when there is one. */
  readonly errno: number | undefined;
  constructor(code: TunErrorCode, message: string, errno?: number) {
    super(code, message);
    this.errno = errno;
  }
}

/** Checks an MTU for an IP interface: at least 576 (RFC 791 minimum reassembly) and at most 65535. */
export function checkMtu(mtu: number, where: string): void {
  if (!Number.isInteger(mtu) || mtu < 576 || mtu > 65535) {
    throw new TunError('BAD_OPTION', `${where}: MTU ${mtu} is not an integer in 576..65535`);
  }
}
