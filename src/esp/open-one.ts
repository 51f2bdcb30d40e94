/**
 * Opening single ESP packets with given keys, outside any SA database: for tools that read captures (`cygnet
 * inspect`) and for tests. Any SPI, any sequence number, no replay window (anti-replay, RFC 4303 section 3.4.3, is
 * the receiving SA's business, not a reader's, and a capture may start mid-sequence).
 *
 * Errors are values naming the transform by its strongSwan name (AES_GCM_16-128, HMAC_SHA2_256_128), never a throw.
 */
import type { CryptoBackend } from '../crypto/types.js';
import { defaultProvider } from '../crypto/provider.js';
import { systemRandom } from '../crypto/random.js';
import { findEncr, findInteg } from '../crypto/transforms.js';
import { AUTH_NONE, ESP_HEADER_BYTES } from './constants.js';
import { EspError } from './errors.js';
import { espPayloadLength } from './packet.js';
import { createEspTransform, type EspSuite, type EspTransform } from './transform.js';

/** Keys and transforms of one ESP SA, as a key log gives them. */
export interface EspPacketKeys {
  /** IANA encryption transform id (ENCR_*). */
  readonly encr: number;
  /** AES key length in bits; derived from the key length when absent. */
  readonly encrKeyBits?: number;
  /** IANA integrity transform id (AUTH_*); absent or 0 for AEAD. */
  readonly integ?: number;
  /** Encryption KEYMAT: cipher key followed by the salt/nonce where the transform has one (RFC 4106 section 8.1). */
  readonly encrKey: Uint8Array;
  readonly integKey?: Uint8Array;
  /** Extended Sequence Numbers (RFC 4303 section 2.2.1): the unsent high half enters the ICV. Default false. */
  readonly esn?: boolean;
  /** High 32 bits of the sequence number when `esn` (a reader has to guess them; default 0). */
  readonly seqHi?: number;
}

export type EspOpenErrorCode = 'TRUNCATED' | 'UNSUPPORTED_TRANSFORM' | 'BAD_KEY' | 'BAD_LENGTH' | 'ICV_FAILURE' | 'BAD_PADDING';

export interface EspOpenError {
  readonly code: EspOpenErrorCode;
  readonly message: string;
}

export interface OpenedEspPacket {
  readonly spi: number;
  /** The 32-bit sequence number on the wire. */
  readonly seq: number;
  /** Next Header of the ESP trailer: 4 (IPv4) or 41 (IPv6) in tunnel mode, the upper protocol in transport mode. */
  readonly nextHeader: number;
  /** RFC 4303 section 2.6: Next Header 59 marks a dummy (TFC) packet to be discarded. */
  readonly mode: 'tunnel' | 'transport' | 'dummy';
  /** The decrypted payload (the inner IP packet in tunnel mode), padding and trailer removed. */
  readonly payload: Uint8Array;
  readonly padLength: number;
  /** The suite as strongSwan names it, e.g. `AES_GCM_16-128` or `AES_CBC-256/HMAC_SHA2_256_128`. */
  readonly suite: string;
}

export type EspOpenResult = { readonly ok: true; readonly value: OpenedEspPacket } | { readonly ok: false; readonly error: EspOpenError };

const err = (code: EspOpenErrorCode, message: string): { ok: false; error: EspOpenError } => ({ ok: false, error: { code, message } });

/**
 * IANA names (as strongSwan prints them) of transforms cygnet does not implement, so that an error can say
 * "DES_CBC is not supported" rather than a number. Type 1 = ENCR, 3 = INTEG (RFC 7296 section 3.3.2).
 */
const OTHER_NAMES: Record<1 | 3, Record<number, string>> = {
  1: {
    1: 'DES_IV64', 2: 'DES_CBC', 4: 'RC5_CBC', 5: 'IDEA_CBC', 6: 'CAST_CBC', 7: 'BLOWFISH_CBC', 8: '3IDEA', 9: 'DES_IV32',
    21: 'NULL_AES_GMAC', 23: 'CAMELLIA_CBC', 24: 'CAMELLIA_CTR', 25: 'CAMELLIA_CCM_8', 26: 'CAMELLIA_CCM_12',
    27: 'CAMELLIA_CCM_16', 30: 'AES_KW', 31: 'CHACHA20_POLY1305_IIV',
  },
  3: {
    1: 'HMAC_MD5_96', 3: 'DES_MAC', 4: 'KPDK_MD5', 6: 'HMAC_MD5_128', 7: 'HMAC_SHA1_160', 9: 'AES_128_GMAC',
    10: 'AES_192_GMAC', 11: 'AES_256_GMAC',
  },
};

/**
 * The name of an ENCR (type 1) or INTEG (type 3) transform: strongSwan's name for those cygnet knows and the
 * registry's for the others; `ENCR_UNASSIGNED_<id>` only for ids the IANA registry does not define.
 */
export function espTransformName(type: 1 | 3, id: number, keyBits?: number): string {
  const known = type === 1 ? findEncr(id)?.name : findInteg(id)?.name;
  const base = known ?? OTHER_NAMES[type][id] ?? `${type === 1 ? 'ENCR' : 'INTEG'}_UNASSIGNED_${id}`;
  return keyBits !== undefined && type === 1 && findEncr(id)?.keyLengthAttribute ? `${base}-${keyBits}` : base;
}

