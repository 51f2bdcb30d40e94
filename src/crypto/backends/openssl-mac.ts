/**
 * MACs and hashes on OpenSSL: HMAC (RFC 2104, RFC 4868) and AES-CMAC (RFC 4493) through EVP_MAC, keyed once
 * per context and restarted per message with EVP_MAC_init(ctx, NULL, 0, NULL), which reuses the key; AES-XCBC
 * (RFC 3566) through the shared CBC-MAC construction over an OpenSSL AES-CBC context; digests through one
 * EVP_MD_CTX per algorithm.
 */
import { CryptoError } from '../errors.js';
import { macOutputBytes, type HashAlgorithm, type MacAlgorithm, type MacContext } from '../types.js';
import { createXcbc, type AesBlock } from './cbcmac.js';
import { checkKey, outputView } from './checks.js';
import { OSSL_PARAM_UTF8_STRING, type NativePtr, type OsslParam } from './openssl-ffi.js';
import { OpensslCipher } from './openssl-cipher.js';
import type { NativeOwner, OpensslRuntime } from './openssl-runtime.js';

/** EVP_MAC algorithm and the parameter that picks its digest or block cipher. */
export function opensslMacParams(alg: MacAlgorithm): { mac: string; param: string; value: string } | undefined {
  switch (alg) {
    case 'hmac-sha1': return { mac: 'HMAC', param: 'digest', value: 'SHA1' };
    case 'hmac-sha256': return { mac: 'HMAC', param: 'digest', value: 'SHA256' };
    case 'hmac-sha384': return { mac: 'HMAC', param: 'digest', value: 'SHA384' };
    case 'hmac-sha512': return { mac: 'HMAC', param: 'digest', value: 'SHA512' };
    // RFC 4494 / RFC 4615: AES-CMAC-96 and PRF_AES128_CMAC use AES-128.
    case 'aes-cmac': return { mac: 'CMAC', param: 'cipher', value: 'AES-128-CBC' };
    default: return undefined;
  }
}

function utf8Param(key: string, value: string): OsslParam[] {
  const end: OsslParam = { key: null, data_type: 0, data: null, data_size: 0, return_size: 0 };
  return [{ key, data_type: OSSL_PARAM_UTF8_STRING, data: value, data_size: value.length, return_size: 0 }, end];
}

/** Iterates `data` without building an array for the single-buffer case. */
function forEachPart(data: Uint8Array | readonly Uint8Array[], what: string, f: (p: Uint8Array) => void): void {
  if (data instanceof Uint8Array) {
    f(data);
    return;
  }
  if (!Array.isArray(data)) throw new CryptoError('INVALID_DATA_LENGTH', `${what}: data must be a Uint8Array or an array of them`);
  for (const p of data) {
    if (!(p instanceof Uint8Array)) throw new CryptoError('INVALID_DATA_LENGTH', `${what}: every data part must be a Uint8Array`);
    f(p);
  }
}

export class OpensslMac implements MacContext {
  readonly alg: MacAlgorithm;
  readonly outputBytes: number;
  private readonly rt: OpensslRuntime;
  private readonly what: string;
  private readonly ctx: NativePtr;
  private readonly native: NativeOwner;
  /** size_t out-parameter of EVP_MAC_final, allocated once. */
  private readonly outl = new Uint8Array(8);

  constructor(rt: OpensslRuntime, alg: MacAlgorithm, mac: NativePtr, param: { param: string; value: string }, key: Uint8Array) {
    this.rt = rt;
    this.alg = alg;
    this.outputBytes = macOutputBytes(alg);
    this.what = `openssl ${alg}`;
    if (alg === 'aes-cmac') checkKey(this.what, key, 16);
    else if (!(key instanceof Uint8Array)) throw new CryptoError('INVALID_KEY_LENGTH', `${this.what}: key must be a Uint8Array`);
    const lib = rt.lib;
    const ctx = lib.EVP_MAC_CTX_new(mac);
    if (!ctx) throw rt.failure(this.what, 'EVP_MAC_CTX_new');
    this.ctx = ctx;
    // EVP_MAC_CTX_free cleanses the key copy OpenSSL holds.
    this.native = rt.own(this, () => lib.EVP_MAC_CTX_free(ctx));
    // HMAC takes a key of any length (RFC 2104 section 2), including none: an empty key is passed as a valid
    // pointer with length 0, never as NULL (NULL means "keep the current key").
    const k = key.length > 0 ? key : this.outl;
    if (lib.EVP_MAC_init(ctx, k, key.length, utf8Param(param.param, param.value)) !== 1) {
      this.native.free();
      throw rt.failure(this.what, 'EVP_MAC_init(key)');
    }
  }

