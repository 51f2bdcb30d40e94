/**
 * Encoding helpers: PEM armour (RFC 7468), DER parsing with asn1js behind a typed error, hex printing.
 */
import { concatBytes as concatAll } from '../crypto/bytes.js';
import * as asn1js from 'asn1js';
import { PkiError, type PkiErrorCode } from './errors.js';

export interface PemBlock {
  readonly label: string;
  readonly der: Uint8Array;
  /** RFC 1421 headers (legacy OpenSSL encrypted keys: "Proc-Type", "DEK-Info"). */
  readonly headers: Record<string, string>;
}

const PEM_RE = /-----BEGIN ([A-Z0-9 #]+)-----([\s\S]*?)-----END \1-----/g;

/** True when the bytes look like PEM text (ASCII "-----BEGIN" somewhere near the start). */
export function isPem(data: Uint8Array): boolean {
  const head = Buffer.from(data.subarray(0, Math.min(data.length, 4096))).toString('latin1');
  return head.includes('-----BEGIN ');
}

/** All PEM blocks in a text, in order (RFC 7468 section 2; text outside blocks is ignored). */
export function pemDecodeAll(data: Uint8Array | string): PemBlock[] {
  const text = typeof data === 'string' ? data : Buffer.from(data).toString('latin1');
  const out: PemBlock[] = [];
  for (const m of text.matchAll(PEM_RE)) {
    const label = m[1]!;
    const body = m[2]!;
    const headers: Record<string, string> = {};
    let b64 = body;
    const blank = body.search(/\r?\n\r?\n/);
    if (body.includes(':') && blank >= 0) {
      for (const line of body.slice(0, blank).split(/\r?\n/)) {
        const i = line.indexOf(':');
        if (i > 0) headers[line.slice(0, i).trim()] = line.slice(i + 1).trim();
      }
      b64 = body.slice(blank);
    }
    out.push({ label, der: Uint8Array.from(Buffer.from(b64.replace(/\s+/g, ''), 'base64')), headers });
  }
  return out;
}

export function pemEncode(label: string, der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** Parses one complete DER element; throws PkiError(code) naming `what` if it is not well-formed. */
export function parseDer(der: Uint8Array, what: string, code: PkiErrorCode = 'BAD_ENCODING'): asn1js.AsnType {
  // new Uint8Array(x) copies (Buffer#slice would not): asn1js needs an ArrayBuffer holding exactly the DER.
  let res: ReturnType<typeof asn1js.fromBER>;
  try {
    res = asn1js.fromBER(new Uint8Array(der).buffer);
  } catch (e) {
    throw new PkiError(code, `${what}: not valid DER (${e instanceof Error ? e.message : String(e)})`);
  }
  if (res.offset === -1) throw new PkiError(code, `${what}: not valid DER (${res.result.error || 'parse error'})`);
  if (res.offset !== der.length) throw new PkiError(code, `${what}: ${der.length - res.offset} trailing bytes after the DER structure`);
  return res.result;
}

/** DER bytes of an asn1js value. */
export function toDer(v: { toBER(sizeOnly?: boolean): ArrayBuffer }): Uint8Array {
  return new Uint8Array(v.toBER(false));
}

/** "0a:1b:2c" as strongSwan and OpenSSL print serials and key identifiers. */
export function hexColon(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(':');
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  return concatAll(parts);
}

/** Bytes from an asn1js value's valueHexView (copies, so callers can keep it). */
export function hexView(v: { valueBlock: { valueHexView: Uint8Array } }): Uint8Array {
  return v.valueBlock.valueHexView.slice();
}
