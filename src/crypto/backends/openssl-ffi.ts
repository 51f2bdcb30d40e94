/**
 * The OpenSSL 3 libcrypto functions the `openssl` backend calls, bound once through koffi to the OpenSSL that the
 * node binary already contains (no compiler, no extra shared library: `koffi.load('')` resolves the symbols the
 * node executable exports). Everything here is declared once at load time; the hot path only calls the bound
 * functions, so koffi never re-parses a prototype per packet.
 *
 * Pointers to OpenSSL objects are `void *` values as koffi returns them (never dereferenced in JS). Byte buffers
 * are passed as Uint8Array views: koffi hands C the view's own memory (byteOffset included), so nothing is
 * copied; an empty view may arrive as NULL, which callers avoid where OpenSSL gives NULL a meaning.
 */
import { createRequire } from 'node:module';

/** An opaque native pointer as koffi returns it (never dereferenced in JS). */
export type NativePtr = unknown;

/** Minimal view of the koffi module this file needs (koffi is loaded lazily so a missing addon is a reason, not a crash). */
interface KoffiModule {
  load(path: string): KoffiLib;
  struct(def: Record<string, string>): unknown;
  pointer(ref: unknown): unknown;
  address(value: unknown): bigint;
}
interface KoffiLib {
  func(definition: string): (...args: never[]) => unknown;
  func(name: string, result: unknown, args: unknown[]): (...args: never[]) => unknown;
}

/** OpenSSL 3 (EVP_CIPHER_fetch, EVP_MAC) is the floor: node 18+ ship it. */
export const MIN_OPENSSL_VERSION = 0x30000000;

// EVP_CIPHER_CTX_ctrl codes from include/openssl/evp.h (the GCM, CCM and ChaCha20-Poly1305 "AEAD" aliases share values).
export const EVP_CTRL_AEAD_SET_IVLEN = 0x9;
export const EVP_CTRL_AEAD_GET_TAG = 0x10;
export const EVP_CTRL_AEAD_SET_TAG = 0x11;

/**
 * OSSL_PARAM (include/openssl/core.h): { const char *key; unsigned int data_type; void *data; size_t data_size;
 * size_t return_size }. Used only to name the digest or cipher of an EVP_MAC at context creation.
 */
export const OSSL_PARAM_UTF8_STRING = 4;
export interface OsslParam {
  key: string | null;
  data_type: number;
  data: string | null;
  data_size: number;
  return_size: number;
}

type Fn<A extends unknown[], R> = (...args: A) => R;
type Bytes = Uint8Array | null;

export interface LibCrypto {
  readonly versionNum: number;
  readonly versionText: string;
  // cipher
  EVP_CIPHER_fetch: Fn<[null, string, null], NativePtr>;
  EVP_CIPHER_CTX_new: Fn<[], NativePtr>;
  EVP_CIPHER_CTX_free: Fn<[NativePtr], void>;
  EVP_CipherInit_ex: Fn<[NativePtr, NativePtr, null, Bytes, Bytes, number], number>;
  EVP_CipherUpdate: Fn<[NativePtr, Bytes, Int32Array, Bytes, number], number>;
  EVP_CipherFinal_ex: Fn<[NativePtr, Bytes, Int32Array], number>;
  EVP_CIPHER_CTX_ctrl: Fn<[NativePtr, number, number, Bytes], number>;
  EVP_CIPHER_CTX_set_padding: Fn<[NativePtr, number], number>;
  // MAC
  EVP_MAC_fetch: Fn<[null, string, null], NativePtr>;
  EVP_MAC_CTX_new: Fn<[NativePtr], NativePtr>;
  EVP_MAC_CTX_free: Fn<[NativePtr], void>;
  EVP_MAC_init: Fn<[NativePtr, Bytes, number, OsslParam[] | null], number>;
  EVP_MAC_update: Fn<[NativePtr, Uint8Array, number], number>;
  EVP_MAC_final: Fn<[NativePtr, Uint8Array, Uint8Array, number], number>;
  // digest
  EVP_MD_fetch: Fn<[null, string, null], NativePtr>;
  EVP_MD_CTX_new: Fn<[], NativePtr>;
  EVP_MD_CTX_free: Fn<[NativePtr], void>;
  EVP_DigestInit_ex: Fn<[NativePtr, NativePtr, null], number>;
  EVP_DigestUpdate: Fn<[NativePtr, Uint8Array, number], number>;
  EVP_DigestFinal_ex: Fn<[NativePtr, Uint8Array, null], number>;
  // errors
  ERR_clear_error: Fn<[], void>;
  /** The same cipher calls taking addresses as integers, for the in-place AEAD path (absent: views are used). */
  readonly addr?: LibCryptoAddr;
}