/** The key length in bits the KEYMAT implies (key + salt/nonce), for AES transforms whose log line omits it. */
function impliedKeyBits(encr: number, encrKey: Uint8Array): number | undefined {
  const t = findEncr(encr);
  if (!t || !t.keyLengthAttribute) return undefined;
  return (encrKey.length - t.saltBytes) * 8;
}

/** A reusable opener for one SA's packets (the keys are scheduled once). */
export interface EspPacketOpener {
  readonly suite: string;
  open(packet: Uint8Array): EspOpenResult;
  dispose(): void;
}

/**
 * Keys an opener. Unknown or unsupported transforms and wrong key sizes are errors naming the transform.
 */
export function createEspOpener(keys: EspPacketKeys, backend: CryptoBackend = defaultProvider()): { ok: true; value: EspPacketOpener } | { ok: false; error: EspOpenError } {
  const integ = keys.integ ?? AUTH_NONE;
  const keyBits = keys.encrKeyBits ?? impliedKeyBits(keys.encr, keys.encrKey);
  const encrName = espTransformName(1, keys.encr, keyBits);
  const suiteText = (integ === AUTH_NONE ? encrName : `${encrName}/${espTransformName(3, integ)}`) + (keys.esn ? '/ESN' : '');
  if (!findEncr(keys.encr)) return err('UNSUPPORTED_TRANSFORM', `ESP encryption ${encrName} is not supported by cygnet`);
  if (integ !== AUTH_NONE && !findInteg(integ)) return err('UNSUPPORTED_TRANSFORM', `ESP integrity ${espTransformName(3, integ)} is not supported by cygnet`);
  const suite: EspSuite = { encr: keys.encr, integ, ...(keyBits !== undefined ? { encrKeyBits: keyBits } : {}) };
  let t: EspTransform;
  try {
    t = createEspTransform(suite, keys.encrKey, keys.integKey, backend, systemRandom);
  } catch (e) {
    if (e instanceof EspError) {
      const code = e.code === 'BAD_KEY' ? 'BAD_KEY' : 'UNSUPPORTED_TRANSFORM';
      // EspError messages use the engine's lowercase suite names; restate with the transform names.
      return err(code, `ESP ${suiteText}: ${e.message.replace(/^ESP( [^:]*)?: /, '')}`);
    }
    return err('UNSUPPORTED_TRANSFORM', `ESP ${suiteText}: ${(e as Error).message}`);
  }
  const esn = keys.esn ?? false;
  const seqHi = keys.seqHi ?? 0;
  return {
    ok: true,
    value: {
      suite: suiteText,
      open(packet) {
        if (packet.length < ESP_HEADER_BYTES) return err('TRUNCATED', `ESP packet of ${packet.length} bytes has no SPI and sequence number`);
        const dv = new DataView(packet.buffer, packet.byteOffset, packet.byteLength);
        const spi = dv.getUint32(0);
        const seq = dv.getUint32(4);
        const ptOff = ESP_HEADER_BYTES + t.ivBytes;
        const ptEnd = packet.length - t.icvBytes;
        if (ptEnd - ptOff < 2) {
          return err('BAD_LENGTH', `ESP packet of ${packet.length} bytes cannot hold the ${t.ivBytes}-byte IV, trailer and ${t.icvBytes}-byte ICV of ${suiteText}`);
        }
        if ((ptEnd - ptOff) % t.cipherBlock !== 0) {
          return err('BAD_LENGTH', `ESP ciphertext of ${ptEnd - ptOff} bytes is not a multiple of the ${t.cipherBlock}-byte block of ${suiteText}`);
        }
        // The transform works in place: open a copy so the caller's capture stays intact.
        const buf = packet.slice();
        let verified: boolean;
        try {
          verified = t.open(buf, 0, buf.length, esn, seqHi);
        } catch (e) {
          return err('BAD_LENGTH', `ESP ${suiteText}: crypto layer rejected the packet (${(e as Error).message})`);
        }
        if (!verified) return err('ICV_FAILURE', `ICV does not verify with the ${suiteText} keys for SPI ${spi.toString(16).padStart(8, '0')}`);
        const payloadLen = espPayloadLength(buf, ptOff, ptEnd);
        if (payloadLen < 0) {
          return err('BAD_PADDING', `ESP padding is not 1, 2, 3, ... (RFC 4303 section 2.4): wrong ${suiteText} key?`);
        }
        const nextHeader = buf[ptEnd - 1]!;
        const mode = nextHeader === 59 ? 'dummy' : nextHeader === 4 || nextHeader === 41 ? 'tunnel' : 'transport';
        return {
          ok: true,
          value: { spi, seq, nextHeader, mode, payload: buf.subarray(ptOff, ptOff + payloadLen), padLength: buf[ptEnd - 2]!, suite: suiteText },
        };
      },
      dispose: () => t.dispose(),
    },
  };
}

/**
 * Verifies and decrypts one ESP packet (starting at the SPI: strip IP and UDP headers first) with the given keys.
 * Tunnel or transport mode is read from the trailer's Next Header.
 */
export function openEspPacket(packet: Uint8Array, keys: EspPacketKeys, backend: CryptoBackend = defaultProvider()): EspOpenResult {
  const o = createEspOpener(keys, backend);
  if (!o.ok) return o;
  try {
    return o.value.open(packet);
  } finally {
    o.value.dispose();
  }
}
