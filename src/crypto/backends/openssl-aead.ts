/**
 * AEAD contexts on OpenSSL EVP: AES-GCM (RFC 4106), AES-CCM (RFC 4309), ChaCha20-Poly1305 (RFC 7634).
 *
 * One EVP_CIPHER_CTX per direction is keyed once at creation; each packet only resets the nonce with
 * EVP_CipherInit_ex(ctx, NULL, NULL, NULL, nonce, enc), which keeps the expanded key (and the GHASH table). The
 * int out-parameter and the tag scratch are allocated once per context, so a seal or open allocates nothing
 * except the returned view when the caller passes no `out`.
 *
 * `inPlace()` is the packet engine's entry (aead-in-place.ts): the same EVP calls with every buffer passed as an
 * address (packet base + offset, scratch addresses fixed at creation), so a seal or open makes no view, no
 * object, and no typed-array argument for koffi to unwrap.
 */
import { CryptoError } from '../errors.js';
import { aeadNonceBytes, type AeadContext, type AeadSpec } from '../types.js';
import { AEAD_AAD_SCRATCH_BYTES, checkInPlaceRange, type AeadInPlace, type AeadInPlaceCapable } from './aead-in-place.js';
import { aeadName, checkBytes, checkKey, checkNonce, outputView } from './checks.js';
import {
  EVP_CTRL_AEAD_GET_TAG,
  EVP_CTRL_AEAD_SET_IVLEN,
  EVP_CTRL_AEAD_SET_TAG,
  type LibCryptoAddr,
  type NativePtr,
} from './openssl-ffi.js';
import { MAX_INT_LENGTH, partiallyOverlaps, tooLong, type NativeOwner, type OpensslRuntime } from './openssl-runtime.js';

export function opensslAeadName(spec: AeadSpec): string {
  if (spec.alg === 'chacha20-poly1305') return 'ChaCha20-Poly1305';
  return `AES-${spec.keyBytes * 8}-${spec.alg === 'aes-gcm' ? 'GCM' : 'CCM'}`;
}

export class OpensslAead implements AeadContext, AeadInPlaceCapable {
  readonly spec: AeadSpec;
  private readonly rt: OpensslRuntime;
  private readonly what: string;
  private readonly ccm: boolean;
  private readonly nonceBytes: number;
  private readonly tagBytes: number;
  private readonly enc: NativePtr;
  private readonly dec: NativePtr;
  private readonly native: NativeOwner;
  private readonly outl = new Int32Array(1);
  private readonly tag = new Uint8Array(16);
  private readonly scratch = new Uint8Array(16);

  /** The spec was validated and the cipher fetched by the backend; `cipher` is its EVP_CIPHER. */
  constructor(rt: OpensslRuntime, spec: AeadSpec, cipher: NativePtr, key: Uint8Array) {
    this.rt = rt;
    this.spec = spec;
    this.what = `openssl ${aeadName(spec)}`;
    checkKey(this.what, key, spec.keyBytes);
    this.ccm = spec.alg === 'aes-ccm';
    this.nonceBytes = aeadNonceBytes(spec);
    this.tagBytes = spec.tagBytes;
    const lib = rt.lib;
    const enc = lib.EVP_CIPHER_CTX_new();
    const dec = lib.EVP_CIPHER_CTX_new();
    if (!enc || !dec) {
      if (enc) lib.EVP_CIPHER_CTX_free(enc);
      if (dec) lib.EVP_CIPHER_CTX_free(dec);
      throw rt.failure(this.what, 'EVP_CIPHER_CTX_new');
    }
    this.enc = enc;
    this.dec = dec;
    // EVP_CIPHER_CTX_free cleanses the key schedule before freeing it.
    this.native = rt.own(this, () => {
      lib.EVP_CIPHER_CTX_free(enc);
      lib.EVP_CIPHER_CTX_free(dec);
    });
    try {
      this.keyContext(enc, cipher, key, 1);
      this.keyContext(dec, cipher, key, 0);
    } catch (e) {
      this.native.free();
      throw e;
    }
  }

