/**
 * In-place AEAD for packet engines (the ESP data path): seal and open a range of a caller's buffer given as
 * (buffer, offset, length), with the nonce and AAD in scratch the context owns, so a call needs no views and
 * allocates nothing.
 *
 * The general AeadContext (types.ts) takes each input as its own Uint8Array. For one packet that is two or three
 * subarray views per call (~35 ns and ~100 heap bytes each), and on the openssl backend every view argument is a
 * typed array koffi must unwrap (~35 ns each). A context that can do better offers `inPlace()` (the openssl
 * backend passes plain addresses to EVP); any other context is adapted here with views, so callers need not know
 * which backend they got.
 */
import { CryptoError } from '../errors.js';
import { aeadNonceBytes, type AeadContext } from '../types.js';

/** Bytes of AAD scratch an in-place context offers: RFC 4106 section 5's longest ESP AAD is 12 (SPI | ESN). */
export const AEAD_AAD_SCRATCH_BYTES = 16;

export interface AeadInPlace {
  /** Nonce scratch (exactly the nonce length): the caller writes each packet's nonce here before the call. */
  readonly nonce: Uint8Array;
  /** AAD scratch (AEAD_AAD_SCRATCH_BYTES), used when a call passes `aadOff < 0`. */
  readonly aad: Uint8Array;
  readonly tagBytes: number;
  /**
   * Encrypts buf[off, off + len) in place and writes the tag at buf[off + len, off + len + tagBytes). The AAD is
   * buf[aadOff, aadOff + aadLen) when `aadOff >= 0` (it may precede the data, as ESP's header does), else the first
   * `aadLen` bytes of `aad`. A range outside `buf` is a CryptoError, never a write outside it.
   */
  seal(buf: Uint8Array, off: number, len: number, aadOff: number, aadLen: number): void;
  /**
   * Verifies the tag at buf[off + len, off + len + tagBytes) and decrypts buf[off, off + len) in place. Returns
   * false on a mismatch, with buf[off, off + len) zeroed (no unauthenticated plaintext is left behind).
   */
  open(buf: Uint8Array, off: number, len: number, aadOff: number, aadLen: number): boolean;
}

/** A context with a native in-place path. */
export interface AeadInPlaceCapable extends AeadContext {
  inPlace(): AeadInPlace;
}

function hasInPlace(ctx: AeadContext): ctx is AeadInPlaceCapable {
  return typeof (ctx as Partial<AeadInPlaceCapable>).inPlace === 'function';
}

/** The context's own in-place path when it has one, else an adapter over its seal/open (views per call). */
export function aeadInPlace(ctx: AeadContext): AeadInPlace {
  return hasInPlace(ctx) ? ctx.inPlace() : new ViewAdapter(ctx);
}

/**
 * Throws unless [off, off + len) and the AAD range lie inside `buf` (or the AAD scratch) with integer bounds.
 * Shared by every implementation: a native one passes addresses, so this check is what keeps it in bounds.
 */
export function checkInPlaceRange(what: string, buf: Uint8Array, off: number, len: number, tagBytes: number, aadOff: number, aadLen: number): void {
  if (!(buf instanceof Uint8Array)) throw new CryptoError('INVALID_DATA_LENGTH', `${what}: buffer must be a Uint8Array`);
  const n = buf.length;
  if (!(Number.isInteger(off) && Number.isInteger(len) && off >= 0 && len >= 0 && off + len + tagBytes <= n)) {
    throw new CryptoError('INVALID_DATA_LENGTH', `${what}: data [${off}, +${len}) and ${tagBytes}-byte tag do not fit the ${n}-byte buffer`);
  }
  if (!Number.isInteger(aadLen) || aadLen < 0 || !Number.isInteger(aadOff)) {
    throw new CryptoError('INVALID_DATA_LENGTH', `${what}: aad offset ${aadOff} length ${aadLen}`);
  }
  if (aadOff >= 0 ? aadOff + aadLen > n : aadLen > AEAD_AAD_SCRATCH_BYTES) {
    throw new CryptoError('INVALID_DATA_LENGTH', `${what}: aad [${aadOff}, +${aadLen}) is outside the ${aadOff >= 0 ? `${n}-byte buffer` : 'scratch'}`);
  }
}

/** Any AeadContext through its view-taking calls; AAD scratch views are made once per length. */
class ViewAdapter implements AeadInPlace {
  readonly nonce: Uint8Array;
  readonly aad = new Uint8Array(AEAD_AAD_SCRATCH_BYTES);
  readonly tagBytes: number;
  private readonly aadViews: Uint8Array[] = [];
  constructor(private readonly ctx: AeadContext) {
    this.nonce = new Uint8Array(aeadNonceBytes(ctx.spec));
    this.tagBytes = ctx.spec.tagBytes;
    for (let i = 0; i <= AEAD_AAD_SCRATCH_BYTES; i++) this.aadViews.push(this.aad.subarray(0, i));
  }

  private aadOf(buf: Uint8Array, aadOff: number, aadLen: number): Uint8Array {
    if (aadOff >= 0) return buf.subarray(aadOff, aadOff + aadLen);
    const v = this.aadViews[aadLen];
    if (v === undefined) throw new CryptoError('INVALID_DATA_LENGTH', `aad scratch length ${aadLen}`);
    return v;
  }

  seal(buf: Uint8Array, off: number, len: number, aadOff: number, aadLen: number): void {
    checkInPlaceRange('in-place seal', buf, off, len, this.tagBytes, aadOff, aadLen);
    this.ctx.seal(this.nonce, this.aadOf(buf, aadOff, aadLen), buf.subarray(off, off + len), buf.subarray(off, off + len + this.tagBytes));
  }

  open(buf: Uint8Array, off: number, len: number, aadOff: number, aadLen: number): boolean {
    checkInPlaceRange('in-place open', buf, off, len, this.tagBytes, aadOff, aadLen);
    const ok = this.ctx.open(this.nonce, this.aadOf(buf, aadOff, aadLen), buf.subarray(off, off + len + this.tagBytes), buf.subarray(off, off + len)) !== null;
    // Backends other than openssl leave the output untouched on failure; in place that is still ciphertext, but
    // the contract promises zeroes either way.
    if (!ok) buf.fill(0, off, off + len);
    return ok;
  }
}
