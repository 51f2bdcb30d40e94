/**
 * SPIs we choose: IKE SPIs (8 octets, never zero, RFC 7296 3.1) unique among our IKE SAs, inbound ESP SPIs
 * (RFC 4303 2.1: 1-255 reserved by IANA, 0 never valid) unique among our CHILD SAs, and the uniform random
 * numbers the endpoint draws for jitter, all from the injected RandomSource.
 */
import { randomBytes, type RandomSource } from '../crypto/random.js';

function u32(b: Uint8Array): number {
  return new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(0);
}

/** A uniform random number in [0, 1). */
export function random01(random: RandomSource): number {
  return u32(randomBytes(random, 4)) / 2 ** 32;
}

/** A fresh IKE SPI: not zero, and not one `inUse` (by hex) says is taken. */
export function newIkeSpi(random: RandomSource, inUse: (hex: string) => boolean): Uint8Array {
  for (;;) {
    const spi = randomBytes(random, 8);
    if (spi.some((b) => b !== 0) && !inUse(Buffer.from(spi).toString('hex'))) return spi;
  }
}

/**
 * Inbound ESP SPIs in use, so no two CHILD SAs of this endpoint share one. The low byte counts up from one SA to the
 * next (the other 24 bits are random): with worker threads, the kernel hands an SPI's ESP to worker (low byte mod
 * workers) (src/daemon/workers/reuseport.ts, issue 17), so successive CHILD SAs land on successive workers.
 */
export class ChildSpiAllocator {
  private readonly inUse = new Set<number>();
  private low = 0;

  constructor(private readonly random: RandomSource) {}

  allocate(): number {
    for (;;) {
      const spi = ((u32(randomBytes(this.random, 4)) & 0xffffff00) | this.low) >>> 0;
      if (spi > 255 && !this.inUse.has(spi)) {
        this.inUse.add(spi);
        this.low = (this.low + 1) & 0xff;
        return spi;
      }
    }
  }

  release(spi: number): void {
    this.inUse.delete(spi);
  }
}
