/**
 * The C library, loaded once through koffi for the runtime drivers that need system calls Node does not expose
 * (TUN ioctls, sendmmsg/recvmmsg with GSO/GRO control messages, poll on an arbitrary fd). Not for the sans-IO
 * cores. Where libc cannot be loaded (not Linux, koffi missing), every caller gets `undefined` and the reason, and
 * falls back to what Node offers.
 *
 * The one libc loader (issue 12), with one exception by necessity: src/tun/readiness.ts's worker thread runs
 * eval'd source in its own isolate, which cannot share this module's bindings, so it loads koffi and libc inside
 * the worker. (src/crypto/backends/openssl-ffi.ts loads libcrypto, not libc.)
 */
import { createRequire } from 'node:module';

export type Koffi = typeof import('koffi');
type Lib = ReturnType<Koffi['load']>;

let loaded: { koffi: Koffi; lib: Lib } | undefined;
let failure: string | undefined;
const functions = new Map<string, unknown>();

function load(): { koffi: Koffi; lib: Lib } | undefined {
  if (loaded || failure !== undefined) return loaded;
  if (process.platform !== 'linux') {
    failure = `system calls through libc are implemented for Linux, this is ${process.platform}`;
    return undefined;
  }
  try {
    const require = createRequire(import.meta.url);
    const koffi = require('koffi') as Koffi;
    loaded = { koffi, lib: koffi.load('libc.so.6') };
  } catch (e) {
    failure = `koffi could not load libc: ${(e as Error).message}`;
  }
  return loaded;
}

/** Why libc is unavailable here, or undefined when it loaded. */
export function libcUnavailableReason(): string | undefined {
  load();
  return failure;
}

/** The koffi module (for errno, alloc, view, address), or undefined where libc is unavailable. */
export function koffiModule(): Koffi | undefined {
  return load()?.koffi;
}

/** A libc function by its C prototype (memoised: one binding per prototype), or undefined where unavailable. */
export function libcFunction<F>(prototype: string): F | undefined {
  const l = load();
  if (!l) return undefined;
  let f = functions.get(prototype);
  if (f === undefined) {
    f = l.lib.func(prototype);
    functions.set(prototype, f);
  }
  return f as F;
}
