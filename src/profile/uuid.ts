/**
 * RFC 4122 (RFC 9562 section 5.4) version 4 UUIDs from caller-supplied random bytes: the profile writers stay
 * pure, the CLI passes node:crypto's randomBytes and the tests a fixed sequence.
 */

/** Returns `n` random bytes. */
export type RandomBytes = (n: number) => Uint8Array;

/** A version 4 (random) UUID in the canonical upper-case 8-4-4-4-12 form. */
export function uuidV4(random: RandomBytes): string {
  const b = random(16);
  if (b.length !== 16) throw new RangeError(`uuidV4: the random source returned ${b.length} bytes, not 16`);
  const bytes = Uint8Array.from(b);
  // RFC 9562 5.4: version 4 in the high nibble of octet 6, variant 10 in the top bits of octet 8.
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x40;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = [...bytes].map((x) => x.toString(16).padStart(2, '0')).join('').toUpperCase();
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