  private keyContext(ctx: NativePtr, cipher: NativePtr, key: Uint8Array, enc: number): void {
    const lib = this.rt.lib;
    if (lib.EVP_CipherInit_ex(ctx, cipher, null, null, null, enc) !== 1) throw this.rt.failure(this.what, 'EVP_CipherInit_ex(cipher)');
    if (this.ccm) {
      // RFC 4309 section 4: an 11-byte nonce (salt 3 | IV 8) leaves L = 4 length bytes; the ICV length M is fixed
      // per SA (section 3). OpenSSL wants both before the key.
      if (lib.EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_IVLEN, this.nonceBytes, null) !== 1) {
        throw this.rt.failure(this.what, 'EVP_CTRL_AEAD_SET_IVLEN');
      }
      if (lib.EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, this.tagBytes, null) !== 1) {
        throw this.rt.failure(this.what, 'EVP_CTRL_AEAD_SET_TAG(length)');
      }
    }
    if (lib.EVP_CipherInit_ex(ctx, null, null, key, null, enc) !== 1) throw this.rt.failure(this.what, 'EVP_CipherInit_ex(key)');
  }

  private live(): void {
    if (this.native.freed) throw new CryptoError('DISPOSED', `${this.what}: context used after dispose()`);
  }

  seal(nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array, out?: Uint8Array): Uint8Array {
    this.live();
    const what = this.what;
    checkNonce(what, nonce, this.nonceBytes);
    checkBytes(what, 'aad', aad);
    checkBytes(what, 'plaintext', plaintext);
    if (aad.length > MAX_INT_LENGTH) throw tooLong(what, aad.length);
    const n = plaintext.length;
    if (n > MAX_INT_LENGTH) throw tooLong(what, n);
    const tagBytes = this.tagBytes;
    const o = outputView(what, out, n + tagBytes);
    if (partiallyOverlaps(o, plaintext)) {
      throw new CryptoError('INVALID_OUTPUT_LENGTH', `${what}: out overlaps plaintext without starting at the same byte`);
    }
    const lib = this.rt.lib;
    const ctx = this.enc;
    const outl = this.outl;
    if (lib.EVP_CipherInit_ex(ctx, null, null, null, nonce, 1) !== 1) throw this.rt.failure(what, 'EVP_CipherInit_ex(nonce)');
    // RFC 4309 / CCM authenticates the message length in B_0, so OpenSSL must be told it before the AAD.
    if (this.ccm && lib.EVP_CipherUpdate(ctx, null, outl, null, n) !== 1) throw this.rt.failure(what, 'CCM length');
    if (aad.length > 0 && lib.EVP_CipherUpdate(ctx, null, outl, aad, aad.length) !== 1) throw this.rt.failure(what, 'AAD update');
    // `o` may start at the same byte as `plaintext`: EVP ciphers are in-place safe for exact aliasing.
    if (n > 0) {
      if (lib.EVP_CipherUpdate(ctx, o, outl, plaintext, n) !== 1) throw this.rt.failure(what, 'EVP_CipherUpdate');
    } else if (this.ccm) {
      // CCM must see one data update even when empty; koffi passes an empty array as NULL, which OpenSSL would
      // read as "set the length" again, so hand it real (unused) memory.
      if (lib.EVP_CipherUpdate(ctx, this.scratch, outl, this.scratch, 0) !== 1) throw this.rt.failure(what, 'EVP_CipherUpdate');
    }
    if (lib.EVP_CipherFinal_ex(ctx, this.scratch, outl) !== 1) throw this.rt.failure(what, 'EVP_CipherFinal_ex');
    const tag = this.tag;
    // GCM truncates to the leftmost tagBytes (RFC 4106 section 6); CCM and ChaCha20-Poly1305 produce tagBytes.
    if (lib.EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, tagBytes, tag) !== 1) throw this.rt.failure(what, 'EVP_CTRL_AEAD_GET_TAG');
    for (let i = 0; i < tagBytes; i++) o[n + i] = tag[i]!;
    return o;
  }

  /**
   * On a tag mismatch returns null and zeroes the first ciphertext-length bytes of `out` (EVP writes the
   * unauthenticated plaintext before the tag is checked; none of it may leak). In place, that destroys the forged
   * ciphertext, which the caller drops anyway.
   */
  open(nonce: Uint8Array, aad: Uint8Array, sealed: Uint8Array, out?: Uint8Array): Uint8Array | null {
    this.live();
    const what = this.what;
    checkNonce(what, nonce, this.nonceBytes);
    checkBytes(what, 'aad', aad);
    checkBytes(what, 'sealed', sealed);
    if (aad.length > MAX_INT_LENGTH) throw tooLong(what, aad.length);
    const tagBytes = this.tagBytes;
    if (sealed.length < tagBytes) {
      throw new CryptoError('INVALID_DATA_LENGTH', `${what}: sealed input is ${sealed.length} bytes, shorter than the ${tagBytes}-byte ICV`);
    }
    const n = sealed.length - tagBytes;
    if (n > MAX_INT_LENGTH) throw tooLong(what, n);
    const o = outputView(what, out, n);
    if (partiallyOverlaps(o, sealed)) {
      throw new CryptoError('INVALID_OUTPUT_LENGTH', `${what}: out overlaps the sealed input without starting at the same byte`);
    }
    const tag = this.tag;
    for (let i = 0; i < tagBytes; i++) tag[i] = sealed[n + i]!;
    const lib = this.rt.lib;
    const ctx = this.dec;
    const outl = this.outl;
    if (lib.EVP_CipherInit_ex(ctx, null, null, null, nonce, 0) !== 1) throw this.rt.failure(what, 'EVP_CipherInit_ex(nonce)');
    if (lib.EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, tagBytes, tag) !== 1) throw this.rt.failure(what, 'EVP_CTRL_AEAD_SET_TAG');
    if (this.ccm && lib.EVP_CipherUpdate(ctx, null, outl, null, n) !== 1) throw this.rt.failure(what, 'CCM length');
    if (aad.length > 0 && lib.EVP_CipherUpdate(ctx, null, outl, aad, aad.length) !== 1) throw this.rt.failure(what, 'AAD update');
    let ok: boolean;
    if (this.ccm) {
      // OpenSSL's CCM checks the tag inside the single data update (there is no final step for CCM decryption).
      ok = n > 0
        ? lib.EVP_CipherUpdate(ctx, o, outl, sealed, n) === 1
        : lib.EVP_CipherUpdate(ctx, this.scratch, outl, this.scratch, 0) === 1;
    } else {
      if (n > 0 && lib.EVP_CipherUpdate(ctx, o, outl, sealed, n) !== 1) throw this.rt.failure(what, 'EVP_CipherUpdate');
      // The tag comparison inside EVP_DecryptFinal_ex is CRYPTO_memcmp (constant time).
      ok = lib.EVP_CipherFinal_ex(ctx, this.scratch, outl) === 1;
    }
    if (!ok) {
      lib.ERR_clear_error();
      o.fill(0);
      return null;
    }
    return o;
  }

  /** Frees both EVP contexts (OpenSSL cleanses the key schedule). Idempotent. */
  dispose(): void {
    this.native.free();
  }

  /** The address-passing entry (or, when the library has no address bindings, a view-passing one of the same shape). */
  inPlace(): AeadInPlace {
    this.live();
    const a = this.rt.lib.addr;
    if (a === undefined) return new ViewInPlace(this);
    return new OpensslAeadInPlace(this, a, this.rt, this.native, toAddress(a.pointerValue(this.enc)), toAddress(a.pointerValue(this.dec)), this.ccm, this.nonceBytes, this.tagBytes);
  }
}

