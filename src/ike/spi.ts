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

/** Inbound ESP SPIs in use, so no two CHILD SAs of this endpoint share one. */
export class ChildSpiAllocator {
  private readonly inUse = new Set<number>();

  constructor(private readonly random: RandomSource) {}

  allocate(): number {
    for (;;) {
      const spi = u32(randomBytes(this.random, 4));
      if (spi > 255 && !this.inUse.has(spi)) {
        this.inUse.add(spi);
        return spi;
      }
    }
  }

  release(spi: number): void {
    this.inUse.delete(spi);
  }
}