/**
 * Address-taking bindings of the AEAD hot path. koffi unwraps every typed-array argument (~35 ns each, measured
 * on the dev box); an integer argument costs next to nothing, and a (buffer, offset) pair needs no view at all.
 * Every address is `base + offset` checked against the buffer's length in JavaScript before the call
 * (aead-in-place.ts checkInPlaceRange): C never sees an unchecked range.
 */
export interface LibCryptoAddr {
  /**
   * The address of a typed array's first byte: `memmove(p, p, 0)` returns its destination. koffi hands C the
   * view's own memory (no copy, the byte offset included), off the V8 heap once `.buffer` has been read.
   */
  addressOf: Fn<[Uint8Array, Uint8Array, number], number | bigint>;
  /** koffi.address: the value of a `void *` koffi returned (an EVP_CIPHER_CTX). */
  pointerValue: (p: NativePtr) => number | bigint;
  EVP_CipherInit_ex: Fn<[number, number, number, number, number, number], number>;
  EVP_CipherUpdate: Fn<[number, number, number, number, number], number>;
  EVP_CipherFinal_ex: Fn<[number, number, number], number>;
  EVP_CIPHER_CTX_ctrl: Fn<[number, number, number, number], number>;
}

export type LoadLibCryptoResult = { lib: LibCrypto; reason?: undefined } | { lib?: undefined; reason: string };

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

let loaded: LoadLibCryptoResult | undefined;

/** Loads koffi and binds every function once per module instance; returns a reason instead of throwing. */
export function loadLibCrypto(): LoadLibCryptoResult {
  loaded ??= bindLibCrypto();
  return loaded;
}

