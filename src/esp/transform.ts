/**
 * The cryptographic half of one ESP SA: IANA transform ids + KEYMAT -> in-place seal/open of an ESP packet.
 *
 * This is the ESP engine's own adapter over the CryptoBackend contract (src/crypto/types.ts). It stays here, beside
 * the shared suite table in src/crypto/suite.ts, because the hot path wants things a general wrapper does not
 * give: preallocated nonce/AAD/counter buffers reused for every packet, the IV written straight into the packet,
 * the ICV compared in place, and for AEADs no per-packet allocation at all (the in-place entry of
 * src/crypto/backends/aead-in-place.ts; CBC/CTR + HMAC still pass the views the cipher and MAC contracts take).
 *
 * Layout handled here (RFC 4303 section 2): buf[espOff..] = SPI(4) | Seq(4) | IV(ivBytes) | payload+trailer | ICV.
 */
import { aeadInPlace } from '../crypto/backends/aead-in-place.js';
import type { RandomSource } from '../crypto/random.js';
import type { AeadContext, AeadSpec, CipherContext, CryptoBackend, MacAlgorithm, MacContext } from '../crypto/types.js';
import {
  AUTH_AES_CMAC_96,
  AUTH_AES_XCBC_96,
  AUTH_HMAC_SHA1_96,
  AUTH_HMAC_SHA2_256_128,
  AUTH_HMAC_SHA2_384_192,
  AUTH_HMAC_SHA2_512_256,
  AUTH_NONE,
  ENCR_3DES,
  ENCR_AES_CBC,
  ENCR_AES_CTR,
  ENCR_AES_GCM_12,
  ENCR_AES_GCM_16,
  ENCR_AES_GCM_8,
  ENCR_CHACHA20_POLY1305,
  ENCR_NULL,
  ESP_HEADER_BYTES,
} from './constants.js';
import { EspError } from './errors.js';

/** IANA ENCR_AES_CCM_8/12/16 (RFC 4309). */
export const ENCR_AES_CCM_8 = 14;
export const ENCR_AES_CCM_12 = 15;
export const ENCR_AES_CCM_16 = 16;

export interface EspSuite {
  /** IANA encryption transform id (ENCR_*). */
  readonly encr: number;
  /** Key Length attribute in bits for AES (128/192/256); ignored for fixed-size ciphers. */
  readonly encrKeyBits?: number;
  /** IANA integrity transform id (AUTH_*); AUTH_NONE (0) for AEAD. */
  readonly integ: number;
}

export interface EspTransform {
  readonly name: string;
  readonly aead: boolean;
  /** Bytes of IV on the wire after the sequence number. */
  readonly ivBytes: number;
  /** Bytes of ICV at the end of the packet. */
  readonly icvBytes: number;
  /**
   * Payload+padding+trailer is a multiple of this (RFC 4303 section 2.4: the cipher block, at least 4); a power of
   * two (4, 8 or 16), which the engine's padding arithmetic relies on.
   */
  readonly padAlign: number;
  /** The ciphertext must be a whole number of these (1 for stream modes). */
  readonly cipherBlock: number;
  /**
   * Writes the IV for sequence number (hi, lo) at buf[ivOff]: the 64-bit counter for GCM, CCM, ChaCha20-Poly1305
   * and CTR (RFC 4106 section 3.1, RFC 7634 section 2, RFC 3686 section 3: unique per key is all they need),
   * random bytes for CBC (RFC 3602 section 2.1 wants it unpredictable).
   */
  writeIv(buf: Uint8Array, ivOff: number, seqHi: number, seqLo: number): void;
  /**
   * Encrypts buf[espOff + 8 + ivBytes, ptEnd) in place and writes the ICV at ptEnd. The header and IV must already
   * be in place; `seqHi` is the unsent high half of an ESN (pass `esn = false` to leave it out of the ICV).
   * `seqLo`, when given, is the sequence number writeIv was called with: a counter-IV AEAD then builds its nonce
   * from (seqHi, seqLo) instead of reading the IV back from the packet.
   */
  seal(buf: Uint8Array, espOff: number, ptEnd: number, esn: boolean, seqHi: number, seqLo?: number): void;
  /**
   * Verifies the ICV of buf[espOff, end) and decrypts the payload in place. Returns false when the ICV does not
   * verify (nothing is decrypted then).
   */
  open(buf: Uint8Array, espOff: number, end: number, esn: boolean, seqHi: number): boolean;
  dispose(): void;
}