function toAddress(v: number | bigint): number {
  const n = Number(v);
  // x86-64 and arm64 user addresses fit in 48 bits, well inside a double's exact integers.
  if (!Number.isSafeInteger(n) || n <= 0) throw new CryptoError('BACKEND_UNAVAILABLE', `openssl: native address ${String(v)} is not usable`);
  return n;
}

/**
 * Where packets live: the base address of each ArrayBuffer, looked up once (one FFI call) and kept while the
 * buffer lives, and the last view seen, since a batch's packets often come in one view of a driver's buffer. A
 * backing store never moves: V8 allocates it outside the garbage-collected heap once `.buffer` has been read
 * (which is done before the lookup: it moves a small on-heap array out), and a resizable one reserves its maximum
 * up front. A view of a detached buffer has length 0, so checkInPlaceRange refuses it before a stale address could
 * be used.
 */
class AddressCache {
  private readonly bases = new WeakMap<ArrayBufferLike, number>();
  private lastView: Uint8Array | undefined;
  private lastStart = 0;
  constructor(private readonly a: LibCryptoAddr) {}

  /** Address of buf[0]; `buf` is non-empty (the caller checked its range). */
  of(buf: Uint8Array): number {
    if (buf === this.lastView) return this.lastStart;
    const ab = buf.buffer;
    let base = this.bases.get(ab);
    if (base === undefined) {
      base = toAddress(this.a.addressOf(buf, buf, 0)) - buf.byteOffset;
      this.bases.set(ab, base);
    }
    const start = base + buf.byteOffset;
    this.lastView = buf;
    this.lastStart = start;
    return start;
  }
}

