/**
 * The little DER this module needs (X.690): TLV reading with bounds checks and offsets for error messages,
 * definite lengths, OBJECT IDENTIFIER to and from dotted text. Names are small; a dependency-free reader keeps
 * the bytes we compare the bytes we received (no re-encoding by a library on the way).
 */
import { IdentityError } from './errors.js';

export interface Tlv {
  /** First identifier octet (class, constructed bit, low tag number or 0x1f). */
  readonly tag: number;
  /** Offset of the identifier octet in the outer buffer. */
  readonly start: number;
  /** Offset of the contents. */
  readonly contentStart: number;
  /** Offset just after the contents. */
  readonly end: number;
}

function fail(what: string, offset: number, why: string): never {
  throw new IdentityError(`${what}: ${why} at byte ${offset}`, 'BAD_DN_DER', offset);
}

/** Reads one TLV at `pos` that must end by `limit`. */
export function readTlv(buf: Uint8Array, pos: number, limit: number, what: string): Tlv {
  const start = pos;
  if (pos >= limit) fail(what, pos, 'truncated (expected a tag)');
  const tag = buf[pos++]!;
  if ((tag & 0x1f) === 0x1f) {
    // High tag number form: base-128 continuation octets (X.690 8.1.2.4).
    let n = 0;
    for (;;) {
      if (pos >= limit) fail(what, pos, 'truncated tag');
      const b = buf[pos++]!;
      if (++n > 4) fail(what, start, 'tag number too large');
      if ((b & 0x80) === 0) break;
    }
  }
  if (pos >= limit) fail(what, pos, 'truncated (expected a length)');
  let len = buf[pos++]!;
  if (len === 0x80) fail(what, pos - 1, 'indefinite length is not DER');
  if (len > 0x80) {
    const n = len & 0x7f;
    if (n > 4) fail(what, pos - 1, `length of ${n} octets`);
    if (pos + n > limit) fail(what, pos, 'truncated length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[pos++]!;
  }
  if (pos + len > limit) fail(what, pos, `contents of ${len} octets run past the end (${limit - pos} left)`);
  return { tag, start, contentStart: pos, end: pos + len };
}

/** DER length octets. */
export function derLength(n: number): Uint8Array {
  if (n < 0x80) return Uint8Array.of(n);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Uint8Array.of(0x80 | bytes.length, ...bytes);
}

/** A DER TLV with a one-octet tag. */
export function derTlv(tag: number, contents: Uint8Array): Uint8Array {
  const l = derLength(contents.length);
  const out = new Uint8Array(1 + l.length + contents.length);
  out[0] = tag;
  out.set(l, 1);
  out.set(contents, 1 + l.length);
  return out;
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** OBJECT IDENTIFIER contents to dotted text (X.690 8.19); undefined when not minimal base-128. */
export function oidFromBytes(b: Uint8Array): string | undefined {
  if (b.length === 0) return undefined;
  const arcs: bigint[] = [];
  let v = 0n;
  let fresh = true;
  for (const x of b) {
    if (fresh && x === 0x80) return undefined; // leading 0x80 is not minimal
    v = (v << 7n) | BigInt(x & 0x7f);
    fresh = (x & 0x80) === 0;
    if (fresh) {
      arcs.push(v);
      v = 0n;
    }
  }
  if (!fresh) return undefined;
  const first = arcs[0]!;
  const head = first < 40n ? [0n, first] : first < 80n ? [1n, first - 40n] : [2n, first - 80n];
  return [...head, ...arcs.slice(1)].join('.');
}

const DOTTED = /^(0|1|2)\.(0|[1-9]\d*)(\.(0|[1-9]\d*))*$/;

/** Dotted text to OBJECT IDENTIFIER contents; undefined when not a valid OID. */
export function oidToBytes(dotted: string): Uint8Array | undefined {
  if (!DOTTED.test(dotted)) return undefined;
  const arcs = dotted.split('.').map((s) => BigInt(s));
  if (arcs[0]! < 2n && arcs[1]! >= 40n) return undefined;
  const out: number[] = [];
  const push = (n: bigint) => {
    const tmp: number[] = [Number(n & 0x7fn)];
    for (let r = n >> 7n; r > 0n; r >>= 7n) tmp.unshift(Number(r & 0x7fn) | 0x80);
    out.push(...tmp);
  };
  push(arcs[0]! * 40n + arcs[1]!);
  for (const a of arcs.slice(2)) push(a);
  return Uint8Array.from(out);
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** DER SET OF ordering (X.690 11.6): by encoding, shorter first on a common prefix. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}
