/** How the gateway core writes addresses and SPIs in log lines (strongSwan's wording), and the IKE datagram framing. */
import type { Address } from '../ike/config.js';

/** `192.0.2.1[4500]` / `[2001:db8::1]:4500`, as charon logs an endpoint. */
export function fmtAddr(a: Address): string {
  return a.address.includes(':') ? `[${a.address}]:${a.port}` : `${a.address}[${a.port}]`;
}

/** An SPI as eight hex digits. */
export function spiText(spi: number): string {
  return (spi >>> 0).toString(16).padStart(8, '0');
}

export function withMarker(data: Uint8Array): Uint8Array {
  // RFC 3948 section 2.2: IKE on the NAT-T port is preceded by four zero bytes.
  const out = new Uint8Array(data.length + 4);
  out.set(data, 4);
  return out;
}