interface AeadShape {
  readonly alg: AeadSpec['alg'];
  readonly tag: number;
  readonly salt: number;
}

function aeadShape(encr: number): AeadShape | undefined {
  switch (encr) {
    case ENCR_AES_GCM_8: return { alg: 'aes-gcm', tag: 8, salt: 4 };
    case ENCR_AES_GCM_12: return { alg: 'aes-gcm', tag: 12, salt: 4 };
    case ENCR_AES_GCM_16: return { alg: 'aes-gcm', tag: 16, salt: 4 };
    case ENCR_AES_CCM_8: return { alg: 'aes-ccm', tag: 8, salt: 3 };
    case ENCR_AES_CCM_12: return { alg: 'aes-ccm', tag: 12, salt: 3 };
    case ENCR_AES_CCM_16: return { alg: 'aes-ccm', tag: 16, salt: 3 };
    case ENCR_CHACHA20_POLY1305: return { alg: 'chacha20-poly1305', tag: 16, salt: 4 };
    default: return undefined;
  }
}

interface IntegShape {
  readonly alg: MacAlgorithm;
  readonly keyBytes: number;
  readonly icv: number;
  readonly name: string;
}

/** RFC 2404 (SHA1-96), RFC 4868 (SHA2), RFC 3566 (XCBC-96), RFC 4494 (CMAC-96). */
function integShape(integ: number): IntegShape | undefined {
  switch (integ) {
    case AUTH_HMAC_SHA1_96: return { alg: 'hmac-sha1', keyBytes: 20, icv: 12, name: 'hmac-sha1-96' };
    case AUTH_HMAC_SHA2_256_128: return { alg: 'hmac-sha256', keyBytes: 32, icv: 16, name: 'hmac-sha256-128' };
    case AUTH_HMAC_SHA2_384_192: return { alg: 'hmac-sha384', keyBytes: 48, icv: 24, name: 'hmac-sha384-192' };
    case AUTH_HMAC_SHA2_512_256: return { alg: 'hmac-sha512', keyBytes: 64, icv: 32, name: 'hmac-sha512-256' };
    case AUTH_AES_XCBC_96: return { alg: 'aes-xcbc', keyBytes: 16, icv: 12, name: 'aes-xcbc-96' };
    case AUTH_AES_CMAC_96: return { alg: 'aes-cmac', keyBytes: 16, icv: 12, name: 'aes-cmac-96' };
    default: return undefined;
  }
}

/** Key bytes of the encryption KEYMAT slice, including the salt/nonce (RFC 4106 section 8.1, RFC 3686 section 5.1). */
export function encryptionKeymatBytes(suite: EspSuite): number {
  const a = aeadShape(suite.encr);
  if (a) return (a.alg === 'chacha20-poly1305' ? 32 : aesKeyBytes(suite)) + a.salt;
  switch (suite.encr) {
    case ENCR_NULL: return 0;
    case ENCR_3DES: return 24;
    case ENCR_AES_CBC: return aesKeyBytes(suite);
    case ENCR_AES_CTR: return aesKeyBytes(suite) + 4;
    default: throw new EspError('UNSUPPORTED_SUITE', `ESP: encryption transform ${suite.encr} is not supported`);
  }
}

/** Key bytes of the integrity KEYMAT slice (0 for AUTH_NONE). */
export function integrityKeymatBytes(suite: EspSuite): number {
  if (suite.integ === AUTH_NONE) return 0;
  const i = integShape(suite.integ);
  if (!i) throw new EspError('UNSUPPORTED_SUITE', `ESP: integrity transform ${suite.integ} is not supported`);
  return i.keyBytes;
}

function aesKeyBytes(suite: EspSuite): number {
  const bits = suite.encrKeyBits ?? 128;
  if (bits !== 128 && bits !== 192 && bits !== 256) {
    throw new EspError('UNSUPPORTED_SUITE', `ESP: AES key length ${bits} bits (transform ${suite.encr}) is not 128/192/256`);
  }
  return bits / 8;
}

/** A short human name for tables and errors, e.g. `aes-gcm-128/icv16`, `aes-cbc-256+hmac-sha256-128`. */
export function suiteName(suite: EspSuite): string {
  const a = aeadShape(suite.encr);
  if (a) {
    return a.alg === 'chacha20-poly1305' ? 'chacha20-poly1305' : `${a.alg}-${aesKeyBytes(suite) * 8}/icv${a.tag}`;
  }
  const i = suite.integ === AUTH_NONE ? 'none' : (integShape(suite.integ)?.name ?? `integ${suite.integ}`);
  const e = suite.encr === ENCR_NULL ? 'null'
    : suite.encr === ENCR_3DES ? '3des-cbc'
    : suite.encr === ENCR_AES_CBC ? `aes-cbc-${aesKeyBytes(suite) * 8}`
    : suite.encr === ENCR_AES_CTR ? `aes-ctr-${aesKeyBytes(suite) * 8}`
    : `encr${suite.encr}`;
  return `${e}+${i}`;
}

