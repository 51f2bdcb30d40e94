/**
 * Anti-replay window (RFC 4303 section 3.4.3) as an RFC 6479 bitmap ring, with 64-bit Extended Sequence Numbers
 * (RFC 4303 section 2.2.1, high half inferred as in Appendix A).
 *
 * Sequence numbers are carried as two unsigned 32-bit halves (hi, lo) so the whole 2^64 space is exact (a JS
 * number is exact only to 2^53) and nothing is allocated per packet.
 *
 * Use: `inferHigh(lo)` (ESN only) -> `check(hi, lo)` before the ICV is verified -> `commit(hi, lo)` after it
 * verified. Checking first keeps forged packets cheap; committing only after authentication keeps a forger from
 * moving the window (RFC 4303 section 3.4.3: "the receive window is updated only if the ICV verification succeeds").
 *
 * RFC 6479: the window is a ring of 32-bit blocks, one block larger than the window, so moving the top forward
 * clears whole blocks instead of shifting the bitmap: cost O(blocks advanced), never O(window).
 */

const BLOCK_BITS = 32;
const BLOCK_SHIFT = 5;
const TWO32 = 0x1_0000_0000;

/** strongSwan's libipsec fixes 128; Linux's default for ESN is larger. The issue asks 1024 by default. */
export const DEFAULT_REPLAY_WINDOW = 1024;
/** Upper bound accepted by the constructor (2^20 packets = 128 KiB of bitmap). */
export const MAX_REPLAY_WINDOW = 1 << 20;

/**
 * Window used to infer the high half of an ESN when anti-replay is disabled: there is no window, so take the
 * half-space rule of serial-number arithmetic (RFC 1982): up to 2^31 behind the highest seen is "late".
 */
const NO_WINDOW_INFERENCE = 0x8000_0000;

export class ReplayWindow {
  /** Window size in packets; 0 = anti-replay disabled (ESN inference still works). */
  readonly size: number;
  private readonly ring: Uint32Array;
  private readonly blockMask: number;
  /** Highest authenticated sequence number seen (0 before the first packet). */
  private topHi = 0;
  private topLo = 0;

  constructor(size: number = DEFAULT_REPLAY_WINDOW) {
    if (!Number.isInteger(size) || size < 0 || size > MAX_REPLAY_WINDOW) {
      throw new RangeError(`replay window ${size}: must be an integer in 0..${MAX_REPLAY_WINDOW}`);
    }
    this.size = size;
    // RFC 6479 section 2: ring of N blocks, N a power of two, holding the window plus one spare block.
    let blocks = 1;
    const need = size === 0 ? 1 : Math.ceil(size / BLOCK_BITS) + 1;
    while (blocks < need) blocks <<= 1;
    this.ring = new Uint32Array(blocks);
    this.blockMask = blocks - 1;
    // Sequence number 0 is never sent (RFC 4303 section 3.3.3: the first packet carries 1): mark it as seen.
    this.ring[0] = 1;
  }

  /** Highest authenticated sequence number, high half. */
  get highestHi(): number {
    return this.topHi;
  }

  /** Highest authenticated sequence number, low half. */
  get highestLo(): number {
    return this.topLo;
  }

  /**
   * RFC 4303 Appendix A2.2: infer the high 32 bits of a 64-bit ESN from the transmitted low 32 bits and the
   * window state (Tl, Th = top; W = window). Returns -1 when the inferred value would be below 0 (a packet from
   * "before the beginning", only possible while Th = 0): the caller drops it as a replay.
   */
  inferHigh(seqLo: number): number {
    const w = this.size === 0 ? NO_WINDOW_INFERENCE : this.size;
    const tl = this.topLo;
    const th = this.topHi;
    const bottom = (tl - w + 1) >>> 0; // Bl = Tl - W + 1 mod 2^32
    if (tl >= w - 1) {
      // Case A: the window lies within one subspace.
      return seqLo >= bottom ? th : (th + 1) >>> 0;
    }
    // Case B: the window spans two subspaces.
    if (seqLo >= bottom) return th === 0 ? -1 : th - 1;
    return th;
  }

  /**
   * True when (hi, lo) may be new: ahead of the top, or inside the window and not yet seen. Read-only: call
   * `commit` once the ICV verified.
   */
  check(hi: number, lo: number): boolean {
    const th = this.topHi;
    const tl = this.topLo;
    // Ahead of the top (in-order traffic, the common case) is new whatever the window.
    if (hi === th ? lo > tl : hi > th) return true;
    if (this.size === 0) return true;
    // Behind or equal to the top: distance = top - seq, exact while the high halves are close.
    const behind = (th - hi) * TWO32 + (tl - lo);
    if (behind >= this.size) return false;
    const word = this.ring[(lo >>> BLOCK_SHIFT) & this.blockMask]!;
    return (word & (1 << (lo & (BLOCK_BITS - 1)))) === 0;
  }

  /**
   * Records (hi, lo) as received. Returns false (and records nothing) when the number is a replay or too old,
   * which can happen when two copies of one packet are authenticated back to back.
   */
  commit(hi: number, lo: number): boolean {
    const th = this.topHi;
    const tl = this.topLo;
    const ahead = hi === th ? lo > tl : hi > th;
    if (this.size === 0) {
      if (ahead) {
        this.topHi = hi;
        this.topLo = lo;
      }
      return true;
    }
    const bit = 1 << (lo & (BLOCK_BITS - 1));
    const index = (lo >>> BLOCK_SHIFT) & this.blockMask;
    if (ahead) {
      // Blocks between the old top's block and the new one are cleared (RFC 6479 section 2.2). The distance in
      // blocks, computed over 64 bits; any jump of a whole ring or more clears everything.
      const blocksAhead = (lo >>> BLOCK_SHIFT) - (tl >>> BLOCK_SHIFT);
      const diffBlocks = hi === th ? blocksAhead : (hi - th) * (TWO32 / BLOCK_BITS) + blocksAhead;
      const ring = this.ring;
      if (diffBlocks >= ring.length) {
        ring.fill(0);
      } else {
        let b = tl >>> BLOCK_SHIFT;
        for (let i = 0; i < diffBlocks; i++) {
          b = (b + 1) & this.blockMask;
          ring[b] = 0;
        }
      }
      this.topHi = hi;
      this.topLo = lo;
      ring[index]! |= bit;
      return true;
    }
    const behind = (th - hi) * TWO32 + (tl - lo);
    if (behind >= this.size) return false;
    const word = this.ring[index]!;
    if ((word & bit) !== 0) return false;
    this.ring[index] = word | bit;
    return true;
  }
}