const caches = new WeakMap<LibCryptoAddr, AddressCache>();
function addressCache(a: LibCryptoAddr): AddressCache {
  let c = caches.get(a);
  if (c === undefined) {
    c = new AddressCache(a);
    caches.set(a, c);
  }
  return c;
}

// Scratch layout of one in-place context: nonce | AAD | outl (int) | empty-update scratch.
const NONCE_AT = 0;
const AAD_AT = 16;
const OUTL_AT = AAD_AT + AEAD_AAD_SCRATCH_BYTES;
const SCRATCH_AT = OUTL_AT + 16;
/** Larger than V8's on-heap typed array limit (64 bytes), so the scratch is off-heap from the start. */
const SCRATCH_BYTES = 128;

class OpensslAeadInPlace implements AeadInPlace {
  readonly nonce: Uint8Array;
  readonly aad: Uint8Array;
  readonly tagBytes: number;
  private readonly scratch: Uint8Array;
  private readonly nonceAddr: number;
  private readonly aadAddr: number;
  private readonly outlAddr: number;
  private readonly scratchAddr: number;
  private readonly cache: AddressCache;
  private readonly what: string;

  constructor(
    /**
     * Held so the context (whose finalizer backstop frees the EVP contexts) lives as long as this object: the
     * addresses below must never outlive it.
     */
    readonly owner: OpensslAead,
    private readonly a: LibCryptoAddr,
    private readonly rt: OpensslRuntime,
    private readonly native: NativeOwner,
    private readonly enc: number,
    private readonly dec: number,
    private readonly ccm: boolean,
    nonceBytes: number,
    tagBytes: number,
  ) {
    this.what = `openssl ${aeadName(owner.spec)} in place`;
    this.tagBytes = tagBytes;
    this.scratch = new Uint8Array(new ArrayBuffer(SCRATCH_BYTES));
    this.nonce = this.scratch.subarray(NONCE_AT, NONCE_AT + nonceBytes);
    this.aad = this.scratch.subarray(AAD_AT, AAD_AT + AEAD_AAD_SCRATCH_BYTES);
    this.cache = addressCache(a);
    const base = this.cache.of(this.scratch);
    this.nonceAddr = base + NONCE_AT;
    this.aadAddr = base + AAD_AT;
    this.outlAddr = base + OUTL_AT;
    this.scratchAddr = base + SCRATCH_AT;
  }

  private fail(call: string): CryptoError {
    return this.rt.failure(this.what, call);
  }

