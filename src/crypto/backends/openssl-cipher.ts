/**
 * Unauthenticated cipher contexts on OpenSSL EVP: AES-CBC (RFC 3602), AES-CTR (RFC 3686), 3DES-CBC (RFC 2451).
 * Keyed once per direction; each call resets only the IV. Padding is off: IKE and ESP pad themselves
 * (RFC 7296 section 3.14, RFC 4303 section 2.4), so CBC input must already be whole blocks.
 */
import { CryptoError } from '../errors.js';
import { cipherBlockBytes, type CipherContext, type CipherSpec } from '../types.js';
import { checkBlocks, checkBytes, checkIv, checkKey, cipherName, outputView } from './checks.js';
import type { NativePtr } from './openssl-ffi.js';
import { MAX_INT_LENGTH, partiallyOverlaps, tooLong, type NativeOwner, type OpensslRuntime } from './openssl-runtime.js';

export function opensslCipherName(spec: CipherSpec): string {
  if (spec.alg === '3des-cbc') return 'DES-EDE3-CBC';
  return `AES-${spec.keyBytes * 8}-${spec.alg === 'aes-cbc' ? 'CBC' : 'CTR'}`;
}

export class OpensslCipher implements CipherContext {
  readonly spec: CipherSpec;
  private readonly rt: OpensslRuntime;
  private readonly what: string;
  private readonly cbc: boolean;
  private readonly block: number;
  private readonly enc: NativePtr;
  /** AES-CTR encrypts and decrypts with the same keystream, so it needs only one context. */
  private readonly dec: NativePtr;
  private readonly native: NativeOwner;
  private readonly outl = new Int32Array(1);

  constructor(rt: OpensslRuntime, spec: CipherSpec, cipher: NativePtr, key: Uint8Array) {
    this.rt = rt;
    this.spec = spec;
    this.what = `openssl ${cipherName(spec)}`;
    checkKey(this.what, key, spec.keyBytes);
    this.cbc = spec.alg !== 'aes-ctr';
    this.block = cipherBlockBytes(spec);
    const lib = rt.lib;
    const enc = lib.EVP_CIPHER_CTX_new();
    const dec = this.cbc ? lib.EVP_CIPHER_CTX_new() : enc;
    if (!enc || !dec) {
      if (enc) lib.EVP_CIPHER_CTX_free(enc);
      if (dec && dec !== enc) lib.EVP_CIPHER_CTX_free(dec);
      throw rt.failure(this.what, 'EVP_CIPHER_CTX_new');
    }
    this.enc = enc;
    this.dec = dec;
    this.native = rt.own(this, () => {
      lib.EVP_CIPHER_CTX_free(enc);
      if (dec !== enc) lib.EVP_CIPHER_CTX_free(dec);
    });
    try {
      this.keyContext(enc, cipher, key, 1);
      if (dec !== enc) this.keyContext(dec, cipher, key, 0);
    } catch (e) {
      this.native.free();
      throw e;
    }
  }

  private keyContext(ctx: NativePtr, cipher: NativePtr, key: Uint8Array, enc: number): void {
    const lib = this.rt.lib;
    if (lib.EVP_CipherInit_ex(ctx, cipher, null, key, null, enc) !== 1) throw this.rt.failure(this.what, 'EVP_CipherInit_ex(key)');
    if (lib.EVP_CIPHER_CTX_set_padding(ctx, 0) !== 1) throw this.rt.failure(this.what, 'EVP_CIPHER_CTX_set_padding');
  }

  encrypt(iv: Uint8Array, data: Uint8Array, out?: Uint8Array): Uint8Array {
    return this.run(this.enc, 1, iv, data, out);
  }

  decrypt(iv: Uint8Array, data: Uint8Array, out?: Uint8Array): Uint8Array {
    return this.run(this.dec, this.cbc ? 0 : 1, iv, data, out);
  }

  private run(ctx: NativePtr, enc: number, iv: Uint8Array, data: Uint8Array, out: Uint8Array | undefined): Uint8Array {
    const what = this.what;
    if (this.native.freed) throw new CryptoError('DISPOSED', `${what}: context used after dispose()`);
    // CBC IV is one block (RFC 3602 section 2.1); AES-CTR takes the whole 16-byte counter block (RFC 3686 section 4).
    checkIv(what, iv, this.cbc ? this.block : 16);
    checkBytes(what, 'data', data);
    if (this.cbc) checkBlocks(what, data, this.block);
    const n = data.length;
    if (n > MAX_INT_LENGTH) throw tooLong(what, n);
    const o = outputView(what, out, n);
    if (n === 0) return o;
    if (partiallyOverlaps(o, data)) {
      throw new CryptoError('INVALID_OUTPUT_LENGTH', `${what}: out overlaps data without starting at the same byte`);
    }
    const lib = this.rt.lib;
    const outl = this.outl;
    if (lib.EVP_CipherInit_ex(ctx, null, null, null, iv, enc) !== 1) throw this.rt.failure(what, 'EVP_CipherInit_ex(iv)');
    // Without padding every whole block comes out of the update itself; no final step is needed.
    if (lib.EVP_CipherUpdate(ctx, o, outl, data, n) !== 1 || outl[0] !== n) throw this.rt.failure(what, 'EVP_CipherUpdate');
    return o;
  }

  /** Frees the EVP contexts (OpenSSL cleanses the key schedule). Idempotent. */
  dispose(): void {
    this.native.free();
  }
}