function bindLibCrypto(): LoadLibCryptoResult {
  let koffi: KoffiModule;
  try {
    koffi = createRequire(import.meta.url)('koffi') as KoffiModule;
  } catch (e) {
    return { reason: `koffi is not loadable: ${message(e)}` };
  }
  // dlopen(NULL) finds the symbols of the executable and its global dependencies (Linux, macOS); Windows needs
  // the executable's own path.
  let handle: KoffiLib | undefined;
  const failures: string[] = [];
  for (const path of ['', process.execPath]) {
    try {
      handle = koffi.load(path);
      break;
    } catch (e) {
      failures.push(`load(${JSON.stringify(path)}): ${message(e)}`);
    }
  }
  if (handle === undefined) return { reason: `cannot open the node executable's symbols: ${failures.join('; ')}` };
  const h = handle;

  let current = '';
  try {
    // No named koffi types: koffi's type names are per addon instance, and a test runner that re-imports this
    // module (fresh module registry, same native addon) would hit "Duplicate type name". OpenSSL objects are
    // therefore plain `void *`, and OSSL_PARAM is an anonymous struct passed through the object form below.
    current = 'OSSL_PARAM';
    const osslParam = koffi.struct({
      key: 'const char *',
      data_type: 'unsigned int',
      data: 'const char *',
      data_size: 'size_t',
      return_size: 'size_t',
    });
    const bind = <T>(def: string): T => {
      current = def;
      return h.func(def) as unknown as T;
    };
    const versionNumFn = bind<Fn<[], number | bigint>>('unsigned long OpenSSL_version_num()');
    const versionFn = bind<Fn<[number], string>>('const char *OpenSSL_version(int t)');
    const versionNum = Number(versionNumFn());
    const versionText = versionFn(0);
    if (versionNum < MIN_OPENSSL_VERSION) {
      return { reason: `${versionText} (0x${versionNum.toString(16)}) is older than OpenSSL 3.0` };
    }
    current = 'EVP_MAC_init';
    const macInit = h.func('EVP_MAC_init', 'int', ['void *', 'const uint8_t *', 'size_t', koffi.pointer(osslParam)]) as unknown as LibCrypto['EVP_MAC_init'];
    const lib: LibCrypto = {
      versionNum,
      versionText,
      EVP_CIPHER_fetch: bind('void *EVP_CIPHER_fetch(void *ctx, const char *algorithm, const char *properties)'),
      EVP_CIPHER_CTX_new: bind('void *EVP_CIPHER_CTX_new()'),
      EVP_CIPHER_CTX_free: bind('void EVP_CIPHER_CTX_free(void *ctx)'),
      EVP_CipherInit_ex: bind(
        'int EVP_CipherInit_ex(void *ctx, const void *type, void *impl, const uint8_t *key, const uint8_t *iv, int enc)',
      ),
      EVP_CipherUpdate: bind(
        'int EVP_CipherUpdate(void *ctx, uint8_t *out, int32_t *outl, const uint8_t *in, int inl)',
      ),
      EVP_CipherFinal_ex: bind('int EVP_CipherFinal_ex(void *ctx, uint8_t *out, int32_t *outl)'),
      EVP_CIPHER_CTX_ctrl: bind('int EVP_CIPHER_CTX_ctrl(void *ctx, int type, int arg, uint8_t *ptr)'),
      EVP_CIPHER_CTX_set_padding: bind('int EVP_CIPHER_CTX_set_padding(void *ctx, int pad)'),
      EVP_MAC_fetch: bind('void *EVP_MAC_fetch(void *ctx, const char *algorithm, const char *properties)'),
      EVP_MAC_CTX_new: bind('void *EVP_MAC_CTX_new(void *mac)'),
      EVP_MAC_CTX_free: bind('void EVP_MAC_CTX_free(void *ctx)'),
      EVP_MAC_init: macInit,
      EVP_MAC_update: bind('int EVP_MAC_update(void *ctx, const uint8_t *data, size_t datalen)'),
      // size_t *outl is passed as an 8-byte Uint8Array preallocated per context (never read back).
      EVP_MAC_final: bind('int EVP_MAC_final(void *ctx, uint8_t *out, uint8_t *outl, size_t outsize)'),
      EVP_MD_fetch: bind('void *EVP_MD_fetch(void *ctx, const char *algorithm, const char *properties)'),
      EVP_MD_CTX_new: bind('void *EVP_MD_CTX_new()'),
      EVP_MD_CTX_free: bind('void EVP_MD_CTX_free(void *ctx)'),
      EVP_DigestInit_ex: bind('int EVP_DigestInit_ex(void *ctx, const void *type, void *impl)'),
      EVP_DigestUpdate: bind('int EVP_DigestUpdate(void *ctx, const uint8_t *d, size_t cnt)'),
      EVP_DigestFinal_ex: bind('int EVP_DigestFinal_ex(void *ctx, uint8_t *md, unsigned int *s)'),
      ERR_clear_error: bind('void ERR_clear_error()'),
      addr: {
        addressOf: bind('uintptr_t memmove(uint8_t *dest, const uint8_t *src, size_t n)'),
        pointerValue: (p: NativePtr) => koffi.address(p),
        EVP_CipherInit_ex: bind(
          'int EVP_CipherInit_ex(uintptr_t ctx, uintptr_t type, uintptr_t impl, uintptr_t key, uintptr_t iv, int enc)',
        ),
        EVP_CipherUpdate: bind('int EVP_CipherUpdate(uintptr_t ctx, uintptr_t out, uintptr_t outl, uintptr_t in, int inl)'),
        EVP_CipherFinal_ex: bind('int EVP_CipherFinal_ex(uintptr_t ctx, uintptr_t out, uintptr_t outl)'),
        EVP_CIPHER_CTX_ctrl: bind('int EVP_CIPHER_CTX_ctrl(uintptr_t ctx, int type, int arg, uintptr_t ptr)'),
      },
    };
    return { lib };
  } catch (e) {
    return { reason: `OpenSSL symbol or type unavailable (${current}): ${message(e)}` };
  }
}