  compute(data: Uint8Array | readonly Uint8Array[], out?: Uint8Array): Uint8Array {
    const what = this.what;
    if (this.native.freed) throw new CryptoError('DISPOSED', `${what}: context used after dispose()`);
    const o = outputView(what, out, this.outputBytes);
    const lib = this.rt.lib;
    const ctx = this.ctx;
    if (lib.EVP_MAC_init(ctx, null, 0, null) !== 1) throw this.rt.failure(what, 'EVP_MAC_init(restart)');
    // Written out rather than through forEachPart: this is the ESP integrity hot path, so no closure per call.
    if (data instanceof Uint8Array) {
      if (data.length > 0 && lib.EVP_MAC_update(ctx, data, data.length) !== 1) throw this.rt.failure(what, 'EVP_MAC_update');
    } else {
      if (!Array.isArray(data)) throw new CryptoError('INVALID_DATA_LENGTH', `${what}: data must be a Uint8Array or an array of them`);
      for (let i = 0; i < data.length; i++) {
        const p: unknown = data[i];
        if (!(p instanceof Uint8Array)) throw new CryptoError('INVALID_DATA_LENGTH', `${what}: data part ${i} is not a Uint8Array`);
        if (p.length > 0 && lib.EVP_MAC_update(ctx, p, p.length) !== 1) throw this.rt.failure(what, 'EVP_MAC_update');
      }
    }
    if (lib.EVP_MAC_final(ctx, o, this.outl, this.outputBytes) !== 1) throw this.rt.failure(what, 'EVP_MAC_final');
    return o;
  }

  /** Frees the EVP_MAC_CTX. Idempotent. */
  dispose(): void {
    this.native.free();
  }
}

/** AES-XCBC-MAC (RFC 3566) over the shared CBC-MAC construction, with an OpenSSL AES-128-CBC context as the block. */
export class OpensslXcbc implements MacContext {
  readonly alg: MacAlgorithm = 'aes-xcbc';
  readonly outputBytes = 16;
  private readonly what = 'openssl aes-xcbc';
  private readonly mac: ReturnType<typeof createXcbc>;
  private disposed = false;

  constructor(rt: OpensslRuntime, aes128cbc: NativePtr, key: Uint8Array) {
    checkKey(this.what, key, 16);
    const zeroIv = new Uint8Array(16);
    const block = (k: Uint8Array): AesBlock => {
      const c = new OpensslCipher(rt, { alg: 'aes-cbc', keyBytes: 16 }, aes128cbc, k);
      return {
        // One CBC block with a zero IV is the raw AES block encryption.
        encryptBlock: (b) => c.encrypt(zeroIv, b),
        cbcMac: (d) => c.encrypt(zeroIv, d).slice(d.length - 16),
        dispose: () => c.dispose(),
      };
    };
    this.mac = createXcbc(block, key);
  }

  compute(data: Uint8Array | readonly Uint8Array[], out?: Uint8Array): Uint8Array {
    if (this.disposed) throw new CryptoError('DISPOSED', `${this.what}: context used after dispose()`);
    const o = outputView(this.what, out, 16);
    o.set(this.mac.compute(data));
    return o;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.mac.dispose();
  }
}

export function opensslDigestName(alg: HashAlgorithm): string | undefined {
  switch (alg) {
    case 'sha1': return 'SHA1';
    case 'sha256': return 'SHA256';
    case 'sha384': return 'SHA384';
    case 'sha512': return 'SHA512';
    default: return undefined;
  }
}

const DIGEST_BYTES: Record<HashAlgorithm, number> = { sha1: 20, sha256: 32, sha384: 48, sha512: 64 };

/**
 * One EVP_MD_CTX per algorithm, reused for every hash() call of the backend (the backend lives for the process,
 * so these are never freed).
 */
export class OpensslDigests {
  private readonly rt: OpensslRuntime;
  private readonly ctxs = new Map<HashAlgorithm, NativePtr>();

  constructor(rt: OpensslRuntime) {
    this.rt = rt;
  }

  hash(alg: HashAlgorithm, md: NativePtr, data: Uint8Array | readonly Uint8Array[]): Uint8Array {
    const what = `openssl ${alg}`;
    const lib = this.rt.lib;
    let ctx = this.ctxs.get(alg);
    if (ctx === undefined) {
      ctx = lib.EVP_MD_CTX_new();
      if (!ctx) throw this.rt.failure(what, 'EVP_MD_CTX_new');
      this.ctxs.set(alg, ctx);
    }
    const c = ctx;
    if (lib.EVP_DigestInit_ex(c, md, null) !== 1) throw this.rt.failure(what, 'EVP_DigestInit_ex');
    forEachPart(data, what, (p) => {
      if (p.length > 0 && lib.EVP_DigestUpdate(c, p, p.length) !== 1) throw this.rt.failure(what, 'EVP_DigestUpdate');
    });
    const out = new Uint8Array(DIGEST_BYTES[alg]);
    if (lib.EVP_DigestFinal_ex(c, out, null) !== 1) throw this.rt.failure(what, 'EVP_DigestFinal_ex');
    return out;
  }
}
