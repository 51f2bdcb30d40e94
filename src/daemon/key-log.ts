/**
 * Key log lines (JSON, one SA per line) for decrypting captures of cygnet's traffic with Wireshark/tshark: the IKE
 * SA keys (from `ike-keys` events, emitted with settings.exportKeys) and both ESP SAs of every CHILD SA. Names are
 * strongSwan's/Wireshark's (AES_GCM_16, HMAC_SHA2_256_128); AEAD keys include their salt (RFC 4106 section 8.1).
 * The format is what test/interop/lib/keys.ts keysFromJsonLines reads.
 */
import { INTEG, transformName } from '../crypto/transforms.js';
import type { IkeEvent } from '../ike/events.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const spi32 = (n: number): string => n.toString(16).padStart(8, '0');

export function keyLogLines(e: IkeEvent): string[] {
  if (e.type === 'ike-keys') {
    const integ = e.integId !== undefined && e.integId !== INTEG.NONE ? transformName(3, e.integId) : undefined;
    return [
      JSON.stringify({
        type: 'ike',
        spiI: hex(e.sa.spiI),
        spiR: hex(e.sa.spiR),
        encr: transformName(1, e.encrId),
        ...(e.encrKeyBits !== undefined ? { encrKeyBits: e.encrKeyBits } : {}),
        ...(integ ? { integ, skAi: hex(e.SK_ai), skAr: hex(e.SK_ar) } : {}),
        skEi: hex(e.SK_ei),
        skEr: hex(e.SK_er),
      }),
    ];
  }
  if (e.type === 'child-install') {
    const c = e.child;
    const integ = c.integId !== INTEG.NONE ? transformName(3, c.integId) : undefined;
    const line = (src: string, dst: string, k: { spi: number; encrKey: Uint8Array; integKey: Uint8Array }): string =>
      JSON.stringify({ type: 'esp', src, dst, spi: spi32(k.spi), encr: transformName(1, c.encrId), encrKey: hex(k.encrKey), ...(integ ? { integ, integKey: hex(k.integKey) } : {}) });
    return [line(c.remote.address, c.local.address, e.inbound), line(c.local.address, c.remote.address, e.outbound)];
  }
  return [];
}