/**
 * True when `backend` implements everything `suite` needs (without creating contexts).
 */
export function backendSupports(backend: CryptoBackend, suite: EspSuite): boolean {
  try {
    const a = aeadShape(suite.encr);
    if (a) {
      if (suite.integ !== AUTH_NONE) return false;
      const keyBytes = a.alg === 'chacha20-poly1305' ? 32 : aesKeyBytes(suite);
      return backend.hasAead({ alg: a.alg, keyBytes, tagBytes: a.tag });
    }
    if (suite.integ !== AUTH_NONE) {
      const i = integShape(suite.integ);
      if (!i || !backend.hasMac(i.alg)) return false;
    }
    switch (suite.encr) {
      case ENCR_NULL: return suite.integ !== AUTH_NONE;
      case ENCR_3DES: return backend.hasCipher({ alg: '3des-cbc', keyBytes: 24 });
      case ENCR_AES_CBC: return backend.hasCipher({ alg: 'aes-cbc', keyBytes: aesKeyBytes(suite) });
      case ENCR_AES_CTR: return backend.hasCipher({ alg: 'aes-ctr', keyBytes: aesKeyBytes(suite) });
      default: return false;
    }
  } catch {
    return false;
  }
}

function read32(b: Uint8Array, o: number): number {
  return (b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!;
}

function writeCounterIv(buf: Uint8Array, off: number, hi: number, lo: number): void {
  buf[off] = hi >>> 24;
  buf[off + 1] = hi >>> 16;
  buf[off + 2] = hi >>> 8;
  buf[off + 3] = hi;
  buf[off + 4] = lo >>> 24;
  buf[off + 5] = lo >>> 16;
  buf[off + 6] = lo >>> 8;
  buf[off + 7] = lo;
}

/**
 * Creates the transform for one SA. `encKey` is the encryption KEYMAT slice (cipher key followed by the salt or
 * nonce where the transform has one), `integKey` the integrity slice. Key sizes are checked here, so a wrong
 * KEYMAT split is an EspError at install time, not a crypto error on the first packet.
 */
export function createEspTransform(
  suite: EspSuite,
  encKey: Uint8Array,
  integKey: Uint8Array | undefined,
  backend: CryptoBackend,
  random: RandomSource,
): EspTransform {
  const name = suiteName(suite);
  const encBytes = encryptionKeymatBytes(suite);
  if (encKey.length !== encBytes) {
    throw new EspError('BAD_KEY', `ESP ${name}: encryption key is ${encKey.length} bytes, expected ${encBytes} (key + salt)`);
  }
  const a = aeadShape(suite.encr);
  if (a) {
    if (suite.integ !== AUTH_NONE) {
      throw new EspError('UNSUPPORTED_SUITE', `ESP ${name}: an AEAD takes no integrity transform (RFC 4106 section 8.2)`);
    }
    const keyBytes = encBytes - a.salt;
    const spec: AeadSpec = { alg: a.alg, keyBytes, tagBytes: a.tag };
    if (!backend.hasAead(spec)) {
      throw new EspError('UNSUPPORTED_SUITE', `ESP ${name}: backend ${backend.name} has no ${a.alg}`);
    }
    return aeadTransform(name, backend.createAead(spec, encKey.subarray(0, keyBytes)), encKey.subarray(keyBytes), a);
  }
  if (suite.integ === AUTH_NONE && suite.encr === ENCR_NULL) {
    throw new EspError('UNSUPPORTED_SUITE', 'ESP: NULL encryption without integrity protects nothing');
  }
  let mac: MacContext | undefined;
  let icv = 0;
  if (suite.integ !== AUTH_NONE) {
    const i = integShape(suite.integ);
    if (!i) throw new EspError('UNSUPPORTED_SUITE', `ESP: integrity transform ${suite.integ} is not supported`);
    if (!integKey || integKey.length !== i.keyBytes) {
      throw new EspError('BAD_KEY', `ESP ${name}: integrity key is ${integKey?.length ?? 0} bytes, expected ${i.keyBytes}`);
    }
    if (!backend.hasMac(i.alg)) throw new EspError('UNSUPPORTED_SUITE', `ESP ${name}: backend ${backend.name} has no ${i.alg}`);
    mac = backend.createMac(i.alg, integKey);
    icv = i.icv;
  }
  let cipher: CipherContext | undefined;
  let kind: 'null' | 'cbc' | 'ctr' = 'null';
  let ivBytes = 0;
  let block = 1;
  let nonce: Uint8Array | undefined;
  if (suite.encr !== ENCR_NULL) {
    const ctr = suite.encr === ENCR_AES_CTR;
    const keyBytes = ctr ? encBytes - 4 : encBytes;
    const spec = { alg: suite.encr === ENCR_3DES ? '3des-cbc' : ctr ? 'aes-ctr' : 'aes-cbc', keyBytes } as const;
    if (!backend.hasCipher(spec)) throw new EspError('UNSUPPORTED_SUITE', `ESP ${name}: backend ${backend.name} has no ${spec.alg}`);
    cipher = backend.createCipher(spec, encKey.subarray(0, keyBytes));
    kind = ctr ? 'ctr' : 'cbc';
    // CBC IV is one block (RFC 3602 section 2.1, RFC 2451); CTR carries 8 bytes (RFC 3686 section 3).
    block = suite.encr === ENCR_3DES ? 8 : 16;
    ivBytes = ctr ? 8 : block;
    if (ctr) {
      block = 1;
      nonce = encKey.slice(keyBytes);
    }
  }
  return cipherTransform(name, kind, cipher, mac, icv, ivBytes, block, nonce, random);
}

function aeadTransform(name: string, ctx: AeadContext, saltIn: Uint8Array, shape: AeadShape): EspTransform {
  const saltLen = shape.salt;
  const tag = shape.tag;
  // In-place entry: nonce and AAD scratch belong to the context, the packet is passed as (buffer, offset, length),
  // so a seal or open makes no view and no object (aead-in-place.ts).
  const ip = aeadInPlace(ctx);
  // RFC 4106 section 4 / RFC 4309 section 4 / RFC 7634 section 2: nonce = salt | IV (8 bytes). The salt is
  // written once; each packet writes only its IV.
  const nonce = ip.nonce;
  nonce.set(saltIn);
  // Scratch is filled with 32-bit stores: measurably cheaper per packet than byte loops.
  const nonceDv = new DataView(nonce.buffer, nonce.byteOffset, nonce.length);
  const aadDv = new DataView(ip.aad.buffer, ip.aad.byteOffset, ip.aad.length);

  /**
   * Writes the packet's nonce and returns where its AAD is. RFC 4106 section 5: AAD = SPI | Seq (8 bytes), which
   * is the ESP header itself, read in place (offset espOff); with ESN, SPI | Seq-high | Seq-low (12 bytes),
   * assembled in the scratch (returned as -1).
   */
  const prepare = (buf: Uint8Array, espOff: number, esn: boolean, seqHi: number): number => {
    const ivOff = espOff + ESP_HEADER_BYTES;
    nonceDv.setUint32(saltLen, read32(buf, ivOff));
    nonceDv.setUint32(saltLen + 4, read32(buf, ivOff + 4));
    if (!esn) return espOff;
    aadDv.setUint32(0, read32(buf, espOff));
    aadDv.setUint32(4, seqHi);
    aadDv.setUint32(8, read32(buf, espOff + 4));
    return -1;
  };

  return {
    name,
    aead: true,
    ivBytes: 8,
    icvBytes: tag,
    padAlign: 4,
    cipherBlock: 1,
    writeIv: writeCounterIv,
    seal(buf, espOff, ptEnd, esn, seqHi, seqLo) {
      let aadOff: number;
      if (seqLo === undefined || esn) {
        aadOff = prepare(buf, espOff, esn, seqHi);
      } else {
        // The IV is the 64-bit sequence number writeIv put there (RFC 4106 section 3.1); the AAD is the header.
        nonceDv.setUint32(saltLen, seqHi);
        nonceDv.setUint32(saltLen + 4, seqLo);
        aadOff = espOff;
      }
      const ptOff = espOff + ESP_HEADER_BYTES + 8;
      ip.seal(buf, ptOff, ptEnd - ptOff, aadOff, esn ? 12 : 8);
    },
    open(buf, espOff, end, esn, seqHi) {
      const aadOff = prepare(buf, espOff, esn, seqHi);
      const ctOff = espOff + ESP_HEADER_BYTES + 8;
      return ip.open(buf, ctOff, end - tag - ctOff, aadOff, esn ? 12 : 8);
    },
    dispose() {
      ctx.dispose();
      nonce.fill(0);
    },
  };
}

const RANDOM_POOL_BYTES = 4096;

function cipherTransform(
  name: string,
  kind: 'null' | 'cbc' | 'ctr',
  cipher: CipherContext | undefined,
  mac: MacContext | undefined,
  icv: number,
  ivBytes: number,
  block: number,
  nonce: Uint8Array | undefined,
  random: RandomSource,
): EspTransform {
  const macOut = new Uint8Array(mac ? mac.outputBytes : 0);
  const seqHiBytes = new Uint8Array(4);
  // The parts array is reused: element 0 is replaced per packet. RFC 4303 section 2.2.1: with ESN the high 32
  // bits are appended after the payload for the ICV computation only.
  const parts: Uint8Array[] = [macOut, seqHiBytes];
  const one: Uint8Array[] = [macOut];
  const ctrBlock = new Uint8Array(16);
  if (nonce) ctrBlock.set(nonce);
  ctrBlock[15] = 1; // RFC 3686 section 4: block counter starts at 1
  // CBC IVs come from a pool refilled in chunks: one RandomSource call per 256 packets, not one per packet.
  const pool = new Uint8Array(kind === 'cbc' ? RANDOM_POOL_BYTES : 0);
  let poolPos = pool.length;

  const computeIcv = (buf: Uint8Array, espOff: number, macEnd: number, esn: boolean, seqHi: number): void => {
    const covered = buf.subarray(espOff, macEnd);
    if (esn) {
      seqHiBytes[0] = seqHi >>> 24;
      seqHiBytes[1] = seqHi >>> 16;
      seqHiBytes[2] = seqHi >>> 8;
      seqHiBytes[3] = seqHi;
      parts[0] = covered;
      mac!.compute(parts, macOut);
    } else {
      one[0] = covered;
      mac!.compute(one, macOut);
    }
  };

  const crypt = (decrypt: boolean, buf: Uint8Array, espOff: number, ctEnd: number): void => {
    if (!cipher) return;
    const ivOff = espOff + ESP_HEADER_BYTES;
    const ctOff = ivOff + ivBytes;
    if (ctOff === ctEnd) return;
    const data = buf.subarray(ctOff, ctEnd);
    let iv: Uint8Array;
    if (kind === 'ctr') {
      for (let i = 0; i < 8; i++) ctrBlock[4 + i] = buf[ivOff + i]!;
      iv = ctrBlock;
    } else {
      iv = buf.subarray(ivOff, ctOff);
    }
    if (decrypt) cipher.decrypt(iv, data, data);
    else cipher.encrypt(iv, data, data);
  };

  return {
    name,
    aead: false,
    ivBytes,
    icvBytes: icv,
    padAlign: Math.max(4, block),
    cipherBlock: block,
    writeIv(buf, ivOff, seqHi, seqLo) {
      if (kind === 'ctr') {
        writeCounterIv(buf, ivOff, seqHi, seqLo);
      } else if (kind === 'cbc') {
        if (poolPos + ivBytes > pool.length) {
          random.fill(pool);
          poolPos = 0;
        }
        // No wipe after use: an IV is public the moment it is sent.
        for (let i = 0; i < ivBytes; i++) buf[ivOff + i] = pool[poolPos + i]!;
        poolPos += ivBytes;
      }
    },
    seal(buf, espOff, ptEnd, esn, seqHi) {
      crypt(false, buf, espOff, ptEnd);
      if (mac) {
        computeIcv(buf, espOff, ptEnd, esn, seqHi);
        for (let i = 0; i < icv; i++) buf[ptEnd + i] = macOut[i]!;
      }
    },
    open(buf, espOff, end, esn, seqHi) {
      const ctEnd = end - icv;
      if (mac) {
        computeIcv(buf, espOff, ctEnd, esn, seqHi);
        // Constant-time comparison of the truncated ICV (RFC 4303 section 3.4.4.1).
        let diff = 0;
        for (let i = 0; i < icv; i++) diff |= macOut[i]! ^ buf[ctEnd + i]!;
        if (diff !== 0) return false;
      }
      crypt(true, buf, espOff, ctEnd);
      return true;
    },
    dispose() {
      cipher?.dispose();
      mac?.dispose();
      pool.fill(0);
      macOut.fill(0);
    },
  };
}