  seal(buf: Uint8Array, off: number, len: number, aadOff: number, aadLen: number): void {
    if (this.native.freed) throw new CryptoError('DISPOSED', `${this.what}: context used after dispose()`);
    checkInPlaceRange(this.what, buf, off, len, this.tagBytes, aadOff, aadLen);
    if (len > MAX_INT_LENGTH) throw tooLong(this.what, len);
    const a = this.a;
    const ctx = this.enc;
    const outl = this.outlAddr;
    const base = this.cache.of(buf);
    const data = base + off;
    if (a.EVP_CipherInit_ex(ctx, 0, 0, 0, this.nonceAddr, 1) !== 1) throw this.fail('EVP_CipherInit_ex(nonce)');
    // RFC 4309 / CCM authenticates the message length in B_0, so OpenSSL must be told it before the AAD.
    if (this.ccm && a.EVP_CipherUpdate(ctx, 0, outl, 0, len) !== 1) throw this.fail('CCM length');
    if (aadLen > 0 && a.EVP_CipherUpdate(ctx, 0, outl, aadOff >= 0 ? base + aadOff : this.aadAddr, aadLen) !== 1) {
      throw this.fail('AAD update');
    }
    if (len > 0) {
      if (a.EVP_CipherUpdate(ctx, data, outl, data, len) !== 1) throw this.fail('EVP_CipherUpdate');
    } else if (this.ccm && a.EVP_CipherUpdate(ctx, this.scratchAddr, outl, this.scratchAddr, 0) !== 1) {
      throw this.fail('EVP_CipherUpdate');
    }
    if (a.EVP_CipherFinal_ex(ctx, this.scratchAddr, outl) !== 1) throw this.fail('EVP_CipherFinal_ex');
    // The tag goes straight behind the ciphertext (GCM truncates to the leftmost tagBytes, RFC 4106 section 6).
    if (a.EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, this.tagBytes, data + len) !== 1) throw this.fail('EVP_CTRL_AEAD_GET_TAG');
  }

  open(buf: Uint8Array, off: number, len: number, aadOff: number, aadLen: number): boolean {
    if (this.native.freed) throw new CryptoError('DISPOSED', `${this.what}: context used after dispose()`);
    checkInPlaceRange(this.what, buf, off, len, this.tagBytes, aadOff, aadLen);
    if (len > MAX_INT_LENGTH) throw tooLong(this.what, len);
    const a = this.a;
    const ctx = this.dec;
    const outl = this.outlAddr;
    const base = this.cache.of(buf);
    const data = base + off;
    if (a.EVP_CipherInit_ex(ctx, 0, 0, 0, this.nonceAddr, 0) !== 1) throw this.fail('EVP_CipherInit_ex(nonce)');
    // SET_TAG copies the expected tag into the context at once; decryption then writes only [off, off + len).
    if (a.EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, this.tagBytes, data + len) !== 1) throw this.fail('EVP_CTRL_AEAD_SET_TAG');
    if (this.ccm && a.EVP_CipherUpdate(ctx, 0, outl, 0, len) !== 1) throw this.fail('CCM length');
    if (aadLen > 0 && a.EVP_CipherUpdate(ctx, 0, outl, aadOff >= 0 ? base + aadOff : this.aadAddr, aadLen) !== 1) {
      throw this.fail('AAD update');
    }
    let ok: boolean;
    if (this.ccm) {
      // OpenSSL's CCM checks the tag inside the single data update (no final step for CCM decryption).
      ok = len > 0
        ? a.EVP_CipherUpdate(ctx, data, outl, data, len) === 1
        : a.EVP_CipherUpdate(ctx, this.scratchAddr, outl, this.scratchAddr, 0) === 1;
    } else {
      if (len > 0 && a.EVP_CipherUpdate(ctx, data, outl, data, len) !== 1) throw this.fail('EVP_CipherUpdate');
      // The tag comparison inside EVP_DecryptFinal_ex is CRYPTO_memcmp (constant time).
      ok = a.EVP_CipherFinal_ex(ctx, this.scratchAddr, outl) === 1;
    }
    if (!ok) {
      this.rt.lib.ERR_clear_error();
      buf.fill(0, off, off + len);
    }
    return ok;
  }
}

/** The in-place shape over the view-taking calls (a library bound without the address functions). */
class ViewInPlace implements AeadInPlace {
  readonly nonce: Uint8Array;
  readonly aad = new Uint8Array(AEAD_AAD_SCRATCH_BYTES);
  readonly tagBytes: number;
  constructor(private readonly ctx: OpensslAead) {
    this.nonce = new Uint8Array(aeadNonceBytes(ctx.spec));
    this.tagBytes = ctx.spec.tagBytes;
  }
  seal(buf: Uint8Array, off: number, len: number, aadOff: number, aadLen: number): void {
    checkInPlaceRange('in-place seal', buf, off, len, this.tagBytes, aadOff, aadLen);
    const aad = aadOff >= 0 ? buf.subarray(aadOff, aadOff + aadLen) : this.aad.subarray(0, aadLen);
    this.ctx.seal(this.nonce, aad, buf.subarray(off, off + len), buf.subarray(off, off + len + this.tagBytes));
  }
  open(buf: Uint8Array, off: number, len: number, aadOff: number, aadLen: number): boolean {
    checkInPlaceRange('in-place open', buf, off, len, this.tagBytes, aadOff, aadLen);
    const aad = aadOff >= 0 ? buf.subarray(aadOff, aadOff + aadLen) : this.aad.subarray(0, aadLen);
    return this.ctx.open(this.nonce, aad, buf.subarray(off, off + len + this.tagBytes), buf.subarray(off, off + len)) !== null;
  }
}
