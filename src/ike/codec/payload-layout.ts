/**
 * What every payload body layout shares (RFC 7296 section 3): the Layout contract (a bounds-checked decoder of
 * `buf[start, end)` and an encoder of the body), the decoder limits, and the small range and copy helpers.
 * payloads.ts holds the layout table; the layouts are there and in ts-cp-payloads.ts.
 */
import { IkeEncodeError, codecError, type Payload, type Result } from './types.js';

/** Decoder limits: a hostile message cannot make us build huge structures (each maps to TOO_MANY_PAYLOADS). */
export const LIMITS = {
  proposals: 64,
  transformsPerProposal: 128,
  attributesPerTransform: 16,
  trafficSelectors: 64,
  configAttributes: 128,
  deleteSpis: 4096,
} as const;

export type KnownPayload = Exclude<Payload, { type: 'unknown' }>;
export type Decoder = (buf: Uint8Array, start: number, end: number, critical: boolean, type: number) => Result<Payload>;
export type Encoder = (p: KnownPayload) => Uint8Array;

export interface Layout {
  /** Fixed part of the body before variable data (RFC diagram). */
  readonly fixed: number;
  readonly decode: Decoder;
  readonly encode: Encoder;
}

export function short(name: string, start: number, end: number, need: number, type: number): Result<never> {
  return codecError('BAD_LENGTH', `${name} body is ${end - start} bytes, needs at least ${need}`, start, type);
}

export function copy(buf: Uint8Array, s: number, e: number): Uint8Array {
  return buf.slice(s, e);
}

export function check(cond: boolean, what: string, max: number): void {
  if (!cond) throw new IkeEncodeError(`${what} out of range (max ${max})`);
}

export function u8ok(v: number): boolean {
  return Number.isInteger(v) && v >= 0 && v <= 0xff;
}
export function u16ok(v: number): boolean {
  return Number.isInteger(v) && v >= 0 && v <= 0xffff;
}

/** Concatenates the encoded parts of one body. */
export function joinParts(parts: Uint8Array[]): Uint8Array {
  const n = parts.reduce((s, a) => s + a.length, 0);
  const out = new Uint8Array(n);
  let o = 0;
  for (const a of parts) {
    out.set(a, o);
    o += a.length;
  }
  return out;
}
