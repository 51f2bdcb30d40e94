/**
 * The TUN MTU that lets an inner packet fit, after ESP-in-UDP encapsulation, into the path MTU
 * (issue 7: "the MTU follows the ESP + UDP overhead"). Layout per RFC 4303 section 2 and RFC 3948 section 2.1:
 *   outer IP (20 | 40) | UDP 8 | SPI 4 + Seq 4 | IV | payload + padding + Pad Length 1 + Next Header 1 | ICV
 * where payload + padding + 2 is a multiple of the cipher block size (at least 4, RFC 4303 section 2.4).
 */
export interface EspOverhead {
  /** Outer header family. */
  outerVersion: 4 | 6;
  /** IV bytes on the wire: 8 for GCM, CCM, ChaCha20-Poly1305 and CTR; 16 for AES-CBC. */
  ivBytes: number;
  /** ICV bytes: 16 for AES-GCM-16 and ChaCha20-Poly1305, 16 for HMAC-SHA2-256-128, 12 for SHA1-96. */
  icvBytes: number;
  /** Cipher block size for padding alignment: 16 for AES-CBC, 1 for stream/AEAD modes (then 4 applies). */
  blockBytes: number;
  /** Extra TFC padding or other per-packet overhead. */
  extra?: number;
}

/** Largest inner packet that fits in `pathMtu` after encapsulation (never below 0). */
export function innerMtuFor(pathMtu: number, o: EspOverhead): number {
  const ipHeader = o.outerVersion === 4 ? 20 : 40;
  const align = Math.max(4, o.blockBytes);
  const avail = pathMtu - ipHeader - 8 - 8 - o.ivBytes - o.icvBytes - (o.extra ?? 0);
  const encrypted = Math.floor(avail / align) * align;
  return Math.max(0, encrypted - 2);
}
